/*
 * test_ring.c -- the bounded byte ring behind TCP's send and receive
 * buffers: wrap-around, zero-copy slices, the bound, releasing, and the
 * pool that lends first buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "stack/ring.h"
#include "tests/unit/suites.h"

/* cap 8 holding "efghijk" from head 4: "efgh" at 4..7, "ijk" at 0..2. */
static void make_wrapped(struct ring *r)
{
    ring_init(r, 8);
    ck_assert_uint_eq(ring_write(r, NULL, "abcdef", 6), 6);
    ring_consume(r, 4);
    ck_assert_uint_eq(ring_write(r, NULL, "ghijk", 5), 5);
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
    ring_release(&r, NULL);
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
    ring_release(&r, NULL);
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
    ring_release(&r, NULL);
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
    ring_release(&r, NULL);
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
    ring_release(&r, NULL);
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
    ring_release(&r, NULL);
}
END_TEST

START_TEST(write_larger_than_space_truncated)
{
    struct ring r;
    ring_init(&r, 8);
    ck_assert_uint_eq(ring_write(&r, NULL, "0123456789", 10), 8);
    ck_assert_uint_eq(ring_space(&r), 0);
    ck_assert_uint_eq(ring_write(&r, NULL, "x", 1), 0);
    char out[8];
    ck_assert_uint_eq(ring_peek(&r, 0, out, 8), 8);
    ck_assert_mem_eq(out, "01234567", 8);
    ring_consume(&r, 3);
    ck_assert_uint_eq(ring_write(&r, NULL, "abcdef", 6), 3);   /* fills the wrap */
    ck_assert_uint_eq(ring_peek(&r, 0, out, 8), 8);
    ck_assert_mem_eq(out, "34567abc", 8);
    ring_release(&r, NULL);
}
END_TEST

START_TEST(consume_more_than_held_empties)
{
    struct ring r;
    make_wrapped(&r);
    ring_consume(&r, 100);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_uint_eq(ring_space(&r), 8);
    ck_assert_uint_eq(ring_write(&r, NULL, "12345678", 8), 8);
    char out[8];
    ck_assert_uint_eq(ring_peek(&r, 0, out, 8), 8);
    ck_assert_mem_eq(out, "12345678", 8);
    ring_release(&r, NULL);
}
END_TEST

START_TEST(release_empties_and_ring_is_reusable)
{
    struct ring r;
    make_wrapped(&r);
    ring_release(&r, NULL);
    ck_assert_ptr_null(r.buf);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_uint_eq(r.head, 0);
    ck_assert_uint_eq(r.cap, 8);
    ring_release(&r, NULL);                      /* twice is harmless */
    ck_assert_uint_eq(ring_write(&r, NULL, "zz", 2), 2);
    ck_assert_ptr_nonnull(r.buf);
    ring_release(&r, NULL);
}
END_TEST

static bool in_pool(const struct ring_pool *p, const uint8_t *b)
{
    for (int i = 0; i < RING_POOL_MAX; i++)
        if (b == p->slot[i])
            return true;
    return false;
}

/* An empty pool (zeroed, as inside a stack) and an empty ring of cap bytes. */
static struct ring_pool *pool_and_ring(struct ring *r, uint32_t cap)
{
    struct ring_pool *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    ring_init(r, cap);
    return p;
}

START_TEST(pool_lends_first_buffer_and_takes_it_back)
{
    struct ring r;
    struct ring_pool *p = pool_and_ring(&r, 64 * 1024);
    ck_assert_uint_eq(ring_write(&r, p, "GET / HTTP/1.1", 14), 14);
    ck_assert_ptr_eq(r.buf, p->slot[0]);
    ck_assert_uint_eq(r.alloc, RING_INITIAL_ALLOC);
    ck_assert_uint_eq(p->lent, 1);
    ring_consume(&r, 14);
    ring_release(&r, p);
    ck_assert_ptr_null(r.buf);
    ck_assert_uint_eq(r.alloc, 0);
    ck_assert_uint_eq(r.cap, 64 * 1024);
    ck_assert_uint_eq(p->lent, 0);
    ck_assert_uint_eq(p->nreturned, 1);
    /* The next request gets the same (warm) slot, not a fresh one. */
    ck_assert_uint_eq(ring_write(&r, p, "x", 1), 1);
    ck_assert_ptr_eq(r.buf, p->slot[0]);
    ck_assert_uint_eq(p->fresh, 1);
    ck_assert_uint_eq(p->misses, 0);
    ring_release(&r, p);
    free(p);
}
END_TEST

START_TEST(growth_returns_the_slot_and_keeps_bytes)
{
    struct ring r;
    struct ring_pool *p = pool_and_ring(&r, 64 * 1024);
    static uint8_t big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    ck_assert_uint_eq(ring_write(&r, p, "ab", 2), 2);
    ck_assert_uint_eq(ring_write(&r, p, big, sizeof big), sizeof big);
    ck_assert_uint_eq(r.alloc, 2 * RING_INITIAL_ALLOC);   /* 5002 bytes: doubled once */
    ck_assert(!in_pool(p, r.buf));
    ck_assert_uint_eq(p->lent, 0);
    ck_assert_uint_eq(p->nreturned, 1);
    static uint8_t out[5002];
    ck_assert_uint_eq(ring_peek(&r, 0, out, sizeof out), sizeof out);
    ck_assert_mem_eq(out, "ab", 2);
    ck_assert_mem_eq(out + 2, big, sizeof big);
    ring_release(&r, p);                  /* malloc'd: freed, not pooled */
    ck_assert_uint_eq(p->nreturned, 1);
    free(p);
}
END_TEST

START_TEST(small_cap_ring_uses_a_slot_within_its_cap)
{
    struct ring r;
    struct ring_pool *p = pool_and_ring(&r, 1024);
    ck_assert_uint_eq(ring_write(&r, p, "abc", 3), 3);
    ck_assert_ptr_eq(r.buf, p->slot[0]);
    ck_assert_uint_eq(r.alloc, 1024);
    ring_release(&r, p);
    ck_assert_uint_eq(p->lent, 0);
    free(p);
}
END_TEST

START_TEST(pool_bound_then_malloc)
{
    struct ring_pool *p = calloc(1, sizeof *p);
    static struct ring rs[RING_POOL_MAX + 1];
    for (int i = 0; i < RING_POOL_MAX; i++) {
        ring_init(&rs[i], 8192);
        ck_assert_uint_eq(ring_write(&rs[i], p, "y", 1), 1);
        ck_assert_ptr_eq(rs[i].buf, p->slot[i]);
    }
    ck_assert_uint_eq(p->lent, RING_POOL_MAX);
    ck_assert_uint_eq(p->misses, 0);
    /* One more: every slot is lent, so malloc serves it and it is counted. */
    ring_init(&rs[RING_POOL_MAX], 8192);
    ck_assert_uint_eq(ring_write(&rs[RING_POOL_MAX], p, "z", 1), 1);
    ck_assert(!in_pool(p, rs[RING_POOL_MAX].buf));
    ck_assert_uint_eq(p->misses, 1);
    ck_assert_uint_eq(p->lent, RING_POOL_MAX);
    for (int i = 0; i <= RING_POOL_MAX; i++)
        ring_release(&rs[i], p);
    ck_assert_uint_eq(p->lent, 0);
    ck_assert_uint_eq(p->nreturned, RING_POOL_MAX);   /* the malloc'd one was freed */
    free(p);
}
END_TEST

START_TEST(write_ahead_borrows_and_commit_keeps_it)
{
    struct ring r;
    struct ring_pool *p = pool_and_ring(&r, 64 * 1024);
    ck_assert(ring_write_ahead(&r, p, 3, "def", 3));
    ck_assert_ptr_eq(r.buf, p->slot[0]);
    ck_assert_uint_eq(r.len, 0);          /* held ahead, not yet counted */
    ck_assert_uint_eq(ring_write(&r, p, "abc", 3), 3);
    ring_commit(&r, 3);
    char out[6];
    ck_assert_uint_eq(ring_peek(&r, 0, out, 6), 6);
    ck_assert_mem_eq(out, "abcdef", 6);
    ring_release(&r, p);
    free(p);
}
END_TEST

/* The free space after what is held, filled in place: one area when it
 * does not wrap, two when it does, and what is committed reads back in
 * order.  cap 8 holding "cd" at 2..3: free is 4..7 then 0..1. */
START_TEST(areas_fill_in_place_across_wrap)
{
    struct ring r;
    struct ring_area a[2];
    ring_init(&r, 8);
    ck_assert_uint_eq(ring_write(&r, NULL, "abcd", 4), 4);
    ring_consume(&r, 2);
    ck_assert_int_eq(ring_areas(&r, NULL, 3, a), 1);      /* fits before the end */
    ck_assert_ptr_eq(a[0].data, r.buf + 4);
    ck_assert_uint_eq(a[0].len, 3);
    ck_assert_int_eq(ring_areas(&r, NULL, 100, a), 2);    /* all 6 free bytes */
    ck_assert_uint_eq(a[0].len, 4);
    ck_assert_ptr_eq(a[1].data, r.buf);
    ck_assert_uint_eq(a[1].len, 2);
    memcpy(a[0].data, "efgh", 4);
    memcpy(a[1].data, "ij", 2);
    ring_commit(&r, 6);
    char out[8];
    ck_assert_uint_eq(ring_peek(&r, 0, out, sizeof out), 8);
    ck_assert_mem_eq(out, "cdefghij", 8);
    ck_assert_int_eq(ring_areas(&r, NULL, 1, a), 0);      /* full */
    ring_consume(&r, 2);
    ring_commit(&r, 100);                                 /* never past the buffer */
    ck_assert_uint_eq(r.len, 8);
    ring_release(&r, NULL);
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
    tcase_add_test(tc, release_empties_and_ring_is_reusable);
    tcase_add_test(tc, pool_lends_first_buffer_and_takes_it_back);
    tcase_add_test(tc, growth_returns_the_slot_and_keeps_bytes);
    tcase_add_test(tc, small_cap_ring_uses_a_slot_within_its_cap);
    tcase_add_test(tc, pool_bound_then_malloc);
    tcase_add_test(tc, write_ahead_borrows_and_commit_keeps_it);
    tcase_add_test(tc, areas_fill_in_place_across_wrap);
    suite_add_tcase(s, tc);
    return s;
}
