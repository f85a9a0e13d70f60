"""
Offload (stack_config.offload, synackd's default): the stack hands the link
GSO super-segments of up to 64 KB with the TCP checksum left partial, and
the kernel cuts them into MSS-sized segments.  The harness splits them the
way synackd's capture does (tun/gso.c), so these tests see wire segments.

What must hold: offload changes how many writes reach the TUN, never what
TCP says.  The same conversation with offload on and off gives the same
segments -- flags, sequence and acknowledgment numbers, windows, options,
payload -- and only the number of packets handed to the link differs.
Peer MSS 1460 with timestamps, so 1448 bytes of data per segment.
"""
from util import (C_ISN, MS, TS_PERM, TCP, IP, Stack, describe, expect_seg, flags,
                  handshake, out, payload, raw, sack_blocks, seq_add)

C1 = seq_add(C_ISN, 1)
MSS = 1448


def data(n):
    return bytes(i % 251 for i in range(n))


def wire(p):
    """A segment as TCP sees it: everything but the IPv4 ID."""
    t = p[TCP]
    return (str(t.flags), t.seq, t.ack, t.window, tuple(t.options), payload(p))


def test_first_flight_is_one_super_segment():
    # 40000 bytes queued, initial window 10 segments (RFC 6928): one write
    # to the link carrying 14480 bytes, which the kernel takes as ten
    # segments of 1448.  None empties the queue, so none has PSH.
    with Stack(offload=1) as st:
        c, s = handshake(st, options=TS_PERM, ts=1000)
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        stream = data(40000)
        assert st.app_send(stream) == 40000
        segs = out(st)
        assert st.super_segments() == 1
        assert [len(payload(p)) for p in segs] == [MSS] * 10, [describe(p) for p in segs]
        for k, p in enumerate(segs):
            expect_seg(p, "A", seq_add(S1, k * MSS), C1, data=stream[k * MSS:(k + 1) * MSS])
        # The kernel numbers the segments' IPv4 IDs one after another.
        ids = [p[IP].id for p in segs]
        assert ids == [(ids[0] + k) & 0xffff for k in range(10)], ids
        # The trace has one line for the write, saying what the wire gets.
        sent = [l for l in st.trace() if " OUT " in l and "len=14480" in l]
        assert len(sent) == 1, st.trace()
        assert sent[0].endswith(" len=14480 (GSO: 10 segments of 1448 on the wire)"), sent[0]


def test_short_tail_waits_for_nagle_or_fin():
    # 5000 bytes: one super-segment of three full segments; the 656-byte
    # tail would wait behind them as a segment of its own (RFC 896), so it
    # waits here too, and goes with FIN once the app closes.
    with Stack(offload=1) as st:
        c, s = handshake(st, options=TS_PERM, ts=1000)
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        stream = data(5000)
        st.app_send(stream)
        held = out(st)    # with data in flight, Nagle holds the tail back
        assert [len(payload(p)) for p in held] == [MSS] * 3, [describe(p) for p in held]
        st.app_close()    # ... until it is the last before our FIN
        last = out(st)
        expect_seg(last[0], "FPA", seq_add(S1, 3 * MSS), C1, data=stream[3 * MSS:])
        assert len(last) == 1
        assert st.super_segments() == 1


def test_super_segment_with_a_tail_is_traced_as_such():
    # Nagle off: 3 full segments and the 100-byte tail go at once, in one
    # super-segment, PSH on the tail.  The trace says what the wire
    # carries; the capture shows the four.
    with Stack(offload=1, nagle=0) as st:
        c, s = handshake(st, options=TS_PERM, ts=1000)
        S1 = seq_add(s, 1)
        st.advance(10 * MS)
        stream = data(3 * MSS + 100)
        st.app_send(stream)
        segs = out(st)
        assert [len(payload(p)) for p in segs] == [MSS] * 3 + [100], [describe(p) for p in segs]
        expect_seg(segs[3], "PA", seq_add(S1, 3 * MSS), C1, data=stream[3 * MSS:])
        assert st.super_segments() == 1
        sent = [l for l in st.trace() if " OUT " in l and "len=4444" in l]
        assert len(sent) == 1, st.trace()
        assert sent[0].endswith(
            " len=4444 (GSO: 4 segments on the wire, 3 of 1448 and one of 100)"), sent[0]


def conversation(offload):
    """A transfer with every kind of segment boundary: a full first flight,
    ACKs that open the window part way, Nagle holding a short tail while
    data is in flight, and a FIN riding on the last data.  Returns the wire
    segments in order and the number of super-segments."""
    segs = []
    with Stack(offload=offload, delack=0) as st:
        c, s = handshake(st, options=TS_PERM, ts=1000)
        S1 = seq_add(s, 1)
        st.advance(10 * MS)

        def ack(n, t):
            c.send("A", ack=seq_add(S1, n), t=t)
            return out(st)
        st.app_send(data(30000))
        segs += out(st)                   # 10 segments: the initial window
        segs += ack(4 * MSS, 11 * MS)     # cwnd 11, 6 in flight: 5 more
        segs += ack(14 * MSS, 12 * MS)    # cwnd 12, 1 in flight: 5 more; the
                                          # 1040-byte tail waits (Nagle)
        segs += ack(20 * MSS, 13 * MS)    # nothing in flight: the tail goes
        st.app_send(data(2 * MSS + 500))
        segs += ack(30000, 14 * MS)       # two full; the 500 wait behind them
        segs += ack(30000 + 2 * MSS, 15 * MS)
        ack(30000 + 2 * MSS + 500, 16 * MS)
        st.app_send(data(4 * MSS + 192))
        st.app_close()                    # the FIN rides on the last data
        segs += out(st)
        return [wire(p) for p in segs], st.super_segments()


def test_offload_changes_no_segment():
    plain, none = conversation(0)
    gso, supers = conversation(1)
    want = ([("A", MSS)] * 20 + [("PA", 1040)] + [("A", MSS)] * 2 + [("PA", 500)] +
            [("A", MSS)] * 4 + [("FPA", 192)])
    assert [(w[0], len(w[5])) for w in plain] == want, [(w[0], len(w[5])) for w in plain]
    for k, (a, b) in enumerate(zip(plain, gso)):
        assert a == b, "segment %d: %s without offload, %s with" % (k, a[:5], b[:5])
    assert len(plain) == len(gso)
    # Written to the link: 29 packets without offload, 9 with: five
    # super-segments (10, 5, 5, 2 and 5 segments) and four single ones.
    assert (none, supers) == (0, 5), (none, supers)


def test_sack_blocks_come_out_of_the_mss():
    # While out-of-order data from the peer is held, every segment carries
    # a SACK block (4 + 8 bytes beside the timestamp's 12): the data per
    # segment shrinks by as much, so no segment outgrows the MTU (RFC
    # 6691).  At MTU 65535 a full segment would otherwise need an IPv4
    # total length above 65535.
    opts = [("MSS", 0), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None),
            ("WScale", 7)]
    for mtu, offload in ((1500, 0), (1500, 1), (65535, 0), (65535, 1)):
        opts[0] = ("MSS", mtu - 40)
        with Stack(mtu=mtu, offload=offload, snd_buf=1 << 20, rcv_buf=1 << 20) as st:
            c, s = handshake(st, options=opts, ts=1000, win=4000)   # 512,000 bytes
            S1 = seq_add(s, 1)
            c.send("PA", b"x" * 100, seq=seq_add(c.seq, 1000), t=5 * MS, win=4000)  # a hole
            ack = out(st)
            assert len(ack) == 1 and sack_blocks(ack[0], c.seq) == [(1000, 1100)], \
                [describe(p) for p in ack]
            st.advance(10 * MS)
            stream = data(200000)
            st.app_send(stream)
            segs = out(st)
            mss = mtu - 40 - 12 - 12          # timestamp, then NOP, NOP, SACK of one block
            assert segs and all(len(payload(p)) == mss for p in segs), \
                (mtu, offload, [len(payload(p)) for p in segs])
            for k, p in enumerate(segs):
                assert p[IP].len == len(raw(p)) <= mtu, (mtu, offload, p[IP].len, len(raw(p)))
                expect_seg(p, "A", seq_add(S1, k * mss), c.seq, data=stream[k * mss:(k + 1) * mss])
