#!/usr/bin/env python3
"""
explain.py -- reads one run's capture and trace and explains it the way the
seed's lab report explained its Wireshark capture: a frame table like
Wireshark's packet list, then the handshake, the options, the requests and
responses, the 200/304/404 and the teardowns, each step naming the pcapng
comment, the trace line and the file:line of synack's code behind it.

Nothing is canned: every number, frame, state and line reference comes from
the capture (read with tshark), the trace, or synack's source as it is now.

    demo/explain.py [--markdown] [--color|--no-color] CAPTURE.pcapng TRACE
"""
import os
import re
import sys
import textwrap

from demo_model import ACK, FIN, PSH, Capture, client_states

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- output: colour on a terminal, plain text otherwise, or Markdown ---------

class Out:
    CODES = {"h": "1;36", "frame": "1", "code": "32", "num": "33", "dim": "2", "state": "1;35"}

    def __init__(self, markdown, color):
        self.md, self.color = markdown, color and not markdown
        self.in_list = False  # Markdown: a list needs a blank line after it

    def end_list(self):
        if self.in_list:
            print()
            self.in_list = False

    def style(self, kind, text):
        text = str(text)
        if self.md:
            return "`%s`" % text if kind in ("code", "state") else (
                "**%s**" % text if kind == "frame" else text)
        if self.color:
            return "\033[%sm%s\033[0m" % (self.CODES[kind], text)
        return text

    def heading(self, text):
        if self.md:
            self.end_list()
            print("\n## %s\n" % text)
        else:
            print("\n" + self.style("h", text))
            print(self.style("h", "-" * len(text)))

    def para(self, text, indent=0):
        if self.md and indent:
            print("  " * (indent // 2 - 1) + "- " + text)
            self.in_list = True
            return
        if self.md:
            self.end_list()
            print(text + "\n")
            return
        pad = " " * indent
        print(textwrap.fill(text, width=100, initial_indent=pad, subsequent_indent=pad + "  ",
                            break_long_words=False, break_on_hyphens=False))

    def block(self, lines):
        if self.md:
            self.end_list()
            print("```text")
            for line in lines:
                print(line)
            print("```\n")
        else:
            for line in lines:
                print(self.style("dim", "    " + line))

    def blank(self):
        if self.md:
            self.end_list()
        else:
            print()


# --- synack's source: where a function is, and which function a line is in --

def source_lines(path):
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            return f.read().split("\n")
    except OSError:
        return []


def where(func, path):
    """'path:line' of func's definition, or just path if it moved."""
    for i, line in enumerate(source_lines(path)):
        if re.match(r"^[A-Za-z].*\b%s\(" % re.escape(func), line) and not line.rstrip().endswith(";"):
            return "%s:%d" % (path, i + 1)
    return path


def func_at(path, lineno):
    """The function whose body holds path:lineno, found by walking up."""
    lines = source_lines(path)
    for i in range(min(lineno, len(lines)) - 1, -1, -1):
        m = re.match(r"^[A-Za-z][\w\s\*]*?\b(\w+)\(", lines[i])
        if m and not lines[i].rstrip().endswith(";"):
            return m.group(1)
    return None


def code_ref(out, ref):
    """'stack/tcp_input.c:206 (synrcvd_ack)' for a file:line."""
    m = re.match(r"(.+):(\d+)$", ref)
    fn = func_at(m.group(1), int(m.group(2))) if m else None
    return out.style("code", ref) + (" in %s()" % fn if fn else "")


# --- pieces of the walk-through ------------------------------------------------

def letter(cap, conn):
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[cap.conns.index(conn) % 26]


def who(conn, f):
    return "client → synack" if conn.from_client(f) else "synack → client"


def frame_head(out, conn, f):
    return "%s (+%.6f s, %s) %s" % (out.style("frame", "Frame %d" % f.no), f.time,
                                     who(conn, f), f.flag_str())


def synack_steps(out, cap, conn, f, indent=4):
    """Each pcapng comment on f: the change in synack, its code, its trace line."""
    for c in f.comments:
        m = re.search(r"(\S+:\d+)$", c)
        ref = m.group(1) if m else None
        text = c[:m.start()].rstrip() if m else c
        event = re.match(r"([A-Z][A-Z0-9-]+): (.*)", text)
        if event:  # not a change of state: a retransmission, a loss reaction ...
            out.para("synack, in %s: %s, at %s." % (event.group(1), event.group(2),
                                                    code_ref(out, ref) if ref else "?"), indent)
        else:
            out.para("synack: %s, made at %s." % (out.style("state", text),
                                                  code_ref(out, ref) if ref else "?"), indent)
        t = cap.trace_line(conn, c)
        if t:
            out.block([t.text])


def frame_table(out, cap):
    out.heading("The capture, as Wireshark's packet list shows it")
    head = ("No.", "Time", "Source", "Destination", "Protocol", "Length", "Info")
    rows = [(("%d*" if f.comments else "%d") % f.no, "%.6f" % f.time, f.src, f.dst, f.protocol,
             str(f.length), f.info) for f in cap.frames]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(6)]

    def fmt(r):
        return "  ".join(r[i].rjust(widths[i]) if i in (0, 1, 5) else r[i].ljust(widths[i])
                         for i in range(6)) + "  " + r[6]
    if out.md:
        out.block([fmt(head)] + [fmt(r) for r in rows])
    else:
        print(out.style("frame", fmt(head)))
        for f, r in zip(cap.frames, rows):
            line = fmt(r)
            print(out.style("num", line) if f.src == cap.conns[0].server[0] else line)
    out.para("A star after a frame number marks a frame that carries a pcapng comment: the "
             "state change or event it caused, with the RFC section and synack's file:line "
             "(below, and in Wireshark).")


def overview(out, cap):
    out.heading("What happened")
    client = cap.conns[0].client[0] if cap.conns else "?"
    server = "%s:%d" % cap.conns[0].server if cap.conns else "?"
    out.para("%d frames on %d TCP connections between the client %s (the kernel's own TCP, "
             "driven by demo/browser.py as a browser would) and synack at %s:" %
             (len(cap.frames), len(cap.conns), client, server))
    for c in cap.conns:
        asked = ", ".join("%s %s → %d" % (q.method, q.uri, r.code) for q, r in c.exchanges)
        fin = c.first_fin()
        closer = "no FIN" if not fin else ("the client closed first" if c.from_client(fin)
                                           else "synack closed first")
        out.para("connection %s, client port %d: %s; %s." %
                 (letter(cap, c), c.client[1], asked or "no request", closer), 2)
    out.blank()


def options_of(f):
    """The options a SYN carries, as (name, shown, meaning, RFC)."""
    opts = []
    if f.mss is not None:
        opts.append(("MSS", "MSS=%d" % f.mss, "the largest segment this side wants to receive: "
                     "%d = MTU %d − 20 (IPv4 header) − 20 (TCP header)" % (f.mss, f.mss + 40),
                     "RFC 9293 §3.7.1"))
    if f.sack_perm:
        opts.append(("SACK", "SACK_PERM", "it can take selective acknowledgments: blocks of "
                     "data received beyond a gap", "RFC 2018"))
    if f.tsval is not None:
        opts.append(("TS", "TSval=%d TSecr=%d" % (f.tsval, f.tsecr or 0), "a timestamp the "
                     "other side echoes in TSecr: an RTT sample per ACK, and PAWS, which drops "
                     "old duplicates once sequence numbers wrap", "RFC 7323 §3, §5"))
    if f.wscale is not None:
        opts.append(("WS", "WS=%d" % (1 << f.wscale), "its later window fields are to be "
                     "multiplied by 2^%d = %d, so a 16-bit field can offer more than 64 KiB"
                     % (f.wscale, 1 << f.wscale), "RFC 7323 §2"))
    return opts


def handshake(out, cap, conn):
    syn, synack, ack = conn.handshake()
    if not (syn and synack and ack):
        return
    out.heading("Three-way handshake (connection %s, port %d)" % (letter(cap, conn),
                                                                  conn.client[1]))
    out.para("%s: the client opens the connection. Its initial sequence number (ISN) is the "
             "raw Seq=%s; Wireshark shows it as relative 0, and every later number counts "
             "from it. Win=%d is not scaled: window scaling never applies to a SYN "
             "(RFC 7323 §2.2). The options it offers:" %
             (frame_head(out, conn, syn), out.style("num", syn.seq_raw), syn.win_field))
    for _, shown, meaning, rfc in options_of(syn):
        out.para("%s: %s (%s)" % (out.style("code", shown), meaning, rfc), 4)
    synack_steps(out, cap, conn, syn)
    out.blank()
    out.para("%s: synack answers from %s, built by tcp_send_synack() at %s. Its own ISN, "
             "raw Seq=%s, is a keyed hash of the 4-tuple plus a clock (RFC 6528; "
             "isn_generate() at %s), so it cannot be guessed. The SYN-ACK's ack %s = the "
             "client's ISN %s + 1: a SYN occupies one sequence number (RFC 9293 §3.4), so the "
             "next byte synack expects is %s. It offers back only what the client offered "
             "(tcb_negotiate() at %s):" %
             (frame_head(out, conn, synack), "port %d" % conn.server[1],
              out.style("code", where("tcp_send_synack", "stack/tcp_output.c")),
              out.style("num", synack.seq_raw), out.style("code", where("isn_generate",
                                                                        "stack/isn.c")),
              out.style("num", synack.ack_raw), out.style("num", syn.seq_raw),
              out.style("num", (syn.seq_raw + 1) & 0xffffffff),
              out.style("code", where("tcb_negotiate", "stack/tcb_table.c"))))
    for _, shown, meaning, rfc in options_of(synack):
        out.para("%s: %s (%s)" % (out.style("code", shown), meaning, rfc), 4)
    check = "holds" if synack.ack_raw == (syn.seq_raw + 1) & 0xffffffff else "does NOT hold"
    out.para("(Checked on this run: ack = ISN + 1 %s.)" % check, 4)
    synack_steps(out, cap, conn, synack)
    out.blank()
    out.para("%s: the client acknowledges synack's SYN: ack %s = synack's ISN %s + 1, "
             "relative Seq=%d Ack=%d. From here its window field is scaled: Win=%d × %d = %d "
             "bytes." % (frame_head(out, conn, ack), out.style("num", ack.ack_raw),
                         out.style("num", synack.seq_raw), ack.seq, ack.ack, ack.win_field,
                         (ack.win // ack.win_field) if ack.win_field else 1, ack.win))
    synack_steps(out, cap, conn, ack)
    negotiated(out, syn, synack)


def negotiated(out, syn, synack):
    both = lambda a, b: a is not None and b is not None  # noqa: E731
    out.blank()
    out.para("Negotiated, so in effect for the whole connection:")
    out.para("MSS: the client sends segments of at most %s bytes, synack at most %s." %
             (synack.mss, syn.mss), 2)
    if both(syn.wscale, synack.wscale):
        out.para("window scaling: the client's window fields count in units of %d bytes, "
                 "synack's in units of %d (synack picks the smallest shift that lets its "
                 "receive buffer fit 16 bits)." % (1 << syn.wscale, 1 << synack.wscale), 2)
    if syn.sack_perm and synack.sack_perm:
        out.para("SACK: either side may acknowledge data beyond a hole, so one loss costs "
                 "one retransmission, not a window's worth.", 2)
    if both(syn.tsval, synack.tsval):
        out.para("timestamps: every later segment carries TSval/TSecr (12 more bytes of "
                 "options, which is why data segments hold MSS − 12 bytes).", 2)


def response_segments(conn, req, resp):
    return [f for f in conn.frames if req.no < f.no <= resp.no and not conn.from_client(f)
            and f.len > 0]


def first_after(conn, after, from_client, ack_at_least):
    for f in conn.frames:
        if f.no > after.no and conn.from_client(f) == from_client and f.has(ACK) \
                and f.ack >= ack_at_least:
            return f
    return None


def segments_line(out, segs):
    return ", ".join("%s Len=%d%s" % (out.style("frame", "frame %d" % s.no), s.len,
                                        " [PSH]" if s.has(PSH) else "") for s in segs)


def exchange(out, cap, conn, req, resp, detailed):
    segs = response_segments(conn, req, resp)
    total = sum(s.len for s in segs)
    body = resp.clen if (resp.clen is not None and resp.code != 304) else 0
    out.para("%s: %s %s %s, %d bytes of request in one segment (relative Seq=%d to %d). "
             "The client's TCP sets PSH: this is all its application wrote." %
             (frame_head(out, conn, req), req.method, req.uri, req.version or "", req.len,
              req.seq, req.seq + req.len - 1))
    got = first_after(conn, req, False, req.seq + req.len)
    if got:
        how = ("on the first segment of the response, so it costs no packet of its own"
               if got.len else "in a pure ACK, frame %d" % got.no)
        out.para("synack acknowledges the request with Ack=%d (= %d + %d) %s." %
                 (got.ack, req.seq, req.len, how), 2)
    out.para("%s: %d %s%s, %d bytes: a %d-byte head%s, in %d segment%s: %s." %
             (out.style("frame", "The response"), resp.code, resp.phrase,
              " (%s)" % resp.ctype if resp.ctype else "", total, total - body,
              " and %d bytes of content" % body if body else " and no content",
              len(segs), "" if len(segs) == 1 else "s", segments_line(out, segs)), 2)
    if detailed:
        out.para("synack sets PSH on a segment that empties what the application had queued "
                 "so far (RFC 9293 §3.9.1.2; emit_data() at %s). The HTTP server queues the "
                 "head, then the file in pieces as send space opens (push_response() at %s), "
                 "so the head may leave alone with its own PSH." %
                 (out.style("code", where("emit_data", "stack/tcp_output.c")),
                  out.style("code", where("push_response", "http/server.c"))), 2)
    acked = first_after(conn, resp, True, resp.seq + resp.len)
    if acked:
        out.para("%s acknowledges the whole response: Ack=%d = 1 + %d bytes synack sent so "
                 "far on this connection." % (out.style("frame", "Frame %d" % acked.no),
                                              acked.ack, acked.ack - 1), 2)
    held_back(out, conn, segs)
    for c in ([req] if req.comments else []) + [s for s in segs if s.comments]:
        synack_steps(out, cap, conn, c)


def held_back(out, conn, segs):
    """A response segment that waited for the client's ACK: Nagle meeting a
    delayed ACK, the classic small-write stall."""
    for prev, seg in zip(segs, segs[1:]):
        acks = [f for f in conn.frames if prev.no < f.no < seg.no and conn.from_client(f)]
        if seg.time - prev.time > 0.010 and acks and seg.time - acks[-1].time < 0.005:
            out.para("Frame %d left %.1f ms after frame %d: it is smaller than the MSS and "
                     "frame %d was still unacknowledged, so Nagle's algorithm held it (RFC 896; "
                     "nagle_holds() at %s) until the client's ACK, frame %d, which the client "
                     "had delayed (RFC 9293 §3.8.6.3; Linux waits up to 40 ms). Head and body "
                     "in one write would have avoided the wait." %
                     (seg.no, (seg.time - prev.time) * 1000, prev.no, prev.no,
                      out.style("code", where("nagle_holds", "stack/tcp_output.c")),
                      acks[-1].no), 2)


def requests(out, cap):
    out.heading("Requests and responses")
    first = True
    for conn in cap.conns:
        for req, resp in conn.exchanges:
            if resp.code == 200:
                out.para("Connection %s:" % letter(cap, conn))
                exchange(out, cap, conn, req, resp, first)
                if first:
                    out.para("The 200 carries the validators a browser keeps with its cached "
                             "copy: ETag %s and Last-Modified %s (set_validators() at %s)." %
                             (out.style("code", resp.header("ETag")),
                              out.style("code", resp.header("Last-Modified")),
                              out.style("code", where("set_validators",
                                                      "http/static_files.c"))), 2)
                first = False
                out.blank()
    parallel(out, cap)


def parallel(out, cap):
    """Connections whose handshakes overlap: a browser fetching in parallel."""
    opened = [(c, c.handshake()) for c in cap.conns]
    for (a, (syn_a, _, ack_a)), (b, (syn_b, _, _)) in zip(opened, opened[1:]):
        if syn_a and syn_b and ack_a and syn_b.no < max(f.no for f in a.frames) and \
                a.exchanges and b.exchanges and a.exchanges[0][0].no > syn_b.no:
            out.para("Connections %s and %s were opened side by side (SYNs in frames %d and %d, "
                     "%.3f ms apart) and their requests were in flight together, as a browser "
                     "fetches a page's stylesheet and images: each connection has its own "
                     "handshake, its own ISNs and its own sequence space." %
                     (letter(cap, a), letter(cap, b), syn_a.no, syn_b.no,
                      (syn_b.time - syn_a.time) * 1000))
            out.blank()


def validators_sent(req):
    return [(n, req.header(n)) for n in ("If-None-Match", "If-Modified-Since") if req.header(n)]


def earlier_200(cap, uri, before):
    best = None
    for c in cap.conns:
        for q, r in c.exchanges:
            if q.uri == uri and r.code == 200 and r.no < before.no:
                best = r
    return best


def not_modified(out, cap):
    shown = [(c, q, r) for c in cap.conns for q, r in c.exchanges if r.code == 304]
    if not shown:
        return
    out.heading("Reload: 304 Not Modified")
    out.para("The seed's lab saw 304 for its CSS and logo because the browser had them "
             "cached. Here the reload sends the same validators a browser keeps, and synack "
             "compares them with the file as it is now (http_preconditions() at %s, in the "
             "order of RFC 9110 §13.2.2: If-None-Match first, and when it is present "
             "If-Modified-Since is not even looked at):" %
             out.style("code", where("http_preconditions", "http/conditional.c")))
    for conn, req, resp in shown:
        sent = "; ".join("%s: %s" % kv for kv in validators_sent(req))
        old = earlier_200(cap, req.uri, req)
        etag = old.header("ETag") if old else None
        match = ("the ETag the 200 in frame %d gave, and the file has not changed since, so "
                 "it still matches" % old.no) if etag and etag in (req.header("If-None-Match")
                                                                  or "") else "a validator"
        segs = response_segments(conn, req, resp)
        out.para("Connection %s, %s: GET %s with %s: %s. → %s: %d %s, %d bytes, all head: a "
                 "304 has no content (RFC 9110 §15.4.5), which is the point: the browser "
                 "reuses its copy." %
                 (letter(cap, conn), out.style("frame", "frame %d" % req.no), req.uri,
                  out.style("code", sent), match, out.style("frame", "frame %d" % resp.no),
                  resp.code, resp.phrase, sum(s.len for s in segs)), 2)
        for f in [s for s in segs if s.comments]:
            synack_steps(out, cap, conn, f)
    out.blank()


def not_found(out, cap):
    for conn in cap.conns:
        for req, resp in conn.exchanges:
            if resp.code != 404:
                continue
            out.heading("404 Not Found")
            out.para("%s: GET %s on connection %s. The lab's /favicon.ico was missing; "
                     "synack's site has a favicon, so the browser asks for what Safari asks "
                     "every site for. No file by that name lies beneath the root, so synack "
                     "answers %s: %d %s with the site's own page %s (%d bytes, not_found() at "
                     "%s); the connection stays open for the next request (RFC 9110 §15.5.5)."
                     % (frame_head(out, conn, req), req.uri, letter(cap, conn),
                        out.style("frame", "frame %d" % resp.no), resp.code, resp.phrase,
                        out.style("code", "404.html"), resp.clen or 0,
                        out.style("code", where("not_found", "http/static_files.c"))))
            segs = response_segments(conn, req, resp)
            out.para("The response left in %d segment%s: %s." %
                     (len(segs), "" if len(segs) == 1 else "s", segments_line(out, segs)), 2)
            held_back(out, conn, segs)
            for f in [s for s in segs if s.comments]:
                synack_steps(out, cap, conn, f)
            return


def synack_after(conn):
    """{frame number: synack's state after it}, from the frames' comments."""
    state, out = "LISTEN", {}
    for f in conn.frames:
        for c in f.comments:
            m = re.match(r"(\S+) -> (\S+)", c)
            if m:
                state = m.group(2)
        out[f.no] = state
    return out


def teardown(out, cap):
    out.heading("Teardown")
    out.para("The seed's lab: \"FIN, ACK, FIN, ACK\", and whoever closes first waits in "
             "TIME-WAIT (RFC 9293 §3.6). Both orders happened in this run. The client's "
             "states are inferred from the segments (its TCB is in the kernel); synack's "
             "come from its trace.")
    order = sorted((c for c in cap.conns if c.first_fin()), key=lambda c: c.first_fin().no)
    for conn in order:
        fin = conn.first_fin()
        closer = "the client" if conn.from_client(fin) else "synack"
        out.blank()
        out.para("Connection %s (port %d): %s closed first." % (letter(cap, conn),
                                                                conn.client[1], closer))
        if not conn.from_client(fin):
            why_server_closed(out, conn, fin)
        ours, theirs = synack_after(conn), client_states(conn)
        for f in [f for f in conn.frames if f.no >= fin.no]:
            out.para("%s Seq=%d Ack=%d: client %s, synack %s." %
                     (frame_head(out, conn, f), f.seq, f.ack, out.style("state", theirs[f.no]),
                      out.style("state", ours[f.no])), 2)
            synack_steps(out, cap, conn, f)
        after_last_frame(out, cap, conn)
        three_or_four(out, conn, fin)


def why_server_closed(out, conn, fin):
    last = max((r for _, r in conn.exchanges), key=lambda r: r.no, default=None)
    if last:
        out.para("Nothing had been asked for %.1f s since frame %d: the HTTP server's idle "
                 "timer (--idle-timeout 2; on_timer() at %s) called close(), which sends "
                 "the FIN after any queued data (tcp_close_tcb() at %s)." %
                 (fin.time - last.time, last.no, out.style("code", where("on_timer",
                                                                         "http/server.c")),
                  out.style("code", where("tcp_close_tcb", "stack/tcp_app.c"))), 2)


def after_last_frame(out, cap, conn):
    """State changes with no packet: TIME-WAIT's 2*MSL ending."""
    if cap.offset is None:
        return
    end = conn.frames[-1].time
    for t in cap.trace_for(conn):
        if t.time + cap.offset > end + 1e-4:
            out.para("+%.6f s, no frame: synack %s on %s, made at %s. Nothing crosses the "
                     "wire, so only the trace shows it." %
                     (t.time + cap.offset, out.style("state", "%s -> %s" % (t.old, t.new)),
                      t.cause, code_ref(out, t.ref)), 2)
            out.block([t.text])


def three_or_four(out, conn, fin):
    after = [f for f in conn.frames if f.no > fin.no]
    other_fin = next((f for f in after if f.has(FIN) and
                      conn.from_client(f) != conn.from_client(fin)), None)
    if not other_fin:
        return
    pure_ack = [f for f in after if f.no < other_fin.no and f.len == 0 and
                conn.from_client(f) != conn.from_client(fin)]
    if pure_ack:
        out.para("Four segments, as in the lab: the ACK of the first FIN (frame %d) went "
                 "before the second FIN (frame %d)." % (pure_ack[0].no, other_fin.no), 2)
    else:
        out.para("Three segments, not four: the ACK of the first FIN rode on the second FIN "
                 "(frame %d), because the other side closed at once. RFC 9293 §3.6 allows "
                 "both; the lab's four came from a side that took a moment to close its "
                 "end." %
                 other_fin.no, 2)


def shown_path(path):
    """Relative to here when it is beneath here, else absolute."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


def footer(out, pcap, trace):
    rel = shown_path(pcap)
    out.heading("Open it yourself")
    out.para("Capture: %s (pcapng; every packet both ways, as synack saw it). Trace: %s." %
             (out.style("code", rel), out.style("code", shown_path(trace))))
    out.para("In Wireshark: %s. Frames starred above carry a comment: Wireshark lists it "
             "under \"Packet comments\" in the packet details, and the display filter %s "
             "shows only them. On a terminal: %s" %
             (out.style("code", "wireshark " + rel), out.style("code", "frame.comment"),
              out.style("code", "tshark -r %s -Y frame.comment -T fields -e frame.number "
                        "-e frame.comment" % rel)))
    out.para("Next: %sdocs/tcp-state-machine.md (every transition and the code that makes "
             "it), and http://10.0.0.2/trace while synackd runs (recent connections as "
             "ladder diagrams)." % ("" if out.md else "docs/walkthrough.md (a recorded run, "
                                    "explained the same way), "))


def main(argv):
    md = "--markdown" in argv
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    color = True if "--color" in argv else (False if "--no-color" in argv else color)
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        print("usage: explain.py [--markdown] [--color|--no-color] CAPTURE.pcapng TRACE",
              file=sys.stderr)
        return 2
    try:
        cap = Capture(args[0], args[1])
    except (OSError, RuntimeError, ValueError) as e:
        print("explain: cannot read the run: %s (run sudo make demo first)" % e, file=sys.stderr)
        return 1
    if not cap.conns:
        print("explain: %s holds no TCP frames: did the requests reach synackd?" % args[0],
              file=sys.stderr)
        return 1
    out = Out(md, color)
    frame_table(out, cap)
    overview(out, cap)
    handshake(out, cap, cap.conns[0])
    requests(out, cap)
    not_modified(out, cap)
    not_found(out, cap)
    teardown(out, cap)
    footer(out, args[0], args[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
