/*
 * ring.h -- a bounded byte ring: the send and receive buffers of a TCP
 * connection.  The send side keeps unacknowledged bytes at the front (from
 * SND.UNA) so a retransmission reads them again; the receive side holds bytes
 * the app has not read yet, and its free space is the window we advertise.
 * Memory follows use: nothing until the first byte, then doubling up to
 * the bound, so an idle connection costs nothing and a short one little.
 */
#ifndef SYNACK_RING_H
#define SYNACK_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

struct ring {
    uint8_t *buf;    /* allocated on first write, released by ring_free() */
    uint32_t cap;    /* fixed at init: the bound on what may be held */
    uint32_t alloc;  /* bytes of buf: grows by doubling, up to cap */
    uint32_t head;   /* offset of the first byte within buf */
    uint32_t len;    /* bytes held */
};
/* First allocation: small responses never pay for a large bound. */
#define RING_INITIAL_ALLOC (16 * 1024)

void ring_init(struct ring *r, uint32_t cap);
void ring_free(struct ring *r);
static inline uint32_t ring_space(const struct ring *r) { return r->cap - r->len; }
/* Appends up to len bytes; returns how many fit (0 if memory is refused). */
uint32_t ring_write(struct ring *r, const void *data, uint32_t len);
/* Stores len bytes at gap bytes past the end of what is held, without
 * holding them yet: out-of-order data waits in place until the gap fills.
 * Returns false if they would not fit (or memory is refused). */
bool ring_write_ahead(struct ring *r, uint32_t gap, const void *data, uint32_t len);
/* Counts n bytes already stored past the end (by ring_write_ahead) as held. */
void ring_commit(struct ring *r, uint32_t n);
/* Copies up to len bytes from offset off without consuming them. */
uint32_t ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t len);
/* Describes len bytes from offset off as at most 2 slices, without copying.
 * Returns the number of slices (0 if off+len exceeds what is held). */
int ring_slices(const struct ring *r, uint32_t off, uint32_t len, struct slice out[2]);
/* Drops len bytes from the front. */
void ring_consume(struct ring *r, uint32_t len);

#endif
