"""
The placeholder app (http/placeholder_app.c) over the stack: a GET gets
exactly one 200 response and a FIN, whether the request arrives in one
segment or one byte per segment; the connection walks ESTABLISHED ->
FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT as the client acknowledges and closes.
"""
from util import (C_ISN, MS, SEC, TCP, Stack, Peer, describe, expect_counts, expect_deadline,
                  expect_seg, expect_transitions, nothing, one, out, payload, seq_add)

REQUEST = (b"GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: curl/8.5.0\r\n"
           b"Accept: */*\r\n\r\n")
BODY = b"Hello from synack's TCP stack\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\n"
            b"Server: synack\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\n"
            b"Connection: close\r\n"
            b"\r\n" % len(BODY)) + BODY

WALK = ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED", "ESTABLISHED -> FIN-WAIT-1",
        "FIN-WAIT-1 -> FIN-WAIT-2", "FIN-WAIT-2 -> TIME-WAIT"]
C1 = seq_add(C_ISN, 1)


def finish(st, c, s, t):
    """The client acknowledges response and FIN, then closes."""
    S1 = seq_add(s, 1)
    end = seq_add(S1, len(RESPONSE))          # our FIN's sequence number
    c.send("A", t=t, ack=seq_add(end, 1))
    nothing(st)
    c.send("FA", t=t + 1 * MS, ack=seq_add(end, 1))
    expect_seg(one(st, "the ACK of the client's FIN"), "A", seq_add(end, 1), c.seq, win=65535)
    expect_transitions(st, WALK)
    expect_deadline(st, t + 1 * MS + 60 * SEC)
    st.advance(t + 1 * MS + 60 * SEC)
    assert st.transitions()[-1] == "TIME-WAIT -> CLOSED" and st.tcb_count() == 0


def check_reply(got, s, acked):
    """got: the response segment(s) then the FIN."""
    S1 = seq_add(s, 1)
    assert len(got) == 2, "expected response + FIN, got %s" % [describe(p) for p in got]
    expect_seg(got[0], "PA", S1, acked, win=65535, data=RESPONSE)
    expect_seg(got[1], "FA", seq_add(S1, len(RESPONSE)), acked, win=65535)


def test_get_in_one_segment():
    with Stack(min_rto=SEC, placeholder=True) as st:
        c = Peer(st)
        s = c.connect(0)[TCP].seq
        nothing(st)
        c.send("PA", REQUEST, t=1 * MS)
        got = out(st)
        check_reply(got, s, seq_add(C1, len(REQUEST)))
        expect_transitions(st, WALK[:3])
        expect_deadline(st, 1 * MS + 1 * SEC)
        finish(st, c, s, 2 * MS)
        expect_counts(st, drops={}, events={"TCP_RETRANSMITS": 0, "TCP_RST_SENT": 0})


def test_get_byte_by_byte():
    with Stack(delack=0, placeholder=True) as st:
        c = Peer(st)
        s = c.connect(0)[TCP].seq
        S1 = seq_add(s, 1)
        nothing(st)
        t = 1 * MS
        for i in range(len(REQUEST) - 1):
            c.send("PA", REQUEST[i:i + 1], t=t)
            # Each byte is acknowledged at once, and nothing else is sent.
            expect_seg(one(st, "the ACK of byte %d" % i), "A", S1, seq_add(C1, i + 1), win=65535)
            t += 100
        expect_transitions(st, WALK[:2])
        c.send("PA", REQUEST[-1:], t=t)
        got = out(st)
        check_reply(got, s, seq_add(C1, len(REQUEST)))
        responses = [p for p in got if payload(p).startswith(b"HTTP/1.1 ")]
        assert len(responses) == 1 and payload(responses[0]).startswith(b"HTTP/1.1 200 OK\r\n")
        expect_transitions(st, WALK[:3])
        finish(st, c, s, t + 1 * MS)
        expect_counts(st, drops={})


def test_get_in_two_segments_split_in_terminator():
    with Stack(delack=0, placeholder=True) as st:
        c = Peer(st)
        s = c.connect(0)[TCP].seq
        cut = len(REQUEST) - 3                    # between "\r\n\r" and "\n"
        c.send("PA", REQUEST[:cut], t=1 * MS)
        expect_seg(one(st), "A", seq_add(s, 1), seq_add(C1, cut))
        c.send("PA", REQUEST[cut:], t=2 * MS)
        check_reply(out(st), s, seq_add(C1, len(REQUEST)))


def test_client_gives_up_before_request_end():
    with Stack(delack=0, placeholder=True) as st:
        c = Peer(st)
        s = c.connect(0)[TCP].seq
        S1 = seq_add(s, 1)
        c.send("PA", b"GET / HTTP/1.1\r\n", t=1 * MS)
        one(st)
        # FIN before the header section ends: the app closes without a reply.
        c.send("FA", t=2 * MS)
        got = out(st)
        assert all(not payload(p) for p in got), [describe(p) for p in got]
        assert got and "F" in str(got[-1][TCP].flags), [describe(p) for p in got]
        expect_seg(got[-1], "FA", S1, c.seq)
        assert st.transitions()[-2:] == ["ESTABLISHED -> CLOSE-WAIT", "CLOSE-WAIT -> LAST-ACK"], \
            st.transitions()
        c.send("A", t=3 * MS, ack=seq_add(S1, 1))
        nothing(st)
        assert st.transitions()[-1] == "LAST-ACK -> CLOSED" and st.tcb_count() == 0
