/*
 * trace_ring.c -- a fixed array of trace records used as a ring.  Each
 * slot keeps its own copy of the one string a record does not own (the
 * event text); the RFC and file strings are static in the core.
 */
#include <stdlib.h>
#include <string.h>

#include "tun/trace_ring.h"

struct slot {
    struct trace_record rec;
    char what[TRACE_RING_WHAT_LEN];
};

struct trace_ring {
    struct slot *slots;
    uint32_t cap;
    uint32_t next;  /* where the next record goes */
    uint32_t count; /* records held, up to cap */
};

struct trace_ring *trace_ring_new(uint32_t cap) {
    struct trace_ring *r;

    if (cap == 0 || cap > TRACE_RING_MAX || (r = calloc(1, sizeof(*r))) == NULL)
        return NULL;
    if ((r->slots = calloc(cap, sizeof(*r->slots))) == NULL) {
        free(r);
        return NULL;
    }
    r->cap = cap;
    return r;
}

void trace_ring_free(struct trace_ring *r) {
    if (r == NULL)
        return;
    free(r->slots);
    free(r);
}

void trace_ring_push(struct trace_ring *r, const struct trace_record *rec) {
    struct slot *s;

    if (r == NULL)
        return;
    s = &r->slots[r->next];
    s->rec = *rec;
    if (rec->what != NULL) {
        strncpy(s->what, rec->what, sizeof(s->what) - 1);
        s->what[sizeof(s->what) - 1] = '\0';
        s->rec.what = s->what;
    }
    r->next = (r->next + 1) % r->cap;
    if (r->count < r->cap)
        r->count++;
}

size_t trace_ring_count(void *ctx) {
    const struct trace_ring *r = ctx;

    return r == NULL ? 0 : r->count;
}

const struct trace_record *trace_ring_get(void *ctx, size_t i) {
    const struct trace_ring *r = ctx;
    size_t oldest;

    if (r == NULL || i >= r->count)
        return NULL;
    oldest = (r->next + r->cap - r->count) % r->cap;
    return &r->slots[(oldest + i) % r->cap].rec;
}
