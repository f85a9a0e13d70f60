/*
 * test_tcp_state.c -- every TCP state change driven through the public
 * stack: hand-built segments in with stack_input(), captured segments out,
 * and the TRACE_STATES lines checked in order (RFC 9293 §3.10).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "stack/ipv4.h"
#include "stack/isn.h"
#include "stack/stack.h"
#include "stack/tcp.h"
#include "stack/tcp_app.h"
#include "stack/tcp_header.h"
#include "tests/unit/suites.h"

#define SERVER 0x0a000002u   /* 10.0.0.2, the stack */
#define CLIENT 0x0a000001u   /* 10.0.0.1, the test playing the peer */
#define SPORT 80
#define CPORT 40000
#define CISN 1000u
#define T0 (5 * USEC_PER_SEC)
#define MSL (30 * USEC_PER_SEC)

static const uint8_t test_key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* --- capture: packets out, trace lines, app callbacks ------------------- */

#define MAX_CAP 64
static struct { uint8_t data[1600]; size_t len; } pkts[MAX_CAP];
static int npkts;
static char traces[MAX_CAP][512];
static int ntraces;

static struct tcp_conn *g_conn;
static int g_accepts, g_eofs, g_closed;
static enum tcp_close_reason g_reason;
static bool g_close_on_eof;
static int app_token;

static void cap_output(void *ctx, const struct slice *parts, int n,
                       const struct stack_offload *off)
{
    (void)off;  /* offload is off in these tests */
    (void)ctx;
    ck_assert_int_lt(npkts, MAX_CAP);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        ck_assert_uint_le(at + parts[i].len, sizeof pkts[0].data);
        memcpy(pkts[npkts].data + at, parts[i].data, parts[i].len);
        at += parts[i].len;
    }
    pkts[npkts++].len = at;
}

static void cap_trace(void *ctx, const char *line)
{
    (void)ctx;
    ck_assert_int_lt(ntraces, MAX_CAP);
    snprintf(traces[ntraces++], sizeof traces[0], "%s", line);
}

static void *app_accept(void *app, struct tcp_conn *c)
{
    (void)app;
    g_conn = c;
    g_accepts++;
    return &app_token;
}

static void app_eof(void *state, struct tcp_conn *c)
{
    ck_assert_ptr_eq(state, &app_token);
    g_eofs++;
    if (g_close_on_eof)
        tcp_close(c);
}

static void app_closed(void *state, struct tcp_conn *c, enum tcp_close_reason why)
{
    (void)c;
    ck_assert_ptr_eq(state, &app_token);
    g_closed++;
    g_reason = why;
    g_conn = NULL;
}

/* What the app writes the next time it may send (once), or NULL. */
static const char *g_refill;

static void app_sendable(void *state, struct tcp_conn *c)
{
    (void)state;
    if (g_refill)
        tcp_send_more(c, g_refill, strlen(g_refill));
    g_refill = NULL;
}

static const struct tcp_app_ops test_ops = {
    .on_accept = app_accept, .on_eof = app_eof, .on_sendable = app_sendable,
    .on_closed = app_closed,
};

static struct stack *new_stack_cfg(enum trace_level level, uint32_t backlog, bool syn_cookies)
{
    npkts = ntraces = 0;
    g_conn = NULL;
    g_accepts = g_eofs = g_closed = 0;
    g_reason = (enum tcp_close_reason)-1;
    g_close_on_eof = false;
    g_refill = NULL;
    struct stack_config cfg;
    stack_config_defaults(&cfg);
    cfg.addr = SERVER;
    cfg.msl = MSL;
    cfg.backlog = backlog;
    cfg.syn_cookies = syn_cookies;
    cfg.trace_level = level;
    memcpy(cfg.isn_key, test_key, sizeof test_key);
    struct stack_io io = { .output = cap_output, .trace = cap_trace, .ctx = NULL };
    struct stack *st = stack_new(&cfg, &io);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(tcp_listen(st, SPORT, &test_ops, NULL), 0);
    return st;
}

static struct stack *new_stack(void)
{
    return new_stack_cfg(TRACE_STATES, STACK_DEFAULT_BACKLOG, true);
}

/* One segment from CLIENT:cport to SERVER:80, no options, with data. */
static void send_data_from(struct stack *st, uint16_t cport, uint8_t flags, uint32_t seq,
                           uint32_t ack, const char *data, usec_t now)
{
    uint8_t pkt[IPV4_HDR_LEN + TCP_HDR_LEN + 64];
    size_t len = strlen(data);
    ck_assert_uint_le(len, 64);
    struct tcp_segment h = { .src = CLIENT, .dst = SERVER, .sport = cport, .dport = SPORT,
                             .seq = seq, .ack = ack, .flags = flags, .wnd = 65535 };
    static const uint8_t no_opts[1] = { 0 };
    struct slice body = { (const uint8_t *)data, len };
    uint32_t hlen = tcp_write_header(pkt + IPV4_HDR_LEN, &h, no_opts, 0, &body, len ? 1 : 0);
    memcpy(pkt + IPV4_HDR_LEN + hlen, data, len);
    ipv4_write_header(pkt, CLIENT, SERVER, IPPROTO_TCP_NUM, (uint16_t)(hlen + len), 1, true);
    stack_input(st, pkt, IPV4_HDR_LEN + hlen + len, now);
}

static void send_from(struct stack *st, uint16_t cport, uint8_t flags, uint32_t seq,
                      uint32_t ack, usec_t now)
{
    send_data_from(st, cport, flags, seq, ack, "", now);
}

static void send_seg(struct stack *st, uint8_t flags, uint32_t seq, uint32_t ack, usec_t now)
{
    send_from(st, CPORT, flags, seq, ack, now);
}

/* Captured packet i, parsed (checksums verified on the way). */
static struct tcp_segment out_seg(int i)
{
    ck_assert_int_lt(i, npkts);
    struct ipv4_packet ip;
    struct tcp_segment s;
    enum drop_reason why;
    ck_assert_msg(ipv4_parse(pkts[i].data, pkts[i].len, &ip, &why), "bad IPv4 out: %s",
                  drop_reason_name(why));
    ck_assert_uint_eq(ip.src, SERVER);
    ck_assert_uint_eq(ip.dst, CLIENT);
    ck_assert_uint_eq(ip.proto, IPPROTO_TCP_NUM);
    ck_assert_msg(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &s, &why),
                  "bad TCP out: %s", drop_reason_name(why));
    return s;
}

static struct tcp_segment last_seg(void)
{
    return out_seg(npkts - 1);
}

/* SYN at T0, ACK of the SYN-ACK at T0 + 1 ms; returns our ISS. */
static uint32_t handshake(struct stack *st)
{
    send_seg(st, TCP_SYN, CISN, 0, T0);
    ck_assert_int_eq(npkts, 1);
    uint32_t iss = out_seg(0).seq;
    send_seg(st, TCP_ACK, CISN + 1, iss + 1, T0 + 1000);
    ck_assert_int_eq(g_accepts, 1);
    ck_assert_ptr_nonnull(g_conn);
    return iss;
}

/* --- trace checks ---------------------------------------------------------- */

/* "OLD -> NEW" of every transition line, in order. */
static int transitions(char out[][48], int max)
{
    int n = 0;
    for (int i = 0; i < ntraces && n < max; i++) {
        const char *arrow = strstr(traces[i], " -> ");
        if (!arrow)
            continue;
        const char *b = arrow;
        while (b > traces[i] && b[-1] != ' ')
            b--;
        const char *e = arrow + 4;
        while (*e && *e != ' ')
            e++;
        snprintf(out[n++], 48, "%.*s", (int)(e - b), b);
    }
    return n;
}

static void dump_traces(void)
{
    for (int i = 0; i < ntraces; i++)
        fprintf(stderr, "  trace[%d] %s\n", i, traces[i]);
}

/* Asserts the transitions so far are exactly want[0..n), and that every
 * transition line names its RFC and the source line that made it. */
static void expect_transitions(const char *const *want, int n)
{
    char got[MAX_CAP][48];
    int k = transitions(got, MAX_CAP);
    if (k != n)
        dump_traces();
    ck_assert_int_eq(k, n);
    for (int i = 0; i < n; i++) {
        if (strcmp(got[i], want[i]) != 0)
            dump_traces();
        ck_assert_str_eq(got[i], want[i]);
    }
    for (int i = 0; i < ntraces; i++) {
        const char *l = traces[i];
        if (!strstr(l, " -> "))
            continue;
        ck_assert_msg(strstr(l, "RFC 9293") || strstr(l, "RFC 6191"), "no RFC in: %s", l);
        ck_assert_msg(strstr(l, "[stack/") != NULL, "no [stack/ in: %s", l);
        ck_assert_msg(strstr(l, ".c:") != NULL, "no .c: in: %s", l);
        ck_assert_msg(l[strlen(l) - 1] == ']', "line does not end with ]: %s", l);
    }
}

#define EXPECT(...)                                                          \
    do {                                                                     \
        static const char *const want_[] = { __VA_ARGS__ };                  \
        expect_transitions(want_, (int)(sizeof want_ / sizeof want_[0]));    \
    } while (0)

/* --- opening ----------------------------------------------------------------- */

START_TEST(syn_gets_synack_with_rfc6528_isn)
{
    struct stack *st = new_stack();
    ck_assert_uint_eq(stack_conn_count(st), 0);
    send_seg(st, TCP_SYN, CISN, 0, T0);
    ck_assert_int_eq(npkts, 1);
    struct tcp_segment s = out_seg(0);
    ck_assert_uint_eq(s.flags, TCP_SYN | TCP_ACK);
    ck_assert_uint_eq(s.seq, isn_generate(test_key, SERVER, SPORT, CLIENT, CPORT, T0));
    ck_assert_uint_eq(s.ack, CISN + 1);
    ck_assert_uint_eq(s.sport, SPORT);
    ck_assert_uint_eq(s.dport, CPORT);
    ck_assert(s.opt.has_mss);
    ck_assert_uint_eq(s.opt.mss, STACK_DEFAULT_MTU - 40);
    ck_assert(!s.opt.has_timestamp && !s.opt.has_wscale && !s.opt.sack_permitted);
    ck_assert_uint_eq(stack_conn_count(st), 1);
    ck_assert_uint_eq(stack_next_deadline(st), T0 + TCP_INITIAL_RTO);
    EXPECT("LISTEN -> SYN-RECEIVED");
    stack_free(st);
}
END_TEST

START_TEST(first_trace_line_exact_text)
{
    struct stack *st = new_stack();
    send_seg(st, TCP_SYN, CISN, 0, T0);
    ck_assert_int_eq(ntraces, 1);
    const char *prefix = "5.000000 10.0.0.1:40000 > 10.0.0.2:80 LISTEN -> SYN-RECEIVED "
                         "on [SYN] seq=1000 (rel 0) win=65535 len=0 "
                         "(RFC 9293 §3.10.7.2) [stack/tcp_input.c:";
    ck_assert_msg(strncmp(traces[0], prefix, strlen(prefix)) == 0, "got: %s", traces[0]);
    stack_free(st);
}
END_TEST

START_TEST(ack_of_synack_establishes)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    ck_assert_int_eq(npkts, 1);             /* a bare ACK is not answered */
    ck_assert_int_eq(conn_tcb(g_conn)->state, TCP_ESTABLISHED);
    ck_assert_uint_eq(conn_tcb(g_conn)->snd_una, iss + 1);
    ck_assert_uint_eq(conn_tcb(g_conn)->rcv_nxt, CISN + 1);
    ck_assert_uint_eq(stack_conn_count(st), 1);
    ck_assert_uint_eq(stack_next_deadline(st), USEC_NEVER);
    ck_assert_uint_eq(stack_counters(st)->events[EV_TCP_ESTABLISHED], 1);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED");
    stack_free(st);
}
END_TEST

START_TEST(bad_ack_in_syn_received_gets_rst)
{
    struct stack *st = new_stack();
    send_seg(st, TCP_SYN, CISN, 0, T0);
    uint32_t iss = out_seg(0).seq;
    send_seg(st, TCP_ACK, CISN + 1, iss + 5, T0 + 1000);
    ck_assert_int_eq(npkts, 2);
    struct tcp_segment r = last_seg();
    ck_assert_uint_eq(r.flags, TCP_RST);
    ck_assert_uint_eq(r.seq, iss + 5);
    ck_assert_int_eq(g_accepts, 0);
    ck_assert_uint_eq(stack_conn_count(st), 1);
    EXPECT("LISTEN -> SYN-RECEIVED");
    stack_free(st);
}
END_TEST

START_TEST(segment_to_closed_port_gets_rst)
{
    /* RFC 9293 §3.10.7.1: no listener on 81. */
    struct stack *st = new_stack();
    uint8_t pkt[IPV4_HDR_LEN + TCP_HDR_LEN];
    static const uint8_t no_opts[1] = { 0 };
    struct tcp_segment h = { .src = CLIENT, .dst = SERVER, .sport = CPORT, .dport = 81,
                             .seq = CISN, .flags = TCP_SYN, .wnd = 65535 };
    tcp_write_header(pkt + IPV4_HDR_LEN, &h, no_opts, 0, NULL, 0);
    ipv4_write_header(pkt, CLIENT, SERVER, IPPROTO_TCP_NUM, TCP_HDR_LEN, 1, true);
    stack_input(st, pkt, sizeof pkt, T0);
    ck_assert_int_eq(npkts, 1);
    struct tcp_segment r = out_seg(0);
    ck_assert_uint_eq(r.flags, TCP_RST | TCP_ACK);
    ck_assert_uint_eq(r.seq, 0);
    ck_assert_uint_eq(r.ack, CISN + 1);
    ck_assert_uint_eq(r.sport, 81);
    ck_assert_uint_eq(stack_counters(st)->drops[DROP_TCP_NO_LISTENER], 1);
    ck_assert_uint_eq(stack_conn_count(st), 0);
    ck_assert_int_eq(ntraces, 0);
    stack_free(st);
}
END_TEST

START_TEST(ack_to_listener_gets_rst)
{
    /* RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST>, no state change. */
    struct stack *st = new_stack();
    send_seg(st, TCP_ACK, CISN, 0x12345678u, T0);
    ck_assert_int_eq(npkts, 1);
    struct tcp_segment r = out_seg(0);
    ck_assert_uint_eq(r.flags, TCP_RST);
    ck_assert_uint_eq(r.seq, 0x12345678u);
    ck_assert_uint_eq(stack_conn_count(st), 0);
    ck_assert_int_eq(ntraces, 0);
    stack_free(st);
}
END_TEST

START_TEST(rst_in_syn_received_returns_to_listen)
{
    struct stack *st = new_stack();
    send_seg(st, TCP_SYN, CISN, 0, T0);
    send_seg(st, TCP_RST, CISN + 1, 0, T0 + 1000);
    ck_assert_uint_eq(stack_conn_count(st), 0);
    ck_assert_int_eq(npkts, 1);
    ck_assert_uint_eq(stack_next_deadline(st), USEC_NEVER);
    /* The listener is still there and takes the next SYN. */
    send_seg(st, TCP_SYN, CISN + 7, 0, T0 + 2000);
    ck_assert_int_eq(npkts, 2);
    ck_assert_uint_eq(last_seg().ack, CISN + 8);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> LISTEN", "LISTEN -> SYN-RECEIVED");
    stack_free(st);
}
END_TEST

START_TEST(synack_retries_exhausted_closes)
{
    struct stack *st = new_stack();
    send_seg(st, TCP_SYN, CISN, 0, T0);
    uint32_t iss = out_seg(0).seq;
    for (int i = 0; i < 20 && stack_next_deadline(st) != USEC_NEVER; i++)
        stack_tick(st, stack_next_deadline(st));
    ck_assert_int_eq(npkts, 1 + STACK_DEFAULT_SYNACK_RETRIES);
    for (int i = 0; i < npkts; i++) {
        struct tcp_segment s = out_seg(i);
        ck_assert_uint_eq(s.flags, TCP_SYN | TCP_ACK);
        ck_assert_uint_eq(s.seq, iss);
    }
    ck_assert_uint_eq(stack_conn_count(st), 0);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> CLOSED");
    stack_free(st);
}
END_TEST

START_TEST(backlog_counts_only_half_open)
{
    struct stack *st = new_stack_cfg(TRACE_STATES, 1, false);
    send_from(st, CPORT, TCP_SYN, CISN, 0, T0);
    send_from(st, CPORT + 1, TCP_SYN, 5000, 0, T0);
    ck_assert_int_eq(npkts, 1);
    ck_assert_uint_eq(stack_counters(st)->drops[DROP_TCP_BACKLOG], 1);
    send_from(st, CPORT, TCP_ACK, CISN + 1, out_seg(0).seq + 1, T0 + 1000);
    send_from(st, CPORT + 1, TCP_SYN, 5000, 0, T0 + 2000);
    ck_assert_int_eq(npkts, 2);
    ck_assert_uint_eq(last_seg().dport, CPORT + 1);
    ck_assert_uint_eq(stack_conn_count(st), 2);
    stack_free(st);
}
END_TEST

/* Past the backlog a SYN gets a SYN-ACK that keeps nothing (RFC 4987 §3.6):
 * its only option is the MSS, and its ACK opens the connection; an ACK
 * whose cookie is off by one opens nothing and gets an RST. */
START_TEST(backlog_full_answers_with_syn_cookie)
{
    struct stack *st = new_stack_cfg(TRACE_STATES, 1, true);
    send_from(st, CPORT, TCP_SYN, CISN, 0, T0);
    send_from(st, CPORT + 1, TCP_SYN, 5000, 0, T0);
    ck_assert_int_eq(npkts, 2);
    struct tcp_segment c = out_seg(1);
    ck_assert_uint_eq(c.flags, TCP_SYN | TCP_ACK);
    ck_assert_uint_eq(c.ack, 5001);
    ck_assert_uint_eq(c.hdr_len, 24);  /* MSS and nothing else */
    ck_assert(c.opt.has_mss && !c.opt.has_wscale && !c.opt.sack_permitted &&
              !c.opt.has_timestamp);
    ck_assert_uint_eq(stack_counters(st)->events[EV_TCP_SYN_COOKIES_SENT], 1);
    ck_assert_uint_eq(stack_counters(st)->drops[DROP_TCP_BACKLOG], 0);
    send_from(st, CPORT + 1, TCP_ACK, 5001, c.seq + 2, T0 + 1000);
    ck_assert_int_eq(npkts, 3);
    ck_assert_uint_eq(last_seg().flags, TCP_RST);
    ck_assert_uint_eq(stack_conn_count(st), 1);
    send_from(st, CPORT + 1, TCP_ACK, 5001, c.seq + 1, T0 + 2000);
    ck_assert_uint_eq(stack_conn_count(st), 2);
    ck_assert_uint_eq(g_accepts, 1);
    ck_assert_uint_eq(stack_counters(st)->events[EV_TCP_SYN_COOKIES_OK], 1);
    stack_free(st);
}
END_TEST

/* --- closing ------------------------------------------------------------------ */

START_TEST(client_closes_first_last_ack_path)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    g_close_on_eof = true;
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 1, iss + 1, T0 + 2000);
    ck_assert_int_eq(g_eofs, 1);
    ck_assert_uint_eq(stack_conn_count(st), 1);
    struct tcp_segment f = last_seg();
    ck_assert_uint_eq(f.flags, TCP_FIN | TCP_ACK);
    ck_assert_uint_eq(f.seq, iss + 1);
    ck_assert_uint_eq(f.ack, CISN + 2);
    send_seg(st, TCP_ACK, CISN + 2, iss + 2, T0 + 3000);
    ck_assert_uint_eq(stack_conn_count(st), 0);
    ck_assert_int_eq(g_closed, 1);
    ck_assert_int_eq(g_reason, TCP_CLOSED_NORMALLY);
    ck_assert_uint_eq(stack_next_deadline(st), USEC_NEVER);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED",
           "ESTABLISHED -> CLOSE-WAIT", "CLOSE-WAIT -> LAST-ACK", "LAST-ACK -> CLOSED");
    stack_free(st);
}
END_TEST

START_TEST(fin_acked_in_close_wait_until_app_closes)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 1, iss + 1, T0 + 2000);
    struct tcp_segment a = last_seg();
    ck_assert_uint_eq(a.flags, TCP_ACK);
    ck_assert_uint_eq(a.ack, CISN + 2);
    ck_assert_int_eq(conn_tcb(g_conn)->state, TCP_CLOSE_WAIT);
    ck_assert_uint_eq(stack_conn_count(st), 1);
    tcp_close(g_conn);
    ck_assert_uint_eq(last_seg().flags, TCP_FIN | TCP_ACK);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED",
           "ESTABLISHED -> CLOSE-WAIT", "CLOSE-WAIT -> LAST-ACK");
    stack_free(st);
}
END_TEST

START_TEST(server_closes_first_time_wait_path)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    tcp_close(g_conn);
    struct tcp_segment f = last_seg();
    ck_assert_uint_eq(f.flags, TCP_FIN | TCP_ACK);
    ck_assert_uint_eq(f.seq, iss + 1);
    ck_assert_uint_eq(f.ack, CISN + 1);
    ck_assert_uint_eq(stack_conn_count(st), 1);

    send_seg(st, TCP_ACK, CISN + 1, iss + 2, T0 + 2000);
    ck_assert_uint_eq(stack_conn_count(st), 1);

    usec_t t_fin = T0 + 3000;
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 1, iss + 2, t_fin);
    struct tcp_segment a = last_seg();
    ck_assert_uint_eq(a.flags, TCP_ACK);
    ck_assert_uint_eq(a.seq, iss + 2);
    ck_assert_uint_eq(a.ack, CISN + 2);
    ck_assert_uint_eq(stack_conn_count(st), 0);     /* TIME-WAIT is not counted */
    ck_assert_int_eq(g_closed, 1);
    ck_assert_int_eq(g_reason, TCP_CLOSED_NORMALLY);
    ck_assert_uint_eq(stack_next_deadline(st), t_fin + 2 * MSL);

    stack_tick(st, t_fin + 2 * MSL - 1);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED",
           "ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2", "FIN-WAIT-2 -> TIME-WAIT");
    stack_tick(st, t_fin + 2 * MSL);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED",
           "ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2", "FIN-WAIT-2 -> TIME-WAIT",
           "TIME-WAIT -> CLOSED");
    ck_assert_uint_eq(stack_next_deadline(st), USEC_NEVER);
    ck_assert_uint_eq(stack_conn_count(st), 0);
    stack_free(st);
}
END_TEST

START_TEST(fin_acking_our_fin_passes_fin_wait_2_to_time_wait)
{
    /* The peer's FIN also acknowledges ours.  §3.10.7.4 fifth moves to
     * FIN-WAIT-2 "and continue[s] processing in that state"; eighth then
     * enters TIME-WAIT: two transitions on one segment. */
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    tcp_close(g_conn);
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 1, iss + 2, T0 + 2000);
    ck_assert_uint_eq(last_seg().ack, CISN + 2);
    ck_assert_uint_eq(stack_conn_count(st), 0);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED",
           "ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2", "FIN-WAIT-2 -> TIME-WAIT");
    stack_free(st);
}
END_TEST

START_TEST(simultaneous_close_closing_path)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    tcp_close(g_conn);
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 1, iss + 1, T0 + 2000);  /* crosses our FIN */
    struct tcp_segment a = last_seg();
    ck_assert_uint_eq(a.flags, TCP_ACK);
    ck_assert_uint_eq(a.ack, CISN + 2);
    ck_assert_uint_eq(stack_conn_count(st), 1);
    usec_t t_ack = T0 + 3000;
    send_seg(st, TCP_ACK, CISN + 2, iss + 2, t_ack);
    ck_assert_uint_eq(stack_conn_count(st), 0);
    ck_assert_uint_eq(stack_next_deadline(st), t_ack + 2 * MSL);
    stack_tick(st, t_ack + 2 * MSL);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED",
           "ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> CLOSING", "CLOSING -> TIME-WAIT",
           "TIME-WAIT -> CLOSED");
    stack_free(st);
}
END_TEST

START_TEST(retransmitted_fin_in_time_wait_restarts_2msl)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    tcp_close(g_conn);
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 1, iss + 2, T0 + 2000);
    int before = npkts;
    usec_t t_again = T0 + 10 * USEC_PER_SEC;
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 1, iss + 2, t_again);
    ck_assert_int_eq(npkts, before + 1);
    ck_assert_uint_eq(last_seg().ack, CISN + 2);
    ck_assert_uint_eq(stack_next_deadline(st), t_again + 2 * MSL);
    stack_free(st);
}
END_TEST

/* --- reset ---------------------------------------------------------------------- */

START_TEST(rst_at_rcv_nxt_closes_established)
{
    struct stack *st = new_stack();
    handshake(st);
    send_seg(st, TCP_RST, CISN + 1, 0, T0 + 2000);
    ck_assert_int_eq(npkts, 1);             /* no answer to an RST */
    ck_assert_uint_eq(stack_conn_count(st), 0);
    ck_assert_int_eq(g_closed, 1);
    ck_assert_int_eq(g_reason, TCP_CLOSED_RESET);
    ck_assert_uint_eq(stack_counters(st)->events[EV_TCP_RESETS_RECEIVED], 1);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED", "ESTABLISHED -> CLOSED");
    stack_free(st);
}
END_TEST

START_TEST(rst_in_window_off_rcv_nxt_challenged)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    send_seg(st, TCP_RST, CISN + 100, 0, T0 + 2000);
    ck_assert_int_eq(npkts, 2);
    struct tcp_segment a = last_seg();
    ck_assert_uint_eq(a.flags, TCP_ACK);
    ck_assert_uint_eq(a.seq, iss + 1);
    ck_assert_uint_eq(a.ack, CISN + 1);
    ck_assert_int_eq(conn_tcb(g_conn)->state, TCP_ESTABLISHED);
    ck_assert_uint_eq(stack_conn_count(st), 1);
    ck_assert_uint_eq(stack_counters(st)->events[EV_TCP_CHALLENGE_ACKS], 1);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED");
    stack_free(st);
}
END_TEST

/* --- TIME-WAIT reuse ---------------------------------------------------------- */

START_TEST(newer_syn_reuses_time_wait)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    tcp_close(g_conn);
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 1, iss + 2, T0 + 2000);
    usec_t t_new = T0 + 3 * USEC_PER_SEC;
    send_seg(st, TCP_SYN, CISN + 100000, 0, t_new);
    struct tcp_segment s = last_seg();
    ck_assert_uint_eq(s.flags, TCP_SYN | TCP_ACK);
    ck_assert_uint_eq(s.ack, CISN + 100001);
    ck_assert_uint_eq(s.seq, isn_generate(test_key, SERVER, SPORT, CLIENT, CPORT, t_new));
    ck_assert_uint_eq(stack_conn_count(st), 1);
    ck_assert_uint_eq(stack_counters(st)->events[EV_TCP_TIME_WAIT_REUSE], 1);
    EXPECT("LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED",
           "ESTABLISHED -> FIN-WAIT-1", "FIN-WAIT-1 -> FIN-WAIT-2", "FIN-WAIT-2 -> TIME-WAIT",
           "TIME-WAIT -> CLOSED", "LISTEN -> SYN-RECEIVED");
    /* The reuse line cites RFC 6191. */
    int seen = 0;
    for (int i = 0; i < ntraces; i++)
        if (strstr(traces[i], "TIME-WAIT -> CLOSED")) {
            ck_assert_ptr_nonnull(strstr(traces[i], "RFC 6191"));
            seen++;
        }
    ck_assert_int_eq(seen, 1);
    stack_free(st);
}
END_TEST

/* --- trace levels and names ----------------------------------------------------- */

START_TEST(trace_off_emits_no_lines)
{
    struct stack *st = new_stack_cfg(TRACE_OFF, STACK_DEFAULT_BACKLOG, true);
    handshake(st);
    tcp_close(g_conn);
    ck_assert_int_eq(ntraces, 0);
    stack_free(st);
}
END_TEST

START_TEST(state_names_as_in_rfc)
{
    ck_assert_str_eq(tcp_state_name(TCP_CLOSED), "CLOSED");
    ck_assert_str_eq(tcp_state_name(TCP_LISTEN), "LISTEN");
    ck_assert_str_eq(tcp_state_name(TCP_SYN_SENT), "SYN-SENT");
    ck_assert_str_eq(tcp_state_name(TCP_SYN_RECEIVED), "SYN-RECEIVED");
    ck_assert_str_eq(tcp_state_name(TCP_ESTABLISHED), "ESTABLISHED");
    ck_assert_str_eq(tcp_state_name(TCP_FIN_WAIT_1), "FIN-WAIT-1");
    ck_assert_str_eq(tcp_state_name(TCP_FIN_WAIT_2), "FIN-WAIT-2");
    ck_assert_str_eq(tcp_state_name(TCP_CLOSE_WAIT), "CLOSE-WAIT");
    ck_assert_str_eq(tcp_state_name(TCP_CLOSING), "CLOSING");
    ck_assert_str_eq(tcp_state_name(TCP_LAST_ACK), "LAST-ACK");
    ck_assert_str_eq(tcp_state_name(TCP_TIME_WAIT), "TIME-WAIT");
    ck_assert_str_eq(tcp_state_name(TCP__STATE_COUNT), "?");
}
END_TEST

/* --- memory: rings hold a buffer only while they hold bytes ----------------- */

START_TEST(rings_give_buffers_back_when_empty)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    struct tcb *t = conn_tcb(g_conn);
    ck_assert_ptr_null(t->rcvq.buf);
    ck_assert_ptr_null(t->sndq.buf);
    for (int req = 0; req < 2; req++) {
        usec_t at = T0 + 10000 * (req + 1);
        send_data_from(st, CPORT, TCP_ACK | TCP_PSH, CISN + 1 + 6 * req, iss + 1 + 8 * req,
                       "GET /\n", at);
        ck_assert_ptr_eq(t->rcvq.buf, st->rings.slot[0]);
        char in[16];
        ck_assert_uint_eq(tcp_recv(g_conn, in, sizeof in), 6);
        ck_assert_ptr_null(t->rcvq.buf);      /* read: the receive ring is empty */
        ck_assert_uint_eq(tcp_send(g_conn, "200 OK\r\n", 8), 8);
        ck_assert_ptr_eq(t->sndq.buf, st->rings.slot[0]);
        send_seg(st, TCP_ACK, CISN + 7 + 6 * req, iss + 1 + 8 * req + 4, at + 1000);
        ck_assert_ptr_nonnull(t->sndq.buf);   /* 4 of 8 bytes acked */
        ck_assert_uint_eq(t->sndq.len, 4);
        send_seg(st, TCP_ACK, CISN + 7 + 6 * req, iss + 1 + 8 * (req + 1), at + 2000);
        ck_assert_ptr_null(t->sndq.buf);      /* all acked: the send ring is empty */
        ck_assert_uint_eq(st->rings.lent, 0);
    }
    /* Two requests, one slot: the first buffer came back each time. */
    ck_assert_uint_eq(st->rings.fresh, 1);
    ck_assert_uint_eq(st->rings.misses, 0);
    stack_free(st);
}
END_TEST

START_TEST(send_ring_kept_when_the_app_refills_it)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    struct tcb *t = conn_tcb(g_conn);
    static char body[5001];
    memset(body, 'b', 5000);
    tcp_set_nodelay(g_conn, true);            /* the last 620 bytes go too */
    ck_assert_uint_eq(tcp_send(g_conn, body, 5000), 5000);
    ck_assert_uint_eq(t->snd_max, iss + 1 + 5000);
    ck_assert_uint_eq(t->sndq.alloc, 2 * RING_INITIAL_ALLOC);
    const uint8_t *grown = t->sndq.buf;
    /* Everything acked, and the app writes more from on_sendable: the
     * grown buffer stays rather than going back and growing again. */
    g_refill = "more";
    send_seg(st, TCP_ACK, CISN + 1, iss + 1 + 5000, T0 + 2000);
    ck_assert_ptr_eq(t->sndq.buf, grown);
    ck_assert_uint_eq(t->sndq.alloc, 2 * RING_INITIAL_ALLOC);
    ck_assert_uint_eq(t->sndq.len, 4);
    send_seg(st, TCP_ACK, CISN + 1, iss + 1 + 5004, T0 + 3000);
    ck_assert_ptr_null(t->sndq.buf);          /* nothing refilled this time */
    stack_free(st);
}
END_TEST

START_TEST(receive_ring_kept_while_out_of_order_bytes_wait)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    struct tcb *t = conn_tcb(g_conn);
    send_data_from(st, CPORT, TCP_ACK, CISN + 6, iss + 1, "world", T0 + 2000);
    ck_assert_uint_eq(t->ooo.n, 1);
    ck_assert_uint_eq(t->rcvq.len, 0);
    char in[16];
    ck_assert_uint_eq(tcp_recv(g_conn, in, sizeof in), 0);
    ck_assert_ptr_nonnull(t->rcvq.buf);       /* "world" waits in it past the end */
    send_data_from(st, CPORT, TCP_ACK, CISN + 1, iss + 1, "hello", T0 + 3000);
    ck_assert_uint_eq(t->ooo.n, 0);
    ck_assert_uint_eq(tcp_recv(g_conn, in, sizeof in), 10);
    ck_assert_mem_eq(in, "helloworld", 10);
    ck_assert_ptr_null(t->rcvq.buf);
    ck_assert_uint_eq(st->rings.lent, 0);
    stack_free(st);
}
END_TEST

START_TEST(time_wait_keeps_no_buffers)
{
    struct stack *st = new_stack();
    uint32_t iss = handshake(st);
    struct tcb *t = conn_tcb(g_conn);
    send_data_from(st, CPORT, TCP_ACK, CISN + 1, iss + 1, "unread", T0 + 2000);
    ck_assert_uint_eq(tcp_send(g_conn, "bye", 3), 3);
    tcp_close(g_conn);
    ck_assert_ptr_nonnull(t->rcvq.buf);       /* the app never read "unread" */
    ck_assert_ptr_nonnull(t->sndq.buf);
    send_seg(st, TCP_FIN | TCP_ACK, CISN + 7, iss + 5, T0 + 3000);
    ck_assert_int_eq(t->state, TCP_TIME_WAIT);
    ck_assert_ptr_null(t->rcvq.buf);
    ck_assert_ptr_null(t->sndq.buf);
    ck_assert_uint_eq(st->rings.lent, 0);
    ck_assert_ptr_eq(st->tw_oldest, t);
    ck_assert_ptr_eq(st->tw_newest, t);
    /* Timed by the FIFO, not the heap: 2*MSL from the FIN, to the usec. */
    ck_assert_uint_eq(t->heap_idx, UINT32_MAX);
    ck_assert_uint_eq(st->heap_len, 0);
    ck_assert_uint_eq(stack_next_deadline(st), T0 + 3000 + 2 * MSL);
    stack_tick(st, T0 + 3000 + 2 * MSL - 1);
    ck_assert_ptr_eq(st->tw_oldest, t);
    stack_tick(st, T0 + 3000 + 2 * MSL);
    ck_assert_ptr_null(st->tw_oldest);
    ck_assert_ptr_null(st->tw_newest);
    stack_free(st);
}
END_TEST

/* --- timers: a deadline that moves later leaves the heap alone ---------------- */

/* --- the 4-tuple hash ------------------------------------------------------- */

/* One client's consecutive ports, as a load tool opens them, must spread
 * over the table: 256 connections in 256 buckets use about 63 % of them
 * when hashed at random; a hash whose lowest bit never varies, at most 50 %. */
START_TEST(consecutive_ports_spread_over_the_buckets)
{
    struct stack_config cfg;
    stack_config_defaults(&cfg);
    cfg.addr = SERVER;
    cfg.max_conns = cfg.backlog = 256;
    memcpy(cfg.isn_key, test_key, sizeof test_key);
    struct stack_io io = { .output = cap_output, .ctx = NULL };
    struct stack *st = stack_new(&cfg, &io);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(tcp_listen(st, SPORT, &test_ops, NULL), 0);
    ck_assert_uint_eq(st->nbuckets, 256);
    for (uint16_t i = 0; i < 256; i++) {
        npkts = 0;
        send_from(st, (uint16_t)(32768 + i), TCP_SYN, CISN, 0, T0);
    }
    ck_assert_uint_eq(st->ntcb, 256);
    uint32_t used = 0;
    for (uint32_t b = 0; b < st->nbuckets; b++)
        used += st->buckets[b] != NULL;
    ck_assert_uint_ge(used, 144);  /* 56 % */
    for (uint16_t i = 0; i < 256; i++)
        ck_assert_ptr_nonnull(tcb_lookup(st, SERVER, SPORT, CLIENT, (uint16_t)(32768 + i)));
    stack_free(st);
}
END_TEST

START_TEST(later_deadline_keeps_heap_key_until_root)
{
    struct stack *st = new_stack();
    send_from(st, CPORT, TCP_SYN, CISN, 0, T0);                   /* SYN-ACK RTO at T0+1 s */
    send_from(st, CPORT + 1, TCP_SYN, 5000, 0, T0 + 100000);     /* ... at T0+1.1 s */
    uint32_t iss1 = out_seg(0).seq, iss2 = out_seg(1).seq;
    struct tcb *t2 = tcb_lookup(st, SERVER, SPORT, CLIENT, CPORT + 1);
    ck_assert_uint_eq(st->heap_len, 2);
    /* The second handshake completes: its only timer stops, but it is not
     * the root, so it stays in the heap under its old key. */
    send_from(st, CPORT + 1, TCP_ACK, 5001, iss2 + 1, T0 + 200000);
    ck_assert_int_eq(t2->state, TCP_ESTABLISHED);
    ck_assert_uint_eq(tcb_deadline(t2), USEC_NEVER);
    ck_assert_uint_eq(st->heap_len, 2);
    ck_assert_uint_eq(t2->heap_key, T0 + 1100000);
    ck_assert_uint_eq(stack_next_deadline(st), T0 + TCP_INITIAL_RTO);
    /* The first completes: the root's timer stops, the root is fixed, and
     * the stale key under it goes too. */
    send_from(st, CPORT, TCP_ACK, CISN + 1, iss1 + 1, T0 + 300000);
    ck_assert_uint_eq(st->heap_len, 0);
    ck_assert_uint_eq(t2->heap_idx, UINT32_MAX);
    ck_assert_uint_eq(stack_next_deadline(st), USEC_NEVER);
    stack_free(st);
}
END_TEST

START_TEST(stale_key_under_root_is_run_on_time)
{
    struct stack *st = new_stack();
    send_from(st, CPORT, TCP_SYN, CISN, 0, T0);                   /* RTO at T0+1 s */
    send_from(st, CPORT + 1, TCP_SYN, 5000, 0, T0 + 100000);     /* RTO at T0+1.1 s */
    struct tcb *t2 = tcb_lookup(st, SERVER, SPORT, CLIENT, CPORT + 1);
    /* Stopped and re-armed later (as an ACK of new data does): not the
     * root, so its key stays at T0+1.1 s, stale but below the deadline. */
    tcp_timer_stop(t2, TCP_T_REXMIT);
    tcp_timer_set(t2, TCP_T_REXMIT, T0 + 1500000);
    ck_assert_uint_eq(t2->heap_key, T0 + 1100000);
    ck_assert_uint_eq(stack_next_deadline(st), T0 + TCP_INITIAL_RTO);
    npkts = 0;
    stack_tick(st, T0 + TCP_INITIAL_RTO);     /* the first SYN-ACK again */
    ck_assert_int_eq(npkts, 1);
    ck_assert_uint_eq(out_seg(0).dport, CPORT);
    /* The first now waits 2 s (backed off); the second is root, re-keyed. */
    ck_assert_uint_eq(stack_next_deadline(st), T0 + 1500000);
    ck_assert_uint_eq(t2->heap_key, T0 + 1500000);
    stack_tick(st, T0 + 1500000 - 1);
    ck_assert_int_eq(npkts, 1);
    stack_tick(st, T0 + 1500000);
    ck_assert_int_eq(npkts, 2);
    ck_assert_uint_eq(out_seg(1).dport, CPORT + 1);
    stack_free(st);
}
END_TEST

Suite *tcp_state_suite(void)
{
    Suite *s = suite_create("tcp_state");
    TCase *to = tcase_create("open");
    tcase_add_test(to, syn_gets_synack_with_rfc6528_isn);
    tcase_add_test(to, first_trace_line_exact_text);
    tcase_add_test(to, ack_of_synack_establishes);
    tcase_add_test(to, bad_ack_in_syn_received_gets_rst);
    tcase_add_test(to, segment_to_closed_port_gets_rst);
    tcase_add_test(to, ack_to_listener_gets_rst);
    tcase_add_test(to, rst_in_syn_received_returns_to_listen);
    tcase_add_test(to, synack_retries_exhausted_closes);
    tcase_add_test(to, backlog_counts_only_half_open);
    tcase_add_test(to, backlog_full_answers_with_syn_cookie);
    suite_add_tcase(s, to);
    TCase *tc = tcase_create("close");
    tcase_add_test(tc, client_closes_first_last_ack_path);
    tcase_add_test(tc, fin_acked_in_close_wait_until_app_closes);
    tcase_add_test(tc, server_closes_first_time_wait_path);
    tcase_add_test(tc, fin_acking_our_fin_passes_fin_wait_2_to_time_wait);
    tcase_add_test(tc, simultaneous_close_closing_path);
    tcase_add_test(tc, retransmitted_fin_in_time_wait_restarts_2msl);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("reset");
    tcase_add_test(tr, rst_at_rcv_nxt_closes_established);
    tcase_add_test(tr, rst_in_window_off_rcv_nxt_challenged);
    tcase_add_test(tr, newer_syn_reuses_time_wait);
    suite_add_tcase(s, tr);
    TCase *tm = tcase_create("memory");
    tcase_add_test(tm, rings_give_buffers_back_when_empty);
    tcase_add_test(tm, send_ring_kept_when_the_app_refills_it);
    tcase_add_test(tm, receive_ring_kept_while_out_of_order_bytes_wait);
    tcase_add_test(tm, time_wait_keeps_no_buffers);
    suite_add_tcase(s, tm);
    TCase *ti = tcase_create("timers");
    tcase_add_test(ti, consecutive_ports_spread_over_the_buckets);
    tcase_add_test(ti, later_deadline_keeps_heap_key_until_root);
    tcase_add_test(ti, stale_key_under_root_is_run_on_time);
    suite_add_tcase(s, ti);
    TCase *tt = tcase_create("trace");
    tcase_add_test(tt, trace_off_emits_no_lines);
    tcase_add_test(tt, state_names_as_in_rfc);
    suite_add_tcase(s, tt);
    return s;
}
