/*
 * test_checksum.c -- RFC 1071 Internet checksum: the RFC's own example,
 * odd lengths, a real IPv4 header, the TCP pseudo-header, and incremental
 * sums over split buffers.
 */
#include <string.h>

#include "stack/checksum.h"
#include "tests/unit/suites.h"

/* A plain reference: 64-bit accumulator, fold at the end. */
static uint16_t ref_checksum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

START_TEST(rfc1071_example_sum_ddf2_checksum_220d)
{
    /* RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
    static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    uint32_t sum = csum_add(0, b, sizeof b);
    ck_assert_uint_eq((uint16_t)~csum_fold(sum), 0xddf2);
    ck_assert_uint_eq(csum_fold(sum), 0x220d);
    ck_assert_uint_eq(csum_buffer(b, sizeof b), 0x220d);
}
END_TEST

START_TEST(odd_length_pads_last_byte_with_zero)
{
    static const uint8_t b[] = { 0x01, 0x02, 0x03 };
    /* 0x0102 + 0x0300 = 0x0402 -> ~ = 0xfbfd */
    ck_assert_uint_eq(csum_buffer(b, sizeof b), 0xfbfd);
    static const uint8_t one[] = { 0xab };
    ck_assert_uint_eq(csum_buffer(one, 1), (uint16_t)~0xab00);
}
END_TEST

START_TEST(empty_buffer_checksum_is_ffff)
{
    ck_assert_uint_eq(csum_buffer("", 0), 0xffff);
}
END_TEST

START_TEST(real_ipv4_header_verifies_to_zero)
{
    static const uint8_t h[20] = { 0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00,
                                   0x40, 0x06, 0xb1, 0xe6, 0xac, 0x10, 0x0a, 0x63,
                                   0xac, 0x10, 0x0a, 0x0c };
    ck_assert_uint_eq(csum_buffer(h, sizeof h), 0);
    /* With the checksum field zeroed, the computed value is the one on the wire. */
    uint8_t z[20];
    memcpy(z, h, sizeof z);
    z[10] = z[11] = 0;
    ck_assert_uint_eq(csum_buffer(z, sizeof z), 0xb1e6);
}
END_TEST

START_TEST(pseudo_header_values)
{
    /* 10.0.0.1 -> 10.0.0.2, TCP, 20 bytes: 0a00+0001+0a00+0002+0006+0014 = 141d */
    ck_assert_uint_eq(csum_fold(csum_pseudo(0x0a000001u, 0x0a000002u, 6, 20)),
                      (uint16_t)~0x141d);
    /* All-ones fields exercise the carries: 5*ffff + 6 folds to 0006. */
    ck_assert_uint_eq(csum_fold(csum_pseudo(0xffffffffu, 0xffffffffu, 6, 0xffff)),
                      (uint16_t)~0x0006);
    /* 192.168.1.10 -> 172.16.0.1, proto 17, len 0x1234:
     * c0a8+010a+ac10+0001+0011+1234 = 0x18008 -> 0x8009 */
    ck_assert_uint_eq(csum_fold(csum_pseudo(0xc0a8010au, 0xac100001u, 17, 0x1234)),
                      (uint16_t)~0x8009);
}
END_TEST

START_TEST(split_at_even_boundary_equals_one_call)
{
    uint8_t b[64];
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)(i * 37 + 11);
    uint16_t whole = csum_fold(csum_add(0, b, sizeof b));
    ck_assert_uint_eq(whole, ref_checksum(b, sizeof b));
    for (size_t cut = 0; cut <= sizeof b; cut += 2) {
        uint32_t s = csum_add(csum_add(0, b, cut), b + cut, sizeof b - cut);
        ck_assert_uint_eq(csum_fold(s), whole);
    }
    /* Odd total length, odd piece last. */
    uint32_t s = csum_add(csum_add(0, b, 10), b + 10, 33);
    ck_assert_uint_eq(csum_fold(s), ref_checksum(b, 43));
}
END_TEST

START_TEST(large_buffer_matches_reference)
{
    /* 128 KiB of 0xff..: enough words to overflow 32 bits without folding. */
    static uint8_t big[131072 + 1];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(0xff - (i & 0x0f));
    ck_assert_uint_eq(csum_buffer(big, sizeof big), ref_checksum(big, sizeof big));
    ck_assert_uint_eq(csum_buffer(big, sizeof big - 1), ref_checksum(big, sizeof big - 1));
}
END_TEST

/* The word-at-a-time loop against the byte-at-a-time reference: every
 * start alignment, every length up to 300, and random contents (a fixed
 * LCG, so a failure repeats), as one call and as two even-cut pieces. */
START_TEST(unaligned_random_buffers_match_reference)
{
    static uint8_t buf[320];
    uint32_t x = 12345;
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        if (round == 0)
            memset(buf, 0xff, sizeof buf);  /* the carries at their largest */
        for (size_t start = 0; start < 8; start++)
            for (size_t len = 0; len <= 300; len++) {
                const uint8_t *p = buf + start;
                ck_assert_uint_eq(csum_buffer(p, len), ref_checksum(p, len));
                size_t cut = (len / 3) & ~(size_t)1;
                uint32_t s = csum_add(csum_add(0, p, cut), p + cut, len - cut);
                ck_assert_uint_eq(csum_fold(s), ref_checksum(p, len));
            }
    }
}
END_TEST

Suite *checksum_suite(void)
{
    Suite *s = suite_create("checksum");
    TCase *tc = tcase_create("rfc1071");
    tcase_add_test(tc, rfc1071_example_sum_ddf2_checksum_220d);
    tcase_add_test(tc, odd_length_pads_last_byte_with_zero);
    tcase_add_test(tc, empty_buffer_checksum_is_ffff);
    tcase_add_test(tc, real_ipv4_header_verifies_to_zero);
    tcase_add_test(tc, pseudo_header_values);
    tcase_add_test(tc, split_at_even_boundary_equals_one_call);
    tcase_add_test(tc, large_buffer_matches_reference);
    tcase_add_test(tc, unaligned_random_buffers_match_reference);
    suite_add_tcase(s, tc);
    return s;
}
