"""
TCP options at work after the handshake: timestamps and PAWS (RFC 7323 §3,
§5), window scaling of the peer's window (RFC 7323 §2), the peer's MSS
(RFC 9293 §3.7.1), and malformed option or header bytes (dropped, counted,
never answered).
"""
from util import (C_ISN, CLIENT, MS, SERVER, IP, TCP, Raw, Stack, Peer, CLOSED_RESET,
                  describe, established, expect_counts, expect_seg, expect_status,
                  expect_transitions, nothing, one, opt, opts, out, payload, seq_add, status,
                  tsval)

OPEN = ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"]
C1 = seq_add(C_ISN, 1)
C6 = seq_add(C_ISN, 6)
TS_SYN = [("MSS", 1460), ("NOP", None), ("NOP", None), ("Timestamp", (1000, 0))]


def ts_established(st):
    """A connection with timestamps; the client's clock reads 1000, then
    1010 for "hello" at 10 ms."""
    c = Peer(st, options=TS_SYN, ts=1000)
    sa = c.connect(0)
    s = sa[TCP].seq
    assert opt(sa, "Timestamp") == (tsval(0), 1000), opts(sa)
    nothing(st)
    c.ts = 1010
    c.send("PA", b"hello", t=10 * MS)
    a = one(st)
    expect_seg(a, "A", seq_add(s, 1), C6, win=65535)
    assert opts(a) == [("NOP", None), ("NOP", None), ("Timestamp", (tsval(10 * MS), 1010))], \
        "ACK options %s" % opts(a)
    c.absorb(a)
    return c, s


def test_paws_drops_old_timestamp():
    with Stack(delack=0) as st:
        c, s = ts_established(st)
        S1 = seq_add(s, 1)
        # TSval 1005 < TS.Recent 1010: an old duplicate (RFC 7323 §5.3 R1).
        c.ts = 1005
        c.send("PA", b"old!", t=20 * MS, seq=C6)
        a = one(st, "the ACK answering a PAWS drop")
        expect_seg(a, "A", S1, C6, win=65535)
        assert opt(a, "Timestamp") == (tsval(20 * MS), 1010), opts(a)
        assert st.app_rx() == b"hello", "PAWS-rejected bytes reached the app: %r" % st.app_rx()
        expect_counts(st, drops={"TCP_PAWS": 1})
        # A current timestamp goes through.
        c.ts = 1020
        c.send("PA", b"new!", t=30 * MS, seq=C6)
        a = one(st)
        expect_seg(a, "A", S1, seq_add(C6, 4))
        assert opt(a, "Timestamp") == (tsval(30 * MS), 1020), opts(a)
        assert st.app_rx() == b"hellonew!", st.app_rx()
        # Our data carries timestamps too (RFC 7323 §3.2), TSecr = TS.Recent.
        st.advance(40 * MS)
        st.app_send(b"resp")
        d = one(st)
        expect_seg(d, "PA", S1, seq_add(C6, 4), data=b"resp")
        assert opts(d) == [("NOP", None), ("NOP", None), ("Timestamp", (tsval(40 * MS), 1020))]
        expect_counts(st, drops={"TCP_PAWS": 1})
        expect_transitions(st, OPEN)


def test_paws_equal_timestamp_accepted():
    with Stack(delack=0) as st:
        c, s = ts_established(st)
        c.send("PA", b"same", t=20 * MS)      # TSval 1010 == TS.Recent: not older
        expect_seg(one(st), "A", seq_add(s, 1), seq_add(C6, 4))
        assert st.app_rx() == b"hellosame"
        expect_counts(st, drops={})


def test_paws_does_not_apply_to_rst():
    with Stack(delack=0) as st:
        c, s = ts_established(st)
        c.ts = 1
        c.send("R", t=20 * MS, seq=C6)
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])
        expect_status(st, status(closed=True, reason=CLOSED_RESET))


def test_segment_without_timestamp_dropped():
    with Stack(delack=0) as st:
        c, s = ts_established(st)
        # RFC 7323 §3.2: a non-RST segment without TSopt on a connection that
        # negotiated timestamps SHOULD be silently dropped.
        c.send("PA", b"no ts", t=20 * MS, seq=C6, options=[])
        nothing(st, "no answer to a segment without timestamp")
        c.send("A", t=21 * MS, seq=C6, options=[])
        nothing(st)
        assert st.app_rx() == b"hello", st.app_rx()
        expect_counts(st, drops={"TCP_NO_TIMESTAMP": 2})
        # An RST needs none.
        c.send("R", t=30 * MS, seq=C6, options=[])
        nothing(st)
        expect_transitions(st, OPEN + ["ESTABLISHED -> CLOSED"])


def test_timestamp_not_negotiated_is_ignored():
    with Stack(delack=0) as st:
        c, s = established(st, data=b"")
        # RFC 7323 §3.2: a TSopt on a connection that did not negotiate it
        # MUST be ignored and the segment processed normally.
        c.send("PA", b"hello", t=10 * MS,
               options=[("NOP", None), ("NOP", None), ("Timestamp", (5, 0))])
        a = one(st)
        expect_seg(a, "A", seq_add(s, 1), C6, win=65535)
        assert opts(a) == [], "we send no timestamps when they were not negotiated: %s" % opts(a)
        assert st.app_rx() == b"hello"
        expect_counts(st, drops={})


def test_window_scaling_bounds_flight():
    with Stack(nagle=0) as st:
        # The client's window field is 1, scaled by its WS of 12: 4096 bytes.
        c = Peer(st, options=[("MSS", 1460), ("NOP", None), ("WScale", 12)], win=1)
        sa = c.connect(0)
        S1 = seq_add(sa[TCP].seq, 1)
        nothing(st)
        data = bytes((i * 7) % 256 for i in range(10000))
        st.advance(10 * MS)
        assert st.app_send(data) == 10000
        # Two full segments fit; the 1176 bytes of window left would take
        # only part of what waits, less than an MSS and less than half the
        # window: silly window avoidance (RFC 9293 §3.8.6.2.1) holds them.
        rounds = [([1460, 1460], "A")] * 3 + [([1240], "PA")]
        sent = 0
        for k, (sizes, last_flags) in enumerate(rounds):
            segs = out(st)
            assert [len(payload(p)) for p in segs] == sizes, "round %d: %s" % (
                k, [describe(p) for p in segs])
            for p in segs:
                n = len(payload(p))
                fl = last_flags if p is segs[-1] else "A"
                # Our own window field is scaled by our shift (1): 65536 >> 1.
                expect_seg(p, fl, seq_add(S1, sent), C1, win=32768, data=data[sent:sent + n])
                sent += n
            c.send("A", t=(20 + 10 * k) * MS, ack=seq_add(S1, sent), win=1)
        nothing(st)
        assert sent == 10000


def test_window_without_scaling():
    with Stack(nagle=0) as st:
        c = Peer(st, win=1000)           # no WS: the field is taken as it is
        sa = c.connect(0)
        S1 = seq_add(sa[TCP].seq, 1)
        st.advance(10 * MS)
        st.app_send(b"w" * 3000)
        expect_seg(one(st, "one window's worth"), "A", S1, C1, data=b"w" * 1000)
        c.send("A", t=20 * MS, ack=seq_add(S1, 1000))
        expect_seg(one(st), "A", seq_add(S1, 1000), C1, data=b"w" * 1000)


def test_peer_mss_honoured():
    data = bytes(i % 256 for i in range(2000))
    cases = [
        ([("MSS", 536)], None, [536, 536, 536, 392]),
        # 12 bytes of every segment go to the timestamp option.
        ([("MSS", 536), ("NOP", None), ("NOP", None), ("Timestamp", (1, 0))], 1,
         [524, 524, 524, 428]),
        ([], None, [536, 536, 536, 392]),          # no MSS option: 536 (RFC 9293 §3.7.1)
        ([("MSS", 9000)], None, [1460, 540]),       # never more than our own
    ]
    for options, ts, sizes in cases:
        with Stack(nagle=0) as st:
            c = Peer(st, options=options, ts=ts)
            sa = c.connect(0)
            S1 = seq_add(sa[TCP].seq, 1)
            st.advance(10 * MS)
            st.app_send(data)
            segs = out(st)
            assert [len(payload(p)) for p in segs] == sizes, "MSS options %s: %s" % (
                options, [describe(p) for p in segs])
            off = 0
            for p in segs:
                fl = "PA" if p is segs[-1] else "A"
                expect_seg(p, fl, seq_add(S1, off), C1, data=data[off:off + len(payload(p))])
                assert p[IP].len <= 40 + max(sizes) + (12 if ts else 0)
                off += len(payload(p))


# --- malformed ----------------------------------------------------------------

def crafted(flags, optbytes, seq=C_ISN, ack=0, data=b"", dport=80, sport=50093, dataofs=None):
    """A segment whose option bytes are given raw (scapy would fix them)."""
    assert len(optbytes) % 4 == 0
    off = dataofs if dataofs is not None else 5 + len(optbytes) // 4
    p = IP(src=CLIENT, dst=SERVER) / TCP(sport=sport, dport=dport, flags=flags, seq=seq,
                                         ack=ack, window=64240, dataofs=off)
    body = optbytes + data
    return p / Raw(body) if body else p


MALFORMED = [
    b"\x02\x00\x00\x00",                  # MSS with length 0
    b"\x02\x01\x00\x00",                  # length 1
    b"\x01\x01\x08\x0a",                  # timestamp running past the header
    b"\x02\x04\x05\xb4\x01\x03\x05\x07",  # WS claiming 5 bytes, 3 left
    b"\x08\xff\x00\x00",                  # length 255
    b"\x01\x01\x01\x03",                  # kind in the last byte, no length
]


def test_malformed_options_dropped():
    with Stack() as st:
        for k, ob in enumerate(MALFORMED):
            st.send(crafted("S", ob), t=k * MS)
            nothing(st, "no answer to a SYN with options %s" % ob.hex())
            st.send(crafted("S", ob, dport=81))
            nothing(st, "no RST from a closed port for options %s" % ob.hex())
        assert st.tcb_count() == 0
        expect_transitions(st, [])
        expect_counts(st, drops={"TCP_OPTIONS": 2 * len(MALFORMED)},
                      events={"TCP_SEG_IN": 0, "TCP_RST_SENT": 0})


def test_malformed_options_on_connection():
    with Stack() as st:
        c, s = established(st)
        for ob in MALFORMED:
            st.send(crafted("PA", ob, seq=C6, ack=seq_add(s, 1), data=b"bad"), t=20 * MS)
            nothing(st)
        assert st.app_rx() == b"hello", st.app_rx()
        expect_counts(st, drops={"TCP_OPTIONS": len(MALFORMED)})
        expect_transitions(st, OPEN)


def test_tolerated_options():
    cases = [
        (b"\x00\x02\x00\x00", None),                   # EOL: the rest is not read
        (b"\xfe\x04\xab\xcd\x02\x04\x02\x18", None),   # unknown kind 254 skipped
        (b"\x03\x04\x07\x00", None),                   # WS of the wrong length ignored
        (b"\x01\x01\x01\x01", None),                   # NOPs only
    ]
    for ob, _ in cases:
        with Stack() as st:
            st.send(crafted("S", ob), t=0)
            sa = one(st, "SYN-ACK for options %s" % ob.hex())
            expect_seg(sa, "SA", sa[TCP].seq, C1)
            assert opts(sa) == [("MSS", 1460)], "options %s: SYN-ACK %s" % (ob.hex(), opts(sa))
            expect_counts(st, drops={})


def test_bad_data_offset_and_short_segment():
    with Stack() as st:
        st.send(crafted("S", b"", dataofs=4), t=0)                    # < 5 words
        st.send(crafted("S", b"\x01\x01\x01\x01", dataofs=15))        # past the segment
        st.send(IP(src=CLIENT, dst=SERVER, proto=6) / Raw(b"\x00" * 19))
        st.send(IP(src=CLIENT, dst=SERVER) / TCP(sport=0, dport=80, flags="S"))
        st.send(IP(src=CLIENT, dst=SERVER) / TCP(sport=50093, dport=0, flags="S"))
        nothing(st)
        assert st.tcb_count() == 0
        expect_counts(st, drops={"TCP_DATA_OFFSET": 2, "TCP_SHORT": 1, "TCP_BAD_PORT": 2},
                      events={"TCP_SEG_IN": 0})


def test_tiny_peer_mss_with_timestamps():
    # A peer MSS below the 12 bytes a timestamp takes must not wrap the
    # send MSS: segments carry TCP_MIN_SEND_MSS (64) bytes, in packets whose
    # IPv4 total length is their true length.
    for mss in (0, 11, 12):
        with Stack() as st:
            c = Peer(st, ts=1000, options=[("MSS", mss), ("NOP", None), ("NOP", None),
                                           ("Timestamp", (1000, 0))])
            c.connect(0)
            st.advance(2 * MS)
            assert st.app_send(bytes(1000)) == 1000
            sent = out(st)
            assert sent and all(len(payload(p)) == 64 and p[IP].len == 20 + 32 + 64
                                for p in sent), [describe(p) for p in sent]
