"""
Flow control and ACK pacing: never beyond the peer's window (RFC 9293
§3.8.6), zero-window probing with backoff (§3.8.6.1, RFC 1122 §4.2.2.17),
the receive window closing and reopening with receiver-side silly window
avoidance (§3.8.6.2.2), delayed ACKs at the real 40 ms default (§3.8.6.3),
ACKs riding on replies, and Nagle's algorithm (RFC 896, §3.7.4).
"""
from util import (C_ISN, MS, TCP, Stack, describe, expect_counts, expect_deadline,
                  expect_events, expect_seg, handshake, nothing, one, out, payload, seq_add)

C1 = seq_add(C_ISN, 1)
MSS = 1460
PERSIST = "zero window: probe with one octet (RFC 9293 §3.8.6.1)"
REOPENED = "window reopened, persist ends (RFC 9293 §3.8.6.1)"


def no_segment_until(st, t, why):
    st.advance(t - 1)
    nothing(st, why)
    st.advance(t)


# --- the peer's window ---------------------------------------------------------------

def test_small_receiver_window_never_exceeded():
    # The peer offers 500 bytes; 5000 are to go.  Every segment must end
    # within SND.UNA + SND.WND as the peer last advertised it.  An ACK of
    # 200 bytes opens only 200: the sender waits for more rather than send
    # a small segment while data is unacknowledged (§3.8.6.2.1).
    with Stack() as st:
        c, s = handshake(st, rtt=0, win=500)
        c.win = 500
        S1 = seq_add(s, 1)
        stream = bytes(i % 251 for i in range(5000))
        st.advance(20 * MS)
        assert st.app_send(stream) == 5000
        got = bytearray()
        acked = 0
        t = 20 * MS
        for rnd in range(10):
            segs = out(st)
            assert len(segs) == 1, "round %d: %s" % (rnd, [describe(p) for p in segs])
            p = segs[0]
            off = (p[TCP].seq - S1) & 0xffffffff
            n = len(payload(p))
            assert off == acked and off + n <= acked + 500, \
                "round %d: segment [%d, %d) past the window [%d, %d)" % (rnd, off, off + n, acked, acked + 500)
            expect_seg(p, "PA" if off + n == 5000 else "A", seq_add(S1, off), C1,
                       data=stream[off:off + n])
            assert n == 500, describe(p)
            got += payload(p)
            t += 1 * MS
            c.send("A", t=t, ack=seq_add(S1, acked + 200))
            nothing(st, "a 200-byte segment with 300 bytes unacknowledged")
            acked += 500
            t += 1 * MS
            c.send("A", t=t, ack=seq_add(S1, acked))
        nothing(st)
        assert bytes(got) == stream
        expect_deadline(st, None)
        expect_counts(st, drops={}, events={"TCP_RETRANSMITS": 0, "TCP_PERSIST_PROBES": 0})


def zero_window_conn(st):
    """A connection whose peer offers no window; the app queues "data" at
    20 ms.  RTO 200 ms."""
    c, s = handshake(st, rtt=0, win=0)
    c.win = 0
    S1 = seq_add(s, 1)
    st.advance(20 * MS)
    assert st.app_send(b"data") == 4
    nothing(st, "data into a zero window")
    return c, S1


def test_window_shrunk_by_an_ack_binds_what_the_app_sends_on_it():
    # A file server refills the send buffer from on_sendable, inside the
    # processing of the ACK that freed space.  The same ACK shrinks the
    # window (Linux does when its reader falls behind: the right edge
    # stays, the window field shrinks as SND.UNA advances).  What the app
    # queues must wait for the window this ACK offers, not the old one.
    with Stack(snd_buf=2 * MSS, stream=1) as st:
        c, s = handshake(st)
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        assert st.app_send(bytes(10000)) == 10000    # 2920 taken, the rest waits
        assert [len(payload(p)) for p in out(st)] == [MSS, MSS]
        # 1460 acked, window 1460: the right edge stays at 2920, and the
        # 1460 bytes the app queues on this ACK must wait.
        c.send("A", ack=seq_add(S1, MSS), win=MSS, t=11 * MS)
        nothing(st, "nothing beyond SND.UNA + SND.WND = 2920")
        c.send("A", ack=seq_add(S1, 2 * MSS), win=3000, t=12 * MS)
        got = out(st)
        assert [len(payload(p)) for p in got] == [MSS, MSS], [describe(p) for p in got]
        expect_seg(got[0], "A", seq_add(S1, 2 * MSS), C1, data=bytes(MSS))
        expect_seg(got[1], "PA", seq_add(S1, 3 * MSS), C1, data=bytes(MSS))  # empties the queue


def test_sender_silly_window_avoidance():
    # RFC 9293 §3.8.6.2.1 (RFC 1122 §4.2.3.4): a window that would take
    # only part of what waits, under an MSS and under half the largest
    # window offered, is not used at once.  With nothing in flight the
    # persist timer is the override: when it expires, what fits goes.
    with Stack(delack=0) as st:
        c, s = handshake(st, rtt=0)                 # RTO: the 200 ms minimum
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        assert st.app_send(bytes(20000)) == 20000
        assert len(out(st)) == 10                   # the initial window
        c.send("A", t=20 * MS, ack=seq_add(S1, 10 * MSS), win=10)
        nothing(st, "no 10-byte segment for a 10-byte window")
        expect_deadline(st, 220 * MS)
        no_segment_until(st, 220 * MS, "nothing before the override timeout")
        expect_seg(one(st, "what the window takes, at the override"), "A",
                   seq_add(S1, 10 * MSS), C1, data=bytes(10))
        assert any("small window: send what it takes (RFC 9293 §3.8.6.2.1)" in l
                   for l in st.trace())
        # A window of an MSS or more is used at once, and the persist
        # timer stops: the ACK of what is in flight will come.
        c.send("A", t=230 * MS, ack=seq_add(S1, 10 * MSS + 10), win=3000)
        sent = out(st)
        assert [len(payload(p)) for p in sent] == [MSS, MSS], [describe(p) for p in sent]
        expect_deadline(st, 430 * MS)   # the retransmission timer, not backed off
        c.send("A", t=240 * MS, ack=seq_add(S1, 12 * MSS + 10), win=65535)
        sent = out(st)   # a full segment; Nagle holds the 1010-byte tail behind it
        assert [len(payload(p)) for p in sent] == [MSS], [describe(p) for p in sent]


def test_small_window_kept_small_goes_at_the_rto_pace():
    # A peer that keeps offering 300 of its 64240 bytes (no receiver-side
    # silly window avoidance): each override is data the retransmission
    # timer looks after, not a probe that backs off, so 6000 bytes take 20
    # sends, each an RTO (200 ms) after the ACK of the last, not a doubling
    # wait up to 60 s; the last 300 fit whole and go on that ACK at once.
    # A timeout's resend is not held for the small window either.
    with Stack(delack=0) as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        st.app_send(bytes(10 * MSS))
        out(st)
        c.send("A", t=11 * MS, ack=seq_add(S1, 10 * MSS), win=300)
        st.app_send(bytes(6000))
        times, end = [], 10 * MSS
        while end < 10 * MSS + 6000:
            st.advance(st.next_deadline())
            got = out(st)
            while got:
                p = got.pop(0)
                times.append(st.now)
                end = (p[TCP].seq - S1 + len(payload(p))) % (1 << 32)
                assert len(payload(p)) == 300, describe(p)
                c.send("A", t=st.now + 1 * MS, ack=seq_add(S1, end), win=300)
                got += out(st)
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert gaps == [201 * MS] * 18 + [1 * MS], gaps
        expect_counts(st, events={"TCP_RTO_EXPIRIES": 0, "TCP_PERSIST_PROBES": 0})
    with Stack(delack=0) as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        st.app_send(bytes(10 * MSS))
        out(st)                                      # all ten lost
        c.send("A", t=11 * MS, ack=S1, win=300)      # and the window shrinks
        st.advance(st.next_deadline())
        expect_seg(one(st, "the timeout's resend, 300 bytes"), "A", S1, C1, data=bytes(300))


def test_zero_window_persist_probes_back_off_and_resume():
    # RFC 1122 §4.2.2.17: the first probe after one RTO, then exponentially
    # longer intervals; RFC 9293 §3.8.6.1: a probe carries one octet of new
    # data.  The peer drops the octets; when it opens its window all four
    # bytes go at once, the probed octet once.
    with Stack() as st:
        c, S1 = zero_window_conn(st)
        times = [220 * MS, 620 * MS, 1420 * MS]      # RTO 200, then 400, 800
        for k, t in enumerate(times):
            expect_deadline(st, t)
            no_segment_until(st, t, "zero-window probe #%d" % (k + 1))
            expect_seg(one(st, "zero-window probe #%d" % (k + 1)), "A", S1, C1, data=b"d")
            if k < 2:
                c.send("A", t=t + 1 * MS, ack=S1, win=0)
                nothing(st, "no data while the window stays shut")
        c.send("A", t=times[2] + 1 * MS, ack=S1, win=64240)
        expect_seg(one(st, "the data, once the window opens"), "PA", S1, C1, data=b"data")
        expect_deadline(st, times[2] + 1 * MS + 200 * MS)
        c.send("A", t=times[2] + 2 * MS, ack=seq_add(S1, 4), win=64240)
        nothing(st)
        expect_deadline(st, None)
        expect_events(st, "window", [(t, PERSIST, "stack/tcp_output.c") for t in times] +
                      [(times[2] + 1 * MS, REOPENED, "stack/tcp_input.c")])
        expect_counts(st, events={"TCP_PERSIST_PROBES": 3, "TCP_RTO_EXPIRIES": 0,
                                  "TCP_FAST_RETRANSMITS": 0})


def test_zero_window_probe_answers_are_not_duplicate_acks():
    # Each answer to a probe repeats ACK and window (0).  They are not a
    # sign of loss: fast retransmit would send data beyond a zero window
    # (RFC 9293 §3.8.6: only the one-octet probe may go).
    with Stack() as st:
        c, S1 = zero_window_conn(st)
        times = [220 * MS, 620 * MS, 1420 * MS, 3020 * MS, 6220 * MS]
        for k, t in enumerate(times):
            expect_deadline(st, t)
            no_segment_until(st, t, "zero-window probe #%d" % (k + 1))
            expect_seg(one(st, "zero-window probe #%d" % (k + 1)), "A", S1, C1, data=b"d")
            c.send("A", t=t + 1 * MS, ack=S1, win=0)
            nothing(st, "nothing but probes while the window is zero (answer #%d)" % (k + 1))
        expect_counts(st, events={"TCP_PERSIST_PROBES": 5, "TCP_FAST_RETRANSMITS": 0,
                                  "TCP_RETRANSMITS": 0})


def test_zero_window_probe_octet_taken():
    # The peer had room for the probe's octet: it ACKs it and shuts the
    # window again.  When the window opens only the rest follows.
    with Stack() as st:
        c, S1 = zero_window_conn(st)
        st.advance(220 * MS)
        expect_seg(one(st, "the probe"), "A", S1, C1, data=b"d")
        c.send("A", t=221 * MS, ack=seq_add(S1, 1), win=0)
        nothing(st)
        c.send("A", t=223 * MS, ack=seq_add(S1, 1), win=64240)
        expect_seg(one(st, "the rest of the data"), "PA", seq_add(S1, 1), C1, data=b"ata")
        c.send("A", t=224 * MS, ack=seq_add(S1, 4), win=64240)
        nothing(st)
        expect_deadline(st, None)
        expect_counts(st, events={"TCP_PERSIST_PROBES": 1, "TCP_RETRANSMITS": 0})


# --- our receive window ----------------------------------------------------------------

def test_receive_window_shuts_and_reopens_in_steps():
    # The app does not read: the window falls to 0.  RFC 9293 §3.8.6.2.2:
    # the window is announced again only once it can grow by min(buffer/2,
    # MSS) = min(1024, 1460) = 1024 bytes past the edge last advertised;
    # then at once, not after the delayed-ACK time.
    with Stack(read_enabled=0, rcv_buf=2048) as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        c.send("PA", b"a" * 1460, t=10 * MS)
        st.advance(15 * MS)
        expect_seg(one(st), "A", S1, seq_add(C1, 1460), win=588)
        c.send("PA", b"b" * 588, t=20 * MS)
        st.advance(25 * MS)
        expect_seg(one(st, "the ACK shutting the window"), "A", S1, seq_add(C1, 2048), win=0)
        assert st.app_rx() == b""
        st.advance(40 * MS)
        assert st.app_read_max(1000) == 1000
        nothing(st, "no update for 1000 bytes (< 1024)")
        st.advance(41 * MS)
        assert st.app_read_max(100) == 100
        expect_seg(one(st, "a window update for 1100 bytes"), "A", S1, seq_add(C1, 2048), win=1100)
        st.advance(42 * MS)
        assert st.app_read_max(2048) == 948
        nothing(st, "no update: the edge would move by 948 (< 1024)")
        # The peer fills what it was offered; the window then shows 948.
        c.send("PA", b"c" * 1100, t=50 * MS)
        st.advance(55 * MS)
        expect_seg(one(st), "A", S1, seq_add(C1, 3148), win=948)
        st.advance(60 * MS)
        assert st.app_read_max(2048) == 1100
        expect_seg(one(st, "a window update for the whole buffer"), "A", S1, seq_add(C1, 3148), win=2048)
        assert st.app_rx() == b"a" * 1460 + b"b" * 588 + b"c" * 1100
        expect_counts(st, drops={})


# --- delayed ACKs at the real default (RFC 9293 §3.8.6.3) ----------------------------

def test_delayed_ack_40ms():
    with Stack(delack=40 * MS) as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        # A lone segment: ACKed exactly 40 ms after it arrived.
        c.send("PA", b"x" * 100, t=10 * MS)
        expect_deadline(st, 50 * MS)
        no_segment_until(st, 50 * MS, "the ACK before 40 ms")
        expect_seg(one(st, "the delayed ACK"), "A", S1, seq_add(C1, 100))
        expect_deadline(st, None)
        # Two small segments 10 ms apart: one ACK, 40 ms after the first.
        c.send("PA", b"y" * 100, t=100 * MS)
        c.send("PA", b"z" * 100, t=110 * MS)
        nothing(st)
        expect_deadline(st, 140 * MS)
        no_segment_until(st, 140 * MS, "the ACK before 40 ms")
        expect_seg(one(st), "A", S1, seq_add(C1, 300))
        assert st.app_rx() == b"x" * 100 + b"y" * 100 + b"z" * 100
        expect_counts(st, drops={})


def test_every_second_full_sized_segment_acked_at_once():
    with Stack(delack=40 * MS) as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        c.send("A", b"1" * MSS, t=10 * MS)
        nothing(st, "the first full-sized segment's ACK is delayed")
        expect_deadline(st, 50 * MS)
        c.send("A", b"2" * MSS, t=11 * MS)
        expect_seg(one(st, "an ACK on the second full-sized segment"), "A", S1, seq_add(C1, 2 * MSS))
        expect_deadline(st, None)
        c.send("A", b"3" * MSS, t=12 * MS)
        nothing(st, "a third segment starts a new pair")
        expect_deadline(st, 52 * MS)
        st.advance(52 * MS)
        expect_seg(one(st), "A", S1, seq_add(C1, 3 * MSS))
        assert st.app_rx() == b"1" * MSS + b"2" * MSS + b"3" * MSS
        expect_counts(st, drops={})


def test_reply_piggybacks_ack():
    # The app answers from on_data: the reply carries the ACK, and no pure
    # ACK follows when the delayed-ACK time is up.
    with Stack(delack=40 * MS, echo=1) as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        c.send("PA", b"ping", t=10 * MS)
        expect_seg(one(st, "the reply"), "PA", S1, seq_add(C1, 4), data=b"ping")
        expect_deadline(st, 210 * MS)          # the reply's retransmission timer, no ACK timer
        st.advance(60 * MS)
        nothing(st, "no pure ACK after the reply")
        c.send("A", t=70 * MS, ack=seq_add(S1, 4))
        nothing(st)
        expect_deadline(st, None)
        expect_counts(st, drops={}, events={"TCP_SEG_OUT": 2})   # SYN-ACK, reply


def test_later_reply_within_delay_carries_ack():
    with Stack(delack=40 * MS) as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        c.send("PA", b"request", t=10 * MS)
        nothing(st)
        st.advance(30 * MS)
        st.app_send(b"response")
        expect_seg(one(st, "the response"), "PA", S1, seq_add(C1, 7), data=b"response")
        expect_deadline(st, 230 * MS)
        st.advance(60 * MS)
        nothing(st, "no pure ACK after the response")
        expect_counts(st, drops={}, events={"TCP_SEG_OUT": 2})


# --- Nagle (RFC 896, RFC 9293 §3.7.4) ---------------------------------------------------

def test_nagle_holds_small_segments_until_ack():
    with Stack() as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_send(b"a" * 100)
        expect_seg(one(st, "the first small write (nothing in flight)"), "PA", S1, C1, data=b"a" * 100)
        st.advance(21 * MS)
        st.app_send(b"b" * 100)
        st.advance(22 * MS)
        st.app_send(b"c" * 100)
        nothing(st, "small writes while data is unacknowledged")
        c.send("A", t=30 * MS, ack=seq_add(S1, 100))
        expect_seg(one(st, "the held bytes, in one segment"), "PA", seq_add(S1, 100), C1,
                   data=b"b" * 100 + b"c" * 100)
        c.send("A", t=40 * MS, ack=seq_add(S1, 300))
        nothing(st)
        expect_deadline(st, None)


def test_nagle_off_sends_at_once():
    with Stack(nagle=0) as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        for k, ch in enumerate(b"abc"):
            st.advance((20 + k) * MS)
            st.app_send(bytes([ch]) * 100)
            expect_seg(one(st, "write %d at once" % (k + 1)), "PA", seq_add(S1, 100 * k), C1,
                       data=bytes([ch]) * 100)
        expect_deadline(st, 220 * MS)


def test_nagle_never_holds_a_full_segment():
    with Stack() as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        st.advance(20 * MS)
        st.app_send(b"a" * 100)
        one(st)
        st.advance(21 * MS)
        big = bytes(i % 251 for i in range(2000))
        st.app_send(big)
        expect_seg(one(st, "a full-sized segment goes despite unacknowledged data"), "A",
                   seq_add(S1, 100), C1, data=big[:MSS])
        # The 540 left wait while anything is unacknowledged.
        c.send("A", t=30 * MS, ack=seq_add(S1, 100))
        nothing(st, "540 bytes with 1460 unacknowledged")
        c.send("A", t=31 * MS, ack=seq_add(S1, 100 + MSS))
        expect_seg(one(st), "PA", seq_add(S1, 100 + MSS), C1, data=big[MSS:])
