/*
 * test_http_parser.c -- the incremental request parser (RFC 9112): every
 * request is fed whole and again one byte at a time, and both must give
 * the same result; every error status and every limit.
 */
#include <string.h>

#include "http/request_parser.h"
#include "tests/unit/suites.h"

static const struct http_limits test_limits = {256, 512, 8, 1000};

/* Parses req whole and byte by byte; asserts both agree; returns the
 * state, leaving the byte-by-byte parser in *p (caller frees). */
static enum http_parse_state parse_both(struct http_parser *p, const char *req, size_t len,
                                        size_t *used)
{
    struct http_parser whole;
    ck_assert_int_eq(http_parser_init(&whole, &test_limits), 0);
    size_t n_whole = http_parser_feed(&whole, req, len);

    ck_assert_int_eq(http_parser_init(p, &test_limits), 0);
    size_t n = 0;
    while (n < len && p->state != HTTP_PARSE_DONE && p->state != HTTP_PARSE_ERROR)
        n += http_parser_feed(p, req + n, 1);
    ck_assert_uint_eq(n, n_whole);
    ck_assert_int_eq(p->state, whole.state);
    ck_assert_int_eq(p->error, whole.error);
    ck_assert_uint_eq(p->body_bytes, whole.body_bytes);
    http_parser_free(&whole);
    if (used)
        *used = n;
    return p->state;
}

/* The status a request gets: 0 when it parses (DONE). */
static int status_of(const char *req)
{
    struct http_parser p;
    enum http_parse_state st = parse_both(&p, req, strlen(req), NULL);
    int status = st == HTTP_PARSE_DONE ? 0 : st == HTTP_PARSE_ERROR ? p.error : -1;
    http_parser_free(&p);
    return status;
}

START_TEST(simple_get)
{
    struct http_parser p;
    const char *req = "GET /hello?x=1 HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent:  curl/7.88 \r\n\r\n";
    size_t used;
    ck_assert_int_eq(parse_both(&p, req, strlen(req), &used), HTTP_PARSE_DONE);
    ck_assert_uint_eq(used, strlen(req));
    ck_assert_int_eq(p.method, HTTP_METHOD_GET);
    ck_assert_uint_eq(p.target.len, 10);
    ck_assert(memcmp(p.target.p, "/hello?x=1", 10) == 0);
    ck_assert_uint_eq(p.version_minor, 1);
    ck_assert(p.keep_alive);
    struct http_str v;
    ck_assert(http_field_get(&p, "user-agent", 0, &v));
    ck_assert_uint_eq(v.len, 9);  /* OWS trimmed both sides */
    ck_assert(memcmp(v.p, "curl/7.88", 9) == 0);
    ck_assert(http_request_line(&p, &v));
    ck_assert_uint_eq(v.len, strlen("GET /hello?x=1 HTTP/1.1"));
    http_parser_free(&p);
}
END_TEST

START_TEST(bare_lf_and_leading_crlf)
{
    ck_assert_int_eq(status_of("\r\n\r\nGET / HTTP/1.1\nHost: a\n\n"), 0);
    /* HTTP_MAX_LEADING_EMPTY_BYTES: four CRLFs are ignored, a ninth byte is not. */
    ck_assert_int_eq(status_of("\r\n\r\n\r\n\r\nGET / HTTP/1.1\nHost: a\n\n"), 0);
    ck_assert_int_eq(status_of("\r\n\r\n\r\n\r\n\nGET / HTTP/1.1\nHost: a\n\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 400);  /* bare CR */
}
END_TEST

START_TEST(pipelined_requests_stop_at_each_end)
{
    const char *two = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
    struct http_parser p;
    ck_assert_int_eq(http_parser_init(&p, &test_limits), 0);
    size_t n = http_parser_feed(&p, two, strlen(two));
    ck_assert_int_eq(p.state, HTTP_PARSE_DONE);
    ck_assert_uint_eq(n, strlen(two) / 2);
    ck_assert(memcmp(p.target.p, "/a", 2) == 0);
    http_parser_reset(&p);
    ck_assert_uint_eq(http_parser_feed(&p, two + n, strlen(two) - n), strlen(two) / 2);
    ck_assert(memcmp(p.target.p, "/b", 2) == 0);
    http_parser_free(&p);
}
END_TEST

START_TEST(request_line_errors)
{
    ck_assert_int_eq(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET /\r\n\r\n"), 400);              /* HTTP/0.9 style */
    ck_assert_int_eq(status_of("GET / HTTP/1.1 x\r\nHost: a\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    ck_assert_int_eq(status_of("GET / HTTP/0.9\r\n\r\n"), 505);
    ck_assert_int_eq(status_of("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0);  /* read as 1.1 */
}
END_TEST

START_TEST(field_errors)
{
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);   /* §5.1 */
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n"), 400);
    static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    struct http_parser p;
    ck_assert_int_eq(parse_both(&p, nul, sizeof nul - 1, NULL), HTTP_PARSE_ERROR);
    ck_assert_int_eq(p.error, 400);
    http_parser_free(&p);
}
END_TEST

START_TEST(host_rules)
{
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.0\r\n\r\n"), 0);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);  /* empty is allowed */
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: ex-1.a_b~c%41:80\r\n\r\n"), 0);
    /* No userinfo, and nothing that would end an authority (RFC 3986 §3.2). */
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a#b\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a|b\r\n\r\n"), 400);
}
END_TEST

START_TEST(connection_persistence)
{
    struct http_parser p;
    const char *r10 = "GET / HTTP/1.0\r\n\r\n";
    const char *r10ka = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
    const char *r11c = "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n";
    parse_both(&p, r10, strlen(r10), NULL);
    ck_assert(!p.keep_alive);
    http_parser_free(&p);
    parse_both(&p, r10ka, strlen(r10ka), NULL);
    ck_assert(p.keep_alive);
    ck_assert_uint_eq(p.version_minor, 0);
    http_parser_free(&p);
    parse_both(&p, r11c, strlen(r11c), NULL);
    ck_assert(!p.keep_alive);
    http_parser_free(&p);
}
END_TEST

START_TEST(content_length_framing)
{
    struct http_parser p;
    const char *req = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET";
    size_t used;
    ck_assert_int_eq(parse_both(&p, req, strlen(req), &used), HTTP_PARSE_DONE);
    ck_assert_uint_eq(used, strlen(req) - 3);  /* "GET" is the next request's */
    ck_assert_uint_eq(p.body_bytes, 5);
    ck_assert_int_eq(p.method, HTTP_METHOD_POST);
    http_parser_free(&p);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n12345"), 0);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                               "Content-Length: 6\r\n\r\n123456"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n"), 413);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
                               "99999999999999999999999\r\n\r\n"), 413);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"), 400);
}
END_TEST

START_TEST(chunked_bodies)
{
    struct http_parser p;
    const char *req = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\nA;name=val\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
    size_t used;
    ck_assert_int_eq(parse_both(&p, req, strlen(req), &used), HTTP_PARSE_DONE);
    ck_assert_uint_eq(used, strlen(req) - 4);
    ck_assert_uint_eq(p.body_bytes, 15);
    ck_assert(p.chunked);
    http_parser_free(&p);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "0\n\n"), 0);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "zz\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabcX\r\n"), 400);  /* data not followed by CRLF */
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3e9\r\n"), 413);
    /* §7.1.1: only BWS between the size and a ';'; "3 5" is not 3. */
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3 \t;a=b c\r\nabc\r\n0 \r\n\r\n"), 0);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3 5\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3 zz\r\n"), 400);
    /* §7.1.2: a trailer line is a field line, or 400. */
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "0\r\nno colon\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "0\r\n: empty name\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "0\r\nX: a\x01b\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "0\r\nX-A: 1\r\nX-B:\r\n\r\n"), 0);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "1f4\r\n"), -1);  /* 500 bytes: still waiting */
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked"
                               "\r\n\r\n"), 501);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
                     400);
    ck_assert_int_eq(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, "
                               "chunked\r\n\r\n"), 400);
    ck_assert_int_eq(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     400);
}
END_TEST

START_TEST(limits)
{
    char big[1200];
    /* request line: 256 bytes allowed, 257 is 414 */
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    memcpy(big + 256 - 9, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
    ck_assert_int_eq(status_of(big), 0);
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    memcpy(big + 257 - 9, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
    ck_assert_int_eq(status_of(big), 414);
    /* header section: 512 bytes */
    memset(big, 'b', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
    memcpy(big + 600, "\r\n\r\n", 5);
    ck_assert_int_eq(status_of(big), 431);
    /* field count: 8 */
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n"
                               "E: 1\r\nF: 1\r\nG: 1\r\n\r\n"), 0);
    ck_assert_int_eq(status_of("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n"
                               "E: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\n\r\n"), 431);
}
END_TEST

START_TEST(methods_and_lists)
{
    ck_assert_int_eq(http_method_from("GET", 3), HTTP_METHOD_GET);
    ck_assert_int_eq(http_method_from("get", 3), HTTP_METHOD_UNKNOWN);  /* case-sensitive */
    ck_assert_int_eq(http_method_from("PATCH", 5), HTTP_METHOD_PATCH);
    ck_assert_int_eq(http_method_from("BREW", 4), HTTP_METHOD_UNKNOWN);
    struct http_str list = {" a, ,b ,\tc  ", 12}, item;
    size_t pos = 0;
    ck_assert(http_list_next(list, &pos, &item) && item.len == 1 && item.p[0] == 'a');
    ck_assert(http_list_next(list, &pos, &item) && item.len == 1 && item.p[0] == 'b');
    ck_assert(http_list_next(list, &pos, &item) && item.len == 1 && item.p[0] == 'c');
    ck_assert(!http_list_next(list, &pos, &item));
}
END_TEST

Suite *http_parser_suite(void)
{
    Suite *s = suite_create("http_parser");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, simple_get);
    tcase_add_test(tc, bare_lf_and_leading_crlf);
    tcase_add_test(tc, pipelined_requests_stop_at_each_end);
    tcase_add_test(tc, request_line_errors);
    tcase_add_test(tc, field_errors);
    tcase_add_test(tc, host_rules);
    tcase_add_test(tc, connection_persistence);
    tcase_add_test(tc, content_length_framing);
    tcase_add_test(tc, chunked_bodies);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, methods_and_lists);
    suite_add_tcase(s, tc);
    return s;
}
