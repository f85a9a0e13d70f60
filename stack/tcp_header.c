/*
 * tcp_header.c -- parsing and building TCP headers and options.  Every read
 * of an option byte is preceded by a check that the byte is inside the header.
 */
#include <stdio.h>
#include <string.h>

#include "stack/checksum.h"
#include "stack/ipv4.h"
#include "stack/tcp_header.h"

/* Parses one known option of the given kind from its body (after kind and
 * length).  A known option with the wrong length is ignored rather than
 * fatal, as RFC 9293 §3.1 asks of any option a host does not understand. */
static void parse_one_option(uint8_t kind, const uint8_t *body, uint32_t blen,
                             struct tcp_options *o)
{
    switch (kind) {
    case TCPOPT_MSS:
        if (blen == 2) {
            o->has_mss = true;
            o->mss = load_be16(body);
        }
        break;
    case TCPOPT_WSCALE:
        if (blen == 1) {
            o->has_wscale = true;
            o->wscale = body[0];
        }
        break;
    case TCPOPT_SACK_PERM:
        if (blen == 0)
            o->sack_permitted = true;
        break;
    case TCPOPT_TIMESTAMP:
        if (blen == 8) {
            o->has_timestamp = true;
            o->tsval = load_be32(body);
            o->tsecr = load_be32(body + 4);
        }
        break;
    case TCPOPT_SACK:
        if (blen % 8 == 0 && blen / 8 >= 1 && blen / 8 <= TCP_MAX_SACK_BLOCKS) {
            o->sack_count = (uint8_t)(blen / 8);
            for (uint32_t i = 0; i < o->sack_count; i++) {
                o->sack[i].left = load_be32(body + 8 * i);
                o->sack[i].right = load_be32(body + 8 * i + 4);
            }
        }
        break;
    default:
        break; /* unknown kinds are skipped by their length */
    }
}

bool tcp_parse_options(const uint8_t *p, size_t len, struct tcp_options *o)
{
    memset(o, 0, sizeof *o);
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == TCPOPT_EOL)
            return true;
        if (kind == TCPOPT_NOP) {
            i++;
            continue;
        }
        /* Every other option has a length byte that counts kind and itself:
         * it must exist, be >= 2, and end inside the header. */
        if (i + 1 >= len)
            return false;
        uint8_t olen = p[i + 1];
        if (olen < 2 || olen > len - i)
            return false;
        parse_one_option(kind, p + i + 2, olen - 2u, o);
        i += olen;
    }
    return true;
}

bool tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst,
               struct tcp_segment *out, enum drop_reason *why)
{
    if (len < TCP_HDR_LEN)
        return reject(why, DROP_TCP_SHORT);
    uint32_t doff = (uint32_t)(seg[12] >> 4) * 4;
    if (doff < TCP_HDR_LEN || doff > len)
        return reject(why, DROP_TCP_DATA_OFFSET);
    uint32_t sum = csum_pseudo(src, dst, 6, (uint16_t)len);
    if (csum_fold(csum_add(sum, seg, len)) != 0)
        return reject(why, DROP_TCP_CHECKSUM);
    if (!tcp_parse_options(seg + TCP_HDR_LEN, doff - TCP_HDR_LEN, &out->opt))
        return reject(why, DROP_TCP_OPTIONS);

    out->src = src;
    out->dst = dst;
    out->sport = load_be16(seg);
    out->dport = load_be16(seg + 2);
    out->seq = load_be32(seg + 4);
    out->ack = load_be32(seg + 8);
    out->flags = seg[13];
    out->wnd = load_be16(seg + 14);
    out->urg = load_be16(seg + 18);
    out->hdr_len = doff;
    out->data = seg + doff;
    out->data_len = (uint32_t)(len - doff);
    if (out->sport == 0 || out->dport == 0)
        return reject(why, DROP_TCP_BAD_PORT);
    return true;
}

/* Layout as Linux sends it, so captures of synack and of the kernel line up:
 * MSS, SACK_PERM+TS (or NOP,NOP,TS / NOP,NOP,SACK_PERM), NOP+WS; on other
 * segments TS, then NOP,NOP,SACK blocks, as many as fit. */
uint32_t tcp_write_options(uint8_t out[TCP_MAX_OPT_LEN], const struct tcp_opt_out *o)
{
    uint32_t n = 0;
    if (o->syn) {
        out[n++] = TCPOPT_MSS;
        out[n++] = 4;
        store_be16(out + n, o->mss);
        n += 2;
    }
    if (o->ts_ok) {
        if (o->syn && o->sack_ok) {
            out[n++] = TCPOPT_SACK_PERM;
            out[n++] = 2;
        } else {
            out[n++] = TCPOPT_NOP;
            out[n++] = TCPOPT_NOP;
        }
        out[n++] = TCPOPT_TIMESTAMP;
        out[n++] = 10;
        store_be32(out + n, o->tsval);
        store_be32(out + n + 4, o->tsecr);
        n += 8;
    } else if (o->syn && o->sack_ok) {
        out[n++] = TCPOPT_NOP;
        out[n++] = TCPOPT_NOP;
        out[n++] = TCPOPT_SACK_PERM;
        out[n++] = 2;
    }
    if (o->syn && o->wscale_ok) {
        out[n++] = TCPOPT_NOP;
        out[n++] = TCPOPT_WSCALE;
        out[n++] = 3;
        out[n++] = o->wscale;
    }
    uint32_t blocks = o->syn ? 0 : o->sack_count;
    uint32_t room = (TCP_MAX_OPT_LEN - n - 4) / 8;   /* NOP, NOP, kind, len */
    if (blocks > room)
        blocks = room;
    if (blocks) {
        out[n++] = TCPOPT_NOP;
        out[n++] = TCPOPT_NOP;
        out[n++] = TCPOPT_SACK;
        out[n++] = (uint8_t)(2 + 8 * blocks);
        for (uint32_t i = 0; i < blocks; i++, n += 8) {
            store_be32(out + n, o->sack[i].left);
            store_be32(out + n + 4, o->sack[i].right);
        }
    }
    return n;
}

/* Header and options, checksum field zero.  Returns the header length. */
static uint32_t write_fields(uint8_t *out, const struct tcp_segment *h,
                             const uint8_t *opts, uint32_t opt_len)
{
    uint32_t hlen = TCP_HDR_LEN + opt_len;
    store_be16(out, h->sport);
    store_be16(out + 2, h->dport);
    store_be32(out + 4, h->seq);
    store_be32(out + 8, h->ack);
    out[12] = (uint8_t)((hlen / 4) << 4);
    out[13] = h->flags;
    store_be16(out + 14, h->wnd);
    store_be16(out + TCP_CSUM_OFFSET, 0);
    store_be16(out + 18, 0);
    if (opt_len)
        memcpy(out + TCP_HDR_LEN, opts, opt_len);  /* opts may be NULL when empty */
    return hlen;
}

uint32_t tcp_write_header(uint8_t *out, const struct tcp_segment *h,
                          const uint8_t *opts, uint32_t opt_len,
                          const struct slice *payload, int npayload)
{
    uint32_t hlen = write_fields(out, h, opts, opt_len);
    uint32_t plen = 0;
    for (int i = 0; i < npayload; i++)
        plen += (uint32_t)payload[i].len;

    uint32_t sum = csum_pseudo(h->src, h->dst, 6, (uint16_t)(hlen + plen));
    sum = csum_add(sum, out, hlen);
    /* A slice may end in the middle of a 16-bit word (a ring wraps at any
     * offset); the next slice's first byte then completes that word. */
    bool carry_odd = false;  /* the last piece ended halfway through a word */
    for (int i = 0; i < npayload; i++) {
        const uint8_t *d = payload[i].data;
        size_t l = payload[i].len;
        if (l == 0)
            continue;
        if (carry_odd) {
            sum += d[0];     /* low byte of the word begun by the last piece */
            d++;
            l--;
        }
        sum = csum_add(sum, d, l);
        carry_odd = (l & 1) != 0;
    }
    store_be16(out + TCP_CSUM_OFFSET, csum_fold(sum));
    return hlen;
}

uint32_t tcp_write_header_partial(uint8_t *out, const struct tcp_segment *h,
                                  const uint8_t *opts, uint32_t opt_len)
{
    uint32_t hlen = write_fields(out, h, opts, opt_len);
    uint32_t sum = csum_pseudo(h->src, h->dst, 6, (uint16_t)(hlen + h->data_len));
    /* What the checksum engine starts from: the pseudo-header sum, folded
     * but not complemented (csum_fold complements, so undo it). */
    store_be16(out + TCP_CSUM_OFFSET, (uint16_t)~csum_fold(sum));
    return hlen;
}

const char *tcp_flags_str(uint8_t flags, char buf[48])
{
    static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
    /* Low bit first, as Wireshark lists them: [FIN, PSH, ACK]. */
    size_t at = 0;
    buf[at++] = '[';
    for (int b = 0; b < 8; b++) {
        if (!(flags & (1 << b)))
            continue;
        at += (size_t)snprintf(buf + at, 48 - at, "%s%s", at > 1 ? ", " : "", names[b]);
    }
    snprintf(buf + at, 48 - at, "]");
    return buf;
}
