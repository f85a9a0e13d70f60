/*
 * tcp_app.c -- the application interface (tcp_app.h): the calls an app makes
 * down into TCP (RFC 9293 §3.9.1 OPEN/SEND/RECEIVE/CLOSE/ABORT) and the
 * callbacks TCP makes up into the app.
 */
#include "stack/seq.h"
#include "stack/tcp.h"

int tcp_listen(struct stack *st, uint16_t port, const struct tcp_app_ops *ops, void *app)
{
    if (port == 0 || listener_find(st, port))
        return -1;
    for (int i = 0; i < TCP_MAX_LISTENERS; i++) {
        struct listener *l = &st->listeners[i];
        if (!l->used) {
            *l = (struct listener){ .used = true, .port = port, .ops = ops, .app = app };
            return 0;
        }
    }
    return -1;
}

size_t tcp_recv_ready(const struct tcp_conn *c)
{
    return ((const struct tcb *)(const void *)c)->rcvq.len;
}

size_t tcp_recv(struct tcp_conn *c, void *buf, size_t cap)
{
    struct tcb *t = conn_tcb(c);
    uint32_t n = ring_peek(&t->rcvq, 0, buf, cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap);
    ring_consume(&t->rcvq, n);
    tcb_rings_trim(t);
    /* Receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2): the right edge
     * moves in steps of min(buffer/2, MSS).  A window update goes on its
     * own only when it matters to the sender: the window it knows is below
     * one step, or reading has at least doubled it (as Linux does).
     * Otherwise the next, possibly delayed, ACK carries the new edge (RFC
     * 1122 §4.2.3.3). */
    uint32_t window = tcp_rcv_window(t);
    uint32_t edge = t->rcv_nxt + window;
    uint32_t step = t->snd_mss < t->rcvq.cap / 2 ? t->snd_mss : t->rcvq.cap / 2;
    uint32_t known = seq_gt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
    bool matters = known < step || window >= 2 * known;
    if (n && matters && seq_geq(edge, t->rcv_adv + step) &&
        (t->state == TCP_ESTABLISHED || t->state == TCP_FIN_WAIT_1 ||
         t->state == TCP_FIN_WAIT_2)) {
        t->ack_now = true;
        tcp_output(t);
    }
    return n;
}

/* Whether tcp_send() may queue anything: only before our FIN, in the
 * states where the app can still write. */
static bool can_queue(const struct tcb *t)
{
    return !t->fin_queued && (t->state == TCP_ESTABLISHED || t->state == TCP_CLOSE_WAIT);
}

size_t tcp_send_space(const struct tcp_conn *c)
{
    const struct tcb *t = (const struct tcb *)(const void *)c;
    return can_queue(t) ? ring_space(&t->sndq) : 0;
}

size_t tcp_send_more(struct tcp_conn *c, const void *buf, size_t len)
{
    struct tcb *t = conn_tcb(c);
    if (!can_queue(t))
        return 0;
    return tcb_ring_write(t, &t->sndq, buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
}

int tcp_send_area(struct tcp_conn *c, size_t max, struct tcp_send_area out[2])
{
    struct tcb *t = conn_tcb(c);
    struct ring_area a[2];
    if (!can_queue(t))
        return 0;
    int n = tcb_ring_areas(t, &t->sndq, max > UINT32_MAX ? UINT32_MAX : (uint32_t)max, a);
    for (int i = 0; i < n; i++)
        out[i] = (struct tcp_send_area){ a[i].data, a[i].len };
    return n;
}

void tcp_send_commit(struct tcp_conn *c, size_t n)
{
    struct tcb *t = conn_tcb(c);
    if (can_queue(t))
        ring_commit(&t->sndq, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
}

void tcp_push(struct tcp_conn *c)
{
    tcp_output(conn_tcb(c));
}

size_t tcp_send(struct tcp_conn *c, const void *buf, size_t len)
{
    size_t n = tcp_send_more(c, buf, len);
    tcp_push(c);
    return n;
}

void tcp_set_nodelay(struct tcp_conn *c, bool nodelay)
{
    struct tcb *t = conn_tcb(c);
    t->nodelay = nodelay;
    if (nodelay)
        tcp_output(t);  /* whatever Nagle held back may go now */
}

/* RFC 9293 §3.10.4 CLOSE: the FIN follows whatever is queued. */
void tcp_close_tcb(struct tcb *t)
{
    if (t->fin_queued)
        return;
    switch (t->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        t->fin_queued = true;
        tcp_set_state(t, TCP_FIN_WAIT_1, NULL, "close() by the application",
                      "RFC 9293 §3.10.4");
        break;
    case TCP_CLOSE_WAIT:
        t->fin_queued = true;
        tcp_set_state(t, TCP_LAST_ACK, NULL, "close() by the application",
                      "RFC 9293 §3.10.4");
        break;
    default:
        return;  /* already closing, or nothing to close */
    }
    tcp_output(t);
}

void tcp_close(struct tcp_conn *c)
{
    tcp_close_tcb(conn_tcb(c));
}

/* RFC 9293 §3.10.5 ABORT: RST in synchronized states, then gone. */
void tcp_abort_tcb(struct tcb *t)
{
    if (t->state == TCP_CLOSED || t->state == TCP_LISTEN)
        return;
    if (t->state != TCP_TIME_WAIT)
        tcp_send_rst(t);
    tcp_set_state(t, TCP_CLOSED, NULL, "abort", "RFC 9293 §3.10.5");
    tcp_app_closed(t, TCP_CLOSED_ABORTED);
    tcb_release(t);
}

void tcp_abort(struct tcp_conn *c)
{
    tcp_abort_tcb(conn_tcb(c));
}

uint64_t tcp_now(const struct tcp_conn *c)
{
    return ((const struct tcb *)(const void *)c)->st->now;
}

void tcp_app_timer(struct tcp_conn *c, uint64_t deadline)
{
    tcp_timer_set(conn_tcb(c), TCP_T_APP, deadline);
}

void tcp_conn_peer(const struct tcp_conn *c, uint32_t *addr, uint16_t *port)
{
    const struct tcb *t = (const struct tcb *)(const void *)c;
    *addr = t->raddr;
    *port = t->rport;
}

/* --- up-calls ----------------------------------------------------------- */

void tcp_app_accept(struct tcb *t)
{
    const struct tcp_app_ops *ops = t->ops;
    void *state = ops->on_accept ? ops->on_accept(t->listener->app, tcb_conn(t)) : NULL;
    if (!state) {
        tcp_abort_tcb(t);  /* the app refused it */
        return;
    }
    t->app_state = state;
    t->app_attached = true;
}

void tcp_app_data(struct tcb *t)
{
    if (t->app_attached && t->ops->on_data)
        t->ops->on_data(t->app_state, tcb_conn(t));
}

void tcp_app_eof(struct tcb *t)
{
    if (t->app_attached && t->ops->on_eof)
        t->ops->on_eof(t->app_state, tcb_conn(t));
}

void tcp_app_sendable(struct tcb *t)
{
    if (t->app_attached && t->ops->on_sendable && !t->fin_queued)
        t->ops->on_sendable(t->app_state, tcb_conn(t));
}

void tcp_app_timer_fired(struct tcb *t)
{
    if (t->app_attached && t->ops->on_timer)
        t->ops->on_timer(t->app_state, tcb_conn(t));
}

/* The app hears of the end once; after this it must not touch the conn. */
void tcp_app_closed(struct tcb *t, enum tcp_close_reason why)
{
    if (!t->app_attached)
        return;
    t->app_attached = false;
    tcp_timer_stop(t, TCP_T_APP);  /* nobody left to call */
    if (t->ops->on_closed)
        t->ops->on_closed(t->app_state, tcb_conn(t), why);
}
