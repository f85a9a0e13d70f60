/*
 * test_http_files.c -- the pieces between a parsed request and a file:
 * target normalisation and the root jail, the MIME table, HTTP-dates,
 * ETags and conditional requests (RFC 9110 §13), ranges (§14).
 */
#include <stdio.h>
#include <string.h>

#include "http/conditional.h"
#include "http/http_date.h"
#include "http/mime.h"
#include "http/request_path.h"
#include "http/response.h"
#include "tests/unit/suites.h"

static enum http_path_result norm(const char *target, char out[256])
{
    return http_target_path(target, strlen(target), out, 256);
}

#define PATH_IS(target, want)                                  \
    do {                                                       \
        char out_[256];                                        \
        ck_assert_int_eq(norm(target, out_), HTTP_PATH_OK);    \
        ck_assert_str_eq(out_, want);                          \
    } while (0)

START_TEST(path_normalisation_and_jail)
{
    char out[256];
    PATH_IS("/", "");
    PATH_IS("/hello", "hello");
    PATH_IS("/css/synack.css?v=2", "css/synack.css");
    PATH_IS("/../etc/passwd", "etc/passwd");
    PATH_IS("/%2e%2e/etc/passwd", "etc/passwd");
    PATH_IS("/%2E%2e/%2e%2e/x", "x");
    PATH_IS("/a/b/../../../../c", "c");
    PATH_IS("//etc//passwd", "etc/passwd");
    PATH_IS("/./a/./b/.", "a/b/");
    PATH_IS("/a/b/..", "a/");
    PATH_IS("/dir/", "dir/");
    PATH_IS("/hello%20world", "hello world");
    PATH_IS("/..%5c..%5cwin", "..\\..\\win");  /* a backslash is a name byte on Linux */
    PATH_IS("http://10.0.0.2/img/logo.png", "img/logo.png");
    PATH_IS("HTTP://10.0.0.2", "");
    /* The authority ends at '?': the '/' after it is the query's. */
    PATH_IS("http://h?x=/hello", "");
    PATH_IS("http://h/a?next=/b", "a");
    ck_assert_int_eq(norm("/a%2fb", out), HTTP_PATH_ENCODED_SLASH);
    ck_assert_int_eq(norm("/..%2f..%2fetc/passwd", out), HTTP_PATH_ENCODED_SLASH);
    ck_assert_int_eq(norm("/a%00.html", out), HTTP_PATH_BAD);
    ck_assert_int_eq(norm("/a%zz", out), HTTP_PATH_BAD);
    ck_assert_int_eq(norm("/a%2", out), HTTP_PATH_BAD);
    ck_assert_int_eq(norm("a/b", out), HTTP_PATH_BAD);
    ck_assert_int_eq(norm("/small.txt#frag", out), HTTP_PATH_BAD);
    /* The plain path a redirect may echo, and what is never echoed. */
    const char *p, *q;
    size_t pl, ql;
    ck_assert(http_target_plain_path("/docs?x=1", 9, &p, &pl, &q, &ql));
    ck_assert_uint_eq(pl, 5);
    ck_assert(memcmp(p, "/docs", 5) == 0 && ql == 3 && memcmp(q, "x=1", 3) == 0);
    ck_assert(http_target_plain_path("HTTP://h/a/b", 12, &p, &pl, &q, &ql));
    ck_assert(pl == 4 && memcmp(p, "/a/b", 4) == 0 && ql == 0);
    ck_assert(!http_target_plain_path("//evil/x", 8, &p, &pl, &q, &ql));
    ck_assert(!http_target_plain_path("/a/../b", 7, &p, &pl, &q, &ql));
    ck_assert(!http_target_plain_path("/a/./b", 6, &p, &pl, &q, &ql));
    ck_assert(!http_target_plain_path("/a//b", 5, &p, &pl, &q, &ql));
    ck_assert(!http_target_plain_path("/a\x7f", 3, &p, &pl, &q, &ql));
    ck_assert(!http_target_plain_path("/a?\x80", 4, &p, &pl, &q, &ql));
    ck_assert(!http_target_plain_path("http://h", 8, &p, &pl, &q, &ql));
    ck_assert(!http_target_plain_path("http://h?x=/docs", 16, &p, &pl, &q, &ql));
    ck_assert_int_eq(norm("/a?q=1#frag", out), HTTP_PATH_BAD);
    ck_assert_int_eq(norm("*", out), HTTP_PATH_ASTERISK);
}
END_TEST

START_TEST(mime_table)
{
    ck_assert_str_eq(http_mime_type("index.html"), "text/html; charset=utf-8");
    ck_assert_str_eq(http_mime_type("css/synack.css"), "text/css; charset=utf-8");
    ck_assert_str_eq(http_mime_type("img/LOGO.PNG"), "image/png");
    ck_assert_str_eq(http_mime_type("favicon.ico"), "image/vnd.microsoft.icon");
    ck_assert_str_eq(http_mime_type("a.js"), "text/javascript; charset=utf-8");
    ck_assert_str_eq(http_mime_type("README"), "application/octet-stream");
    ck_assert_str_eq(http_mime_type("dir.html/file"), "application/octet-stream");
    ck_assert_str_eq(http_mime_type("x."), "application/octet-stream");
}
END_TEST

START_TEST(http_dates)
{
    char d[HTTP_DATE_LEN], c[HTTP_CLF_DATE_LEN];
    int64_t t;
    http_date_format(784111777, d);
    ck_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    http_date_format(0, d);
    ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    http_date_format(951782400, d);  /* a leap day */
    ck_assert_str_eq(d, "Tue, 29 Feb 2000 00:00:00 GMT");
    http_clf_date(784111777, c);
    ck_assert_str_eq(c, "06/Nov/1994:08:49:37 +0000");
    const char *forms[] = {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 1994"};
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(http_date_parse(forms[i], strlen(forms[i]), &t), "%s", forms[i]);
        ck_assert_int_eq(t, 784111777);
    }
    ck_assert(!http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", 29, &t));
    ck_assert(!http_date_parse("Sun, 32 Nov 1994 08:49:37 GMT", 29, &t));
    ck_assert(!http_date_parse("yesterday", 9, &t));
    for (int64_t x = -86400 * 400; x < 86400LL * 365 * 200; x += 86400 * 37 + 3601) {
        http_date_format(x < 0 ? -x : x, d);
        ck_assert(http_date_parse(d, strlen(d), &t));
        ck_assert_int_eq(t, x < 0 ? -x : x);
    }
}
END_TEST

/* --- conditional requests, on a parsed request ------------------------------ */

static const struct http_limits lim = {1024, 4096, 32, 0};
static struct http_parser req;

static void parse(const char *fields)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "GET /f HTTP/1.1\r\nHost: a\r\n%s\r\n", fields);
    ck_assert_int_eq(http_parser_init(&req, &lim), 0);
    http_parser_feed(&req, buf, strlen(buf));
    ck_assert_int_eq(req.state, HTTP_PARSE_DONE);
}

#define LM 784111777  /* Sun, 06 Nov 1994 08:49:37 GMT */
static const struct http_validators val = {"\"abc-1\"", LM};

static enum http_precondition precond(const char *fields)
{
    parse(fields);
    enum http_precondition r = http_preconditions(&req, &val);
    http_parser_free(&req);
    return r;
}

START_TEST(etags)
{
    struct http_file_info fi = {.size = 0x10, .mtime = 1, .mtime_nsec = 2, .inode = 0xab};
    http_file_validators(&fi);
    ck_assert_str_eq(fi.etag, "\"ab-10-3b9aca02\"");
    ck_assert_str_eq(fi.last_modified, "Thu, 01 Jan 1970 00:00:01 GMT");
    struct http_str l1 = {"W/\"abc-1\"", 9}, l2 = {"\"x\", \"abc-1\"", 12}, star = {"*", 1};
    struct http_str l3 = {"\"a,b\", \"abc-1\"", 14}, none = {"\"abc-2\"", 7};
    ck_assert(http_etag_list_match(l1, "\"abc-1\"", false));   /* weak comparison */
    ck_assert(!http_etag_list_match(l1, "\"abc-1\"", true));   /* strong refuses W/ */
    ck_assert(http_etag_list_match(l2, "\"abc-1\"", true));
    ck_assert(http_etag_list_match(l3, "\"abc-1\"", false));   /* a comma inside a tag */
    ck_assert(http_etag_list_match(star, "\"abc-1\"", false));
    ck_assert(!http_etag_list_match(none, "\"abc-1\"", false));
}
END_TEST

START_TEST(precondition_order)
{
    ck_assert_int_eq(precond(""), HTTP_PRECOND_PASS);
    ck_assert_int_eq(precond("If-None-Match: \"abc-1\"\r\n"), HTTP_PRECOND_NOT_MODIFIED);
    ck_assert_int_eq(precond("If-None-Match: W/\"abc-1\"\r\n"), HTTP_PRECOND_NOT_MODIFIED);
    ck_assert_int_eq(precond("If-None-Match: \"zz\"\r\nIf-None-Match: \"abc-1\"\r\n"),
                     HTTP_PRECOND_NOT_MODIFIED);
    ck_assert_int_eq(precond("If-None-Match: *\r\n"), HTTP_PRECOND_NOT_MODIFIED);
    ck_assert_int_eq(precond("If-None-Match: \"zz\"\r\n"), HTTP_PRECOND_PASS);
    /* If-Modified-Since: not modified when Last-Modified <= the date */
    ck_assert_int_eq(precond("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
                     HTTP_PRECOND_NOT_MODIFIED);
    ck_assert_int_eq(precond("If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n"),
                     HTTP_PRECOND_PASS);
    ck_assert_int_eq(precond("If-Modified-Since: garbage\r\n"), HTTP_PRECOND_PASS);
    /* §13.2.2: If-None-Match wins over If-Modified-Since, either way */
    ck_assert_int_eq(precond("If-None-Match: \"zz\"\r\n"
                             "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"),
                     HTTP_PRECOND_PASS);
    ck_assert_int_eq(precond("If-None-Match: \"abc-1\"\r\n"
                             "If-Modified-Since: Sat, 01 Jan 1994 00:00:00 GMT\r\n"),
                     HTTP_PRECOND_NOT_MODIFIED);
    /* If-Match and If-Unmodified-Since come first: 412 */
    ck_assert_int_eq(precond("If-Match: \"zz\"\r\nIf-None-Match: \"abc-1\"\r\n"),
                     HTTP_PRECOND_FAILED);
    ck_assert_int_eq(precond("If-Match: W/\"abc-1\"\r\n"), HTTP_PRECOND_FAILED);  /* strong */
    ck_assert_int_eq(precond("If-Match: \"abc-1\"\r\n"), HTTP_PRECOND_PASS);
    ck_assert_int_eq(precond("If-Unmodified-Since: Sat, 01 Jan 1994 00:00:00 GMT\r\n"),
                     HTTP_PRECOND_FAILED);
    ck_assert_int_eq(precond("If-Match: *\r\n"
                             "If-Unmodified-Since: Sat, 01 Jan 1994 00:00:00 GMT\r\n"),
                     HTTP_PRECOND_PASS);  /* If-Match present: IUS is not evaluated */
}
END_TEST

static enum http_range_result range(const char *v, uint64_t size, uint64_t *a, uint64_t *b)
{
    return http_parse_range((struct http_str){v, strlen(v)}, size, a, b);
}

START_TEST(range_parsing)
{
    uint64_t a = 99, b = 99;
    ck_assert_int_eq(range("bytes=0-9", 100, &a, &b), HTTP_RANGE_OK);
    ck_assert(a == 0 && b == 9);
    ck_assert_int_eq(range("bytes=90-", 100, &a, &b), HTTP_RANGE_OK);   /* open-ended */
    ck_assert(a == 90 && b == 99);
    ck_assert_int_eq(range("bytes=-10", 100, &a, &b), HTTP_RANGE_OK);   /* suffix */
    ck_assert(a == 90 && b == 99);
    ck_assert_int_eq(range("bytes=-500", 100, &a, &b), HTTP_RANGE_OK);  /* suffix > size */
    ck_assert(a == 0 && b == 99);
    ck_assert_int_eq(range("bytes=50-500", 100, &a, &b), HTTP_RANGE_OK);
    ck_assert(a == 50 && b == 99);
    ck_assert_int_eq(range("Bytes=5-5", 100, &a, &b), HTTP_RANGE_OK);
    ck_assert(a == 5 && b == 5);
    ck_assert_int_eq(range("bytes=100-", 100, &a, &b), HTTP_RANGE_UNSATISFIABLE);
    ck_assert_int_eq(range("bytes=-0", 100, &a, &b), HTTP_RANGE_UNSATISFIABLE);
    ck_assert_int_eq(range("bytes=0-", 0, &a, &b), HTTP_RANGE_UNSATISFIABLE);
    ck_assert_int_eq(range("bytes=0-1,5-6", 100, &a, &b), HTTP_RANGE_MULTIPLE);
    ck_assert_int_eq(range("bytes=9-1", 100, &a, &b), HTTP_RANGE_NONE);  /* invalid: ignored */
    ck_assert_int_eq(range("bytes=x-1", 100, &a, &b), HTTP_RANGE_NONE);
    ck_assert_int_eq(range("items=0-1", 100, &a, &b), HTTP_RANGE_NONE);
    ck_assert_int_eq(range("bytes=", 100, &a, &b), HTTP_RANGE_NONE);
    /* Numbers past 2^64 - 1 lie past any end: clamped, or 416. */
    ck_assert_int_eq(range("bytes=2-99999999999999999999", 100, &a, &b), HTTP_RANGE_OK);
    ck_assert(a == 2 && b == 99);
    ck_assert_int_eq(range("bytes=99999999999999999999-", 100, &a, &b),
                     HTTP_RANGE_UNSATISFIABLE);
    ck_assert_int_eq(range("bytes=-99999999999999999999", 100, &a, &b), HTTP_RANGE_OK);
    ck_assert(a == 0 && b == 99);
}
END_TEST

static enum http_range_result req_range(const char *fields, uint64_t *a, uint64_t *b)
{
    parse(fields);
    enum http_range_result r = http_request_range(&req, &val, 100, a, b);
    http_parser_free(&req);
    return r;
}

START_TEST(if_range)
{
    uint64_t a, b;
    ck_assert_int_eq(req_range("Range: bytes=0-9\r\nIf-Range: \"abc-1\"\r\n", &a, &b),
                     HTTP_RANGE_OK);
    ck_assert_int_eq(req_range("Range: bytes=0-9\r\nIf-Range: \"old\"\r\n", &a, &b),
                     HTTP_RANGE_NONE);
    ck_assert_int_eq(req_range("Range: bytes=0-9\r\nIf-Range: W/\"abc-1\"\r\n", &a, &b),
                     HTTP_RANGE_NONE);  /* weak tags never match in If-Range */
    ck_assert_int_eq(req_range("Range: bytes=0-9\r\n"
                               "If-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n", &a, &b),
                     HTTP_RANGE_OK);
    ck_assert_int_eq(req_range("Range: bytes=0-9\r\n"
                               "If-Range: Wed, 09 Nov 1994 08:49:37 GMT\r\n", &a, &b),
                     HTTP_RANGE_NONE);
    ck_assert_int_eq(req_range("Range: bytes=0-9\r\nRange: bytes=20-29\r\n", &a, &b),
                     HTTP_RANGE_MULTIPLE);
    ck_assert_int_eq(req_range("If-Range: \"abc-1\"\r\n", &a, &b), HTTP_RANGE_NONE);
}
END_TEST

START_TEST(response_heads_byte_for_byte)
{
    /* Every field at its widest, then an error with Content-Range: the
     * same bytes the printf-built head gave, and nothing when it does not
     * fit. */
    char out[1024];
    struct http_response r = {.status = 206, .content_type = "image/png", .has_length = true,
                              .length = UINT64_MAX, .has_validators = true,
                              .etag = "\"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff\"",
                              .accept_ranges = true, .content_range = HTTP_CR_RANGE,
                              .range_last = UINT64_MAX - 1, .full_size = UINT64_MAX,
                              .allow = true};
    http_date_format(253402300799, r.last_modified);
    static const char full[] = "HTTP/1.1 206 Partial Content\r\n"
                               "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                               "Server: synack/0.1.0\r\n"
                               "Content-Type: image/png\r\n"
                               "Content-Length: 18446744073709551615\r\n"
                               "Last-Modified: Fri, 31 Dec 9999 23:59:59 GMT\r\n"
                               "ETag: \"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff\"\r\n"
                               "Accept-Ranges: bytes\r\n"
                               "Content-Range: bytes 0-18446744073709551614/18446744073709551615\r\n"
                               "Allow: GET, HEAD, OPTIONS\r\n"
                               "Connection: keep-alive\r\n\r\n";
    size_t n = http_response_head(&r, "Sun, 06 Nov 1994 08:49:37 GMT", "synack/0.1.0", true, out,
                                  sizeof out);
    ck_assert_uint_eq(n, sizeof full - 1);
    ck_assert(memcmp(out, full, n) == 0);

    http_response_error(&r, 416, true);
    r.content_range = HTTP_CR_UNSATISFIED;
    static const char err[] = "HTTP/1.1 416 Range Not Satisfiable\r\n"
                              "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                              "Server: s\r\n"
                              "Content-Type: text/html; charset=utf-8\r\n"
                              "Content-Length: 278\r\n"
                              "Content-Range: bytes */0\r\n"
                              "Connection: close\r\n\r\n";
    n = http_response_head(&r, "Thu, 01 Jan 1970 00:00:00 GMT", "s", false, out, sizeof out);
    ck_assert_uint_eq(n, sizeof err - 1);
    ck_assert(memcmp(out, err, n) == 0);
    ck_assert_uint_eq(http_response_head(&r, "Thu, 01 Jan 1970 00:00:00 GMT", "s", false, out,
                                         sizeof err - 2), 0);
}
END_TEST

Suite *http_files_suite(void)
{
    Suite *s = suite_create("http_files");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, path_normalisation_and_jail);
    tcase_add_test(tc, mime_table);
    tcase_add_test(tc, http_dates);
    tcase_add_test(tc, etags);
    tcase_add_test(tc, precondition_order);
    tcase_add_test(tc, range_parsing);
    tcase_add_test(tc, if_range);
    tcase_add_test(tc, response_heads_byte_for_byte);
    suite_add_tcase(s, tc);
    return s;
}
