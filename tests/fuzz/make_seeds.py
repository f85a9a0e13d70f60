"""Writes tests/fuzz/seeds/: scripts of packets (2-byte length, 1-byte time
step, 1-byte mode, packet; see fuzz_input.c) that walk the stack through a
whole connection, for libFuzzer to start from.  Acks are written relative to
the server's ISN (mode bit 1), which the fuzz target adds back.  Run with
/usr/bin/python3 (Debian's scapy)."""
import os
import struct

from scapy.all import IP, TCP, ICMP, UDP, Raw, raw

C, S = "10.0.0.1", "10.0.0.2"
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


RELATIVE_ACK = 3  # fix checksums (bit 0) and add the server's ISN to ack (bit 1)


def script(pkts):
    return b"".join(struct.pack("!HBB", len(raw(p)), step, RELATIVE_ACK) + raw(p)
                    for step, p in pkts)


def tcp(flags, seq, ack=0, data=b"", opts=()):
    p = IP(src=C, dst=S) / TCP(sport=40000, dport=80, flags=flags, seq=seq, ack=ack,
                               options=list(opts))
    return p / Raw(data) if data else p


def main():
    os.makedirs(HERE, exist_ok=True)
    opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]
    seeds = {
        "syn": [(0, tcp("S", 1000, opts=opts))],
        "get": [(0, tcp("S", 1000)), (1, tcp("A", 1001, 1)),
                (0, tcp("PA", 1001, 1, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")),
                (1, tcp("A", 1028, 147)), (1, tcp("FA", 1028, 147))],
        "client_closes": [(0, tcp("S", 1000, opts=opts)), (0, tcp("A", 1001, 1)),
                          (0, tcp("FA", 1001, 1)), (0, tcp("A", 1002, 2))],
        "ping": [(0, IP(src=C, dst=S) / ICMP(id=1, seq=1) / Raw(b"abcdefgh"))],
        "udp": [(0, IP(src=C, dst=S) / UDP(sport=5, dport=53) / Raw(b"x"))],
        "rst": [(0, tcp("S", 5)), (0, tcp("R", 6))],
    }
    for name, pkts in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(script(pkts))


if __name__ == "__main__":
    main()
