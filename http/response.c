/*
 * response.c -- the status line and header section of a response
 * (RFC 9112 §4, RFC 9110 §6.6, §8, §14.4), and the responses synack makes
 * up itself for errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/http_date.h"
#include "http/response.h"
#include "http/status.h"

struct out {
    char *p;
    size_t cap, len;
    bool ok;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->ok = false;
    else
        o->len += (size_t)n;
}

static void content_fields(struct out *o, const struct http_response *r)
{
    char date[HTTP_DATE_LEN];
    if (r->content_type)
        put(o, "Content-Type: %s\r\n", r->content_type);
    if (r->has_length)
        put(o, "Content-Length: %llu\r\n", (unsigned long long)r->length);
    if (r->has_validators) {
        http_date_format(r->last_modified, date);
        put(o, "Last-Modified: %s\r\nETag: %s\r\n", date, r->etag);
    }
    if (r->accept_ranges)
        put(o, "Accept-Ranges: bytes\r\n");
    if (r->content_range == HTTP_CR_RANGE)
        put(o, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)r->range_first,
            (unsigned long long)r->range_last, (unsigned long long)r->full_size);
    else if (r->content_range == HTTP_CR_UNSATISFIED)
        put(o, "Content-Range: bytes */%llu\r\n", (unsigned long long)r->full_size);
    if (r->allow)
        put(o, "Allow: %s\r\n", HTTP_ALLOW);
}

size_t http_response_head(const struct http_response *r, int64_t now, const char *server,
                          bool keep_alive, char *out, size_t cap)
{
    struct out o = {out, cap, 0, true};
    char date[HTTP_DATE_LEN];
    http_date_format(now, date);
    /* A server sends its own version, 1.1, to 1.0 clients too (RFC 9110 §2.5). */
    put(&o, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: %s\r\n", r->status, http_reason(r->status),
        date, server);
    content_fields(&o, r);
    put(&o, "Connection: %s\r\n\r\n", keep_alive ? "keep-alive" : "close");
    return o.ok ? o.len : 0;
}

void http_response_error(struct http_response *r, int status, bool send_body)
{
    const char *body = http_error_body(status);
    memset(r, 0, sizeof *r);
    r->status = status;
    r->has_length = true;
    r->send_body = send_body;
    if (body) {
        r->content_type = "text/html; charset=utf-8";
        r->body = body;
        r->length = strlen(body);
    }
}
