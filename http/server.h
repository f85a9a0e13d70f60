/*
 * server.h -- synack's HTTP/1.1 static file server, an application on the
 * app interface (stack/tcp_app.h).  It never sees a segment: bytes come in
 * through on_data, go out through tcp_send(), and files, clocks and logs
 * come through the host (http/http_host.h).
 */
#ifndef SYNACK_HTTP_SERVER_H
#define SYNACK_HTTP_SERVER_H

#include <stdint.h>

#include "http/http_host.h"
#include "http/request_parser.h"

struct stack;

/* Defaults of the connection timeouts, each with a synackd flag. */
#define HTTP_DEFAULT_IDLE_TIMEOUT_SEC 15   /* --idle-timeout */
#define HTTP_DEFAULT_HEADER_TIMEOUT_SEC 10 /* --header-timeout */
#define HTTP_MAX_TIMEOUT_SEC 3600
/* Request buffers (about 42 KiB each with the default limits) kept after
 * use for the next request to take: at most this many stay allocated
 * while the server is idle. */
#define HTTP_SPARE_PARSERS 8
/* What an idle keep-alive connection may hold of HTTP state: no request
 * buffer, no inbox, no response head, just its struct http_conn. */
#define HTTP_IDLE_CONN_MAX_BYTES 512

struct http_config {
    struct http_limits limits;  /* --max-request-line, --max-header-bytes, ... */
    uint64_t idle_timeout;      /* usec: no progress on a quiet connection */
    uint64_t header_timeout;    /* usec: from a request's first byte to its
                                   empty line, however slowly it trickles */
    const char *server_name;    /* the Server field, e.g. "synack/0.1.0" */
};

struct http_server;

void http_config_defaults(struct http_config *cfg);
/* NULL when out of memory.  cfg and host are copied. */
struct http_server *http_server_new(const struct http_config *cfg,
                                    const struct http_host *host);
/* Bytes the live connections hold of HTTP state: each one's struct and
 * whatever it has allocated (parser buffers, held pipelined bytes). */
size_t http_server_conn_bytes(const struct http_server *s);
/* Request buffers kept for reuse (at most HTTP_SPARE_PARSERS). */
size_t http_server_spare_parsers(const struct http_server *s);
/* Serves on port; 0, or -1 when the port cannot be had. */
int http_server_listen(struct http_server *s, struct stack *st, uint16_t port);
/* After stack_free(), which has closed every connection. */
void http_server_free(struct http_server *s);

#endif
