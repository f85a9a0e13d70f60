/*
 * ipv4.h -- IPv4 wire format (RFC 791): checking an incoming header and
 * writing an outgoing one.  ipv4_input() is the stack's front door: every
 * packet from the link is validated here and handed to ICMP or TCP.
 */
#ifndef SYNACK_IPV4_H
#define SYNACK_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/counters.h"

#define IPV4_HDR_LEN 20       /* without options */
#define IPV4_MAX_HDR_LEN 60   /* IHL is 4 bits of 32-bit words */
#define IPV4_DEFAULT_TTL 64
#define IPPROTO_ICMP_NUM 1
#define IPPROTO_TCP_NUM 6
#define IPPROTO_UDP_NUM 17
/* Flags and fragment offset, the 16 bits at offset 6 (RFC 791 §3.1). */
#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_FRAG_OFFSET_MASK 0x1fff

/* A validated datagram: header fields in host order, payload after options. */
struct ipv4_packet {
    const uint8_t *hdr;     /* start of the IPv4 header */
    uint32_t hdr_len;       /* IHL * 4, options included */
    uint32_t src, dst;
    uint8_t proto;
    uint8_t ttl;
    uint16_t id;
    const uint8_t *payload;
    uint32_t payload_len;   /* from Total Length, never from what was read */
};

/* Checks version, IHL, total length against len, the header checksum and
 * fragmentation.  On failure returns false and sets *why. */
bool ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_packet *out,
                enum drop_reason *why);

/* Writes a 20-byte header (no options, DF set when df) with its checksum. */
void ipv4_write_header(uint8_t *out, uint32_t src, uint32_t dst, uint8_t proto,
                       uint16_t payload_len, uint16_t id, bool df);

/* True for addresses that must never be the source of a datagram we answer
 * (RFC 1122 §3.2.1.3): 0.0.0.0/8, 127/8, multicast, limited broadcast. */
bool ipv4_is_bad_source(uint32_t addr);

static inline uint16_t load_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void store_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif
