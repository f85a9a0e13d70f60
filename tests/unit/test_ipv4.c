/*
 * test_ipv4.c -- ipv4_parse's checks in order, ipv4_write_header's output,
 * and the bad-source filter (RFC 791, RFC 1122 §3.2.1.3).
 */
#include <string.h>

#include "stack/checksum.h"
#include "stack/ipv4.h"
#include "tests/unit/suites.h"

#define SRC 0xc0a80001u   /* 192.168.0.1 */
#define DST 0x0a000002u   /* 10.0.0.2 */

/* A header of ihl words, total length total, flags/offset frag, then a
 * correct checksum.  Bytes after the header are 0xa0, 0xa1, ... */
static void make_pkt(uint8_t *p, size_t buflen, uint8_t ihl, uint16_t total, uint16_t frag)
{
    for (size_t i = 0; i < buflen; i++)
        p[i] = (uint8_t)(0xa0 + i);
    p[0] = (uint8_t)(0x40 | ihl);
    p[1] = 0;
    store_be16(p + 2, total);
    store_be16(p + 4, 0xbeef);
    store_be16(p + 6, frag);
    p[8] = 17;
    p[9] = IPPROTO_TCP_NUM;
    store_be16(p + 10, 0);
    store_be32(p + 12, SRC);
    store_be32(p + 16, DST);
    for (uint32_t i = 20; i < (uint32_t)ihl * 4 && i < buflen; i++)
        p[i] = 0x01;   /* IP option NOP */
    if ((size_t)ihl * 4 <= buflen && ihl >= 5)
        store_be16(p + 10, csum_buffer(p, (size_t)ihl * 4));
}

static enum drop_reason parse_fails(const uint8_t *p, size_t len)
{
    struct ipv4_packet ip;
    enum drop_reason why = DROP__COUNT;
    ck_assert_msg(!ipv4_parse(p, len, &ip, &why), "ipv4_parse accepted a bad packet");
    return why;
}

START_TEST(valid_header_fields_read_back)
{
    uint8_t p[28];
    make_pkt(p, sizeof p, 5, 28, 0x4000);   /* DF alone is fine */
    struct ipv4_packet ip;
    enum drop_reason why;
    ck_assert(ipv4_parse(p, sizeof p, &ip, &why));
    ck_assert_ptr_eq(ip.hdr, p);
    ck_assert_uint_eq(ip.hdr_len, 20);
    ck_assert_uint_eq(ip.src, SRC);
    ck_assert_uint_eq(ip.dst, DST);
    ck_assert_uint_eq(ip.proto, 6);
    ck_assert_uint_eq(ip.ttl, 17);
    ck_assert_uint_eq(ip.id, 0xbeef);
    ck_assert_ptr_eq(ip.payload, p + 20);
    ck_assert_uint_eq(ip.payload_len, 8);
}
END_TEST

START_TEST(shorter_than_20_is_ip_short)
{
    uint8_t p[20];
    make_pkt(p, sizeof p, 5, 20, 0);
    ck_assert_int_eq(parse_fails(p, 19), DROP_IP_SHORT);
    ck_assert_int_eq(parse_fails(p, 1), DROP_IP_SHORT);
}
END_TEST

START_TEST(version_6_is_not_ipv4)
{
    uint8_t p[40];
    make_pkt(p, sizeof p, 5, 40, 0);
    p[0] = 0x60;
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_NOT_IPV4);
}
END_TEST

START_TEST(empty_buffer_rejected)
{
    uint8_t p[1] = { 0x45 };
    /* Nothing to read, not even the version nibble: the first check fails. */
    ck_assert_int_eq(parse_fails(p, 0), DROP_NOT_IPV4);
}
END_TEST

START_TEST(ihl_below_5_is_ip_ihl)
{
    uint8_t p[20];
    make_pkt(p, sizeof p, 4, 20, 0);
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_IHL);
    p[0] = 0x40;
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_IHL);
}
END_TEST

START_TEST(ihl_past_the_packet_is_ip_ihl)
{
    uint8_t p[40];
    make_pkt(p, sizeof p, 15, 40, 0);   /* 60-byte header in 40 bytes */
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_IHL);
}
END_TEST

START_TEST(total_length_past_read_is_ip_total_len)
{
    uint8_t p[40];
    make_pkt(p, sizeof p, 5, 41, 0);
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_TOTAL_LEN);
}
END_TEST

START_TEST(total_length_below_header_is_ip_total_len)
{
    uint8_t p[24];
    make_pkt(p, sizeof p, 5, 19, 0);
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_TOTAL_LEN);
    make_pkt(p, sizeof p, 6, 20, 0);    /* 24-byte header, total 20 */
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_TOTAL_LEN);
}
END_TEST

START_TEST(bad_checksum_is_ip_checksum)
{
    uint8_t p[20];
    make_pkt(p, sizeof p, 5, 20, 0);
    p[11] ^= 0x01;
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_CHECKSUM);
    make_pkt(p, sizeof p, 5, 20, 0);
    p[8] = 16;                          /* TTL changed, checksum not updated */
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_CHECKSUM);
}
END_TEST

START_TEST(more_fragments_flag_is_ip_fragment)
{
    uint8_t p[28];
    make_pkt(p, sizeof p, 5, 28, 0x2000);
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_FRAGMENT);
}
END_TEST

START_TEST(nonzero_fragment_offset_is_ip_fragment)
{
    uint8_t p[28];
    make_pkt(p, sizeof p, 5, 28, 0x0001);       /* last fragment, offset 8 */
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_FRAGMENT);
    make_pkt(p, sizeof p, 5, 28, 0x4000 | 0x1fff);
    ck_assert_int_eq(parse_fails(p, sizeof p), DROP_IP_FRAGMENT);
}
END_TEST

START_TEST(options_ihl_6_payload_after_options)
{
    uint8_t p[28];
    make_pkt(p, sizeof p, 6, 28, 0);
    struct ipv4_packet ip;
    enum drop_reason why;
    ck_assert(ipv4_parse(p, sizeof p, &ip, &why));
    ck_assert_uint_eq(ip.hdr_len, 24);
    ck_assert_ptr_eq(ip.payload, p + 24);
    ck_assert_uint_eq(ip.payload_len, 4);
    ck_assert_uint_eq(ip.payload[0], 0xa0 + 24);
}
END_TEST

START_TEST(trailing_padding_ignored)
{
    uint8_t p[46];                      /* Ethernet minimum frame padding */
    make_pkt(p, sizeof p, 5, 24, 0);
    struct ipv4_packet ip;
    enum drop_reason why;
    ck_assert(ipv4_parse(p, sizeof p, &ip, &why));
    ck_assert_uint_eq(ip.payload_len, 4);
    ck_assert_ptr_eq(ip.payload, p + 20);
}
END_TEST

START_TEST(write_header_exact_bytes_and_parses)
{
    uint8_t p[20 + 8] = { 0 };
    ipv4_write_header(p, SRC, DST, IPPROTO_TCP_NUM, 8, 0x1234, true);
    static const uint8_t want[10] = { 0x45, 0x00, 0x00, 0x1c, 0x12, 0x34,
                                      0x40, 0x00, 64, 6 };
    ck_assert_mem_eq(p, want, sizeof want);
    ck_assert_uint_eq(load_be32(p + 12), SRC);
    ck_assert_uint_eq(load_be32(p + 16), DST);
    ck_assert_uint_eq(csum_buffer(p, 20), 0);

    struct ipv4_packet ip;
    enum drop_reason why;
    ck_assert(ipv4_parse(p, sizeof p, &ip, &why));
    ck_assert_uint_eq(ip.ttl, IPV4_DEFAULT_TTL);
    ck_assert_uint_eq(ip.id, 0x1234);
    ck_assert_uint_eq(ip.payload_len, 8);
    ck_assert_uint_eq(ip.src, SRC);
    ck_assert_uint_eq(ip.dst, DST);
}
END_TEST

START_TEST(write_header_without_df)
{
    uint8_t p[20];
    ipv4_write_header(p, SRC, DST, IPPROTO_ICMP_NUM, 0, 7, false);
    ck_assert_uint_eq(load_be16(p + 6), 0);
    ck_assert_uint_eq(load_be16(p + 2), 20);
    ck_assert_uint_eq(p[9], 1);
    ck_assert_uint_eq(csum_buffer(p, 20), 0);
}
END_TEST

START_TEST(bad_sources)
{
    ck_assert(ipv4_is_bad_source(0x00000000u));   /* 0.0.0.0 */
    ck_assert(ipv4_is_bad_source(0x00010203u));   /* 0.1.2.3 */
    ck_assert(ipv4_is_bad_source(0x7f000001u));   /* 127.0.0.1 */
    ck_assert(ipv4_is_bad_source(0x7fffffffu));
    ck_assert(ipv4_is_bad_source(0xe0000001u));   /* 224.0.0.1 */
    ck_assert(ipv4_is_bad_source(0xefffffffu));   /* 239.255.255.255 */
    ck_assert(ipv4_is_bad_source(0xffffffffu));   /* limited broadcast */
    ck_assert(!ipv4_is_bad_source(0x0a000001u));  /* 10.0.0.1 */
    ck_assert(!ipv4_is_bad_source(0x01000000u));  /* 1.0.0.0 */
    ck_assert(!ipv4_is_bad_source(0x80000001u));  /* 128.0.0.1 */
    ck_assert(!ipv4_is_bad_source(0xdfffffffu));  /* 223.255.255.255 */
    ck_assert(!ipv4_is_bad_source(0xc0a80001u));
}
END_TEST

Suite *ipv4_suite(void)
{
    Suite *s = suite_create("ipv4");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, valid_header_fields_read_back);
    tcase_add_test(tc, shorter_than_20_is_ip_short);
    tcase_add_test(tc, version_6_is_not_ipv4);
    tcase_add_test(tc, empty_buffer_rejected);
    tcase_add_test(tc, ihl_below_5_is_ip_ihl);
    tcase_add_test(tc, ihl_past_the_packet_is_ip_ihl);
    tcase_add_test(tc, total_length_past_read_is_ip_total_len);
    tcase_add_test(tc, total_length_below_header_is_ip_total_len);
    tcase_add_test(tc, bad_checksum_is_ip_checksum);
    tcase_add_test(tc, more_fragments_flag_is_ip_fragment);
    tcase_add_test(tc, nonzero_fragment_offset_is_ip_fragment);
    tcase_add_test(tc, options_ihl_6_payload_after_options);
    tcase_add_test(tc, trailing_padding_ignored);
    suite_add_tcase(s, tc);
    TCase *tw = tcase_create("write");
    tcase_add_test(tw, write_header_exact_bytes_and_parses);
    tcase_add_test(tw, write_header_without_df);
    tcase_add_test(tw, bad_sources);
    suite_add_tcase(s, tw);
    return s;
}
