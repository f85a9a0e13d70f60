/*
 * harness.c -- a flat C API over the stack core for the scapy tests, loaded
 * with ctypes from build/libsynack.so.  Virtual time is whatever the test
 * passes in; outgoing packets and trace lines are queued for the test to
 * pop; a scriptable app records what each connection received and lets the
 * test send, close or abort from Python.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/placeholder_app.h"
#include "stack/stack.h"
#include "stack/tcp.h"
#include "stack/tcp_app.h"
#include "tun/gso.h"

#define H_MAX_QUEUE 4096      /* packets or trace lines held at once */
#define H_MAX_CONNS 64
#define H_CONN_RX 65536

struct blob {
    uint8_t *data;
    size_t len;
};

struct queue {
    struct blob items[H_MAX_QUEUE];
    size_t head, len;
};

struct harness;

struct hconn {
    struct harness *h;
    struct tcp_conn *c;
    uint8_t rx[H_CONN_RX];
    size_t rx_len;
    uint8_t tx[H_CONN_RX];     /* "stream" on: what tcp_send() did not take yet */
    size_t tx_len;
    int eof, closed, reason;
};

struct harness {
    struct stack_config cfg;
    struct stack *st;
    struct queue out, trace;
    struct hconn conns[H_MAX_CONNS];
    int nconns;
    int close_on_eof;          /* app closes as soon as the peer's FIN arrives */
    int read_enabled;          /* app reads (window reopens) */
    int echo;                  /* app sends back what it reads, from on_data */
    int stream;                /* app keeps what tcp_send() refused and sends
                                  it from on_sendable, as a file server does */
    unsigned long super_segments; /* GSO packets the stack emitted (offload on) */
};

static void queue_push(struct queue *q, const struct slice *parts, int n)
{
    if (q->len == H_MAX_QUEUE)
        return;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += parts[i].len;
    struct blob *b = &q->items[(q->head + q->len) % H_MAX_QUEUE];
    b->data = malloc(total ? total : 1);
    b->len = 0;
    for (int i = 0; i < n; i++) {
        memcpy(b->data + b->len, parts[i].data, parts[i].len);
        b->len += parts[i].len;
    }
    q->len++;
}

static long queue_pop(struct queue *q, uint8_t *buf, size_t cap)
{
    if (q->len == 0)
        return -1;
    struct blob *b = &q->items[q->head];
    size_t n = b->len < cap ? b->len : cap;
    memcpy(buf, b->data, n);
    free(b->data);
    q->head = (q->head + 1) % H_MAX_QUEUE;
    q->len--;
    return (long)n;
}

static void h_push_output(void *ctx, const struct slice *parts, int n)
{
    queue_push(&((struct harness *)ctx)->out, parts, n);
}

/* With offload on, tests see what the kernel's TCP would: the wire
 * segments of each super-segment, split as synackd's capture does. */
static void h_output(void *ctx, const struct slice *parts, int n,
                     const struct stack_offload *off)
{
    if (off && off->gso_size)
        ((struct harness *)ctx)->super_segments++;
    gso_split(parts, n, off, h_push_output, ctx);
}

static void h_trace(void *ctx, const char *line)
{
    struct slice s = { (const uint8_t *)line, strlen(line) + 1 };
    queue_push(&((struct harness *)ctx)->trace, &s, 1);
}

/* Bound-hit log lines join the trace queue, marked, so tests can see them. */
static void h_log(void *ctx, const char *line)
{
    char buf[256];
    snprintf(buf, sizeof buf, "log: %s", line);
    h_trace(ctx, buf);
}

/* --- the scriptable app ------------------------------------------------ */

static struct harness *app_h(void *p) { return p; }

static void *app_accept(void *app, struct tcp_conn *c)
{
    struct harness *h = app_h(app);
    if (h->nconns == H_MAX_CONNS)
        return NULL;
    struct hconn *hc = &h->conns[h->nconns++];
    memset(hc, 0, sizeof *hc);
    hc->h = h;
    hc->c = c;
    return hc;
}

static void app_data(void *state, struct tcp_conn *c)
{
    struct hconn *hc = state;
    if (!hc->h->read_enabled)
        return;
    size_t n = tcp_recv(c, hc->rx + hc->rx_len, H_CONN_RX - hc->rx_len);
    if (hc->h->echo && n)
        tcp_send(c, hc->rx + hc->rx_len, n);   /* a reply within the same input */
    hc->rx_len += n;
}

static void app_eof(void *state, struct tcp_conn *c)
{
    struct hconn *hc = state;
    hc->eof = 1;
    if (hc->h->close_on_eof)
        tcp_close(c);
}

static void app_closed(void *state, struct tcp_conn *c, enum tcp_close_reason why)
{
    (void)c;
    struct hconn *hc = state;
    hc->closed = 1;
    hc->reason = (int)why;
    hc->c = NULL;
}

/* Sends what waits in the stream backlog, keeping what is refused again. */
static void app_flush(struct hconn *hc)
{
    if (hc->tx_len == 0)
        return;
    size_t n = tcp_send(hc->c, hc->tx, hc->tx_len);
    memmove(hc->tx, hc->tx + n, hc->tx_len - n);
    hc->tx_len -= n;
}

static void app_sendable(void *state, struct tcp_conn *c)
{
    (void)c;
    app_flush(state);
}

static const struct tcp_app_ops h_ops = {
    .on_accept = app_accept, .on_data = app_data, .on_eof = app_eof,
    .on_closed = app_closed, .on_sendable = app_sendable,
};

/* --- the API ctypes sees ----------------------------------------------- */

struct harness *h_new(void);
int h_set(struct harness *h, const char *name, unsigned long long v);
int h_set_key(struct harness *h, const uint8_t key[16]);
int h_start(struct harness *h, int port, int placeholder);
void h_free(struct harness *h);
void h_input(struct harness *h, const uint8_t *pkt, size_t len, unsigned long long now);
void h_tick(struct harness *h, unsigned long long now);
unsigned long long h_next_deadline(struct harness *h);
long h_pop_output(struct harness *h, uint8_t *buf, size_t cap);
long h_pop_trace(struct harness *h, uint8_t *buf, size_t cap);
int h_nconns(struct harness *h);
unsigned long h_super_segments(struct harness *h);
long h_conn_rx(struct harness *h, int i, uint8_t *buf, size_t cap);
int h_conn_status(struct harness *h, int i);
long h_conn_send(struct harness *h, int i, const uint8_t *data, size_t len);
int h_conn_close(struct harness *h, int i);
int h_conn_abort(struct harness *h, int i);
int h_conn_read(struct harness *h, int i);
int h_conn_read_max(struct harness *h, int i, int max);
unsigned long long h_counter_drop(struct harness *h, int reason);
unsigned long long h_counter_event(struct harness *h, int ev);
unsigned h_conn_count(struct harness *h);
unsigned h_tcb_count(struct harness *h);
long h_counters_text(struct harness *h, char *buf, size_t cap);
const char *h_drop_name(int reason);

struct harness *h_new(void)
{
    struct harness *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    stack_config_defaults(&h->cfg);
    h->read_enabled = 1;
    h->cfg.trace_level = TRACE_SEGMENTS;
    return h;
}

int h_set(struct harness *h, const char *name, unsigned long long v)
{
    struct stack_config *c = &h->cfg;
    if (!strcmp(name, "mtu")) c->mtu = (uint32_t)v;
    else if (!strcmp(name, "msl")) c->msl = v;
    else if (!strcmp(name, "backlog")) c->backlog = (uint32_t)v;
    else if (!strcmp(name, "max_conns")) c->max_conns = (uint32_t)v;
    else if (!strcmp(name, "rcv_buf")) c->rcv_buf = (uint32_t)v;
    else if (!strcmp(name, "snd_buf")) c->snd_buf = (uint32_t)v;
    else if (!strcmp(name, "synack_retries")) c->synack_retries = (uint32_t)v;
    else if (!strcmp(name, "max_retries")) c->max_retries = (uint32_t)v;
    else if (!strcmp(name, "icmp_rate")) c->icmp_rate = (uint32_t)v;
    else if (!strcmp(name, "challenge_ack_rate")) c->challenge_ack_rate = (uint32_t)v;
    else if (!strcmp(name, "invalid_ack_gap")) c->invalid_ack_gap = v;
    else if (!strcmp(name, "trace_level")) c->trace_level = (enum trace_level)v;
    else if (!strcmp(name, "addr")) c->addr = (uint32_t)v;
    else if (!strcmp(name, "netmask")) c->netmask = (uint32_t)v;
    else if (!strcmp(name, "min_rto")) c->min_rto = v;
    else if (!strcmp(name, "delack")) c->delack = v;
    else if (!strcmp(name, "nagle")) c->nagle = v != 0;
    else if (!strcmp(name, "syn_cookies")) c->syn_cookies = v != 0;
    else if (!strcmp(name, "keepalive")) c->keepalive = v;
    else if (!strcmp(name, "user_timeout")) c->user_timeout = v;
    else if (!strcmp(name, "offload")) c->offload = v != 0;
    else if (!strcmp(name, "close_on_eof")) h->close_on_eof = (int)v;
    else if (!strcmp(name, "read_enabled")) h->read_enabled = (int)v;
    else if (!strcmp(name, "echo")) h->echo = (int)v;
    else if (!strcmp(name, "stream")) h->stream = (int)v;
    else return -1;
    return 0;
}

int h_set_key(struct harness *h, const uint8_t key[16])
{
    memcpy(h->cfg.isn_key, key, 16);
    return 0;
}

int h_start(struct harness *h, int port, int placeholder)
{
    struct stack_io io = { .output = h_output, .trace = h_trace, .log = h_log, .ctx = h };
    h->st = stack_new(&h->cfg, &io);
    if (!h->st)
        return -1;
    if (placeholder)
        return placeholder_app_start(h->st, (uint16_t)port);
    return tcp_listen(h->st, (uint16_t)port, &h_ops, h);
}

void h_free(struct harness *h)
{
    stack_free(h->st);
    uint8_t sink[1];
    while (queue_pop(&h->out, sink, 0) >= 0)
        ;
    while (queue_pop(&h->trace, sink, 0) >= 0)
        ;
    free(h);
}

void h_input(struct harness *h, const uint8_t *pkt, size_t len, unsigned long long now)
{
    stack_input(h->st, pkt, len, now);
}

void h_tick(struct harness *h, unsigned long long now) { stack_tick(h->st, now); }
unsigned long long h_next_deadline(struct harness *h) { return stack_next_deadline(h->st); }
long h_pop_output(struct harness *h, uint8_t *buf, size_t cap) { return queue_pop(&h->out, buf, cap); }
long h_pop_trace(struct harness *h, uint8_t *buf, size_t cap) { return queue_pop(&h->trace, buf, cap); }
int h_nconns(struct harness *h) { return h->nconns; }
unsigned long h_super_segments(struct harness *h) { return h->super_segments; }

static struct hconn *conn_at(struct harness *h, int i)
{
    return i >= 0 && i < h->nconns ? &h->conns[i] : NULL;
}

long h_conn_rx(struct harness *h, int i, uint8_t *buf, size_t cap)
{
    struct hconn *hc = conn_at(h, i);
    if (!hc)
        return -1;
    size_t n = hc->rx_len < cap ? hc->rx_len : cap;
    memcpy(buf, hc->rx, n);
    return (long)n;
}

/* bit 0: peer's FIN seen; bit 1: closed; bits 8..: close reason */
int h_conn_status(struct harness *h, int i)
{
    struct hconn *hc = conn_at(h, i);
    return hc ? hc->eof | hc->closed << 1 | hc->reason << 8 : -1;
}

long h_conn_send(struct harness *h, int i, const uint8_t *data, size_t len)
{
    struct hconn *hc = conn_at(h, i);
    if (!hc || !hc->c)
        return -1;
    size_t n = tcp_send(hc->c, data, len);
    if (h->stream && n < len && hc->tx_len + (len - n) <= sizeof hc->tx) {
        memcpy(hc->tx + hc->tx_len, data + n, len - n);
        hc->tx_len += len - n;
        return (long)len;
    }
    return (long)n;
}

int h_conn_close(struct harness *h, int i)
{
    struct hconn *hc = conn_at(h, i);
    if (!hc || !hc->c)
        return -1;
    tcp_close(hc->c);
    return 0;
}

int h_conn_abort(struct harness *h, int i)
{
    struct hconn *hc = conn_at(h, i);
    if (!hc || !hc->c)
        return -1;
    tcp_abort(hc->c);
    return 0;
}

/* Reads what is waiting (for tests that start with reading disabled). */
int h_conn_read(struct harness *h, int i)
{
    struct hconn *hc = conn_at(h, i);
    if (!hc || !hc->c)
        return -1;
    size_t n = tcp_recv(hc->c, hc->rx + hc->rx_len, H_CONN_RX - hc->rx_len);
    hc->rx_len += n;
    return (int)n;
}

/* Reads at most max bytes: an app that reads in small pieces. */
int h_conn_read_max(struct harness *h, int i, int max)
{
    struct hconn *hc = conn_at(h, i);
    if (!hc || !hc->c || max < 0)
        return -1;
    size_t room = H_CONN_RX - hc->rx_len;
    size_t n = tcp_recv(hc->c, hc->rx + hc->rx_len, (size_t)max < room ? (size_t)max : room);
    hc->rx_len += n;
    return (int)n;
}

unsigned long long h_counter_drop(struct harness *h, int r)
{
    return r >= 0 && r < DROP__COUNT ? stack_counters(h->st)->drops[r] : 0;
}

unsigned long long h_counter_event(struct harness *h, int e)
{
    return e >= 0 && e < EV__COUNT ? stack_counters(h->st)->events[e] : 0;
}

unsigned h_conn_count(struct harness *h) { return stack_conn_count(h->st); }

/* Every TCB, TIME-WAIT included (stack_conn_count() leaves those out): lets
 * a test see a TIME-WAIT entry appear and go away. */
unsigned h_tcb_count(struct harness *h) { return stack_tcb_count(h->st); }

long h_counters_text(struct harness *h, char *buf, size_t cap)
{
    return (long)counters_format(stack_counters(h->st), buf, cap);
}

const char *h_drop_name(int r) { return drop_reason_name((enum drop_reason)r); }
