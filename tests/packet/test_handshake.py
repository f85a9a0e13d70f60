"""
The three-way handshake, passive side (RFC 9293 §3.5, §3.10.7.2; options
RFC 9293 §3.7.1, RFC 7323, RFC 2018; ISN RFC 6528).
"""
from util import (C_ISN, C_PORT, MS, SEC, TCP, IP, Stack, Peer, describe, expect_counts,
                  expect_deadline, expect_seg, expect_transitions, flags, isn, nothing, one,
                  opt, opts, out, seq_add, tsval)

# The server's ISN for 10.0.0.1:50093 -> 10.0.0.2:80 at t=0 with the fixed
# test key: SipHash-2-4(key, 4-tuple, 'I') mod 2^32.
S_ISN_AT_0 = 2426330264


def test_synack_fields():
    with Stack() as st:
        c = Peer(st)
        got = c.syn(t=0)
        assert len(got) == 1, "SYN: expected one SYN-ACK, got %s" % [describe(p) for p in got]
        sa = got[0]
        assert S_ISN_AT_0 == isn(C_PORT, 0), "Python's RFC 6528 ISN disagrees with the constant"
        expect_seg(sa, "SA", S_ISN_AT_0, seq_add(C_ISN, 1), win=65535)
        assert opts(sa) == [("MSS", 1460)], "SYN offered only MSS; SYN-ACK options %s" % opts(sa)
        ip = sa[IP]
        assert ip.ttl == 64 and ip.proto == 6 and ip.flags == "DF" and ip.ihl == 5, \
            "IP header: ttl=%d proto=%d flags=%s ihl=%d" % (ip.ttl, ip.proto, ip.flags, ip.ihl)
        assert ip.len == 44, "SYN-ACK IP total length %d, expected 20+24" % ip.len
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED"])
        assert st.conns() == 0, "the app must not see a half-open connection"
        assert st.conn_count() == 1 and st.tcb_count() == 1
        expect_deadline(st, 1 * SEC)   # SYN-ACK retransmission timer, RFC 6298 §2.1
        expect_counts(st, events={"TCP_PASSIVE_OPENS": 1, "TCP_ESTABLISHED": 0,
                                  "TCP_SEG_IN": 1, "TCP_SEG_OUT": 1})


def test_final_ack_establishes():
    with Stack() as st:
        c = Peer(st)
        c.syn(t=0)
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(S_ISN_AT_0, 1)
        c.send("A", t=50 * MS)
        nothing(st, "no answer to the handshake's final ACK")
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"])
        assert st.conns() == 1, "the app was not told of the connection"
        expect_deadline(st, None)      # nothing unacknowledged: no timer
        expect_counts(st, events={"TCP_PASSIVE_OPENS": 1, "TCP_ESTABLISHED": 1})
        # The trace line names the segment with relative numbers.
        line = [l for l in st.trace() if "SYN-RECEIVED -> ESTABLISHED" in l][0]
        assert line.startswith("0.050000 10.0.0.1:50093 > 10.0.0.2:80 "), line
        assert "[ACK] seq=%d (rel 1) ack=%d (rel 1)" % (C_ISN + 1, S_ISN_AT_0 + 1) in line, line
        assert "RFC 9293 §3.10.7.4" in line and "stack/tcp_input.c:" in line, line


def test_mss_is_mtu_minus_40():
    for mtu, mss in ((1500, 1460), (65535, 65495), (576, 536), (9000, 8960)):
        with Stack(nagle=0, mtu=mtu) as st:
            # WS 7 so the peer's window (64240 << 7) is no limit.
            c = Peer(st, options=[("MSS", 65495), ("NOP", None), ("WScale", 7)])
            sa = c.connect(0)
            assert opt(sa, "MSS") == mss, "mtu %d: SYN-ACK MSS %s, expected %d" % (
                mtu, opt(sa, "MSS"), mss)
            # Our data segments are bounded by the smaller of the two MSS.
            st.app_send(b"z" * (mss + 10))
            segs = out(st)
            assert [len(bytes(p[TCP].payload)) for p in segs] == [mss, 10], \
                "mtu %d: segment sizes %s" % (mtu, [describe(p) for p in segs])


def test_all_options_offered():
    with Stack() as st:
        c = Peer(st, options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (12345, 0)),
                              ("NOP", None), ("WScale", 7)])
        got = c.syn(t=5 * MS)
        assert len(got) == 1
        sa = got[0]
        s = isn(C_PORT, 5 * MS)
        expect_seg(sa, "SA", s, seq_add(C_ISN, 1), win=65535)   # a SYN's window is never scaled
        # Linux's layout: MSS, SACK_PERM+TS, NOP+WS.  TSecr echoes the SYN's
        # TSval; WS is the smallest shift that lets 64 KiB fit 16 bits: 1.
        want = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (tsval(5 * MS), 12345)),
                ("NOP", None), ("WScale", 1)]
        assert opts(sa) == want, "SYN-ACK options\n  got  %s\n  want %s" % (opts(sa), want)
        assert sa[TCP].dataofs == 10, "header length %d words" % sa[TCP].dataofs


def test_each_option_alone():
    cases = [
        ([("MSS", 1460), ("NOP", None), ("NOP", None), ("SAckOK", b"")],
         [("MSS", 1460), ("NOP", None), ("NOP", None), ("SAckOK", b"")]),
        ([("MSS", 1460), ("NOP", None), ("NOP", None), ("Timestamp", (77, 0))],
         [("MSS", 1460), ("NOP", None), ("NOP", None), ("Timestamp", (tsval(0), 77))]),
        ([("MSS", 1460), ("NOP", None), ("WScale", 2)],
         [("MSS", 1460), ("NOP", None), ("WScale", 1)]),
        ([], [("MSS", 1460)]),
    ]
    for offered, want in cases:
        with Stack() as st:
            c = Peer(st, options=offered)
            sa = c.syn(t=0)[0]
            assert opts(sa) == want, "offered %s:\n  got  %s\n  want %s" % (offered, opts(sa), want)


def test_window_scale_shift():
    # (rcv_buf, smallest shift with rcv_buf >> shift <= 65535)
    for buf, shift in ((65535, 0), (65536, 1), (131072, 2), (1 << 20, 5), (16 << 20, 9)):
        with Stack(delack=0, rcv_buf=buf) as st:
            c = Peer(st, options=[("MSS", 1460), ("NOP", None), ("WScale", 7)])
            sa = c.connect(0)
            assert opt(sa, "WScale") == shift, "rcv_buf %d: WS %s, expected %d" % (
                buf, opt(sa, "WScale"), shift)
            assert sa[TCP].window == min(buf, 65535), "rcv_buf %d: SYN-ACK window %d" % (
                buf, sa[TCP].window)
            c.send("PA", b"x", t=1 * MS)
            a = one(st)
            # After the SYN the window field is scaled: rcv_buf >> shift
            # (exact for these buffers, whichever way a stack rounds).
            field = min(buf >> shift, 65535)
            expect_seg(a, "A", seq_add(sa[TCP].seq, 1), seq_add(C_ISN, 2), win=field)


def test_isn_deterministic():
    seqs = []
    for _ in range(2):
        with Stack() as st:
            seqs.append(Peer(st).syn(t=123456)[0][TCP].seq)
    assert seqs[0] == seqs[1] == isn(C_PORT, 123456), "ISNs %s, expected %d twice" % (
        seqs, isn(C_PORT, 123456))
    # RFC 6528: the ISN clock ticks every 4 microseconds...
    with Stack() as st:
        s = Peer(st).syn(t=123456 + 4000)[0][TCP].seq
        assert s == seq_add(seqs[0], 1000), "ISN 4 ms later is %d, expected +1000" % s
    # ...and F() separates 4-tuples.
    with Stack() as st:
        s = Peer(st, sport=40000).syn(t=123456)[0][TCP].seq
        assert s == isn(40000, 123456) and s != seqs[0], "ISN for port 40000: %d" % s


def test_syn_with_data_not_acked():
    with Stack(delack=0) as st:
        c = Peer(st)
        got = c.syn(t=0, payload=b"early")
        assert len(got) == 1
        expect_seg(got[0], "SA", S_ISN_AT_0, seq_add(C_ISN, 1), win=65535)  # not ISN+6
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(S_ISN_AT_0, 1)
        c.send("A", t=1 * MS)
        nothing(st)
        assert st.app_rx() == b"", "data on the SYN reached the app: %r" % st.app_rx()
        # The peer sends it again after the handshake; now it is taken.
        c.send("PA", b"early", t=2 * MS)
        expect_seg(one(st), "A", seq_add(S_ISN_AT_0, 1), seq_add(C_ISN, 6), win=65535)
        assert st.app_rx() == b"early", st.app_rx()


def test_retransmitted_syn_gets_same_synack():
    with Stack() as st:
        c = Peer(st)
        first = c.syn(t=0)[0]
        again = c.syn(t=200 * MS)
        assert len(again) == 1, "retransmitted SYN: %s" % [describe(p) for p in again]
        assert bytes(again[0][TCP]) == bytes(first[TCP]), "SYN-ACKs differ:\n  %s\n  %s" % (
            describe(first), describe(again[0]))
        assert again[0][IP].id == (first[IP].id + 1) & 0xffff, "IP ID must advance"
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED"])
        assert st.tcb_count() == 1, "a second TCB was made for the same 4-tuple"
        expect_counts(st, events={"TCP_PASSIVE_OPENS": 1})
        assert any("retransmitted SYN, resend SYN-ACK" in l for l in st.trace())
        # The handshake still completes.
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(S_ISN_AT_0, 1)
        c.send("A", t=300 * MS)
        nothing(st)
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"])


def test_ack_with_data_completes_handshake():
    with Stack(delack=0) as st:
        c = Peer(st)
        c.syn(t=0)
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(S_ISN_AT_0, 1)
        c.send("PA", b"GET", t=1 * MS)
        expect_seg(one(st), "A", seq_add(S_ISN_AT_0, 1), seq_add(C_ISN, 4), win=65535)
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"])
        assert st.app_rx() == b"GET", st.app_rx()


def test_bad_ack_in_syn_received_gets_rst():
    with Stack() as st:
        c = Peer(st)
        c.syn(t=0)
        c.seq = seq_add(C_ISN, 1)
        # RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: an ACK outside SND.UNA <
        # SEG.ACK =< SND.NXT gets <SEQ=SEG.ACK><CTL=RST>, the TCB stays.
        for bad in (S_ISN_AT_0, seq_add(S_ISN_AT_0, 2), 12345):
            c.send("A", t=1 * MS, ack=bad)
            expect_seg(one(st), "R", bad, win=0)
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED"])
        c.send("A", t=2 * MS, ack=seq_add(S_ISN_AT_0, 1))
        nothing(st)
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"])


def test_rst_in_syn_received_returns_to_listen():
    with Stack() as st:
        c = Peer(st)
        c.syn(t=0)
        c.send("R", t=1 * MS, seq=seq_add(C_ISN, 1))
        nothing(st, "no answer to an RST")
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> LISTEN"])
        assert st.tcb_count() == 0 and st.conns() == 0
        expect_deadline(st, None)
        # The listener takes the next SYN from the same port afresh.
        got = Peer(st).syn(t=2 * MS)
        assert len(got) == 1 and flags(got[0]) == "SA"
        expect_seg(got[0], "SA", isn(C_PORT, 2 * MS), seq_add(C_ISN, 1))
