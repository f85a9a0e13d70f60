/*
 * tcp_state.c -- the one door through which every TCP state changes, and
 * the trace that records it.
 *
 * A trace line reads like a row of a textbook table:
 *
 *   0.104233 10.0.0.1:50093 > 10.0.0.2:80 LISTEN -> SYN-RECEIVED
 *     on [SYN] seq=1915658151 (rel 0) win=64240 len=0
 *     (RFC 9293 §3.10.7.2) [stack/tcp_input.c:214]
 *
 * (one line in the log).  Relative numbers are what Wireshark shows: the
 * peer's seq counted from its ISN, the ack counted from ours.
 */
#include <stdio.h>

#include "stack/tcp.h"

static const char *const state_names[TCP__STATE_COUNT] = {
    [TCP_CLOSED] = "CLOSED",           [TCP_LISTEN] = "LISTEN",
    [TCP_SYN_SENT] = "SYN-SENT",       [TCP_SYN_RECEIVED] = "SYN-RECEIVED",
    [TCP_ESTABLISHED] = "ESTABLISHED", [TCP_FIN_WAIT_1] = "FIN-WAIT-1",
    [TCP_FIN_WAIT_2] = "FIN-WAIT-2",   [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
    [TCP_CLOSING] = "CLOSING",         [TCP_LAST_ACK] = "LAST-ACK",
    [TCP_TIME_WAIT] = "TIME-WAIT",
};

const char *tcp_state_name(enum tcp_state s)
{
    return (unsigned)s < TCP__STATE_COUNT ? state_names[s] : "?";
}

static void emit_trace(struct stack *st, const char *line)
{
    if (st->io.trace)
        st->io.trace(st->io.ctx, line);
}

/* The connection as its trace line names it: peer > us. */
static struct trace_record conn_record(const struct tcb *t, enum trace_kind kind,
                                       const char *rfc, const char *file, int line_no)
{
    return (struct trace_record){
        .kind = kind, .now = t->st->now, .src = t->raddr, .dst = t->laddr,
        .sport = t->rport, .dport = t->lport, .state = tcp_state_name(t->state),
        .rfc = rfc, .file = file, .line = line_no,
    };
}

/* The segment's fields of a record, numbered as fmt_segment() numbers them. */
static void record_segment(struct trace_record *r, const struct tcp_segment *s,
                           uint32_t seq_base, uint32_t ack_base, uint8_t wscale)
{
    r->has_segment = true;
    r->flags = s->flags;
    r->seq = s->seq;
    r->ack = s->ack;
    r->rel_seq = s->seq - seq_base;
    r->rel_ack = (s->flags & TCP_ACK) ? s->ack - ack_base : 0;
    r->len = s->data_len;
    r->win = s->wnd;
    r->wscale = (s->flags & TCP_SYN) ? 0 : wscale;
}

/* "seconds.micros A:p > B:p" for a segment's direction. */
static int fmt_prefix(char *buf, size_t cap, usec_t now, uint32_t src,
                      uint16_t sport, uint32_t dst, uint16_t dport)
{
    return snprintf(buf, cap, "%llu.%06llu %u.%u.%u.%u:%u > %u.%u.%u.%u:%u",
                    (unsigned long long)(now / USEC_PER_SEC),
                    (unsigned long long)(now % USEC_PER_SEC),
                    src >> 24, (src >> 16) & 255, (src >> 8) & 255, src & 255, sport,
                    dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255, dst & 255, dport);
}

/* Flags, raw and relative seq/ack, window and length of a segment.  seq_base
 * and ack_base are the ISNs the relative numbers count from; wscale is the
 * sender's window shift, shown as Wireshark does ("win=63 (x1024 = 64512)"),
 * never applied to a SYN (RFC 7323 §2.2). */
static int fmt_segment(char *buf, size_t cap, const struct tcp_segment *s,
                       uint32_t seq_base, uint32_t ack_base, uint8_t wscale)
{
    char fl[48];
    int n = snprintf(buf, cap, "%s seq=%u (rel %u)", tcp_flags_str(s->flags, fl),
                     s->seq, s->seq - seq_base);
    if (s->flags & TCP_ACK)
        n += snprintf(buf + n, cap - (size_t)n, " ack=%u (rel %u)", s->ack, s->ack - ack_base);
    n += snprintf(buf + n, cap - (size_t)n, " win=%u", s->wnd);
    if (wscale && !(s->flags & TCP_SYN))
        n += snprintf(buf + n, cap - (size_t)n, " (x%u = %u)", 1u << wscale,
                      (uint32_t)s->wnd << wscale);
    n += snprintf(buf + n, cap - (size_t)n, " len=%u", s->data_len);
    return n;
}

/* The wire segments of a super-segment of len bytes: all gso_size long but
 * a short last one, a tail Nagle let go with them (tcp_output.c). */
static int fmt_gso(char *buf, size_t cap, uint32_t len, uint16_t gso_size)
{
    uint32_t full = len / gso_size, tail = len % gso_size;
    if (!tail)
        return snprintf(buf, cap, " (GSO: %u segments of %u on the wire)", full, gso_size);
    return snprintf(buf, cap, " (GSO: %u segments on the wire, %u of %u and one of %u)",
                    full + 1, full, gso_size, tail);
}

/* gso_size: nonzero for a super-segment the link will cut into segments of
 * that much payload; the line says how many, so that it can be matched with
 * the capture, which shows each of them. */
void tcp_trace_segment(struct stack *st, const struct tcb *t, const char *dir,
                       const struct tcp_segment *seg, uint16_t gso_size)
{
    if (st->cfg.trace_level < TRACE_SEGMENTS && !st->io.record)
        return;
    char line[384];
    bool in = dir[0] == 'I';
    /* Incoming: seq counts from the peer's ISN; outgoing: from ours. */
    uint32_t seq_base = t ? (in ? t->irs : t->iss) : seg->seq;
    uint32_t ack_base = t ? (in ? t->iss : t->irs) : seg->ack - 1;
    uint8_t wscale = t ? (in ? t->snd_wscale : t->rcv_wscale) : 0;
    if (st->io.record) {
        struct trace_record r = {
            .kind = in ? TRACE_SEG_IN : TRACE_SEG_OUT, .now = st->now, .src = seg->src,
            .dst = seg->dst, .sport = seg->sport, .dport = seg->dport,
            .state = t ? tcp_state_name(t->state) : NULL,
        };
        record_segment(&r, seg, seq_base, ack_base, wscale);
        r.gso_size = gso_size;
        st->io.record(st->io.ctx, &r);
    }
    if (st->cfg.trace_level < TRACE_SEGMENTS)
        return;
    int n = fmt_prefix(line, sizeof line, st->now, seg->src, seg->sport, seg->dst, seg->dport);
    n += snprintf(line + n, sizeof line - (size_t)n, " %s ", dir);
    n += fmt_segment(line + n, sizeof line - (size_t)n, seg, seq_base, ack_base, wscale);
    if (gso_size && n > 0 && (size_t)n < sizeof line)
        fmt_gso(line + n, sizeof line - (size_t)n, seg->data_len, gso_size);
    emit_trace(st, line);
}

void tcp_trace_event(struct tcb *t, const char *what, const char *rfc,
                     const char *file, int line_no)
{
    struct stack *st = t->st;
    if (st->io.record) {
        struct trace_record r = conn_record(t, TRACE_EVENT, rfc, file, line_no);
        r.what = what;
        st->io.record(st->io.ctx, &r);
    }
    if (st->cfg.trace_level < TRACE_STATES)
        return;
    char line[384];
    int n = fmt_prefix(line, sizeof line, st->now, t->raddr, t->rport, t->laddr, t->lport);
    snprintf(line + n, sizeof line - (size_t)n, " %s: %s (%s) [%s:%d]",
             tcp_state_name(t->state), what, rfc, file, line_no);
    emit_trace(st, line);
}

static void trace_transition(struct tcb *t, enum tcp_state old, const struct tcp_segment *seg,
                             const char *cause, const char *rfc, const char *file, int line_no)
{
    struct stack *st = t->st;
    char line[512];
    int n = fmt_prefix(line, sizeof line, st->now, t->raddr, t->rport, t->laddr, t->lport);
    n += snprintf(line + n, sizeof line - (size_t)n, " %s -> %s on ", tcp_state_name(old),
                  tcp_state_name(t->state));
    if (seg)
        n += fmt_segment(line + n, sizeof line - (size_t)n, seg, t->irs, t->iss, t->snd_wscale);
    if (cause && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%s", seg ? ", " : "", cause);
    if (n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, " (%s) [%s:%d]", rfc, file, line_no);
    emit_trace(st, line);
}

/* Bookkeeping that belongs to being in a state: the listener's count of
 * half-open connections (the backlog) and the TIME-WAIT FIFO. */
static void state_census(struct tcb *t, enum tcp_state s, int delta)
{
    if (s == TCP_SYN_RECEIVED && t->listener)
        t->listener->half_open += (uint32_t)delta;
    if (s == TCP_TIME_WAIT && delta > 0)
        tcb_timewait_enter(t);
    else if (s == TCP_TIME_WAIT)
        tcb_timewait_leave(t);
}

void tcp_set_state_at(struct tcb *t, enum tcp_state new_state,
                      const struct tcp_segment *seg, const char *cause,
                      const char *rfc, const char *file, int line_no)
{
    enum tcp_state old = t->state;
    if (old == new_state)
        return;
    state_census(t, old, -1);
    state_census(t, new_state, +1);
    t->state = new_state;
    if (new_state == TCP_ESTABLISHED)
        stack_count(t->st, EV_TCP_ESTABLISHED);
    if (t->st->io.record) {
        struct trace_record r = conn_record(t, TRACE_STATE, rfc, file, line_no);
        r.state = tcp_state_name(old);
        r.new_state = tcp_state_name(new_state);
        if (seg)
            record_segment(&r, seg, t->irs, t->iss, t->snd_wscale);
        r.what = cause;
        t->st->io.record(t->st->io.ctx, &r);
    }
    if (t->st->cfg.trace_level >= TRACE_STATES)
        trace_transition(t, old, seg, cause, rfc, file, line_no);
}
