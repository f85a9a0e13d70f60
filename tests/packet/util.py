"""
util.py -- what the packet tests share on top of synack.py: the expected
ISNs and timestamp offsets computed independently of the C code (RFC 6528
with SipHash-2-4, in Python), a peer that can speak timestamps, and checks
that say exactly which field of which segment was wrong.

Every packet a test takes from the stack goes through out()/one()/nothing(),
which also verify the IPv4, TCP and ICMP checksums of it.
"""
import struct

from synack import (CLIENT, SERVER, KEY, SEC, IP, TCP, ICMP, UDP, Raw, raw,  # noqa: F401
                    Client, Stack, EOF_SEEN, CLOSED, CLOSED_NORMALLY,  # noqa: F401
                    CLOSED_RESET, CLOSED_TIMEOUT, CLOSED_ABORTED)  # noqa: F401

MS = 1000                  # virtual time is in microseconds
C_ISN = 1915658151         # the client's ISN (Client's default)
C_PORT = 50093             # the client's port (Client's default)
S_PORT = 80

# --- RFC 6528 ISNs, computed here without the C code ------------------------

_M64 = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & _M64


def siphash24(key, data):
    """SipHash-2-4 (Aumasson, Bernstein 2012), 64-bit result."""
    k0 = int.from_bytes(key[:8], "little")
    k1 = int.from_bytes(key[8:16], "little")
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def rnd():
        v[0] = (v[0] + v[1]) & _M64
        v[1] = _rotl(v[1], 13) ^ v[0]
        v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & _M64
        v[3] = _rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & _M64
        v[3] = _rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & _M64
        v[1] = _rotl(v[1], 17) ^ v[2]
        v[2] = _rotl(v[2], 32)

    n = len(data)
    whole = n - n % 8
    for i in range(0, whole, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m
        rnd()
        rnd()
        v[0] ^= m
    b = ((n & 0xff) << 56 | int.from_bytes(data[whole:] + bytes(8 - n % 8), "little")) & _M64
    v[3] ^= b
    rnd()
    rnd()
    v[0] ^= b
    v[2] ^= 0xff
    for _ in range(4):
        rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def _addr(a):
    return bytes(int(x) for x in a.split("."))


def _keyed(domain, sport, dport=S_PORT, client=CLIENT, server=SERVER):
    msg = _addr(server) + struct.pack(">H", dport) + _addr(client) + \
        struct.pack(">H", sport) + domain
    return siphash24(KEY, msg) & 0xffffffff


def isn(sport=C_PORT, t=0, dport=S_PORT, client=CLIENT):
    """The server's ISN for a SYN from client:sport at virtual time t (RFC
    6528: M, a 4-microsecond clock, plus F(key, 4-tuple))."""
    return (t // 4 + _keyed(b"I", sport, dport, client)) & 0xffffffff


def ts_offset(sport=C_PORT, dport=S_PORT, client=CLIENT):
    return _keyed(b"T", sport, dport, client)


def tsval(t, sport=C_PORT):
    """The server's TSval at virtual time t: a millisecond clock plus a
    per-connection offset."""
    return (t // 1000 + ts_offset(sport)) & 0xffffffff


COOKIE_PERIOD = 64 * SEC
COOKIE_MSS = [64, 536, 1200, 1360, 1440, 1460, 8960, 65495]


def syn_cookie(sport, client_isn, t, mss, dport=S_PORT, client=CLIENT):
    """The SYN cookie (RFC 4987 §3.6) the server answers a SYN with at
    virtual time t when its backlog is full: the period's low 5 bits, 3 of
    the peer's MSS rounded down to COOKIE_MSS, 24 of SipHash over the
    4-tuple, the client's ISN, the whole period and the MSS index
    (stack/syn_cookie.h)."""
    period = t // COOKIE_PERIOD
    m = max(i for i, v in enumerate(COOKIE_MSS) if v <= mss or i == 0)
    msg = _addr(SERVER) + struct.pack(">H", dport) + _addr(client) + \
        struct.pack(">HIIB", sport, client_isn, period, m) + b"C"
    return (period & 31) << 27 | m << 24 | (siphash24(KEY, msg) & 0xffffff)


def cookie_tsval(t, wscale=None, sack=False, sport=C_PORT):
    """The TSval of a cookie SYN-ACK at virtual time t (stack/syn_cookie.h):
    our clock with its low 6 bits replaced by the SYN's window scale (15:
    none) and SACK (bit 4), set back 64 ms if that put it ahead."""
    now = tsval(t, sport)
    v = (now & ~63) | (15 if wscale is None else min(wscale, 14)) | (16 if sack else 0)
    return (v - 64) & 0xffffffff if seq_gt(v, now) else v


def seq_gt(a, b):
    return 0 < ((a - b) & 0xffffffff) < 0x80000000


def seq_add(a, n):
    return (a + n) & 0xffffffff


# --- checksums -----------------------------------------------------------------

def check_checksums(p):
    """Recomputes every checksum of an IPv4 packet with scapy and compares."""
    b = raw(p)
    q = IP(b)
    fresh = q.copy()
    del fresh.chksum
    layers = []
    for proto in (TCP, UDP, ICMP):
        if proto in fresh:
            del fresh[proto].chksum
            layers.append(proto)
    r = IP(raw(fresh))
    assert r.chksum == q.chksum, "IP checksum 0x%04x, should be 0x%04x in %s" % (
        q.chksum, r.chksum, q.summary())
    for proto in layers:
        assert r[proto].chksum == q[proto].chksum, "%s checksum 0x%04x, should be 0x%04x in %s" % (
            proto.__name__, q[proto].chksum, r[proto].chksum, q.summary())


def out(st):
    """Everything the stack sent since the last call, checksums verified."""
    pkts = st.received()
    for p in pkts:
        check_checksums(p)
    return pkts


def one(st, what="one packet"):
    pkts = out(st)
    assert len(pkts) == 1, "expected %s, got %d: %s" % (what, len(pkts), [describe(p) for p in pkts])
    return pkts[0]


def nothing(st, why="nothing"):
    pkts = out(st)
    assert pkts == [], "expected %s to be sent, got %d: %s" % (why, len(pkts), [describe(p) for p in pkts])


def describe(p):
    if TCP in p:
        t = p[TCP]
        return "%s:%d>%s:%d [%s] seq=%d ack=%d win=%d len=%d opts=%s" % (
            p[IP].src, t.sport, p[IP].dst, t.dport, t.flags, t.seq, t.ack, t.window,
            len(payload(p)), t.options)
    return p.summary()


def payload(p):
    return bytes(p[TCP].payload) if TCP in p else b""


def flags(p):
    return str(p[TCP].flags)


def expect_seg(p, fl, seq, ack=None, win=None, data=b"", sport=S_PORT, dport=C_PORT,
               dst=CLIENT):
    """Asserts one TCP segment from the server exactly: flags (scapy letters,
    e.g. "SA", "PA", "FA", "RA", "R"), seq, ack (0 when the ACK flag is off),
    window (when given) and payload."""
    assert IP in p and TCP in p, "not a TCP segment: %s" % p.summary()
    d = describe(p)
    assert p[IP].src == SERVER and p[IP].dst == dst, "addresses: %s" % d
    assert p[TCP].sport == sport and p[TCP].dport == dport, "ports: %s" % d
    assert flags(p) == fl, "flags %s, expected %s: %s" % (flags(p), fl, d)
    assert p[TCP].seq == seq, "seq %d, expected %d (off by %d): %s" % (
        p[TCP].seq, seq, (p[TCP].seq - seq) & 0xffffffff, d)
    if "A" in fl:
        if ack is not None:
            assert p[TCP].ack == ack, "ack %d, expected %d (off by %d): %s" % (
                p[TCP].ack, ack, (p[TCP].ack - ack) & 0xffffffff, d)
    else:
        assert p[TCP].ack == 0, "ack field %d without ACK flag: %s" % (p[TCP].ack, d)
    if win is not None:
        assert p[TCP].window == win, "window %d, expected %d: %s" % (p[TCP].window, win, d)
    assert payload(p) == data, "payload %r, expected %r: %s" % (payload(p)[:80], data[:80], d)
    assert p[TCP].urgptr == 0, "urgent pointer set: %s" % d
    return p


def opts(p):
    """TCP options as a list of (name, value), NOPs included, as on the wire."""
    return [(n, v) for n, v in p[TCP].options]


def opt(p, name):
    for n, v in p[TCP].options:
        if n == name:
            return v
    return None


def expect_status(st, want, i=0, mask=0xffffffff):
    got = st.app_status(i)
    assert got & mask == want & mask, "app status 0x%x, expected 0x%x (mask 0x%x)" % (got, want, mask)


def status(closed=False, eof=False, reason=CLOSED_NORMALLY):
    return (EOF_SEEN if eof else 0) | (CLOSED if closed else 0) | ((reason << 8) if closed else 0)


def expect_transitions(st, want):
    got = st.transitions()
    assert got == want, "transitions:\n  got  %s\n  want %s" % (got, want)


def expect_counts(st, drops=None, events=None):
    """Asserts the named counters; every drop counter not named must be 0."""
    from synack import DROPS
    drops = drops or {}
    unknown = set(drops) - set(DROPS)
    assert not unknown, "no such drop counter: %s" % sorted(unknown)
    for name in DROPS:
        assert st.drops(name) == drops.get(name, 0), "drop counter %s = %d, expected %d" % (
            name, st.drops(name), drops.get(name, 0))
    for name, n in (events or {}).items():
        assert st.events(name) == n, "event counter %s = %d, expected %d" % (name, st.events(name), n)


def expect_deadline(st, t):
    d = st.next_deadline()
    assert d == t, "next deadline %s, expected %s" % (fmt_t(d), fmt_t(t))


def fmt_t(t):
    return "never" if t is None else "%d.%06d s" % (t // SEC, t % SEC)


# --- the peer ------------------------------------------------------------------

class Peer(Client):
    """A Client that can also speak timestamps (RFC 7323): with ts set, every
    segment it builds carries <NOP,NOP,TS(ts, tsecr)>, tsecr being the last
    TSval the stack sent it (see absorb())."""

    def __init__(self, st, sport=C_PORT, isn=C_ISN, win=64240, options=None, ts=None):
        super().__init__(st, sport=sport, isn=isn, win=win, options=options)
        self.ts = ts
        self.tsecr = 0

    def seg(self, flags, seq=None, ack=None, payload=b"", win=None, options=None):
        if options is None and self.ts is not None:
            options = [("NOP", None), ("NOP", None), ("Timestamp", (self.ts, self.tsecr))]
        return super().seg(flags, seq=seq, ack=ack, payload=payload, win=win, options=options)

    def syn(self, t=None, options=None, payload=b""):
        """Sends the SYN; returns what the stack answered (a list)."""
        self.st.send(self.seg("S", options=self.options if options is None else options,
                              payload=payload), t=t)
        return out(self.st)

    def connect(self, t=0, win=None):
        """Three-way handshake with checks; returns the SYN-ACK."""
        got = self.syn(t)
        assert len(got) == 1, "SYN: expected one SYN-ACK, got %s" % [describe(p) for p in got]
        synack = got[0]
        assert flags(synack) == "SA", "SYN answered with %s" % describe(synack)
        self.seq = seq_add(self.seq, 1)
        self.ack = seq_add(synack[TCP].seq, 1)
        self.server_isn = synack[TCP].seq
        self.absorb(synack)
        self.st.send(self.seg("A", win=win))
        return synack

    def absorb(self, p):
        """Takes the stack's TSval for our next TSecr."""
        v = opt(p, "Timestamp")
        if v is not None:
            self.tsecr = v[0]

    def send(self, flags="PA", data=b"", t=None, seq=None, ack=None, win=None, options=None):
        """Sends one segment; the peer's seq moves by what it occupies when
        seq is not given explicitly."""
        p = self.seg(flags, seq=seq, ack=ack, payload=data, win=win, options=options)
        self.st.send(p, t=t)
        if seq is None:
            self.seq = seq_add(self.seq, len(data) + ("F" in flags) + ("S" in flags))
        return p


def established(st, t=0, data=b"hello", t_data=10 * MS, **peer_kw):
    """Opens a connection and sends data; checks the app got it and the ACK.
    Returns (peer, server ISN)."""
    c = Peer(st, **peer_kw)
    synack = c.connect(t)
    s_isn = synack[TCP].seq
    nothing(st, "no answer to the handshake's ACK")
    if data:
        c.send("PA", data, t=t_data)
        a = delayed_ack(st, t_data, "the ACK of the data")
        expect_seg(a, "A", seq_add(s_isn, 1), seq_add(C_ISN, 1 + len(data)))
        assert st.app_rx() == data, "app received %r, expected %r" % (st.app_rx(), data)
    return c, s_isn


DELACK = Stack.TEST_DELACK   # what scenarios run with (synack.py)


def delayed_ack(st, t_data, what="the delayed ACK"):
    """RFC 9293 §3.8.6.3: a lone data segment is not ACKed at once; the ACK
    leaves exactly the stack's delayed-ACK time after it arrived (at once
    when the stack runs with delack=0).  Returns that ACK."""
    if st.delack == 0:
        return one(st, what)
    nothing(st, "no immediate ACK for %s" % what)
    expect_deadline(st, t_data + st.delack)
    st.advance(t_data + st.delack)
    return one(st, what)


# --- reliable transfer: handshakes with a chosen RTT, SACK, traced events ------

SACK_PERM = [("MSS", 1460), ("SAckOK", b"")]
TS_PERM = [("MSS", 1460), ("NOP", None), ("NOP", None), ("Timestamp", (1000, 0))]


def handshake(st, rtt=0, t=0, win=None, **peer_kw):
    """SYN at t, the handshake's ACK rtt later.  The SYN-ACK is timed (or
    echoed in TSecr), so its ACK is the connection's first RTT sample (RFC
    6298 §2.2): SRTT = rtt, RTTVAR = rtt/2.  Returns (peer, server ISN)."""
    c = Peer(st, **peer_kw)
    got = c.syn(t)
    assert len(got) == 1 and flags(got[0]) == "SA", "SYN answered with %s" % [describe(p) for p in got]
    synack = got[0]
    c.seq = seq_add(c.seq, 1)
    c.ack = seq_add(synack[TCP].seq, 1)
    c.server_isn = synack[TCP].seq
    c.absorb(synack)
    c.send("A", t=t + rtt, win=win)
    nothing(st, "no answer to the handshake's ACK")
    return c, synack[TCP].seq


def sack_opt(base, *blocks):
    """A SACK option for blocks given as (start, end) offsets from base."""
    return ("SAck", tuple(seq_add(base, x) for b in blocks for x in b))


def sack_blocks(p, base):
    """The SACK blocks of a segment as (start, end) offsets from base."""
    v = opt(p, "SAck")
    if v is None:
        return []
    return [((v[i] - base) & 0xffffffff, (v[i + 1] - base) & 0xffffffff) for i in range(0, len(v), 2)]


_EVENT_RE = None
_TRACE_CALLS = ("TRACE_CC(", "TCP_TRACE_EVENT(", "trace_resend(", "tcp_trace_event(")


def traced_events(st, contains=""):
    """The event lines of the trace (congestion reactions, retransmissions,
    probes; not segments or state changes) containing `contains`, as (time
    in µs, "what (RFC)", source file).  Each line's [file:line] must name a
    line of that file that makes such a trace call."""
    import os
    import re
    from synack import ROOT
    global _EVENT_RE
    if _EVENT_RE is None:
        _EVENT_RE = re.compile(r"^(\d+)\.(\d{6}) \S+ > \S+ ([A-Z0-9-]+): (.*) \[([^\]:]+):(\d+)\]$")
    got = []
    for line in st.trace():
        m = _EVENT_RE.match(line)
        if not m or contains not in m.group(4):
            continue
        path, no = m.group(5), int(m.group(6))
        src = open(os.path.join(ROOT, path)).read().splitlines()
        assert 0 < no <= len(src), "trace names %s:%d, past the end of the file: %s" % (path, no, line)
        # The call may span lines; __LINE__ is that of its last line.
        code = " ".join(ln.strip() for ln in src[max(0, no - 3):no])
        call = code[max(code.rfind(c) for c in _TRACE_CALLS):] if any(c in code for c in _TRACE_CALLS) else ""
        what = m.group(4).split(":")[0].split(" (RFC")[0]
        assert call and (what in call or (what.startswith("retransmit seq=") and "trace_resend(" in call)), \
            "trace names %s:%d, which is not where %r is traced: %r" % (path, no, what, src[no - 1].strip())
        got.append((int(m.group(1)) * SEC + int(m.group(2)), m.group(4), path))
    return got


def expect_events(st, contains, want):
    """Asserts the traced events containing `contains`: a list of (time,
    "what (RFC)", file)."""
    got = traced_events(st, contains)
    assert got == want, "traced %r events:\n  got  %s\n  want %s" % (
        contains, "\n       ".join(map(str, got)) or "none", "\n       ".join(map(str, want)) or "none")
