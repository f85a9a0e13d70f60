/*
 * syn_cookie.h -- SYN cookies (RFC 4987 §3.6): when a listener's backlog of
 * half-open connections is full, the SYN-ACK's sequence number itself holds
 * what the TCB would have kept, and no TCB is made until the ACK brings it
 * back.  A flood of SYNs from addresses that never answer then fills
 * nothing, and a real client's handshake still completes.
 *
 * The 32 bits of a cookie:
 *
 *   31      27 26  24 23                                   0
 *   +---------+------+--------------------------------------+
 *   | period  | MSS  | SipHash(key, 4-tuple, client ISN,    |
 *   | (5 bits)| index|   period, MSS index), low 24 bits    |
 *   +---------+------+--------------------------------------+
 *
 * period counts SYN_COOKIE_PERIOD_USEC intervals: its low 5 bits are in the
 * cookie and all of it in the hash, so a cookie is good for the period it
 * was made in and SYN_COOKIE_MAX_AGE after it, and never again.  The MSS
 * index picks the peer's MSS, rounded down, from a table of eight; being
 * hashed, it cannot be raised by the client.  The key is
 * the one the ISNs use (isn.h), so a cookie is as hard to guess as an ISN.
 *
 * The other options need a place of their own.  A SYN with timestamps
 * (RFC 7323) gets a SYN-ACK that offers timestamps, and window scale and
 * SACK if the SYN did, and the low 6 bits of its TSval say what the SYN
 * offered; the peer echoes that TSval in the TSecr of its ACK:
 *
 *    5    4    3       0
 *   +--+------+---------+
 *   |0 | SACK | peer's  |   window scale 0..14, or 15: none offered
 *   |  |      | wscale  |
 *   +--+------+---------+
 *
 * The TSval is our clock with those bits put in, moved back 64 ms if that
 * put it ahead, so the TSvals that follow never go back.  A SYN without
 * timestamps (Windows sends none by default) leaves no room: its
 * connection runs on the MSS alone, as before timestamps existed.
 */
#ifndef SYNACK_SYN_COOKIE_H
#define SYNACK_SYN_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "stack/stack.h"
#include "stack/tcp_header.h"

/* The ACK comes one round trip after the SYN-ACK (a lost SYN-ACK brings
 * the SYN again, and a new cookie): a cookie is good for 64 to 128 s. */
#define SYN_COOKIE_PERIOD_USEC (64 * USEC_PER_SEC)
#define SYN_COOKIE_MAX_AGE 1

/* The cookie for a SYN: the ISS of our stateless SYN-ACK. */
uint32_t syn_cookie_make(const uint8_t key[16], const struct tcp_segment *syn, usec_t now);

/* Whether an ACK (no SYN, no RST) acknowledges a cookie we made for the
 * same 4-tuple and client ISN, not too long ago; if so, *mss is the peer's
 * MSS it carried. */
bool syn_cookie_check(const uint8_t key[16], const struct tcp_segment *ack, usec_t now,
                      uint16_t *mss);

/* The options bits in a cookie SYN-ACK's TSval, and the TSval itself for
 * our timestamp clock ts_now and the SYN's options. */
#define SYN_COOKIE_TS_BITS 6
uint32_t syn_cookie_tsval(uint32_t ts_now, const struct tcp_options *syn);

/* Whether tsecr, the TSecr of an ACK that returns a cookie, can be the
 * TSval of a cookie SYN-ACK we sent (not ahead of our clock ts_now, nor
 * older than a cookie lives); if so, the window scale and SACK its SYN
 * offered go into *opt.  Otherwise our SYN-ACK had no timestamp to echo
 * (the SYN had none) or the echo is forged, and the options stay off. */
bool syn_cookie_ts_options(uint32_t tsecr, uint32_t ts_now, struct tcp_options *opt);

#endif
