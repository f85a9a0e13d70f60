/*
 * test_tcp_header.c -- TCP header parsing and building, options (RFC 9293
 * §3.1-3.2, RFC 7323, RFC 2018) and the flag string of trace lines.
 */
#include <string.h>

#include "stack/checksum.h"
#include "stack/ipv4.h"
#include "stack/tcp_header.h"
#include "tests/unit/suites.h"
#include "tun/gso.h"

#define SRC 0x0a000001u
#define DST 0x0a000002u

/* Passed where a test has no options; NULL with length 0 is tested apart. */
static const uint8_t no_opts[1] = { 0 };

/* Writes header (+opts) and payload into buf; returns the segment length. */
static size_t build(uint8_t *buf, uint16_t sport, uint16_t dport, uint8_t flags,
                    const uint8_t *opts, uint32_t optlen, const uint8_t *data, size_t dlen)
{
    struct tcp_segment h = {
        .src = SRC, .dst = DST, .sport = sport, .dport = dport,
        .seq = 0x01020304u, .ack = 0xa0b0c0d0u, .flags = flags, .wnd = 29200,
    };
    struct slice s = { data, dlen };
    uint32_t hlen = tcp_write_header(buf, &h, opts ? opts : no_opts, optlen, &s, dlen ? 1 : 0);
    if (dlen)
        memcpy(buf + hlen, data, dlen);
    return hlen + dlen;
}

static enum drop_reason parse_fails(const uint8_t *seg, size_t len)
{
    struct tcp_segment out;
    enum drop_reason why = DROP__COUNT;
    ck_assert_msg(!tcp_parse(seg, len, SRC, DST, &out, &why), "tcp_parse accepted a bad segment");
    return why;
}

/* Recomputes the checksum in place after a field was edited by hand. */
static void fix_checksum(uint8_t *seg, size_t len)
{
    store_be16(seg + 16, 0);
    uint32_t sum = csum_pseudo(SRC, DST, 6, (uint16_t)len);
    store_be16(seg + 16, csum_fold(csum_add(sum, seg, len)));
}

/* --- tcp_parse ------------------------------------------------------------ */

START_TEST(parse_valid_segment_fields)
{
    uint8_t buf[64];
    static const uint8_t data[] = "hello";
    size_t len = build(buf, 40000, 80, TCP_PSH | TCP_ACK, NULL, 0, data, 5);
    ck_assert_uint_eq(len, 25);
    struct tcp_segment s;
    enum drop_reason why;
    ck_assert(tcp_parse(buf, len, SRC, DST, &s, &why));
    ck_assert_uint_eq(s.src, SRC);
    ck_assert_uint_eq(s.dst, DST);
    ck_assert_uint_eq(s.sport, 40000);
    ck_assert_uint_eq(s.dport, 80);
    ck_assert_uint_eq(s.seq, 0x01020304u);
    ck_assert_uint_eq(s.ack, 0xa0b0c0d0u);
    ck_assert_uint_eq(s.flags, TCP_PSH | TCP_ACK);
    ck_assert_uint_eq(s.wnd, 29200);
    ck_assert_uint_eq(s.urg, 0);
    ck_assert_uint_eq(s.hdr_len, 20);
    ck_assert_ptr_eq(s.data, buf + 20);
    ck_assert_uint_eq(s.data_len, 5);
    ck_assert_mem_eq(s.data, "hello", 5);
    ck_assert_uint_eq(tcp_seg_len(&s), 5);
    ck_assert(!s.opt.has_mss && !s.opt.has_timestamp);
}
END_TEST

START_TEST(parse_header_bytes_on_the_wire)
{
    uint8_t buf[20];
    build(buf, 0x1234, 0x0050, TCP_SYN, NULL, 0, NULL, 0);
    static const uint8_t want[16] = { 0x12, 0x34, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04,
                                      0xa0, 0xb0, 0xc0, 0xd0, 0x50, 0x02, 0x72, 0x10 };
    ck_assert_mem_eq(buf, want, sizeof want);
    ck_assert_uint_eq(load_be16(buf + 18), 0);   /* urgent pointer */
}
END_TEST

START_TEST(parse_options_from_header)
{
    struct tcp_opt_out o = { .syn = true, .mss = 1460, .wscale_ok = true, .sack_ok = true,
                             .ts_ok = true, .wscale = 7, .tsval = 111, .tsecr = 0 };
    uint8_t opts[TCP_MAX_OPT_LEN], buf[80];
    uint32_t n = tcp_write_options(opts, &o);
    size_t len = build(buf, 1, 2, TCP_SYN, opts, n, NULL, 0);
    ck_assert_uint_eq(len, 40);
    ck_assert_uint_eq(buf[12], 0xa0);           /* data offset 10 words */
    struct tcp_segment s;
    enum drop_reason why;
    ck_assert(tcp_parse(buf, len, SRC, DST, &s, &why));
    ck_assert_uint_eq(s.hdr_len, 40);
    ck_assert_uint_eq(s.data_len, 0);
    ck_assert_uint_eq(tcp_seg_len(&s), 1);
    ck_assert(s.opt.has_mss);
    ck_assert_uint_eq(s.opt.mss, 1460);
    ck_assert(s.opt.has_wscale);
    ck_assert_uint_eq(s.opt.wscale, 7);
    ck_assert(s.opt.sack_permitted);
    ck_assert(s.opt.has_timestamp);
    ck_assert_uint_eq(s.opt.tsval, 111);
    ck_assert_uint_eq(s.opt.tsecr, 0);
}
END_TEST

START_TEST(parse_short_is_tcp_short)
{
    uint8_t buf[20];
    build(buf, 1, 2, TCP_ACK, NULL, 0, NULL, 0);
    ck_assert_int_eq(parse_fails(buf, 19), DROP_TCP_SHORT);
    ck_assert_int_eq(parse_fails(buf, 0), DROP_TCP_SHORT);
}
END_TEST

START_TEST(parse_data_offset_below_5)
{
    uint8_t buf[24];
    build(buf, 1, 2, TCP_ACK, NULL, 0, (const uint8_t *)"abcd", 4);
    buf[12] = 0x40;
    fix_checksum(buf, sizeof buf);
    ck_assert_int_eq(parse_fails(buf, sizeof buf), DROP_TCP_DATA_OFFSET);
    buf[12] = 0x00;
    fix_checksum(buf, sizeof buf);
    ck_assert_int_eq(parse_fails(buf, sizeof buf), DROP_TCP_DATA_OFFSET);
}
END_TEST

START_TEST(parse_data_offset_past_segment)
{
    uint8_t buf[24];
    build(buf, 1, 2, TCP_ACK, NULL, 0, (const uint8_t *)"\1\1\1\1", 4);
    buf[12] = 0x70;                     /* 28-byte header in 24 bytes */
    fix_checksum(buf, sizeof buf);
    ck_assert_int_eq(parse_fails(buf, sizeof buf), DROP_TCP_DATA_OFFSET);
    buf[12] = 0x60;                     /* exactly 24: accepted (4 NOPs) */
    fix_checksum(buf, sizeof buf);
    struct tcp_segment s;
    enum drop_reason why;
    ck_assert(tcp_parse(buf, sizeof buf, SRC, DST, &s, &why));
    ck_assert_uint_eq(s.data_len, 0);
}
END_TEST

START_TEST(parse_bad_checksum)
{
    uint8_t buf[64];
    size_t len = build(buf, 1000, 80, TCP_ACK, NULL, 0, (const uint8_t *)"xyz", 3);
    buf[len - 1] ^= 0x20;
    ck_assert_int_eq(parse_fails(buf, len), DROP_TCP_CHECKSUM);
    buf[len - 1] ^= 0x20;
    /* Same bytes, different addresses: the pseudo-header catches it. */
    struct tcp_segment s;
    enum drop_reason why = DROP__COUNT;
    ck_assert(!tcp_parse(buf, len, SRC + 1, DST, &s, &why));
    ck_assert_int_eq(why, DROP_TCP_CHECKSUM);
}
END_TEST

START_TEST(parse_port_zero_is_bad_port)
{
    uint8_t buf[20];
    build(buf, 0, 80, TCP_SYN, NULL, 0, NULL, 0);
    ck_assert_int_eq(parse_fails(buf, sizeof buf), DROP_TCP_BAD_PORT);
    build(buf, 40000, 0, TCP_SYN, NULL, 0, NULL, 0);
    ck_assert_int_eq(parse_fails(buf, sizeof buf), DROP_TCP_BAD_PORT);
}
END_TEST

START_TEST(parse_malformed_option_is_tcp_options)
{
    static const uint8_t bad[4] = { TCPOPT_MSS, 0, 0, 0 };   /* length 0 */
    uint8_t buf[24];
    size_t len = build(buf, 1, 2, TCP_SYN, bad, 4, NULL, 0);
    ck_assert_int_eq(parse_fails(buf, len), DROP_TCP_OPTIONS);
}
END_TEST

/* --- tcp_parse_options ----------------------------------------------------- */

START_TEST(options_all_kinds_parsed)
{
    static const uint8_t p[] = {
        2, 4, 0x05, 0xb4,                    /* MSS 1460 */
        1, 3, 3, 9,                          /* NOP, WS 9 */
        4, 2,                                /* SACK permitted */
        8, 10, 0, 0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,   /* TS */
        1, 1,
    };
    struct tcp_options o;
    ck_assert(tcp_parse_options(p, sizeof p, &o));
    ck_assert(o.has_mss);
    ck_assert_uint_eq(o.mss, 1460);
    ck_assert(o.has_wscale);
    ck_assert_uint_eq(o.wscale, 9);
    ck_assert(o.sack_permitted);
    ck_assert(o.has_timestamp);
    ck_assert_uint_eq(o.tsval, 0x1234);
    ck_assert_uint_eq(o.tsecr, 0xdeadbeefu);
    ck_assert_uint_eq(o.sack_count, 0);
}
END_TEST

START_TEST(options_sack_blocks_parsed)
{
    static const uint8_t p[] = {
        1, 1, 5, 18,
        0, 0, 0x10, 0x00, 0, 0, 0x20, 0x00,
        0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10,
    };
    struct tcp_options o;
    ck_assert(tcp_parse_options(p, sizeof p, &o));
    ck_assert_uint_eq(o.sack_count, 2);
    ck_assert_uint_eq(o.sack[0].left, 0x1000);
    ck_assert_uint_eq(o.sack[0].right, 0x2000);
    ck_assert_uint_eq(o.sack[1].left, 0xfffffff0u);
    ck_assert_uint_eq(o.sack[1].right, 0x10);
}
END_TEST

START_TEST(options_length_0_rejected)
{
    static const uint8_t p[] = { 2, 0, 0, 0 };
    struct tcp_options o;
    ck_assert(!tcp_parse_options(p, sizeof p, &o));
    static const uint8_t unknown[] = { 30, 0, 0, 0 };
    ck_assert(!tcp_parse_options(unknown, sizeof unknown, &o));
}
END_TEST

START_TEST(options_length_1_rejected)
{
    static const uint8_t p[] = { 2, 1, 0, 0 };
    struct tcp_options o;
    ck_assert(!tcp_parse_options(p, sizeof p, &o));
}
END_TEST

START_TEST(options_length_past_header_rejected)
{
    static const uint8_t p[] = { 1, 8, 10, 0, 0, 0, 0, 0 };  /* TS needs 10, 7 left */
    struct tcp_options o;
    ck_assert(!tcp_parse_options(p, sizeof p, &o));
    static const uint8_t q[] = { 2, 4, 5 };
    ck_assert(!tcp_parse_options(q, sizeof q, &o));
}
END_TEST

START_TEST(options_kind_without_length_byte_rejected)
{
    static const uint8_t p[] = { 1, 1, 1, 2 };   /* MSS kind as the last byte */
    struct tcp_options o;
    ck_assert(!tcp_parse_options(p, sizeof p, &o));
    static const uint8_t q[] = { 3 };
    ck_assert(!tcp_parse_options(q, sizeof q, &o));
}
END_TEST

START_TEST(options_eol_stops_parsing)
{
    /* Garbage after EOL (a length-0 option) is never looked at. */
    static const uint8_t p[] = { 2, 4, 0x02, 0x18, 0, 3, 0, 0xff };
    struct tcp_options o;
    ck_assert(tcp_parse_options(p, sizeof p, &o));
    ck_assert(o.has_mss);
    ck_assert_uint_eq(o.mss, 536);
    ck_assert(!o.has_wscale);
}
END_TEST

START_TEST(options_nops_skipped)
{
    static const uint8_t p[] = { 1, 1, 1, 2, 4, 0x05, 0xb4, 1 };
    struct tcp_options o;
    ck_assert(tcp_parse_options(p, sizeof p, &o));
    ck_assert(o.has_mss);
    ck_assert_uint_eq(o.mss, 1460);
    ck_assert(tcp_parse_options(p, 0, &o));
    ck_assert(!o.has_mss);
}
END_TEST

START_TEST(options_known_kind_wrong_length_ignored)
{
    static const uint8_t p[] = { 2, 3, 5, 1, 1, 1, 3, 2, 8, 6, 0, 0, 0, 1 };
    struct tcp_options o;
    ck_assert(tcp_parse_options(p, sizeof p, &o));
    ck_assert(!o.has_mss);
    ck_assert(!o.has_wscale);
    ck_assert(!o.has_timestamp);
}
END_TEST

START_TEST(options_unknown_kind_skipped_by_length)
{
    static const uint8_t p[] = { 30, 4, 0xaa, 0xbb, 2, 4, 0x04, 0x00 };
    struct tcp_options o;
    ck_assert(tcp_parse_options(p, sizeof p, &o));
    ck_assert(o.has_mss);
    ck_assert_uint_eq(o.mss, 1024);
}
END_TEST

START_TEST(options_wscale_15_stored_unclamped)
{
    static const uint8_t p[] = { 1, 3, 3, 15 };
    struct tcp_options o;
    ck_assert(tcp_parse_options(p, sizeof p, &o));
    ck_assert(o.has_wscale);
    ck_assert_uint_eq(o.wscale, 15);
}
END_TEST

/* --- tcp_write_options ----------------------------------------------------- */

START_TEST(write_options_syn_all_linux_layout)
{
    struct tcp_opt_out o = { .syn = true, .mss = 1460, .wscale_ok = true, .sack_ok = true,
                             .ts_ok = true, .wscale = 7, .tsval = 0x11223344u,
                             .tsecr = 0x55667788u };
    uint8_t out[TCP_MAX_OPT_LEN];
    static const uint8_t want[20] = { 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
                                      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                      0x01, 0x03, 0x03, 0x07 };
    ck_assert_uint_eq(tcp_write_options(out, &o), 20);
    ck_assert_mem_eq(out, want, 20);
}
END_TEST

START_TEST(write_options_syn_mss_only)
{
    struct tcp_opt_out o = { .syn = true, .mss = 536 };
    uint8_t out[TCP_MAX_OPT_LEN];
    static const uint8_t want[4] = { 0x02, 0x04, 0x02, 0x18 };
    ck_assert_uint_eq(tcp_write_options(out, &o), 4);
    ck_assert_mem_eq(out, want, 4);
}
END_TEST

START_TEST(write_options_syn_sack_and_ws_without_ts)
{
    struct tcp_opt_out o = { .syn = true, .mss = 1460, .sack_ok = true, .wscale_ok = true,
                             .wscale = 2 };
    uint8_t out[TCP_MAX_OPT_LEN];
    static const uint8_t want[12] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02,
                                      0x01, 0x03, 0x03, 0x02 };
    ck_assert_uint_eq(tcp_write_options(out, &o), 12);
    ck_assert_mem_eq(out, want, 12);
}
END_TEST

START_TEST(write_options_non_syn_timestamp)
{
    struct tcp_opt_out o = { .syn = false, .mss = 1460, .wscale_ok = true, .sack_ok = true,
                             .ts_ok = true, .wscale = 7, .tsval = 0xcafebabeu, .tsecr = 1 };
    uint8_t out[TCP_MAX_OPT_LEN];
    static const uint8_t want[12] = { 0x01, 0x01, 0x08, 0x0a, 0xca, 0xfe, 0xba, 0xbe,
                                      0x00, 0x00, 0x00, 0x01 };
    ck_assert_uint_eq(tcp_write_options(out, &o), 12);
    ck_assert_mem_eq(out, want, 12);
}
END_TEST

START_TEST(write_options_non_syn_without_ts_is_empty)
{
    struct tcp_opt_out o = { .syn = false, .mss = 1460, .wscale_ok = true, .sack_ok = true,
                             .wscale = 7 };
    uint8_t out[TCP_MAX_OPT_LEN];
    ck_assert_uint_eq(tcp_write_options(out, &o), 0);
}
END_TEST

/* --- tcp_write_header checksum with payload slices ------------------------- */

static void check_slices_verify(const uint8_t *data, size_t a, size_t b, size_t c)
{
    struct tcp_segment h = { .src = SRC, .dst = DST, .sport = 80, .dport = 40000,
                             .seq = 7, .ack = 9, .flags = TCP_ACK | TCP_PSH, .wnd = 1000 };
    struct slice s[3] = { { data, a }, { data + a, b }, { data + a + b, c } };
    uint8_t buf[256];
    uint32_t hlen = tcp_write_header(buf, &h, no_opts, 0, s, c ? 3 : 2);
    ck_assert_uint_eq(hlen, 20);
    memcpy(buf + hlen, data, a + b + c);
    size_t len = hlen + a + b + c;
    uint32_t sum = csum_pseudo(SRC, DST, 6, (uint16_t)len);
    ck_assert_msg(csum_fold(csum_add(sum, buf, len)) == 0,
                  "checksum does not verify for slices %zu+%zu+%zu", a, b, c);
    struct tcp_segment out;
    enum drop_reason why;
    ck_assert(tcp_parse(buf, len, SRC, DST, &out, &why));
    ck_assert_uint_eq(out.data_len, a + b + c);
}

START_TEST(write_header_checksum_two_even_slices)
{
    uint8_t d[64];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(0xf1 ^ (i * 13));
    check_slices_verify(d, 10, 20, 0);
}
END_TEST

START_TEST(write_header_checksum_odd_first_slice)
{
    uint8_t d[64];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(0xf1 ^ (i * 13));
    check_slices_verify(d, 7, 20, 0);
    check_slices_verify(d, 7, 21, 0);
    check_slices_verify(d, 1, 1, 0);
    check_slices_verify(d, 33, 30, 0);
}
END_TEST

START_TEST(write_header_checksum_odd_slice_then_empty_slice)
{
    /* An empty slice between two others must not lose the odd byte. */
    uint8_t d[64];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(0xf1 ^ (i * 13));
    check_slices_verify(d, 7, 0, 10);
}
END_TEST

START_TEST(write_header_accepts_null_options_and_payload)
{
    /* tcp_reply_rst() builds its RST this way: no options, no payload. */
    struct tcp_segment h = { .src = SRC, .dst = DST, .sport = 80, .dport = 40000,
                             .seq = 0, .ack = 1001, .flags = TCP_RST | TCP_ACK };
    uint8_t buf[20];
    ck_assert_uint_eq(tcp_write_header(buf, &h, NULL, 0, NULL, 0), 20);
    struct tcp_segment out;
    enum drop_reason why;
    ck_assert(tcp_parse(buf, sizeof buf, SRC, DST, &out, &why));
    ck_assert_uint_eq(out.flags, TCP_RST | TCP_ACK);
    ck_assert_uint_eq(out.ack, 1001);
}
END_TEST

START_TEST(write_header_zeroes_urgent_and_sets_offset)
{
    uint8_t opts[4] = { 2, 4, 0x05, 0xb4 };
    uint8_t buf[24];
    memset(buf, 0xee, sizeof buf);
    struct tcp_segment h = { .src = SRC, .dst = DST, .sport = 1, .dport = 2,
                             .flags = TCP_SYN, .urg = 99 };
    ck_assert_uint_eq(tcp_write_header(buf, &h, opts, 4, NULL, 0), 24);
    ck_assert_uint_eq(buf[12], 0x60);
    ck_assert_uint_eq(load_be16(buf + 18), 0);
    ck_assert_mem_eq(buf + 20, opts, 4);
}
END_TEST

/* --- tcp_flags_str --------------------------------------------------------- */

/* A partial checksum is what a NIC or the kernel finishes: summing the
 * segment from the TCP header on, with the field as written, and storing
 * the complement must give a segment that verifies. */
START_TEST(write_header_partial_is_completed_by_summing_the_segment)
{
    static const uint8_t data[333] = { 1, 2, 3, [100] = 0xfe, [332] = 0x77 };
    struct tcp_segment h = { .src = SRC, .dst = DST, .sport = 80, .dport = 40000,
                             .seq = 7, .ack = 9, .flags = TCP_ACK, .wnd = 1000,
                             .data_len = sizeof data };
    uint8_t buf[20 + sizeof data];
    uint32_t hlen = tcp_write_header_partial(buf, &h, no_opts, 0);
    ck_assert_uint_eq(hlen, 20);
    uint32_t pseudo = csum_pseudo(SRC, DST, 6, (uint16_t)sizeof buf);
    ck_assert_uint_eq(load_be16(buf + TCP_CSUM_OFFSET), (uint16_t)~csum_fold(pseudo));
    memcpy(buf + hlen, data, sizeof data);
    store_be16(buf + TCP_CSUM_OFFSET, csum_buffer(buf, sizeof buf));  /* the completion */
    ck_assert_uint_eq(csum_fold(csum_add(pseudo, buf, sizeof buf)), 0);
    struct tcp_segment out;
    enum drop_reason why;
    ck_assert(tcp_parse(buf, sizeof buf, SRC, DST, &out, &why));
    ck_assert_uint_eq(out.data_len, sizeof data);
}
END_TEST

/* --- tun/gso.c: a super-segment cut as the kernel would ------------------ */

static struct { uint8_t pkt[1600]; size_t len; } cut[8];
static int ncut;

static void keep_cut(void *ctx, const struct slice *parts, int n)
{
    (void)ctx;
    ck_assert_int_lt(ncut, 8);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        memcpy(cut[ncut].pkt + at, parts[i].data, parts[i].len);
        at += parts[i].len;
    }
    cut[ncut++].len = at;
}

/* 2500 bytes in two slices, gso_size 1000: segments of 1000, 1000 and 500
 * with consecutive seq and IPv4 ID, PSH and FIN on the last only, every
 * checksum complete; a packet whose headers do not match off is refused. */
START_TEST(gso_split_cuts_like_the_kernel)
{
    static uint8_t payload[2500];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);
    struct tcp_segment h = { .src = SRC, .dst = DST, .sport = 80, .dport = 40000,
                             .seq = 1000, .ack = 9, .flags = TCP_ACK | TCP_PSH | TCP_FIN,
                             .wnd = 500, .data_len = sizeof payload };
    uint8_t hdr[IPV4_HDR_LEN + TCP_HDR_LEN];
    uint32_t hl = tcp_write_header_partial(hdr + IPV4_HDR_LEN, &h, no_opts, 0);
    ipv4_write_header(hdr, SRC, DST, IPPROTO_TCP_NUM, (uint16_t)(hl + sizeof payload), 77, true);
    struct slice parts[3] = { { hdr, sizeof hdr }, { payload, 1700 }, { payload + 1700, 800 } };
    struct stack_offload off = { sizeof hdr, IPV4_HDR_LEN, TCP_CSUM_OFFSET, 1000 };
    ncut = 0;
    ck_assert_int_eq(gso_split(parts, 3, &off, keep_cut, NULL), 3);
    static const uint32_t lens[3] = { 1000, 1000, 500 };
    for (int k = 0; k < 3; k++) {
        struct ipv4_packet ip;
        struct tcp_segment seg;
        enum drop_reason why;
        ck_assert(ipv4_parse(cut[k].pkt, cut[k].len, &ip, &why));
        ck_assert_uint_eq(ip.id, 77 + k);
        ck_assert(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &seg, &why));
        ck_assert_uint_eq(seg.seq, 1000 + 1000 * (uint32_t)k);
        ck_assert_uint_eq(seg.data_len, lens[k]);
        ck_assert_mem_eq(seg.data, payload + 1000 * k, lens[k]);
        ck_assert_uint_eq(seg.flags, k == 2 ? (TCP_ACK | TCP_PSH | TCP_FIN) : TCP_ACK);
    }
    off.hdr_len = sizeof hdr + 4;  /* headers not as parts[0] holds them */
    ck_assert_int_eq(gso_split(parts, 3, &off, keep_cut, NULL), 0);
    ck_assert_int_eq(gso_split(parts, 0, &off, keep_cut, NULL), 0);
}
END_TEST

START_TEST(flags_str_wireshark_style)
{
    char b[48];
    ck_assert_str_eq(tcp_flags_str(TCP_SYN | TCP_ACK, b), "[SYN, ACK]");
    ck_assert_str_eq(tcp_flags_str(TCP_FIN | TCP_PSH | TCP_ACK, b), "[FIN, PSH, ACK]");
    ck_assert_str_eq(tcp_flags_str(TCP_RST, b), "[RST]");
    ck_assert_str_eq(tcp_flags_str(TCP_RST | TCP_ACK, b), "[RST, ACK]");
    ck_assert_str_eq(tcp_flags_str(0xff, b), "[FIN, SYN, RST, PSH, ACK, URG, ECE, CWR]");
    ck_assert_ptr_eq(tcp_flags_str(TCP_SYN, b), b);
}
END_TEST

Suite *tcp_header_suite(void)
{
    Suite *s = suite_create("tcp_header");
    TCase *tp = tcase_create("parse");
    tcase_add_test(tp, parse_valid_segment_fields);
    tcase_add_test(tp, parse_header_bytes_on_the_wire);
    tcase_add_test(tp, parse_options_from_header);
    tcase_add_test(tp, parse_short_is_tcp_short);
    tcase_add_test(tp, parse_data_offset_below_5);
    tcase_add_test(tp, parse_data_offset_past_segment);
    tcase_add_test(tp, parse_bad_checksum);
    tcase_add_test(tp, parse_port_zero_is_bad_port);
    tcase_add_test(tp, parse_malformed_option_is_tcp_options);
    suite_add_tcase(s, tp);
    TCase *to = tcase_create("options");
    tcase_add_test(to, options_all_kinds_parsed);
    tcase_add_test(to, options_sack_blocks_parsed);
    tcase_add_test(to, options_length_0_rejected);
    tcase_add_test(to, options_length_1_rejected);
    tcase_add_test(to, options_length_past_header_rejected);
    tcase_add_test(to, options_kind_without_length_byte_rejected);
    tcase_add_test(to, options_eol_stops_parsing);
    tcase_add_test(to, options_nops_skipped);
    tcase_add_test(to, options_known_kind_wrong_length_ignored);
    tcase_add_test(to, options_unknown_kind_skipped_by_length);
    tcase_add_test(to, options_wscale_15_stored_unclamped);
    tcase_add_test(to, write_options_syn_all_linux_layout);
    tcase_add_test(to, write_options_syn_mss_only);
    tcase_add_test(to, write_options_syn_sack_and_ws_without_ts);
    tcase_add_test(to, write_options_non_syn_timestamp);
    tcase_add_test(to, write_options_non_syn_without_ts_is_empty);
    suite_add_tcase(s, to);
    TCase *tw = tcase_create("write");
    tcase_add_test(tw, write_header_checksum_two_even_slices);
    tcase_add_test(tw, write_header_checksum_odd_first_slice);
    tcase_add_test(tw, write_header_checksum_odd_slice_then_empty_slice);
    tcase_add_test(tw, write_header_accepts_null_options_and_payload);
    tcase_add_test(tw, write_header_zeroes_urgent_and_sets_offset);
    tcase_add_test(tw, write_header_partial_is_completed_by_summing_the_segment);
    tcase_add_test(tw, gso_split_cuts_like_the_kernel);
    tcase_add_test(tw, flags_str_wireshark_style);
    suite_add_tcase(s, tw);
    return s;
}
