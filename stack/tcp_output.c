/*
 * tcp_output.c -- every TCP segment synack sends is built here: SYN-ACKs,
 * data, FINs, ACKs (now or delayed), window and keep-alive probes,
 * challenge ACKs and RSTs.  A segment leaves as a header in st->hdr_buf
 * plus payload slices that point into the send ring, so data is never
 * copied on the way out.
 *
 * What may be sent is the smallest of: what the app queued, the peer's
 * window (RFC 9293 §3.8.6), the congestion window (tcp_congestion.c), and
 * one MSS per segment; Nagle (RFC 896) holds back a small segment while
 * data is unacknowledged.
 */
#include <stdio.h>

#include "stack/ipv4.h"
#include "stack/isn.h"
#include "stack/seq.h"
#include "stack/syn_cookie.h"
#include "stack/tcp.h"

/* Our timestamp clock: milliseconds (RFC 7323 §5.4 asks for 1 ms to 1 s per
 * tick) plus a per-connection offset (isn_ts_offset()). */
uint32_t tcp_ts_clock(const struct stack *st, uint32_t offset)
{
    return (uint32_t)(st->now / 1000) + offset;
}

uint32_t tcp_ts_now(const struct tcb *t)
{
    return tcp_ts_clock(t->st, t->ts_offset);
}

uint32_t tcp_rcv_window(const struct tcb *t)
{
    return ring_space(&t->rcvq);
}

/* The window field: free buffer space, scaled down (RFC 7323 §2.3).  Space
 * only shrinks by bytes that also advance RCV.NXT, so the right edge we
 * advertised never moves left (RFC 9293 §3.8.6.2.2) except by the rounding
 * of the scale, which RFC 7323 §2.4 accepts. */
static uint16_t window_clamp(uint32_t field)
{
    return (uint16_t)(field > 0xffff ? 0xffff : field);
}

static uint16_t window_field(const struct tcb *t, bool syn)
{
    uint32_t space = tcp_rcv_window(t);
    return window_clamp(syn ? space : space >> t->rcv_wscale);
}

/* Adds range r to the blocks unless it is there already. */
static void add_block(struct tcp_opt_out *o, uint32_t max, const struct seq_range *r)
{
    for (uint32_t i = 0; i < o->sack_count; i++)
        if (o->sack[i].left == r->start)
            return;
    if (o->sack_count < max)
        o->sack[o->sack_count++] = (struct tcp_sack_block){ r->start, r->end };
}

/* SACK blocks for our ACK (RFC 2018 §4): first the block holding the most
 * recently received segment, then the blocks reported most recently, so
 * each range is reported in several successive ACKs in case some are
 * lost; then any others.  What was reported is remembered for next time. */
static void fill_sack_blocks(struct tcb *t, struct tcp_opt_out *o)
{
    uint32_t max = t->ts_ok ? TCP_SACK_BLOCKS_WITH_TS : TCP_MAX_SACK_BLOCKS;
    const struct seq_range *r = seq_ranges_find(&t->ooo, t->ooo_last);
    o->sack_count = 0;
    if (r)
        add_block(o, max, r);
    for (uint32_t i = 0; i < t->sack_nsent; i++)
        if ((r = seq_ranges_find(&t->ooo, t->sack_sent[i])) != NULL)
            add_block(o, max, r);
    for (uint32_t i = 0; i < t->ooo.n; i++)
        add_block(o, max, &t->ooo.r[i]);
    for (uint32_t i = 0; i < o->sack_count; i++)
        t->sack_sent[i] = o->sack[i].left;
    t->sack_nsent = o->sack_count;
}

/* Bookkeeping every segment we send does: what our ACK covered, the right
 * edge we promised, and that any owed ACK has now gone. */
static void note_sent(struct tcb *t, uint8_t flags, uint16_t wnd, uint32_t paylen)
{
    if (flags & TCP_ACK) {
        t->last_ack_sent = t->rcv_nxt;
        t->ack_now = false;
        t->segs_unacked = 0;
        tcp_timer_stop(t, TCP_T_DELACK);
    }
    if (!(flags & TCP_RST)) {
        uint32_t edge = t->rcv_nxt + ((uint32_t)wnd << ((flags & TCP_SYN) ? 0 : t->rcv_wscale));
        if (seq_gt(edge, t->rcv_adv) || t->rcv_adv == 0)
            t->rcv_adv = edge;
    }
    if (paylen || (flags & (TCP_SYN | TCP_FIN)))
        t->last_send = t->st->now;
}

/* Data bytes per segment now: the MSS less the SACK option our segments
 * carry while out-of-order data is held (RFC 6691: options come out of
 * the MSS; the timestamp's 12 bytes already came out of snd_mss).  Without
 * this a full segment with SACK blocks outgrew the MTU, and at MTU 65535
 * its IPv4 total length wrapped. */
static uint32_t send_mss(const struct tcb *t)
{
    if (!t->sack_ok || t->ooo.n == 0)
        return t->snd_mss;
    uint32_t max = t->ts_ok ? TCP_SACK_BLOCKS_WITH_TS : TCP_MAX_SACK_BLOCKS;
    uint32_t opt = 4 + 8 * (t->ooo.n < max ? t->ooo.n : max);  /* NOP, NOP, kind, length */
    return t->snd_mss > opt + TCP_MIN_SEND_MSS ? t->snd_mss - opt : TCP_MIN_SEND_MSS;
}

/* Builds and sends one segment of connection t.  A SYN carries what was
 * negotiated, every segment a timestamp when they are on (RFC 7323 §3.2),
 * and an ACK carries SACK blocks while out-of-order data is held. */
static void tcb_emit(struct tcb *t, uint8_t flags, uint32_t seq,
                     const struct slice *payload, int npayload, uint32_t paylen)
{
    struct stack *st = t->st;
    bool syn = flags & TCP_SYN;
    struct tcp_opt_out o = {
        .syn = syn, .mss = TCP_OUR_MSS(&st->cfg),
        .wscale_ok = t->ws_ok, .sack_ok = t->sack_ok, .ts_ok = t->ts_ok,
        .wscale = t->rcv_wscale, .tsval = tcp_ts_now(t), .tsecr = t->ts_recent,
    };
    if (t->sack_ok && !syn && t->ooo.n)
        fill_sack_blocks(t, &o);
    uint8_t opts[TCP_MAX_OPT_LEN];
    uint32_t optlen = (flags & TCP_RST) ? 0 : tcp_write_options(opts, &o);
    struct tcp_segment h = {
        .src = t->laddr, .dst = t->raddr, .sport = t->lport, .dport = t->rport,
        .seq = seq, .ack = (flags & TCP_ACK) ? t->rcv_nxt : 0, .flags = flags,
        .wnd = (flags & TCP_RST) ? 0 : window_field(t, syn), .data_len = paylen,
    };
    uint8_t *tcp = st->hdr_buf + IPV4_HDR_LEN;
    struct stack_offload off = { 0, IPV4_HDR_LEN, TCP_CSUM_OFFSET, 0 };
    uint32_t hlen;
    if (st->cfg.offload) {
        /* The kernel completes the sum or, delivering locally, trusts it,
         * so no byte of the payload is read here. */
        hlen = tcp_write_header_partial(tcp, &h, opts, optlen);
        off.gso_size = paylen > send_mss(t) ? (uint16_t)send_mss(t) : 0;
        off.hdr_len = (uint16_t)(IPV4_HDR_LEN + hlen);
    } else {
        hlen = tcp_write_header(tcp, &h, opts, optlen, payload, npayload);
    }
    ipv4_write_header(st->hdr_buf, t->laddr, t->raddr, IPPROTO_TCP_NUM,
                      (uint16_t)(hlen + paylen), st->ip_id++, true);

    struct slice parts[STACK_MAX_SLICES] = { { st->hdr_buf, IPV4_HDR_LEN + hlen } };
    for (int i = 0; i < npayload; i++)
        parts[1 + i] = payload[i];
    note_sent(t, flags, h.wnd, paylen);
    tcp_trace_segment(st, t, "OUT", &h, off.gso_size);
    if (off.gso_size) {
        /* Counted as the segments the peer receives. */
        stack_count(st, EV_TCP_GSO_OUT);
        st->ctr.events[EV_TCP_SEG_OUT] += stack_gso_segments(paylen, off.gso_size);
    } else {
        stack_count(st, EV_TCP_SEG_OUT);
    }
    stack_emit(st, parts, 1 + npayload, st->cfg.offload ? &off : NULL);
}

/* Sends len bytes of queued data starting at seq, with FIN if asked.  PSH
 * marks a segment that empties what the app gave us (RFC 9293 §3.9.1.2). */
static void emit_data(struct tcb *t, uint32_t seq, uint32_t len, bool fin)
{
    struct slice data[2];
    int n = ring_slices(&t->sndq, seq - t->snd_una, len, data);
    bool push = len && seq + len == t->snd_una + t->sndq.len;
    tcb_emit(t, TCP_ACK | (push ? TCP_PSH : 0) | (fin ? TCP_FIN : 0), seq, data, n, len);
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

/* An ACK is owed: at once, or within the delayed-ACK time (RFC 9293
 * §3.8.6.3: a receiver may wait, but no more than 0.5 s). */
void tcp_ack_owed(struct tcb *t, bool now)
{
    if (now || t->st->cfg.delack == 0)
        t->ack_now = true;
    else if (!tcp_timer_armed(t, TCP_T_DELACK))
        tcp_timer_set(t, TCP_T_DELACK, t->st->now + t->st->cfg.delack);
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

/* RFC 9293 §3.10.7.4 answers a segment that fails a check (outside the
 * window, PAWS, an ACK of nothing sent) with an ACK.  Two stacks that each
 * find the other's segments invalid would trade such ACKs for ever (an ACK
 * loop), so an answer to a segment without data goes out at most once per
 * --invalid-ack-ms, as Linux does (tcp_invalid_ratelimit).  A segment with
 * data or a FIN is always answered: it is most often a retransmission
 * whose ACK was lost, and the peer waits for that ACK. */
void tcp_ack_invalid(struct tcb *t, const struct tcp_segment *seg)
{
    if (t->ack_now)
        return;  /* an ACK owed already (bytes cut off by the window) answers */
    if (tcp_seg_len(seg) > 0 && !(seg->flags & TCP_SYN)) {
        t->ack_now = true;
        return;
    }
    usec_t now = t->st->now, gap = t->st->cfg.invalid_ack_gap;
    if (gap && t->invalid_ack_at != USEC_NEVER && now - t->invalid_ack_at < gap) {
        stack_drop(t->st, DROP_TCP_INVALID_ACK_LIMIT);
        return;
    }
    t->invalid_ack_at = now;
    t->ack_now = true;
}

void tcp_send_rst(struct tcb *t)
{
    tcb_emit(t, TCP_RST | TCP_ACK, t->snd_nxt, NULL, 0, 0);
    stack_count(t->st, EV_TCP_RST_SENT);
}

/* A segment that belongs to no TCB: an RST, or a SYN-ACK with a cookie. */
static void emit_stateless(struct stack *st, const struct tcp_segment *h,
                           const uint8_t *opts, uint32_t optlen)
{
    uint8_t *tcp = st->hdr_buf + IPV4_HDR_LEN;
    uint32_t hlen = tcp_write_header(tcp, h, opts, optlen, NULL, 0);
    ipv4_write_header(st->hdr_buf, h->src, h->dst, IPPROTO_TCP_NUM, (uint16_t)hlen,
                      st->ip_id++, true);
    struct slice part = { st->hdr_buf, IPV4_HDR_LEN + hlen };
    tcp_trace_segment(st, NULL, "OUT", h, 0);
    stack_count(st, EV_TCP_SEG_OUT);
    stack_emit(st, &part, 1, NULL);
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
    stack_count(st, EV_TCP_RST_SENT);
    emit_stateless(st, &h, NULL, 0);
}

/* The window a cookie SYN-ACK offers: the whole (empty) receive buffer,
 * unscaled, as in any SYN. */
static uint16_t cookie_window(const struct stack_config *cfg)
{
    return window_clamp(cfg->rcv_buf);
}

/* The backlog is full: the SYN is answered, but nothing is kept (RFC 4987
 * §3.6).  The SYN-ACK's sequence number is the cookie, and with timestamps
 * its TSval holds the SYN's window scale and SACK (syn_cookie.h), so the
 * connection the ACK opens needs nothing else.  A lost one is not
 * retransmitted; the client's SYN retransmission brings a new one. */
void tcp_send_cookie_synack(struct stack *st, const struct tcp_segment *syn, uint32_t cookie)
{
    const struct stack_config *cfg = &st->cfg;
    const struct tcp_options *p = &syn->opt;
    struct tcp_opt_out o = { .syn = true, .mss = TCP_OUR_MSS(cfg) };
    if (p->has_timestamp) {
        uint32_t off = isn_ts_offset(cfg->isn_key, syn->dst, syn->dport, syn->src, syn->sport);
        o.ts_ok = true;
        o.tsval = syn_cookie_tsval(tcp_ts_clock(st, off), p);
        o.tsecr = p->tsval;
        o.wscale_ok = p->has_wscale;
        o.wscale = tcp_rcv_wscale(cfg->rcv_buf);
        o.sack_ok = p->sack_permitted;
    }
    uint8_t opts[TCP_MAX_OPT_LEN];
    uint32_t optlen = tcp_write_options(opts, &o);
    struct tcp_segment h = {
        .src = syn->dst, .dst = syn->src, .sport = syn->dport, .dport = syn->sport,
        .seq = cookie, .ack = syn->seq + 1, .flags = TCP_SYN | TCP_ACK,
        .wnd = cookie_window(cfg),
    };
    emit_stateless(st, &h, opts, optlen);
}

/* A TCB made from a returned cookie: as if it had sent that SYN-ACK itself,
 * with the cookie as its ISS and the window the SYN-ACK offered. */
void tcp_cookie_synack_sent(struct tcb *t, uint32_t cookie)
{
    t->iss = t->snd_una = cookie;
    t->snd_nxt = t->snd_max = cookie + 1;
    t->by_cookie = true;
    note_sent(t, TCP_SYN | TCP_ACK, cookie_window(&t->st->cfg), 0);
}

/* --- data ------------------------------------------------------------------- */

/* Our FIN is in flight: sent, and SND.NXT has not been pulled back before
 * it by a retransmission timeout. */
static bool fin_outstanding(const struct tcb *t)
{
    return t->fin_sent && seq_gt(t->snd_nxt, t->fin_seq);
}

/* States in which data (or our FIN) may still need to go out. */
static bool sending_state(const struct tcb *t)
{
    switch (t->state) {
    case TCP_ESTABLISHED:
    case TCP_CLOSE_WAIT:
    case TCP_FIN_WAIT_1:
    case TCP_LAST_ACK:
    case TCP_CLOSING:
        return true;
    default:
        return false;
    }
}

/* ...and new data (or the FIN) may go: our FIN is not already out. */
static bool can_send_data(const struct tcb *t)
{
    return sending_state(t) && !fin_outstanding(t);
}

/* Nagle (RFC 896, RFC 9293 §3.7.4) applies unless the segment is the last
 * before our FIN or the app turned it off; resent data never waits. */
static bool nagle_applies(const struct tcb *t)
{
    return !t->nodelay && !t->fin_queued && !seq_lt(t->snd_nxt, t->snd_max);
}

/* Nagle: a segment smaller than the MSS waits while earlier data is
 * unacknowledged.  A small window is window_silly()'s to judge. */
static bool nagle_holds(const struct tcb *t, uint32_t n)
{
    return n < send_mss(t) && nagle_applies(t) && t->snd_nxt != t->snd_una;
}

/* The most payload one segment may carry: one MSS, or with offload as many
 * whole MSS as fit in one IPv4 packet (a GSO super-segment).  Handing the
 * kernel 45 segments of 1448 bytes in one write means its TCP receive, and
 * the wake-up of the reader, run once instead of 45 times: bulk transfer
 * at MTU 1500 went from 115 MB/s (--no-offload) to 2,002 MB/s
 * (docs/performance.md). */
static uint32_t segment_max(const struct tcb *t)
{
    uint32_t mss = send_mss(t);
    if (!t->st->cfg.offload)
        return mss;
    uint32_t room = STACK_GSO_MAX_PACKET - IPV4_HDR_LEN - TCP_HDR_LEN - TCP_MAX_OPT_LEN;
    uint32_t k = room / mss;
    return k > 1 ? k * mss : mss;
}

/* A super-segment stands for full segments sent back to back; its short
 * tail may go with them only if it would go after them on its own, and
 * with their data in flight Nagle holds it unless it does not apply. */
static uint32_t without_held_tail(const struct tcb *t, uint32_t n)
{
    uint32_t mss = send_mss(t);
    uint32_t tail = n % mss;
    if (n > mss && tail && nagle_applies(t))
        return n - tail;
    return n;
}

/* The peer's window beyond SND.NXT. */
static uint32_t usable_window(const struct tcb *t)
{
    uint32_t wnd_end = t->snd_una + t->snd_wnd;
    return seq_gt(wnd_end, t->snd_nxt) ? wnd_end - t->snd_nxt : 0;
}

/* Bytes queued from SND.NXT on, not yet sent. */
static uint32_t unsent_bytes(const struct tcb *t)
{
    uint32_t off = t->snd_nxt - t->snd_una;
    return t->sndq.len > off ? t->sndq.len - off : 0;
}

/* RFC 9293 §3.8.6.2.1 (RFC 1122 §4.2.3.4, a MUST): sender-side silly
 * window avoidance.  A window that would take only part of what waits,
 * and less than an MSS and less than half the largest window the peer
 * has offered, is left to grow; while nothing is in flight to bring the
 * ACK that grows it, the persist timer is the override timeout
 * (tcp_send_window_probe()). */
static bool window_silly(const struct tcb *t, uint32_t usable, uint32_t unsent)
{
    return usable > 0 && usable < unsent && usable < send_mss(t) &&
           usable < t->max_snd_wnd / 2;
}

/* How many bytes from SND.NXT the windows let us send now. */
static uint32_t sendable_bytes(const struct tcb *t, uint32_t unsent)
{
    uint32_t usable = usable_window(t);
    uint32_t max = segment_max(t);
    uint32_t n = unsent < max ? unsent : max;
    n = n < usable ? n : usable;
    uint32_t cc = cc_send_allowance(t);
    n = n < cc ? n : cc;
    if (seq_lt(t->snd_nxt, t->snd_max)) {
        /* Resending after a timeout: stop short of data the peer SACKed. */
        const struct seq_range *r = seq_ranges_next(&t->sacked, t->snd_nxt);
        if (r && r->start - t->snd_nxt < n)
            n = r->start - t->snd_nxt;
    }
    return without_held_tail(t, n);
}

/* One trace line per resent segment: which bytes, and why (RFC section). */
static void trace_resend(struct tcb *t, uint32_t seq, uint32_t len, const char *rfc,
                         const char *file, int line)
{
    char what[96];
    snprintf(what, sizeof what, "retransmit seq=%u (rel %u) len=%u", seq, seq - t->iss, len);
    tcp_trace_event(t, what, rfc, file, line);
}

/* Sends one segment from SND.NXT (and FIN if it is the last).  Returns
 * false when nothing more can go now. */
static bool send_one_data_segment(struct tcb *t)
{
    const struct seq_range *sacked = seq_ranges_find(&t->sacked, t->snd_nxt);
    if (sacked)
        t->snd_nxt = sacked->end;  /* the peer has it already */
    if (t->fin_sent && seq_gt(t->snd_nxt, t->fin_seq))
        return false;  /* and our FIN, which a receiver holding it SACKs too */
    uint32_t unsent = unsent_bytes(t);
    uint32_t n = sendable_bytes(t, unsent);
    bool fin = t->fin_queued && n == unsent;
    /* Resends after a timeout are not held for a small window: the
     * peer waits for them (as Linux sends them). */
    if ((n == 0 && !fin) || nagle_holds(t, n) ||
        (n == usable_window(t) && !seq_lt(t->snd_nxt, t->snd_max) &&
         window_silly(t, n, unsent)))
        return false;
    bool resend = seq_lt(t->snd_nxt, t->snd_max);
    if (resend) {
        stack_count(t->st, EV_TCP_RETRANSMITS);
        trace_resend(t, t->snd_nxt, n, "RFC 6298 §5.4", __FILE__, __LINE__);
    } else if (n)
        tcp_rtt_time(t, t->snd_nxt + n);
    if (t->snd_una == t->snd_max)
        t->unacked_since = t->st->now;
    emit_data(t, t->snd_nxt, n, fin);
    t->snd_nxt += n;
    if (fin) {
        t->fin_sent = true;
        t->fin_seq = t->snd_nxt;
        t->snd_nxt++;
    }
    t->snd_max = seq_max(t->snd_max, t->snd_nxt);
    return !fin;
}

/* Resends [seq, seq+len) of the send queue (fast retransmit, recovery),
 * without moving SND.NXT, as one segment of at most send_mss() bytes; a
 * FIN inside the range goes again too.  Returns the sequence space sent. */
uint32_t tcp_send_retransmission(struct tcb *t, uint32_t seq, uint32_t len)
{
    uint32_t off = seq - t->snd_una;
    uint32_t avail = t->sndq.len > off ? t->sndq.len - off : 0;
    uint32_t n = len < avail ? len : avail;
    n = n < send_mss(t) ? n : send_mss(t);
    bool fin = t->fin_sent && seq + n == t->fin_seq && len > n;
    if (n == 0 && !fin)
        return 0;
    stack_count(t->st, EV_TCP_RETRANSMITS);
    trace_resend(t, seq, n, t->sack_ok ? "RFC 6675 §5" : "RFC 5681 §3.2, RFC 6582 §3.2",
                 __FILE__, __LINE__);
    t->rtt_timing = false;  /* Karn: a resent segment gives no sample */
    emit_data(t, seq, n, fin);
    return n + fin;
}

/* The persist timer expired.  RFC 9293 §3.8.6.1: with the peer's window
 * at zero, keep sending one octet of new data now and then; the answering
 * ACK reopens the window, and the octet is sent again at each expiry until
 * it is taken.  With a small window instead, this is the override timeout
 * of silly window avoidance (§3.8.6.2.1): what fits goes, as data the
 * retransmission timer then looks after.  True in that case. */
bool tcp_send_window_probe(struct tcb *t)
{
    uint32_t usable = usable_window(t), unsent = unsent_bytes(t);
    if (window_silly(t, usable, unsent)) {
        /* The override timeout of silly window avoidance: the window has
         * not grown, so send what it takes. */
        TCP_TRACE_EVENT(t, "small window: send what it takes", "RFC 9293 §3.8.6.2.1");
        if (t->snd_una == t->snd_max)
            t->unacked_since = t->st->now;
        if (!seq_lt(t->snd_nxt, t->snd_max))
            tcp_rtt_time(t, t->snd_nxt + usable);
        emit_data(t, t->snd_nxt, usable, false);
        t->snd_nxt += usable;
        t->snd_max = seq_max(t->snd_max, t->snd_nxt);
        return true;
    }
    stack_count(t->st, EV_TCP_PERSIST_PROBES);
    TCP_TRACE_EVENT(t, "zero window: probe with one octet", "RFC 9293 §3.8.6.1");
    if (t->sndq.len == 0) {
        tcp_send_ack(t);
        return false;
    }
    emit_data(t, t->snd_una, 1, false);
    t->snd_nxt = seq_max(t->snd_nxt, t->snd_una + 1);
    t->snd_max = seq_max(t->snd_max, t->snd_nxt);
    return false;
}

/* RFC 9293 §3.8.4 / RFC 1122 §4.2.3.6: a segment with SEG.SEQ = SND.NXT-1
 * and no data, which the peer must answer with an ACK. */
void tcp_send_keepalive(struct tcb *t)
{
    stack_count(t->st, EV_TCP_KEEPALIVE_PROBES);
    TCP_TRACE_EVENT(t, "keep-alive probe", "RFC 9293 §3.8.4");
    tcb_emit(t, TCP_ACK, t->snd_una - 1, NULL, 0, 0);
}

/* The peer's window is shut, or too small to use (window_silly()), and
 * data waits with nothing in flight: the persist timer takes over from the
 * retransmission timer until the window opens.  Once data is in flight
 * under an open window, its ACK will come: the persist timer stops. */
static void arm_persist_if_stuck(struct tcb *t)
{
    bool waiting = t->sndq.len > t->snd_nxt - t->snd_una || (t->fin_queued && !t->fin_sent);
    bool silly = window_silly(t, usable_window(t), unsent_bytes(t));
    if (t->snd_wnd > 0 && tcp_timer_armed(t, TCP_T_PERSIST) &&
        tcp_timer_armed(t, TCP_T_REXMIT)) {
        tcp_timer_stop(t, TCP_T_PERSIST);
        return;
    }
    if ((t->snd_wnd == 0 || silly) && waiting && !tcp_timer_armed(t, TCP_T_PERSIST) &&
        !tcp_timer_armed(t, TCP_T_REXMIT))
        tcp_timer_set(t, TCP_T_PERSIST, t->st->now + t->rto);
}

void tcp_output(struct tcb *t)
{
    /* Holes below our FIN are resent even once the FIN is out. */
    if (sending_state(t))
        cc_recovery_send(t);
    bool sending = can_send_data(t);
    if (sending) {
        cc_restart_after_idle(t);
        while (send_one_data_segment(t))
            ;
    }
    if (t->snd_nxt != t->snd_una && t->snd_wnd != 0 && !tcp_timer_armed(t, TCP_T_REXMIT))
        tcp_arm_rexmit(t);
    if (sending)
        arm_persist_if_stuck(t);
    if (t->ack_now)
        tcp_send_ack(t);
}
