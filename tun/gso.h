/*
 * gso.h -- what the kernel makes of a packet the stack handed over with
 * offload (struct stack_offload): the wire segments, each with its
 * checksum complete.  The TUN takes the super-segment whole; the capture,
 * the impairment layer and the packet-level test harness want the segments
 * a peer's TCP actually sees, so they split it here, the way Linux's
 * tcp_gso_segment() does.
 */
#ifndef SYNACK_GSO_H
#define SYNACK_GSO_H

#include "stack/stack.h"

/* Where each wire segment goes: a complete IPv4 datagram in pieces. */
typedef void (*gso_emit_fn)(void *ctx, const struct slice *parts, int nparts);

/* Calls emit once per wire segment of parts (off may be NULL: a complete
 * packet, passed on as it is).  The headers must lie whole in parts[0],
 * as the stack always emits them.  Returns the segments emitted, 0 when
 * the packet is not one this can split (then nothing is emitted). */
int gso_split(const struct slice *parts, int nparts, const struct stack_offload *off,
              gso_emit_fn emit, void *ctx);

#endif
