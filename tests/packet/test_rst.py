"""
Resets: answering segments for no connection (RFC 9293 §3.10.7.1), RST
arriving on a connection with RFC 5961's defences (§3: exact match resets,
in-window gets a challenge ACK; §4: SYN in a synchronized state; §7: rate
limit), and ABORT (RFC 9293 §3.10.5).

Scenarios that send challenge ACKs start at T0 = 10 s of virtual time, away
from the rate limiter's first second (which test_rate_limit_first_second
covers on its own).
"""
from util import (C_ISN, C_PORT, CLIENT, MS, SEC, SERVER, IP, TCP, Raw, Stack,
                  CLOSED_ABORTED, CLOSED_RESET, describe, established, expect_counts,
                  expect_deadline, expect_seg, expect_status, expect_transitions, nothing, one,
                  seq_add, status)

T0 = 10 * SEC
OPEN = ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"]
C6 = seq_add(C_ISN, 6)      # RCV.NXT after the SYN and "hello"


def to_port(port, flags, seq=1000, ack=0, data=b"", sport=C_PORT):
    p = IP(src=CLIENT, dst=SERVER) / TCP(sport=sport, dport=port, flags=flags, seq=seq,
                                         ack=ack, window=8192)
    return p / Raw(data) if data else p


def test_syn_to_closed_port():
    with Stack() as st:
        st.send(to_port(81, "S", seq=1000), t=0)
        rst = one(st, "RST")
        # <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        expect_seg(rst, "RA", 0, 1001, win=0, sport=81)
        assert rst[TCP].options == [] and rst[IP].len == 40, describe(rst)
        # SEG.LEN counts SYN, data and FIN.
        st.send(to_port(81, "S", seq=2000, data=b"abc"))
        expect_seg(one(st), "RA", 0, 2004, win=0, sport=81)
        st.send(to_port(81, "F", seq=0xffffffff))
        expect_seg(one(st), "RA", 0, 0, win=0, sport=81)   # wraps mod 2^32
        assert st.tcb_count() == 0
        expect_counts(st, drops={"TCP_NO_LISTENER": 3},
                      events={"TCP_RST_SENT": 3, "TCP_SEG_OUT": 3})


def test_ack_to_closed_port():
    with Stack() as st:
        st.send(to_port(81, "A", seq=1000, ack=5555), t=0)
        # <SEQ=SEG.ACK><CTL=RST>
        expect_seg(one(st), "R", 5555, win=0, sport=81)
        st.send(to_port(81, "PA", seq=1000, ack=0xfffffff0, data=b"data"))
        expect_seg(one(st), "R", 0xfffffff0, win=0, sport=81)
        expect_counts(st, drops={"TCP_NO_LISTENER": 2}, events={"TCP_RST_SENT": 2})


def test_rst_to_closed_port_is_ignored():
    with Stack() as st:
        st.send(to_port(81, "R", seq=1000), t=0)
        st.send(to_port(81, "RA", seq=1000, ack=77))
        nothing(st, "no answer to an RST")
        expect_counts(st, drops={"TCP_NO_LISTENER": 2}, events={"TCP_RST_SENT": 0})


def test_segments_to_listener_without_connection():
    with Stack() as st:
        # An ACK: nothing was sent that it could acknowledge.
        st.send(to_port(80, "A", seq=1000, ack=424242), t=0)
        expect_seg(one(st), "R", 424242, win=0)
        # An RST is ignored.
        st.send(to_port(80, "R", seq=1000))
        nothing(st)
        # No SYN, no ACK, no RST: dropped silently.
        st.send(to_port(80, "P", seq=1000, data=b"x"))
        st.send(to_port(80, "F", seq=1000))
        nothing(st)
        assert st.tcb_count() == 0
        expect_counts(st, drops={"TCP_LISTEN_BAD": 2}, events={"TCP_RST_SENT": 1})


def test_rst_exact_resets():
    with Stack() as st:
        c, s = established(st, t=T0, t_data=T0 + 10 * MS)
        c.send("R", t=T0 + 20 * MS, seq=C6)
        nothing(st, "no answer to an RST")
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])
        expect_status(st, status(closed=True, reason=CLOSED_RESET))
        assert st.tcb_count() == 0 and st.conn_count() == 0
        expect_deadline(st, None)
        expect_counts(st, events={"TCP_RESETS_RECEIVED": 1, "TCP_CHALLENGE_ACKS": 0,
                                  "TCP_RST_SENT": 0})


def test_rst_ack_exact_resets_with_data_outstanding():
    with Stack(min_rto=SEC) as st:
        c, s = established(st, t=T0, t_data=T0 + 10 * MS)
        st.app_send(b"response")
        expect_seg(one(st), "PA", seq_add(s, 1), C6, data=b"response")
        expect_deadline(st, st.now + 1 * SEC)
        c.send("RA", t=T0 + 20 * MS, seq=C6)
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])
        expect_status(st, status(closed=True, reason=CLOSED_RESET))
        expect_deadline(st, None)           # the retransmission timer went with the TCB


def test_rst_in_window_gets_challenge_ack():
    with Stack(delack=0) as st:
        c, s = established(st, t=T0, t_data=T0 + 10 * MS)
        S1 = seq_add(s, 1)
        for off in (1, 100, 65534):   # anywhere in RCV.NXT+1 .. RCV.NXT+RCV.WND-1 (65535)
            c.send("R", t=T0 + 20 * MS, seq=seq_add(C6, off))
            # <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
            expect_seg(one(st, "a challenge ACK"), "A", S1, C6, win=65535)
        expect_transitions(st, OPEN)
        expect_status(st, status())
        expect_counts(st, events={"TCP_CHALLENGE_ACKS": 3, "TCP_RESETS_RECEIVED": 0})
        assert any("challenge ACK" in l for l in st.trace())
        # The connection carries on, and the real RST still works.
        c.send("PA", b" more", t=T0 + 30 * MS)
        expect_seg(one(st), "A", S1, seq_add(C6, 5))
        assert st.app_rx() == b"hello more", st.app_rx()
        c.send("R", t=T0 + 40 * MS)
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])


def test_rst_outside_window_is_dropped():
    with Stack(delack=0) as st:
        c, s = established(st, t=T0, t_data=T0 + 10 * MS)
        # Past the right edge (RCV.NXT + 65536), and before RCV.NXT.
        for seq in (seq_add(C6, 65536), seq_add(C6, 1 << 30), seq_add(C6, -1), C_ISN):
            c.send("R", t=T0 + 20 * MS, seq=seq)
            nothing(st, "no answer to an RST outside the window (seq %d)" % seq)
        expect_transitions(st, OPEN)
        expect_status(st, status())
        c.send("PA", b"!", t=T0 + 30 * MS)
        expect_seg(one(st), "A", seq_add(s, 1), seq_add(C6, 1))
        expect_counts(st, events={"TCP_CHALLENGE_ACKS": 0, "TCP_RESETS_RECEIVED": 0},
                      drops={"TCP_UNACCEPTABLE": st.drops("TCP_UNACCEPTABLE"),
                             "TCP_RST_OUT_OF_WINDOW": st.drops("TCP_RST_OUT_OF_WINDOW")})
        assert st.drops("TCP_UNACCEPTABLE") + st.drops("TCP_RST_OUT_OF_WINDOW") == 4


def test_rst_outside_window_counter():
    # counters.h has a reason for exactly this drop: "RST outside the window
    # ignored".  It is the one to count, not the generic TCP_UNACCEPTABLE.
    with Stack() as st:
        c, s = established(st, t=T0, t_data=T0 + 10 * MS)
        c.send("R", t=T0 + 20 * MS, seq=seq_add(C6, 65536))
        c.send("R", t=T0 + 30 * MS, seq=seq_add(C6, -1))
        nothing(st)
        expect_counts(st, drops={"TCP_RST_OUT_OF_WINDOW": 2})


def test_syn_in_established_gets_challenge_ack():
    with Stack() as st:
        c, s = established(st, t=T0, t_data=T0 + 10 * MS)
        S1 = seq_add(s, 1)
        # RFC 5961 §4.2: whatever its sequence number, a SYN gets an ACK.
        c.send("S", t=T0 + 20 * MS, seq=seq_add(C6, 10))
        expect_seg(one(st, "challenge ACK for an in-window SYN"), "A", S1, C6, win=65535)
        c.send("S", t=T0 + 30 * MS, seq=C_ISN)       # the old SYN again
        expect_seg(one(st, "ACK for an old SYN"), "A", S1, C6, win=65535)
        # A second unacceptable segment without data within --invalid-ack-ms
        # of the first goes unanswered (the ACK-loop guard), and once the
        # 500 ms are over it is answered again.
        c.send("S", t=T0 + 40 * MS, seq=seq_add(C6, 1 << 31))
        nothing(st, "an ACK for a far SYN 10 ms after the last such ACK")
        c.send("S", t=T0 + 530 * MS, seq=seq_add(C6, 1 << 31))
        expect_seg(one(st, "ACK for a far SYN 500 ms later"), "A", S1, C6, win=65535)
        expect_transitions(st, OPEN)
        assert st.tcb_count() == 1
        expect_status(st, status())
        # The in-window SYN reaches the fourth check (a challenge ACK); the
        # other three already fail the first (unacceptable: plain ACK).
        expect_counts(st, drops={"TCP_UNACCEPTABLE": 3, "TCP_INVALID_ACK_LIMIT": 1},
                      events={"TCP_CHALLENGE_ACKS": 1})


def test_challenge_ack_rate_limit():
    with Stack(challenge_ack_rate=2) as st:
        c, s = established(st, t=T0, t_data=T0 + 10 * MS)
        S1 = seq_add(s, 1)
        t1 = T0 + 20 * MS
        c.send("R", t=t1, seq=seq_add(C6, 5))
        expect_seg(one(st), "A", S1, C6)
        c.send("R", t=t1 + 100 * MS, seq=seq_add(C6, 5))
        expect_seg(one(st), "A", S1, C6)
        c.send("R", t=t1 + 200 * MS, seq=seq_add(C6, 5))
        nothing(st, "the third challenge ACK within one second")
        c.send("S", t=t1 + SEC - 1, seq=seq_add(C6, 5))
        nothing(st, "a challenge ACK just before the second is over")
        expect_counts(st, drops={"TCP_CHALLENGE_LIMIT": 2}, events={"TCP_CHALLENGE_ACKS": 2})
        logs = [l for l in st.trace() if l.startswith("log: ")]
        assert len(logs) == 2 and all("(--challenge-ack-rate)" in l for l in logs), logs
        # One second after the first, the limit has room again.
        c.send("R", t=t1 + SEC, seq=seq_add(C6, 5))
        expect_seg(one(st, "a challenge ACK once a second has passed"), "A", S1, C6)
        expect_counts(st, drops={"TCP_CHALLENGE_LIMIT": 2}, events={"TCP_CHALLENGE_ACKS": 3})
        expect_transitions(st, OPEN)


def test_rate_limit_first_second():
    # The limit allows challenge_ack_rate ACKs in every second, the first
    # second of the clock included: a stack whose clock starts at 0 answers
    # an in-window RST at t = 0.5 s.
    with Stack(challenge_ack_rate=2) as st:
        c, s = established(st, t=0, t_data=10 * MS)
        c.send("R", t=500 * MS, seq=seq_add(C6, 5))
        expect_seg(one(st, "a challenge ACK at t=0.5 s"), "A", seq_add(s, 1), C6)
        expect_counts(st, drops={}, events={"TCP_CHALLENGE_ACKS": 1})


def test_app_abort_sends_rst():
    with Stack() as st:
        c, s = established(st, t=0)
        st.advance(20 * MS)
        st.app_abort()
        # <SEQ=SND.NXT><CTL=RST> (with ACK, as Linux sends it)
        expect_seg(one(st, "RST"), "RA", seq_add(s, 1), C6, win=0)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])
        expect_status(st, status(closed=True, reason=CLOSED_ABORTED))
        assert st.tcb_count() == 0
        expect_deadline(st, None)
        expect_counts(st, events={"TCP_RST_SENT": 1})
        # The peer, not knowing yet, sends more: the 4-tuple is gone.
        c.send("PA", b"more", t=30 * MS)
        expect_seg(one(st), "R", seq_add(s, 1), win=0)


def test_app_abort_with_unsent_data():
    with Stack() as st:
        c, s = established(st, t=0, win=0, data=b"")
        st.app_send(b"queued")
        nothing(st)
        st.advance(20 * MS)
        st.app_abort()
        expect_seg(one(st, "RST"), "RA", seq_add(s, 1), seq_add(C_ISN, 1), win=0)
        expect_status(st, status(closed=True, reason=CLOSED_ABORTED))
        expect_deadline(st, None)
