/*
 * tcp_input.c -- SEGMENT ARRIVES, RFC 9293 §3.10.7, in the RFC's order.
 *
 * Hold the RFC beside this file.  A segment for no connection is §3.10.7.1;
 * one for a listener is §3.10.7.2; one for a connection in any other state
 * goes through the numbered checks of §3.10.7.4: first the sequence number
 * (with PAWS, RFC 7323 §5), second RST (with RFC 5961 §3), fourth SYN (RFC
 * 5961 §4), fifth ACK (RFC 5961 §5), seventh the text, eighth FIN.  The
 * third (security) and sixth (URG) checks have nothing to do here: synack
 * keeps no security compartments and delivers urgent data in line.
 */

#include "stack/isn.h"
#include "stack/seq.h"
#include "stack/syn_cookie.h"
#include "stack/tcp.h"

/* --- §3.10.7.2 LISTEN ---------------------------------------------------- */

/* The table is full (--max-conns) and a SYN wants a slot: the TIME-WAIT
 * that would expire first gives up its place, as Linux does beyond
 * tcp_max_tw_buckets.  This waives RFC 9293 §3.6.1's MUST-13 (linger
 * 2*MSL) for that one connection, and with it what TIME-WAIT is for: a
 * lost last ACK brings the peer's FIN back to no connection, which answers
 * it with RST (the wait of §3.3.2), and an old duplicate could reach a new
 * incarnation, the hazard RFC 1337 describes (our RFC 6528 ISNs make it
 * unlikely).  Refusing service to new peers because old ones closed
 * cleanly would be worse. */
static void recycle_oldest_timewait(struct stack *st)
{
    struct tcb *t = st->tw_oldest;
    if (!t)
        return;
    stack_bound_event(st, EV_TCP_TIME_WAIT_RECYCLED, "--max-conns");
    tcp_set_state(t, TCP_CLOSED, NULL, "TIME-WAIT recycled: connection table full (--max-conns)",
                  "RFC 9293 §3.6.1, RFC 1337");
    tcb_release(t);
}

/* An ACK to a listener may return a SYN cookie (syn_cookie.h): then the
 * TCB the full backlog did not keep is made now, as the SYN would have
 * made it, with the cookie as our ISS and the SYN-ACK counted as sent.  It
 * starts in SYN-RECEIVED, so the ACK then completes the handshake through
 * the same code as any other.  NULL if the segment is no such ACK. */
static struct tcb *syn_cookie_open(struct stack *st, struct listener *l,
                                   const struct tcp_segment *seg)
{
    uint16_t mss;
    /* Only while cookies may be out: an ACK to a listener that sent none
     * lately is a stray (a late duplicate of a handshake's ACK, say), and
     * gets its RST (as Linux checks for a recent overflow). */
    bool recent = l->cookies_sent &&
                  st->now - l->last_cookie <= (SYN_COOKIE_MAX_AGE + 1) * SYN_COOKIE_PERIOD_USEC;
    if (!recent || (seg->flags & (TCP_SYN | TCP_RST | TCP_ACK)) != TCP_ACK ||
        !syn_cookie_check(st->cfg.isn_key, seg, st->now, &mss))
        return NULL;
    if (st->ntcb >= st->cfg.max_conns)
        recycle_oldest_timewait(st);
    struct tcp_segment syn = {
        .src = seg->src, .dst = seg->dst, .sport = seg->sport, .dport = seg->dport,
        .seq = seg->seq - 1, .flags = TCP_SYN, .wnd = seg->wnd,
        .opt = { .has_mss = true, .mss = mss },
    };
    /* A SYN with timestamps had its window scale and SACK kept in our
     * TSval, which the ACK echoes (syn_cookie.h).  An ACK without a
     * timestamp leaves all three off, even if the SYN-ACK offered them (a
     * middlebox that strips options), as Linux does. */
    if (seg->opt.has_timestamp) {
        uint32_t off = isn_ts_offset(st->cfg.isn_key, seg->dst, seg->dport, seg->src, seg->sport);
        syn.opt.has_timestamp = syn_cookie_ts_options(seg->opt.tsecr, tcp_ts_clock(st, off),
                                                      &syn.opt);
        syn.opt.tsval = seg->opt.tsval;
    }
    struct tcb *t = st->ntcb < st->cfg.max_conns ? tcb_create(st, &syn, l) : NULL;
    if (!t) {
        stack_drop(st, DROP_TCP_TABLE_FULL);
        return NULL;
    }
    tcp_cookie_synack_sent(t, seg->ack - 1);
    stack_count(st, EV_TCP_SYN_COOKIES_OK);
    stack_count(st, EV_TCP_PASSIVE_OPENS);
    tcp_set_state(t, TCP_SYN_RECEIVED, seg, "the ACK returned a valid SYN cookie",
                  "RFC 4987 §3.6");
    return t;
}

static void listen_input(struct stack *st, struct listener *l, const struct tcp_segment *seg)
{
    if (seg->flags & TCP_RST)
        return;  /* "An incoming RST should be ignored." */
    if (seg->flags & TCP_ACK) {
        /* Nothing was sent yet that could be acknowledged. */
        tcp_reply_rst(st, seg);
        return;
    }
    if (!(seg->flags & TCP_SYN)) {
        stack_drop(st, DROP_TCP_LISTEN_BAD);
        return;
    }
    if (l->half_open >= st->cfg.backlog) {
        if (!st->cfg.syn_cookies) {
            stack_drop(st, DROP_TCP_BACKLOG);
            return;
        }
        stack_bound_event(st, EV_TCP_SYN_COOKIES_SENT, "--backlog");
        l->cookies_sent = true;
        l->last_cookie = st->now;
        tcp_send_cookie_synack(st, seg, syn_cookie_make(st->cfg.isn_key, seg, st->now));
        return;
    }
    if (st->ntcb >= st->cfg.max_conns)
        recycle_oldest_timewait(st);
    struct tcb *t = st->ntcb < st->cfg.max_conns ? tcb_create(st, seg, l) : NULL;
    if (!t) {
        stack_drop(st, DROP_TCP_TABLE_FULL);
        return;
    }
    stack_count(st, EV_TCP_PASSIVE_OPENS);
    /* Data on the SYN is not kept: RCV.NXT stays at IRS+1, so the peer
     * sends it again once it sees our SYN-ACK. */
    tcp_set_state(t, TCP_SYN_RECEIVED, seg, NULL, "RFC 9293 §3.10.7.2");
    tcp_send_synack(t);
    tcp_rtt_time(t, t->iss + 1);  /* the handshake gives the first RTT sample */
    tcp_arm_rexmit(t);
}

/* --- first: sequence number ---------------------------------------------- */

/* RFC 7323 §5.3 R1 (PAWS) and §3.2: with timestamps on, a non-RST segment
 * must carry one, and it must not be older than TS.Recent. */
static bool paws_ok(struct tcb *t, const struct tcp_segment *seg)
{
    if (!t->ts_ok || (seg->flags & TCP_RST))
        return true;
    if (!seg->opt.has_timestamp) {
        stack_drop(t->st, DROP_TCP_NO_TIMESTAMP);
        return false;
    }
    if (seq_lt(seg->opt.tsval, t->ts_recent) &&
        t->st->now - t->ts_recent_age < TCP_PAWS_IDLE) {
        stack_drop(t->st, DROP_TCP_PAWS);
        tcp_ack_invalid(t, seg);
        return false;
    }
    return true;
}

/* The four cases of the acceptability test (RFC 9293 §3.10.7.4, first). */
static bool seq_acceptable(const struct tcb *t, const struct tcp_segment *seg)
{
    uint32_t wnd = tcp_rcv_window(t), len = tcp_seg_len(seg);
    uint32_t end = t->rcv_nxt + wnd;
    if (len == 0 && wnd == 0)
        return seg->seq == t->rcv_nxt;
    if (len == 0)
        return seq_in_window(seg->seq, t->rcv_nxt, end);
    if (wnd == 0)
        return false;
    return seq_in_window(seg->seq, t->rcv_nxt, end) ||
           seq_in_window(seg->seq + len - 1, t->rcv_nxt, end);
}

/* Cuts what lies outside the window: bytes before RCV.NXT are duplicates,
 * bytes past RCV.NXT+RCV.WND do not fit ("trimmed to the window", §3.10.7.4).
 * A SYN or FIN cut off goes with its bytes. */
static void trim_to_window(struct tcb *t, struct tcp_segment *s)
{
    if (seq_lt(s->seq, t->rcv_nxt)) {
        uint32_t dup = t->rcv_nxt - s->seq;
        if (s->flags & TCP_SYN) {
            s->flags &= (uint8_t)~TCP_SYN;
            s->seq++;
            dup--;
        }
        if (dup > s->data_len) {   /* the FIN, too, was seen before */
            s->flags &= (uint8_t)~TCP_FIN;
            dup = s->data_len;
        }
        s->data += dup;
        s->data_len -= dup;
        s->seq += dup;
    }
    uint32_t room = tcp_rcv_window(t) - (s->seq - t->rcv_nxt);
    if (seq_geq(s->seq, t->rcv_nxt) && s->data_len > room) {
        /* Bytes past the window, a zero-window probe's octet among them:
         * the ACK that answers tells the sender our window (§3.8.6.1). */
        stack_drop(t->st, DROP_TCP_RCV_BUF_FULL);
        s->data_len = room;
        s->flags &= (uint8_t)~TCP_FIN;
        tcp_ack_owed(t, true);
    }
}

/* RFC 7323 §4.3: TS.Recent follows the segment that the last ACK we sent
 * covered, so RTT echoes measure the right interval. */
static void update_ts_recent(struct tcb *t, const struct tcp_segment *seg)
{
    if (t->ts_ok && seg->opt.has_timestamp && seq_leq(seg->seq, t->last_ack_sent) &&
        seq_geq(seg->opt.tsval, t->ts_recent)) {
        t->ts_recent = seg->opt.tsval;
        t->ts_recent_age = t->st->now;
    }
}

/* --- second: RST ----------------------------------------------------------- */

static void rst_input(struct tcb *t, const struct tcp_segment *seg)
{
    /* RFC 5961 §3.2: only an RST exactly at RCV.NXT resets; one elsewhere
     * in the window may be forged, so ask the peer to confirm. */
    if (seg->seq != t->rcv_nxt) {
        tcp_send_challenge_ack(t);
        return;
    }
    switch (t->state) {
    case TCP_SYN_RECEIVED:
        /* Passive open: the listener carries on; this copy goes away. */
        tcp_set_state(t, TCP_LISTEN, seg, NULL, "RFC 9293 §3.10.7.4 (second, SYN-RECEIVED)");
        break;
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
    case TCP_CLOSE_WAIT:
        stack_count(t->st, EV_TCP_RESETS_RECEIVED);
        tcp_set_state(t, TCP_CLOSED, seg, NULL, "RFC 9293 §3.10.7.4 (second)");
        tcp_app_closed(t, TCP_CLOSED_RESET);
        break;
    default:  /* CLOSING, LAST-ACK, TIME-WAIT */
        tcp_set_state(t, TCP_CLOSED, seg, NULL, "RFC 9293 §3.10.7.4 (second)");
        tcp_app_closed(t, TCP_CLOSED_RESET);
        break;
    }
    tcb_release(t);
}

/* --- fourth: SYN ----------------------------------------------------------- */

static void syn_input(struct tcb *t, const struct tcp_segment *seg)
{
    if (t->state == TCP_SYN_RECEIVED) {
        /* A new SYN (not a retransmission of the first, handled earlier)
         * means the peer started over: return to LISTEN. */
        tcp_set_state(t, TCP_LISTEN, seg, NULL, "RFC 9293 §3.10.7.4 (fourth, SYN-RECEIVED)");
        tcb_release(t);
        return;
    }
    /* RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK. */
    tcp_send_challenge_ack(t);
}

/* --- fifth: ACK ------------------------------------------------------------ */

static bool our_fin_acked(const struct tcb *t)
{
    return t->fin_sent && seq_gt(t->snd_una, t->fin_seq);
}

/* SYN-RECEIVED: an ACK of our SYN completes the handshake.  The
 * connection's clocks and windows start here. */
static bool synrcvd_ack(struct tcb *t, const struct tcp_segment *seg)
{
    if (!(seq_lt(t->snd_una, seg->ack) && seq_leq(seg->ack, t->snd_max))) {
        tcp_reply_rst(t->st, seg);  /* <SEQ=SEG.ACK><CTL=RST> */
        return false;
    }
    const struct stack_config *cfg = &t->st->cfg;
    tcp_rtt_on_ack(t, seg);
    /* RFC 6298 §5.7: if the SYN-ACK had to be resent and no sample was
     * taken, data starts with a 3 s RTO rather than the initial 1 s. */
    if (t->retries && !t->rtt_valid)
        t->rto = TCP_SYN_LOSS_RTO;
    t->snd_una = seg->ack;
    t->snd_wnd = (uint32_t)seg->wnd << t->snd_wscale;
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = seg->seq;
    t->snd_wl2 = seg->ack;
    t->retries = 0;
    t->nodelay = !cfg->nagle;
    tcp_timer_stop(t, TCP_T_REXMIT);
    cc_init(t);
    if (cfg->keepalive)
        tcp_timer_set(t, TCP_T_KEEPALIVE, t->st->now + cfg->keepalive);
    tcp_set_state(t, TCP_ESTABLISHED, seg, NULL, "RFC 9293 §3.10.7.4 (fifth, SYN-RECEIVED)");
    tcp_app_accept(t);
    return t->state != TCP_CLOSED;
}

/* RFC 2018 §4 / RFC 6675 §3: record the peer's SACK blocks.  A block must
 * lie above SND.UNA and within what was sent; anything else (a D-SACK,
 * or garbage) is ignored.  Returns true if the scoreboard grew. */
static bool sack_update(struct tcb *t, const struct tcp_segment *seg)
{
    uint32_t before = seq_ranges_bytes_above(&t->sacked, t->snd_una);
    for (uint32_t i = 0; i < seg->opt.sack_count; i++) {
        uint32_t l = seg->opt.sack[i].left, r = seg->opt.sack[i].right;
        if (seq_lt(l, r) && seq_gt(l, t->snd_una) && seq_leq(r, t->snd_max))
            seq_ranges_add(&t->sacked, l, r);
    }
    return seq_ranges_bytes_above(&t->sacked, t->snd_una) != before;
}

/* A duplicate ACK: data outstanding and the same cumulative ACK.  Without
 * SACK, RFC 5681 §2 also wants no data, no SYN/FIN and the same window.
 * With SACK, RFC 6675 §2 counts an ACK that reports newly SACKed data,
 * whatever its window: a receiver's window moves as its buffer drains. */
static bool is_dupack(const struct tcb *t, const struct tcp_segment *seg, bool new_sack)
{
    if (t->snd_max == t->snd_una || seg->ack != t->snd_una)
        return false;
    /* Answers to zero-window probes repeat the ACK by design (§3.8.6.1). */
    if (t->snd_wnd == 0 || seg->wnd == 0 || tcp_timer_armed(t, TCP_T_PERSIST))
        return false;
    if (t->sack_ok)
        return new_sack;
    return seg->data_len == 0 && !(seg->flags & (TCP_SYN | TCP_FIN)) &&
           ((uint32_t)seg->wnd << t->snd_wscale) == t->snd_wnd;
}

/* SND.UNA moves up to SEG.ACK: drop acknowledged bytes from the send ring
 * and restart (or stop) the retransmission timer (RFC 6298 §5.2, §5.3).
 * Returns the bytes of sequence space acknowledged. */
static uint32_t advance_snd_una(struct tcb *t, const struct tcp_segment *seg)
{
    uint32_t ack = seg->ack, acked = ack - t->snd_una, bytes = acked;
    if (t->fin_sent && seq_gt(ack, t->fin_seq))
        bytes--;   /* the FIN occupies a sequence number, not a byte */
    tcp_rtt_on_ack(t, seg);
    ring_consume(&t->sndq, bytes);
    t->snd_una = ack;
    if (seq_lt(t->snd_nxt, ack))
        t->snd_nxt = ack;  /* acked past a go-back-N rewind */
    seq_ranges_trim_below(&t->sacked, ack);
    /* The RTO stays backed off until a fresh RTT sample (RFC 6298 §5,
     * RFC 9293 §3.8.2); tcp_rtt_on_ack() above resets it when it takes one. */
    t->retries = 0;
    t->unacked_since = t->st->now;
    if (t->snd_una == t->snd_max)
        tcp_timer_stop(t, TCP_T_REXMIT);
    else
        tcp_arm_rexmit(t);
    return acked;
}

/* RFC 9293 §3.10.7.4 fifth: take the window from a segment newer than the
 * last one used (SND.WL1/WL2).  A window that reopens ends persist mode. */
static void window_update(struct tcb *t, const struct tcp_segment *seg)
{
    if (!(seq_lt(t->snd_wl1, seg->seq) ||
          (t->snd_wl1 == seg->seq && seq_leq(t->snd_wl2, seg->ack))))
        return;
    uint32_t old = t->snd_wnd;
    t->snd_wnd = (uint32_t)seg->wnd << t->snd_wscale;
    t->max_snd_wnd = t->snd_wnd > t->max_snd_wnd ? t->snd_wnd : t->max_snd_wnd;
    t->snd_wl1 = seg->seq;
    t->snd_wl2 = seg->ack;
    if (old == 0 && t->snd_wnd > 0 && tcp_timer_armed(t, TCP_T_PERSIST)) {
        tcp_timer_stop(t, TCP_T_PERSIST);
        t->retries = 0;
        tcp_rto_reset(t);
        t->snd_nxt = t->snd_una;  /* a probe octet the peer dropped goes again */
        TCP_TRACE_EVENT(t, "window reopened, persist ends", "RFC 9293 §3.8.6.1");
    }
}

static void enter_timewait(struct tcb *t, const struct tcp_segment *seg, const char *why,
                           const char *rfc)
{
    tcp_set_state(t, TCP_TIME_WAIT, seg, why, rfc);
    tcp_start_timewait(t);
    tcp_app_closed(t, TCP_CLOSED_NORMALLY);
}

/* What an ACK of our FIN does in each closing state (§3.10.7.4, fifth). */
static bool ack_state_effects(struct tcb *t, const struct tcp_segment *seg)
{
    switch (t->state) {
    case TCP_FIN_WAIT_1:
        if (our_fin_acked(t)) {
            tcp_set_state(t, TCP_FIN_WAIT_2, seg, NULL, "RFC 9293 §3.10.7.4 (fifth, FIN-WAIT-1)");
            tcp_start_fin_wait_2_timer(t);
        }
        return true;
    case TCP_CLOSING:
        if (our_fin_acked(t))
            enter_timewait(t, seg, NULL, "RFC 9293 §3.10.7.4 (fifth, CLOSING)");
        return false;  /* "otherwise, ignore the segment" */
    case TCP_LAST_ACK:
        if (our_fin_acked(t)) {
            tcp_set_state(t, TCP_CLOSED, seg, NULL, "RFC 9293 §3.10.7.4 (fifth, LAST-ACK)");
            tcp_app_closed(t, TCP_CLOSED_NORMALLY);
            tcb_release(t);
        }
        return false;
    default:
        return true;
    }
}

/* Returns false when processing of the segment ends here. */
static bool ack_input(struct tcb *t, const struct tcp_segment *seg)
{
    if (!(seg->flags & TCP_ACK)) {
        stack_drop(t->st, DROP_TCP_NO_ACK);
        return false;
    }
    if (t->state == TCP_SYN_RECEIVED && !synrcvd_ack(t, seg))
        return false;
    /* RFC 5961 §5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT];
     * SND.MAX stands for SND.NXT because a timeout may have rewound it. */
    if (seq_gt(seg->ack, t->snd_max) ||
        seq_lt(seg->ack, t->snd_una - t->max_snd_wnd)) {
        stack_drop(t->st, DROP_TCP_ACK_UNACCEPTABLE);
        tcp_ack_invalid(t, seg);
        return false;
    }
    /* RFC 1122 §4.2.2.17: a connection MUST stay open while its
     * zero-window probes are answered, however long the window stays shut.
     * Once the app has closed, nobody waits for it: --max-retries probes
     * end it (as Linux's tcp_orphan_retries). */
    if (tcp_timer_armed(t, TCP_T_PERSIST) && !t->fin_queued)
        t->retries = 0;
    bool new_sack = t->sack_ok && sack_update(t, seg);
    bool dup = is_dupack(t, seg, new_sack);
    if (seq_gt(seg->ack, t->snd_una)) {
        uint32_t acked = advance_snd_una(t, seg);
        cc_on_new_ack(t, acked);
        /* The window first: what the app queues from on_sendable goes out
         * at once, and must not go past the right edge this ACK sets (the
         * other way round, Linux dropped what went past it and a 200 ms
         * RTO followed: a 50 MB download at MTU 65535 ran at 77-110 MB/s
         * instead of 770-850, docs/performance.md). */
        window_update(t, seg);
        tcp_app_sendable(t);
        if (t->state == TCP_CLOSED)
            return false;  /* the app aborted from on_sendable */
        /* Only now, after the app could refill it: a bulk sender whose
         * ring drained keeps its grown buffer instead of regrowing it. */
        tcb_rings_trim(t);
    } else {
        if (dup)
            cc_on_dupack(t);
        window_update(t, seg);
    }
    return ack_state_effects(t, seg);
}

/* --- seventh: segment text -------------------------------------------------- */

/* A full-sized segment from the peer: our MSS less the options it carries. */
static uint32_t rcv_mss(const struct tcb *t)
{
    return t->st->cfg.mtu - 40 - (t->ts_ok ? 12 : 0);
}

/* A FIN beyond a gap: kept (as Linux keeps it with the out-of-order
 * data), so that filling the gap completes the close without waiting for
 * the peer to send the FIN again. */
static void hold_fin(struct tcb *t, uint32_t fin_seq)
{
    t->rcv_fin_held = true;
    t->rcv_fin_seq = fin_seq;
}

/* Data beyond RCV.NXT waits in the receive ring at its offset, and its
 * range is remembered (and reported in SACK blocks).  RFC 5681 §4.2: an
 * out-of-order segment is ACKed at once, so the sender sees the gap.  A
 * FIN on it is remembered too, for when the gap fills (fin_input). */
static void hold_out_of_order(struct tcb *t, const struct tcp_segment *seg)
{
    uint32_t gap = seg->seq - t->rcv_nxt, end = seg->seq + seg->data_len;
    const struct seq_range *held = seq_ranges_find(&t->ooo, seg->seq);
    bool kept = true;
    if (held && seq_leq(end, held->end)) {
        t->ooo_last = seg->seq;  /* a copy of what is held: nothing to store */
    } else if (tcb_rcvq_write_ahead(t, gap, seg->data, seg->data_len) &&
               seq_ranges_add(&t->ooo, seg->seq, end)) {
        t->ooo_last = seg->seq;
        stack_count(t->st, EV_TCP_OOO_QUEUED);
    } else {
        stack_drop(t->st, DROP_TCP_OOO_FULL);
        kept = false;
    }
    if (kept && (seg->flags & TCP_FIN))
        hold_fin(t, end);
    tcp_ack_owed(t, true);
}

/* After in-order bytes arrived: held ranges that now touch RCV.NXT join
 * the in-order data, already in place in the ring.  True if any did. */
static bool absorb_out_of_order(struct tcb *t)
{
    bool any = false;
    while (t->ooo.n && seq_leq(t->ooo.r[0].start, t->rcv_nxt)) {
        uint32_t end = t->ooo.r[0].end;
        if (seq_gt(end, t->rcv_nxt)) {
            ring_commit(&t->rcvq, end - t->rcv_nxt);
            t->rcv_nxt = end;
        }
        seq_ranges_trim_below(&t->ooo, t->rcv_nxt);
        any = true;
    }
    return any;
}

static bool text_input(struct tcb *t, const struct tcp_segment *seg)
{
    if (seg->data_len == 0)
        return true;
    if (t->state != TCP_ESTABLISHED && t->state != TCP_FIN_WAIT_1 &&
        t->state != TCP_FIN_WAIT_2) {
        /* CLOSE-WAIT and later: the peer's FIN came before this. */
        stack_drop(t->st, DROP_TCP_DATA_AFTER_FIN);
        return false;
    }
    if (seg->seq != t->rcv_nxt) {
        hold_out_of_order(t, seg);
        return false;  /* a FIN on it is not in order either */
    }
    uint32_t n = tcb_ring_write(t, &t->rcvq, seg->data, seg->data_len);
    t->rcv_nxt += n;
    if (n < seg->data_len) {
        stack_drop(t->st, DROP_TCP_RCV_BUF_FULL);
        tcp_ack_owed(t, true);
        return false;  /* a FIN behind missing bytes is not yet in order */
    }
    /* ACK at once when the segment fills all or part of a gap (RFC 5681
     * §4.2: data was held beyond it) or two full-sized segments are
     * unacknowledged (RFC 9293 §3.8.6.3); else delay. */
    bool gap = t->ooo.n > 0 || t->rcv_fin_held;
    absorb_out_of_order(t);
    if (t->rcv_fin_held && seq_gt(t->rcv_nxt, t->rcv_fin_seq))
        t->rcv_fin_held = false;  /* data past that FIN: it was no FIN to keep */
    tcp_ack_owed(t, gap || t->rcv_nxt - t->last_ack_sent >= TCP_DELACK_SEGMENTS * rcv_mss(t));
    tcp_app_data(t);
    return t->state != TCP_CLOSED;
}

/* --- eighth: FIN ------------------------------------------------------------ */

static void fin_input(struct tcb *t, const struct tcp_segment *seg)
{
    const char *why = NULL;
    bool fin = seg->flags & TCP_FIN;
    uint32_t end = seg->seq + seg->data_len;
    if (fin && end != t->rcv_nxt) {
        if (seq_gt(end, t->rcv_nxt)) {
            hold_fin(t, end);  /* a bare FIN beyond a gap: out of order too */
            tcp_ack_owed(t, true);
        }
        return;
    }
    if (!fin) {
        if (!t->rcv_fin_held || t->rcv_fin_seq != t->rcv_nxt)
            return;
        why = "the FIN held beyond a gap is in order now";
    }
    t->rcv_fin_held = false;
    t->rcv_nxt++;
    t->ack_now = true;
    switch (t->state) {
    case TCP_ESTABLISHED:
        tcp_set_state(t, TCP_CLOSE_WAIT, seg, why, "RFC 9293 §3.10.7.4 (eighth, ESTABLISHED)");
        tcp_app_eof(t);
        break;
    case TCP_FIN_WAIT_1:
        /* Our FIN is not yet acked: had this segment acked it, the ACK step
         * would already have moved us to FIN-WAIT-2.  Both sides closed at
         * once: simultaneous close (§3.6). */
        tcp_set_state(t, TCP_CLOSING, seg, why, "RFC 9293 §3.10.7.4 (eighth, FIN-WAIT-1)");
        break;
    case TCP_FIN_WAIT_2:
        enter_timewait(t, seg, why, "RFC 9293 §3.10.7.4 (eighth, FIN-WAIT-2)");
        break;
    case TCP_TIME_WAIT:
        tcp_start_timewait(t);
        break;
    default:  /* CLOSE-WAIT, CLOSING, LAST-ACK: remain */
        break;
    }
}

/* --- §3.10.7.4: a connection that is not LISTEN ------------------------------ */

/* Cases handled before the numbered checks, where answering per the
 * generic rules would not help the peer. */
static bool special_cases(struct tcb *t, const struct tcp_segment *seg)
{
    /* A retransmitted SYN in SYN-RECEIVED: our SYN-ACK was lost.  The RFC's
     * unacceptable-segment ACK would not carry our SYN; send the SYN-ACK
     * again instead, as BSD and Linux do. */
    if (t->state == TCP_SYN_RECEIVED && (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
        seg->seq == t->irs) {
        TCP_TRACE_EVENT(t, "retransmitted SYN, resend SYN-ACK", "RFC 9293 §3.8.1");
        t->rtt_timing = false;  /* Karn: which SYN-ACK is acked is now ambiguous */
        tcp_send_synack(t);
        return true;
    }
    /* TIME-WAIT: "the only thing that can arrive in this state is a
     * retransmission of the remote FIN.  Acknowledge it, and restart the
     * 2 MSL timeout" (§3.10.7.4, fifth and eighth). */
    if (t->state == TCP_TIME_WAIT && (seg->flags & TCP_FIN) && !(seg->flags & TCP_RST) &&
        seg->seq + tcp_seg_len(seg) == t->rcv_nxt) {
        TCP_TRACE_EVENT(t, "retransmitted FIN, re-ACK and restart 2MSL", "RFC 9293 §3.10.7.4");
        t->ack_now = true;
        tcp_start_timewait(t);
        return true;
    }
    return false;
}

static void synchronized_input(struct tcb *t, const struct tcp_segment *in)
{
    if (special_cases(t, in))
        return;
    /* first: check the sequence number */
    if (!paws_ok(t, in))
        return;
    if (!seq_acceptable(t, in)) {
        /* A zero window still takes a valid ACK or RST at RCV.NXT. */
        if (!(tcp_rcv_window(t) == 0 && in->seq == t->rcv_nxt)) {
            stack_drop(t->st, (in->flags & TCP_RST) ? DROP_TCP_RST_OUT_OF_WINDOW
                                                    : DROP_TCP_UNACCEPTABLE);
            if (!(in->flags & TCP_RST))
                tcp_ack_invalid(t, in);
            return;
        }
    }
    update_ts_recent(t, in);
    t->idle_since = t->st->now;   /* the peer is alive (keep-alive) */
    t->keepalive_probes = 0;
    struct tcp_segment seg = *in;
    trim_to_window(t, &seg);
    if (seg.flags & TCP_RST) {       /* second */
        rst_input(t, in);
        return;
    }
    if (seg.flags & TCP_SYN) {       /* fourth */
        syn_input(t, &seg);
        return;
    }
    if (!ack_input(t, &seg))         /* fifth */
        return;
    if (!text_input(t, &seg))        /* seventh */
        return;
    fin_input(t, &seg);              /* eighth */
}

/* RFC 6191 (and RFC 9293 §3.10.7.4's note on TIME-WAIT): a SYN that is
 * clearly newer than the old incarnation may reopen the 4-tuple. */
static bool timewait_reusable(const struct tcb *t, const struct tcp_segment *seg)
{
    if (t->state != TCP_TIME_WAIT || (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return false;
    if (t->ts_ok && seg->opt.has_timestamp)
        return seq_gt(seg->opt.tsval, t->ts_recent);
    return seq_gt(seg->seq, t->rcv_nxt);
}

void tcp_input(struct stack *st, const struct tcp_segment *seg)
{
    struct tcb *t = tcb_lookup(st, seg->dst, seg->dport, seg->src, seg->sport);
    tcp_trace_segment(st, t, "IN", seg, 0);
    if (t && timewait_reusable(t, seg)) {
        stack_count(st, EV_TCP_TIME_WAIT_REUSE);
        tcp_set_state(t, TCP_CLOSED, seg, NULL, "RFC 6191");
        tcb_release(t);
        t = NULL;
    }
    if (!t) {
        struct listener *l = listener_find(st, seg->dport);
        if (!l) {
            /* §3.10.7.1: CLOSED.  Everything but an RST gets an RST. */
            stack_drop(st, DROP_TCP_NO_LISTENER);
            tcp_reply_rst(st, seg);
            return;
        }
        if ((t = syn_cookie_open(st, l, seg)) == NULL) {
            listen_input(st, l, seg);
            return;
        }
    }
    synchronized_input(t, seg);
    if (t->state != TCP_CLOSED && t->state != TCP_LISTEN)
        tcp_output(t);
}
