"""
synack.py -- the scapy side of the packet-level harness.

Loads build/libsynack.so (the pure core plus tests/packet/harness.c) with
ctypes and wraps it in a Stack object: feed it scapy packets at a virtual
time, pop what it sends as scapy packets, read its trace.  Nothing here
opens a socket or a TUN, and nothing needs root.

    st = Stack()                      # listening on 10.0.0.2:80
    st.send(IP(...)/TCP(...), t=0)    # t in microseconds of virtual time
    synack = st.expect_one()          # the segment the stack answered with
"""
import ctypes
import os

from scapy.all import IP, TCP, ICMP, UDP, Raw, raw  # noqa: F401  (re-exported)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, "build", "libsynack.so")

CLIENT = "10.0.0.1"
SERVER = "10.0.0.2"
KEY = bytes(range(16))   # fixed ISN key: every run is identical
SEC = 1_000_000

_lib = None


def lib():
    global _lib
    if _lib is None:
        _lib = ctypes.CDLL(LIB)
        L = _lib
        L.h_new.restype = ctypes.c_void_p
        L.h_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulonglong]
        L.h_set_key.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        L.h_start.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        L.h_free.argtypes = [ctypes.c_void_p]
        L.h_input.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_ulonglong]
        L.h_tick.argtypes = [ctypes.c_void_p, ctypes.c_ulonglong]
        L.h_next_deadline.argtypes = [ctypes.c_void_p]
        L.h_next_deadline.restype = ctypes.c_ulonglong
        for name in ("h_pop_output", "h_pop_trace"):
            f = getattr(L, name)
            f.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
            f.restype = ctypes.c_long
        L.h_nconns.argtypes = [ctypes.c_void_p]
        L.h_conn_rx.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        L.h_conn_rx.restype = ctypes.c_long
        L.h_conn_status.argtypes = [ctypes.c_void_p, ctypes.c_int]
        L.h_conn_send.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        L.h_conn_send.restype = ctypes.c_long
        for name in ("h_conn_close", "h_conn_abort", "h_conn_read"):
            getattr(L, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
        L.h_conn_read_max.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        for name in ("h_counter_drop", "h_counter_event"):
            f = getattr(L, name)
            f.argtypes = [ctypes.c_void_p, ctypes.c_int]
            f.restype = ctypes.c_ulonglong
        L.h_conn_count.argtypes = [ctypes.c_void_p]
        L.h_conn_count.restype = ctypes.c_uint
        L.h_tcb_count.argtypes = [ctypes.c_void_p]
        L.h_tcb_count.restype = ctypes.c_uint
        L.h_counters_text.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        L.h_counters_text.restype = ctypes.c_long
        L.h_super_segments.argtypes = [ctypes.c_void_p]
        L.h_super_segments.restype = ctypes.c_ulong
        L.h_drop_name.argtypes = [ctypes.c_int]
        L.h_drop_name.restype = ctypes.c_char_p
    return _lib


def _names(kind):
    """Index of each counter name, read from the C header so they never drift."""
    import re
    text = open(os.path.join(ROOT, "stack", "counters.h")).read()
    block = text.split("#define STACK_%s(X)" % kind)[1].split("\n\n")[0]
    return {n: i for i, n in enumerate(re.findall(r"X\((\w+),", block))}


DROPS = _names("DROP_REASONS")
EVENTS = _names("EVENTS")

# h_conn_status bits
EOF_SEEN, CLOSED = 1, 2
CLOSED_NORMALLY, CLOSED_RESET, CLOSED_TIMEOUT, CLOSED_ABORTED = range(4)


class Stack:
    """One stack core on virtual time, listening on SERVER:port."""

    # Scenarios run with a 5 ms delayed-ACK timer so their timelines stay
    # short; test_flow.py checks the real default (40 ms) explicitly.
    TEST_DELACK = 5_000

    def __init__(self, port=80, placeholder=False, **cfg):
        cfg.setdefault("delack", self.TEST_DELACK)
        self.delack = cfg["delack"]
        self.L = lib()
        self.h = self.L.h_new()
        self.L.h_set_key(self.h, KEY)
        for k, v in cfg.items():
            if self.L.h_set(self.h, k.encode(), int(v)) != 0:
                raise ValueError("unknown harness setting %s" % k)
        if self.L.h_start(self.h, port, 1 if placeholder else 0) != 0:
            raise RuntimeError("stack did not start")
        self.now = 0
        self.traces = []

    def close(self):
        if self.h:
            self.L.h_free(self.h)
            self.h = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    # --- time ------------------------------------------------------------
    def advance(self, t):
        """Moves virtual time to t (absolute microseconds), firing timers."""
        assert t >= self.now, "time runs forward"
        self.now = t
        self.L.h_tick(self.h, t)

    def next_deadline(self):
        d = self.L.h_next_deadline(self.h)
        return None if d == 2**64 - 1 else d

    # --- packets ---------------------------------------------------------
    def send(self, pkt, t=None):
        """Hands one packet (scapy or bytes) to the stack at time t."""
        if t is not None:
            self.advance(t)
        b = raw(pkt) if not isinstance(pkt, (bytes, bytearray)) else bytes(pkt)
        self.L.h_input(self.h, b, len(b), self.now)

    def received(self):
        """Every packet the stack has sent since the last call, as scapy IP."""
        out = []
        buf = ctypes.create_string_buffer(70000)
        while True:
            n = self.L.h_pop_output(self.h, buf, len(buf))
            if n < 0:
                return out
            out.append(IP(buf.raw[:n]))

    def expect_one(self):
        pkts = self.received()
        assert len(pkts) == 1, "expected one packet, got %d: %s" % (
            len(pkts), [p.summary() for p in pkts])
        return pkts[0]

    def trace(self):
        buf = ctypes.create_string_buffer(4096)
        while True:
            n = self.L.h_pop_trace(self.h, buf, len(buf))
            if n < 0:
                return self.traces
            self.traces.append(buf.raw[:n].rstrip(b"\0").decode())

    def transitions(self):
        """The 'OLD -> NEW' pairs traced so far, in order."""
        import re
        return [m.group(1) + " -> " + m.group(2) for line in self.trace()
                for m in [re.search(r" ([A-Z-0-9]+) -> ([A-Z-0-9]+) on ", line)] if m]

    # --- the app ---------------------------------------------------------
    def conns(self):
        return self.L.h_nconns(self.h)

    def app_rx(self, i=0):
        buf = ctypes.create_string_buffer(70000)
        n = self.L.h_conn_rx(self.h, i, buf, len(buf))
        return buf.raw[:n]

    def app_status(self, i=0):
        return self.L.h_conn_status(self.h, i)

    def app_send(self, data, i=0):
        return self.L.h_conn_send(self.h, i, data, len(data))

    def app_close(self, i=0):
        assert self.L.h_conn_close(self.h, i) == 0

    def app_abort(self, i=0):
        assert self.L.h_conn_abort(self.h, i) == 0

    def app_read(self, i=0):
        return self.L.h_conn_read(self.h, i)

    def app_read_max(self, n, i=0):
        """Reads at most n bytes, as an app reading in small pieces would."""
        return self.L.h_conn_read_max(self.h, i, n)

    def drops(self, name):
        return self.L.h_counter_drop(self.h, DROPS[name])

    def events(self, name):
        return self.L.h_counter_event(self.h, EVENTS[name])

    def conn_count(self):
        return self.L.h_conn_count(self.h)

    def tcb_count(self):
        """Every TCB, TIME-WAIT included (conn_count() leaves those out)."""
        return self.L.h_tcb_count(self.h)

    def super_segments(self):
        """GSO super-segments emitted so far (offload=1); received() shows
        each as the wire segments the kernel would make of it."""
        return self.L.h_super_segments(self.h)


class Client:
    """The peer: builds segments from its own view of the connection."""

    def __init__(self, st, sport=50093, isn=1915658151, win=64240, options=None):
        self.st, self.sport, self.seq, self.win = st, sport, isn, win
        self.isn = isn
        self.ack = 0
        self.options = options if options is not None else [("MSS", 1460)]

    def seg(self, flags, seq=None, ack=None, payload=b"", win=None, options=None):
        p = IP(src=CLIENT, dst=SERVER) / TCP(
            sport=self.sport, dport=80, flags=flags,
            seq=self.seq if seq is None else seq,
            ack=(self.ack if ack is None else ack) if "A" in flags else 0,
            window=self.win if win is None else win,
            options=options if options is not None else [])
        return p / Raw(payload) if payload else p

    def connect(self, t=0):
        """Three-way handshake; returns the SYN-ACK."""
        self.st.send(self.seg("S", options=self.options), t=t)
        synack = self.st.expect_one()
        self.seq += 1
        self.ack = synack[TCP].seq + 1
        self.server_isn = synack[TCP].seq
        self.st.send(self.seg("A"))
        return synack

    def send_data(self, data, flags="PA"):
        self.st.send(self.seg(flags, payload=data))
        self.seq += len(data)
