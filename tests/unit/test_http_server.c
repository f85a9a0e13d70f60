/*
 * test_http_server.c -- the HTTP server driven through the real stack core
 * on virtual time: hand-built segments in with stack_input(), the server's
 * segments captured and ACKed by a tiny client, files from an in-memory
 * host.  Checks exact responses, keep-alive, pipelining, streaming and
 * the timeouts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/response.h"
#include "http/server.h"
#include "stack/ipv4.h"
#include "stack/stack.h"
#include "stack/tcp.h"
#include "stack/tcp_header.h"
#include "tests/unit/suites.h"

#define SERVER 0x0a000002u
#define CLIENT 0x0a000001u
#define CISN 5000u
#define T0 (10 * USEC_PER_SEC)
#define WALL 784111777  /* Sun, 06 Nov 1994 08:49:37 GMT */
#define BIG_SIZE (200 * 1024)

/* --- the in-memory host ----------------------------------------------------- */

struct mem_file {
    const char *path;
    const char *data;
    size_t size;
    bool is_dir;
    bool escapes;  /* a symlink out of the root: the host refuses it */
};

static char big[BIG_SIZE];
static const char hello_html[] = "<h1>hello</h1>\n";
static const char page_404[] = "<h1>styled 404</h1>\n";
static struct mem_file files[] = {
    {"", NULL, 0, true, false},
    {"index.html", "<h1>index</h1>\n", 15, false, false},
    {"hello.html", hello_html, sizeof hello_html - 1, false, false},
    {"404.html", page_404, sizeof page_404 - 1, false, false},
    {"docs", NULL, 0, true, false},
    {"big.bin", big, BIG_SIZE, false, false},
    {"escape", NULL, 0, false, true},
    {"album.html", NULL, 0, true, false},  /* a directory with a page's name */
};

static int opens, closes, reads;
static size_t max_read;
static char access_lines[16][512];
static int naccess;
static char log_lines[16][512];
static int nlog;

static enum http_open_result mem_open(void *ctx, const char *path, void **h,
                                      struct http_file_info *fi)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (strcmp(files[i].path, path) != 0)
            continue;
        if (files[i].escapes)
            return HTTP_OPEN_FORBIDDEN;
        *fi = (struct http_file_info){.size = files[i].size, .mtime = WALL - 3600,
                                      .inode = 100 + i, .is_dir = files[i].is_dir};
        *h = &files[i];
        opens++;
        return HTTP_OPEN_OK;
    }
    return HTTP_OPEN_NOT_FOUND;
}

static int64_t mem_read(void *ctx, void *h, uint64_t off, void *buf, size_t len)
{
    struct mem_file *f = h;
    (void)ctx;
    reads++;
    max_read = len > max_read ? len : max_read;
    if (off >= f->size)
        return 0;
    if (len > f->size - off)
        len = f->size - off;
    memcpy(buf, f->data + off, len);
    return (int64_t)len;
}

static void mem_close(void *ctx, void *h)
{
    (void)ctx;
    (void)h;
    closes++;
}

static int64_t wall;  /* the host's wall clock, WALL unless a test moves it */

static int64_t mem_clock(void *ctx)
{
    (void)ctx;
    return wall;
}

static void mem_access(void *ctx, const char *line)
{
    (void)ctx;
    if (naccess < 16)
        snprintf(access_lines[naccess++], sizeof access_lines[0], "%s", line);
}

static void mem_log(void *ctx, const char *line)
{
    (void)ctx;
    if (nlog < 16)
        snprintf(log_lines[nlog++], sizeof log_lines[0], "%s", line);
}

static const struct http_host mem_host = {.open = mem_open, .read = mem_read,
                                          .close = mem_close, .wall_clock = mem_clock,
                                          .access_log = mem_access, .log = mem_log};

/* --- the client: segments in, the server's segments collected --------------- */

#define MAX_PKTS 4096
static struct { uint8_t data[1600]; size_t len; } pkts[MAX_PKTS];
static int npkts;

struct client {
    uint16_t port;
    uint32_t snd_nxt;          /* our next sequence number */
    uint32_t rcv_nxt;          /* next byte expected from the server */
    bool auto_ack;
    char rx[BIG_SIZE + 8192];
    size_t rx_len;
    bool got_fin, got_rst;
};

static struct stack *st;
static struct http_server *srv;
static usec_t now;

static void cap_output(void *ctx, const struct slice *parts, int n,
                       const struct stack_offload *off)
{
    (void)off;  /* offload is off in these tests */
    (void)ctx;
    ck_assert_int_lt(npkts, MAX_PKTS);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        memcpy(pkts[npkts].data + at, parts[i].data, parts[i].len);
        at += parts[i].len;
    }
    pkts[npkts++].len = at;
}

static void send_seg(struct client *cl, uint8_t flags, const char *data, size_t len)
{
    uint8_t pkt[IPV4_HDR_LEN + TCP_HDR_LEN + 1460];
    struct tcp_segment h = {.src = CLIENT, .dst = SERVER, .sport = cl->port, .dport = 80,
                            .seq = cl->snd_nxt, .ack = cl->rcv_nxt, .flags = flags,
                            .wnd = 65535};
    ck_assert_uint_le(len, 1460);
    if (len)
        memcpy(pkt + IPV4_HDR_LEN + TCP_HDR_LEN, data, len);
    struct slice pl = {pkt + IPV4_HDR_LEN + TCP_HDR_LEN, len};
    uint32_t hlen = tcp_write_header(pkt + IPV4_HDR_LEN, &h, NULL, 0, &pl, 1);
    ipv4_write_header(pkt, CLIENT, SERVER, IPPROTO_TCP_NUM, (uint16_t)(hlen + len), 1, true);
    cl->snd_nxt += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
    stack_input(st, pkt, IPV4_HDR_LEN + hlen + len, now);
}

/* Takes in what the server sent (in order only), ACKing it when auto_ack;
 * repeats until the server is quiet. */
static void pump(struct client *cl)
{
    int seen = 0;
    while (seen < npkts) {
        bool owe_ack = false;
        for (; seen < npkts; seen++) {
            struct ipv4_packet ip;
            struct tcp_segment s;
            enum drop_reason why;
            ck_assert(ipv4_parse(pkts[seen].data, pkts[seen].len, &ip, &why));
            ck_assert(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &s, &why));
            if (s.dport != cl->port)
                continue;
            if (s.flags & TCP_RST)
                cl->got_rst = true;
            if (s.data_len && s.seq == cl->rcv_nxt) {
                ck_assert_uint_le(cl->rx_len + s.data_len, sizeof cl->rx);
                memcpy(cl->rx + cl->rx_len, s.data, s.data_len);
                cl->rx_len += s.data_len;
                cl->rcv_nxt += s.data_len;
                owe_ack = true;
            }
            if ((s.flags & TCP_FIN) && s.seq + s.data_len == cl->rcv_nxt) {
                cl->rcv_nxt++;
                cl->got_fin = true;
                owe_ack = true;
            }
        }
        if (owe_ack && cl->auto_ack)
            send_seg(cl, TCP_ACK, NULL, 0);
    }
    npkts = 0;
}

static void connect_client(struct client *cl, uint16_t port)
{
    memset(cl, 0, sizeof *cl);
    cl->port = port;
    cl->snd_nxt = CISN;
    cl->auto_ack = true;
    send_seg(cl, TCP_SYN, NULL, 0);
    ck_assert_int_eq(npkts, 1);
    struct ipv4_packet ip;
    struct tcp_segment s;
    enum drop_reason why;
    ck_assert(ipv4_parse(pkts[0].data, pkts[0].len, &ip, &why));
    ck_assert(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &s, &why));
    ck_assert_uint_eq(s.flags, TCP_SYN | TCP_ACK);
    cl->rcv_nxt = s.seq + 1;
    npkts = 0;
    send_seg(cl, TCP_ACK, NULL, 0);
    pump(cl);
}

static void send_request(struct client *cl, const char *req)
{
    send_seg(cl, TCP_ACK | TCP_PSH, req, strlen(req));
    pump(cl);
}

static void advance(struct client *cl, usec_t by)
{
    now += by;
    stack_tick(st, now);
    pump(cl);
}

static void setup(void)
{
    struct stack_config cfg;
    struct http_config hc;
    stack_config_defaults(&cfg);
    cfg.addr = SERVER;
    /* Smaller than big.bin, so a client that stops reading fills it. */
    cfg.snd_buf = 64 * 1024;
    struct stack_io io = {.output = cap_output, .ctx = NULL};
    st = stack_new(&cfg, &io);
    ck_assert_ptr_nonnull(st);
    http_config_defaults(&hc);
    hc.server_name = "synack/test";
    srv = http_server_new(&hc, &mem_host);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(http_server_listen(srv, st, 80), 0);
    now = T0;
    wall = WALL;
    npkts = naccess = nlog = opens = closes = reads = 0;
    max_read = 0;
    for (size_t i = 0; i < BIG_SIZE; i++)
        big[i] = (char)('a' + i % 26);
}

static void teardown(void)
{
    stack_free(st);
    http_server_free(srv);
    ck_assert_int_eq(opens, closes);  /* every file handle closed */
}

/* Splits cl->rx at the first response's end: the head as a string. */
static const char *first_head(struct client *cl, size_t *head_len)
{
    static char head[2048];
    char *end = memmem(cl->rx, cl->rx_len, "\r\n\r\n", 4);
    ck_assert_ptr_nonnull(end);
    *head_len = (size_t)(end + 4 - cl->rx);
    ck_assert_uint_lt(*head_len, sizeof head);
    memcpy(head, cl->rx, *head_len);
    head[*head_len] = '\0';
    return head;
}

static void consume(struct client *cl, size_t n)
{
    memmove(cl->rx, cl->rx + n, cl->rx_len - n);
    cl->rx_len -= n;
}

/* --- tests ------------------------------------------------------------------ */

/* GET /hello's head, byte for byte. */
static const char hello_head[] = "HTTP/1.1 200 OK\r\n"
                                 "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                                 "Server: synack/test\r\n"
                                 "Content-Type: text/html; charset=utf-8\r\n"
                                 "Content-Length: 15\r\n"
                                 "Last-Modified: Sun, 06 Nov 1994 07:49:37 GMT\r\n"
                                 "ETag: \"66-f-ae1b63b8b906a00\"\r\n"
                                 "Accept-Ranges: bytes\r\n"
                                 "Connection: keep-alive\r\n\r\n";

START_TEST(get_exact_response)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40001);
    send_request(&cl, "GET /hello HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: t/1\r\n\r\n");
    const char *head = first_head(&cl, &hl);
    ck_assert_str_eq(head, hello_head);
    ck_assert_uint_eq(cl.rx_len - hl, 15);
    ck_assert(memcmp(cl.rx + hl, hello_html, 15) == 0);
    ck_assert(!cl.got_fin);
    ck_assert_int_eq(naccess, 1);
    ck_assert_str_eq(access_lines[0], "10.0.0.1 - - [06/Nov/1994:08:49:37 +0000] "
                                      "\"GET /hello HTTP/1.1\" 200 15 \"-\" \"t/1\"");
    consume(&cl, cl.rx_len);
    wall++;  /* the next second: a new Date */
    send_request(&cl, "GET /hello HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "\r\nDate: Sun, 06 Nov 1994 08:49:38 GMT\r\n"));
    teardown();
}
END_TEST

START_TEST(head_and_conditional)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40002);
    send_request(&cl, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    const char *head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Content-Length: 15\r\n"));
    ck_assert_uint_eq(cl.rx_len, hl);  /* no body */
    consume(&cl, hl);
    send_request(&cl, "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: W/\"65-f-ae1b63b8b906a00\""
                      "\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 304 Not Modified\r\n"));
    ck_assert_ptr_null(strstr(head, "Content-Length"));
    ck_assert_ptr_nonnull(strstr(head, "ETag: \"65-f-ae1b63b8b906a00\"\r\n"));
    ck_assert_uint_eq(cl.rx_len, hl);
    consume(&cl, hl);
    send_request(&cl, "GET / HTTP/1.1\r\nHost: a\r\n"
                      "If-Modified-Since: Sun, 06 Nov 1994 07:49:37 GMT\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "HTTP/1.1 304 Not Modified\r\n"));
    ck_assert_int_eq(naccess, 3);
    ck_assert(!cl.got_fin);  /* one connection for all three */
    teardown();
}
END_TEST

START_TEST(errors_and_methods)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40003);
    send_request(&cl, "GET /missing HTTP/1.1\r\nHost: a\r\n\r\n");
    const char *head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 404 Not Found\r\n"));
    ck_assert_uint_eq(cl.rx_len - hl, strlen(page_404));  /* the site's styled page */
    ck_assert(memcmp(cl.rx + hl, page_404, strlen(page_404)) == 0);
    consume(&cl, cl.rx_len);
    send_request(&cl, "GET /escape HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "HTTP/1.1 404 Not Found\r\n"));
    consume(&cl, cl.rx_len);
    send_request(&cl, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 405 Method Not Allowed\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Allow: GET, HEAD, OPTIONS\r\n"));
    consume(&cl, cl.rx_len);
    send_request(&cl, "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "HTTP/1.1 501 Not Implemented\r\n"));
    consume(&cl, cl.rx_len);
    send_request(&cl, "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 200 OK\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Content-Length: 0\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Allow: GET, HEAD, OPTIONS\r\n"));
    consume(&cl, cl.rx_len);
    ck_assert(!cl.got_fin);
    /* A parse error ends the connection after its answer. */
    send_request(&cl, "GET / HTTP/1.1\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 400 Bad Request\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Connection: close\r\n"));
    ck_assert(cl.got_fin);
    ck_assert_int_eq(nlog, 1);
    ck_assert_ptr_nonnull(strstr(log_lines[0], "400: HTTP/1.1 request without Host"));
    teardown();
}
END_TEST

/* RFC 9110 §10.1.1: "Expect: 100-continue" with the content held back gets
 * its final status at once, and the connection closes after it; without
 * the expectation (or from HTTP/1.0) the server waits for the content. */
START_TEST(expect_100_continue_is_answered_at_once)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40010);
    send_request(&cl, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n"
                      "Expect: 100-continue\r\n\r\n");
    const char *head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 405 Method Not Allowed\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Connection: close\r\n"));
    ck_assert(cl.got_fin);
    connect_client(&cl, 40011);
    send_request(&cl, "GET /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                      "Expect: 100-Continue\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "HTTP/1.1 200 OK\r\n"));
    ck_assert_uint_eq(cl.rx_len - hl, strlen(hello_html));
    ck_assert(cl.got_fin);
    /* HTTP/1.0: the expectation is ignored; the answer waits for the body. */
    connect_client(&cl, 40012);
    send_request(&cl, "POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    ck_assert_uint_eq(cl.rx_len, 0);
    send_request(&cl, "abc");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "HTTP/1.1 405 Method Not Allowed\r\n"));
    /* No expectation: the same. */
    connect_client(&cl, 40013);
    send_request(&cl, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
    ck_assert_uint_eq(cl.rx_len, 0);
    teardown();
}
END_TEST

START_TEST(pipelined_in_order_and_byte_by_byte)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40004);
    send_request(&cl, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "200 OK"));
    consume(&cl, hl + 15);
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "404 Not Found"));
    consume(&cl, hl + strlen(page_404));
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "Connection: close"));
    ck_assert(memcmp(cl.rx + hl, "<h1>index</h1>\n", 15) == 0);
    ck_assert(cl.got_fin);  /* the server closed first */
    ck_assert_int_eq(naccess, 3);
    ck_assert_ptr_nonnull(strstr(access_lines[0], "\"GET /hello HTTP/1.1\" 200"));
    ck_assert_ptr_nonnull(strstr(access_lines[1], "\"GET /nope HTTP/1.1\" 404"));
    ck_assert_ptr_nonnull(strstr(access_lines[2], "\"GET / HTTP/1.1\" 200"));

    struct client c2;
    connect_client(&c2, 40005);
    const char *req = "GET /docs/ HTTP/1.0\r\n\r\n";
    for (size_t i = 0; i < strlen(req); i++) {
        send_seg(&c2, TCP_ACK, req + i, 1);
        pump(&c2);
    }
    const char *head = first_head(&c2, &hl);
    ck_assert_ptr_nonnull(strstr(head, "404 Not Found"));  /* no index, no listing */
    ck_assert_ptr_nonnull(strstr(head, "Connection: close"));
    ck_assert(c2.got_fin);
    teardown();
}
END_TEST

/* A directory's address without its slash is redirected to the address
 * with it (so that its index page's relative links resolve inside it),
 * the query kept; with the slash it is served (here: no index, 404). */
START_TEST(directory_without_slash_is_redirected)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40014);
    send_request(&cl, "GET /docs HTTP/1.1\r\nHost: a\r\n\r\n");
    const char *head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 301 Moved Permanently\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "\r\nLocation: /docs/\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Connection: keep-alive\r\n"));
    consume(&cl, cl.rx_len);
    send_request(&cl, "HEAD /docs?lang=en HTTP/1.1\r\nHost: a\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "\r\nLocation: /docs/?lang=en\r\n"));
    ck_assert_uint_eq(cl.rx_len, hl);  /* HEAD: no body */
    consume(&cl, cl.rx_len);
    send_request(&cl, "GET /docs/ HTTP/1.1\r\nHost: a\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "404 Not Found"));
    ck_assert_ptr_null(strstr(head, "Location:"));
    consume(&cl, cl.rx_len);
    /* Absolute-form: the Location is the path alone, never the host sent. */
    send_request(&cl, "GET http://evil.example/docs HTTP/1.1\r\nHost: a\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "\r\nLocation: /docs/\r\n"));
    consume(&cl, cl.rx_len);
    /* A path that is not plain is not echoed: "//evil.example/../docs"
     * would make the Location a link to another host. */
    send_request(&cl, "GET //evil.example/../docs HTTP/1.1\r\nHost: a\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "404 Not Found"));
    ck_assert_ptr_null(strstr(head, "Location:"));
    consume(&cl, cl.rx_len);
    /* Too long to redirect within HTTP_LOCATION_MAX: 404, and a log line. */
    char req[HTTP_LOCATION_MAX + 64];
    int n = snprintf(req, sizeof req, "GET /docs?%0*d HTTP/1.1\r\nHost: a\r\n\r\n",
                     HTTP_LOCATION_MAX, 0);
    ck_assert_int_lt(n, (int)sizeof req);
    send_request(&cl, req);
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "404 Not Found"));
    ck_assert(!cl.got_rst && !cl.got_fin);
    ck_assert_int_eq(nlog, 1);
    ck_assert_ptr_nonnull(strstr(log_lines[0], "too long to redirect (HTTP_LOCATION_MAX)"));
    consume(&cl, cl.rx_len);
    /* "/album" is tried as "album.html", a directory: no redirect to
     * "/album/", which names nothing. */
    send_request(&cl, "GET /album HTTP/1.1\r\nHost: a\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "404 Not Found"));
    ck_assert_ptr_null(strstr(head, "Location:"));
    teardown();
}
END_TEST

START_TEST(streams_a_large_file_and_ranges)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40006);
    send_request(&cl, "GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "Content-Length: 204800\r\n"));
    ck_assert_uint_eq(cl.rx_len - hl, BIG_SIZE);
    ck_assert(memcmp(cl.rx + hl, big, BIG_SIZE) == 0);
    ck_assert_int_gt(reads, 3);  /* streamed in pieces as the window opened */
    ck_assert_uint_le(max_read, 65536);
    consume(&cl, cl.rx_len);
    send_request(&cl, "GET /big.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=-4\r\n\r\n");
    const char *head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 206 Partial Content\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Content-Range: bytes 204796-204799/204800\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Content-Length: 4\r\n"));
    ck_assert(memcmp(cl.rx + hl, big + BIG_SIZE - 4, 4) == 0);
    consume(&cl, cl.rx_len);
    send_request(&cl, "GET /big.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=999999-\r\n\r\n");
    head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 416 Range Not Satisfiable\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Content-Range: bytes */204800\r\n"));
    teardown();
}
END_TEST

START_TEST(header_timeout_answers_408)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40007);
    send_request(&cl, "GET / HTTP/1.1\r\nHost: a\r\n");  /* never finished */
    for (int i = 0; i < 9; i++) {
        advance(&cl, USEC_PER_SEC);  /* a slowloris trickle does not extend it */
        send_request(&cl, "X");
        ck_assert_uint_eq(cl.rx_len, 0);
    }
    advance(&cl, USEC_PER_SEC);
    const char *head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 408 Request Timeout\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Connection: close\r\n"));
    ck_assert(cl.got_fin);
    ck_assert_int_eq(nlog, 1);
    ck_assert_ptr_nonnull(strstr(log_lines[0], "--header-timeout"));
    teardown();
}
END_TEST

/* RFC 9110 §8.8.2.1: a file modified "in the future" (our clock is two
 * hours behind its mtime) is sent with Last-Modified = Date, and that date
 * back in If-Modified-Since gets 304. */
START_TEST(future_mtime_is_sent_as_now)
{
    struct client cl;
    size_t hl;
    setup();
    wall = WALL - 7200;
    connect_client(&cl, 40013);
    send_request(&cl, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    const char *head = first_head(&cl, &hl);
    ck_assert_ptr_nonnull(strstr(head, "Date: Sun, 06 Nov 1994 06:49:37 GMT\r\n"));
    ck_assert_ptr_nonnull(strstr(head, "Last-Modified: Sun, 06 Nov 1994 06:49:37 GMT\r\n"));
    consume(&cl, cl.rx_len);
    send_request(&cl, "GET /hello HTTP/1.1\r\nHost: a\r\n"
                      "If-Modified-Since: Sun, 06 Nov 1994 06:49:37 GMT\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "HTTP/1.1 304 Not Modified\r\n"));
    teardown();
}
END_TEST

/* Empty lines before a request are its first bytes: sending nothing but
 * CRLFs, one every 9 s, still meets the header timeout 10 s after the
 * first, and a fifth empty line is refused at once. */
START_TEST(empty_lines_start_the_header_timeout)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40011);
    send_request(&cl, "\r\n");
    advance(&cl, 9 * USEC_PER_SEC);
    send_request(&cl, "\r\n");
    ck_assert_uint_eq(cl.rx_len, 0);
    advance(&cl, 1 * USEC_PER_SEC);
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "HTTP/1.1 408 Request Timeout\r\n"));
    ck_assert(cl.got_fin);
    teardown();

    setup();
    connect_client(&cl, 40012);
    send_request(&cl, "\r\n\r\n\r\n\r\n\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "HTTP/1.1 400 Bad Request\r\n"));
    teardown();
}
END_TEST

START_TEST(idle_timeout_closes)
{
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40008);
    send_request(&cl, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "200 OK"));
    advance(&cl, 14 * USEC_PER_SEC);
    ck_assert(!cl.got_fin);
    advance(&cl, 1 * USEC_PER_SEC);
    ck_assert(cl.got_fin);  /* 15 s idle: FIN, no 408 for a quiet connection */
    ck_assert_uint_eq(cl.rx_len, hl + 15);
    ck_assert_ptr_nonnull(strstr(log_lines[0], "--idle-timeout"));
    teardown();
}
END_TEST

/* Segments the server has emitted to port since the last pump(): how many
 * carry data, and (with fins) how many carry a FIN. */
static int data_segments_to(uint16_t port, int *fins)
{
    int n = 0;
    if (fins)
        *fins = 0;
    for (int i = 0; i < npkts; i++) {
        struct ipv4_packet ip;
        struct tcp_segment s;
        enum drop_reason why;
        ck_assert(ipv4_parse(pkts[i].data, pkts[i].len, &ip, &why));
        ck_assert(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &s, &why));
        n += s.dport == port && s.data_len > 0;
        if (fins)
            *fins += s.dport == port && (s.flags & TCP_FIN);
    }
    return n;
}

START_TEST(small_response_is_one_segment)
{
    /* Head and body leave together: sent apart, Nagle would hold the body
     * until the client's (delayed) ACK of the head. */
    static const char req[] = "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n";
    struct client cl;
    setup();
    connect_client(&cl, 40010);
    cl.auto_ack = false;
    send_seg(&cl, TCP_ACK | TCP_PSH, req, strlen(req));
    ck_assert_int_eq(data_segments_to(40010, NULL), 1);
    pump(&cl);
    ck_assert_ptr_nonnull(strstr(cl.rx, "200 OK"));
    ck_assert_ptr_nonnull(strstr(cl.rx, "\r\n\r\n<h1>index</h1>\n"));
    teardown();
}
END_TEST

START_TEST(fin_rides_on_the_last_response)
{
    /* Connection: close and HTTP/1.0: head, body and FIN in one segment,
     * not the FIN alone after it. */
    static const char *const reqs[] = {
        "GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "GET /index.html HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",  /* no Host: 400, then close */
    };
    setup();
    for (int i = 0; i < 3; i++) {
        struct client cl;
        int fins;
        connect_client(&cl, (uint16_t)(40020 + i));
        cl.auto_ack = false;
        send_seg(&cl, TCP_ACK | TCP_PSH, reqs[i], strlen(reqs[i]));
        ck_assert_int_eq(npkts, 1);
        ck_assert_int_eq(data_segments_to(cl.port, &fins), 1);
        ck_assert_int_eq(fins, 1);
        pump(&cl);
        ck_assert(cl.got_fin);
        ck_assert_ptr_nonnull(strstr(cl.rx, "Connection: close\r\n"));
    }
    teardown();
}
END_TEST

START_TEST(client_that_stops_reading_is_reset)
{
    struct client cl;
    setup();
    connect_client(&cl, 40009);
    cl.auto_ack = false;  /* never acknowledge: the send buffer fills and stays full */
    send_request(&cl, "GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n");
    for (int i = 0; i < 16 && !cl.got_rst; i++)
        advance(&cl, USEC_PER_SEC);
    ck_assert(cl.got_rst);
    ck_assert_ptr_nonnull(strstr(log_lines[0], "client read nothing"));
    ck_assert_int_eq(naccess, 1);  /* the partial response is logged */
    ck_assert_ptr_nonnull(strstr(access_lines[0], "\"GET /big.bin HTTP/1.1\" 200"));
    teardown();
}
END_TEST

START_TEST(idle_connection_holds_only_its_struct)
{
    /* Memory follows use: the parser's buffers while a request is read,
     * pipelined bytes while they wait, nothing else once idle. */
    static const char second[] = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    struct http_config hc;
    struct client cl;
    size_t hl;
    setup();
    http_config_defaults(&hc);
    connect_client(&cl, 40011);
    size_t idle = http_server_conn_bytes(srv);
    ck_assert_uint_gt(idle, 0);
    ck_assert_uint_le(idle, HTTP_IDLE_CONN_MAX_BYTES);
    cl.auto_ack = false;  /* big.bin stays queued, so the second request waits */
    char both[128];
    snprintf(both, sizeof both, "GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n%s", second);
    send_request(&cl, both);
    ck_assert_uint_eq(http_server_conn_bytes(srv),
                      idle + http_parser_bytes(&hc.limits) + strlen(second));
    cl.auto_ack = true;
    send_seg(&cl, TCP_ACK, NULL, 0);
    pump(&cl);
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "Content-Length: 204800\r\n"));
    consume(&cl, hl + BIG_SIZE);
    ck_assert_ptr_nonnull(strstr(first_head(&cl, &hl), "Content-Length: 15\r\n"));
    ck_assert_uint_eq(http_server_conn_bytes(srv), idle);  /* answered both: idle again */
    ck_assert_uint_eq(http_server_spare_parsers(srv), 1);  /* its buffers, kept for reuse */
    struct client c2;
    connect_client(&c2, 40012);
    ck_assert_uint_eq(http_server_conn_bytes(srv), 2 * idle);
    send_request(&c2, second);                             /* takes the spare ... */
    ck_assert_ptr_nonnull(strstr(first_head(&c2, &hl), "Content-Length: 15\r\n"));
    ck_assert_uint_eq(http_server_spare_parsers(srv), 1);  /* ... and gives it back */
    teardown();
    ck_assert_uint_eq(naccess, 3);
}
END_TEST

/* ACKs what arrives from the server, never past its stream byte `upto`
 * (counted from base, the first byte after its SYN). */
static void ack_up_to(struct client *cl, uint32_t base, uint32_t upto)
{
    uint32_t acked = 0;
    for (int i = 0; i < 1000 && acked < upto; i++) {
        pump(cl);
        uint32_t got = cl->rcv_nxt - base, ack = got < upto ? got : upto, rcv_nxt = cl->rcv_nxt;
        ck_assert_uint_gt(ack, acked);  /* an ACK that moves nothing would be a dupack */
        cl->rcv_nxt = base + ack;
        send_seg(cl, TCP_ACK, NULL, 0);
        cl->rcv_nxt = rcv_nxt;
        acked = ack;
    }
    ck_assert_uint_eq(acked, upto);
}

START_TEST(head_split_by_a_full_send_buffer)
{
    /* The second pipelined response's head finds 100 bytes of send space:
     * the rest goes when ACKs free more, and the bytes are the same as a
     * head sent whole. */
    struct client cl;
    size_t hl;
    setup();
    connect_client(&cl, 40013);
    uint32_t base = cl.rcv_nxt;
    cl.auto_ack = false;
    send_request(&cl, "GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n"
                      "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    first_head(&cl, &hl);
    /* Once the ring (64 KiB) is full, ACKing up to here leaves 100 bytes
     * after big.bin's last byte. */
    ack_up_to(&cl, base, (uint32_t)(hl + BIG_SIZE - 64 * 1024 + 100));
    wall = WALL + 2;  /* the rest of the head still carries the Date it began with */
    cl.auto_ack = true;
    send_seg(&cl, TCP_ACK, NULL, 0);
    pump(&cl);
    consume(&cl, hl + BIG_SIZE);
    ck_assert_str_eq(first_head(&cl, &hl), hello_head);
    ck_assert_uint_eq(cl.rx_len, hl + 15);
    teardown();
}
END_TEST

Suite *http_server_suite(void)
{
    Suite *s = suite_create("http_server");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, get_exact_response);
    tcase_add_test(tc, head_and_conditional);
    tcase_add_test(tc, errors_and_methods);
    tcase_add_test(tc, pipelined_in_order_and_byte_by_byte);
    tcase_add_test(tc, expect_100_continue_is_answered_at_once);
    tcase_add_test(tc, directory_without_slash_is_redirected);
    tcase_add_test(tc, streams_a_large_file_and_ranges);
    tcase_add_test(tc, header_timeout_answers_408);
    tcase_add_test(tc, empty_lines_start_the_header_timeout);
    tcase_add_test(tc, future_mtime_is_sent_as_now);
    tcase_add_test(tc, idle_timeout_closes);
    tcase_add_test(tc, small_response_is_one_segment);
    tcase_add_test(tc, fin_rides_on_the_last_response);
    tcase_add_test(tc, client_that_stops_reading_is_reset);
    tcase_add_test(tc, idle_connection_holds_only_its_struct);
    tcase_add_test(tc, head_split_by_a_full_send_buffer);
    suite_add_tcase(s, tc);
    return s;
}
