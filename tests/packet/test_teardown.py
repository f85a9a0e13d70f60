"""
Closing a connection, in every order (RFC 9293 §3.6, §3.10.4, §3.10.7.4
fifth and eighth), and TIME-WAIT (2*MSL, §3.10.7.4 and RFC 6191).

Every scenario starts the same way: handshake at t=0, the client sends
"hello" at 10 ms, the app receives exactly b"hello" and the ACK acks 5 bytes.
"""
from util import (C_ISN, C_PORT, MS, SEC, Stack, CLOSED_NORMALLY, CLOSED_TIMEOUT, describe, established,
                  expect_counts, expect_deadline, expect_seg, expect_status, expect_transitions,
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
