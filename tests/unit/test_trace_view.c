/*
 * test_trace_view.c -- the trace as data, on its way to GET /trace: the
 * bounded ring that keeps records (tun/trace_ring.c) and the page that
 * draws them as ladder diagrams (http/ladder.c), fed with hand-made
 * records so every state and number on the page is known in advance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ladder.h"
#include "stack/tcp_header.h"
#include "tests/unit/suites.h"
#include "tun/trace_ring.h"

#define CLIENT 0x0a000001u
#define SERVER 0x0a000002u

/* --- the ring -------------------------------------------------------------- */

static struct trace_record event(usec_t now, const char *what)
{
    return (struct trace_record){.kind = TRACE_EVENT, .now = now, .what = what};
}

START_TEST(ring_keeps_the_newest_in_order)
{
    struct trace_ring *r = trace_ring_new(3);
    char what[24];
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(trace_ring_count(r), 0);
    ck_assert_ptr_null(trace_ring_get(r, 0));
    for (int i = 0; i < 5; i++) {
        snprintf(what, sizeof what, "e%d", i);
        struct trace_record e = event((usec_t)i, what);
        trace_ring_push(r, &e);
    }
    ck_assert_uint_eq(trace_ring_count(r), 3);
    for (size_t i = 0; i < 3; i++) {
        const struct trace_record *got = trace_ring_get(r, i);
        snprintf(what, sizeof what, "e%zu", i + 2);
        ck_assert_uint_eq(got->now, i + 2);
        ck_assert_str_eq(got->what, what); /* its own copy, not the caller's buffer */
    }
    ck_assert_ptr_null(trace_ring_get(r, 3));
    trace_ring_free(r);
}
END_TEST

START_TEST(ring_bounds)
{
    char long_what[300];
    memset(long_what, 'x', sizeof long_what - 1);
    long_what[sizeof long_what - 1] = '\0';
    ck_assert_ptr_null(trace_ring_new(0));
    ck_assert_ptr_null(trace_ring_new(TRACE_RING_MAX + 1));
    struct trace_ring *r = trace_ring_new(1);
    struct trace_record e = event(1, long_what);
    trace_ring_push(r, &e);
    ck_assert_uint_eq(strlen(trace_ring_get(r, 0)->what), TRACE_RING_WHAT_LEN - 1);
    trace_ring_push(NULL, &e); /* no ring: nothing happens */
    ck_assert_uint_eq(trace_ring_count(NULL), 0);
    trace_ring_free(r);
}
END_TEST

/* --- the ladder ------------------------------------------------------------- */

static struct trace_record recs[400];
static size_t nrecs;

static size_t host_count(void *ctx) { (void)ctx; return nrecs; }
static const struct trace_record *host_get(void *ctx, size_t i)
{
    (void)ctx;
    return i < nrecs ? &recs[i] : NULL;
}

static const struct http_host host = {.trace_count = host_count, .trace_get = host_get};

/* A segment of the connection from port, in (from the client) or out. */
static void seg(uint16_t port, bool in, uint8_t flags, uint32_t rel_seq, uint32_t rel_ack,
                uint32_t len, const char *state)
{
    struct trace_record *r = &recs[nrecs++];
    *r = (struct trace_record){.kind = in ? TRACE_SEG_IN : TRACE_SEG_OUT, .now = nrecs * 10,
                               .src = in ? CLIENT : SERVER, .dst = in ? SERVER : CLIENT,
                               .sport = in ? port : 80, .dport = in ? 80 : port,
                               .has_segment = true, .flags = flags, .rel_seq = rel_seq,
                               .rel_ack = rel_ack, .len = len, .state = state};
}

static void change(uint16_t port, const char *from, const char *to, bool by_segment)
{
    struct trace_record *r = &recs[nrecs++];
    *r = (struct trace_record){.kind = TRACE_STATE, .now = nrecs * 10, .src = CLIENT,
                               .dst = SERVER, .sport = port, .dport = 80,
                               .has_segment = by_segment, .state = from, .new_state = to,
                               .what = by_segment ? NULL : "close() by the application",
                               .rfc = "RFC 9293 §3.10.7.4", .file = "stack/tcp_input.c",
                               .line = 44};
}

/* The lab's connection: handshake, request, response, synack closes first. */
static void lab_connection(uint16_t port)
{
    seg(port, true, TCP_SYN, 0, 0, 0, NULL);
    change(port, "LISTEN", "SYN-RECEIVED", true);
    seg(port, false, TCP_SYN | TCP_ACK, 0, 1, 0, "SYN-RECEIVED");
    seg(port, true, TCP_ACK, 1, 1, 0, "SYN-RECEIVED");
    change(port, "SYN-RECEIVED", "ESTABLISHED", true);
    seg(port, true, TCP_PSH | TCP_ACK, 1, 1, 78, "ESTABLISHED");
    change(port, "ESTABLISHED", "FIN-WAIT-1", false);
    seg(port, false, TCP_FIN | TCP_PSH | TCP_ACK, 1, 79, 500, "FIN-WAIT-1");
    seg(port, true, TCP_ACK, 79, 502, 0, "FIN-WAIT-1");
    change(port, "FIN-WAIT-1", "FIN-WAIT-2", true);
    seg(port, true, TCP_FIN | TCP_ACK, 79, 502, 0, "FIN-WAIT-2");
    change(port, "FIN-WAIT-2", "TIME-WAIT", true);
    seg(port, false, TCP_ACK, 502, 80, 0, "TIME-WAIT");
}

static char *page_for(uint16_t asker)
{
    char *page = NULL;
    size_t n = http_ladder_page(&host, CLIENT, asker, &page);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(strlen(page), n);
    return page;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

START_TEST(ladder_draws_both_sides)
{
    nrecs = 0;
    lab_connection(50093);
    char *page = page_for(50093);
    ck_assert_int_eq(count(page, "<svg class=\"in"), 5);
    ck_assert_int_eq(count(page, "<svg class=\"out"), 3);
    ck_assert_ptr_nonnull(strstr(page, "[SYN, ACK] Seq=0 Ack=1 Len=0"));
    ck_assert_ptr_nonnull(strstr(page, "[FIN, PSH, ACK] Seq=1 Ack=79 Len=500"));
    ck_assert_ptr_nonnull(strstr(page, "the connection that fetched this page"));
    /* The client's states, inferred: SYN-SENT, ESTABLISHED, then after our
     * FIN CLOSE-WAIT, its own FIN LAST-ACK, our ACK of it CLOSED. */
    const char *order[] = {"SYN-SENT", "CLOSE-WAIT", "LAST-ACK", "CLOSED"};
    const char *at = page;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        at = strstr(at, order[i]);
        ck_assert_msg(at != NULL, "client state %s missing or out of order", order[i]);
    }
    ck_assert_ptr_nonnull(strstr(page, "FIN-WAIT-1 &rarr; FIN-WAIT-2"));
    ck_assert_ptr_nonnull(strstr(page, "<code>stack/tcp_input.c:44</code>"));
    ck_assert_ptr_null(strstr(page, "<script"));
    free(page);
}
END_TEST

START_TEST(ladder_asker_first_and_bounded)
{
    nrecs = 0;
    for (uint16_t p = 40000; p < 40000 + LADDER_MAX_CONNS + 4; p++)
        lab_connection(p);
    char *page = page_for(40001);
    /* The asker's connection comes first, then the newest; no more than
     * LADDER_MAX_CONNS in all. */
    ck_assert_int_eq(count(page, "<section>"), LADDER_MAX_CONNS);
    char *first = strstr(page, "<h2>");
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(strncmp(first, "<h2>10.0.0.1:40001 ", 19), 0);
    char want[32];
    snprintf(want, sizeof want, "10.0.0.1:%u ", 40000 + LADDER_MAX_CONNS + 3);
    ck_assert_ptr_nonnull(strstr(first + 4, want));
    ck_assert_ptr_null(strstr(page, "10.0.0.1:40000 "));
    free(page);
}
END_TEST

START_TEST(ladder_elides_a_long_middle)
{
    nrecs = 0;
    seg(50000, true, TCP_SYN, 0, 0, 0, NULL);
    for (uint32_t i = 0; i < 200; i++)
        seg(50000, false, TCP_ACK, 1 + i * 1448, 1, 1448, "ESTABLISHED");
    char *page = page_for(1);
    char want[64];
    snprintf(want, sizeof want, "&hellip; %u segments not drawn &hellip;", 201 - LADDER_MAX_ROWS);
    ck_assert_ptr_nonnull(strstr(page, want));
    ck_assert_int_eq(count(page, "<svg class="), LADDER_MAX_ROWS);
    free(page);
}
END_TEST

/* A GSO super-segment is one record and one arrow; its label and title say
 * how many segments the capture shows for it. */
START_TEST(ladder_names_a_super_segment)
{
    nrecs = 0;
    seg(50001, true, TCP_SYN, 0, 0, 0, NULL);
    seg(50001, false, TCP_ACK, 1, 79, 62264, "ESTABLISHED");
    recs[nrecs - 1].gso_size = 1448;
    seg(50001, false, TCP_PSH | TCP_ACK, 62265, 79, 1000, "ESTABLISHED");
    char *page = page_for(50001);
    ck_assert_int_eq(count(page, "<svg class=\"out"), 2);
    ck_assert_ptr_nonnull(strstr(page, "[ACK] Seq=1 Ack=79 Len=62264 (43&#215;1448)</text>"));
    ck_assert_ptr_nonnull(strstr(page, "the link cuts into 43 segments of 1448 bytes"));
    ck_assert_ptr_nonnull(strstr(page, "[PSH, ACK] Seq=62265 Ack=79 Len=1000</text>"));
    ck_assert_int_eq(count(page, "&#215;"), 1);
    free(page);

    /* 9 full segments and a 968-byte tail: the label and title say so. */
    nrecs = 0;
    seg(50002, true, TCP_SYN, 0, 0, 0, NULL);
    seg(50002, false, TCP_FIN | TCP_PSH | TCP_ACK, 1, 79, 14000, "FIN-WAIT-1");
    recs[nrecs - 1].gso_size = 1448;
    page = page_for(50002);
    ck_assert_ptr_nonnull(strstr(page, "Len=14000 (9&#215;1448 + 968)</text>"));
    ck_assert_ptr_nonnull(strstr(page, "cuts into 10 segments of 1448 bytes of payload, the last "
                                       "shorter, as the capture"));
    free(page);
}
END_TEST

/* A state change caused by a segment and named too (a SYN cookie's ACK):
 * the note gives both the change and why. */
START_TEST(ladder_notes_a_cause_beside_its_segment)
{
    nrecs = 0;
    seg(50003, true, TCP_ACK, 1, 1, 0, NULL);
    change(50003, "LISTEN", "SYN-RECEIVED", true);
    recs[nrecs - 1].what = "the ACK returned a valid SYN cookie";
    recs[nrecs - 1].rfc = "RFC 4987 §3.6";
    char *page = page_for(50003);
    ck_assert_ptr_nonnull(strstr(page, "<b>LISTEN &rarr; SYN-RECEIVED</b>, the ACK returned a "
                                       "valid SYN cookie &middot; RFC 4987 §3.6"));
    free(page);
}
END_TEST

START_TEST(ladder_from_the_middle_and_empty)
{
    nrecs = 0;
    char *page = page_for(1);
    ck_assert_ptr_nonnull(strstr(page, "No connections yet."));
    free(page);
    seg(50001, true, TCP_ACK | TCP_PSH, 100, 1, 10, "ESTABLISHED"); /* its SYN is gone */
    page = page_for(1);
    ck_assert_ptr_nonnull(strstr(page, "Its start is older than the records kept"));
    ck_assert_ptr_null(strstr(page, "No connection had this 4-tuple"));
    free(page);
    nrecs = 0;
    seg(50002, true, TCP_ACK, 7, 9, 0, NULL);           /* for no connection at all */
    seg(50002, false, TCP_RST, 9, 0, 0, NULL);
    page = page_for(1);
    ck_assert_ptr_nonnull(strstr(page, "No connection had this 4-tuple"));
    ck_assert_ptr_null(strstr(page, "Its start is older"));
    free(page);
}
END_TEST

Suite *trace_view_suite(void)
{
    Suite *s = suite_create("trace_view");
    TCase *tc = tcase_create("ring and ladder");
    tcase_add_test(tc, ring_keeps_the_newest_in_order);
    tcase_add_test(tc, ring_bounds);
    tcase_add_test(tc, ladder_draws_both_sides);
    tcase_add_test(tc, ladder_asker_first_and_bounded);
    tcase_add_test(tc, ladder_elides_a_long_middle);
    tcase_add_test(tc, ladder_names_a_super_segment);
    tcase_add_test(tc, ladder_notes_a_cause_beside_its_segment);
    tcase_add_test(tc, ladder_from_the_middle_and_empty);
    suite_add_tcase(s, tc);
    return s;
}
