/*
 * server.c -- the HTTP/1.1 server on the app interface: one struct
 * http_conn per TCP connection, driven by the stack's callbacks.
 *
 * A connection is a loop (serve()) over two steps:
 *   read   -- feed received bytes to the parser until one request is whole;
 *   answer -- route it (router: method, then static_files.c), write the
 *             head, then stream the content, never more than
 *             tcp_send_space() at a time; on_sendable resumes it.
 * Requests are answered strictly one after another, which is what makes
 * pipelining (RFC 9112 §9.3.2) come out in order: while a response is
 * going out, later requests wait unread in TCP's receive buffer, whose
 * closing window holds the client back, and in the few bytes of the last
 * read that followed the request just parsed.
 *
 * A connection allocates only what it is using: those held-over bytes
 * while they wait, and the parser's buffer while a request is read.  Bytes
 * are read from TCP into the server's one inbox and the head is built in
 * the server's one head buffer, right before it is queued; an idle
 * keep-alive connection is just struct http_conn (HTTP_IDLE_CONN_MAX_BYTES):
 * 496 bytes where a connection's own buffers took 3,520, so 10,000
 * connections that made one request each went from 178 to 16 MiB
 * (docs/performance.md).
 *
 * Timeouts use the app timer (tcp_app_timer) on tcp_now()'s clock:
 * --header-timeout from a request's first byte to its end of head, which
 * a slowloris client trickling one byte at a time cannot stretch, and
 * --idle-timeout for a quiet connection, a stalled body or a stalled
 * client that stopped reading our response.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/access_log.h"
#include "http/http_date.h"
#include "http/ladder.h"
#include "http/response.h"
#include "http/server.h"
#include "http/static_files.h"
#include "stack/tcp_app.h"

#define HTTP_INBOX_SIZE 2048        /* bytes taken from TCP per tcp_recv() */
#define HTTP_MAX_RESPONSE_HEAD 1024 /* our status line and fields */
#define HTTP_LOG_LINE 512
#define USEC_PER_SEC_U64 1000000ull

/* Bounds whose hits are logged, each thinned on its own. */
enum http_bound {
    BOUND_PARSE,     /* 400/413/414/431/501/505 from the parser */
    BOUND_HEADER_TIMEOUT,
    BOUND_IDLE_TIMEOUT,
    BOUND_SEND_STALL,
    BOUND_MEMORY,
    BOUND_FILE_ERROR,
    BOUND_COUNT
};

struct http_server {
    struct http_config cfg;
    struct http_host host;
    char *path;                 /* scratch for the normalised path */
    size_t path_cap;
    uint64_t bound_hits[BOUND_COUNT];
    size_t conn_bytes;          /* what the live connections hold */
    int64_t date_sec;           /* the second date[] shows */
    char date[HTTP_DATE_LEN];   /* the Date field, formatted once a second */
    /* Scratch shared by all connections, none of which keeps it across a
     * callback: that is what keeps an idle connection small. */
    char inbox[HTTP_INBOX_SIZE];            /* bytes just taken from TCP */
    char head[HTTP_MAX_RESPONSE_HEAD];      /* a head on its way to tcp_send_more() */
    struct http_parser spare[HTTP_SPARE_PARSERS];  /* buffers kept for the next request */
    uint32_t nspare;
};

struct http_conn {
    struct http_server *srv;
    struct tcp_conn *c;
    uint32_t peer_addr;
    uint16_t peer_port;
    struct http_parser req;     /* buffers allocated while a request is read */
    bool have_parser;
    char *held;                 /* read bytes past the last request, or NULL */
    uint32_t held_off, held_len;

    bool responding;
    struct http_response resp;
    char *page;                 /* GET /trace's page while it is sent */
    int64_t head_date;          /* the head's Date, so a rebuilt head is the same */
    uint32_t head_sent;
    bool head_done;             /* all of the head is queued */
    uint64_t body_sent;
    bool keep_alive;            /* after this response */

    bool peer_eof;              /* the client sent FIN */
    bool closing;               /* we called tcp_close() */
    uint64_t request_start;     /* tcp_now() at the request's first byte */
    uint64_t last_activity;     /* tcp_now() at the last progress either way */
};

_Static_assert(sizeof(struct http_conn) <= HTTP_IDLE_CONN_MAX_BYTES,
               "an idle connection outgrew its bound (server.h)");

/* What a step of the loop left behind. */
enum step { STEP_GO_ON, STEP_WAIT, STEP_GONE };

void http_config_defaults(struct http_config *cfg)
{
    cfg->limits = (struct http_limits){HTTP_DEFAULT_MAX_REQUEST_LINE,
                                       HTTP_DEFAULT_MAX_HEADER_BYTES, HTTP_DEFAULT_MAX_HEADERS,
                                       HTTP_DEFAULT_MAX_BODY};
    cfg->idle_timeout = HTTP_DEFAULT_IDLE_TIMEOUT_SEC * USEC_PER_SEC_U64;
    cfg->header_timeout = HTTP_DEFAULT_HEADER_TIMEOUT_SEC * USEC_PER_SEC_U64;
    cfg->server_name = "synack";
}

/* --- logging ------------------------------------------------------------- */

/* One line on the 1st, 2nd, 4th, 8th ... hit of a bound, as the stack
 * does: visible, never a flood. */
__attribute__((format(printf, 3, 4)))
static void log_bound(struct http_server *s, enum http_bound b, const char *fmt, ...)
{
    char line[HTTP_LOG_LINE];
    va_list ap;
    uint64_t n = ++s->bound_hits[b];
    if (!s->host.log || (n & (n - 1)) != 0)
        return;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (k > 0 && (size_t)k < sizeof line - 24)
        snprintf(line + k, sizeof line - (size_t)k, " (%llu so far)", (unsigned long long)n);
    s->host.log(s->host.ctx, line);
}

static void access_log(struct http_conn *hc)
{
    struct http_server *s = hc->srv;
    char line[HTTP_ACCESS_LOG_LINE];
    if (!s->host.access_log)
        return;
    http_access_log_line(line, sizeof line, hc->peer_addr, s->host.wall_clock(s->host.ctx),
                         hc->have_parser ? &hc->req : NULL, hc->resp.status, hc->body_sent);
    s->host.access_log(s->host.ctx, line);
}

/* --- planning a response ------------------------------------------------- */

/* Is the target LADDER_PATH (with or without a query)?  Only when the
 * host keeps a trace; otherwise it is just a path like any other. */
static bool is_ladder(const struct http_server *s, const struct http_parser *req)
{
    size_t n = sizeof LADDER_PATH - 1;
    return s->host.trace_count && s->host.trace_get && req->target.len >= n &&
           memcmp(req->target.p, LADDER_PATH, n) == 0 &&
           (req->target.len == n || req->target.p[n] == '?');
}

/* GET /trace: the ladder diagrams, drawn now from the host's trace. */
static void plan_ladder(struct http_conn *hc)
{
    struct http_server *s = hc->srv;
    struct http_response *r = &hc->resp;
    bool body = hc->req.method != HTTP_METHOD_HEAD;
    char *page = NULL;
    size_t len = http_ladder_page(&s->host, hc->peer_addr, hc->peer_port, &page);
    if (len == 0) {
        log_bound(s, BOUND_MEMORY, "http: out of memory drawing %s; answered 500", LADDER_PATH);
        http_response_error(r, 500, body);
        return;
    }
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    r->has_length = true;
    r->length = len;
    r->body = page;
    r->send_body = body;
    hc->page = page;
}

/* The router: what each method gets (RFC 9110 §9, §15.5.6, §15.6.2). */
static void route(struct http_conn *hc)
{
    struct http_server *s = hc->srv;
    struct http_parser *req = &hc->req;
    struct http_response *r = &hc->resp;
    bool star = req->target.len == 1 && req->target.p[0] == '*';

    switch (req->method) {
    case HTTP_METHOD_GET:
    case HTTP_METHOD_HEAD:
        if (is_ladder(s, req))
            plan_ladder(hc);
        else
            http_static_plan(&s->host, req, s->path, s->path_cap, r);
        break;
    case HTTP_METHOD_OPTIONS:
        /* §9.3.7: Allow, and Content-Length: 0 for no content. */
        http_response_error(r, 200, false);
        r->allow = true;
        break;
    case HTTP_METHOD_UNKNOWN:
        http_response_error(r, 501, true);
        break;
    default:
        http_response_error(r, 405, true);  /* known, but files are read-only */
        r->allow = true;
        break;
    }
    if (star && req->method != HTTP_METHOD_OPTIONS)
        http_response_error(r, 400, req->method != HTTP_METHOD_HEAD);
    if (r->why)
        log_bound(s, BOUND_FILE_ERROR, "http: %s", r->why);
}

/* Plans the answer to the request just read (or to its error); its head
 * is built when it is queued.  Errors from the parser end the connection:
 * after a framing error the next request's start cannot be found. */
static void plan(struct http_conn *hc, int error_status)
{
    struct http_server *s = hc->srv;
    struct http_response *r = &hc->resp;
    if (error_status) {
        http_response_error(r, error_status, hc->req.method != HTTP_METHOD_HEAD);
        hc->keep_alive = false;
    } else {
        route(hc);
        hc->keep_alive = hc->req.keep_alive && !hc->peer_eof;
    }
    hc->head_date = s->host.wall_clock(s->host.ctx);
    hc->head_sent = 0;
    hc->head_done = false;
    hc->body_sent = 0;
    hc->responding = true;
}

/* --- reading a request --------------------------------------------------- */

/* Parser buffers exist only while a request is read: an idle keep-alive
 * connection holds none (the same rule the stack follows for its rings). */
static bool parser_ready(struct http_conn *hc)
{
    if (hc->have_parser)
        return true;
    struct http_server *s = hc->srv;
    if (s->nspare > 0) {
        hc->req = s->spare[--s->nspare];
        http_parser_reset(&hc->req);
    } else if (http_parser_init(&hc->req, &s->cfg.limits) != 0) {
        log_bound(s, BOUND_MEMORY, "http: out of memory for a request buffer of %zu "
                  "bytes; connection reset (lower --max-header-bytes or --max-conns)",
                  http_parser_bytes(&s->cfg.limits));
        return false;
    }
    s->conn_bytes += http_parser_bytes(&s->cfg.limits);
    hc->have_parser = true;
    return true;
}

/* The buffers go back to the spares while there is room: a connection
 * per request (or a keep-alive one between requests) then reuses them
 * instead of taking ~42 KiB from malloc and giving it back, which cost 7 %
 * of synackd's CPU with one connection per request. */
static void parser_release(struct http_conn *hc)
{
    struct http_server *s = hc->srv;
    if (hc->have_parser) {
        if (s->nspare < HTTP_SPARE_PARSERS)
            s->spare[s->nspare++] = hc->req;
        else
            http_parser_free(&hc->req);
        s->conn_bytes -= http_parser_bytes(&s->cfg.limits);
    }
    hc->have_parser = false;
}

static void log_parse_error(struct http_conn *hc)
{
    const struct http_parser *p = &hc->req;
    uint32_t a = hc->peer_addr;
    log_bound(hc->srv, BOUND_PARSE, "http: %u.%u.%u.%u: %d: %s", a >> 24, (a >> 16) & 255,
              (a >> 8) & 255, a & 255, p->error, p->why);
}

/* The bytes the parser reads next: those held over from the last read,
 * else a fresh read from TCP into the server's inbox.  0 when there are
 * none. */
static size_t next_bytes(struct http_conn *hc, const char **p)
{
    struct http_server *s = hc->srv;
    if (hc->held) {
        *p = hc->held + hc->held_off;
        return hc->held_len - hc->held_off;
    }
    *p = s->inbox;
    return tcp_recv(hc->c, s->inbox, sizeof s->inbox);
}

static void held_free(struct http_conn *hc)
{
    hc->srv->conn_bytes -= hc->held_len;
    free(hc->held);
    hc->held = NULL;
    hc->held_off = hc->held_len = 0;
}

/* The parser took used of the len bytes at p.  What it left after a whole
 * request belongs to the next, pipelined one (RFC 9112 §9.3.2): the
 * connection keeps a copy, as the inbox is shared.  false when out of
 * memory for it. */
static bool consumed(struct http_conn *hc, const char *p, size_t len, size_t used)
{
    if (hc->held) {
        hc->held_off += (uint32_t)used;
        if (hc->held_off == hc->held_len)
            held_free(hc);
        return true;
    }
    if (used == len || hc->req.state == HTTP_PARSE_ERROR)
        return true;  /* after an error nothing more is read */
    hc->held = malloc(len - used);
    if (!hc->held) {
        log_bound(hc->srv, BOUND_MEMORY, "http: out of memory for %zu pipelined bytes; "
                  "connection reset (lower --max-conns)", len - used);
        return false;
    }
    memcpy(hc->held, p + used, len - used);
    hc->held_len = (uint32_t)(len - used);
    hc->srv->conn_bytes += hc->held_len;
    return true;
}

/* RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" may hold
 * the content back until it hears from us, and we MUST answer at once,
 * with 100 or a final status.  Nothing here depends on the content (it is
 * read and discarded), so the final status is known from the head alone:
 * it goes now, and the connection closes after it, since the client may
 * never send the content the head announced.  HTTP/1.0 clients' is
 * ignored, as the RFC asks. */
static bool expects_continue(const struct http_parser *req)
{
    struct http_str v;
    if (req->version_minor < 1 || !http_parser_head_done(req) || req->state == HTTP_PARSE_DONE)
        return false;
    for (unsigned i = 0; http_field_get(req, "Expect", i, &v); i++) {
        struct http_str item;
        size_t pos = 0;
        while (http_list_next(v, &pos, &item))
            if (http_str_ieq(item, "100-continue"))
                return true;
    }
    return false;
}

/* Feeds received bytes to the parser until one request is whole, or its
 * head asks for an answer before its content (STEP_GO_ON), or the bytes
 * run out (STEP_WAIT). */
static enum step read_request(struct http_conn *hc)
{
    uint64_t now = tcp_now(hc->c);
    for (;;) {
        const char *p;
        bool fresh = !hc->held;
        size_t len = next_bytes(hc, &p);
        if (len == 0)
            return STEP_WAIT;
        if (fresh)
            hc->last_activity = now;
        if (!parser_ready(hc)) {
            tcp_abort(hc->c);
            return STEP_GONE;
        }
        bool started = hc->req.started;
        size_t used = http_parser_feed(&hc->req, p, len);
        if (!started && hc->req.started)
            hc->request_start = now;
        if (!consumed(hc, p, len, used)) {
            tcp_abort(hc->c);
            return STEP_GONE;
        }
        if (hc->req.state == HTTP_PARSE_ERROR) {
            log_parse_error(hc);
            plan(hc, hc->req.error);
            return STEP_GO_ON;
        }
        if (hc->req.state == HTTP_PARSE_DONE) {
            plan(hc, 0);
            return STEP_GO_ON;
        }
        if (expects_continue(&hc->req)) {
            plan(hc, 0);
            hc->keep_alive = false;
            return STEP_GO_ON;
        }
    }
}

/* --- sending a response ---------------------------------------------------- */

/* Bytes of content still to send. */
static uint64_t body_left(const struct http_conn *hc)
{
    const struct http_response *r = &hc->resp;
    return r->send_body ? r->length - hc->body_sent : 0;
}

/* One piece of file content, read only as far as TCP can take it now. */
static enum step send_file_piece(struct http_conn *hc, size_t space)
{
    struct http_server *s = hc->srv;
    struct http_response *r = &hc->resp;
    struct tcp_send_area area[2];
    uint64_t left = body_left(hc);
    int n = tcp_send_area(hc->c, left < space ? (size_t)left : space, area);
    int64_t got = 0;
    if (n == 0) {  /* the send buffer could not grow: out of memory */
        log_bound(s, BOUND_MEMORY, "http: out of memory for a send buffer; connection reset "
                  "(lower --snd-buf or --max-conns)");
        tcp_abort(hc->c);
        return STEP_GONE;
    }
    size_t filled = 0;
    /* Straight into TCP's send buffer: each byte is copied once by the
     * read and once into the kernel, where going through a buffer of ours
     * cost a third copy (6 % of synackd's CPU in bulk transfer). */
    for (int i = 0; i < n; i++) {
        got = s->host.read(s->host.ctx, r->file, r->offset + hc->body_sent + filled,
                           area[i].data, area[i].len);
        if (got <= 0)
            break;
        filled += (size_t)got;
        if ((size_t)got < area[i].len)
            break;  /* a short read: the rest next time */
    }
    if (filled == 0) {
        /* Mid-response there is no status left to change: end the
         * connection, so the client sees a short body, not a wrong one. */
        log_bound(s, BOUND_FILE_ERROR, "http: %s a file after %llu bytes; connection reset",
                  got < 0 ? "cannot read" : "unexpected end of",
                  (unsigned long long)hc->body_sent);
        tcp_abort(hc->c);
        return STEP_GONE;
    }
    tcp_send_commit(hc->c, filled);
    hc->body_sent += filled;
    return STEP_GO_ON;
}

/* Queues what TCP takes of buf; STEP_WAIT when it took nothing (the send
 * buffer is full, or the connection can no longer send). */
static enum step send_bytes(struct http_conn *hc, const void *buf, size_t len, uint64_t *sent)
{
    size_t n = tcp_send_more(hc->c, buf, len);
    *sent += n;
    return n ? STEP_GO_ON : STEP_WAIT;
}

/* The Date field for wall-clock second t (RFC 9110 §6.6.1): formatted
 * when the second changes, reused for the responses within it. */
static const char *date_of(struct http_server *s, int64_t t)
{
    if (t != s->date_sec || !s->date[0]) {
        http_date_format(t, s->date);
        s->date_sec = t;
    }
    return s->date;
}

/* Queues what TCP takes of the head.  It is built in the server's head
 * buffer each time (the same bytes: its Date is the one planned), so a
 * head that did not fit whole needs no buffer of its own while it waits. */
static enum step send_head(struct http_conn *hc)
{
    struct http_server *s = hc->srv;
    size_t len = http_response_head(&hc->resp, date_of(s, hc->head_date), s->cfg.server_name,
                                    hc->keep_alive, s->head, sizeof s->head);
    if (len <= hc->head_sent) {  /* our fields cannot overflow it; stay correct anyway */
        log_bound(s, BOUND_MEMORY, "http: a response head over %d bytes; connection reset",
                  HTTP_MAX_RESPONSE_HEAD);
        tcp_abort(hc->c);
        return STEP_GONE;
    }
    uint64_t sent = hc->head_sent;
    enum step st = send_bytes(hc, s->head + hc->head_sent, len - hc->head_sent, &sent);
    hc->head_sent = (uint32_t)sent;
    hc->head_done = hc->head_sent == len;
    return st;
}

/* Queues head and content while send space lasts, then sends them in one
 * go (tcp_send_more, tcp_push), so a small response is one segment: a head
 * sent alone would hold the body behind Nagle until the client's delayed
 * ACK, 40 ms later.  The last of a response the connection ends with is
 * not pushed here: tcp_close() in finish_response() sends it with the FIN
 * on its last segment (RFC 9293 §3.10.4): with a new connection per
 * request (B), 3 TUN writes per connection instead of 4.  STEP_GO_ON
 * when all of the response is queued. */
static enum step push_response(struct http_conn *hc)
{
    struct http_response *r = &hc->resp;
    uint64_t before = hc->head_sent + hc->body_sent;
    enum step st = STEP_GO_ON;
    while (st == STEP_GO_ON) {
        size_t space = tcp_send_space(hc->c);
        if (!hc->head_done) {
            st = send_head(hc);
        } else if (body_left(hc) == 0) {
            break;
        } else if (space == 0) {
            st = STEP_WAIT;
        } else if (r->file) {
            st = send_file_piece(hc, space);
        } else {
            st = send_bytes(hc, r->body + hc->body_sent, (size_t)body_left(hc), &hc->body_sent);
        }
    }
    if (st != STEP_GONE && hc->head_sent + hc->body_sent != before) {
        if (st != STEP_GO_ON || hc->keep_alive)
            tcp_push(hc->c);
        hc->last_activity = tcp_now(hc->c);
    }
    return st;
}

/* We close first (FIN-WAIT-1, RFC 9293 §3.10.4); the FIN gets a full
 * --idle-timeout to be answered before the connection is reset. */
static void start_close(struct http_conn *hc)
{
    hc->closing = true;
    hc->last_activity = tcp_now(hc->c);
    tcp_close(hc->c);
}

/* The response is queued: log it, then close or get ready for the next. */
static void finish_response(struct http_conn *hc)
{
    struct http_server *s = hc->srv;
    access_log(hc);
    if (hc->resp.file)
        s->host.close(s->host.ctx, hc->resp.file);
    hc->resp.file = NULL;
    free(hc->page);
    hc->page = NULL;
    hc->responding = false;
    if (!hc->keep_alive) {
        start_close(hc);
        return;
    }
    http_parser_reset(&hc->req);
    if (!hc->held && tcp_recv_ready(hc->c) == 0)
        parser_release(hc);
}

/* --- the loop ---------------------------------------------------------------- */

static uint64_t deadline(const struct http_conn *hc)
{
    const struct http_config *cfg = &hc->srv->cfg;
    if (!hc->responding && !hc->closing && hc->have_parser && hc->req.started &&
        !http_parser_head_done(&hc->req))
        return hc->request_start + cfg->header_timeout;
    return hc->last_activity + cfg->idle_timeout;
}

/* Reads and answers requests until input or send space runs out. */
static void serve(struct http_conn *hc)
{
    enum step st = STEP_GO_ON;
    while (st == STEP_GO_ON && !hc->closing) {
        if (hc->responding) {
            st = push_response(hc);
            if (st == STEP_GO_ON)
                finish_response(hc);
            continue;
        }
        st = read_request(hc);
        if (st == STEP_WAIT && hc->peer_eof) {
            /* The client is done sending; a partial request can never end. */
            start_close(hc);
        }
    }
    if (st != STEP_GONE)
        tcp_app_timer(hc->c, deadline(hc));
}

/* --- the app interface ------------------------------------------------------- */

static void *on_accept(void *app, struct tcp_conn *c)
{
    struct http_conn *hc = calloc(1, sizeof *hc);
    if (!hc) {
        log_bound(app, BOUND_MEMORY, "http: out of memory for a connection; refused "
                  "(lower --max-conns)");
        return NULL;
    }
    hc->srv = app;
    hc->srv->conn_bytes += sizeof *hc;
    hc->c = c;
    tcp_conn_peer(c, &hc->peer_addr, &hc->peer_port);
    hc->last_activity = tcp_now(c);
    tcp_app_timer(c, deadline(hc));
    return hc;
}

static void on_data(void *state, struct tcp_conn *c)
{
    struct http_conn *hc = state;
    if (hc->closing) {
        char discard[512];
        while (tcp_recv(c, discard, sizeof discard) > 0)
            ;  /* after our FIN nothing more is read; keep the window open */
        return;
    }
    if (!hc->responding)  /* else the bytes wait: answers go out in order */
        serve(hc);
}

static void on_sendable(void *state, struct tcp_conn *c)
{
    (void)c;
    serve(state);
}

static void on_eof(void *state, struct tcp_conn *c)
{
    struct http_conn *hc = state;
    (void)c;
    hc->peer_eof = true;
    if (!hc->closing && !hc->responding)
        serve(hc);
}

/* A deadline passed: say why once, then end the connection the way that
 * fits its state (RFC 9110 §15.5.9 for a request that never finished). */
static void on_timer(void *state, struct tcp_conn *c)
{
    struct http_conn *hc = state;
    struct http_server *s = hc->srv;
    uint64_t now = tcp_now(c), due = deadline(hc);
    if (now < due) {
        tcp_app_timer(c, due);  /* there was progress since it was armed */
        return;
    }
    if (hc->closing || hc->responding) {
        if (hc->responding)
            log_bound(s, BOUND_SEND_STALL, "http: client read nothing for %llu s; "
                      "connection reset (--idle-timeout)",
                      (unsigned long long)(s->cfg.idle_timeout / USEC_PER_SEC_U64));
        tcp_abort(c);
        return;
    }
    if (hc->have_parser && hc->req.started) {
        bool head = !http_parser_head_done(&hc->req);
        log_bound(s, head ? BOUND_HEADER_TIMEOUT : BOUND_IDLE_TIMEOUT,
                  "http: request %s not complete after %llu s; answered 408 (%s)",
                  head ? "head" : "content",
                  (unsigned long long)((head ? s->cfg.header_timeout : s->cfg.idle_timeout) /
                                       USEC_PER_SEC_U64),
                  head ? "--header-timeout" : "--idle-timeout");
        plan(hc, 408);
        serve(hc);
        return;
    }
    log_bound(s, BOUND_IDLE_TIMEOUT, "http: idle connection closed after %llu s "
              "(--idle-timeout)", (unsigned long long)(s->cfg.idle_timeout / USEC_PER_SEC_U64));
    start_close(hc);
    tcp_app_timer(c, deadline(hc));
}

static void on_closed(void *state, struct tcp_conn *c, enum tcp_close_reason why)
{
    struct http_conn *hc = state;
    (void)c;
    (void)why;
    if (hc->responding) {
        access_log(hc);  /* what was sent before the end, as Apache logs it */
        if (hc->resp.file)
            hc->srv->host.close(hc->srv->host.ctx, hc->resp.file);
    }
    free(hc->page);
    parser_release(hc);
    if (hc->held)
        held_free(hc);
    hc->srv->conn_bytes -= sizeof *hc;
    free(hc);
}

static const struct tcp_app_ops http_ops = {
    .on_accept = on_accept,
    .on_data = on_data,
    .on_sendable = on_sendable,
    .on_eof = on_eof,
    .on_closed = on_closed,
    .on_timer = on_timer,
};

struct http_server *http_server_new(const struct http_config *cfg, const struct http_host *host)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->host = *host;
    s->path_cap = cfg->limits.max_request_line + HTTP_PATH_EXTRA;
    s->path = malloc(s->path_cap);
    if (!s->path) {
        free(s);
        return NULL;
    }
    return s;
}

size_t http_server_conn_bytes(const struct http_server *s)
{
    return s->conn_bytes;
}

size_t http_server_spare_parsers(const struct http_server *s)
{
    return s->nspare;
}

int http_server_listen(struct http_server *s, struct stack *st, uint16_t port)
{
    return tcp_listen(st, port, &http_ops, s);
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    while (s->nspare > 0)
        http_parser_free(&s->spare[--s->nspare]);
    free(s->path);
    free(s);
}
