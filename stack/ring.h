/*
 * ring.h -- a bounded byte ring: the send and receive buffers of a TCP
 * connection.  The send side keeps unacknowledged bytes at the front (from
 * SND.UNA) so a retransmission reads them again; the receive side holds bytes
 * the app has not read yet, and its free space is the window we advertise.
 * Memory follows use: nothing until the first byte, then doubling up to
 * the bound, and the owner gives the buffer back (ring_release) once the
 * ring is empty, so an idle connection costs nothing and a short one little.
 *
 * First buffers come from a ring_pool: a fixed block of first-size slots
 * that rings borrow and return, so a keep-alive connection that fills and
 * empties its rings once per request does not call malloc and free each
 * time.  Functions that may take or give memory are handed the pool; a
 * NULL pool means plain malloc/free.
 */
#ifndef SYNACK_RING_H
#define SYNACK_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

/* First allocation: a request or a small response (a 1 KiB file and its
 * head) fits.  Bulk transfers double from here (8, 16 ... KiB); each
 * doubling copies what is held once, so a byte is copied O(1) times. */
#define RING_INITIAL_ALLOC (4 * 1024)
/* First-size slots a pool holds: 256 x 4 KiB = 1 MiB, enough for 128
 * connections mid-request at once.  Beyond that, first buffers come from
 * malloc (counted in ring_pool.misses). */
#define RING_POOL_MAX 256

struct ring_pool {
    uint8_t slot[RING_POOL_MAX][RING_INITIAL_ALLOC];
    uint16_t returned[RING_POOL_MAX];  /* slots given back, reused first */
    uint32_t nreturned;
    uint32_t fresh;    /* slots fresh.. were never lent: their pages untouched */
    uint32_t lent;     /* slots in use now */
    uint64_t misses;   /* first buffers taken from malloc: every slot was lent */
};
/* A zeroed pool is an empty one; it owns no memory beyond itself. */

struct ring {
    uint8_t *buf;    /* allocated on first write, given back by ring_release() */
    uint32_t cap;    /* fixed at init: the bound on what may be held */
    uint32_t alloc;  /* bytes of buf: grows by doubling, up to cap */
    uint32_t head;   /* offset of the first byte within buf */
    uint32_t len;    /* bytes held */
};

void ring_init(struct ring *r, uint32_t cap);
/* Gives the buffer back (to the pool if it came from there), and with it
 * whatever is held or stored ahead.  The ring stays usable, empty. */
void ring_release(struct ring *r, struct ring_pool *p);
static inline uint32_t ring_space(const struct ring *r) { return r->cap - r->len; }
/* Appends up to len bytes; returns how many fit (0 if memory is refused). */
uint32_t ring_write(struct ring *r, struct ring_pool *p, const void *data, uint32_t len);
/* Stores len bytes at gap bytes past the end of what is held, without
 * holding them yet: out-of-order data waits in place until the gap fills.
 * Returns false if they would not fit (or memory is refused). */
bool ring_write_ahead(struct ring *r, struct ring_pool *p, uint32_t gap, const void *data,
                      uint32_t len);
/* A writable piece of a ring's free space. */
struct ring_area {
    uint8_t *data;
    uint32_t len;
};
/* Makes room for up to len more bytes (no more than the space left) and
 * describes the free space after what is held as at most 2 areas, to be
 * filled in order and then counted with ring_commit().  Returns the number
 * of areas (0 when no space is left or memory is refused). */
int ring_areas(struct ring *r, struct ring_pool *p, uint32_t len, struct ring_area out[2]);
/* Counts n bytes already stored past the end (by ring_write_ahead or in
 * the areas of ring_areas) as held. */
void ring_commit(struct ring *r, uint32_t n);
/* Copies up to len bytes from offset off without consuming them. */
uint32_t ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t len);
/* Describes len bytes from offset off as at most 2 slices, without copying.
 * Returns the number of slices (0 if off+len exceeds what is held). */
int ring_slices(const struct ring *r, uint32_t off, uint32_t len, struct slice out[2]);
/* Drops len bytes from the front.  The buffer stays: the owner knows
 * whether bytes stored ahead still need it (ring_release). */
void ring_consume(struct ring *r, uint32_t len);

#endif
