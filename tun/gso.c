/*
 * gso.c -- software segmentation of a GSO super-segment, as Linux's
 * tcp_gso_segment() does it: segment i carries gso_size bytes of payload
 * from seq + i * gso_size, a copy of the IPv4 and TCP headers (options
 * included), IPv4 ID + i, PSH and FIN only on the last segment and CWR
 * only on the first; every checksum is complete.  Headers are rebuilt by
 * the stack's own writers, so there is still one checksum routine.
 */
#include <string.h>

#include "stack/ipv4.h"
#include "stack/tcp_header.h"
#include "tun/gso.h"

/* Describes len bytes from offset at of the payload pieces as slices. */
static int payload_range(const struct slice *p, int np, size_t at, size_t len,
                         struct slice *out, int cap)
{
    int n = 0;
    for (int i = 0; i < np && len > 0; i++) {
        if (at >= p[i].len) {
            at -= p[i].len;
            continue;
        }
        size_t take = p[i].len - at < len ? p[i].len - at : len;
        if (n == cap)
            return -1;
        out[n++] = (struct slice){ p[i].data + at, take };
        len -= take;
        at = 0;
    }
    return len == 0 ? n : -1;
}

/* The TCP header fields of the super-segment, as tcp_write_header() takes
 * them. */
static struct tcp_segment header_of(const uint8_t *ip, const uint8_t *tcp)
{
    return (struct tcp_segment){
        .src = load_be32(ip + 12), .dst = load_be32(ip + 16),
        .sport = load_be16(tcp), .dport = load_be16(tcp + 2),
        .seq = load_be32(tcp + 4), .ack = load_be32(tcp + 8),
        .flags = tcp[13], .wnd = load_be16(tcp + 14),
    };
}

int gso_split(const struct slice *parts, int nparts, const struct stack_offload *off,
              gso_emit_fn emit, void *ctx)
{
    if (off == NULL) {
        emit(ctx, parts, nparts);
        return 1;
    }
    if (nparts < 1 || nparts > 1 + STACK_MAX_SLICES || parts[0].len != off->hdr_len ||
        off->csum_start != IPV4_HDR_LEN || off->hdr_len < IPV4_HDR_LEN + TCP_HDR_LEN ||
        off->hdr_len > IPV4_HDR_LEN + TCP_HDR_LEN + TCP_MAX_OPT_LEN ||
        parts[0].data[9] != IPPROTO_TCP_NUM)
        return 0;
    const uint8_t *ip = parts[0].data;
    size_t total = 0;
    for (int i = 0; i < nparts; i++)
        total += parts[i].len;
    const uint8_t *tcp = ip + IPV4_HDR_LEN;
    uint32_t thl = off->hdr_len - IPV4_HDR_LEN;
    size_t paylen = total - off->hdr_len;
    size_t step = off->gso_size ? off->gso_size : (paylen ? paylen : 1);
    struct tcp_segment h = header_of(ip, tcp);
    uint16_t id = load_be16(ip + 4);
    bool df = (load_be16(ip + 6) & IP_FLAG_DF) != 0;
    int count = 0;
    size_t at = 0;
    do {
        size_t len = paylen - at < step ? paylen - at : step;
        bool last = at + len == paylen;
        uint8_t hdr[IPV4_HDR_LEN + TCP_HDR_LEN + TCP_MAX_OPT_LEN];
        struct slice seg[1 + STACK_MAX_SLICES];
        int n = payload_range(parts + 1, nparts - 1, at, len, seg + 1, STACK_MAX_SLICES);
        if (n < 0)
            return count;
        struct tcp_segment s = h;
        s.seq = h.seq + (uint32_t)at;
        if (!last)
            s.flags &= (uint8_t)~(TCP_PSH | TCP_FIN);
        if (count > 0)
            s.flags &= (uint8_t)~TCP_CWR;
        uint32_t hl = tcp_write_header(hdr + IPV4_HDR_LEN, &s, tcp + TCP_HDR_LEN,
                                       thl - TCP_HDR_LEN, seg + 1, n);
        ipv4_write_header(hdr, s.src, s.dst, IPPROTO_TCP_NUM, (uint16_t)(hl + len),
                          (uint16_t)(id + count), df);
        seg[0] = (struct slice){ hdr, IPV4_HDR_LEN + hl };
        emit(ctx, seg, 1 + n);
        count++;
        at += len;
    } while (at < paylen);
    return count;
}
