/*
 * trace_ring.h -- the last N trace records, kept in memory so synackd can
 * draw recent connections as ladder diagrams (GET /trace, http/ladder.c).
 *
 * Bounded: N is fixed when the ring is made (--trace-ring, default
 * TRACE_RING_DEFAULT); a new record overwrites the oldest.  Pure: no
 * system calls, no clock, so the unit tests can drive it.
 */
#ifndef SYNACK_TRACE_RING_H
#define SYNACK_TRACE_RING_H

#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

#define TRACE_RING_DEFAULT 4096   /* records: a few dozen page loads */
#define TRACE_RING_MAX (1u << 20) /* --trace-ring's upper bound */
#define TRACE_RING_WHAT_LEN 96    /* an event's text is cut to this */

struct trace_ring;

/* A ring of cap records (1..TRACE_RING_MAX); NULL when out of memory. */
struct trace_ring *trace_ring_new(uint32_t cap);
void trace_ring_free(struct trace_ring *r);
/* Copies rec in, overwriting the oldest record when full. */
void trace_ring_push(struct trace_ring *r, const struct trace_record *rec);
/* Shaped for the HTTP host (http/http_host.h): ctx is the ring.  get(0)
 * is the oldest record held; the pointer is valid until the next push. */
size_t trace_ring_count(void *ctx);
const struct trace_record *trace_ring_get(void *ctx, size_t i);

#endif
