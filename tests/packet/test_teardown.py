"""
Closing a connection, in every order (RFC 9293 §3.6, §3.10.4, §3.10.7.4
fifth and eighth), and TIME-WAIT (2*MSL, §3.10.7.4 and RFC 6191; recycled
when a SYN finds the table full, §3.6.1 and RFC 1337).

Every scenario starts the same way: handshake at t=0, the client sends
"hello" at 10 ms, the app receives exactly b"hello" and the ACK acks 5 bytes.
"""
from util import (C_ISN, C_PORT, MS, SEC, TCP, Peer, Stack, CLOSED_NORMALLY, CLOSED_TIMEOUT,
                  describe, established, expect_counts, expect_deadline, expect_seg, expect_status, expect_transitions,
                  isn, nothing, one, out, seq_add, status)

OPEN = ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"]
MSL = 30 * SEC   # the default
C1 = seq_add(C_ISN, 1)      # the client's first data byte
EOF_BIT = 1


def test_server_closes_first():
    with Stack(min_rto=SEC) as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_close()
        fin = one(st, "our FIN")
        expect_seg(fin, "FA", S1, seq_add(C1, 5), win=65535)
        assert st.app_send(b"late") == 0, "sending after close must be refused"
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1"])
        expect_deadline(st, 20 * MS + 1 * SEC)     # the FIN is retransmitted if lost

        c.send("A", t=30 * MS, ack=seq_add(S1, 1))
        nothing(st, "no answer to the ACK of our FIN")
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2"])
        expect_deadline(st, 30 * MS + 2 * 30 * SEC)   # FIN-WAIT-2 waits at most 2*MSL

        c.send("FA", t=40 * MS, ack=seq_add(S1, 1))
        expect_seg(one(st, "the ACK of the peer's FIN"), "A", seq_add(S1, 1), seq_add(C1, 6),
                   win=65535)
        tw = OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2",
                     "FIN-WAIT-2 -> TIME-WAIT"]
        expect_transitions(st, tw)
        expect_status(st, status(closed=True, reason=CLOSED_NORMALLY), mask=~EOF_BIT)
        assert st.conn_count() == 0, "TIME-WAIT is not counted as a live connection"
        assert st.tcb_count() == 1, "the TIME-WAIT TCB must stay for 2*MSL"
        expect_deadline(st, 40 * MS + 2 * MSL)

        st.advance(40 * MS + 2 * MSL - 1)
        nothing(st)
        expect_transitions(st, tw)
        assert st.tcb_count() == 1, "TIME-WAIT ended before 2*MSL"

        st.advance(40 * MS + 2 * MSL)
        nothing(st, "nothing when TIME-WAIT ends")
        expect_transitions(st, tw + ["TIME-WAIT -> CLOSED"])
        assert st.tcb_count() == 0 and st.conn_count() == 0
        expect_deadline(st, None)
        expect_counts(st, events={"TCP_ESTABLISHED": 1, "TCP_RST_SENT": 0, "TCP_RETRANSMITS": 0})


def test_msl_configurable():
    with Stack(msl=2 * SEC) as st:
        c, s = established(st)
        st.advance(20 * MS)
        st.app_close()
        one(st, "our FIN")
        c.send("FA", t=30 * MS, ack=seq_add(s, 2))
        expect_seg(one(st), "A", seq_add(s, 2), seq_add(C1, 6))
        expect_deadline(st, 30 * MS + 4 * SEC)
        st.advance(30 * MS + 4 * SEC - 1)
        assert st.tcb_count() == 1 and st.transitions()[-1].endswith("-> TIME-WAIT")
        st.advance(30 * MS + 4 * SEC)
        assert st.transitions()[-1] == "TIME-WAIT -> CLOSED", st.transitions()
        assert st.tcb_count() == 0
        nothing(st)


def test_client_closes_first():
    with Stack(min_rto=SEC) as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        c.send("FA", t=30 * MS)
        expect_seg(one(st, "the ACK of the FIN"), "A", S1, seq_add(C1, 6), win=65535)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSE-WAIT"])
        expect_status(st, status(eof=True))
        assert st.conn_count() == 1
        expect_deadline(st, None)

        st.advance(40 * MS)
        st.app_close()
        expect_seg(one(st, "our FIN"), "FA", S1, seq_add(C1, 6), win=65535)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSE-WAIT", "CLOSE-WAIT -> LAST-ACK"])
        expect_deadline(st, 40 * MS + 1 * SEC)

        c.send("A", t=50 * MS, ack=seq_add(S1, 1))
        nothing(st, "no answer to the last ACK")
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSE-WAIT", "CLOSE-WAIT -> LAST-ACK",
                                       "LAST-ACK -> CLOSED"])
        expect_status(st, status(closed=True, eof=True, reason=CLOSED_NORMALLY))
        assert st.tcb_count() == 0 and st.conn_count() == 0
        expect_deadline(st, None)


def test_client_fin_with_data_then_server_replies():
    with Stack() as st:
        c, s = established(st, data=b"")
        S1 = seq_add(s, 1)
        # Data and FIN in one segment: one ACK covers both.
        c.send("FPA", b"hello", t=10 * MS)
        expect_seg(one(st), "A", S1, seq_add(C1, 6), win=65535)
        assert st.app_rx() == b"hello", st.app_rx()
        expect_status(st, status(eof=True))
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSE-WAIT"])
        # Sending still works in CLOSE-WAIT; then the app closes.
        st.advance(20 * MS)
        assert st.app_send(b"world") == 5
        st.app_close()
        got = out(st)
        assert len(got) == 2, [describe(p) for p in got]
        expect_seg(got[0], "PA", S1, seq_add(C1, 6), data=b"world")
        expect_seg(got[1], "FA", seq_add(S1, 5), seq_add(C1, 6))
        c.send("A", t=30 * MS, ack=seq_add(S1, 6))
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSE-WAIT", "CLOSE-WAIT -> LAST-ACK",
                                       "LAST-ACK -> CLOSED"])
        expect_status(st, status(closed=True, eof=True, reason=CLOSED_NORMALLY))


def test_simultaneous_close():
    with Stack(min_rto=SEC) as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        st.advance(30 * MS)
        st.app_close()
        expect_seg(one(st, "our FIN"), "FA", S1, seq_add(C1, 5))
        # The client's FIN crosses ours: it does not ack our FIN.
        c.send("FA", t=30 * MS, ack=S1)
        expect_seg(one(st, "the ACK of the crossing FIN"), "A", seq_add(S1, 1), seq_add(C1, 6))
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> CLOSING"])
        expect_deadline(st, 30 * MS + 1 * SEC)   # our FIN is still unacknowledged
        # Now the ACK of our FIN.
        c.send("A", t=40 * MS, ack=seq_add(S1, 1))
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> CLOSING",
                                       "CLOSING -> TIME-WAIT"])
        expect_deadline(st, 40 * MS + 2 * MSL)
        expect_status(st, status(closed=True, reason=CLOSED_NORMALLY), mask=~EOF_BIT)
        st.advance(40 * MS + 2 * MSL)
        assert st.transitions()[-1] == "TIME-WAIT -> CLOSED" and st.tcb_count() == 0


def test_fin_acking_our_fin_in_fin_wait_1():
    with Stack() as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_close()
        one(st, "our FIN")
        # FIN+ACK that also acknowledges our FIN: fifth step moves to
        # FIN-WAIT-2, eighth to TIME-WAIT (RFC 9293 §3.10.7.4).
        c.send("FA", t=30 * MS, ack=seq_add(S1, 1))
        expect_seg(one(st), "A", seq_add(S1, 1), seq_add(C1, 6))
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2",
                                       "FIN-WAIT-2 -> TIME-WAIT"])
        expect_deadline(st, 30 * MS + 2 * MSL)


def test_data_in_fin_wait_2_is_delivered():
    with Stack(delack=0) as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_close()
        one(st)
        c.send("A", t=30 * MS, ack=seq_add(S1, 1))
        nothing(st)
        # A half-closed connection still receives (RFC 9293 §3.6).
        c.send("PA", b" world", t=40 * MS, ack=seq_add(S1, 1))
        expect_seg(one(st), "A", seq_add(S1, 1), seq_add(C1, 11))
        assert st.app_rx() == b"hello world", st.app_rx()


def test_piggybacked_fin_after_zero_window():
    with Stack() as st:
        # The client's window is 0: what the app sends waits, and the FIN
        # waits behind it.
        c, s = established(st, data=b"", win=0)
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        assert st.app_send(b"bye") == 3
        st.app_close()
        nothing(st, "nothing into a zero window")
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1"])
        # The window opens: data and FIN leave in one segment.
        c.send("A", t=100 * MS, win=64240)
        fin = one(st, "data with the FIN")
        expect_seg(fin, "FPA", S1, C1, data=b"bye")
        c.send("A", t=110 * MS, ack=seq_add(S1, 4), win=64240)
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2"])
        expect_deadline(st, 110 * MS + 2 * 30 * SEC)  # the FIN-WAIT-2 bound


def test_timewait_reacks_retransmitted_fin():
    with Stack() as st:
        c, s = established(st)
        S2 = seq_add(s, 2)
        st.advance(20 * MS)
        st.app_close()
        one(st)
        c.send("FA", t=30 * MS, ack=S2)
        expect_seg(one(st), "A", S2, seq_add(C1, 6))
        expect_deadline(st, 30 * MS + 2 * MSL)
        # Our ACK was lost: the client sends its FIN again, 10 s later.
        t2 = 30 * MS + 10 * SEC
        c.send("FA", t=t2, seq=seq_add(C1, 5), ack=S2)
        expect_seg(one(st, "the FIN acknowledged again"), "A", S2, seq_add(C1, 6), win=65535)
        expect_deadline(st, t2 + 2 * MSL)     # 2*MSL restarts
        assert any("retransmitted FIN, re-ACK and restart 2MSL" in l for l in st.trace())
        st.advance(30 * MS + 2 * MSL)         # the first 2*MSL would have ended here
        assert st.tcb_count() == 1 and st.transitions()[-1] == "FIN-WAIT-2 -> TIME-WAIT", \
            st.transitions()
        st.advance(t2 + 2 * MSL - 1)
        assert st.tcb_count() == 1
        st.advance(t2 + 2 * MSL)
        assert st.transitions()[-1] == "TIME-WAIT -> CLOSED", st.transitions()
        assert st.tcb_count() == 0
        nothing(st)


def test_ack_in_timewait_is_quiet_and_closed_port_after():
    with Stack() as st:
        c, s = established(st)
        S2 = seq_add(s, 2)
        st.advance(20 * MS)
        st.app_close()
        one(st)
        c.send("FA", t=30 * MS, ack=S2)
        one(st)
        # A duplicate ACK in TIME-WAIT needs no answer.
        c.send("A", t=40 * MS, ack=S2)
        nothing(st, "no answer to an ACK in TIME-WAIT")
        st.advance(30 * MS + 2 * MSL)
        assert st.tcb_count() == 0
        # After TIME-WAIT the 4-tuple is unknown: an ACK meets the listener,
        # which answers <SEQ=SEG.ACK><CTL=RST>.
        c.send("A", t=30 * MS + 2 * MSL + 1, ack=S2)
        expect_seg(one(st), "R", S2, win=0)


def test_timewait_reused_by_newer_syn():
    with Stack() as st:
        c, s = established(st)
        st.advance(20 * MS)
        st.app_close()
        one(st)
        c.send("FA", t=30 * MS, ack=seq_add(s, 2))
        one(st)
        # RFC 6191 / RFC 9293 §3.10.7.4: a SYN above RCV.NXT may reopen the
        # 4-tuple from TIME-WAIT.
        t = 5 * SEC
        new_isn = seq_add(C1, 100000)
        c2 = type(c)(st, isn=new_isn)
        got = c2.syn(t=t)
        assert len(got) == 1, [describe(p) for p in got]
        expect_seg(got[0], "SA", isn(C_PORT, t), seq_add(new_isn, 1))
        assert st.transitions()[-3:] == ["FIN-WAIT-2 -> TIME-WAIT", "TIME-WAIT -> CLOSED",
                                         "LISTEN -> SYN-RECEIVED"], st.transitions()
        expect_counts(st, events={"TCP_TIME_WAIT_REUSE": 1, "TCP_PASSIVE_OPENS": 2})


def test_fin_wait_2_bounded_by_2msl():
    with Stack(msl=2 * SEC) as st:
        c, s = established(st, data=b"")
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        st.app_close()
        expect_seg(one(st, "our FIN"), "FA", S1, C1)
        c.send("A", t=20 * MS, ack=seq_add(S1, 1))
        nothing(st)
        # The peer acked our FIN but never sends its own: after 2*MSL the
        # connection goes, silently, and the app hears of a timeout.
        expect_deadline(st, 20 * MS + 4 * SEC)
        st.advance(20 * MS + 4 * SEC - 1)
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2"])
        st.advance(20 * MS + 4 * SEC)
        nothing(st, "no segment when FIN-WAIT-2 times out")
        expect_transitions(st, OPEN + ["ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2",
                                       "FIN-WAIT-2 -> CLOSED"])
        expect_status(st, status(closed=True, reason=CLOSED_TIMEOUT))
        assert st.tcb_count() == 0
        expect_deadline(st, None)


# --- a full table: TIME-WAIT gives way, live connections do not ----------------

def timewait_at(st, i, sport, t):
    """Connection i from sport: opened at t, closed by the app at t+1 ms, the
    client's FIN at t+2 ms puts it in TIME-WAIT.  Returns (peer, server ISN)."""
    c = Peer(st, sport=sport)
    s = c.connect(t)[TCP].seq
    nothing(st, "no answer to the handshake's ACK")
    st.advance(t + 1 * MS)
    st.app_close(i)
    expect_seg(one(st, "our FIN"), "FA", seq_add(s, 1), C1, dport=sport)
    c.send("FA", t=t + 2 * MS, ack=seq_add(s, 2))
    expect_seg(one(st, "the ACK of the client's FIN"), "A", seq_add(s, 2), seq_add(C1, 1),
               dport=sport)
    return c, s


def test_full_table_of_timewaits_recycles_the_oldest():
    with Stack(max_conns=3) as st:
        p1, s1 = timewait_at(st, 0, 50001, 0)
        p2, s2 = timewait_at(st, 1, 50002, 1 * SEC)
        timewait_at(st, 2, 50003, 2 * SEC)
        assert st.tcb_count() == 3 and st.conn_count() == 0
        # 50001's FIN comes again at 2.5 s: re-ACKed, its 2*MSL restarts, so
        # 50002 (TIME-WAIT since 1.002 s) is now the one to expire first.
        p1.send("FA", t=2500 * MS, seq=C1, ack=seq_add(s1, 2))
        expect_seg(one(st, "the FIN re-ACKed"), "A", seq_add(s1, 2), seq_add(C1, 1), dport=50001)

        # A SYN from a new 4-tuple finds the table full (3 of --max-conns 3).
        t = 3 * SEC
        got = Peer(st, sport=50004).syn(t=t)
        assert len(got) == 1, [describe(p) for p in got]
        expect_seg(got[0], "SA", isn(50004, t), C1, win=65535, dport=50004)
        gone = [l for l in st.trace() if "TIME-WAIT -> CLOSED" in l]
        assert len(gone) == 1 and "10.0.0.1:50002 > 10.0.0.2:80" in gone[0], gone
        assert ("TIME-WAIT recycled: connection table full (--max-conns) "
                "(RFC 9293 §3.6.1, RFC 1337) [stack/tcp_input.c:") in gone[0], gone[0]
        assert st.transitions()[-2:] == ["TIME-WAIT -> CLOSED", "LISTEN -> SYN-RECEIVED"]
        logs = [l for l in st.trace() if l.startswith("log: ")]
        assert logs == ["log: limit reached: TIME-WAIT connections ended early for a new SYN: "
                        "table full (--max-conns); 1 so far"], logs
        assert st.tcb_count() == 3 and st.conn_count() == 1
        expect_counts(st, events={"TCP_TIME_WAIT_RECYCLED": 1, "TCP_PASSIVE_OPENS": 4})
        expect_deadline(st, t + 1 * SEC)   # the new SYN-ACK's RTO

        # 50002 is forgotten: its FIN now meets the listener, <SEQ=SEG.ACK><CTL=RST>.
        p2.send("FA", t=t + 1 * MS, seq=C1, ack=seq_add(s2, 2))
        expect_seg(one(st, "RST for the recycled 4-tuple"), "R", seq_add(s2, 2), win=0,
                   dport=50002)
        # 50001 is still in TIME-WAIT and still answers.
        p1.send("FA", t=t + 2 * MS, seq=C1, ack=seq_add(s1, 2))
        expect_seg(one(st, "50001 re-ACKs"), "A", seq_add(s1, 2), seq_add(C1, 1), dport=50001)


def test_full_table_of_live_connections_drops_the_syn():
    with Stack(max_conns=2) as st:
        Peer(st, sport=50001).connect(0)
        Peer(st, sport=50002).connect(1 * MS)
        nothing(st)
        got = Peer(st, sport=50003).syn(t=2 * MS)
        assert got == [], "no SYN-ACK when no TIME-WAIT can give way: %s" % [describe(p) for p in got]
        assert st.tcb_count() == 2 and st.conn_count() == 2
        logs = [l for l in st.trace() if l.startswith("log: ")]
        assert logs == ["log: limit reached: TCP: SYN dropped, connection table full "
                        "(--max-conns); 1 so far"], logs
        expect_counts(st, drops={"TCP_TABLE_FULL": 1},
                      events={"TCP_TIME_WAIT_RECYCLED": 0, "TCP_PASSIVE_OPENS": 2})
