/*
 * capture.h -- the --pcap capture: every packet both ways, in pcap or, for
 * a FILE.pcapng, in pcapng with comments on the packets that made
 * something happen.  main.c tells it each packet going into the stack,
 * each packet the stack sends, each trace record, and when a call into the
 * stack (stack_input, stack_tick, ...) has returned.
 *
 * Which packet carries which comment (pcapng only):
 *   1. a state change caused by a received segment: that segment;
 *   2. a state change made by close() (to FIN-WAIT-1 or LAST-ACK): the
 *      segment that carries our FIN, whenever it leaves;
 *   3. a state change to CLOSED without a segment (abort, a timeout): the
 *      RST synack sent just before it in the same call, if any;
 *   4. any other event (a retransmission, a probe, a challenge ACK, a
 *      reaction to loss): the next segment synack sends on that connection
 *      in the same call -- for a retransmission, the resent segment -- or
 *      else the segment that arrived in that call on that connection.
 * A change with no packet on the wire (TIME-WAIT's 2*MSL ending) has no
 * comment.  Rule 1 is why an arriving packet is written only once the
 * stack has finished with it: until then its comments are not known, so
 * it and what the stack sends meanwhile are held (up to
 * CAPTURE_HOLD_LIMIT bytes) and written in order when the call returns.
 */
#ifndef SYNACK_CAPTURE_H
#define SYNACK_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

#define CAPTURE_HOLD_LIMIT (16u * 1024 * 1024) /* bytes held in one call */
#define CAPTURE_NOTE_LEN 256                   /* one comment, cut to this */
#define CAPTURE_MAX_NOTES 1024                 /* comments held in one call */
#define CAPTURE_MAX_FIN_WAITS 64               /* rule 2's comments still waiting */

struct capture;

/* Opens path: pcapng when it ends in ".pcapng", else classic pcap.
 * ifname and app name the interface and writer in a pcapng file.  NULL
 * after printing one line saying why. */
struct capture *capture_open(const char *path, const char *ifname, const char *app);
/* True when the file takes comments, so trace records are worth sending. */
bool capture_wants_records(const struct capture *c);
/* A packet about to go into stack_input(). */
void capture_in(struct capture *c, const uint8_t *pkt, size_t len);
/* A packet the stack emitted, in the pieces it gave. */
void capture_out(struct capture *c, const struct slice *parts, int nparts);
/* A trace record made during the current call. */
void capture_note(struct capture *c, const struct trace_record *r);
/* The call into the stack has returned: write what is held. */
void capture_settle(struct capture *c);
void capture_flush(struct capture *c);
/* Settles, flushes, closes and frees.  NULL is fine. */
void capture_close(struct capture *c);

#endif
