"""
Reliable delivery: the retransmission timer (RFC 6298: SRTT, RTTVAR, RTO,
Karn's algorithm, the minimum RTO, exponential backoff to 60 s), giving up
(RFC 9293 §3.8.3 R2, the user timeout), keep-alive (RFC 9293 §3.8.4, RFC
1122 §4.2.3.6), and the receive side of reordering and duplication (RFC
9293 §3.10.7.4, RFC 5681 §4.2, RFC 2018 §4).

The handshake's ACK is the first RTT sample (util.handshake): an ACK 100 ms
after the SYN-ACK makes SRTT = 100 ms, RTTVAR = 50 ms and RTO = SRTT +
max(G, 4·RTTVAR) = 300 ms; one at once makes the RTO the 200 ms minimum.
"""
from util import (C_ISN, MS, SEC, SACK_PERM, TS_PERM, TCP, Stack, CLOSED_TIMEOUT, describe,
                  established, expect_counts, expect_deadline, expect_events, expect_seg,
                  expect_status, expect_transitions, flags, handshake, nothing, one, opt, out,
                  payload, sack_blocks, sack_opt, seq_add, status, tsval)

OPEN = ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"]
C1 = seq_add(C_ISN, 1)
C6 = seq_add(C_ISN, 6)
CC = "stack/tcp_congestion.c"
OUTPUT = "stack/tcp_output.c"


def rto_line(flight, ssthresh=2920, cwnd=1460, una=1):
    """The trace text of a timeout; una is SND.UNA relative to our ISN (1:
    nothing of the data acknowledged yet)."""
    return "retransmission timeout: cwnd=%d ssthresh=%d flight=%d una=%d (rel) " \
           "(RFC 5681 §3.1, RFC 6298 §5.5)" % (cwnd, ssthresh, flight, una)


def resend_line(seq, rel, n, rfc="RFC 6298 §5.4"):
    return "retransmit seq=%d (rel %d) len=%d (%s)" % (seq, rel, n, rfc)


def no_segment_until(st, t, why):
    """Nothing leaves before t (one microsecond early is checked)."""
    st.advance(t - 1)
    nothing(st, why)
    st.advance(t)


# --- RTT estimation and the RTO (RFC 6298 §2, §3) --------------------------------

def test_rto_from_timestamp_echo():
    # RFC 7323 §4.1: the RTT is now minus the TSecr of an ACK that moves
    # SND.UNA.  RFC 6298 §2.2, §2.3: the first sample R sets SRTT = R,
    # RTTVAR = R/2; later ones RTTVAR = 3/4·RTTVAR + 1/4·|SRTT - R'|,
    # SRTT = 7/8·SRTT + 1/8·R'; RTO = SRTT + max(G, 4·RTTVAR).
    with Stack() as st:
        c, s = handshake(st, rtt=100 * MS, options=TS_PERM, ts=1000)
        S1 = seq_add(s, 1)
        # Sample 100 ms: SRTT 100, RTTVAR 50, RTO 100 + 200 = 300 ms.
        assert st.app_send(b"a" * 100) == 100
        a = expect_seg(one(st), "PA", S1, C1, data=b"a" * 100)
        assert opt(a, "Timestamp") == (tsval(100 * MS), 1000), describe(a)
        expect_deadline(st, 400 * MS)
        # The ACK echoes the TSval of 100 ms at 200 ms: sample 100 ms, so
        # SRTT 100, RTTVAR 3/4·50 = 37.5, RTO 100 + 150 = 250 ms.
        c.absorb(a)
        c.send("A", t=200 * MS, ack=seq_add(S1, 100))
        nothing(st)
        expect_deadline(st, None)
        st.app_send(b"b" * 100)
        expect_seg(one(st), "PA", seq_add(S1, 100), C1, data=b"b" * 100)
        expect_deadline(st, 450 * MS)
        # Lost: resent at exactly 450 ms with a new TSval; the RTO doubles.
        no_segment_until(st, 450 * MS, "a retransmission before the RTO (250 ms)")
        r = expect_seg(one(st, "the retransmission"), "PA", seq_add(S1, 100), C1, data=b"b" * 100)
        assert opt(r, "Timestamp") == (tsval(450 * MS), 1000), describe(r)
        expect_deadline(st, 950 * MS)
        # With timestamps an ACK of a retransmission gives a sample (RFC
        # 6298 §3): it echoes the resend's TSval, 300 ms before the ACK.
        # SRTT 7/8·100 + 1/8·300 = 125, RTTVAR 3/4·37.5 + 1/4·200 = 78.125,
        # RTO 125 + 312.5 = 437.5 ms.
        c.absorb(r)
        c.send("A", t=750 * MS, ack=seq_add(S1, 200))
        nothing(st)
        st.app_send(b"c" * 100)
        expect_seg(one(st), "PA", seq_add(S1, 200), C1, data=b"c" * 100)
        expect_deadline(st, 750 * MS + 437500)
        expect_events(st, "retransmi", [
            (450 * MS, rto_line(100, ssthresh=2 * 1448, cwnd=1448, una=101), CC),   # MSS 1460 - 12
            (450 * MS, resend_line(seq_add(S1, 100), 101, 100), OUTPUT)])
        expect_counts(st, events={"TCP_RETRANSMITS": 1, "TCP_RTO_EXPIRIES": 1,
                                  "TCP_FAST_RETRANSMITS": 0})


def test_rto_from_timed_segment():
    # Without timestamps one segment at a time is timed (RFC 6298 §3);
    # segments sent while it is in flight give no sample.
    with Stack(nagle=0) as st:
        c, s = handshake(st, rtt=100 * MS)
        S1 = seq_add(s, 1)
        # The timed SYN-ACK gave 100 ms: RTO 300 ms.
        st.app_send(b"a" * 100)
        expect_seg(one(st), "PA", S1, C1, data=b"a" * 100)
        expect_deadline(st, 400 * MS)
        st.advance(150 * MS)
        st.app_send(b"b" * 100)
        expect_seg(one(st), "PA", seq_add(S1, 100), C1, data=b"b" * 100)
        expect_deadline(st, 400 * MS)          # a running timer is not restarted (§5.1)
        # "a" took 200 ms: SRTT 112.5, RTTVAR 62.5, RTO 112.5 + 250 = 362.5
        # ms; the timer restarts for "b" (§5.3).
        c.send("A", t=300 * MS, ack=seq_add(S1, 100))
        nothing(st)
        expect_deadline(st, 300 * MS + 362500)
        # "b" was not timed: its ACK 170 ms later changes nothing.
        c.send("A", t=320 * MS, ack=seq_add(S1, 200))
        nothing(st)
        expect_deadline(st, None)               # all acked: timer off (§5.2)
        st.advance(400 * MS)
        st.app_send(b"c" * 100)
        expect_seg(one(st), "PA", seq_add(S1, 200), C1, data=b"c" * 100)
        expect_deadline(st, 400 * MS + 362500)
        no_segment_until(st, 400 * MS + 362500, "a retransmission before the RTO")
        expect_seg(one(st, "the retransmission"), "PA", seq_add(S1, 200), C1, data=b"c" * 100)
        expect_deadline(st, 400 * MS + 362500 + 725000)
        expect_events(st, "timeout", [(762500, rto_line(100, una=201), CC)])
        expect_counts(st, events={"TCP_RETRANSMITS": 1, "TCP_RTO_EXPIRIES": 1})


def test_karn_no_sample_from_retransmitted_segment():
    # RFC 6298 §3: "RTT samples MUST NOT be made using segments that were
    # retransmitted".  The ACK of a resent segment is ambiguous: 350 ms
    # from the first transmission, 50 ms from the second.
    with Stack() as st:
        c, s = handshake(st, rtt=100 * MS)     # SRTT 100, RTTVAR 50, RTO 300
        S1 = seq_add(s, 1)
        st.advance(200 * MS)
        st.app_send(b"1" * 100)
        expect_seg(one(st), "PA", S1, C1, data=b"1" * 100)
        expect_deadline(st, 500 * MS)
        no_segment_until(st, 500 * MS, "a retransmission before the RTO")
        expect_seg(one(st, "the retransmission"), "PA", S1, C1, data=b"1" * 100)
        c.send("A", t=550 * MS, ack=seq_add(S1, 100))
        nothing(st)
        # Fresh data, acked 100 ms later without retransmission: a valid
        # sample.  Had the ambiguous ACK been taken, SRTT and RTTVAR would
        # now differ; without it SRTT 100, RTTVAR 3/4·50 = 37.5, RTO 250.
        st.advance(600 * MS)
        st.app_send(b"2" * 100)
        expect_seg(one(st), "PA", seq_add(S1, 100), C1, data=b"2" * 100)
        c.send("A", t=700 * MS, ack=seq_add(S1, 200))
        nothing(st)
        st.advance(800 * MS)
        st.app_send(b"3" * 100)
        expect_seg(one(st), "PA", seq_add(S1, 200), C1, data=b"3" * 100)
        expect_deadline(st, 1050 * MS)
        expect_counts(st, events={"TCP_RETRANSMITS": 1, "TCP_RTO_EXPIRIES": 1})


def test_backed_off_rto_kept_until_fresh_sample():
    # RFC 9293 §3.8.2: "RFC 6298 describes exponential backoff of RTO
    # values, including keeping the backed-off value until a subsequent
    # segment with new data has been sent and acknowledged without
    # retransmission."  RFC 6298 §5: the RTO collapses back only "once a
    # new RTT measurement is obtained".
    with Stack() as st:
        c, s = handshake(st, rtt=100 * MS)     # RTO 300 ms
        S1 = seq_add(s, 1)
        st.advance(200 * MS)
        st.app_send(b"1" * 100)
        one(st)
        st.advance(500 * MS)
        expect_seg(one(st, "the retransmission"), "PA", S1, C1, data=b"1" * 100)
        expect_deadline(st, 1100 * MS)         # backed off to 600 ms
        # The ACK of the resent segment gives no sample (Karn), so the RTO
        # stays at 600 ms for the next new data.
        c.send("A", t=550 * MS, ack=seq_add(S1, 100))
        nothing(st)
        st.advance(600 * MS)
        st.app_send(b"2" * 100)
        expect_seg(one(st), "PA", seq_add(S1, 100), C1, data=b"2" * 100)
        expect_deadline(st, 1200 * MS)
        # Acked without retransmission after 100 ms: a sample, and the RTO
        # collapses to SRTT 100 + 4·37.5 = 250 ms.
        c.send("A", t=700 * MS, ack=seq_add(S1, 200))
        st.advance(800 * MS)
        st.app_send(b"3" * 100)
        one(st)
        expect_deadline(st, 1050 * MS)


def test_min_rto_default_and_configurable():
    # An RTT of 0 makes SRTT + max(G, 4·RTTVAR) = G = 1 ms (RFC 6298
    # §2.2); the floor (200 ms by default, §2.4 allows a lower bound than
    # 1 s) decides when the segment is resent.
    for cfg, rto in (({}, 200 * MS), ({"min_rto": 50 * MS}, 50 * MS),
                     ({"min_rto": 1 * SEC}, 1 * SEC), ({"min_rto": 0}, 1 * MS)):
        with Stack(**cfg) as st:
            c, s = handshake(st, rtt=0)
            S1 = seq_add(s, 1)
            st.advance(20 * MS)
            st.app_send(b"x" * 10)
            expect_seg(one(st), "PA", S1, C1, data=b"x" * 10)
            expect_deadline(st, 20 * MS + rto)
            no_segment_until(st, 20 * MS + rto, "a retransmission before %d µs (%s)" % (rto, cfg))
            expect_seg(one(st, "the retransmission (%s)" % cfg), "PA", S1, C1, data=b"x" * 10)
            expect_deadline(st, 20 * MS + 3 * rto)
            expect_counts(st, events={"TCP_RETRANSMITS": 1, "TCP_RTO_EXPIRIES": 1})


def test_rto_backoff_doubles_to_60s_cap_then_gives_up():
    # RFC 6298 §5.5: each expiry doubles the RTO; §2.5: a maximum of at
    # least 60 s.  RFC 9293 §3.8.3: after R2 the connection is closed (here
    # with RST), and the app hears it timed out.
    with Stack(max_retries=11) as st:
        c, s = established(st)                 # RTT 0: RTO = 200 ms
        S1 = seq_add(s, 1)
        t0 = 20 * MS
        st.advance(t0)
        st.app_send(b"z" * 100)
        expect_seg(one(st), "PA", S1, C6, data=b"z" * 100)
        rtos = [200 * MS * 2 ** k for k in range(9)] + [60 * SEC, 60 * SEC]
        assert rtos[8] == 51200 * MS           # 102.4 s would be next: capped
        t = t0
        times = []
        for k, rto in enumerate(rtos):
            expect_deadline(st, t + rto)
            t += rto
            times.append(t)
            no_segment_until(st, t, "retransmission #%d before %d µs" % (k + 1, t))
            expect_seg(one(st, "retransmission #%d" % (k + 1)), "PA", S1, C6, data=b"z" * 100)
        assert times[-1] == t0 + 222200 * MS
        # The 12th expiry, 60 s later: max_retries (11) reached.
        expect_deadline(st, t + 60 * SEC)
        no_segment_until(st, t + 60 * SEC, "the RST before the 12th expiry")
        expect_seg(one(st, "RST on giving up"), "RA", seq_add(S1, 100), C6, win=0)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])
        line = [ln for ln in st.trace() if "ESTABLISHED -> CLOSED" in ln][0]
        assert line.startswith("282.220000 ") and \
            "on retransmissions exhausted, sent RST (RFC 9293 §3.8.3)" in line, line
        expect_status(st, status(closed=True, reason=CLOSED_TIMEOUT))
        assert st.tcb_count() == 0
        expect_deadline(st, None)
        expect_events(st, "timeout", [(tt, rto_line(100), CC) for tt in times])
        expect_events(st, "retransmit seq", [(tt, resend_line(S1, 1, 100), OUTPUT) for tt in times])
        expect_counts(st, events={"TCP_RETRANSMITS": 11, "TCP_RTO_EXPIRIES": 11,
                                  "TCP_TIMEOUTS": 1, "TCP_RST_SENT": 1})


def test_a_repeated_timeout_holds_ssthresh():
    # RFC 5681 §3.1: ssthresh = FlightSize/2 at the first timeout (30
    # segments in flight, cwnd 10: 7300); when the resent segment times out
    # again it is held, not halved from a flight of one segment to 2*MSS.
    with Stack() as st:
        c, s = handshake(st, rtt=0)
        st.advance(10 * MS)
        st.app_send(bytes(30 * 1460))
        out(st)
        for _ in range(3):
            st.advance(st.next_deadline())
            out(st)
        lines = [l for l in st.trace() if "retransmission timeout" in l]
        assert len(lines) == 3 and all("ssthresh=7300 " in l for l in lines), lines


def test_timeout_with_our_fin_sacked():
    # Two segments and our FIN; the first is lost and the peer SACKs the
    # second and the FIN, [MSS, 2*MSS+1), as Linux does.  At the timeout
    # only the first is resent: the FIN is not sent again one past itself.
    with Stack() as st:
        c, s = handshake(st, rtt=0, options=SACK_PERM)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_send(bytes(2 * 1460))
        st.app_close()
        assert [flags(p) for p in out(st)] == ["A", "PA", "FA"]
        c.send("A", t=30 * MS, ack=S1, options=[sack_opt(S1, (1460, 2 * 1460 + 1))])
        nothing(st, "one duplicate ACK")
        st.advance(st.next_deadline())
        expect_seg(one(st, "segment 1 again, and nothing after it"), "A", S1, C1,
                   data=bytes(1460))
        c.send("A", t=st.now + 5 * MS, ack=seq_add(S1, 2 * 1460 + 1))
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2"])
        st.advance(st.now + 200 * SEC)
        assert [p for p in out(st) if "R" in flags(p) or "F" in flags(p)] == []


def test_sack_recovery_goes_on_after_our_fin():
    # Ten segments and our FIN, segments 2 and 5 lost: each hole is resent
    # as the SACKs show it, though the FIN is already out.
    with Stack() as st:
        c, s = handshake(st, rtt=0, options=SACK_PERM)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_send(bytes(10 * 1460))
        st.app_close()
        assert len(out(st)) == 11
        c.send("A", t=30 * MS, ack=seq_add(S1, 1460))
        resent, t = [], 30 * MS
        for k in (3, 4, 6, 7, 8, 9, 10):   # segment k arrives; the SACK says so
            blocks = [(2 * 1460, min(k, 4) * 1460)] + ([(5 * 1460, k * 1460)] if k >= 6 else [])
            t += MS
            c.send("A", t=t, ack=seq_add(S1, 1460), options=[sack_opt(S1, *reversed(blocks))])
            resent += [(p[TCP].seq - S1) % (1 << 32) // 1460 + 1 for p in out(st)]
        assert resent == [2, 5], resent


# --- the user timeout (RFC 9293 §3.8.4, RFC 5482) --------------------------------

def test_user_timeout_resets_on_time():
    # Data unacknowledged for longer than the user timeout: the connection
    # is reset when the timeout runs out (RFC 9293 §3.8.4), not at the next
    # retransmission expiry after it, and long before max_retries (8) would
    # be reached.  The clock starts when the data was sent, not when the
    # connection opened.
    with Stack(user_timeout=1 * SEC) as st:
        c, s = established(st)                 # RTO 200 ms
        S1 = seq_add(s, 1)
        t0 = 5 * SEC
        st.advance(t0)
        st.app_send(b"u" * 50)
        expect_seg(one(st), "PA", S1, C6, data=b"u" * 50)
        for t in (t0 + 200 * MS, t0 + 600 * MS):   # 0.2 s and 0.6 s old: go on
            no_segment_until(st, t, "a retransmission before %d µs" % t)
            expect_seg(one(st, "retransmission at %d µs" % t), "PA", S1, C6, data=b"u" * 50)
        # The next expiry would be at 1.4 s (RTO 800 ms); the timer stops at
        # the user timeout instead, 1 s after the data went.
        expect_deadline(st, t0 + 1 * SEC)
        no_segment_until(st, t0 + 1 * SEC, "the RST before the user timeout")
        expect_seg(one(st, "RST on the user timeout"), "RA", seq_add(S1, 50), C6, win=0)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])
        expect_status(st, status(closed=True, reason=CLOSED_TIMEOUT))
        expect_deadline(st, None)
        expect_counts(st, events={"TCP_RETRANSMITS": 2, "TCP_RTO_EXPIRIES": 2,
                                  "TCP_TIMEOUTS": 1, "TCP_RST_SENT": 1})


# --- keep-alive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) ------------------------------

def test_keepalive_probe_answer_and_give_up():
    K = 120 * SEC
    with Stack(keepalive=K) as st:
        c, s = established(st)                 # "hello" at 10 ms, the last sign of life
        S1 = seq_add(s, 1)
        # Armed at the handshake (0 s); at 120 s the peer has been silent
        # only since 10 ms, so the timer moves to 120.010 s.
        expect_deadline(st, K)
        st.advance(K)
        nothing(st, "no probe before 120 s of silence")
        expect_deadline(st, K + 10 * MS)
        no_segment_until(st, K + 10 * MS, "a keep-alive probe")
        # SEG.SEQ = SND.NXT - 1, no data: the peer must answer with an ACK.
        expect_seg(one(st, "keep-alive probe #1"), "A", seq_add(S1, -1), C6, win=65535)
        expect_deadline(st, K + 10 * MS + 75 * SEC)
        # The answer counts as activity: 75 s later the peer has been
        # silent for 74.999 s only, and the next probe waits for 120 s.
        t_ans = K + 11 * MS
        c.send("A", t=t_ans, ack=S1)
        nothing(st, "no reply to the probe's answer")
        st.advance(K + 10 * MS + 75 * SEC)
        nothing(st, "no probe 75 s after an answered one")
        expect_deadline(st, t_ans + K)
        no_segment_until(st, t_ans + K, "keep-alive probe #2")
        expect_seg(one(st, "keep-alive probe #2"), "A", seq_add(S1, -1), C6)
        # No answers: every 75 s, nine in all, then RST.
        probes = [t_ans + K + 75 * SEC * k for k in range(9)]
        for n, t in enumerate(probes[1:], 3):
            expect_deadline(st, t)
            no_segment_until(st, t, "keep-alive probe #%d" % n)
            expect_seg(one(st, "keep-alive probe #%d" % n), "A", seq_add(S1, -1), C6)
        t_rst = probes[-1] + 75 * SEC
        expect_deadline(st, t_rst)
        no_segment_until(st, t_rst, "the RST after nine unanswered probes")
        expect_seg(one(st, "RST"), "RA", S1, C6, win=0)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])
        line = [ln for ln in st.trace() if "ESTABLISHED -> CLOSED" in ln][0]
        assert line.startswith("%d.%06d " % (t_rst // SEC, t_rst % SEC)) and \
            "on keep-alive probes unanswered, sent RST (RFC 9293 §3.8.3)" in line, line
        expect_status(st, status(closed=True, reason=CLOSED_TIMEOUT))
        expect_events(st, "keep-alive", [(t, "keep-alive probe (RFC 9293 §3.8.4)", OUTPUT)
                                         for t in [K + 10 * MS] + probes])
        expect_counts(st, events={"TCP_KEEPALIVE_PROBES": 10, "TCP_TIMEOUTS": 1,
                                  "TCP_RST_SENT": 1, "TCP_RETRANSMITS": 0})


def test_keepalive_off_by_default():
    with Stack() as st:
        established(st)
        expect_deadline(st, None)
        st.advance(3 * 3600 * SEC)
        nothing(st, "no keep-alive unless configured (RFC 1122 §4.2.3.6)")
        expect_counts(st, events={"TCP_KEEPALIVE_PROBES": 0})


# --- receiving: reordering and duplication ----------------------------------------

def piece(k, n=100):
    return bytes([0x41 + k]) * n


def test_reordered_segments_sack_and_in_order_delivery():
    # RFC 5681 §4.2: an out-of-order segment is ACKed at once; RFC 2018 §4:
    # the first SACK block holds the segment that triggered the ACK.  A
    # segment that fills (part of) a gap is ACKed at once too, and the app
    # gets every byte once, in order.
    with Stack() as st:
        c, s = handshake(st, rtt=0, options=SACK_PERM)
        S1 = seq_add(s, 1)
        P = [piece(k) for k in range(6)]

        def send(k, t):
            c.send("PA", P[k], t=t, seq=seq_add(C1, 100 * k))

        send(0, 20 * MS)
        nothing(st, "an in-order segment's ACK is delayed")
        expect_deadline(st, 25 * MS)
        steps = [  # piece, cumulative ACK, SACK blocks (offsets from C1), app data
            (2, 100, [(200, 300)], P[0]),
            (5, 100, [(500, 600), (200, 300)], P[0]),
            (4, 100, [(400, 600), (200, 300)], P[0]),
            (1, 300, [(400, 600)], b"".join(P[:3])),
            (3, 600, [], b"".join(P)),
        ]
        for i, (k, ack, blocks, rx) in enumerate(steps):
            t = 21 * MS + i * MS
            send(k, t)
            a = expect_seg(one(st, "an immediate ACK for piece %d" % k), "A", S1,
                           seq_add(C1, ack), win=65535)
            assert sack_blocks(a, C1) == blocks, "piece %d: SACK %s, expected %s" % (
                k, sack_blocks(a, C1), blocks)
            assert st.app_rx() == rx, "after piece %d the app has %r" % (k, st.app_rx())
            expect_deadline(st, None)
        nothing(st)
        expect_counts(st, drops={}, events={"TCP_OOO_QUEUED": 3})


def test_sack_blocks_keep_reporting_recent_ranges():
    # RFC 2018 §4: the first block holds the segment that triggered the
    # ACK; when more ranges are held than fit (four blocks, three beside
    # the timestamp option), the rest "SHOULD be filled out by repeating
    # the most recently reported SACK blocks", so that each range "is
    # reported in at least three successive SACK options".
    for options, ts, nblocks in ((SACK_PERM, None, 4), (SACK_PERM + TS_PERM[1:], 1000, 3)):
        with Stack() as st:
            c, s = handshake(st, rtt=0, options=options, ts=ts)
            S1 = seq_add(s, 1)
            islands = [(100 + 200 * k, 200 + 200 * k) for k in range(5)]
            for k, (a, b) in enumerate(islands):     # one hole below each
                c.send("PA", piece(k), t=(20 + k) * MS, seq=seq_add(C1, a))
                ack = expect_seg(one(st), "A", S1, C1)
                got = sack_blocks(ack, C1)
                newest_first = islands[k::-1][:nblocks]
                assert got[:1] == [islands[k]] and sorted(got) == sorted(newest_first), \
                    "%d blocks: after island %d SACK %s, expected %s first, then %s" % (
                        nblocks, k + 1, got, islands[k], newest_first[1:])
            expect_counts(st, drops={}, events={"TCP_OOO_QUEUED": 5})


def test_duplicate_segments_delivered_once_acked_at_once():
    # A segment that arrives twice is delivered once; the copy is answered
    # by an immediate ACK (RFC 9293 §3.10.7.4 first: not acceptable, "send
    # an acknowledgment"; RFC 5681 §4.2), not after the delayed-ACK time.
    with Stack() as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        P = [piece(k) for k in range(3)]
        c.send("PA", P[0], t=20 * MS, seq=C1)
        nothing(st, "the first copy's ACK is delayed")
        expect_deadline(st, 25 * MS)
        c.send("PA", P[0], t=21 * MS, seq=C1)
        expect_seg(one(st, "an immediate ACK for the copy"), "A", S1, seq_add(C1, 100))
        expect_deadline(st, None)
        assert st.app_rx() == P[0]
        # A held out-of-order segment, twice: held once, ACKed each time.
        for t in (22 * MS, 23 * MS):
            c.send("PA", P[2], t=t, seq=seq_add(C1, 200))
            expect_seg(one(st, "an immediate duplicate ACK"), "A", S1, seq_add(C1, 100))
        c.send("PA", P[1], t=24 * MS, seq=seq_add(C1, 100))
        expect_seg(one(st, "the ACK of the filled gap"), "A", S1, seq_add(C1, 300))
        c.send("PA", P[1], t=25 * MS, seq=seq_add(C1, 100))
        expect_seg(one(st, "an immediate ACK for the old copy"), "A", S1, seq_add(C1, 300))
        assert st.app_rx() == b"".join(P), st.app_rx()
        expect_deadline(st, None)
        expect_counts(st, drops={"TCP_UNACCEPTABLE": 2})


def test_duplicate_out_of_order_segment_counted_once():
    # TCP_OOO_QUEUED counts "out-of-order segments held for reassembly": a
    # second copy of bytes already held adds nothing to hold.
    with Stack() as st:
        c, s = handshake(st, rtt=0)
        for t in (20 * MS, 21 * MS):
            c.send("PA", piece(2), t=t, seq=seq_add(C1, 200))
            expect_seg(one(st, "an immediate duplicate ACK"), "A", seq_add(s, 1), C1)
        c.send("PA", piece(0) + piece(1), t=22 * MS, seq=C1)
        expect_seg(one(st), "A", seq_add(s, 1), seq_add(C1, 300))
        assert st.app_rx() == piece(0) + piece(1) + piece(2)
        expect_counts(st, drops={}, events={"TCP_OOO_QUEUED": 1})
