"""
IPv4 input checks (RFC 791, RFC 1122 §3.2.1) and ICMP (RFC 792, RFC 1122
§3.2.2): echo, destination unreachable for protocols and ports we do not
serve, rate-limited (RFC 1812 §4.3.2.8).  Every bad packet is dropped with
its reason counted and nothing sent.

Scenarios that expect ICMP errors start at T0 = 10 s of virtual time, away
from the rate limiter's first second (test_icmp_error_in_first_second).
"""
from util import (CLIENT, MS, SEC, SERVER, IP, ICMP, TCP, UDP, Raw, raw, Stack, check_checksums,
                  expect_counts, nothing, one)

T0 = 10 * SEC


def echo(ident=0x1234, seq=7, data=b"synack ping payload 0123456789abcdef", **ip):
    hdr = dict(src=CLIENT, dst=SERVER)
    hdr.update(ip)
    return IP(**hdr) / ICMP(type=8, code=0, id=ident, seq=seq) / Raw(data)


def expect_icmp(p, typ, code, dst=CLIENT):
    check_checksums(p)
    assert ICMP in p, "not ICMP: %s" % p.summary()
    assert p[IP].src == SERVER and p[IP].dst == dst, p.summary()
    assert p[IP].proto == 1 and p[IP].ttl == 64 and p[IP].ihl == 5, p.summary()
    assert (p[ICMP].type, p[ICMP].code) == (typ, code), "ICMP type %d code %d, expected %d/%d" % (
        p[ICMP].type, p[ICMP].code, typ, code)
    return p


def icmp_body(p):
    """The bytes after the 8-byte ICMP header, as sent."""
    b = raw(p)
    return b[p[IP].ihl * 4 + 8:p[IP].len]


def test_echo_reply():
    with Stack() as st:
        for data in (b"synack ping payload 0123456789abcdef", b"odd length!!!", b"",
                     bytes(range(256)) * 5):
            req = echo(ident=0xbeef, seq=42, data=data)
            st.send(req, t=0)
            rep = expect_icmp(one(st, "echo reply"), 0, 0)
            assert rep[ICMP].id == 0xbeef and rep[ICMP].seq == 42, rep[ICMP].summary()
            assert icmp_body(rep) == data, "echo data differs (%d bytes)" % len(data)
            assert rep[IP].len == 28 + len(data)
        expect_counts(st, events={"ICMP_ECHO_REPLIES": 4, "PKT_IN": 4, "PKT_OUT": 4})


def test_echo_is_not_rate_limited():
    with Stack(icmp_rate=2) as st:
        for i in range(5):
            st.send(echo(seq=i), t=T0)
            assert one(st)[ICMP].seq == i
        expect_counts(st, events={"ICMP_ECHO_REPLIES": 5})


def test_echo_with_link_padding():
    with Stack() as st:
        # A link may pad a datagram; Total Length says where it ends.
        st.send(raw(echo(data=b"abc")) + b"\0" * 6, t=0)
        rep = expect_icmp(one(st), 0, 0)
        assert icmp_body(rep) == b"abc", icmp_body(rep)


def test_echo_with_ip_options():
    with Stack() as st:
        req = IP(src=CLIENT, dst=SERVER, options=b"\x01\x01\x01\x00") / \
            ICMP(type=8, id=1, seq=2) / Raw(b"opts")
        assert IP(raw(req)).ihl == 6
        st.send(req, t=0)
        rep = expect_icmp(one(st), 0, 0)
        assert icmp_body(rep) == b"opts"


def test_bad_icmp():
    with Stack() as st:
        st.send(IP(src=CLIENT, dst=SERVER) / ICMP(type=8, id=1, seq=1, chksum=0x1234) / b"x", t=T0)
        st.send(IP(src=CLIENT, dst=SERVER) / ICMP(type=0, id=1, seq=1))      # an echo reply
        st.send(IP(src=CLIENT, dst=SERVER) / ICMP(type=3, code=3) / raw(echo()))  # an error
        st.send(IP(src=CLIENT, dst=SERVER, proto=1) / Raw(b"\x08\x00\x00"))   # 3 bytes
        nothing(st, "no answer to bad or unhandled ICMP (never an error for an error)")
        expect_counts(st, drops={"ICMP_CHECKSUM": 1, "ICMP_UNHANDLED": 2, "ICMP_SHORT": 1},
                      events={"ICMP_UNREACH_SENT": 0})


def test_bad_ip_checksum():
    with Stack() as st:
        p = echo()
        p[IP].chksum = 0x1234
        st.send(p, t=0)
        nothing(st)
        expect_counts(st, drops={"IP_CHECKSUM": 1})


def test_fragments_dropped():
    with Stack() as st:
        st.send(echo(flags="MF"), t=0)           # first fragment
        st.send(echo(frag=100))                  # a later one
        st.send(echo(flags="MF", frag=3))
        nothing(st)
        expect_counts(st, drops={"IP_FRAGMENT": 3})
        st.send(echo(flags="DF"))                # DF alone is no fragment
        expect_icmp(one(st), 0, 0)


def test_udp_port_unreachable():
    with Stack() as st:
        d = IP(src=CLIENT, dst=SERVER, id=777) / UDP(sport=5353, dport=9999) / Raw(b"hello?")
        st.send(d, t=T0)
        rep = expect_icmp(one(st, "port unreachable"), 3, 3)
        b = raw(rep)
        assert b[24:28] == b"\0\0\0\0", "unused field %s" % b[24:28].hex()
        # The whole (short) datagram is quoted, header first (RFC 792, RFC 1812).
        assert icmp_body(rep) == raw(d), "quote differs:\n %s\n %s" % (icmp_body(rep).hex(), raw(d).hex())
        assert rep[IP].len == 28 + len(raw(d))
        expect_counts(st, drops={"UNKNOWN_PROTO": 1}, events={"ICMP_UNREACH_SENT": 1})


def test_unreachable_quote_is_bounded():
    with Stack() as st:
        d = IP(src=CLIENT, dst=SERVER) / UDP(sport=1, dport=2) / Raw(bytes(1400))
        st.send(d, t=T0)
        rep = expect_icmp(one(st), 3, 3)
        # An ICMP error is at most 576 bytes (RFC 1812 §4.3.2.3).
        assert rep[IP].len == 576, rep[IP].len
        assert icmp_body(rep) == raw(d)[:576 - 28]


def test_unknown_protocol_unreachable():
    with Stack() as st:
        d = IP(src=CLIENT, dst=SERVER, proto=200) / Raw(b"mystery protocol")
        st.send(d, t=T0)
        rep = expect_icmp(one(st, "protocol unreachable"), 3, 2)
        assert icmp_body(rep) == raw(d)
        expect_counts(st, drops={"UNKNOWN_PROTO": 1}, events={"ICMP_UNREACH_SENT": 1})


def test_icmp_rate_limit():
    with Stack(icmp_rate=2) as st:
        udp = IP(src=CLIENT, dst=SERVER) / UDP(sport=5353, dport=9999) / Raw(b"x")
        st.send(udp, t=T0)
        expect_icmp(one(st), 3, 3)
        st.send(udp, t=T0 + 300 * MS)
        expect_icmp(one(st), 3, 3)
        st.send(udp, t=T0 + 600 * MS)
        nothing(st, "the third error within one second")
        st.send(IP(src=CLIENT, dst=SERVER, proto=200) / Raw(b"y"), t=T0 + SEC - 1)
        nothing(st, "the limit holds for every ICMP error")
        expect_counts(st, drops={"UNKNOWN_PROTO": 4, "ICMP_RATE_LIMIT": 2},
                      events={"ICMP_UNREACH_SENT": 2})
        logs = [l for l in st.trace() if l.startswith("log: ")]
        assert [l.endswith(("; 1 so far", "; 2 so far")[i]) for i, l in enumerate(logs)] == \
            [True, True] and all("(--icmp-rate)" in l for l in logs), logs
        st.send(udp, t=T0 + SEC)
        expect_icmp(one(st, "an error once the second has passed"), 3, 3)
        expect_counts(st, drops={"UNKNOWN_PROTO": 5, "ICMP_RATE_LIMIT": 2},
                      events={"ICMP_UNREACH_SENT": 3})


def test_icmp_error_in_first_second():
    # icmp_rate errors are allowed in every second, the clock's first
    # included: a UDP datagram at t = 0.5 s is answered.
    with Stack(icmp_rate=2) as st:
        st.send(IP(src=CLIENT, dst=SERVER) / UDP(sport=5353, dport=9999) / Raw(b"x"), t=500 * MS)
        expect_icmp(one(st, "port unreachable at t=0.5 s"), 3, 3)
        expect_counts(st, drops={"UNKNOWN_PROTO": 1}, events={"ICMP_UNREACH_SENT": 1})


def test_ipv6_dropped():
    from scapy.layers.inet6 import IPv6, ICMPv6ND_RS
    with Stack() as st:
        st.send(raw(IPv6(src="fe80::1", dst="ff02::2") / ICMPv6ND_RS()), t=T0)
        st.send(b"")
        st.send(b"\x60")
        nothing(st)
        expect_counts(st, drops={"NOT_IPV4": 3})


def test_not_for_us():
    with Stack() as st:
        st.send(echo(dst="10.0.0.3"), t=T0)
        st.send(IP(src=CLIENT, dst="10.0.0.255") / TCP(sport=1234, dport=80, flags="S"))
        st.send(IP(src=CLIENT, dst="255.255.255.255") / UDP(sport=68, dport=67))
        nothing(st, "nothing for packets to other addresses")
        expect_counts(st, drops={"IP_NOT_FOR_US": 3})
        assert st.tcb_count() == 0


def test_bad_source():
    with Stack() as st:
        # Our own address too: a SYN from it, even to itself (the LAND
        # attack), would have us talk to ourselves.
        for src in ("0.0.0.0", "224.0.0.1", "239.1.2.3", "127.0.0.1", "255.255.255.255", SERVER):
            st.send(IP(src=src, dst=SERVER) / UDP(sport=1, dport=2), t=T0)
            st.send(IP(src=src, dst=SERVER) / TCP(sport=1234, dport=80, flags="S"))
        st.send(IP(src=SERVER, dst=SERVER) / TCP(sport=80, dport=80, flags="S"))
        nothing(st, "never answer a broadcast, multicast, martian or our own source")
        expect_counts(st, drops={"IP_BAD_SOURCE": 13})
        assert st.tcb_count() == 0


def test_subnet_broadcast_source():
    # synackd knows the link's subnet from --tun-addr (10.0.0.1/24 by
    # default): its directed broadcast, 10.0.0.255, is no host's address.
    with Stack(netmask=0xffffff00) as st:
        st.send(IP(src="10.0.0.255", dst=SERVER) / TCP(sport=1234, dport=80, flags="S"), t=T0)
        st.send(echo(src="10.0.0.255"))
        nothing(st, "no answer to the subnet's broadcast address")
        expect_counts(st, drops={"IP_BAD_SOURCE": 2})
        # The host below it, and the same address under a /16, are hosts.
        st.send(echo(src="10.0.0.254"))
        assert one(st, "the echo reply to 10.0.0.254")[IP].dst == "10.0.0.254"
    with Stack(netmask=0xffff0000) as st:
        st.send(echo(src="10.0.0.255"), t=T0)
        assert one(st, "the echo reply to 10.0.0.255 in a /16")[IP].dst == "10.0.0.255"
        expect_counts(st, drops={})


def test_truncated_and_malformed_ip():
    with Stack() as st:
        full = raw(echo())
        st.send(full[:-4], t=T0)                       # Total Length > bytes read
        bad = bytearray(full)
        bad[2:4] = (12).to_bytes(2, "big")             # Total Length < header
        st.send(fix_ip_checksum(bad))
        nothing(st)
        expect_counts(st, drops={"IP_TOTAL_LEN": 2})
        st.send(full[:19])                             # shorter than a header
        bad = bytearray(full)
        bad[0] = 0x44                                  # IHL 4 words
        st.send(bytes(bad))
        bad = bytearray(full)
        bad[0] = 0x4f                                  # IHL 60 bytes > packet
        st.send(bytes(bad[:40]))
        nothing(st)
        expect_counts(st, drops={"IP_TOTAL_LEN": 2, "IP_SHORT": 1, "IP_IHL": 2})


def fix_ip_checksum(b):
    b = bytearray(b)
    ihl = (b[0] & 15) * 4
    b[10:12] = b"\0\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, ihl, 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    b[10:12] = (~s & 0xffff).to_bytes(2, "big")
    return bytes(b)


def test_tcp_bad_checksum():
    with Stack() as st:
        st.send(IP(src=CLIENT, dst=SERVER) / TCP(sport=50093, dport=80, flags="S", chksum=0xdead),
                t=T0)
        st.send(IP(src=CLIENT, dst=SERVER) / TCP(sport=50093, dport=81, flags="S", chksum=0xdead))
        nothing(st, "no SYN-ACK and no RST for a bad checksum")
        assert st.tcb_count() == 0
        expect_counts(st, drops={"TCP_CHECKSUM": 2}, events={"TCP_SEG_IN": 0})
