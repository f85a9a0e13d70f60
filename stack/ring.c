/*
 * ring.c -- the byte ring behind every TCP send and receive buffer.  Memory
 * is taken only when the first byte arrives and given back when the owner
 * releases an empty ring, so an idle connection costs no buffer space
 * (10,000 idle connections must stay small).  First buffers are borrowed
 * from a ring_pool's slots, so filling and emptying a ring once per
 * request costs no malloc (malloc and free were 7-10 % of synackd's CPU
 * with a new connection per request, docs/performance.md).
 */
#include <stdlib.h>
#include <string.h>

#include "stack/ring.h"

void ring_init(struct ring *r, uint32_t cap)
{
    *r = (struct ring){ .cap = cap };
}

/* Whether b is one of p's slots (compared as addresses: b may come from
 * malloc, a different object). */
static bool pool_owns(const struct ring_pool *p, const uint8_t *b)
{
    uintptr_t a = (uintptr_t)b, lo = (uintptr_t)p->slot;
    return a >= lo && a < lo + sizeof p->slot;
}

/* A buffer of RING_INITIAL_ALLOC bytes: a slot given back before (its
 * pages are warm), else one never lent, else malloc. */
static uint8_t *pool_take(struct ring_pool *p)
{
    if (!p)
        return malloc(RING_INITIAL_ALLOC);
    uint32_t i = RING_POOL_MAX;
    if (p->nreturned)
        i = p->returned[--p->nreturned];
    else if (p->fresh < RING_POOL_MAX)
        i = p->fresh++;
    if (i == RING_POOL_MAX) {
        p->misses++;
        return malloc(RING_INITIAL_ALLOC);
    }
    p->lent++;
    return p->slot[i];
}

static void pool_give(struct ring_pool *p, uint8_t *b)
{
    if (!p || !pool_owns(p, b)) {
        free(b);
        return;
    }
    uintptr_t i = ((uintptr_t)b - (uintptr_t)p->slot) / RING_INITIAL_ALLOC;
    p->returned[p->nreturned++] = (uint16_t)i;
    p->lent--;
}

void ring_release(struct ring *r, struct ring_pool *p)
{
    if (r->buf)
        pool_give(p, r->buf);
    *r = (struct ring){ .cap = r->cap };
}

/* Makes room for need bytes from the head.  The ring is straightened into
 * the new buffer, bytes stored ahead of len (out-of-order data) included. */
static bool ring_reserve(struct ring *r, struct ring_pool *p, uint32_t need)
{
    if (need <= r->alloc)
        return true;
    uint32_t size = r->alloc ? r->alloc : RING_INITIAL_ALLOC;
    while (size < need)
        size *= 2;
    if (size > r->cap)
        size = r->cap;
    uint8_t *nb = size <= RING_INITIAL_ALLOC ? pool_take(p) : malloc(size);
    if (!nb)
        return false;
    if (r->buf) {
        uint32_t first = r->alloc - r->head;
        memcpy(nb, r->buf + r->head, first);
        memcpy(nb + first, r->buf, r->head);
        pool_give(p, r->buf);
    }
    r->buf = nb;
    r->alloc = size;
    r->head = 0;
    return true;
}

/* Of len bytes from buffer offset at, how many lie before the buffer's end
 * (the rest wrap to its start): every piece of a ring is one or two. */
static uint32_t before_wrap(const struct ring *r, uint32_t at, uint32_t len)
{
    return r->alloc - at < len ? r->alloc - at : len;
}

/* Copies len bytes into the ring starting pos bytes past the head. */
static void ring_store(struct ring *r, uint32_t pos, const void *data, uint32_t len)
{
    uint32_t at = (r->head + pos) % r->alloc;
    uint32_t first = before_wrap(r, at, len);
    memcpy(r->buf + at, data, first);
    memcpy(r->buf, (const uint8_t *)data + first, len - first);
}

uint32_t ring_write(struct ring *r, struct ring_pool *p, const void *data, uint32_t len)
{
    if (len > ring_space(r))
        len = ring_space(r);
    if (len == 0 || !ring_reserve(r, p, r->len + len))
        return 0;
    ring_store(r, r->len, data, len);
    r->len += len;
    return len;
}

bool ring_write_ahead(struct ring *r, struct ring_pool *p, uint32_t gap, const void *data,
                      uint32_t len)
{
    if (gap > ring_space(r) || len > ring_space(r) - gap ||
        !ring_reserve(r, p, r->len + gap + len))
        return false;
    ring_store(r, r->len + gap, data, len);
    return true;
}

int ring_areas(struct ring *r, struct ring_pool *p, uint32_t len, struct ring_area out[2])
{
    if (len > ring_space(r))
        len = ring_space(r);
    if (len == 0 || !ring_reserve(r, p, r->len + len))
        return 0;
    uint32_t at = (r->head + r->len) % r->alloc;
    uint32_t first = before_wrap(r, at, len);
    out[0] = (struct ring_area){ r->buf + at, first };
    if (first == len)
        return 1;
    out[1] = (struct ring_area){ r->buf, len - first };
    return 2;
}

void ring_commit(struct ring *r, uint32_t n)
{
    /* Only bytes inside the buffer can have been stored. */
    uint32_t room = r->alloc - r->len;
    r->len += n <= room ? n : room;
}

int ring_slices(const struct ring *r, uint32_t off, uint32_t len, struct slice out[2])
{
    if (len == 0 || off > r->len || len > r->len - off)
        return 0;
    uint32_t start = (r->head + off) % r->alloc;
    uint32_t first = before_wrap(r, start, len);
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
    r->len -= len;
    r->head = r->alloc ? (r->head + len) % r->alloc : 0;
}
