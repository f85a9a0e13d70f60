/*
 * isn.h -- initial sequence numbers per RFC 6528 (and the per-connection
 * timestamp offset of RFC 7323 §7.1, made the same way).
 *
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a clock ticking every 4 microseconds; F is SipHash-2-4 keyed with a
 * secret the link layer draws from getrandom() (tests pass a fixed key so a
 * run is reproducible).  An off-path attacker who cannot see the key cannot
 * guess the ISN of a connection, yet a new incarnation of the same 4-tuple
 * starts above the old one because M keeps moving.
 */
#ifndef SYNACK_ISN_H
#define SYNACK_ISN_H

#include <stdint.h>

#include "stack/stack.h"

uint64_t siphash24(const uint8_t key[16], const void *data, uint32_t len);

uint32_t isn_generate(const uint8_t key[16], uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport, usec_t now);
/* A per-connection offset for TSval, so TSval does not leak uptime. */
uint32_t isn_ts_offset(const uint8_t key[16], uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport);

#endif
