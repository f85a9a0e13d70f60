/*
 * placeholder_app.c -- the smallest application that makes curl happy: it
 * reads a request up to the empty line ending its header section (RFC 9112
 * §2.1), answers with one fixed 200 response and closes.  It stands in for
 * the HTTP server and exercises every call of the app interface.
 */
#include <stdlib.h>
#include <string.h>

#include "http/placeholder_app.h"
#include "stack/tcp_app.h"

/* Bound on a request's header section; past it the client gets a 431. */
#define PLACEHOLDER_MAX_HEADER 8192

static const char response_ok[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: synack\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 30\r\n"
    "Connection: close\r\n"
    "\r\n"
    "Hello from synack's TCP stack\n";

static const char response_too_large[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\n"
    "Server: synack\r\n"
    "Content-Length: 0\r\n"
    "Connection: close\r\n"
    "\r\n";

struct request {
    char head[PLACEHOLDER_MAX_HEADER];
    size_t len;
    const char *reply;     /* set once the request is read */
    size_t reply_sent;
};

static void *on_accept(void *app, struct tcp_conn *c)
{
    (void)app;
    (void)c;
    return calloc(1, sizeof(struct request));
}

/* Sends what the send buffer takes; the rest goes on_sendable. */
static void push_reply(struct request *r, struct tcp_conn *c)
{
    size_t total = strlen(r->reply);
    r->reply_sent += tcp_send(c, r->reply + r->reply_sent, total - r->reply_sent);
    if (r->reply_sent == total)
        tcp_close(c);
}

static void on_data(void *state, struct tcp_conn *c)
{
    struct request *r = state;
    char chunk[1024];
    size_t n;
    while ((n = tcp_recv(c, chunk, sizeof chunk)) > 0) {
        if (r->reply)
            continue;  /* one request per connection: the rest is ignored */
        size_t fit = sizeof r->head - 1 - r->len;
        memcpy(r->head + r->len, chunk, n < fit ? n : fit);
        r->len += n < fit ? n : fit;
        r->head[r->len] = '\0';
        if (strstr(r->head, "\r\n\r\n") || strstr(r->head, "\n\n"))
            r->reply = response_ok;
        else if (r->len == sizeof r->head - 1)
            r->reply = response_too_large;
        if (r->reply)
            push_reply(r, c);
    }
}

static void on_sendable(void *state, struct tcp_conn *c)
{
    struct request *r = state;
    if (r->reply)
        push_reply(r, c);
}

static void on_eof(void *state, struct tcp_conn *c)
{
    struct request *r = state;
    if (!r->reply)
        tcp_close(c);  /* the client gave up before finishing a request */
}

static void on_closed(void *state, struct tcp_conn *c, enum tcp_close_reason why)
{
    (void)c;
    (void)why;
    free(state);
}

static const struct tcp_app_ops placeholder_ops = {
    .on_accept = on_accept,
    .on_data = on_data,
    .on_sendable = on_sendable,
    .on_eof = on_eof,
    .on_closed = on_closed,
};

int placeholder_app_start(struct stack *st, uint16_t port)
{
    return tcp_listen(st, port, &placeholder_ops, NULL);
}
