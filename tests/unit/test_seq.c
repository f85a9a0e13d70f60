/*
 * test_seq.c -- sequence-number comparisons modulo 2^32 (RFC 9293 §3.4).
 */
#include "stack/seq.h"
#include "tests/unit/suites.h"

START_TEST(plain_order_without_wrap)
{
    ck_assert(seq_lt(1, 2));
    ck_assert(!seq_lt(2, 1));
    ck_assert(!seq_lt(5, 5));
    ck_assert(seq_leq(5, 5));
    ck_assert(seq_gt(2, 1));
    ck_assert(seq_geq(5, 5));
    ck_assert(!seq_gt(5, 5));
}
END_TEST

START_TEST(wraparound_fffffff0_before_10)
{
    ck_assert(seq_lt(0xfffffff0u, 0x10u));
    ck_assert(seq_leq(0xfffffff0u, 0x10u));
    ck_assert(!seq_gt(0xfffffff0u, 0x10u));
    ck_assert(!seq_geq(0xfffffff0u, 0x10u));
    ck_assert(seq_gt(0x10u, 0xfffffff0u));
    ck_assert(seq_geq(0x10u, 0xfffffff0u));
    ck_assert(!seq_lt(0x10u, 0xfffffff0u));
    ck_assert(seq_lt(0xffffffffu, 0u));
    ck_assert_int_eq(seq_diff(0x10u, 0xfffffff0u), 0x20);
    ck_assert_int_eq(seq_diff(0xfffffff0u, 0x10u), -0x20);
}
END_TEST

START_TEST(distance_2_pow_31_edge)
{
    /* 2^31 - 1 ahead is still "after"; 2^31 is the ambiguous point, where
     * the signed difference is INT32_MIN and a reads as before b both ways. */
    ck_assert(seq_gt(0x7fffffffu, 0u));
    ck_assert(seq_lt(0u, 0x7fffffffu));
    ck_assert(seq_lt(0x80000000u, 0u));
    ck_assert(seq_lt(0u, 0x80000000u));
    ck_assert(seq_gt(0x80000001u + 0x7fffffffu, 0x80000001u));   /* wraps to 0 */
    ck_assert(seq_lt(0x80000001u, 0u));
    ck_assert(seq_gt(0u, 0x80000001u));
}
END_TEST

START_TEST(in_window_across_wrap)
{
    uint32_t lo = 0xfffffff0u, hi = 0x10u;   /* a 32-byte window over the wrap */
    ck_assert(seq_in_window(0xfffffff0u, lo, hi));   /* left edge inclusive */
    ck_assert(seq_in_window(0xffffffffu, lo, hi));
    ck_assert(seq_in_window(0u, lo, hi));
    ck_assert(seq_in_window(0x0fu, lo, hi));
    ck_assert(!seq_in_window(0x10u, lo, hi));        /* right edge exclusive */
    ck_assert(!seq_in_window(0xffffffefu, lo, hi));
    ck_assert(!seq_in_window(0x11u, lo, hi));
    ck_assert(!seq_in_window(5u, 5u, 5u));           /* empty window */
}
END_TEST

START_TEST(max_min_across_wrap)
{
    ck_assert_uint_eq(seq_max(0xfffffff0u, 0x10u), 0x10u);
    ck_assert_uint_eq(seq_max(0x10u, 0xfffffff0u), 0x10u);
    ck_assert_uint_eq(seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
    ck_assert_uint_eq(seq_min(0x10u, 0xfffffff0u), 0xfffffff0u);
    ck_assert_uint_eq(seq_max(3u, 7u), 7u);
    ck_assert_uint_eq(seq_min(3u, 7u), 3u);
    ck_assert_uint_eq(seq_max(9u, 9u), 9u);
}
END_TEST

Suite *seq_suite(void)
{
    Suite *s = suite_create("seq");
    TCase *tc = tcase_create("mod2^32");
    tcase_add_test(tc, plain_order_without_wrap);
    tcase_add_test(tc, wraparound_fffffff0_before_10);
    tcase_add_test(tc, distance_2_pow_31_edge);
    tcase_add_test(tc, in_window_across_wrap);
    tcase_add_test(tc, max_min_across_wrap);
    suite_add_tcase(s, tc);
    return s;
}
