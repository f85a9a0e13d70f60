/*
 * stack.c -- the stack object: configuration, the front door for packets
 * from the link (stack_input), the back door to it (stack_emit), timers
 * (stack_tick), counters and rate limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/icmp.h"
#include "stack/ipv4.h"
#include "stack/tcp.h"

void stack_config_defaults(struct stack_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->addr = STACK_DEFAULT_ADDR;
    cfg->mtu = STACK_DEFAULT_MTU;
    cfg->max_conns = STACK_DEFAULT_MAX_CONNS;
    cfg->backlog = STACK_DEFAULT_BACKLOG;
    cfg->msl = STACK_DEFAULT_MSL_SEC * USEC_PER_SEC;
    cfg->rcv_buf = STACK_DEFAULT_RCV_BUF;
    cfg->snd_buf = STACK_DEFAULT_SND_BUF;
    cfg->synack_retries = STACK_DEFAULT_SYNACK_RETRIES;
    cfg->max_retries = STACK_DEFAULT_MAX_RETRIES;
    cfg->icmp_rate = STACK_DEFAULT_ICMP_RATE;
    cfg->challenge_ack_rate = STACK_DEFAULT_CHALLENGE_ACK_RATE;
    cfg->invalid_ack_gap = STACK_DEFAULT_INVALID_ACK_GAP;
    cfg->min_rto = STACK_DEFAULT_MIN_RTO;
    cfg->delack = STACK_DEFAULT_DELACK;
    cfg->nagle = true;
    cfg->syn_cookies = true;
    cfg->keepalive = 0;
    cfg->user_timeout = 0;
    cfg->trace_level = TRACE_OFF;
}

/* Smallest power of two >= n, at least 16: the hash table's size. */
static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 16;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

struct stack *stack_new(const struct stack_config *cfg, const struct stack_io *io)
{
    struct stack *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->cfg = *cfg;
    st->io = *io;
    st->nbuckets = pow2_at_least(cfg->max_conns);
    st->buckets = calloc(st->nbuckets, sizeof *st->buckets);
    st->heap = calloc(cfg->max_conns ? cfg->max_conns : 1, sizeof *st->heap);
    if (!st->buckets || !st->heap) {
        stack_free(st);
        return NULL;
    }
    /* Buckets start full: the first second of the clock gets its quota too. */
    st->icmp_rl = (struct rate_limit){ cfg->icmp_rate, cfg->icmp_rate, 0 };
    st->challenge_rl = (struct rate_limit){ cfg->challenge_ack_rate, cfg->challenge_ack_rate, 0 };
    return st;
}

void stack_free(struct stack *st)
{
    if (!st)
        return;
    /* No trace and no segments: the stack is going away, not its peers.
     * The app still hears of each connection's end, to free its state. */
    for (uint32_t b = 0; b < st->nbuckets && st->buckets; b++)
        while (st->buckets[b]) {
            struct tcb *t = st->buckets[b];
            st->buckets[b] = t->hash_next;
            tcp_app_closed(t, TCP_CLOSED_ABORTED);
            t->reap_next = st->reap;
            st->reap = t;
        }
    tcb_reap(st);
    free(st->buckets);
    free(st->heap);
    free(st);
}

/* The drops that mean a configured bound was reached, and the flag that
 * sets it: these are worth a log line, not just a counter. */
static const char *bound_flag(enum drop_reason r)
{
    switch (r) {
    case DROP_TCP_BACKLOG: return "--backlog";
    case DROP_TCP_TABLE_FULL: return "--max-conns";
    case DROP_TCP_RCV_BUF_FULL: return "--rcv-buf";
    case DROP_ICMP_RATE_LIMIT: return "--icmp-rate";
    case DROP_TCP_CHALLENGE_LIMIT: return "--challenge-ack-rate";
    case DROP_TCP_INVALID_ACK_LIMIT: return "--invalid-ack-ms";
    default: return NULL;
    }
}

void stack_drop(struct stack *st, enum drop_reason r)
{
    uint64_t n = ++st->ctr.drops[r];
    const char *flag = bound_flag(r);
    if (!flag || !st->io.log || !counter_log_due(n))
        return;
    char line[160];
    snprintf(line, sizeof line, "limit reached: %s (%s); %llu so far",
             drop_reason_text(r), flag, (unsigned long long)n);
    st->io.log(st->io.ctx, line);
}

void stack_emit(struct stack *st, const struct slice *parts, int nparts,
                const struct stack_offload *off)
{
    stack_count(st, EV_PKT_OUT);
    st->io.output(st->io.ctx, parts, nparts, off);
}

/* A token bucket refilled once a second: simple, and enough for "at most N
 * per second" as RFC 1812 and RFC 5961 §7 ask. */
bool rate_allow(struct rate_limit *rl, usec_t now)
{
    if (now - rl->window_start >= USEC_PER_SEC || now < rl->window_start) {
        rl->window_start = now;
        rl->tokens = rl->per_sec;
    }
    if (rl->tokens == 0)
        return false;
    rl->tokens--;
    return true;
}

/* RFC 1122 §3.2.1.3: a directed broadcast {<Network>, -1} is never a
 * source; a SYN from the link's would have us answer every host on it. */
static bool is_subnet_broadcast(const struct stack_config *cfg, uint32_t src)
{
    uint32_t host = ~cfg->netmask;
    return cfg->netmask != 0 && host > 1 && src == ((cfg->addr & cfg->netmask) | host);
}

static void tcp_dispatch(struct stack *st, const struct ipv4_packet *ip)
{
    struct tcp_segment seg;
    enum drop_reason why;
    if (!tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &seg, &why)) {
        stack_drop(st, why);
        return;
    }
    stack_count(st, EV_TCP_SEG_IN);
    tcp_input(st, &seg);
}

void stack_input(struct stack *st, const uint8_t *pkt, size_t len, usec_t now)
{
    struct ipv4_packet ip;
    enum drop_reason why;
    st->now = now;
    stack_count(st, EV_PKT_IN);
    if (!ipv4_parse(pkt, len, &ip, &why)) {
        stack_drop(st, why);
        return;
    }
    if (ip.dst != st->cfg.addr) {
        stack_drop(st, DROP_IP_NOT_FOR_US);
        return;
    }
    /* Our own address as the source cannot come from the link: a spoof,
     * which a SYN would turn into a segment to ourselves (the LAND attack;
     * Linux drops such "martian" sources too). */
    if (ipv4_is_bad_source(ip.src) || ip.src == st->cfg.addr ||
        is_subnet_broadcast(&st->cfg, ip.src)) {
        stack_drop(st, DROP_IP_BAD_SOURCE);
        return;
    }
    switch (ip.proto) {
    case IPPROTO_TCP_NUM:
        tcp_dispatch(st, &ip);
        break;
    case IPPROTO_ICMP_NUM:
        icmp_input(st, &ip);
        break;
    case IPPROTO_UDP_NUM:
        stack_drop(st, DROP_UNKNOWN_PROTO);
        icmp_send_unreachable(st, &ip, ICMP_CODE_PORT_UNREACH);
        break;
    default:
        stack_drop(st, DROP_UNKNOWN_PROTO);
        icmp_send_unreachable(st, &ip, ICMP_CODE_PROTO_UNREACH);
        break;
    }
    tcb_reap(st);
}

void stack_tick(struct stack *st, usec_t now)
{
    st->now = now;
    tcp_timers_run(st, now);
    tcb_reap(st);
}

usec_t stack_next_deadline(const struct stack *st)
{
    return tcp_timers_next(st);
}

const struct stack_counters *stack_counters(const struct stack *st)
{
    return &st->ctr;
}

uint32_t stack_conn_count(const struct stack *st)
{
    return st->ntcb - st->ntimewait;
}

uint32_t stack_tcb_count(const struct stack *st)
{
    return st->ntcb;
}

/* Walks every TCB, calling fn; fn may release the TCB it is given. */
static void for_each_tcb(struct stack *st, void (*fn)(struct tcb *))
{
    for (uint32_t b = 0; b < st->nbuckets; b++) {
        struct tcb *t = st->buckets[b];
        while (t) {
            struct tcb *next = t->hash_next;
            fn(t);
            t = next;
        }
    }
}

void stack_abort_all(struct stack *st, usec_t now)
{
    st->now = now;
    for_each_tcb(st, tcp_abort_tcb);
    tcb_reap(st);
}

void stack_close_all(struct stack *st, usec_t now)
{
    st->now = now;
    for_each_tcb(st, tcp_close_tcb);
    tcb_reap(st);
}
