/*
 * tcb_table.c -- the connection table: TCBs found by a hash of the 4-tuple
 * in O(1), created from a SYN to a listener, and freed only at the end of
 * the call that released them, so code that still holds a pointer during
 * the same segment never touches freed memory.
 */
#include <stdio.h>
#include <stdlib.h>

#include "stack/ipv4.h"
#include "stack/isn.h"
#include "stack/seq.h"
#include "stack/tcp.h"

static uint32_t tuple_hash(const struct stack *st, uint32_t raddr, uint16_t rport,
                           uint16_t lport)
{
    /* Multiplicative hashing (Knuth, TAOCP 6.4) of the parts that vary --
     * the local address is the same for every connection -- taking the
     * product's high bits: its low bits depend only on the factors' low
     * bits, so a table indexed by them used half its buckets for one
     * client's consecutive ports (tcb_lookup was 3.2 % of synackd's CPU
     * in B then, docs/performance.md). */
    uint64_t key = (uint64_t)raddr << 32 | (uint32_t)rport << 16 | lport;
    uint32_t bits = (uint32_t)__builtin_ctz(st->nbuckets);
    return bits ? (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - bits)) : 0;
}

struct tcb *tcb_lookup(struct stack *st, uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport)
{
    struct tcb *t = st->buckets[tuple_hash(st, raddr, rport, lport)];
    for (; t; t = t->hash_next)
        if (t->raddr == raddr && t->rport == rport && t->lport == lport &&
            t->laddr == laddr)
            return t;
    return NULL;
}

struct listener *listener_find(struct stack *st, uint16_t port)
{
    for (int i = 0; i < TCP_MAX_LISTENERS; i++)
        if (st->listeners[i].used && st->listeners[i].port == port)
            return &st->listeners[i];
    return NULL;
}

/* Window scale we ask for: the smallest shift that lets the 16-bit window
 * field describe the whole receive buffer (RFC 7323 §2.3). */
uint8_t tcp_rcv_wscale(uint32_t buf)
{
    uint8_t s = 0;
    while (s < TCP_MAX_WSCALE && (buf >> s) > 0xffff)
        s++;
    return s;
}

/* Options from the SYN decide what this connection uses (RFC 9293 §3.7.1,
 * RFC 7323 §2.2 and §3.2, RFC 2018 §2): each only if the peer offered it. */
static void tcb_negotiate(struct tcb *t, const struct tcp_segment *syn)
{
    const struct tcp_options *o = &syn->opt;
    const struct stack_config *cfg = &t->st->cfg;
    t->ws_ok = o->has_wscale;
    t->snd_wscale = t->ws_ok ? (o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale) : 0;
    t->rcv_wscale = t->ws_ok ? tcp_rcv_wscale(cfg->rcv_buf) : 0;
    t->ts_ok = o->has_timestamp;
    t->ts_recent = o->tsval;
    t->ts_recent_age = t->st->now;
    t->sack_ok = o->sack_permitted;
    uint32_t peer_mss = o->has_mss ? o->mss : TCP_DEFAULT_MSS;
    uint32_t our_mss = TCP_OUR_MSS(cfg);
    uint32_t mss = peer_mss < our_mss ? peer_mss : our_mss;
    /* Effective send MSS leaves room for the options every segment carries
     * (RFC 9293 §3.7.1: TCP header size includes options). */
    if (t->ts_ok)
        mss = mss > 12 ? mss - 12 : 0;  /* a tiny MSS must not wrap */
    t->snd_mss = (uint16_t)(mss > TCP_MIN_SEND_MSS ? mss : TCP_MIN_SEND_MSS);
}

struct tcb *tcb_create(struct stack *st, const struct tcp_segment *syn,
                       struct listener *l)
{
    struct tcb *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->st = st;
    t->listener = l;
    t->laddr = syn->dst;
    t->lport = syn->dport;
    t->raddr = syn->src;
    t->rport = syn->sport;
    t->state = TCP_LISTEN;  /* the copy of the listener that the SYN moves on */
    t->irs = syn->seq;
    t->rcv_nxt = syn->seq + 1;
    t->iss = isn_generate(st->cfg.isn_key, t->laddr, t->lport, t->raddr, t->rport, st->now);
    t->snd_una = t->snd_nxt = t->snd_max = t->iss;
    t->ts_offset = isn_ts_offset(st->cfg.isn_key, t->laddr, t->lport, t->raddr, t->rport);
    ring_init(&t->sndq, st->cfg.snd_buf);
    ring_init(&t->rcvq, st->cfg.rcv_buf);
    tcb_negotiate(t, syn);
    t->snd_wnd = syn->wnd;  /* never scaled in a SYN, RFC 7323 §2.2 */
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = syn->seq;
    t->rto = TCP_INITIAL_RTO;
    for (int i = 0; i < TCP_TIMER_COUNT; i++)
        t->timer[i] = USEC_NEVER;
    t->heap_idx = UINT32_MAX;
    t->invalid_ack_at = USEC_NEVER;
    t->ops = l->ops;

    uint32_t b = tuple_hash(st, t->raddr, t->rport, t->lport);
    t->hash_next = st->buckets[b];
    st->buckets[b] = t;
    st->ntcb++;
    return t;
}

static void tcb_unhash(struct tcb *t)
{
    struct stack *st = t->st;
    struct tcb **pp = &st->buckets[tuple_hash(st, t->raddr, t->rport, t->lport)];
    while (*pp && *pp != t)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = t->hash_next;
}

/* The state has already moved to CLOSED (or back to LISTEN) through
 * tcp_set_state(), which traced it; this only lets go of the memory. */
void tcb_release(struct tcb *t)
{
    struct stack *st = t->st;
    tcp_timer_remove(t);
    tcb_unhash(t);
    st->ntcb--;
    t->reap_next = st->reap;
    st->reap = t;
}

void tcb_reap(struct stack *st)
{
    while (st->reap) {
        struct tcb *t = st->reap;
        st->reap = t->reap_next;
        ring_release(&t->sndq, &st->rings);
        ring_release(&t->rcvq, &st->rings);
        free(t);
    }
}

static void tw_append(struct tcb *t)
{
    struct stack *st = t->st;
    t->tw_prev = st->tw_newest;
    t->tw_next = NULL;
    *(st->tw_newest ? &st->tw_newest->tw_next : &st->tw_oldest) = t;
    st->tw_newest = t;
}

static void tw_unlink(struct tcb *t)
{
    struct stack *st = t->st;
    *(t->tw_prev ? &t->tw_prev->tw_next : &st->tw_oldest) = t->tw_next;
    *(t->tw_next ? &t->tw_next->tw_prev : &st->tw_newest) = t->tw_prev;
    t->tw_prev = t->tw_next = NULL;
}

/* TIME-WAIT only answers a retransmitted FIN (RFC 9293 §3.10.7.4), which
 * needs sequence numbers, not data: everything sent was acknowledged, and
 * what the app did not read will never be read (on_closed has gone up).
 * Both buffers go now rather than 2*MSL later: after the bench's 10 s of
 * new connections (B), RSS went from 269 to 13 MiB (docs/performance.md). */
void tcb_timewait_enter(struct tcb *t)
{
    t->st->ntimewait++;
    ring_release(&t->sndq, &t->st->rings);
    ring_release(&t->rcvq, &t->st->rings);
    seq_ranges_clear(&t->ooo);
    seq_ranges_clear(&t->sacked);
    tw_append(t);
}

void tcb_timewait_restart(struct tcb *t)
{
    tw_unlink(t);
    tw_append(t);
}

void tcb_timewait_leave(struct tcb *t)
{
    t->st->ntimewait--;
    tw_unlink(t);
}

void stack_bound_event(struct stack *st, enum stack_event e, const char *bound)
{
    uint64_t n = ++st->ctr.events[e];
    if (!st->io.log || !counter_log_due(n))
        return;
    char line[160];
    snprintf(line, sizeof line, "limit reached: %s (%s); %llu so far", stack_event_text(e),
             bound, (unsigned long long)n);
    st->io.log(st->io.ctx, line);
}

/* Every slot of the pool lent: the ring's first buffer came from malloc. */
static void count_pool_misses(struct stack *st, uint64_t before)
{
    if (st->rings.misses != before)
        stack_bound_event(st, EV_RING_POOL_MISSES, "RING_POOL_MAX");
}

uint32_t tcb_ring_write(struct tcb *t, struct ring *r, const void *data, uint32_t len)
{
    uint64_t misses = t->st->rings.misses;
    uint32_t n = ring_write(r, &t->st->rings, data, len);
    count_pool_misses(t->st, misses);
    return n;
}

int tcb_ring_areas(struct tcb *t, struct ring *r, uint32_t len, struct ring_area out[2])
{
    uint64_t misses = t->st->rings.misses;
    int n = ring_areas(r, &t->st->rings, len, out);
    count_pool_misses(t->st, misses);
    return n;
}

bool tcb_rcvq_write_ahead(struct tcb *t, uint32_t gap, const void *data, uint32_t len)
{
    uint64_t misses = t->st->rings.misses;
    bool ok = ring_write_ahead(&t->rcvq, &t->st->rings, gap, data, len);
    count_pool_misses(t->st, misses);
    return ok;
}

/* The send ring is empty once everything sent is acknowledged; the receive
 * ring once the app has read all and no out-of-order bytes wait past its
 * end (they live in its buffer).  Either way the buffer goes back, so a
 * keep-alive connection between requests holds no buffer at all. */
void tcb_rings_trim(struct tcb *t)
{
    if (t->sndq.len == 0)
        ring_release(&t->sndq, &t->st->rings);
    if (t->rcvq.len == 0 && t->ooo.n == 0)
        ring_release(&t->rcvq, &t->st->rings);
}
