/*
 * test_counters.c -- the counter report: only non-zero counters, by name,
 * never past the buffer; and the drop-reason names.
 */
#include <string.h>

#include "stack/counters.h"
#include "tests/unit/suites.h"

START_TEST(format_all_zero_prints_headings_only)
{
    struct stack_counters c;
    memset(&c, 0, sizeof c);
    char buf[256];
    size_t n = counters_format(&c, buf, sizeof buf);
    ck_assert_str_eq(buf, "events:\ndrops:\n");
    ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(format_exact_lines_for_nonzero)
{
    struct stack_counters c;
    memset(&c, 0, sizeof c);
    c.events[EV_PKT_IN] = 3;
    c.drops[DROP_TCP_CHECKSUM] = 2;
    char buf[512];
    size_t n = counters_format(&c, buf, sizeof buf);
    ck_assert_str_eq(buf,
                     "events:\n"
                     "           3  packets received\n"
                     "drops:\n"
                     "           2  TCP_CHECKSUM           TCP: bad checksum\n");
    ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(format_includes_nonzero_omits_zero)
{
    struct stack_counters c;
    memset(&c, 0, sizeof c);
    c.events[EV_TCP_RETRANSMITS] = 12345678901ULL;
    c.drops[DROP_IP_FRAGMENT] = 1;
    c.drops[DROP_TCP_CHALLENGE_LIMIT] = 7;
    char buf[2048];
    counters_format(&c, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "12345678901  segments retransmitted\n"));
    ck_assert_ptr_nonnull(strstr(buf, "IP_FRAGMENT"));
    ck_assert_ptr_nonnull(strstr(buf, "TCP_CHALLENGE_LIMIT"));
    ck_assert_ptr_null(strstr(buf, "IP_SHORT"));
    ck_assert_ptr_null(strstr(buf, "NOT_IPV4"));
    ck_assert_ptr_null(strstr(buf, "packets received"));
    ck_assert_ptr_null(strstr(buf, "TCP_CHECKSUM"));
    /* Drops come in enum order. */
    ck_assert(strstr(buf, "IP_FRAGMENT") < strstr(buf, "TCP_CHALLENGE_LIMIT"));
}
END_TEST

/* Fills every counter so the report is long; formats into cap bytes of a
 * larger buffer and checks nothing past cap was touched. */
static void check_small_buffer(size_t cap)
{
    struct stack_counters c;
    for (int i = 0; i < EV__COUNT; i++)
        c.events[i] = 1000 + (uint64_t)i;
    for (int i = 0; i < DROP__COUNT; i++)
        c.drops[i] = 1;
    char buf[64];
    memset(buf, 'G', sizeof buf);
    size_t n = counters_format(&c, buf, cap);
    for (size_t i = cap; i < sizeof buf; i++)
        ck_assert_msg(buf[i] == 'G', "byte %zu past cap %zu was written", i, cap);
    if (cap > 0) {
        ck_assert_uint_eq(strnlen(buf, cap), n);
        ck_assert_uint_lt(n, cap);
    } else {
        ck_assert_uint_eq(n, 0);
    }
}

START_TEST(format_never_overruns_cap_16)
{
    check_small_buffer(16);
    char buf[16];
    struct stack_counters c;
    memset(&c, 0, sizeof c);
    c.events[EV_PKT_OUT] = 5;
    ck_assert_uint_eq(counters_format(&c, buf, sizeof buf), 15);
    ck_assert_str_eq(buf, "events:\n       ");
}
END_TEST

START_TEST(format_never_overruns_cap_1)
{
    check_small_buffer(1);
    char buf[1] = { 'x' };
    struct stack_counters c;
    memset(&c, 0, sizeof c);
    ck_assert_uint_eq(counters_format(&c, buf, 1), 0);
    ck_assert_int_eq(buf[0], '\0');
}
END_TEST

START_TEST(format_cap_0_writes_nothing)
{
    check_small_buffer(0);
}
END_TEST

START_TEST(format_other_caps_never_overrun)
{
    for (size_t cap = 2; cap < 64; cap++)
        check_small_buffer(cap);
}
END_TEST

START_TEST(bound_logged_on_powers_of_two)
{
    int logged[12] = { 0 }, n = 0;
    for (uint64_t i = 0; i <= 1024 && n < 12; i++)
        if (counter_log_due(i))
            logged[n++] = (int)i;
    static const int want[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 };
    ck_assert_int_eq(n, 11);
    ck_assert_mem_eq(logged, want, sizeof want);
    ck_assert(!counter_log_due(0));
    ck_assert(counter_log_due(1ULL << 40));
    ck_assert(!counter_log_due((1ULL << 40) + 1));
}
END_TEST

START_TEST(drop_reason_names)
{
    ck_assert_str_eq(drop_reason_name(DROP_NOT_IPV4), "NOT_IPV4");
    ck_assert_str_eq(drop_reason_name(DROP_IP_CHECKSUM), "IP_CHECKSUM");
    ck_assert_str_eq(drop_reason_name(DROP_TCP_CHALLENGE_LIMIT), "TCP_CHALLENGE_LIMIT");
    ck_assert_str_eq(drop_reason_name(DROP__COUNT), "?");
    ck_assert_str_eq(drop_reason_text(DROP_IP_FRAGMENT), "IPv4: fragment (reassembly not supported)");
    ck_assert_str_eq(drop_reason_text(DROP__COUNT), "?");
    ck_assert_str_eq(stack_event_text(EV_TCP_TIME_WAIT_REUSE), "TIME-WAIT connections reused by a new SYN");
    ck_assert_str_eq(stack_event_text(EV__COUNT), "?");
}
END_TEST

Suite *counters_suite(void)
{
    Suite *s = suite_create("counters");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, format_all_zero_prints_headings_only);
    tcase_add_test(tc, format_exact_lines_for_nonzero);
    tcase_add_test(tc, format_includes_nonzero_omits_zero);
    tcase_add_test(tc, format_never_overruns_cap_16);
    tcase_add_test(tc, format_never_overruns_cap_1);
    tcase_add_test(tc, format_cap_0_writes_nothing);
    tcase_add_test(tc, format_other_caps_never_overrun);
    tcase_add_test(tc, drop_reason_names);
    tcase_add_test(tc, bound_logged_on_powers_of_two);
    suite_add_tcase(s, tc);
    return s;
}
