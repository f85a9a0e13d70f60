"""
golden.py -- scenarios recorded as pcap files (both directions, virtual
timestamps) and compared with the captures checked in under pcaps/.

    /usr/bin/python3 tests/packet/golden.py     # compare every scenario
    SYNACK_UPDATE_GOLDEN=1 /usr/bin/python3 tests/packet/golden.py
                                                 # rewrite pcaps/*.pcap
    (or the same through run.py test_golden)

A RecordingStack is a Stack that keeps every packet going in (as the peer
built it) and coming out, stamped with the virtual time of the call that
carried it.  The files are LINKTYPE_IPV4 (228) pcaps with microsecond
timestamps, readable by tcpdump, Wireshark and scapy's rdpcap.
"""
import os
import tempfile
from decimal import Decimal

from scapy.all import rdpcap, wrpcap

from synack import ROOT, SEC, IP, TCP, raw, Stack
from util import MS, Peer, one, nothing, expect_seg, seq_add

PCAPS = os.path.join(ROOT, "pcaps")


class RecordingStack(Stack):
    """A Stack that records both directions for a capture."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.capture = []
        self._pending = []

    def _stamp(self, b):
        p = IP(bytes(b))
        p.time = Decimal(self.now) / Decimal(SEC)
        return p

    def _drain(self):
        for p in super().received():
            self.capture.append(self._stamp(raw(p)))
            self._pending.append(p)

    def advance(self, t):
        super().advance(t)
        self._drain()

    def send(self, pkt, t=None):
        if t is not None:
            self.advance(t)
        b = raw(pkt) if not isinstance(pkt, (bytes, bytearray)) else bytes(pkt)
        self.capture.append(self._stamp(b))
        super().send(b)
        self._drain()

    def received(self):
        self._drain()   # what an app call (send, close, abort) made
        got, self._pending = self._pending, []
        return got


# --- the scenarios -------------------------------------------------------------

LINUX_SYN = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None),
             ("WScale", 7)]
REQUEST = (b"GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: curl/8.5.0\r\n"
           b"Accept: */*\r\n\r\n")


def handshake_get_close():
    """curl-like client against the placeholder app: handshake, GET, the 200
    response, the server's FIN, the client's ACK and FIN, our last ACK, and
    TIME-WAIT running out (which sends nothing)."""
    with RecordingStack(placeholder=True) as st:
        c = Peer(st, options=LINUX_SYN, ts=1000)       # SYN window 64240
        c.connect(0, win=502)                          # then 502 << 7 = 64256
        nothing(st)
        c.ts = 1001
        c.send("PA", REQUEST, t=1 * MS, win=502)
        got = st.received()
        assert len(got) == 2, "response and FIN expected"
        fin_seq = seq_add(got[1][TCP].seq, 1)
        c.absorb(got[1])
        c.ts = 1002
        c.send("A", t=2 * MS, ack=fin_seq, win=502)
        nothing(st)
        c.ts = 1003
        c.send("FA", t=3 * MS, ack=fin_seq, win=502)
        expect_seg(one(st), "A", fin_seq, c.seq)
        st.advance(3 * MS + 60 * SEC)
        nothing(st)
        return st.capture


def synack_backoff():
    """A SYN that is never completed: the SYN-ACK at 0 s and again at 1, 3,
    7, 15 and 31 s (RTO 1 s doubling), then the half-open connection is
    forgotten at 63 s without a packet."""
    with RecordingStack() as st:
        Peer(st).syn(t=0)
        for t in (1, 3, 7, 15, 31, 63):
            st.advance(t * SEC)
        st.received()
        assert st.tcb_count() == 0
        return st.capture


SCENARIOS = {
    "handshake_get_close": handshake_get_close,
    "synack_backoff": synack_backoff,
}


# --- files ------------------------------------------------------------------------

def path_of(name):
    return os.path.join(PCAPS, name + ".pcap")


def to_bytes(pkts):
    """The pcap file wrpcap writes for pkts."""
    fd, tmp = tempfile.mkstemp(suffix=".pcap")
    os.close(fd)
    try:
        wrpcap(tmp, pkts)
        with open(tmp, "rb") as f:
            return f.read()
    finally:
        os.unlink(tmp)


def write(name, pkts):
    os.makedirs(PCAPS, exist_ok=True)
    with open(path_of(name), "wb") as f:
        f.write(to_bytes(pkts))


def differences(name, pkts):
    """None when pkts are byte-identical (timestamps included) to the golden
    file, else a description of the first difference."""
    path = path_of(name)
    if not os.path.exists(path):
        return "%s is missing (SYNACK_UPDATE_GOLDEN=1 writes it)" % path
    with open(path, "rb") as f:
        want = f.read()
    got = to_bytes(pkts)
    if got == want:
        return None
    old = rdpcap(path)
    lines = ["%s differs from this run (%d packets now, %d in the file)" % (
        path, len(pkts), len(old))]
    for i in range(max(len(pkts), len(old))):
        a = pkts[i] if i < len(pkts) else None
        b = old[i] if i < len(old) else None
        if a is None or b is None or raw(a) != raw(b) or Decimal(a.time) != Decimal(b.time):
            lines.append("first difference at packet %d:" % (i + 1))
            lines.append("  file: %s" % ("-" if b is None else "%s %s" % (b.time, b.summary())))
            lines.append("  now:  %s" % ("-" if a is None else "%s %s" % (a.time, a.summary())))
            if a is not None and b is not None:
                lines.append("  file bytes: %s" % raw(b).hex())
                lines.append("  now bytes:  %s" % raw(a).hex())
            break
    return "\n".join(lines)


def check(name):
    """Runs a scenario; compares with (or, with SYNACK_UPDATE_GOLDEN=1,
    rewrites) its golden file.  Returns None or the differences."""
    pkts = SCENARIOS[name]()
    if os.environ.get("SYNACK_UPDATE_GOLDEN") == "1":
        write(name, pkts)
        return None
    return differences(name, pkts)


if __name__ == "__main__":
    import sys
    import run
    run.ensure_environment(os.path.abspath(__file__))
    bad = 0
    for n in SCENARIOS:
        d = check(n)
        print("%s: %s" % (n, "same" if d is None else d))
        bad += d is not None
    sys.exit(1 if bad else 0)
