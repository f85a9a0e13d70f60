/*
 * syn_cookie.c -- SYN cookies (RFC 4987 §3.6), made and checked.  See
 * syn_cookie.h for the layout; tcp_input.c decides when to use them.
 */
#include "stack/syn_cookie.h"

#include "stack/isn.h"
#include "stack/seq.h"

/* Peer MSS values a cookie can carry in 3 bits: the common ones (IPv4 over
 * Ethernet and its tunnels, jumbo frames, a 64 KB TUN).  The peer's MSS is
 * rounded down to one of them, so we never send more than it asked for. */
static const uint16_t cookie_mss[8] = {64, 536, 1200, 1360, 1440, 1460, 8960, 65495};

/* The period counter; the cookie carries its low 5 bits, the hash all of
 * it, so a cookie cannot come back 32 periods later. */
static uint32_t period_of(usec_t now)
{
    return (uint32_t)(now / SYN_COOKIE_PERIOD_USEC);
}

/* The keyed part: the 4-tuple and the client's ISN, so an ACK must come
 * from the same endpoints and continue the same SYN's sequence space; the
 * period and the MSS index, so neither can be changed or replayed. */
static uint32_t cookie_hash(const uint8_t key[16], const struct tcp_segment *s,
                            uint32_t client_isn, uint32_t period, uint32_t m)
{
    /* Our end is the segment's destination for a SYN and an ACK alike. */
    uint8_t msg[22] = {
        (uint8_t)(s->dst >> 24), (uint8_t)(s->dst >> 16), (uint8_t)(s->dst >> 8), (uint8_t)s->dst,
        (uint8_t)(s->dport >> 8), (uint8_t)s->dport,
        (uint8_t)(s->src >> 24), (uint8_t)(s->src >> 16), (uint8_t)(s->src >> 8), (uint8_t)s->src,
        (uint8_t)(s->sport >> 8), (uint8_t)s->sport,
        (uint8_t)(client_isn >> 24), (uint8_t)(client_isn >> 16), (uint8_t)(client_isn >> 8),
        (uint8_t)client_isn,
        (uint8_t)(period >> 24), (uint8_t)(period >> 16), (uint8_t)(period >> 8), (uint8_t)period,
        (uint8_t)m, 'C',
    };
    return (uint32_t)siphash24(key, msg, sizeof msg) & 0xffffff;
}

uint32_t syn_cookie_make(const uint8_t key[16], const struct tcp_segment *syn, usec_t now)
{
    uint16_t peer = syn->opt.has_mss ? syn->opt.mss : TCP_DEFAULT_MSS;
    uint32_t m = 0;
    while (m + 1 < 8 && cookie_mss[m + 1] <= peer)
        m++;
    uint32_t p = period_of(now);
    return (p & 31) << 27 | m << 24 | cookie_hash(key, syn, syn->seq, p, m);
}

bool syn_cookie_check(const uint8_t key[16], const struct tcp_segment *ack, usec_t now,
                      uint16_t *mss)
{
    uint32_t cookie = ack->ack - 1, client_isn = ack->seq - 1, m = (cookie >> 24) & 7;
    uint32_t p = period_of(now) - ((period_of(now) - (cookie >> 27)) & 31);
    if (period_of(now) - p > SYN_COOKIE_MAX_AGE ||
        (cookie & 0xffffff) != cookie_hash(key, ack, client_isn, p, m))
        return false;
    *mss = cookie_mss[m];
    return true;
}

/* The TSval bits (syn_cookie.h): 4 for the peer's window scale, 15 for
 * none, and one for SACK. */
#define TS_WSCALE_MASK 0xfu
#define TS_WSCALE_NONE 0xfu
#define TS_SACK (1u << 4)
#define TS_MASK ((1u << SYN_COOKIE_TS_BITS) - 1)

uint32_t syn_cookie_tsval(uint32_t ts_now, const struct tcp_options *syn)
{
    uint32_t bits = syn->has_wscale
                        ? (syn->wscale < TCP_MAX_WSCALE ? syn->wscale : TCP_MAX_WSCALE)
                        : TS_WSCALE_NONE;
    if (syn->sack_permitted)
        bits |= TS_SACK;
    uint32_t v = (ts_now & ~TS_MASK) | bits;
    return seq_gt(v, ts_now) ? v - (TS_MASK + 1) : v;
}

bool syn_cookie_ts_options(uint32_t tsecr, uint32_t ts_now, struct tcp_options *opt)
{
    uint32_t max_age_ms = (SYN_COOKIE_MAX_AGE + 1) * (SYN_COOKIE_PERIOD_USEC / 1000) + TS_MASK + 1;
    if (ts_now - tsecr > max_age_ms)
        return false;
    uint32_t ws = tsecr & TS_WSCALE_MASK;
    opt->has_wscale = ws != TS_WSCALE_NONE;
    opt->wscale = opt->has_wscale ? (uint8_t)ws : 0;
    opt->sack_permitted = (tsecr & TS_SACK) != 0;
    return true;
}
