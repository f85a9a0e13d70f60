/*
 * tcp_header.h -- TCP wire format (RFC 9293 §3.1) and options: MSS (§3.7.1),
 * window scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018).
 * Parsing turns bytes into a struct tcp_segment; building does the reverse.
 * Nothing here knows about connections or states.
 */
#ifndef SYNACK_TCP_HEADER_H
#define SYNACK_TCP_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/counters.h"
#include "stack/stack.h"

#define TCP_HDR_LEN 20
#define TCP_CSUM_OFFSET 16     /* the checksum field, from the header's start */
#define TCP_MAX_OPT_LEN 40

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8

#define TCP_MAX_WSCALE 14      /* RFC 7323 §2.3 */
#define TCP_DEFAULT_MSS 536    /* RFC 9293 §3.7.1, when the peer sends none */
#define TCP_MAX_SACK_BLOCKS 4

struct tcp_sack_block {
    uint32_t left, right;      /* [left, right) received, RFC 2018 §3 */
};

struct tcp_options {
    bool has_mss, has_wscale, sack_permitted, has_timestamp;
    uint16_t mss;
    uint8_t wscale;
    uint32_t tsval, tsecr;
    uint8_t sack_count;
    struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
};

/* A parsed segment, fields in host order. */
struct tcp_segment {
    uint32_t src, dst;        /* from the IPv4 header */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;             /* as on the wire, unscaled */
    uint16_t urg;
    uint32_t hdr_len;
    const uint8_t *data;
    uint32_t data_len;
    struct tcp_options opt;
};

/* Sequence space the segment occupies: data plus one each for SYN and FIN. */
static inline uint32_t tcp_seg_len(const struct tcp_segment *s)
{
    return s->data_len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
}

/* Parses and checksums one segment carried between src and dst. */
bool tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst,
               struct tcp_segment *out, enum drop_reason *why);
/* Parses the option bytes of a header; false on a malformed option. */
bool tcp_parse_options(const uint8_t *p, size_t len, struct tcp_options *out);

/* What to put in the options of a segment we send. */
struct tcp_opt_out {
    bool syn;                  /* SYN-ACK: MSS, and what the peer offered */
    uint16_t mss;
    bool wscale_ok, sack_ok, ts_ok;
    uint8_t wscale;
    uint32_t tsval, tsecr;
    uint8_t sack_count;        /* SACK blocks to report (RFC 2018 §3) */
    struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
};
/* SACK blocks that fit beside a timestamp (RFC 2018 §3: 3 with TS, 4 without). */
#define TCP_SACK_BLOCKS_WITH_TS 3
/* Writes the options, padded to a multiple of 4; returns their length. */
uint32_t tcp_write_options(uint8_t out[TCP_MAX_OPT_LEN], const struct tcp_opt_out *o);

/* Writes header + options and the checksum over pseudo-header, header and
 * the payload slices.  Returns the header length. */
uint32_t tcp_write_header(uint8_t *out, const struct tcp_segment *h,
                          const uint8_t *opts, uint32_t opt_len,
                          const struct slice *payload, int npayload);
/* The same for a segment whose checksum the link completes (struct
 * stack_offload): the field holds the pseudo-header sum over h->data_len
 * bytes of payload, which is never read.  Returns the header length. */
uint32_t tcp_write_header_partial(uint8_t *out, const struct tcp_segment *h,
                                  const uint8_t *opts, uint32_t opt_len);

/* "[SYN, ACK]" style flag list, as Wireshark writes it. */
const char *tcp_flags_str(uint8_t flags, char buf[48]);

#endif
