"""
Timers on virtual time: SYN-ACK retransmission with exponential backoff
(RFC 6298 §5.5, RFC 9293 §3.8.1), data and FIN retransmission and giving up
(RFC 9293 §3.8.3), the listen backlog bound, and zero-window probing
(RFC 9293 §3.8.6.1).  The initial RTO is 1 s (RFC 6298 §2.1), doubling on
each expiry up to 60 s.
"""
from util import (C_ISN, C_PORT, MS, SEC, TCP, Stack, Peer, CLOSED_TIMEOUT, describe,
                  established, expect_counts, expect_deadline, expect_seg, expect_status,
                  expect_transitions, isn, nothing, one, out, payload, seq_add, status)

OPEN = ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"]
C6 = seq_add(C_ISN, 6)


def test_synack_retransmission_backoff():
    with Stack(backlog=1, syn_cookies=0) as st:
        c = Peer(st)
        first = c.syn(t=0)[0]
        expect_seg(first, "SA", isn(C_PORT, 0), seq_add(C_ISN, 1))
        expect_deadline(st, 1 * SEC)
        times = [1, 3, 7, 15, 31]          # 1 s, then 2, 4, 8, 16 s apart
        for k, t in enumerate(times):
            st.advance(t * SEC - 1)
            nothing(st, "a SYN-ACK before %d s" % t)
            st.advance(t * SEC)
            again = one(st, "SYN-ACK retransmission #%d at %d s" % (k + 1, t))
            assert bytes(again[TCP]) == bytes(first[TCP]), "retransmission differs: %s vs %s" % (
                describe(again), describe(first))
            nxt = times[k + 1] if k + 1 < len(times) else 63
            expect_deadline(st, nxt * SEC)
            if t == 7:
                # The half-open connection holds the only backlog slot.
                Peer(st, sport=40001).syn(t=10 * SEC)
                nothing(st, "no SYN-ACK while the backlog is full")
        st.advance(63 * SEC - 1)
        nothing(st)
        assert st.tcb_count() == 1
        st.advance(63 * SEC)
        nothing(st, "the half-open connection is dropped silently (no RST)")
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> CLOSED"])
        line = [l for l in st.trace() if "SYN-RECEIVED -> CLOSED" in l][0]
        assert line.startswith("63.000000 ") and "exhausted" in line, line
        assert st.tcb_count() == 0 and st.conns() == 0
        expect_deadline(st, None)
        expect_counts(st, drops={"TCP_BACKLOG": 1},
                      events={"TCP_RETRANSMITS": 5, "TCP_RST_SENT": 0, "TCP_SEG_OUT": 6})
        # The backlog slot is free again.
        got = Peer(st, sport=40001).syn(t=64 * SEC)
        assert len(got) == 1, [describe(p) for p in got]
        expect_seg(got[0], "SA", isn(40001, 64 * SEC), seq_add(C_ISN, 1), dport=40001)


def test_synack_retries_configurable():
    with Stack(synack_retries=2) as st:
        Peer(st).syn(t=0)
        for t in (1, 3):
            st.advance(t * SEC)
            assert len(out(st)) == 1, "SYN-ACK retransmission at %d s" % t
        expect_deadline(st, 7 * SEC)
        st.advance(7 * SEC)
        nothing(st)
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> CLOSED"])
        assert st.tcb_count() == 0


def test_data_retransmission_backoff_and_give_up():
    with Stack(min_rto=SEC) as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        data = bytes(range(100))
        t0 = 20 * MS
        st.advance(t0)
        assert st.app_send(data) == 100
        expect_seg(one(st), "PA", S1, C6, data=data)
        expect_deadline(st, t0 + 1 * SEC)
        # RTO 1, 2, 4, 8, 16, 32 s, then capped at 60 s (RFC 6298 §2.5).
        times = [1, 3, 7, 15, 31, 63, 123, 183]
        for k, t in enumerate(times):
            st.advance(t0 + t * SEC - 1)
            nothing(st)
            st.advance(t0 + t * SEC)
            expect_seg(one(st, "retransmission #%d" % (k + 1)), "PA", S1, C6, data=data)
            nxt = times[k + 1] if k + 1 < len(times) else 243
            expect_deadline(st, t0 + nxt * SEC)
        expect_transitions(st, OPEN)
        # max_retries (8) retransmissions: the next expiry gives up with RST.
        st.advance(t0 + 243 * SEC)
        expect_seg(one(st, "RST on giving up"), "RA", seq_add(S1, 100), C6, win=0)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])
        expect_status(st, status(closed=True, reason=CLOSED_TIMEOUT))
        assert st.tcb_count() == 0
        expect_deadline(st, None)
        expect_counts(st, events={"TCP_RETRANSMITS": 8, "TCP_TIMEOUTS": 1, "TCP_RST_SENT": 1})


def test_max_retries_configurable():
    with Stack(max_retries=2) as st:
        c, s = established(st)
        st.advance(20 * MS)
        st.app_send(b"x")
        one(st)
        for t in (1, 3):
            st.advance(20 * MS + t * SEC)
            expect_seg(one(st), "PA", seq_add(s, 1), C6, data=b"x")
        st.advance(20 * MS + 7 * SEC)
        expect_seg(one(st), "RA", seq_add(s, 2), C6, win=0)
        expect_status(st, status(closed=True, reason=CLOSED_TIMEOUT))
        expect_counts(st, events={"TCP_RETRANSMITS": 2, "TCP_TIMEOUTS": 1})


def test_ack_restarts_and_stops_timer():
    with Stack(nagle=0, min_rto=SEC) as st:
        c, s = established(st, options=[("MSS", 536)])
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        data = bytes(i % 251 for i in range(1500))
        st.app_send(data)
        segs = out(st)
        assert [len(payload(p)) for p in segs] == [536, 536, 428], [describe(p) for p in segs]
        expect_deadline(st, 20 * MS + 1 * SEC)
        # An ACK of new data restarts the timer (RFC 6298 §5.3)...
        c.send("A", t=500 * MS, ack=seq_add(S1, 536))
        nothing(st)
        expect_deadline(st, 1500 * MS)
        # ...and the ACK of everything stops it (§5.2).
        c.send("A", t=600 * MS, ack=seq_add(S1, 1500))
        nothing(st)
        expect_deadline(st, None)
        st.advance(5 * SEC)
        nothing(st, "no retransmission of acknowledged data")
        expect_counts(st, events={"TCP_RETRANSMITS": 0})


def test_fin_retransmission():
    with Stack(min_rto=SEC) as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_close()
        expect_seg(one(st), "FA", S1, C6)
        for t in (1, 3):
            st.advance(20 * MS + t * SEC)
            expect_seg(one(st, "FIN again at %d s" % t), "FA", S1, C6)
        expect_deadline(st, 20 * MS + 7 * SEC)
        c.send("A", t=4 * SEC, ack=seq_add(S1, 1))
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2"])
        expect_deadline(st, 4 * SEC + 2 * 30 * SEC)   # only the FIN-WAIT-2 bound is left


def test_data_and_fin_retransmitted_from_snd_una():
    with Stack() as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_send(b"bye")
        st.app_close()
        first = out(st)
        assert b"".join(payload(p) for p in first) == b"bye" and "F" in str(first[-1][TCP].flags), \
            [describe(p) for p in first]
        st.advance(20 * MS + 1 * SEC)
        again = out(st)
        # Go back to SND.UNA: the bytes again, then the FIN at SND.UNA+3.
        assert again, "nothing retransmitted"
        assert again[0][TCP].seq == S1, describe(again[0])
        assert b"".join(payload(p) for p in again) == b"bye", [describe(p) for p in again]
        last = again[-1]
        assert "F" in str(last[TCP].flags) and \
            seq_add(last[TCP].seq, len(payload(last))) == seq_add(S1, 3), describe(last)
        assert all(p[TCP].ack == C6 for p in again)
        c.send("A", t=1100 * MS, ack=seq_add(S1, 4))
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2"])


def test_backlog_bound():
    with Stack(backlog=2, syn_cookies=0) as st:
        for port in (50001, 50002):
            got = Peer(st, sport=port).syn(t=0)
            assert len(got) == 1
            expect_seg(got[0], "SA", isn(port, 0), seq_add(C_ISN, 1), dport=port)
        nothing(st)
        Peer(st, sport=50003).syn(t=1 * MS)
        nothing(st, "a SYN past the backlog gets no SYN-ACK")
        assert st.tcb_count() == 2
        expect_counts(st, drops={"TCP_BACKLOG": 1}, events={"TCP_PASSIVE_OPENS": 2})
        logs = [l for l in st.trace() if l.startswith("log: ")]
        assert logs == ["log: limit reached: TCP: SYN dropped, listen backlog full (--backlog); "
                        "1 so far"], logs
        # A retransmitted SYN of a connection already in the backlog is not
        # a new connection: it gets its SYN-ACK again.
        got = Peer(st, sport=50002).syn(t=2 * MS)
        assert len(got) == 1
        expect_seg(got[0], "SA", isn(50002, 0), seq_add(C_ISN, 1), dport=50002)
        # Completing one handshake frees a slot.
        p1 = Peer(st, sport=50001)
        p1.seq, p1.ack = seq_add(C_ISN, 1), seq_add(isn(50001, 0), 1)
        p1.send("A", t=3 * MS)
        nothing(st)
        got = Peer(st, sport=50003).syn(t=4 * MS)
        assert len(got) == 1, "the freed slot was not reused"
        expect_seg(got[0], "SA", isn(50003, 4 * MS), seq_add(C_ISN, 1), dport=50003)
        expect_counts(st, drops={"TCP_BACKLOG": 1},
                      events={"TCP_PASSIVE_OPENS": 3, "TCP_ESTABLISHED": 1})


def test_zero_window_probe():
    # RFC 9293 §3.8.6.1 (MUST-36): probing of zero windows must be supported,
    # so a lost window update cannot stall the connection forever.  RFC 1122
    # §4.2.2.17: the first probe after one RTO.
    with Stack() as st:
        c, s = established(st, win=0, data=b"")
        S1 = seq_add(s, 1)
        t0 = 20 * MS
        st.advance(t0)
        assert st.app_send(b"data") == 4
        nothing(st, "data into a zero window")
        d = st.next_deadline()
        assert d is not None and t0 < d <= t0 + 1 * SEC, \
            "no zero-window probe is scheduled (next deadline %s)" % d
        st.advance(d)
        probe = one(st, "a zero-window probe")
        t = probe[TCP]
        # Either one byte of new data (RFC 9293) or an old byte/empty segment
        # at SND.UNA-1 (BSD/Linux); both make the receiver answer with its
        # current window.
        ok = (t.seq == S1 and payload(probe) == b"d") or \
             (t.seq == seq_add(S1, -1) and len(payload(probe)) <= 1)
        assert ok and "A" in str(t.flags), "not a window probe: %s" % describe(probe)
        # The window is still zero: probing goes on.
        c.send("A", t=d + 10 * MS, win=0)
        assert st.next_deadline() is not None, "probing stopped while the window is still zero"
        # The window opens: the data flows.
        got = out(st)
        c.send("A", t=d + 20 * MS, win=64240)
        got += out(st)
        stream = bytearray(4)
        for p in [probe] + got:
            off = (p[TCP].seq - S1) & 0xffffffff
            if payload(p) and off < 4:
                stream[off:off + len(payload(p))] = payload(p)
        assert bytes(stream) == b"data", "after the window opened: %s" % [describe(p) for p in got]


def test_answered_zero_window_probes_never_give_up():
    # RFC 1122 §4.2.2.17: the connection MUST stay open while the receiver
    # keeps answering the probes, however long its window stays shut: 20
    # probes (past the 8 retransmissions that would end a connection whose
    # data goes unanswered), each answered with a zero window.
    with Stack() as st:
        c, s = established(st, win=0, data=b"")
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        assert st.app_send(b"data") == 4
        for k in range(20):
            d = st.next_deadline()
            st.advance(d)
            probe = one(st, "zero-window probe %d" % (k + 1))
            assert "R" not in str(probe[TCP].flags), describe(probe)
            c.send("A", t=d + 1 * MS, ack=S1, win=0)
            nothing(st, "no answer to the probe's ACK")
        expect_status(st, status())
        expect_transitions(st, OPEN)
        # The window shut while data was in flight: the persist timer, not
        # the retransmission timer too, counts toward giving up.
    with Stack() as st:
        c, s = established(st, data=b"")
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_send(bytes(1460))
        one(st, "the data")
        c.send("A", t=30 * MS, ack=S1, win=0)
        for k in range(20):
            d = st.next_deadline()
            st.advance(d)
            assert all("R" not in str(p[TCP].flags) for p in out(st)), "reset at probe %d" % k
            c.send("A", t=d + 1 * MS, ack=S1, win=0)
        expect_transitions(st, OPEN)
        # Once the app has closed nobody waits: --max-retries (2) answered
        # probes, then RST.
    with Stack(max_retries=2) as st:
        c, s = established(st, win=0, data=b"")
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_send(b"data")
        st.app_close()
        for k in range(3):
            d = st.next_deadline()
            st.advance(d)
            got = out(st)
            c.send("A", t=d + 1 * MS, ack=S1, win=0)
        assert "R" in str(got[-1][TCP].flags), [describe(p) for p in got]
        expect_status(st, status(closed=True, reason=CLOSED_TIMEOUT))


def test_rto_is_3s_after_synack_retransmission():
    # RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment
    # and the TCP implementation is using an RTO less than 3 seconds, the RTO
    # MUST be re-initialized to 3 seconds when data transmission begins."
    with Stack() as st:
        c = Peer(st)
        c.syn(t=0)
        st.advance(1 * SEC)
        one(st, "the SYN-ACK retransmission")
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(isn(C_PORT, 0), 1)
        c.send("A", t=1100 * MS)
        nothing(st)
        st.advance(1200 * MS)
        st.app_send(b"first data")
        expect_seg(one(st), "PA", seq_add(isn(C_PORT, 0), 1), seq_add(C_ISN, 1), data=b"first data")
        expect_deadline(st, 1200 * MS + 3 * SEC)
