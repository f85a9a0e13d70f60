"""
test_syn_cookies.py -- SYN cookies (RFC 4987 §3.6, stack/syn_cookie.c).

Past the listen backlog a SYN is answered without keeping anything: the
SYN-ACK's sequence number is a cookie (period, the peer's MSS, a keyed hash
of the 4-tuple and the client's ISN) that util.syn_cookie() computes here
without the C code.  A SYN with timestamps also has its window scale and
SACK kept in the low bits of the SYN-ACK's TSval (util.cookie_tsval()).
The ACK that returns the cookie opens the connection; any other ACK gets
an RST, as an ACK to a listener always has (RFC 9293 §3.10.7.2).
"""
from test_placeholder import RESPONSE
from util import (C_ISN, COOKIE_PERIOD, MS, SEC, TCP, Peer, Stack, cookie_tsval, describe,
                  expect_counts, expect_seg, expect_transitions, isn, nothing, one, opts, out,
                  payload, seq_add, syn_cookie, tsval)

GET = b"GET /hello HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n"
LINUX_SYN = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None),
             ("WScale", 7)]


def to_port(st, port):
    """What the stack sent to the client at port; the half-open fillers'
    SYN-ACK retransmissions (to ports 40000..) are left aside."""
    return [p for p in out(st) if p[TCP].dport == port]


def fill_backlog(st, n, t=0):
    """n SYNs from ports 40000.. that are never completed: the backlog."""
    for k in range(n):
        got = Peer(st, sport=40000 + k).syn(t=t)
        assert len(got) == 1
        expect_seg(got[0], "SA", isn(40000 + k, t), seq_add(C_ISN, 1), dport=40000 + k)


def cookie_syn(st, t=0, mss=1460, **peer_kw):
    """A SYN past the full backlog; checks its SYN-ACK carries exactly the
    cookie util.syn_cookie() computes.  Returns (peer, cookie)."""
    c = Peer(st, **peer_kw)
    cookie = syn_cookie(c.sport, C_ISN, t, mss)
    got = c.syn(t=t)
    assert len(got) == 1, [describe(p) for p in got]
    expect_seg(got[0], "SA", cookie, seq_add(C_ISN, 1), dport=c.sport)
    return c, cookie


def test_past_the_backlog_a_syn_gets_a_cookie():
    with Stack(backlog=2, placeholder=True) as st:
        fill_backlog(st, 2)
        c = Peer(st, options=LINUX_SYN)
        got = c.syn(t=1 * MS)
        assert len(got) == 1, [describe(p) for p in got]
        cookie = syn_cookie(c.sport, C_ISN, 1 * MS, 1460)
        expect_seg(got[0], "SA", cookie, seq_add(C_ISN, 1), win=65535)
        # What a SYN-ACK from a TCB would offer, with the SYN's window
        # scale (7) and SACK in the TSval's low 6 bits: 7 | 16 = 23.
        ts = cookie_tsval(1 * MS, wscale=7, sack=True, sport=c.sport)
        assert ts & 63 == 23 and ts <= tsval(1 * MS, c.sport)
        assert opts(got[0]) == [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (ts, 1000)),
                                ("NOP", None), ("WScale", 1)], opts(got[0])
        assert st.tcb_count() == 2, "a cookie keeps no TCB"
        expect_counts(st, drops={"TCP_BACKLOG": 0},
                      events={"TCP_SYN_COOKIES_SENT": 1, "TCP_PASSIVE_OPENS": 2})
        logs = [l for l in st.trace() if l.startswith("log: ")]
        assert logs == ["log: limit reached: SYNs answered with a SYN cookie: listen backlog "
                        "full (--backlog); 1 so far"], logs


def test_the_cookies_ack_opens_the_connection():
    with Stack(backlog=1, delack=0, placeholder=True) as st:
        fill_backlog(st, 1)
        c = Peer(st, options=LINUX_SYN)
        cookie = syn_cookie(c.sport, C_ISN, 2 * MS, 1460)
        got = c.syn(t=2 * MS)
        expect_seg(got[0], "SA", cookie, seq_add(C_ISN, 1))
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(cookie, 1)
        c.send("A", t=3 * MS)
        nothing(st, "no answer to the handshake's ACK")
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "LISTEN -> SYN-RECEIVED",
                                "SYN-RECEIVED -> ESTABLISHED"])
        line = [l for l in st.trace() if "LISTEN -> SYN-RECEIVED" in l][1]
        assert ", the ACK returned a valid SYN cookie (RFC 4987 §3.6) [stack/tcp_input.c:" \
            in line, line
        # This ACK has no timestamp, so none of the SYN's options is known:
        # the connection runs on what the cookie kept, MSS 1460, and with no
        # timestamps the full 1460 bytes per segment.
        c.send("PA", GET, t=4 * MS)
        resp, fin = out(st)
        expect_seg(resp, "PA", seq_add(cookie, 1), seq_add(C_ISN, 1 + len(GET)), data=RESPONSE)
        expect_seg(fin, "FA", seq_add(cookie, 1 + len(RESPONSE)), seq_add(C_ISN, 1 + len(GET)))
        assert opts(resp) == [], opts(resp)
        expect_counts(st, events={"TCP_SYN_COOKIES_SENT": 1, "TCP_SYN_COOKIES_OK": 1,
                                  "TCP_ESTABLISHED": 1})


def test_a_cookie_keeps_the_syns_options_in_its_timestamp():
    # The ACK echoes the SYN-ACK's TSval: the connection gets window scale,
    # SACK and timestamps, as if it had never met a full backlog.
    with Stack(backlog=1, delack=0) as st:
        fill_backlog(st, 1)
        c = Peer(st, options=LINUX_SYN, ts=1000)
        got = c.syn(t=1 * MS)
        cookie = syn_cookie(c.sport, C_ISN, 1 * MS, 1460)
        expect_seg(got[0], "SA", cookie, seq_add(C_ISN, 1), win=65535)
        c.absorb(got[0])
        assert c.tsecr == cookie_tsval(1 * MS, wscale=7, sack=True, sport=c.sport)
        c.seq, c.ack, c.ts = seq_add(C_ISN, 1), seq_add(cookie, 1), 1001
        c.send("A", t=3 * MS)
        assert to_port(st, c.sport) == [], "no answer to the handshake's ACK"
        # Our data: 1448 bytes a segment (12 go to the timestamp); Nagle
        # holds the 104-byte tail while they fly.
        assert st.app_send(bytes(3000)) == 3000
        sent = to_port(st, c.sport)
        assert [len(payload(p)) for p in sent] == [1448, 1448], [describe(p) for p in sent]
        # The handshake's echo gave no RTT sample (the TSval was set back
        # to hold the options): the first retransmission waits the initial
        # 1 s, not the 200 ms floor a sample would have set.
        st.advance(3 * MS + SEC - 1)
        assert to_port(st, c.sport) == [], "a retransmission before the initial RTO"
        st.advance(3 * MS + SEC)
        again = to_port(st, c.sport)
        assert len(again) == 1 and len(payload(again[0])) == 1448, [describe(p) for p in again]
        # Data past a hole: the ACK reports it in a SACK block, beside a
        # timestamp (echoing 1001: TS.Recent does not move past a hole,
        # RFC 7323 §4.3), and its window is scaled by our shift of 1.
        c.ts = 1002
        t = 2 * SEC
        c.send("PA", b"x" * 100, t=t, seq=seq_add(C_ISN, 101))
        a = one(st, "the ACK of out-of-order data")
        expect_seg(a, "A", seq_add(cookie, 1 + 1448), seq_add(C_ISN, 1), win=65536 >> 1)
        assert opts(a) == [("NOP", None), ("NOP", None), ("Timestamp", (tsval(t, c.sport), 1001)),
                           ("NOP", None), ("NOP", None),
                           ("SAck", (seq_add(C_ISN, 101), seq_add(C_ISN, 201)))], opts(a)
        expect_counts(st, events={"TCP_SYN_COOKIES_OK": 1, "TCP_ESTABLISHED": 1})


def test_a_cookie_without_wscale_or_sack():
    # Timestamps alone: the TSval's low bits say "no window scale" (15) and
    # no SACK, so the window stays unscaled and a hole gets no SACK block.
    with Stack(backlog=1, delack=0) as st:
        fill_backlog(st, 1)
        c = Peer(st, options=[("MSS", 1460), ("NOP", None), ("NOP", None),
                              ("Timestamp", (5000, 0))], ts=5000)
        got = c.syn(t=2 * MS)
        cookie = syn_cookie(c.sport, C_ISN, 2 * MS, 1460)
        ts = cookie_tsval(2 * MS, sport=c.sport)
        assert ts & 63 == 15
        assert opts(got[0]) == [("MSS", 1460), ("NOP", None), ("NOP", None),
                                ("Timestamp", (ts, 5000))], opts(got[0])
        c.absorb(got[0])
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(cookie, 1)
        c.send("A", t=3 * MS)
        c.send("PA", b"y" * 10, t=4 * MS, seq=seq_add(C_ISN, 11))
        a = one(st, "the ACK of out-of-order data")
        expect_seg(a, "A", seq_add(cookie, 1), seq_add(C_ISN, 1), win=65535)
        assert opts(a) == [("NOP", None), ("NOP", None),
                           ("Timestamp", (tsval(4 * MS, c.sport), 5000))], opts(a)


def test_a_timestamp_our_cookie_synack_did_not_send_enables_nothing():
    # A SYN without timestamps gets a SYN-ACK with the MSS alone; an ACK
    # that carries a timestamp anyway (TSecr 0), or one whose TSecr is
    # ahead of our clock, cannot switch options on: the connection runs
    # without them and takes data without timestamps.
    for sport, tsecr in ((50200, 0), (50201, None)):
        with Stack(backlog=1, delack=0) as st:
            fill_backlog(st, 1)
            c, cookie = cookie_syn(st, t=1 * MS, sport=sport, options=[("MSS", 1460)])
            echo = tsecr if tsecr is not None else seq_add(tsval(1 * MS, sport), 1000)
            c.seq, c.ack = seq_add(C_ISN, 1), seq_add(cookie, 1)
            c.send("A", t=2 * MS, options=[("NOP", None), ("NOP", None),
                                            ("Timestamp", (7, echo))])
            c.send("PA", b"hi", t=3 * MS)
            a = one(st, "the ACK of data sent without a timestamp")
            expect_seg(a, "A", seq_add(cookie, 1), seq_add(C_ISN, 3), win=65535, dport=sport)
            assert opts(a) == [], opts(a)
            assert st.app_rx() == b"hi"
            expect_counts(st, events={"TCP_SYN_COOKIES_OK": 1})


def test_the_request_itself_may_return_the_cookie():
    # The handshake's ACK lost, the request that follows carries the same
    # acknowledgment: it opens the connection and is answered.
    with Stack(backlog=1, delack=0, placeholder=True) as st:
        fill_backlog(st, 1)
        c, cookie = cookie_syn(st)
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(cookie, 1)
        c.send("PA", GET, t=1 * MS)
        got = to_port(st, c.sport)
        assert len(got) == 2, [describe(p) for p in got]
        expect_seg(got[0], "PA", seq_add(cookie, 1), seq_add(C_ISN, 1 + len(GET)), data=RESPONSE)
        expect_seg(got[1], "FA", seq_add(cookie, 1 + len(RESPONSE)), seq_add(C_ISN, 1 + len(GET)))
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "LISTEN -> SYN-RECEIVED",
                                "SYN-RECEIVED -> ESTABLISHED", "ESTABLISHED -> FIN-WAIT-1"])


def test_a_cookie_carries_the_peers_mss_rounded_down():
    # MSS 1400 rounds down to 1360: the cookie connection never sends more
    # than the peer asked for.
    with Stack(backlog=1, delack=0, snd_buf=1 << 16) as st:
        fill_backlog(st, 1)
        c = Peer(st, options=[("MSS", 1400)])
        got = c.syn(t=0)
        cookie = syn_cookie(c.sport, C_ISN, 0, 1400)
        expect_seg(got[0], "SA", cookie, seq_add(C_ISN, 1))
        assert (cookie >> 24) & 7 == 3
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(cookie, 1)
        c.send("A", t=1 * MS)
        assert st.app_send(bytes(5000)) == 5000
        sent = out(st)
        # Three full segments; Nagle holds the 920-byte tail while they fly.
        assert [len(payload(p)) for p in sent] == [1360, 1360, 1360], [describe(p) for p in sent]
        assert all(opts(p) == [] for p in sent)


def test_a_wrong_or_old_cookie_opens_nothing():
    with Stack(backlog=1, placeholder=True) as st:
        fill_backlog(st, 1)
        c, cookie = cookie_syn(st)
        # Off by one, or for another client ISN: an ACK for nothing we sent.
        for seq, ack in ((seq_add(C_ISN, 1), seq_add(cookie, 2)),
                         (seq_add(C_ISN, 2), seq_add(cookie, 1))):
            c.send("A", seq=seq, ack=ack, t=1 * MS)
            rst = one(st, "the RST")
            expect_seg(rst, "R", ack)
        # The right ACK, but two periods later: the cookie has expired.
        c.send("A", seq=seq_add(C_ISN, 1), ack=seq_add(cookie, 1), t=2 * COOKIE_PERIOD)
        rst = to_port(st, c.sport)
        assert len(rst) == 1, [describe(p) for p in rst]
        expect_seg(rst[0], "R", seq_add(cookie, 1))
        expect_counts(st, events={"TCP_SYN_COOKIES_OK": 0, "TCP_RST_SENT": 3})


def test_a_cookie_cannot_be_altered_or_replayed():
    with Stack(backlog=1, placeholder=True) as st:
        fill_backlog(st, 1)
        c, cookie = cookie_syn(st, mss=536, options=[("MSS", 536)])
        # The MSS bits are hashed: raising them (536 -> 1460) breaks it.
        forged = (cookie & ~(7 << 24)) | (5 << 24)
        c.send("A", seq=seq_add(C_ISN, 1), ack=seq_add(forged, 1), t=1 * MS)
        expect_seg(one(st, "the RST"), "R", seq_add(forged, 1))
        # 32 periods later the 5 period bits are the same, the period is not.
        st.advance(32 * COOKIE_PERIOD - 1)
        out(st)
        Peer(st, sport=41000).syn(t=32 * COOKIE_PERIOD - 1)   # cookies are being sent again
        c.send("A", seq=seq_add(C_ISN, 1), ack=seq_add(cookie, 1), t=32 * COOKIE_PERIOD)
        rst = to_port(st, c.sport)
        assert len(rst) == 1, [describe(p) for p in rst]
        expect_seg(rst[0], "R", seq_add(cookie, 1))
        expect_counts(st, events={"TCP_SYN_COOKIES_OK": 0})


def test_no_cookie_is_taken_when_none_was_sent_lately():
    # A late duplicate of a handshake's ACK, long after the connection
    # ended, must not open a connection the client never asked for.
    with Stack(backlog=1, placeholder=True) as st:
        fill_backlog(st, 1)
        c, cookie = cookie_syn(st)
        late = 3 * COOKIE_PERIOD          # no cookie sent since t=0
        st.advance(late)
        out(st)
        c.send("A", seq=seq_add(C_ISN, 1), ack=seq_add(cookie, 1), t=late)
        got = to_port(st, c.sport)
        assert len(got) == 1, [describe(p) for p in got]
        expect_seg(got[0], "R", seq_add(cookie, 1))
        expect_counts(st, events={"TCP_SYN_COOKIES_OK": 0})


def test_a_cookie_connection_leaves_the_backlog_as_it_was():
    # The TCB a cookie makes passes through SYN-RECEIVED within the ACK's
    # processing: the backlog holds the one half-open filler before and
    # after, so the next SYN still gets a cookie, and the filler's own
    # handshake still completes normally.
    with Stack(backlog=1, delack=0, placeholder=True) as st:
        fill_backlog(st, 1)
        c, cookie = cookie_syn(st)
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(cookie, 1)
        c.send("A", t=1 * MS)
        assert st.tcb_count() == 2
        cookie_syn(st, t=2 * MS, sport=50100)
        f = Peer(st, sport=40000)
        f.seq, f.ack = seq_add(C_ISN, 1), seq_add(isn(40000, 0), 1)
        f.send("A", t=3 * MS)
        expect_counts(st, events={"TCP_SYN_COOKIES_SENT": 2, "TCP_SYN_COOKIES_OK": 1,
                                  "TCP_ESTABLISHED": 2})


def test_a_cookie_ack_when_the_table_is_full():
    # max_conns 1, taken by the half-open filler: the cookie is good, but
    # there is no room for its TCB; counted, and the ACK gets an RST.
    with Stack(backlog=1, max_conns=1, placeholder=True) as st:
        fill_backlog(st, 1)
        c, cookie = cookie_syn(st)
        c.send("A", seq=seq_add(C_ISN, 1), ack=seq_add(cookie, 1), t=1 * MS)
        expect_seg(one(st, "the RST"), "R", seq_add(cookie, 1))
        assert st.tcb_count() == 1
        expect_counts(st, drops={"TCP_TABLE_FULL": 1}, events={"TCP_SYN_COOKIES_OK": 0})


def test_a_cookie_is_good_into_the_next_period():
    # Made just before a period ends, checked just after: still good.
    with Stack(backlog=1, placeholder=True) as st:
        t0 = COOKIE_PERIOD - 1 * MS
        fill_backlog(st, 1, t=t0)
        c, cookie = cookie_syn(st, t=t0)
        c.seq, c.ack = seq_add(C_ISN, 1), seq_add(cookie, 1)
        c.send("A", t=COOKIE_PERIOD + 1 * SEC)
        assert to_port(st, c.sport) == [], "no answer to the handshake's ACK"
        expect_counts(st, events={"TCP_SYN_COOKIES_OK": 1, "TCP_ESTABLISHED": 1})


def test_without_cookies_the_syn_is_dropped():
    with Stack(backlog=1, syn_cookies=0) as st:
        fill_backlog(st, 1)
        Peer(st).syn(t=1 * MS)
        nothing(st, "--no-syn-cookies: a SYN past the backlog gets nothing")
        expect_counts(st, drops={"TCP_BACKLOG": 1}, events={"TCP_SYN_COOKIES_SENT": 0})
