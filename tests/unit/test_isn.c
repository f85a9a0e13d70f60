/*
 * test_isn.c -- SipHash-2-4 against the reference vectors, and RFC 6528
 * ISNs: keyed per 4-tuple, moving with a 4 µs clock.
 */
#include "stack/isn.h"
#include "tests/unit/suites.h"

static const uint8_t key_ref[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                     0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
static const uint8_t key_other[16] = { 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 1 };

#define LADDR 0x0a000002u
#define RADDR 0x0a000001u

START_TEST(siphash_reference_15_bytes)
{
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    ck_assert_uint_eq(siphash24(key_ref, msg, 15), 0xa129ca6149be45e5ULL);
}
END_TEST

START_TEST(siphash_reference_empty)
{
    uint8_t none[1] = { 0 };
    ck_assert_uint_eq(siphash24(key_ref, none, 0), 0x726fdb47dd0e0e31ULL);
}
END_TEST

START_TEST(siphash_reference_8_and_16_bytes)
{
    /* Whole 8-byte blocks only: vectors 8 and 16 of the reference set. */
    uint8_t msg[16];
    for (int i = 0; i < 16; i++)
        msg[i] = (uint8_t)i;
    ck_assert_uint_eq(siphash24(key_ref, msg, 8), 0x93f5f5799a932462ULL);
    ck_assert_uint_eq(siphash24(key_ref, msg, 16), 0x3f2acc7f57c29bdbULL);
}
END_TEST

START_TEST(isn_deterministic_for_fixed_key)
{
    usec_t now = 123456789;
    uint32_t a = isn_generate(key_ref, LADDR, 80, RADDR, 40000, now);
    uint32_t b = isn_generate(key_ref, LADDR, 80, RADDR, 40000, now);
    ck_assert_uint_eq(a, b);
}
END_TEST

START_TEST(isn_differs_per_tuple)
{
    usec_t now = 5 * USEC_PER_SEC;
    uint32_t base = isn_generate(key_ref, LADDR, 80, RADDR, 40000, now);
    ck_assert_uint_ne(base, isn_generate(key_ref, LADDR, 80, RADDR, 40001, now));
    ck_assert_uint_ne(base, isn_generate(key_ref, LADDR, 80, RADDR + 1, 40000, now));
    ck_assert_uint_ne(base, isn_generate(key_ref, LADDR, 81, RADDR, 40000, now));
    ck_assert_uint_ne(base, isn_generate(key_ref, LADDR + 1, 80, RADDR, 40000, now));
    /* Swapping the ends is another tuple. */
    ck_assert_uint_ne(base, isn_generate(key_ref, RADDR, 40000, LADDR, 80, now));
}
END_TEST

START_TEST(isn_advances_250000_per_second)
{
    usec_t t0 = 7 * USEC_PER_SEC;
    uint32_t a = isn_generate(key_ref, LADDR, 80, RADDR, 40000, t0);
    uint32_t b = isn_generate(key_ref, LADDR, 80, RADDR, 40000, t0 + USEC_PER_SEC);
    uint32_t c = isn_generate(key_ref, LADDR, 80, RADDR, 40000, t0 + 4);
    uint32_t d = isn_generate(key_ref, LADDR, 80, RADDR, 40000, t0 + 3);
    ck_assert_uint_eq((uint32_t)(b - a), 250000);
    ck_assert_uint_eq((uint32_t)(c - a), 1);
    ck_assert_uint_eq((uint32_t)(d - a), 0);
    /* The 4 µs clock wraps the 32-bit space after 2^34 µs. */
    uint32_t w = isn_generate(key_ref, LADDR, 80, RADDR, 40000, t0 + (1ULL << 34));
    ck_assert_uint_eq(w, a);
}
END_TEST

START_TEST(isn_differs_with_another_key)
{
    usec_t now = 42;
    ck_assert_uint_ne(isn_generate(key_ref, LADDR, 80, RADDR, 40000, now),
                      isn_generate(key_other, LADDR, 80, RADDR, 40000, now));
}
END_TEST

START_TEST(ts_offset_differs_from_isn_keyed_part)
{
    /* At now = 0 the ISN is its keyed part F alone. */
    uint32_t f = isn_generate(key_ref, LADDR, 80, RADDR, 40000, 0);
    uint32_t off = isn_ts_offset(key_ref, LADDR, 80, RADDR, 40000);
    ck_assert_uint_ne(off, f);
    ck_assert_uint_eq(off, isn_ts_offset(key_ref, LADDR, 80, RADDR, 40000));
    ck_assert_uint_ne(off, isn_ts_offset(key_ref, LADDR, 80, RADDR, 40001));
}
END_TEST

Suite *isn_suite(void)
{
    Suite *s = suite_create("isn");
    TCase *tc = tcase_create("siphash");
    tcase_add_test(tc, siphash_reference_15_bytes);
    tcase_add_test(tc, siphash_reference_empty);
    tcase_add_test(tc, siphash_reference_8_and_16_bytes);
    suite_add_tcase(s, tc);
    TCase *ti = tcase_create("rfc6528");
    tcase_add_test(ti, isn_deterministic_for_fixed_key);
    tcase_add_test(ti, isn_differs_per_tuple);
    tcase_add_test(ti, isn_advances_250000_per_second);
    tcase_add_test(ti, isn_differs_with_another_key);
    tcase_add_test(ti, ts_offset_differs_from_isn_keyed_part);
    suite_add_tcase(s, ti);
    return s;
}
