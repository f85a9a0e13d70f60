/*
 * test_ring.c -- the bounded byte ring behind TCP's send and receive
 * buffers: wrap-around, zero-copy slices, the bound, and freeing.
 */
#include <string.h>

#include "stack/ring.h"
#include "tests/unit/suites.h"

/* cap 8 holding "efghijk" from head 4: "efgh" at 4..7, "ijk" at 0..2. */
static void make_wrapped(struct ring *r)
{
    ring_init(r, 8);
    ck_assert_uint_eq(ring_write(r, "abcdef", 6), 6);
    ring_consume(r, 4);
    ck_assert_uint_eq(ring_write(r, "ghijk", 5), 5);
}

START_TEST(init_is_empty_and_unallocated)
{
    struct ring r;
    ring_init(&r, 100);
    ck_assert_ptr_null(r.buf);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_uint_eq(ring_space(&r), 100);
    char out[4];
    ck_assert_uint_eq(ring_peek(&r, 0, out, 4), 0);
    ring_free(&r);
}
END_TEST

START_TEST(write_peek_consume_across_wrap)
{
    struct ring r;
    make_wrapped(&r);
    ck_assert_uint_eq(r.len, 7);
    ck_assert_uint_eq(r.head, 4);
    ck_assert_uint_eq(ring_space(&r), 1);
    char out[8] = { 0 };
    ck_assert_uint_eq(ring_peek(&r, 0, out, 7), 7);
    ck_assert_mem_eq(out, "efghijk", 7);
    ck_assert_uint_eq(ring_peek(&r, 3, out, 3), 3);   /* "hij" straddles the wrap */
    ck_assert_mem_eq(out, "hij", 3);
    ring_consume(&r, 5);
    ck_assert_uint_eq(r.len, 2);
    ck_assert_uint_eq(r.head, 1);
    ck_assert_uint_eq(ring_peek(&r, 0, out, 8), 2);
    ck_assert_mem_eq(out, "jk", 2);
    ring_free(&r);
}
END_TEST

START_TEST(peek_truncates_to_held_bytes)
{
    struct ring r;
    make_wrapped(&r);
    char out[8];
    ck_assert_uint_eq(ring_peek(&r, 5, out, 10), 2);
    ck_assert_mem_eq(out, "jk", 2);
    ck_assert_uint_eq(ring_peek(&r, 7, out, 1), 0);
    ck_assert_uint_eq(ring_peek(&r, 100, out, 1), 0);
    ring_free(&r);
}
END_TEST

START_TEST(slices_two_across_wrap)
{
    struct ring r;
    make_wrapped(&r);
    struct slice s[2];
    ck_assert_int_eq(ring_slices(&r, 0, 7, s), 2);
    ck_assert_ptr_eq(s[0].data, r.buf + 4);
    ck_assert_uint_eq(s[0].len, 4);
    ck_assert_mem_eq(s[0].data, "efgh", 4);
    ck_assert_ptr_eq(s[1].data, r.buf);
    ck_assert_uint_eq(s[1].len, 3);
    ck_assert_mem_eq(s[1].data, "ijk", 3);

    ck_assert_int_eq(ring_slices(&r, 2, 3, s), 2);    /* "gh" + "i" */
    ck_assert_uint_eq(s[0].len, 2);
    ck_assert_uint_eq(s[1].len, 1);
    ck_assert_mem_eq(s[0].data, "gh", 2);
    ck_assert_mem_eq(s[1].data, "i", 1);
    ring_free(&r);
}
END_TEST

START_TEST(slices_one_when_contiguous)
{
    struct ring r;
    make_wrapped(&r);
    struct slice s[2];
    ck_assert_int_eq(ring_slices(&r, 1, 3, s), 1);    /* "fgh" ends at the edge */
    ck_assert_uint_eq(s[0].len, 3);
    ck_assert_mem_eq(s[0].data, "fgh", 3);
    ck_assert_int_eq(ring_slices(&r, 4, 3, s), 1);    /* "ijk" after the wrap */
    ck_assert_ptr_eq(s[0].data, r.buf);
    ck_assert_uint_eq(s[0].len, 3);
    ring_free(&r);
}
END_TEST

START_TEST(slices_zero_when_out_of_range)
{
    struct ring r;
    make_wrapped(&r);
    struct slice s[2];
    ck_assert_int_eq(ring_slices(&r, 0, 8, s), 0);
    ck_assert_int_eq(ring_slices(&r, 5, 3, s), 0);
    ck_assert_int_eq(ring_slices(&r, 8, 1, s), 0);
    ck_assert_int_eq(ring_slices(&r, 0, 0, s), 0);
    ck_assert_int_eq(ring_slices(&r, 0xffffffffu, 2, s), 0);
    ring_free(&r);
}
END_TEST

START_TEST(write_larger_than_space_truncated)
{
    struct ring r;
    ring_init(&r, 8);
    ck_assert_uint_eq(ring_write(&r, "0123456789", 10), 8);
    ck_assert_uint_eq(ring_space(&r), 0);
    ck_assert_uint_eq(ring_write(&r, "x", 1), 0);
    char out[8];
    ck_assert_uint_eq(ring_peek(&r, 0, out, 8), 8);
    ck_assert_mem_eq(out, "01234567", 8);
    ring_consume(&r, 3);
    ck_assert_uint_eq(ring_write(&r, "abcdef", 6), 3);   /* fills the wrap */
    ck_assert_uint_eq(ring_peek(&r, 0, out, 8), 8);
    ck_assert_mem_eq(out, "34567abc", 8);
    ring_free(&r);
}
END_TEST

START_TEST(consume_more_than_held_empties)
{
    struct ring r;
    make_wrapped(&r);
    ring_consume(&r, 100);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_uint_eq(ring_space(&r), 8);
    ck_assert_uint_eq(ring_write(&r, "12345678", 8), 8);
    char out[8];
    ck_assert_uint_eq(ring_peek(&r, 0, out, 8), 8);
    ck_assert_mem_eq(out, "12345678", 8);
    ring_free(&r);
}
END_TEST

START_TEST(free_releases_and_ring_is_reusable)
{
    struct ring r;
    make_wrapped(&r);
    ring_free(&r);
    ck_assert_ptr_null(r.buf);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_uint_eq(r.head, 0);
    ck_assert_uint_eq(r.cap, 8);
    ring_free(&r);                      /* twice is harmless */
    ck_assert_uint_eq(ring_write(&r, "zz", 2), 2);
    ck_assert_ptr_nonnull(r.buf);
    ring_free(&r);
}
END_TEST

Suite *ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("ring");
    tcase_add_test(tc, init_is_empty_and_unallocated);
    tcase_add_test(tc, write_peek_consume_across_wrap);
    tcase_add_test(tc, peek_truncates_to_held_bytes);
    tcase_add_test(tc, slices_two_across_wrap);
    tcase_add_test(tc, slices_one_when_contiguous);
    tcase_add_test(tc, slices_zero_when_out_of_range);
    tcase_add_test(tc, write_larger_than_space_truncated);
    tcase_add_test(tc, consume_more_than_held_empties);
    tcase_add_test(tc, free_releases_and_ring_is_reusable);
    suite_add_tcase(s, tc);
    return s;
}
