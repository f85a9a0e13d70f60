/*
 * tcp_rtt.c -- round-trip time and the retransmission timeout, RFC 6298.
 *
 * Samples come from the timestamp echo when timestamps are on (RFC 7323 §4),
 * otherwise from timing one segment at a time, never one that was
 * retransmitted (Karn's algorithm, RFC 6298 §3).
 */
#include "stack/seq.h"
#include "stack/tcp.h"

static usec_t clamp_rto(const struct tcb *t, usec_t rto)
{
    if (rto < t->st->cfg.min_rto)
        return t->st->cfg.min_rto;
    return rto > TCP_MAX_RTO ? TCP_MAX_RTO : rto;
}

/* Back to the RTO the estimate gives (or the initial one, before any
 * sample), after progress ends a run of backed-off timeouts. */
void tcp_rto_reset(struct tcb *t)
{
    if (!t->rtt_valid) {
        t->rto = TCP_INITIAL_RTO;
        return;
    }
    usec_t k = 4 * t->rttvar;
    t->rto = clamp_rto(t, t->srtt + (k > TCP_CLOCK_GRANULARITY ? k : TCP_CLOCK_GRANULARITY));
}

/* RFC 6298 §2.2-2.3: the first sample sets SRTT and RTTVAR; later ones
 * move them by 1/8 and 1/4 of the error. */
void tcp_rtt_sample(struct tcb *t, usec_t r)
{
    if (!t->rtt_valid) {
        t->srtt = r;
        t->rttvar = r / 2;
        t->rtt_valid = true;
    } else {
        usec_t err = t->srtt > r ? t->srtt - r : r - t->srtt;
        t->rttvar = (3 * t->rttvar + err) / 4;
        t->srtt = (7 * t->srtt + r) / 8;
    }
    tcp_rto_reset(t);
}

/* RFC 6298 §5.5: each expiry doubles the RTO, up to the maximum. */
void tcp_rto_backoff(struct tcb *t)
{
    t->rto = clamp_rto(t, t->rto * 2);
}

/* An ACK moved SND.UNA to ack: take a sample if this ACK can give one. */
void tcp_rtt_on_ack(struct tcb *t, const struct tcp_segment *seg)
{
    if (t->ts_ok && seg->opt.has_timestamp && seg->opt.tsecr != 0) {
        /* A cookie SYN-ACK's TSval was set back by up to 63 ms to carry
         * options (syn_cookie.h): its echo would overstate the RTT. */
        if (t->by_cookie && t->state == TCP_SYN_RECEIVED)
            return;
        /* RFC 7323 §4.1: TSecr echoes our clock of when the acked data left. */
        uint32_t ms = tcp_ts_now(t) - seg->opt.tsecr;
        if (ms < 60 * 1000)
            tcp_rtt_sample(t, (usec_t)ms * 1000);
        return;
    }
    if (t->rtt_timing && seq_geq(seg->ack, t->rtt_seq)) {
        t->rtt_timing = false;
        tcp_rtt_sample(t, t->st->now - t->rtt_start);
    }
}

/* Start timing a segment that ends at end_seq, unless one is in flight. */
void tcp_rtt_time(struct tcb *t, uint32_t end_seq)
{
    if (t->ts_ok || t->rtt_timing)
        return;
    t->rtt_timing = true;
    t->rtt_seq = end_seq;
    t->rtt_start = t->st->now;
}
