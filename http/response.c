/*
 * response.c -- the status line and header section of a response
 * (RFC 9112 §4, RFC 9110 §6.6, §8, §14.4), and the responses synack makes
 * up itself for errors.
 */
#include <string.h>

#include "http/response.h"
#include "http/status.h"

/* The head is assembled with memcpy: it is written for every response,
 * and printf's format parsing cost more than everything else here (7.3 %
 * of synackd's CPU under keep-alive requests, docs/performance.md). */
struct out {
    char *p;
    size_t cap, len;
    bool ok;
};

static void put_mem(struct out *o, const char *s, size_t n)
{
    if (!o->ok || n > o->cap - o->len) {
        o->ok = false;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void put(struct out *o, const char *s)
{
    put_mem(o, s, strlen(s));
}

/* Decimal, as %llu writes it. */
static void put_u64(struct out *o, uint64_t v)
{
    char d[20];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_mem(o, d + i, sizeof d - i);
}

/* One field line: name, ": ", value, CRLF. */
static void field(struct out *o, const char *name, const char *value)
{
    put(o, name);
    put_mem(o, ": ", 2);
    put(o, value);
    put_mem(o, "\r\n", 2);
}

static void content_range(struct out *o, const struct http_response *r)
{
    put(o, "Content-Range: bytes ");
    if (r->content_range == HTTP_CR_RANGE) {
        put_u64(o, r->range_first);
        put_mem(o, "-", 1);
        put_u64(o, r->range_last);
        put_mem(o, "/", 1);
    } else {
        put_mem(o, "*/", 2);
    }
    put_u64(o, r->full_size);
    put_mem(o, "\r\n", 2);
}

static void content_fields(struct out *o, const struct http_response *r)
{
    if (r->content_type)
        field(o, "Content-Type", r->content_type);
    if (r->has_length) {
        put(o, "Content-Length: ");
        put_u64(o, r->length);
        put_mem(o, "\r\n", 2);
    }
    if (r->has_validators) {
        field(o, "Last-Modified", r->last_modified);
        field(o, "ETag", r->etag);
    }
    if (r->accept_ranges)
        field(o, "Accept-Ranges", "bytes");
    if (r->content_range != HTTP_CR_NONE)
        content_range(o, r);
    if (r->allow)
        field(o, "Allow", HTTP_ALLOW);
    if (r->location) {
        put(o, "Location: ");
        put_mem(o, r->location, r->location_path_len);
        put_mem(o, "/", 1);
        if (r->location_query_len) {
            put_mem(o, "?", 1);
            put_mem(o, r->location + r->location_path_len + 1, r->location_query_len);
        }
        put_mem(o, "\r\n", 2);
    }
}

size_t http_response_head(const struct http_response *r, const char *date, const char *server,
                          bool keep_alive, char *out, size_t cap)
{
    struct out o = {out, cap, 0, true};
    /* A server sends its own version, 1.1, to 1.0 clients too (RFC 9110 §2.5). */
    put(&o, "HTTP/1.1 ");
    put_u64(&o, (uint64_t)r->status);
    put_mem(&o, " ", 1);
    put(&o, http_reason(r->status));
    put_mem(&o, "\r\n", 2);
    field(&o, "Date", date);
    field(&o, "Server", server);
    content_fields(&o, r);
    field(&o, "Connection", keep_alive ? "keep-alive" : "close");
    put_mem(&o, "\r\n", 2);
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
