/*
 * tcp_output.c -- every TCP segment synack sends is built here: SYN-ACKs,
 * data, FINs, ACKs, challenge ACKs and RSTs.  A segment leaves as a header
 * in st->hdr_buf plus payload slices that point into the send ring, so file
 * bytes are never copied on the way out.
 */
#include <string.h>

#include "stack/ipv4.h"
#include "stack/seq.h"
#include "stack/tcp.h"

/* Our timestamp clock: milliseconds (RFC 7323 §5.4 asks for 1 ms to 1 s per
 * tick) plus a per-connection offset. */
static uint32_t ts_now(const struct tcb *t)
{
    return (uint32_t)(t->st->now / 1000) + t->ts_offset;
}

uint32_t tcp_rcv_window(const struct tcb *t)
{
    return ring_space(&t->rcvq);
}

/* The window field: free buffer space, scaled down (RFC 7323 §2.3).  Space
 * only shrinks by bytes that also advance RCV.NXT, so the right edge we
 * advertised never moves left (RFC 9293 §3.8.6.2.2) except by the rounding
 * of the scale, which RFC 7323 §2.4 accepts. */
static uint16_t window_field(const struct tcb *t, bool syn)
{
    uint32_t space = tcp_rcv_window(t);
    uint32_t field = syn ? space : space >> t->rcv_wscale;
    return (uint16_t)(field > 0xffff ? 0xffff : field);
}

/* Builds and sends one segment of connection t.  flags decide the options:
 * a SYN carries what was negotiated, every segment carries a timestamp when
 * timestamps are on (RFC 7323 §3.2). */
static void tcb_emit(struct tcb *t, uint8_t flags, uint32_t seq,
                     const struct slice *payload, int npayload, uint32_t paylen)
{
    struct stack *st = t->st;
    bool syn = flags & TCP_SYN;
    struct tcp_opt_out o = {
        .syn = syn, .mss = (uint16_t)(st->cfg.mtu - IPV4_HDR_LEN - TCP_HDR_LEN),
        .wscale_ok = t->ws_ok, .sack_ok = t->sack_ok, .ts_ok = t->ts_ok,
        .wscale = t->rcv_wscale, .tsval = ts_now(t), .tsecr = t->ts_recent,
    };
    uint8_t opts[TCP_MAX_OPT_LEN];
    uint32_t optlen = tcp_write_options(opts, &o);
    if (flags & TCP_RST)
        optlen = 0;  /* an RST needs no options, as Linux sends it */
    struct tcp_segment h = {
        .src = t->laddr, .dst = t->raddr, .sport = t->lport, .dport = t->rport,
        .seq = seq, .ack = (flags & TCP_ACK) ? t->rcv_nxt : 0, .flags = flags,
        .wnd = (flags & TCP_RST) ? 0 : window_field(t, syn), .data_len = paylen,
    };
    uint8_t *tcp = st->hdr_buf + IPV4_HDR_LEN;
    uint32_t hlen = tcp_write_header(tcp, &h, opts, optlen, payload, npayload);
    ipv4_write_header(st->hdr_buf, t->laddr, t->raddr, IPPROTO_TCP_NUM,
                      (uint16_t)(hlen + paylen), st->ip_id++, true);

    struct slice parts[STACK_MAX_SLICES] = { { st->hdr_buf, IPV4_HDR_LEN + hlen } };
    for (int i = 0; i < npayload; i++)
        parts[1 + i] = payload[i];
    if (flags & TCP_ACK) {
        t->last_ack_sent = t->rcv_nxt;
        t->ack_now = false;
    }
    if (!(flags & TCP_RST)) {
        uint32_t edge = t->rcv_nxt + ((uint32_t)h.wnd << (syn ? 0 : t->rcv_wscale));
        if (seq_gt(edge, t->rcv_adv) || t->rcv_adv == 0)
            t->rcv_adv = edge;
    }
    tcp_trace_segment(st, t, "OUT", &h);
    stack_count(st, EV_TCP_SEG_OUT);
    stack_emit(st, parts, 1 + npayload);
}

void tcp_send_synack(struct tcb *t)
{
    tcb_emit(t, TCP_SYN | TCP_ACK, t->iss, NULL, 0, 0);
    t->snd_nxt = t->iss + 1;
    t->snd_max = seq_max(t->snd_max, t->snd_nxt);
}

void tcp_send_ack(struct tcb *t)
{
    tcb_emit(t, TCP_ACK, t->snd_nxt, NULL, 0, 0);
}

/* RFC 5961 §3.2, §4.2: answer a suspicious RST or SYN with an ACK that
 * tells the real peer where we are; a blind attacker learns nothing.
 * Rate-limited per §7. */
void tcp_send_challenge_ack(struct tcb *t)
{
    if (!rate_allow(&t->st->challenge_rl, t->st->now)) {
        stack_drop(t->st, DROP_TCP_CHALLENGE_LIMIT);
        return;
    }
    TCP_TRACE_EVENT(t, "challenge ACK", "RFC 5961 §3.2");
    stack_count(t->st, EV_TCP_CHALLENGE_ACKS);
    tcp_send_ack(t);
}

void tcp_send_rst(struct tcb *t)
{
    tcb_emit(t, TCP_RST | TCP_ACK, t->snd_nxt, NULL, 0, 0);
    stack_count(t->st, EV_TCP_RST_SENT);
}

/* RFC 9293 §3.10.7.1: a segment that reaches no connection.  If it has an
 * ACK, the RST takes its sequence number from that ACK; otherwise the RST
 * acknowledges everything the segment occupied. */
void tcp_reply_rst(struct stack *st, const struct tcp_segment *seg)
{
    if (seg->flags & TCP_RST)
        return;
    struct tcp_segment h = {
        .src = seg->dst, .dst = seg->src, .sport = seg->dport, .dport = seg->sport,
    };
    if (seg->flags & TCP_ACK) {
        h.seq = seg->ack;
        h.flags = TCP_RST;
    } else {
        h.seq = 0;
        h.ack = seg->seq + tcp_seg_len(seg);
        h.flags = TCP_RST | TCP_ACK;
    }
    uint8_t *tcp = st->hdr_buf + IPV4_HDR_LEN;
    uint32_t hlen = tcp_write_header(tcp, &h, NULL, 0, NULL, 0);
    ipv4_write_header(st->hdr_buf, h.src, h.dst, IPPROTO_TCP_NUM, (uint16_t)hlen,
                      st->ip_id++, true);
    struct slice part = { st->hdr_buf, IPV4_HDR_LEN + hlen };
    tcp_trace_segment(st, NULL, "OUT", &h);
    stack_count(st, EV_TCP_SEG_OUT);
    stack_count(st, EV_TCP_RST_SENT);
    stack_emit(st, &part, 1);
}

/* Our FIN is in flight: sent, and SND.NXT has not been pulled back before
 * it by a retransmission timeout. */
static bool fin_outstanding(const struct tcb *t)
{
    return t->fin_sent && seq_gt(t->snd_nxt, t->fin_seq);
}

/* States in which data (or our FIN) may still need to go out. */
static bool can_send_data(const struct tcb *t)
{
    switch (t->state) {
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
    case TCP_FIN_WAIT_1:
    case TCP_LAST_ACK:
    case TCP_CLOSING:
        return !fin_outstanding(t);
    default:
        return false;
    }
}

/* Sends one segment of new data (and FIN if it is the last), within the
 * peer's window and our MSS.  Returns false when nothing more can go. */
static bool send_one_data_segment(struct tcb *t)
{
    uint32_t off = t->snd_nxt - t->snd_una;   /* the ring starts at SND.UNA */
    uint32_t unsent = t->sndq.len > off ? t->sndq.len - off : 0;
    uint32_t wnd_end = t->snd_una + t->snd_wnd;
    uint32_t usable = seq_gt(wnd_end, t->snd_nxt) ? wnd_end - t->snd_nxt : 0;
    uint32_t n = unsent < t->snd_mss ? unsent : t->snd_mss;
    if (n > usable)
        n = usable;
    bool last = n == unsent;
    bool fin = t->fin_queued && last;
    if (n == 0 && !fin)
        return false;
    struct slice data[2];
    int nslices = ring_slices(&t->sndq, off, n, data);
    /* PSH when this segment empties what the app gave us (RFC 9293 §3.9.1.2). */
    uint8_t flags = TCP_ACK | (n && last ? TCP_PSH : 0) | (fin ? TCP_FIN : 0);
    tcb_emit(t, flags, t->snd_nxt, data, nslices, n);
    t->snd_nxt += n;
    if (fin) {
        t->fin_sent = true;
        t->fin_seq = t->snd_nxt;
        t->snd_nxt++;
    }
    t->snd_max = seq_max(t->snd_max, t->snd_nxt);
    return !fin && n > 0;
}

void tcp_output(struct tcb *t)
{
    if (can_send_data(t))
        while (send_one_data_segment(t))
            ;
    if (t->snd_nxt != t->snd_una && t->rexmit_at == USEC_NEVER)
        tcp_arm_rexmit(t);
    if (t->ack_now)
        tcp_send_ack(t);
}

/* RTO expired (RFC 6298 §5.4-5.6): back off and go back to SND.UNA.  A FIN
 * not yet acknowledged goes again after the data before it, at the same
 * sequence number (fin_seq). */
void tcp_retransmit(struct tcb *t)
{
    stack_count(t->st, EV_TCP_RETRANSMITS);
    t->retries++;
    t->rto = t->rto * 2 > TCP_MAX_RTO ? TCP_MAX_RTO : t->rto * 2;
    if (t->state == TCP_SYN_RECEIVED) {
        TCP_TRACE_EVENT(t, "retransmit SYN-ACK", "RFC 9293 §3.8.1, RFC 6298 §5.5");
        tcp_send_synack(t);
    } else {
        TCP_TRACE_EVENT(t, "retransmission timeout, resend from SND.UNA", "RFC 6298 §5.4");
        t->snd_nxt = t->snd_una;
        tcp_output(t);
    }
    tcp_arm_rexmit(t);
}
