/*
 * response.h -- one response as the server plans it: status, the header
 * fields it needs, and where its content comes from (a constant page or a
 * file streamed through the host).
 */
#ifndef SYNACK_RESPONSE_H
#define SYNACK_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/conditional.h"

#define HTTP_ALLOW "GET, HEAD, OPTIONS"  /* the methods synack serves */

enum http_content_range {
    HTTP_CR_NONE,
    HTTP_CR_RANGE,          /* Content-Range: bytes first-last/size (206) */
    HTTP_CR_UNSATISFIED,    /* Content-Range: bytes * / size, no spaces (416) */
};

struct http_response {
    int status;
    const char *content_type;    /* NULL: no Content-Type */
    bool has_length;             /* Content-Length: length (never on 304) */
    uint64_t length;             /* bytes of content this response carries */
    bool has_validators;         /* ETag and Last-Modified */
    char etag[HTTP_ETAG_LEN];
    char last_modified[HTTP_DATE_LEN];  /* an HTTP-date */
    bool accept_ranges;          /* Accept-Ranges: bytes (RFC 9110 §14.3) */
    enum http_content_range content_range;
    uint64_t range_first, range_last, full_size;
    bool allow;                  /* Allow: HTTP_ALLOW (405, OPTIONS) */
    /* 301 to a directory's address with its slash: Location is the path,
     * '/', and the query if there is one, which follows the path and its
     * '?' in the request target (valid while the request is). */
    const char *location;
    uint16_t location_path_len, location_query_len;
    bool send_body;              /* false for HEAD and 304 (RFC 9110 §9.3.2, §15.4.5) */
    const char *body;            /* the content in memory, or NULL ... */
    void *file;                  /* ... a host file handle, read from offset */
    uint64_t offset;
    const char *why;             /* an error worth a log line, or NULL */
};

/* Writes the status line and header section; returns its length, or 0
 * when cap is too small.  date is the Date field's HTTP-date;
 * keep_alive picks the Connection field. */
/* The longest Location a 301 carries: with our other fields it stays well
 * inside the server's head buffer (HTTP_MAX_RESPONSE_HEAD, 1024 bytes). */
#define HTTP_LOCATION_MAX 512

size_t http_response_head(const struct http_response *r, const char *date, const char *server,
                          bool keep_alive, char *out, size_t cap);
/* A response of our own: the status and its small page (status.c). */
void http_response_error(struct http_response *r, int status, bool send_body);

#endif
