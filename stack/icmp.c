/*
 * icmp.c -- answers echo requests and reports unreachable protocols/ports.
 */
#include <string.h>

#include "stack/checksum.h"
#include "stack/icmp.h"
#include "stack/tcp.h"

/* Sends an ICMP message: our IPv4 header and the 8-byte ICMP header from
 * st->hdr_buf, then body (quoted datagram or echo data) straight from the
 * caller's buffer. */
static void icmp_emit(struct stack *st, uint32_t dst, uint8_t type, uint8_t code,
                      const uint8_t rest[4], const uint8_t *body, uint32_t blen)
{
    uint8_t *ip = st->hdr_buf, *icmp = st->hdr_buf + IPV4_HDR_LEN;
    icmp[0] = type;
    icmp[1] = code;
    store_be16(icmp + 2, 0);
    memcpy(icmp + 4, rest, 4);
    uint32_t sum = csum_add(0, icmp, ICMP_HDR_LEN);
    store_be16(icmp + 2, csum_fold(csum_add(sum, body, blen)));
    ipv4_write_header(ip, st->cfg.addr, dst, IPPROTO_ICMP_NUM,
                      (uint16_t)(ICMP_HDR_LEN + blen), st->ip_id++, false);
    struct slice parts[2] = { { ip, IPV4_HDR_LEN + ICMP_HDR_LEN }, { body, blen } };
    stack_emit(st, parts, blen ? 2 : 1, NULL);
}

void icmp_input(struct stack *st, const struct ipv4_packet *ip)
{
    const uint8_t *m = ip->payload;
    if (ip->payload_len < ICMP_HDR_LEN) {
        stack_drop(st, DROP_ICMP_SHORT);
        return;
    }
    if (csum_buffer(m, ip->payload_len) != 0) {
        stack_drop(st, DROP_ICMP_CHECKSUM);
        return;
    }
    if (m[0] != ICMP_ECHO_REQUEST || m[1] != 0) {
        stack_drop(st, DROP_ICMP_UNHANDLED);
        return;
    }
    /* RFC 792: the reply carries the request's identifier, sequence number
     * and data unchanged (rest = id + seq). */
    icmp_emit(st, ip->src, ICMP_ECHO_REPLY, 0, m + 4, m + ICMP_HDR_LEN,
              ip->payload_len - ICMP_HDR_LEN);
    stack_count(st, EV_ICMP_ECHO_REPLIES);
}

void icmp_send_unreachable(struct stack *st, const struct ipv4_packet *ip, uint8_t code)
{
    /* RFC 1122 §3.2.2: never answer an ICMP error with an error.  Only echo
     * requests are ICMP we might answer, and those are handled above. */
    if (ip->proto == IPPROTO_ICMP_NUM)
        return;
    if (!rate_allow(&st->icmp_rl, st->now)) {
        stack_drop(st, DROP_ICMP_RATE_LIMIT);
        return;
    }
    uint32_t quoted = ip->hdr_len + ip->payload_len;
    uint32_t room = ICMP_ERROR_MAX_TOTAL - IPV4_HDR_LEN - ICMP_HDR_LEN;
    static const uint8_t unused[4] = { 0, 0, 0, 0 };
    icmp_emit(st, ip->src, ICMP_DEST_UNREACH, code, unused, ip->hdr,
              quoted < room ? quoted : room);
    stack_count(st, EV_ICMP_UNREACH_SENT);
}
