/*
 * ring.c -- the byte ring behind every TCP send and receive buffer.  Memory
 * is taken only when the first byte arrives, so an idle connection costs no
 * buffer space (10,000 idle connections must stay small).
 */
#include <stdlib.h>
#include <string.h>

#include "stack/ring.h"

void ring_init(struct ring *r, uint32_t cap)
{
    r->buf = NULL;
    r->cap = cap;
    r->head = 0;
    r->len = 0;
}

void ring_free(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->head = 0;
    r->len = 0;
}

uint32_t ring_write(struct ring *r, const void *data, uint32_t len)
{
    if (len > ring_space(r))
        len = ring_space(r);
    if (len == 0)
        return 0;
    if (!r->buf && !(r->buf = malloc(r->cap)))
        return 0;
    uint32_t tail = (r->head + r->len) % r->cap;
    uint32_t first = r->cap - tail < len ? r->cap - tail : len;
    memcpy(r->buf + tail, data, first);
    memcpy(r->buf, (const uint8_t *)data + first, len - first);
    r->len += len;
    return len;
}

int ring_slices(const struct ring *r, uint32_t off, uint32_t len, struct slice out[2])
{
    if (len == 0 || off > r->len || len > r->len - off)
        return 0;
    uint32_t start = (r->head + off) % r->cap;
    uint32_t first = r->cap - start < len ? r->cap - start : len;
    out[0] = (struct slice){ r->buf + start, first };
    if (first == len)
        return 1;
    out[1] = (struct slice){ r->buf, len - first };
    return 2;
}

uint32_t ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t len)
{
    struct slice s[2];
    if (off >= r->len)
        return 0;
    if (len > r->len - off)
        len = r->len - off;
    int n = ring_slices(r, off, len, s);
    uint8_t *o = out;
    for (int i = 0; i < n; i++) {
        memcpy(o, s[i].data, s[i].len);
        o += s[i].len;
    }
    return len;
}

void ring_consume(struct ring *r, uint32_t len)
{
    if (len > r->len)
        len = r->len;
    r->head = (r->head + len) % r->cap;
    r->len -= len;
}
