/*
 * tcp_timer.c -- TCP's clocks: retransmission (SYN-ACK, data, FIN) and
 * TIME-WAIT, plus the one timer each application may arm on a connection.
 * Each TCB keeps absolute deadlines; a binary min-heap orders TCBs by a key,
 * so a tick costs O(log n) per expiry and never a scan of every connection.
 *
 * The key is a lower bound on the TCB's earliest deadline, not always the
 * deadline itself: a deadline that moves later (an ACK restarting the
 * retransmission timer, TIME-WAIT replacing it, a timer stopped) leaves the
 * heap alone, which is most changes.  Only the root is kept exact: when the
 * root's deadline moves later it is re-keyed and sifted down, and so is any
 * stale TCB that rises to the root after it.  Every other key is <= its
 * TCB's deadline and >= the root's, so the root's deadline is the earliest
 * of all and stack_next_deadline() stays exact.  Re-sorting on every change
 * had sift_down at 5.9 % of synackd's CPU with a new connection per
 * request (docs/performance.md).
 *
 * TIME-WAIT is timed apart: every TIME-WAIT lasts the same 2*MSL, so the
 * FIFO that tcb_table.c keeps them in is already sorted by expiry, and a
 * tick looks at its oldest beside the heap's root.
 */
#include "stack/tcp.h"

static void heap_swap(struct stack *st, uint32_t a, uint32_t b)
{
    struct tcb *ta = st->heap[a], *tb = st->heap[b];
    st->heap[a] = tb;
    st->heap[b] = ta;
    tb->heap_idx = a;
    ta->heap_idx = b;
}

static void sift_up(struct stack *st, uint32_t i)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (st->heap[parent]->heap_key <= st->heap[i]->heap_key)
            break;
        heap_swap(st, i, parent);
        i = parent;
    }
}

static void sift_down(struct stack *st, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < st->heap_len && st->heap[l]->heap_key < st->heap[m]->heap_key)
            m = l;
        if (r < st->heap_len && st->heap[r]->heap_key < st->heap[m]->heap_key)
            m = r;
        if (m == i)
            return;
        heap_swap(st, i, m);
        i = m;
    }
}

static void heap_delete(struct stack *st, struct tcb *t)
{
    uint32_t i = t->heap_idx;
    t->heap_idx = UINT32_MAX;
    st->heap_len--;
    if (i == st->heap_len)
        return;
    st->heap[i] = st->heap[st->heap_len];
    st->heap[i]->heap_idx = i;
    sift_up(st, i);
    sift_down(st, st->heap[i]->heap_idx);
}

/* Restores the one exact key, the root's: a stale root is re-keyed and
 * sifted down (or leaves, if no timer is left) until the root is exact. */
static void fix_root(struct stack *st)
{
    while (st->heap_len > 0) {
        struct tcb *r = st->heap[0];
        usec_t d = tcb_deadline(r);
        if (d == r->heap_key)
            return;
        if (d == USEC_NEVER) {
            heap_delete(st, r);
        } else {
            r->heap_key = d;
            sift_down(st, 0);
        }
    }
}

void tcp_timer_remove(struct tcb *t)
{
    if (t->heap_idx == UINT32_MAX)
        return;
    heap_delete(t->st, t);
    fix_root(t->st);
}

/* After one of t's deadlines changed: earlier needs the heap now, later
 * only if t is the root. */
static void heap_update(struct tcb *t)
{
    struct stack *st = t->st;
    usec_t d = tcb_deadline(t);
    if (t->heap_idx == UINT32_MAX) {
        if (d == USEC_NEVER)
            return;
        /* The heap has one slot per possible TCB (cfg.max_conns). */
        t->heap_idx = st->heap_len++;
        st->heap[t->heap_idx] = t;
        t->heap_key = d;
        sift_up(st, t->heap_idx);
    } else if (d < t->heap_key) {
        t->heap_key = d;
        sift_up(st, t->heap_idx);
    } else if (t->heap_idx == 0) {
        fix_root(st);
    }
}

void tcp_timer_set(struct tcb *t, enum tcp_timer which, usec_t at)
{
    if (t->timer[which] == at)
        return;
    t->timer[which] = at;
    heap_update(t);
}

/* The retransmission timer, which also keeps the user timeout (RFC 9293
 * §3.8.4): it never runs past the moment unacknowledged data has waited
 * that long, so the connection is reset on time, not an RTO later. */
void tcp_arm_rexmit(struct tcb *t)
{
    usec_t at = t->st->now + t->rto;
    usec_t limit = t->unacked_since + t->st->cfg.user_timeout;
    if (t->st->cfg.user_timeout && t->snd_una != t->snd_max && limit < at)
        at = limit > t->st->now ? limit : t->st->now;
    tcp_timer_set(t, TCP_T_REXMIT, at);
}

/* RFC 9293 §3.10.7.4: TIME-WAIT lasts 2*MSL from the last FIN seen, so
 * that old duplicates die and a lost final ACK can be repeated.  Nothing
 * else is left to time. */
void tcp_start_timewait(struct tcb *t)
{
    for (int i = 0; i < TCP_TIMER_COUNT; i++)
        t->timer[i] = USEC_NEVER;
    t->timer[TCP_T_TIMEWAIT] = t->st->now + 2 * t->st->cfg.msl;
    /* 2*MSL is the same for every connection, so the TIME-WAIT FIFO
     * (tcb_table.c) is in expiry order and its oldest is the next to
     * expire: these TCBs need no place in the heap, which keeps only the
     * connections still at work (after a burst of short connections most
     * TCBs are in TIME-WAIT; in the heap they cost 2.4 % of the CPU in
     * sift_down alone). */
    tcp_timer_remove(t);
    tcb_timewait_restart(t);  /* expires last now: the FIFO's end */
}

/* FIN-WAIT-2 can last forever by the RFC: the peer acked our FIN and may
 * never send its own.  Our app has closed and nobody will read, so after
 * 2*MSL without the FIN the connection is dropped (as BSD and Linux do). */
void tcp_start_fin_wait_2_timer(struct tcb *t)
{
    tcp_timer_set(t, TCP_T_TIMEWAIT, t->st->now + 2 * t->st->cfg.msl);
}

/* RFC 9293 §3.8.3 (R2) and the user timeout of §3.8.4: after enough
 * retries, or too long without progress, the connection is reset. */
static bool give_up(struct tcb *t)
{
    const struct stack_config *cfg = &t->st->cfg;
    if (t->retries >= cfg->max_retries)
        return true;
    return cfg->user_timeout && t->st->now - t->unacked_since >= cfg->user_timeout;
}

static void drop_connection(struct tcb *t, const char *why)
{
    stack_count(t->st, EV_TCP_TIMEOUTS);
    tcp_send_rst(t);
    tcp_set_state(t, TCP_CLOSED, NULL, why, "RFC 9293 §3.8.3");
    tcp_app_closed(t, TCP_CLOSED_TIMEOUT);
    tcb_release(t);
}

static void rexmit_expired(struct tcb *t)
{
    tcp_timer_stop(t, TCP_T_REXMIT);
    if (t->state == TCP_SYN_RECEIVED) {
        if (t->retries >= t->st->cfg.synack_retries) {
            /* The peer never completed the handshake: forget it silently,
             * as a listener that never saw the SYN would. */
            tcp_set_state(t, TCP_CLOSED, NULL, "SYN-ACK retransmissions exhausted",
                          "RFC 9293 §3.8.3");
            tcb_release(t);
            return;
        }
        t->retries++;
        t->rtt_timing = false;
        tcp_rto_backoff(t);
        TCP_TRACE_EVENT(t, "retransmit SYN-ACK", "RFC 9293 §3.8.1, RFC 6298 §5.5");
        stack_count(t->st, EV_TCP_RETRANSMITS);
        tcp_send_synack(t);
        tcp_arm_rexmit(t);
        return;
    }
    if (give_up(t)) {
        drop_connection(t, "retransmissions exhausted, sent RST");
        return;
    }
    /* RFC 6298 §5.4-5.6 and RFC 5681 §3.1: back off, shrink cwnd to one
     * segment and resend from SND.UNA.  After a second timeout in a row
     * the SACK scoreboard is not trusted any more: the receiver may have
     * reneged (RFC 6675 §5.1). */
    t->retries++;
    stack_count(t->st, EV_TCP_RTO_EXPIRIES);
    cc_on_rto(t);
    tcp_rto_backoff(t);
    if (t->retries > 1)
        seq_ranges_clear(&t->sacked);
    t->snd_nxt = t->snd_una;
    t->rtt_timing = false;
    tcp_output(t);
    /* A window shut meanwhile: the persist timer, armed by tcp_output(),
     * probes from here on, and only it counts toward giving up. */
    if (!tcp_timer_armed(t, TCP_T_PERSIST))
        tcp_arm_rexmit(t);
}

static void persist_expired(struct tcb *t)
{
    tcp_timer_stop(t, TCP_T_PERSIST);
    if (give_up(t)) {
        drop_connection(t, "zero-window probes unanswered, sent RST");
        return;
    }
    if (tcp_send_window_probe(t)) {
        /* Data went under an open window: its ACK, or the retransmission
         * timer, follows, and the probes' backoff does not apply. */
        tcp_arm_rexmit(t);
        return;
    }
    t->retries++;
    tcp_rto_backoff(t);  /* probes back off like retransmissions */
    tcp_timer_set(t, TCP_T_PERSIST, t->st->now + t->rto);
}

/* Keep-alive (RFC 9293 §3.8.4, off unless configured): only an idle,
 * synchronized connection with nothing unacknowledged is probed. */
static void keepalive_expired(struct tcb *t)
{
    const struct stack_config *cfg = &t->st->cfg;
    usec_t idle = t->st->now - t->idle_since;
    tcp_timer_stop(t, TCP_T_KEEPALIVE);
    if (idle < cfg->keepalive) {
        tcp_timer_set(t, TCP_T_KEEPALIVE, t->idle_since + cfg->keepalive);
        return;
    }
    if (t->keepalive_probes >= TCP_KEEPALIVE_PROBES) {
        drop_connection(t, "keep-alive probes unanswered, sent RST");
        return;
    }
    if (t->snd_una == t->snd_max) {
        t->keepalive_probes++;
        tcp_send_keepalive(t);
    }
    tcp_timer_set(t, TCP_T_KEEPALIVE, t->st->now + TCP_KEEPALIVE_INTERVAL);
}

static void timewait_expired(struct tcb *t)
{
    if (t->state == TCP_FIN_WAIT_2) {
        tcp_set_state(t, TCP_CLOSED, NULL, "no FIN from the peer within 2MSL",
                      "RFC 9293 §3.10.4");
        tcp_app_closed(t, TCP_CLOSED_TIMEOUT);
    } else {
        tcp_set_state(t, TCP_CLOSED, NULL, "2MSL timer expired", "RFC 9293 §3.10.8");
    }
    tcb_release(t);
}

/* Runs the one expired timer of t; the caller loops while any is due. */
static void run_one(struct tcb *t, usec_t now)
{
    if (t->timer[TCP_T_TIMEWAIT] <= now) {
        timewait_expired(t);
    } else if (t->timer[TCP_T_REXMIT] <= now) {
        rexmit_expired(t);
    } else if (t->timer[TCP_T_PERSIST] <= now) {
        persist_expired(t);
    } else if (t->timer[TCP_T_DELACK] <= now) {
        tcp_timer_stop(t, TCP_T_DELACK);
        tcp_send_ack(t);
    } else if (t->timer[TCP_T_KEEPALIVE] <= now) {
        keepalive_expired(t);
    } else {
        tcp_timer_stop(t, TCP_T_APP);
        tcp_app_timer_fired(t);
    }
}

/* The deadline of the heap's root and of the oldest TIME-WAIT. */
static usec_t heap_next(const struct stack *st)
{
    return st->heap_len > 0 ? tcb_deadline(st->heap[0]) : USEC_NEVER;
}

static usec_t timewait_next(const struct stack *st)
{
    return st->tw_oldest ? st->tw_oldest->timer[TCP_T_TIMEWAIT] : USEC_NEVER;
}

usec_t tcp_timers_next(const struct stack *st)
{
    usec_t h = heap_next(st), w = timewait_next(st);
    return h < w ? h : w;
}

/* Earliest first, from the heap and the TIME-WAIT FIFO. */
void tcp_timers_run(struct stack *st, usec_t now)
{
    for (;;) {
        usec_t h = heap_next(st), w = timewait_next(st);
        if (w <= now && w <= h)
            timewait_expired(st->tw_oldest);
        else if (h <= now)
            run_one(st->heap[0], now);
        else
            return;
    }
}
