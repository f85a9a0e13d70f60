"""
Congestion control: the initial window (RFC 6928), slow start and
congestion avoidance (RFC 5681 §3.1), the loss window after a timeout,
fast retransmit and NewReno fast recovery (RFC 5681 §3.2, RFC 6582),
SACK-based loss recovery (RFC 6675), and restart after idle (RFC 5681
§4.1).

The peer plays the network: it decides which of the stack's segments
"arrive" and ACKs (or SACKs) accordingly.  Every reaction to loss is traced
with cwnd, ssthresh and the bytes in flight; the tests check those lines
word for word.  MSS 1460 throughout unless said otherwise, so the initial
window is 10 segments (14600 bytes).
"""
from util import (C_ISN, MS, SACK_PERM, TS_PERM, TCP, Stack, describe, expect_counts,
                  expect_deadline, expect_events, expect_seg, handshake, nothing, out,
                  payload, sack_opt, seq_add)

C1 = seq_add(C_ISN, 1)
MSS = 1460
CC = "stack/tcp_congestion.c"
OUTPUT = "stack/tcp_output.c"
NEWRENO = "RFC 5681 §3.2, RFC 6582 §3.2"


def data(n):
    return bytes(i % 253 for i in range(n))


def segments(st, S1, stream, what="segments"):
    """What the stack sent: a list of segment numbers (1 = the first MSS
    after S1), each checked to be exactly that MSS of the stream."""
    got = []
    for p in out(st):
        off = (p[TCP].seq - S1) & 0xffffffff
        n = len(payload(p))
        assert off % MSS == 0 and n == min(MSS, len(stream) - off), "%s: %s" % (what, describe(p))
        fl = "PA" if off + n == len(stream) else "A"
        expect_seg(p, fl, seq_add(S1, off), C1, data=stream[off:off + n])
        got.append(off // MSS + 1)
    return got


def rel(S1, k):
    """(absolute, relative to the ISN) sequence number of segment k."""
    return seq_add(S1, (k - 1) * MSS), 1 + (k - 1) * MSS


def resend(S1, k, rfc, n=MSS):
    seq, r = rel(S1, k)
    return "retransmit seq=%d (rel %d) len=%d (%s)" % (seq, r, n, rfc)


def cc(what, cwnd, ssthresh, flight, rfc, una):
    """A congestion event's trace text; una is SND.UNA relative to our ISN."""
    return "%s: cwnd=%d ssthresh=%d flight=%d una=%d (rel) (%s)" % (
        what, cwnd, ssthresh, flight, una, rfc)


# --- the initial window (RFC 6928) -------------------------------------------------

def test_initial_window():
    # IW = min(10·MSS, max(2·MSS, 14600)) bytes: the first flight of a
    # large write, and nothing more until an ACK comes back.
    cases = [  # peer options, stack settings, expected segment sizes
        ([("MSS", 1460)], {}, [1460] * 10),                     # 14600
        ([("MSS", 536)], {}, [536] * 10),                       # 5360
        (TS_PERM, {}, [1448] * 10),                             # 14480: 12 bytes of options
        ([("MSS", 8960)], {"mtu": 9000}, [8960] * 2),           # 2·MSS = 17920 > 14600
        # 14600 bytes; the tail is smaller than the MSS, so without
        # nagle=0 it would wait for an ACK (RFC 9293 §3.7.4).
        ([("MSS", 4000)], {"mtu": 9000, "nagle": 0}, [4000] * 3 + [2600]),
    ]
    for options, cfg, sizes in cases:
        with Stack(**cfg) as st:
            c, s = handshake(st, rtt=0, options=options, ts=1000 if TS_PERM is options else None)
            S1 = seq_add(s, 1)
            st.advance(10 * MS)
            stream = data(40000)
            assert st.app_send(stream) == 40000
            segs = out(st)
            assert [len(payload(p)) for p in segs] == sizes, "MSS %s: first flight %s, expected %s" % (
                options, [len(payload(p)) for p in segs], sizes)
            off = 0
            for p in segs:
                expect_seg(p, "A", seq_add(S1, off), C1, data=stream[off:off + len(payload(p))])
                off += len(payload(p))
            st.advance(20 * MS)
            nothing(st, "more than the initial window before an ACK")
            # Slow start: an ACK of one segment lets two more go.
            c.send("A", t=30 * MS, ack=seq_add(S1, sizes[0]))
            more = out(st)
            mss = max(sizes)
            assert [len(payload(p)) for p in more] == [mss, mss], \
                "after the first ACK: %s" % [describe(p) for p in more]
            expect_counts(st, events={"TCP_RETRANSMITS": 0})


# --- a timeout: the loss window, then slow start (RFC 5681 §3.1) -----------------

def test_rto_loss_window_then_slow_start():
    # The whole first flight is lost.  The RTO computed from the handshake
    # (RTT 100 ms: 100 + 4·50 = 300 ms) expires; then ssthresh =
    # max(FlightSize/2, 2·MSS) = 7300, cwnd = 1 MSS, and only the first
    # segment goes (RFC 5681 §3.1 eq. (4), RFC 6298 §5.4).  Each ACK then
    # lets cwnd grow by one MSS (slow start) up to ssthresh, then by one
    # MSS per cwnd of data acked (congestion avoidance).
    with Stack() as st:
        c, s = handshake(st, rtt=100 * MS)
        S1 = seq_add(s, 1)
        stream = data(30 * MSS)
        st.advance(120 * MS)
        st.app_send(stream)
        assert segments(st, S1, stream) == list(range(1, 11))
        expect_deadline(st, 420 * MS)
        st.advance(420 * MS - 1)
        nothing(st, "a retransmission before the RTO")
        st.advance(420 * MS)
        assert segments(st, S1, stream, "after the RTO") == [1], "cwnd is one segment after a timeout"
        expect_deadline(st, 1020 * MS)         # RTO backed off to 600 ms
        # The peer ACKs one segment at a time, 1 ms apart.
        bursts = []
        sent = 1
        for k in range(1, 14):
            c.send("A", t=420 * MS + k * MS, ack=seq_add(S1, k * MSS))
            got = segments(st, S1, stream, "after the ACK of segment %d" % k)
            assert got == list(range(sent + 1, sent + 1 + len(got))), "after ACK %d: %s" % (k, got)
            sent += len(got)
            bursts.append(len(got))
        # cwnd 2920, 4380, 5840, 7300 (= ssthresh: congestion avoidance from
        # here), then +1 MSS once 7300 bytes more are acked (after 5 ACKs).
        assert bursts == [2, 2, 2, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1], bursts
        expect_events(st, "timeout", [(420 * MS, cc("retransmission timeout", 1460, 7300, 14600,
                                                     "RFC 5681 §3.1, RFC 6298 §5.5", una=1), CC)])
        # Segments 1-10 went twice (go-back-N after the timeout), 11-23 once.
        expect_events(st, "retransmit seq", [
            (420 * MS + (k // 2) * MS, resend(S1, k, "RFC 6298 §5.4"), OUTPUT) for k in range(1, 11)])
        expect_counts(st, events={"TCP_RETRANSMITS": 10, "TCP_RTO_EXPIRIES": 1,
                                  "TCP_FAST_RETRANSMITS": 0})


# --- fast retransmit and NewReno (RFC 5681 §3.2, RFC 6582) ----------------------

def test_fast_retransmit_newreno():
    # Ten segments in flight, 1 and 5 lost, 20 segments queued.  The third
    # duplicate ACK resends segment 1 at once (not at the 200 ms RTO):
    # ssthresh = max(FlightSize/2, 2·MSS) = 7300, cwnd = ssthresh + 3·MSS.
    # Each further duplicate ACK inflates cwnd by one MSS, and new data goes
    # once cwnd exceeds what is in flight.  The partial ACK (up to segment
    # 5) resends segment 5 and deflates cwnd by what it acked, plus one MSS;
    # the full ACK ends recovery with cwnd = min(ssthresh, FlightSize + MSS).
    with Stack() as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        stream = data(20 * MSS)
        st.advance(20 * MS)
        st.app_send(stream)
        assert segments(st, S1, stream) == list(range(1, 11))
        sent_new = []
        for n, k in enumerate([2, 3, 4, 6, 7, 8, 9, 10], 1):   # segments 1 and 5 lost
            t = 30 * MS + n * MS
            c.send("A", t=t, ack=S1)
            got = segments(st, S1, stream, "after duplicate ACK %d" % n)
            if n < 3:
                # Limited transmit (RFC 3042): one new segment per early dupACK.
                assert got == [10 + n], "after %d duplicate ACKs: %s" % (n, got)
            elif n == 3:
                assert got == [1], "the third duplicate ACK must resend segment 1 only: %s" % got
                expect_deadline(st, 220 * MS)  # the RTO timer is still the original one
            else:
                sent_new += got
        # 12 segments are out (11 and 12 by limited transmit); cwnd 11680 +
        # 1460 per further dupack: 13140 ... 18980, which lets segment 13 go.
        assert sent_new == [13], sent_new
        # Segment 1 arrived: the peer ACKs up to the hole at segment 5.
        c.send("A", t=40 * MS, ack=seq_add(S1, 4 * MSS))
        assert segments(st, S1, stream, "after the partial ACK") == [5, 14]
        # Segment 5 arrived: everything up to 13 is acked.
        c.send("A", t=41 * MS, ack=seq_add(S1, 13 * MSS))
        assert segments(st, S1, stream, "after the full ACK") == [15]
        expect_events(st, "", [
            (33 * MS, cc("fast retransmit, NewReno recovery", 11680, 7300, 17520, NEWRENO, una=1), CC),
            (33 * MS, resend(S1, 1, NEWRENO), OUTPUT),
            (40 * MS, resend(S1, 5, NEWRENO), OUTPUT),
            (40 * MS, cc("partial ACK, resend next segment", 14600, 7300, 13140, "RFC 6582 §3.2",
                         una=4 * MSS + 1), CC),
            (41 * MS, cc("recovery complete", 2920, 7300, 1460, "RFC 6582 §3.2", una=13 * MSS + 1), CC),
        ])
        expect_counts(st, events={"TCP_FAST_RETRANSMITS": 1, "TCP_RETRANSMITS": 2,
                                  "TCP_RTO_EXPIRIES": 0})


def test_one_or_two_duplicate_acks_no_retransmission():
    # Reordering in the network: fewer than three duplicate ACKs are not a
    # loss signal (RFC 5681 §3.2), and a new ACK starts the count again.
    with Stack() as st:
        c, s = handshake(st, rtt=0)
        S1 = seq_add(s, 1)
        stream = data(3 * MSS)
        st.advance(20 * MS)
        st.app_send(stream)
        assert segments(st, S1, stream) == [1, 2, 3]
        c.send("A", t=21 * MS, ack=S1)
        nothing(st, "a retransmission after one duplicate ACK")
        c.send("A", t=22 * MS, ack=S1)
        nothing(st, "a retransmission after two duplicate ACKs")
        c.send("A", t=23 * MS, ack=seq_add(S1, MSS))      # segment 1 arrived late
        nothing(st)
        c.send("A", t=24 * MS, ack=seq_add(S1, MSS))
        c.send("A", t=25 * MS, ack=seq_add(S1, MSS))
        nothing(st, "the count restarts at a new ACK: two duplicates are not three")
        c.send("A", t=26 * MS, ack=seq_add(S1, 3 * MSS))
        nothing(st)
        expect_deadline(st, None)
        # cwnd was not reduced: 14600 + 1460 + 1460 (one MSS per new ACK in
        # slow start) = 12 segments go at once.
        big = data(20 * MSS)
        st.advance(27 * MS)
        st.app_send(big)
        S4 = seq_add(S1, 3 * MSS)
        assert segments(st, S4, big) == list(range(1, 13))
        expect_events(st, "", [])
        expect_counts(st, events={"TCP_RETRANSMITS": 0, "TCP_FAST_RETRANSMITS": 0})


# --- SACK-based recovery (RFC 6675) ------------------------------------------------

def sack_established(st):
    c, s = handshake(st, rtt=0, options=SACK_PERM)
    return c, seq_add(s, 1)


def dupack(c, S1, t, *blocks):
    """A duplicate ACK carrying SACK blocks given in segment numbers
    (first, last) inclusive."""
    c.send("A", t=t, ack=S1, options=[sack_opt(S1, *[((a - 1) * MSS, b * MSS) for a, b in blocks])])


def test_sack_recovery_resends_only_lost_holes():
    # Ten segments, 1 and 4 lost.  RFC 6675 §4 IsLost(seq): more than
    # (DupThresh - 1)·MSS = 2920 bytes SACKed above seq.  The third
    # duplicate ACK starts recovery: ssthresh = cwnd = FlightSize/2 = 7300,
    # segment 1 goes (§5 (4.3)), and HighRxt is set past it.  SetPipe
    # counts unSACKed data not deemed lost plus what was resent; NextSeg
    # rule 1 resends a lost hole above HighRxt while cwnd - pipe >= MSS.
    # SACKed segments are never sent again.
    with Stack() as st:
        c, S1 = sack_established(st)
        stream = data(10 * MSS)
        st.advance(20 * MS)
        st.app_send(stream)
        assert segments(st, S1, stream) == list(range(1, 11))
        steps = [  # SACK blocks (newest first), segments expected to go
            ([(2, 2)], []),
            ([(2, 3)], []),                  # 2920 above segment 1: not yet lost
            ([(5, 5), (2, 3)], [1]),         # third duplicate: resend 1; pipe 10220
            ([(5, 6), (2, 3)], []),          # pipe 1460 + 1460 + 5840 = 8760
            ([(5, 7), (2, 3)], [4]),         # segment 4 now lost: pipe 5840, resend 4
            ([(5, 8), (2, 3)], []),          # nothing lost left, no new data
            ([(5, 9), (2, 3)], []),
            ([(5, 10), (2, 3)], []),
        ]
        for n, (blocks, want) in enumerate(steps, 1):
            dupack(c, S1, 30 * MS + n * MS, *blocks)
            got = segments(st, S1, stream, "after duplicate ACK %d" % n)
            assert got == want, "after duplicate ACK %d (SACK %s): sent %s, expected %s" % (
                n, blocks, got, want)
        # The resent segment 1 arrives: ACK up to the hole at 4, 5-10 SACKed.
        c.send("A", t=40 * MS, ack=seq_add(S1, 3 * MSS), options=[sack_opt(S1, (4 * MSS, 10 * MSS))])
        assert segments(st, S1, stream, "after the partial ACK") == []
        c.send("A", t=41 * MS, ack=seq_add(S1, 10 * MSS))
        nothing(st)
        expect_deadline(st, None)
        expect_events(st, "", [
            (33 * MS, cc("fast retransmit, SACK recovery", 7300, 7300, 14600, "RFC 6675 §5", una=1), CC),
            (33 * MS, resend(S1, 1, "RFC 6675 §5"), OUTPUT),
            (35 * MS, resend(S1, 4, "RFC 6675 §5"), OUTPUT),
            (41 * MS, cc("recovery complete", 7300, 7300, 0, "RFC 6675 §5", una=10 * MSS + 1), CC),
        ])
        expect_counts(st, events={"TCP_FAST_RETRANSMITS": 1, "TCP_RETRANSMITS": 2,
                                  "TCP_RTO_EXPIRIES": 0})


def test_sack_loss_detected_before_third_duplicate_ack():
    # RFC 6675 §5 (3.b): "If DupAcks < DupThresh but IsLost (HighACK + 1)
    # returns true" recovery starts: one duplicate ACK SACKing three
    # segments above the hole is enough.
    with Stack() as st:
        c, S1 = sack_established(st)
        stream = data(10 * MSS)
        st.advance(20 * MS)
        st.app_send(stream)
        assert segments(st, S1, stream) == list(range(1, 11))
        dupack(c, S1, 31 * MS, (2, 4))
        assert segments(st, S1, stream, "after one duplicate ACK SACKing 2-4") == [1]
        expect_events(st, "", [
            (31 * MS, cc("fast retransmit, SACK recovery", 7300, 7300, 14600, "RFC 6675 §5", una=1), CC),
            (31 * MS, resend(S1, 1, "RFC 6675 §5"), OUTPUT),
        ])
        c.send("A", t=40 * MS, ack=seq_add(S1, 10 * MSS))
        nothing(st)
        expect_counts(st, events={"TCP_FAST_RETRANSMITS": 1, "TCP_RETRANSMITS": 1})


def test_rto_resends_around_sacked_data():
    # Four segments, 1 and 3 lost: two duplicate ACKs (SACK 2, then 4) are
    # not enough for fast retransmit.  At the RTO cwnd = 1 MSS and
    # ssthresh = max(2920, 2·MSS) = 2920; retransmission starts at SND.UNA
    # and skips what the peer SACKed (RFC 6675 §5.1).
    with Stack() as st:
        c, S1 = sack_established(st)
        stream = data(4 * MSS)
        st.advance(20 * MS)
        st.app_send(stream)
        assert segments(st, S1, stream) == [1, 2, 3, 4]
        dupack(c, S1, 21 * MS, (2, 2))
        dupack(c, S1, 22 * MS, (4, 4), (2, 2))
        nothing(st, "no fast retransmit on two duplicate ACKs")
        st.advance(220 * MS)
        assert segments(st, S1, stream, "at the RTO") == [1]
        c.send("A", t=230 * MS, ack=seq_add(S1, 2 * MSS), options=[sack_opt(S1, (3 * MSS, 4 * MSS))])
        assert segments(st, S1, stream, "after the ACK of 1-2") == [3], "segment 4 was SACKed"
        c.send("A", t=240 * MS, ack=seq_add(S1, 4 * MSS))
        nothing(st)
        expect_deadline(st, None)
        expect_events(st, "", [
            (220 * MS, cc("retransmission timeout", 1460, 2920, 5840, "RFC 5681 §3.1, RFC 6298 §5.5",
                          una=1), CC),
            (220 * MS, resend(S1, 1, "RFC 6298 §5.4"), OUTPUT),
            (230 * MS, resend(S1, 3, "RFC 6298 §5.4"), OUTPUT),
        ])
        expect_counts(st, events={"TCP_RETRANSMITS": 2, "TCP_RTO_EXPIRIES": 1,
                                  "TCP_FAST_RETRANSMITS": 0})


# --- restart after idle (RFC 5681 §4.1) -------------------------------------------

def test_restart_after_idle():
    # "a TCP SHOULD set cwnd to no more than RW before beginning
    # transmission if the TCP has not sent data in an interval exceeding
    # the retransmission timeout", RW = min(IW, cwnd).  Ten ACKs grew cwnd
    # to 29200; the RTO is 200 ms and data last went at 20 ms.
    for idle, nsegs in ((200 * MS, 20), (200 * MS + 1, 10)):
        with Stack() as st:
            c, s = handshake(st, rtt=0)
            S1 = seq_add(s, 1)
            first = data(10 * MSS)
            st.advance(20 * MS)
            st.app_send(first)
            assert segments(st, S1, first) == list(range(1, 11))
            for k in range(1, 11):
                c.send("A", t=30 * MS + k * MS, ack=seq_add(S1, k * MSS))
                nothing(st)
            expect_deadline(st, None)
            st.advance(20 * MS + idle)
            more = data(30 * MSS)
            st.app_send(more)
            S2 = seq_add(S1, 10 * MSS)
            assert segments(st, S2, more) == list(range(1, nsegs + 1)), \
                "after %d µs idle, expected %d segments" % (idle, nsegs)
            want = [] if nsegs == 20 else [
                (20 * MS + idle, cc("restart after idle", 14600, 0xffffffff, 0, "RFC 5681 §4.1",
                                     una=10 * MSS + 1), CC)]
            expect_events(st, "", want)
            expect_counts(st, events={"TCP_RETRANSMITS": 0})


def test_fast_retransmit_after_2gib_without_loss():
    # RFC 6582's `recover` is compared with SND.UNA mod 2^32.  Left at the
    # ISS, it would fall more than 2^31 behind after 2 GiB without a loss,
    # and no fast retransmit would come for the next 2 GiB.  2.06 GiB go
    # by (64 KB segments, each ACKed), then three duplicate ACKs.
    import ctypes
    import struct
    big = 65535 - 40
    with Stack(mtu=65535, snd_buf=16 << 20, delack=0) as st:
        c, s = handshake(st, rtt=1 * MS, options=[("MSS", big), ("NOP", None), ("WScale", 14)])
        S1 = seq_add(s, 1)
        tmpl = bytearray(bytes(c.seg("A", ack=S1, win=65535)))
        buf = ctypes.create_string_buffer(70000)

        def ack(n):
            """A pure ACK of n, its checksum made here (raw bytes: fast)."""
            struct.pack_into("!I", tmpl, 28, n)
            struct.pack_into("!H", tmpl, 36, 0)
            words = struct.unpack("!10H", bytes(tmpl[20:40])) + struct.unpack("!4H", tmpl[12:20])
            sum_ = sum(words) + 6 + 20
            while sum_ >> 16:
                sum_ = (sum_ & 0xffff) + (sum_ >> 16)
            struct.pack_into("!H", tmpl, 36, ~sum_ & 0xffff)
            st.send(bytes(tmpl), t=st.now + 10)

        def sent():
            ends = []
            while (k := st.L.h_pop_output(st.h, buf, len(buf))) >= 0:
                seq, = struct.unpack_from("!I", buf.raw, 24)
                ends.append((seq, (seq + k - 40) & 0xffffffff))
            return ends

        acked, queued, chunk = 0, 0, bytes(16 << 20)
        while acked < (1 << 31) + (50 << 20):
            if queued - acked < (8 << 20):
                queued += st.app_send(chunk)
            for _, end in sent():
                ack(end)
                acked = (end - S1) & 0xffffffff
        for _, end in sent():          # what was still in flight
            ack(end)
        st.app_send(bytes(10 * big))
        flight = sent()
        una = flight[0][0]
        for k in range(3):
            ack(una)
            got = sent()
            assert (got == [(una, seq_add(una, big))]) == (k == 2), (k, got)
        expect_counts(st, events={"TCP_FAST_RETRANSMITS": 1, "TCP_RTO_EXPIRIES": 0})
