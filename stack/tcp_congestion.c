/*
 * tcp_congestion.c -- how much may be in flight, and what to resend when
 * something was lost.
 *
 *   slow start and congestion avoidance    RFC 5681 §3.1
 *   initial window                         RFC 6928
 *   restart after idle                     RFC 5681 §4.1
 *   fast retransmit / fast recovery        RFC 5681 §3.2, NewReno RFC 6582
 *   limited transmit                       RFC 3042
 *   SACK-based loss recovery               RFC 6675 (when SACK was permitted)
 *   retransmission timeout                 RFC 5681 §3.1 eq. (4), RFC 6298 §5
 *
 * Every change of cwnd or ssthresh that a reader would want to see — not
 * the steady growth per ACK, but each reaction to loss — is traced.
 */
#include <stdio.h>

#include "stack/seq.h"
#include "stack/tcp.h"

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static void trace_cc(struct tcb *t, const char *what, const char *rfc,
                     const char *file, int line)
{
    char buf[192];
    snprintf(buf, sizeof buf, "%s: cwnd=%u ssthresh=%u flight=%u una=%u (rel)", what,
             t->cwnd, t->ssthresh, t->snd_max - t->snd_una, t->snd_una - t->iss);
    tcp_trace_event(t, buf, rfc, file, line);
}
#define TRACE_CC(t, what, rfc) trace_cc((t), (what), (rfc), __FILE__, __LINE__)

/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)). */
static uint32_t initial_window(const struct tcb *t)
{
    return min_u32(10u * t->snd_mss, max_u32(2u * t->snd_mss, 14600));
}

void cc_init(struct tcb *t)
{
    t->cwnd = initial_window(t);
    t->ssthresh = UINT32_MAX;  /* "arbitrarily high" (RFC 5681 §3.1) */
    t->recover = t->iss;       /* RFC 6582 §3.2 (1) */
}

/* RFC 5681 §4.1: after an idle period longer than the RTO the ACK clock
 * is gone; start again from no more than the initial window. */
void cc_restart_after_idle(struct tcb *t)
{
    if (t->snd_max != t->snd_una || t->st->now - t->last_send <= t->rto)
        return;
    uint32_t rw = min_u32(initial_window(t), t->cwnd);
    if (rw < t->cwnd) {
        t->cwnd = rw;
        TRACE_CC(t, "restart after idle", "RFC 5681 §4.1");
    }
}

/* New data acked outside recovery: slow start grows cwnd by what was
 * acked (at most one MSS per ACK, RFC 3465 with L=1); congestion avoidance
 * by one MSS per cwnd of data acked. */
static void cc_grow(struct tcb *t, uint32_t acked)
{
    if (t->cwnd < t->ssthresh) {
        t->cwnd += min_u32(acked, t->snd_mss);
        return;
    }
    t->ca_acked += acked;
    if (t->ca_acked >= t->cwnd) {
        t->ca_acked -= t->cwnd;
        t->cwnd += t->snd_mss;
    }
}

/* RFC 5681 eq. (4): half of what was in flight, at least two segments.
 * Segments sent by limited transmit lie beyond cwnd and do not count
 * (RFC 3042 §2), hence the cap at cwnd. */
static uint32_t half_flight(const struct tcb *t)
{
    uint32_t flight = min_u32(t->snd_max - t->snd_una, t->cwnd);
    return max_u32(flight / 2, 2u * t->snd_mss);
}

/* Called with retries already counting this expiry. */
void cc_on_rto(struct tcb *t)
{
    /* RFC 5681 §3.1 eq. (4) is for the first timeout; when the segment
     * the timer resent is lost again, ssthresh is held (half of a flight
     * of one segment would say 2*MSS). */
    if (t->retries <= 1)
        t->ssthresh = half_flight(t);
    t->cwnd = t->snd_mss;  /* loss window, RFC 5681 §3.1 */
    t->ca_acked = 0;
    t->dupacks = 0;
    t->in_recovery = false;
    t->recover = t->snd_max;  /* no fast retransmit for this window (RFC 6582 §4.1) */
    TRACE_CC(t, "retransmission timeout", "RFC 5681 §3.1, RFC 6298 §5.5");
}

/* --- loss detection with SACK (RFC 6675 §4) ------------------------------ */

/* IsLost(seq): more than (DupThresh-1)*MSS bytes SACKed above it. */
static bool sack_is_lost(const struct tcb *t, uint32_t seq)
{
    return seq_ranges_bytes_above(&t->sacked, seq) > (TCP_DUPTHRESH - 1) * t->snd_mss;
}

/* Hole i: the unSACKed range [a, b) just below SACKed range i.  Holes lie
 * between SND.UNA and the highest SACKed byte. */
static void hole(const struct tcb *t, uint32_t i, uint32_t *a, uint32_t *b)
{
    *a = i == 0 ? t->snd_una : t->sacked.r[i - 1].end;
    *b = t->sacked.r[i].start;
}

/* RFC 6675 §4 SetPipe: bytes believed to be in the network.  A hole is
 * either lost as a whole or not: no SACKed byte lies inside it. */
static uint32_t sack_pipe(const struct tcb *t)
{
    uint32_t pipe = 0, highest = t->snd_una, a, b;
    for (uint32_t i = 0; i < t->sacked.n; i++) {
        hole(t, i, &a, &b);
        highest = t->sacked.r[i].end;
        if (!seq_lt(a, b))
            continue;
        if (!sack_is_lost(t, a))
            pipe += b - a;
        if (seq_gt(t->high_rxt, a))
            pipe += seq_min(t->high_rxt, b) - a;  /* resent: in flight again */
    }
    return pipe + (seq_gt(t->snd_max, highest) ? t->snd_max - highest : 0);
}

/* RFC 6675 §4 NextSeg, rule 1: the first lost byte at or above HighRxt,
 * and how much of its hole fits in a segment.  False when none is left. */
static bool sack_next_lost(const struct tcb *t, uint32_t *seq, uint32_t *len)
{
    uint32_t a, b;
    for (uint32_t i = 0; i < t->sacked.n; i++) {
        hole(t, i, &a, &b);
        uint32_t s = seq_max(a, t->high_rxt);
        if (seq_lt(s, b) && sack_is_lost(t, s)) {
            *seq = s;
            *len = min_u32(b - s, t->snd_mss);
            return true;
        }
    }
    return false;
}

/* A resent hole can be lost too, and RFC 6675 alone would then wait for
 * the timer.  Each round of resends remembers SND.MAX when it began; once
 * the peer SACKs data sent well after that mark while holes below HighRxt
 * are still missing, those resends did not arrive: start the holes over.
 * (BSD-era Linux did the same, per segment; RFC 8985's RACK does it by
 * time.) */
static void detect_lost_retransmissions(struct tcb *t)
{
    if (!t->rxt_mark_set || t->sacked.n == 0 || !seq_lt(t->snd_una, t->high_rxt))
        return;
    uint32_t highest = t->sacked.r[t->sacked.n - 1].end;
    if (!seq_gt(highest, t->rxt_mark + (TCP_DUPTHRESH - 1) * t->snd_mss))
        return;
    t->high_rxt = t->snd_una;
    t->rxt_mark_set = false;
    TRACE_CC(t, "a retransmission was lost, resend the holes again", "RFC 6675 §5");
}

static void note_hole_resent(struct tcb *t, uint32_t seq, uint32_t len)
{
    t->high_rxt = seq + len;
    if (!t->rxt_mark_set) {
        t->rxt_mark = t->snd_max;
        t->rxt_mark_set = true;
    }
}

/* --- the ACK side -------------------------------------------------------- */

static void enter_recovery(struct tcb *t)
{
    t->ssthresh = half_flight(t);
    t->recover = t->snd_max;
    t->high_rxt = t->snd_una;
    t->in_recovery = true;
    t->rtt_timing = false;  /* Karn: the timed segment may be resent */
    stack_count(t->st, EV_TCP_FAST_RETRANSMITS);
    if (t->sack_ok) {
        t->cwnd = t->ssthresh;  /* RFC 6675 §5 (4.2) */
        TRACE_CC(t, "fast retransmit, SACK recovery", "RFC 6675 §5");
    } else {
        t->cwnd = t->ssthresh + TCP_DUPTHRESH * t->snd_mss;  /* RFC 6582 §3.2 (2) */
        TRACE_CC(t, "fast retransmit, NewReno recovery", "RFC 5681 §3.2, RFC 6582 §3.2");
    }
    /* The first unacked segment goes now, whatever pipe says (RFC 6675
     * §5 (4.3); RFC 5681 §3.2 (3)). */
    uint32_t len = t->snd_mss;
    const struct seq_range *r = seq_ranges_next(&t->sacked, t->snd_una);
    if (r)
        len = min_u32(len, r->start - t->snd_una);
    t->rxt_mark_set = false;
    note_hole_resent(t, t->snd_una, tcp_send_retransmission(t, t->snd_una, len));
}

/* An ACK that moved SND.UNA forward by acked bytes. */
void cc_on_new_ack(struct tcb *t, uint32_t acked)
{
    t->dupacks = 0;
    if (!t->in_recovery) {
        /* Once passed, recover only has to stay below SND.UNA: keep it
         * just there, or after 2 GiB without a loss the mod-2^32 test in
         * cc_on_dupack() would turn and no fast retransmit would come. */
        if (seq_gt(t->snd_una, t->recover))
            t->recover = t->snd_una - 1;
        cc_grow(t, acked);
        return;
    }
    if (seq_geq(t->snd_una, t->recover)) {
        /* Full ACK: leave recovery with cwnd = ssthresh, or less if little
         * is in flight (RFC 6582 §3.2 (3); RFC 6675 §5). */
        t->in_recovery = false;
        t->cwnd = t->sack_ok ? t->ssthresh
                             : min_u32(t->ssthresh, max_u32(t->snd_max - t->snd_una, t->snd_mss) + t->snd_mss);
        TRACE_CC(t, "recovery complete", t->sack_ok ? "RFC 6675 §5" : "RFC 6582 §3.2");
        return;
    }
    if (!t->sack_ok) {
        /* Partial ACK: the next hole is lost too.  Resend it, deflate cwnd
         * by what was acked, then add back one MSS (RFC 6582 §3.2 (5)). */
        tcp_send_retransmission(t, t->snd_una, t->snd_mss);
        t->cwnd = (t->cwnd > acked ? t->cwnd - acked : 0) + t->snd_mss;
        TRACE_CC(t, "partial ACK, resend next segment", "RFC 6582 §3.2");
    }
    if (seq_lt(t->high_rxt, t->snd_una))
        t->high_rxt = t->snd_una;
}

/* A duplicate ACK (RFC 5681 §2 definition, checked by the caller). */
void cc_on_dupack(struct tcb *t)
{
    t->dupacks++;
    if (t->in_recovery) {
        if (!t->sack_ok)
            t->cwnd += t->snd_mss;  /* inflate: a segment has left (RFC 6582 §3.2 (4)) */
        return;
    }
    bool lost = t->sack_ok ? (t->dupacks >= TCP_DUPTHRESH || sack_is_lost(t, t->snd_una))
                           : t->dupacks == TCP_DUPTHRESH;
    /* RFC 6582 §4.1: no second fast retransmit for losses in a window
     * already being recovered (ack must be past recover). */
    if (lost && seq_gt(t->snd_una, t->recover))
        enter_recovery(t);
}

/* --- the send side -------------------------------------------------------- */

/* Bytes the congestion window still allows to be sent. */
uint32_t cc_send_allowance(const struct tcb *t)
{
    uint32_t in_flight;
    if (t->in_recovery && t->sack_ok) {
        in_flight = sack_pipe(t);
    } else {
        /* Bytes up to SND.NXT, less those the peer SACKed: after a timeout
         * SND.NXT is rewound, and what lies past it counts as lost. */
        in_flight = t->snd_nxt - t->snd_una;
        in_flight -= min_u32(in_flight, seq_ranges_bytes_above(&t->sacked, t->snd_una) -
                                            seq_ranges_bytes_above(&t->sacked, t->snd_nxt));
    }
    /* Limited Transmit (RFC 3042): each of the first two duplicate ACKs
     * lets one new segment go beyond cwnd, so a loss near the end of a
     * small flight still draws the dupACKs fast retransmit needs. */
    uint32_t cwnd = t->cwnd;
    if (!t->in_recovery && t->dupacks > 0 && t->dupacks < TCP_DUPTHRESH)
        cwnd += t->dupacks * t->snd_mss;
    return cwnd > in_flight ? cwnd - in_flight : 0;
}

/* In SACK recovery, resend lost holes while pipe allows (RFC 6675 §5 (C)).
 * New data is left to the ordinary send path. */
void cc_recovery_send(struct tcb *t)
{
    if (!t->in_recovery || !t->sack_ok)
        return;
    detect_lost_retransmissions(t);
    uint32_t seq, len;
    while (cc_send_allowance(t) >= t->snd_mss && sack_next_lost(t, &seq, &len)) {
        uint32_t sent = tcp_send_retransmission(t, seq, len);
        if (sent == 0)
            break;  /* nothing of it is queued: cannot happen below the SACKed data */
        note_hole_resent(t, seq, sent);
    }
}
