/*
 * tcp_timer.c -- TCP's clocks: retransmission (SYN-ACK, data, FIN) and
 * TIME-WAIT, plus the one timer each application may arm on a connection.  Each TCB keeps absolute deadlines; a binary min-heap orders
 * TCBs by their earliest one, so a tick costs O(log n) per expiry and never
 * a scan of every connection.
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
        if (tcb_deadline(st->heap[parent]) <= tcb_deadline(st->heap[i]))
            break;
        heap_swap(st, i, parent);
        i = parent;
    }
}

static void sift_down(struct stack *st, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < st->heap_len && tcb_deadline(st->heap[l]) < tcb_deadline(st->heap[m]))
            m = l;
        if (r < st->heap_len && tcb_deadline(st->heap[r]) < tcb_deadline(st->heap[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(st, i, m);
        i = m;
    }
}

void tcp_timer_remove(struct tcb *t)
{
    struct stack *st = t->st;
    uint32_t i = t->heap_idx;
    if (i == UINT32_MAX)
        return;
    t->heap_idx = UINT32_MAX;
    st->heap_len--;
    if (i == st->heap_len)
        return;
    st->heap[i] = st->heap[st->heap_len];
    st->heap[i]->heap_idx = i;
    sift_up(st, i);
    sift_down(st, st->heap[i]->heap_idx);
}

void tcp_timer_update(struct tcb *t)
{
    struct stack *st = t->st;
    if (tcb_deadline(t) == USEC_NEVER) {
        tcp_timer_remove(t);
        return;
    }
    if (t->heap_idx == UINT32_MAX) {
        /* The heap has one slot per possible TCB (cfg.max_conns). */
        t->heap_idx = st->heap_len++;
        st->heap[t->heap_idx] = t;
    }
    sift_up(st, t->heap_idx);
    sift_down(st, t->heap_idx);
}

void tcp_arm_rexmit(struct tcb *t)
{
    t->rexmit_at = t->st->now + t->rto;
    tcp_timer_update(t);
}

/* RFC 9293 §3.10.7.4: TIME-WAIT lasts 2*MSL from the last FIN seen, so
 * that old duplicates die and a lost final ACK can be repeated. */
void tcp_start_timewait(struct tcb *t)
{
    t->rexmit_at = USEC_NEVER;
    t->timewait_at = t->st->now + 2 * t->st->cfg.msl;
    tcp_timer_update(t);
}

/* Retransmission timer expired: resend, or give up after the bound. */
static void rexmit_expired(struct tcb *t)
{
    struct stack *st = t->st;
    t->rexmit_at = USEC_NEVER;
    tcp_timer_update(t);
    if (t->state == TCP_SYN_RECEIVED && t->retries >= st->cfg.synack_retries) {
        /* The peer never completed the handshake: forget it silently, as a
         * listener that never saw the SYN would (RFC 9293 §3.10.7.2). */
        tcp_set_state(t, TCP_CLOSED, NULL, "SYN-ACK retransmissions exhausted",
                      "RFC 9293 §3.8.3");
        tcb_release(t);
        return;
    }
    if (t->state != TCP_SYN_RECEIVED && t->retries >= st->cfg.max_retries) {
        /* RFC 9293 §3.8.3 (R2): after enough retries, close the connection. */
        stack_count(st, EV_TCP_TIMEOUTS);
        tcp_send_rst(t);
        tcp_set_state(t, TCP_CLOSED, NULL, "retransmissions exhausted, sent RST",
                      "RFC 9293 §3.8.3");
        tcp_app_closed(t, TCP_CLOSED_TIMEOUT);
        tcb_release(t);
        return;
    }
    tcp_retransmit(t);
}

static void timewait_expired(struct tcb *t)
{
    tcp_set_state(t, TCP_CLOSED, NULL, "2MSL timer expired", "RFC 9293 §3.10.8");
    tcb_release(t);
}

void tcp_timers_run(struct stack *st, usec_t now)
{
    while (st->heap_len > 0 && tcb_deadline(st->heap[0]) <= now) {
        struct tcb *t = st->heap[0];
        if (t->timewait_at <= now)
            timewait_expired(t);
        else if (t->rexmit_at <= now)
            rexmit_expired(t);
        else
            tcp_app_timer_fired(t);
    }
}
