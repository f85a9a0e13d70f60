"""
test_lab_example.py -- the seed's lab, frames 1 to 6, as a packet test: the
example docs/testing.md walks through.  The client's ISN is the one in the
lab's capture (1915658151), the options are the ones Linux puts on a SYN,
and every number synack answers with is checked, not just its flags.
"""
from test_placeholder import RESPONSE
from util import (C_ISN, MS, TCP, Peer, Stack, expect_seg, expect_transitions, isn, nothing,
                  one, opt, out, seq_add, tsval)

LINUX_SYN = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None),
             ("WScale", 7)]
GET = b"GET /hello HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n"


def test_lab_handshake_and_get():
    with Stack(delack=0, placeholder=True) as st:       # virtual time starts at 0
        c = Peer(st, options=LINUX_SYN, ts=1000)         # the lab's client, ISN 1915658151
        c.send("S", options=LINUX_SYN, t=0)              # frame 1: [SYN]
        synack = one(st, "the SYN-ACK")                   # frame 2
        # The SYN-ACK's ack 1915658152 = the client's ISN + 1 (RFC 9293 §3.4),
        # its seq the RFC 6528 ISN that util.isn() computes without the C code.
        expect_seg(synack, "SA", isn(), ack=seq_add(C_ISN, 1))
        assert synack[TCP].ack == 1915658152
        assert opt(synack, "MSS") == 1460                # MTU 1500 - 40
        assert opt(synack, "SAckOK") is not None         # offered, so accepted
        assert opt(synack, "Timestamp") == (tsval(0), 1000), "TSecr must echo our TSval"
        c.ack = seq_add(synack[TCP].seq, 1)
        c.absorb(synack)
        c.send("A", t=1 * MS)                            # frame 3: [ACK]
        nothing(st, "no answer to the handshake's ACK")
        expect_transitions(st, ["LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED"])

        c.send("PA", GET, t=2 * MS)                      # frame 4: the request
        resp, fin = out(st)                              # frames 5 and 6
        expect_seg(resp, "PA", seq_add(isn(), 1), seq_add(C_ISN, 1 + len(GET)), data=RESPONSE)
        expect_seg(fin, "FA", seq_add(isn(), 1 + len(RESPONSE)), seq_add(C_ISN, 1 + len(GET)))
        assert any("ESTABLISHED -> FIN-WAIT-1" in line and "[stack/tcp_app.c:" in line
                   for line in st.trace()), "the trace names the code that closed"
