"""
Data transfer in ESTABLISHED (RFC 9293 §3.10.7.4 first, fifth and seventh
checks; §3.8.6 windows): sequence numbers across 2^32, duplicates,
out-of-order and out-of-window bytes, unacceptable ACKs, and the receive
window closing and reopening as the app reads.
"""
from util import (C_ISN, C_PORT, MS, SEC, TCP, Stack, Peer, describe, established,
                  expect_counts, expect_deadline, expect_seg, expect_transitions, isn, nothing,
                  one, out, payload, seq_add, _keyed)

OPEN = ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"]
C1 = seq_add(C_ISN, 1)
C6 = seq_add(C_ISN, 6)


def test_client_sequence_wraps():
    with Stack(delack=0) as st:
        cisn = 0xffffff00
        c = Peer(st, isn=cisn)
        s = c.connect(0)[TCP].seq
        S1 = seq_add(s, 1)
        data = bytes(i % 256 for i in range(1000))
        for k in range(4):                      # 250 bytes each: crosses 2^32
            c.send("PA", data[250 * k:250 * (k + 1)], t=(k + 1) * MS)
            expect_seg(one(st), "A", S1, seq_add(cisn, 1 + 250 * (k + 1)), win=65535)
        assert st.app_rx() == data
        expect_counts(st, drops={})


def test_server_sequence_wraps():
    # Pick the SYN's arrival time so our ISN is 50 below 2^32 (RFC 6528:
    # ISN = t/4 + F(4-tuple)).
    f = _keyed(b"I", C_PORT)
    t0 = 4 * ((2 ** 32 - 50 - f) % 2 ** 32)
    assert isn(C_PORT, t0) == 2 ** 32 - 50
    with Stack() as st:
        c = Peer(st)
        s = c.connect(t0)[TCP].seq
        assert s == 2 ** 32 - 50, "ISN %d" % s
        st.advance(t0 + 1 * MS)
        data = bytes(range(256)) * 4
        st.app_send(data)
        segs = out(st)
        assert [len(payload(p)) for p in segs] == [1024], [describe(p) for p in segs]
        expect_seg(segs[0], "PA", 2 ** 32 - 49, C1, data=data)
        # The ACK's number has wrapped: 2^32 - 49 + 1024.
        c.send("A", t=t0 + 2 * MS, ack=seq_add(s, 1025))
        nothing(st)
        expect_deadline(st, None)
        st.app_close()
        expect_seg(one(st), "FA", seq_add(s, 1025), C1)
        c.send("FA", t=t0 + 3 * MS, ack=seq_add(s, 1026))
        expect_seg(one(st), "A", seq_add(s, 1026), seq_add(C1, 1))
        assert st.transitions()[-1] == "FIN-WAIT-2 -> TIME-WAIT", st.transitions()


def test_duplicate_data_acked_not_redelivered():
    with Stack(delack=0) as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        # "hello" again: entirely old, acknowledged again (first check).
        c.send("PA", b"hello", t=20 * MS, seq=C1)
        expect_seg(one(st), "A", S1, C6, win=65535)
        # Overlapping: "lo world" from byte 3; only " world" is new.
        c.send("PA", b"lo world", t=30 * MS, seq=seq_add(C1, 3))
        expect_seg(one(st), "A", S1, seq_add(C6, 6))
        assert st.app_rx() == b"hello world", st.app_rx()
        expect_counts(st, drops={"TCP_UNACCEPTABLE": 1})


def test_out_of_order_held_until_gap_fills():
    with Stack() as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        # Bytes 6.. arrive before byte 5: they wait in the receive buffer, and
        # the immediate duplicate ACK names the gap (RFC 5681 §4.2).
        c.send("PA", b"world", t=20 * MS, seq=seq_add(C6, 1))
        expect_seg(one(st, "an immediate duplicate ACK"), "A", S1, C6, win=65535)
        assert st.app_rx() == b"hello", "held bytes must not reach the app yet"
        # The missing byte fills the gap: everything is delivered at once, and
        # ACKed at once (RFC 5681 §4.2), not after the delayed-ACK time.
        c.send("PA", b" ", t=30 * MS, seq=C6)
        expect_seg(one(st, "the ACK of the filled gap"), "A", S1, seq_add(C6, 6))
        assert st.app_rx() == b"hello world"
        expect_counts(st, drops={}, events={"TCP_OOO_QUEUED": 1})


def test_segment_without_ack_flag_dropped():
    with Stack() as st:
        c, s = established(st)
        c.send("P", b"no ack", t=20 * MS, seq=C6)
        nothing(st)
        assert st.app_rx() == b"hello"
        expect_counts(st, drops={"TCP_NO_ACK": 1})
        expect_transitions(st, OPEN)


def test_ack_of_unsent_data():
    with Stack(delack=0) as st:
        c, s = established(st)
        S1 = seq_add(s, 1)
        # SEG.ACK > SND.NXT: "send an ACK, drop the segment, and return".
        c.send("PA", b"bad", t=20 * MS, seq=C6, ack=seq_add(S1, 10))
        expect_seg(one(st), "A", S1, C6, win=65535)
        assert st.app_rx() == b"hello", "data of a segment with a bad ACK reached the app"
        expect_counts(st, drops={"TCP_ACK_UNACCEPTABLE": 1})
        # RFC 5961 §5.2: too old an ACK (below SND.UNA - MAX.SND.WND) likewise.
        c.send("PA", b"old", t=30 * MS, seq=C6, ack=seq_add(S1, -70000))
        expect_seg(one(st), "A", S1, C6)
        assert st.app_rx() == b"hello"
        expect_counts(st, drops={"TCP_ACK_UNACCEPTABLE": 2})
        # An old but acceptable ACK (a duplicate) is fine.
        c.send("PA", b"ok", t=40 * MS, seq=C6, ack=seq_add(S1, -5))
        expect_seg(one(st), "A", S1, seq_add(C6, 2))
        assert st.app_rx() == b"hellook"


def test_ack_loop_guard():
    # Invalid segments without data are answered at most once per
    # --invalid-ack-ms (500 ms) per connection; with data, or a FIN, always.
    with Stack(delack=0) as st:
        c, s = established(st, t=0, t_data=10 * MS)
        S1 = seq_add(s, 1)
        c.send("A", t=20 * MS, seq=C6, ack=seq_add(S1, 10))         # acks nothing sent
        expect_seg(one(st, "the ACK to an ACK of unsent data"), "A", S1, C6, win=65535)
        c.send("A", t=30 * MS, seq=seq_add(C6, 100000), ack=S1)     # past the window
        nothing(st, "a second answer 10 ms after the first")
        c.send("A", t=40 * MS, seq=seq_add(C6, -1000), ack=S1)      # before it
        nothing(st, "a third answer 20 ms after the first")
        c.send("PA", b"hello", t=50 * MS, seq=C1, ack=S1)           # resent data
        expect_seg(one(st, "the ACK to resent data, never held"), "A", S1, C6)
        c.send("FA", t=60 * MS, seq=seq_add(C6, 100000), ack=S1)    # a FIN outside
        expect_seg(one(st, "the ACK to a FIN outside the window"), "A", S1, C6)
        c.send("A", t=519 * MS, seq=C6, ack=seq_add(S1, 10))
        nothing(st, "an answer 499 ms after the first")
        expect_counts(st, drops={"TCP_ACK_UNACCEPTABLE": 2, "TCP_UNACCEPTABLE": 4,
                                 "TCP_INVALID_ACK_LIMIT": 3})
        logs = [l for l in st.trace() if l.startswith("log: ")]
        assert logs and all("(--invalid-ack-ms)" in l for l in logs), logs
        c.send("A", t=520 * MS, seq=C6, ack=seq_add(S1, 10))
        expect_seg(one(st, "an answer 500 ms after the first"), "A", S1, C6)
        assert st.app_rx() == b"hello"
        expect_transitions(st, OPEN)


def test_ack_loop_guard_off():
    with Stack(delack=0, invalid_ack_gap=0) as st:
        c, s = established(st, t=0, t_data=10 * MS)
        S1 = seq_add(s, 1)
        for k in range(3):
            c.send("A", t=(20 + k) * MS, seq=seq_add(C6, 100000), ack=S1)
            expect_seg(one(st, "answer %d" % k), "A", S1, C6, win=65535)
        expect_counts(st, drops={"TCP_UNACCEPTABLE": 3})


def test_window_update_from_older_segment_ignored():
    # The peer offers 100 bytes from the start: a window of 100 is then its
    # largest, and no silly window (RFC 9293 §3.8.6.2.1) to wait on.
    with Stack(delack=0) as st:
        c, s = established(st, data=b"", win=100)
        S1 = seq_add(s, 1)
        c.send("A", t=10 * MS, seq=C1, win=100)           # window 100
        st.advance(20 * MS)
        st.app_send(b"a" * 300)
        expect_seg(one(st), "A", S1, C1, data=b"a" * 100)
        # A reordered older segment (lower SEG.ACK, same SEG.SEQ) must not
        # move the window (SND.WL1/SND.WL2 rule, RFC 9293 §3.10.7.4 fifth).
        c.send("A", t=30 * MS, seq=C1, ack=seq_add(S1, -1), win=5000)
        nothing(st, "no data for a window update from an older segment")
        c.send("A", t=40 * MS, seq=C1, ack=seq_add(S1, 100), win=100)
        expect_seg(one(st), "A", seq_add(S1, 100), C1, data=b"a" * 100)


def test_send_buffer_bound():
    with Stack(snd_buf=4096) as st:
        c, s = established(st, data=b"", win=0)
        assert st.app_send(b"x" * 10000) == 4096, "the send buffer holds snd_buf bytes"
        assert st.app_send(b"y") == 0
        nothing(st)


def test_receive_window_closes_and_reopens():
    with Stack(delack=0, rcv_buf=4096, read_enabled=0) as st:
        c = Peer(st)
        sa = c.connect(0)
        S1 = seq_add(sa[TCP].seq, 1)
        assert sa[TCP].window == 4096
        c.send("PA", b"a" * 1000, t=1 * MS)
        expect_seg(one(st), "A", S1, seq_add(C1, 1000), win=3096)
        c.send("PA", b"b" * 3096, t=2 * MS)
        expect_seg(one(st), "A", S1, seq_add(C1, 4096), win=0)
        assert st.app_rx() == b"", "the app has not read"
        # Bytes past a zero window are not taken.
        c.send("PA", b"c" * 10, t=3 * MS)
        expect_counts(st, drops={"TCP_RCV_BUF_FULL": st.drops("TCP_RCV_BUF_FULL"),
                                 "TCP_UNACCEPTABLE": st.drops("TCP_UNACCEPTABLE")})
        got = out(st)
        for p in got:
            expect_seg(p, "A", S1, seq_add(C1, 4096), win=0)
        # The app reads everything: the window reopens with an update.
        st.advance(4 * MS)
        assert st.app_read() == 4096
        expect_seg(one(st, "a window update"), "A", S1, seq_add(C1, 4096), win=4096)
        assert st.app_rx() == b"a" * 1000 + b"b" * 3096
        c.send("PA", b"c" * 10, t=5 * MS, seq=seq_add(C1, 4096))
        expect_seg(one(st), "A", S1, seq_add(C1, 4106), win=4086)


def test_zero_window_probe_answered():
    # RFC 9293 §3.8.6.1: "When the receiving TCP peer has a zero window and
    # a segment arrives, it must still send an acknowledgment showing its
    # next expected sequence number and current window (zero)."
    with Stack(rcv_buf=4096, read_enabled=0) as st:
        c = Peer(st)
        sa = c.connect(0)
        S1 = seq_add(sa[TCP].seq, 1)
        c.send("PA", b"a" * 4096, t=1 * MS)
        expect_seg(one(st), "A", S1, seq_add(C1, 4096), win=0)
        full = seq_add(C1, 4096)
        # A probe with an old sequence number and no data (Linux)...
        c.send("A", t=1 * SEC, seq=seq_add(full, -1))
        expect_seg(one(st, "an ACK for an empty window probe"), "A", S1, full, win=0)
        # ...and one with one byte of new data at RCV.NXT (RFC 9293, BSD).
        c.send("PA", b"p", t=2 * SEC, seq=full)
        expect_seg(one(st, "an ACK for a one-byte window probe"), "A", S1, full, win=0)
        assert st.app_rx() == b""


def test_window_update_after_small_reads():
    # Receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2): the window is
    # announced again once it can grow by min(MSS, buffer/2) = 1460 bytes
    # over what was last advertised, however the app reads: here 1000
    # bytes at a time.
    with Stack(rcv_buf=4096, read_enabled=0) as st:
        c = Peer(st)
        sa = c.connect(0)
        S1 = seq_add(sa[TCP].seq, 1)
        full = seq_add(C1, 4096)
        c.send("PA", b"a" * 4096, t=1 * MS)
        expect_seg(one(st), "A", S1, full, win=0)
        st.advance(2 * MS)
        assert st.app_read_max(1000) == 1000
        nothing(st, "no window update for 1000 bytes (< 1460)")
        st.advance(3 * MS)
        assert st.app_read_max(1000) == 1000
        expect_seg(one(st, "a window update once 2000 bytes are free"), "A", S1, full, win=2000)
        st.advance(4 * MS)
        assert st.app_read_max(1000) == 1000
        nothing(st, "no update for 1000 more")
        assert st.app_read_max(1096) == 1096
        expect_seg(one(st, "a window update for the whole buffer"), "A", S1, full, win=4096)
        assert st.app_rx() == b"a" * 4096


def test_fin_beyond_a_gap_is_kept():
    # Data + FIN arrive before the bytes ahead of them: the FIN is held
    # with the data, and filling the gap ACKs it and closes the peer's
    # side at once, without waiting for the FIN again (as Linux does).
    with Stack(delack=0) as st:
        c, s = established(st, t=0, t_data=10 * MS)
        S1 = seq_add(s, 1)
        c.send("FA", b"B" * 100, t=20 * MS, seq=seq_add(C6, 100), ack=S1)
        expect_seg(one(st, "the ACK of the out-of-order data and FIN"), "A", S1, C6)
        c.send("PA", b"A" * 100, t=30 * MS, seq=C6, ack=S1)
        expect_seg(one(st, "the ACK of all of it, the FIN too"), "A", S1, seq_add(C6, 201))
        assert st.app_rx() == b"hello" + b"A" * 100 + b"B" * 100
        line = [l for l in st.trace() if "ESTABLISHED -> CLOSE-WAIT" in l]
        assert len(line) == 1 and "the FIN held beyond a gap is in order now" in line[0], line
        # A bare FIN beyond a gap is held the same way.
    with Stack(delack=0) as st:
        c, s = established(st, t=0, t_data=10 * MS)
        S1 = seq_add(s, 1)
        c.send("FA", t=20 * MS, seq=seq_add(C6, 3), ack=S1)
        expect_seg(one(st, "the ACK of a FIN beyond a gap"), "A", S1, C6)
        c.send("PA", b"abc", t=30 * MS, seq=C6, ack=S1)
        expect_seg(one(st), "A", S1, seq_add(C6, 4))
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSE-WAIT"])


def test_partial_fill_of_a_gap_is_acked_at_once():
    # RFC 5681 §4.2: a segment that fills all *or part* of a gap is ACKed
    # at once, even with delayed ACKs on.
    with Stack() as st:
        c, s = established(st, t=0, t_data=10 * MS)
        S1 = seq_add(s, 1)
        c.send("PA", b"C" * 100, t=100 * MS, seq=seq_add(C6, 200), ack=S1)
        one(st, "the ACK of out-of-order data")
        c.send("PA", b"A" * 100, t=110 * MS, seq=C6, ack=S1)
        expect_seg(one(st, "the ACK of part of the gap, at once"), "A", S1, seq_add(C6, 100))
    # The gap may be one before a bare FIN.
    with Stack() as st:
        c, s = established(st, t=0, t_data=10 * MS)
        S1 = seq_add(s, 1)
        c.send("FA", t=100 * MS, seq=seq_add(C6, 200), ack=S1)
        one(st, "the ACK of a FIN beyond a gap")
        c.send("PA", b"A" * 100, t=110 * MS, seq=C6, ack=S1)
        expect_seg(one(st, "the ACK of part of that gap, at once"), "A", S1, seq_add(C6, 100))
