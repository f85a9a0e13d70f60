/*
 * checksum.h -- the Internet checksum (RFC 1071), the one routine that IPv4
 * headers, ICMP messages and TCP segments all share.
 *
 * Sums are kept unfolded in 32 bits so that a caller can add pieces one after
 * another (pseudo-header, header, payload slices) and fold once at the end.
 */
#ifndef SYNACK_CHECKSUM_H
#define SYNACK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at data to a running sum.  Odd-length pieces are allowed
 * only as the last piece (RFC 1071 §4.1 pads the final byte with zero). */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
/* Folds the carries and complements: the value that goes on the wire. */
uint16_t csum_fold(uint32_t sum);
/* The sum over the TCP/UDP pseudo-header (RFC 9293 §3.1): addresses in host
 * order, protocol number, and the segment length. */
uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* Convenience: fold(add(0, data, len)).  A buffer whose checksum field is
 * correct sums to 0. */
uint16_t csum_buffer(const void *data, size_t len);

#endif
