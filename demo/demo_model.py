"""
demo_model.py -- the run as data, for demo/explain.py: frames read from the
pcapng with tshark, the trace's lines parsed, connections and their HTTP
exchanges, and the client's TCP states inferred from the segments (the
kernel's TCB cannot be seen, as in http/ladder.c).
"""
import json
import re
import subprocess

FIELDS = [
    "frame.number", "frame.time_relative", "frame.time_epoch", "frame.len", "frame.comment",
    "_ws.col.Protocol", "_ws.col.Info", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
    "tcp.stream", "tcp.flags", "tcp.seq", "tcp.seq_raw", "tcp.ack", "tcp.ack_raw", "tcp.len",
    "tcp.window_size_value", "tcp.window_size", "tcp.options.mss_val",
    "tcp.options.wscale.shift", "tcp.options.wscale.multiplier", "tcp.options.sack_perm",
    "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr", "http.request.method",
    "http.request.uri", "http.request.version", "http.request.line", "http.response.code",
    "http.response.phrase", "http.response.line", "http.content_type",
    "http.content_length_header",
]
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
FLAG_NAMES = [(FIN, "FIN"), (SYN, "SYN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK")]


class Frame:
    """One TCP frame, its fields typed."""

    def __init__(self, layers):
        self.raw = layers

        def one(name, conv=str, default=None):
            v = layers.get(name)
            return conv(v[0]) if v else default
        self.no = one("frame.number", int)
        self.time = one("frame.time_relative", float, 0.0)
        self.epoch = one("frame.time_epoch", float, 0.0)
        self.length = one("frame.len", int, 0)
        self.comments = layers.get("frame.comment", [])
        self.protocol = one("_ws.col.Protocol", default="")
        self.info = one("_ws.col.Info", default="")
        self.src, self.dst = one("ip.src"), one("ip.dst")
        self.sport, self.dport = one("tcp.srcport", int), one("tcp.dstport", int)
        self.stream = one("tcp.stream", int)
        self.flags = int(one("tcp.flags", default="0"), 16)
        self.seq, self.ack = one("tcp.seq", int, 0), one("tcp.ack", int, 0)
        self.seq_raw, self.ack_raw = one("tcp.seq_raw", int, 0), one("tcp.ack_raw", int, 0)
        self.len = one("tcp.len", int, 0)
        self.win_field, self.win = one("tcp.window_size_value", int), one("tcp.window_size", int)
        self.mss = one("tcp.options.mss_val", int)
        self.wscale = one("tcp.options.wscale.shift", int)
        self.wmult = one("tcp.options.wscale.multiplier", int)
        self.sack_perm = "tcp.options.sack_perm" in layers
        self.tsval = one("tcp.options.timestamp.tsval", int)
        self.tsecr = one("tcp.options.timestamp.tsecr", int)
        self.method, self.uri = one("http.request.method"), one("http.request.uri")
        self.version = one("http.request.version")
        self.req_lines = [l.strip() for l in layers.get("http.request.line", [])]
        self.code = one("http.response.code", int)
        self.phrase = one("http.response.phrase", default="")
        self.resp_lines = [l.strip() for l in layers.get("http.response.line", [])]
        self.ctype = one("http.content_type")
        self.clen = one("http.content_length_header", int)

    def has(self, flag):
        return bool(self.flags & flag)

    def flag_str(self):
        return "[%s]" % ", ".join(n for f, n in FLAG_NAMES if self.flags & f)

    def header(self, name):
        """A field of this frame's request or response, or None."""
        for line in self.req_lines + self.resp_lines:
            k, _, v = line.partition(":")
            if k.strip().lower() == name.lower():
                return v.strip()
        return None


def read_frames(pcap):
    cmd = ["tshark", "-r", pcap, "-Y", "tcp", "-T", "json"]
    for f in FIELDS:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError("tshark could not read %s: %s" % (pcap, res.stderr.strip()[-300:]))
    return [Frame(p["_source"]["layers"]) for p in json.loads(res.stdout or "[]")]


TRACE_STATE = re.compile(r"^(\d+\.\d+) (\S+):(\d+) > (\S+):(\d+) (\S+) -> (\S+) on (.*) "
                         r"\((RFC .*)\) \[(\S+:\d+)\]$")


class TraceLine:
    def __init__(self, text, m):
        self.text = text
        self.time = float(m.group(1))
        self.peer, self.pport = m.group(2), int(m.group(3))
        self.old, self.new, self.cause = m.group(6), m.group(7), m.group(8)
        self.rfc, self.ref = m.group(9), m.group(10)


def read_trace(path):
    """The state-change lines of the trace (segment lines are not needed:
    the capture has the segments)."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = TRACE_STATE.match(line)
            if m:
                out.append(TraceLine(line, m))
    return out


class Conn:
    """One TCP connection (tcp.stream) and what was asked and answered on it."""

    def __init__(self, stream, frames, server_port):
        self.stream, self.frames = stream, frames
        first = frames[0]
        self.client_is_src = first.dport == server_port
        self.client = (first.src, first.sport) if self.client_is_src else (first.dst, first.dport)
        self.server = (first.dst, first.dport) if self.client_is_src else (first.src, first.sport)
        self.exchanges = []  # (request frame, response frame)
        pending = []
        for f in frames:
            if f.method:
                pending.append(f)
            elif f.code is not None and pending:
                self.exchanges.append((pending.pop(0), f))

    def from_client(self, f):
        return (f.src, f.sport) == self.client

    def name(self):
        return "%s:%d" % self.client

    def first_fin(self):
        return next((f for f in self.frames if f.has(FIN)), None)

    def handshake(self):
        syn = next((f for f in self.frames if f.has(SYN) and not f.has(ACK)), None)
        synack = next((f for f in self.frames if f.has(SYN) and f.has(ACK)), None)
        ack = None
        if synack:
            ack = next((f for f in self.frames if f.no > synack.no and self.from_client(f)
                        and f.has(ACK)), None)
        return syn, synack, ack


class Capture:
    def __init__(self, pcap, trace, server_port=80):
        self.frames = read_frames(pcap)
        self.trace = read_trace(trace)
        streams = {}
        for f in self.frames:
            streams.setdefault(f.stream, []).append(f)
        self.conns = [Conn(s, fr, server_port) for s, fr in sorted(streams.items())]
        self.offset = self._clock_offset()

    def _clock_offset(self):
        """Trace time (monotonic) to capture time: a state change made by a
        frame happened at that frame's time."""
        for c in self.conns:
            for f in c.frames:
                for line in self.trace_for(c):
                    if any(x.startswith(line.old + " -> " + line.new) and line.ref in x
                           for x in f.comments):
                        return f.time - line.time
        return None

    def trace_for(self, conn):
        return [t for t in self.trace if (t.peer, t.pport) == conn.client]

    def trace_line(self, conn, comment):
        """The trace line a pcapng comment stands for."""
        for t in self.trace_for(conn):
            if t.ref in comment and comment.startswith("%s -> %s" % (t.old, t.new)):
                return t
        return None


def client_states(conn):
    """{frame number: the client's state after it}, inferred from the
    segments as RFC 9293 §3.3.2 draws an active opener."""
    state, fin_end, out = "CLOSED", None, {}
    for f in conn.frames:
        if conn.from_client(f):
            if f.has(RST):
                state = "CLOSED"
            elif f.has(SYN) and not f.has(ACK):
                state = "SYN-SENT"
            elif f.has(FIN) and fin_end is None:
                fin_end = f.seq_raw + f.len + 1
                state = "LAST-ACK" if state == "CLOSE-WAIT" else "FIN-WAIT-1"
        else:
            state = _client_got(state, f, fin_end)
        out[f.no] = state
    return out


def _client_got(state, f, fin_end):
    if f.has(RST):
        return "CLOSED"
    if f.has(SYN) and state == "SYN-SENT":
        return "ESTABLISHED"
    if f.has(ACK) and fin_end is not None and ((f.ack_raw - fin_end) & 0xffffffff) < 1 << 31:
        state = {"FIN-WAIT-1": "FIN-WAIT-2", "CLOSING": "TIME-WAIT",
                 "LAST-ACK": "CLOSED"}.get(state, state)
    if f.has(FIN):
        state = {"ESTABLISHED": "CLOSE-WAIT", "FIN-WAIT-1": "CLOSING",
                 "FIN-WAIT-2": "TIME-WAIT"}.get(state, state)
    return state
