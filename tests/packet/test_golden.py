"""
Golden captures: each scenario of golden.py must reproduce its pcaps/*.pcap
byte for byte, timestamps included (SYNACK_UPDATE_GOLDEN=1 rewrites them
instead).  The checked-in files are also read back with scapy and checked
packet by packet, so a regenerated file that went wrong cannot pass.
"""
import os
from decimal import Decimal

from scapy.all import rdpcap

import golden
from util import (C_ISN, C_PORT, CLIENT, SERVER, TCP, IP, isn, opt, payload, seq_add, tsval)
from test_placeholder import RESPONSE


def test_golden_handshake_get_close():
    d = golden.check("handshake_get_close")
    assert d is None, d


def test_golden_synack_backoff():
    d = golden.check("synack_backoff")
    assert d is None, d


def rows(name):
    pkts = rdpcap(golden.path_of(name))
    out = []
    for p in pkts:
        ip = IP(bytes(p))
        t = int(Decimal(p.time) * 1000000)
        d = ">" if ip.src == CLIENT else "<"
        out.append((t, d, str(ip[TCP].flags), ip[TCP].seq, ip[TCP].ack, payload(ip), ip))
    return out


def test_golden_handshake_get_close_contents():
    assert os.path.exists(golden.path_of("handshake_get_close"))
    r = rows("handshake_get_close")
    s = isn(C_PORT, 0)
    C1, S1 = seq_add(C_ISN, 1), seq_add(s, 1)
    req = golden.REQUEST
    C2 = seq_add(C1, len(req))
    S2 = seq_add(S1, len(RESPONSE))
    want = [
        (0, ">", "S", C_ISN, 0, b""),
        (0, "<", "SA", s, C1, b""),
        (0, ">", "A", C1, S1, b""),
        (1000, ">", "PA", C1, S1, req),
        (1000, "<", "PA", S1, C2, RESPONSE),
        (1000, "<", "FA", S2, C2, b""),
        (2000, ">", "A", C2, seq_add(S2, 1), b""),
        (3000, ">", "FA", C2, seq_add(S2, 1), b""),
        (3000, "<", "A", seq_add(S2, 1), seq_add(C2, 1), b""),
    ]
    got = [x[:6] for x in r]
    assert len(got) == len(want), "%d packets: %s" % (len(got), [g[:5] for g in got])
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, "packet %d:\n  got  %s\n  want %s" % (i + 1, g[:5], w[:5])
    synack = r[1][6]
    assert synack[TCP].options == [("MSS", 1460), ("SAckOK", b""),
                                   ("Timestamp", (tsval(0), 1000)), ("NOP", None),
                                   ("WScale", 1)], synack[TCP].options
    assert synack[TCP].window == 65535
    for t, d, fl, seq, ack, data, p in r:
        if d == "<":
            assert p[IP].src == SERVER and p[TCP].sport == 80
            if "S" not in fl:
                assert p[TCP].window == 32768, "window %d" % p[TCP].window
                assert opt(p, "Timestamp")[0] == tsval(t), "TSval at %d us" % t
    assert payload(r[4][6]).startswith(b"HTTP/1.1 200 OK\r\n")


def test_golden_synack_backoff_contents():
    r = rows("synack_backoff")
    s = isn(C_PORT, 0)
    times = [0, 0, 1, 3, 7, 15, 31]
    assert [x[0] for x in r] == [t * 1000000 for t in times], [x[0] for x in r]
    assert r[0][1:5] == (">", "S", C_ISN, 0)
    for x in r[1:]:
        assert x[1:6] == ("<", "SA", s, seq_add(C_ISN, 1), b""), x[:6]
    assert len({bytes(x[6][TCP]) for x in r[1:]}) == 1, "the SYN-ACKs differ"
