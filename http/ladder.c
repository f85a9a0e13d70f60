/*
 * ladder.c -- draws GET /trace (see ladder.h).  Three steps:
 *   scan   -- split the newest trace records into connections: a SYN that
 *             finds no connection (or one in TIME-WAIT, RFC 6191) starts
 *             one; everything else belongs to the latest with its 4-tuple;
 *   pick   -- the connection asking for the page first, then the most
 *             recently active, up to LADDER_MAX_CONNS;
 *   draw   -- one row per segment: an arrow in an inline SVG between two
 *             lanes, each side's state after it, and below it the state
 *             changes and events it caused, with RFC section and file:line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ladder.h"
#include "stack/stack.h"
#include "stack/tcp_header.h"

#define PAGE_START (64 * 1024)
#define ROWS_HEAD (LADDER_MAX_ROWS * 3 / 4) /* of a long connection: its start ... */
#define ROWS_TAIL (LADDER_MAX_ROWS / 4)     /* ... and its end */

/* --- the page, grown as it is written ---------------------------------- */

struct page {
    char *p;
    size_t len, cap;
    bool failed;
};

__attribute__((format(printf, 2, 3)))
static void out(struct page *pg, const char *fmt, ...)
{
    while (!pg->failed) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(pg->p + pg->len, pg->cap - pg->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < pg->cap - pg->len) {
            pg->len += (size_t)n;
            return;
        }
        char *p = n < 0 ? NULL : realloc(pg->p, pg->cap * 2 + (size_t)n);
        if (!p) {
            pg->failed = true;
            return;
        }
        pg->p = p;
        pg->cap = pg->cap * 2 + (size_t)n;
    }
}

/* Text from the trace, escaped for HTML (it is ours, but stay safe). */
static void out_text(struct page *pg, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': out(pg, "&lt;"); break;
        case '>': out(pg, "&gt;"); break;
        case '&': out(pg, "&amp;"); break;
        case '"': out(pg, "&quot;"); break;
        default: out(pg, "%c", *s); break;
        }
    }
}

static void out_addr(struct page *pg, uint32_t a, uint16_t port)
{
    out(pg, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, port);
}

/* --- scan: records into connections --------------------------------------- */

struct key {
    uint32_t peer, us;
    uint16_t pport, uport;
};

struct conn {
    struct key k;
    size_t first, last;   /* record indices, as the host numbers them */
    uint32_t nsegs;
    bool truncated;       /* its start is older than the records read */
    bool stray;           /* no connection had it: segments answered by RST */
};

struct scan {
    const struct http_host *host;
    size_t start, end;    /* the records read: [start, end) */
    struct conn *conns;
    size_t n;
    int32_t *slot;        /* hash of the 4-tuple -> latest conn + 1 */
    size_t nslots;
};

static const struct trace_record *rec(const struct scan *sc, size_t i)
{
    return sc->host->trace_get(sc->host->trace_ctx, i);
}

/* The connection a record belongs to, from the peer's end and ours. */
static struct key key_of(const struct trace_record *r)
{
    if (r->kind == TRACE_SEG_OUT)
        return (struct key){r->dst, r->src, r->dport, r->sport};
    return (struct key){r->src, r->dst, r->sport, r->dport};
}

static bool same_key(struct key a, struct key b)
{
    return a.peer == b.peer && a.us == b.us && a.pport == b.pport && a.uport == b.uport;
}

/* A SYN that no connection had, or that reopens one in TIME-WAIT. */
static bool starts_conn(const struct trace_record *r)
{
    return r->kind == TRACE_SEG_IN && (r->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
           (!r->state || strcmp(r->state, "TIME-WAIT") == 0);
}

static int32_t *slot_of(struct scan *sc, struct key k)
{
    size_t h = (k.peer * 2654435761u) ^ ((size_t)k.pport << 16) ^ k.uport ^ k.us;
    for (size_t i = h & (sc->nslots - 1);; i = (i + 1) & (sc->nslots - 1))
        if (sc->slot[i] == 0 || same_key(sc->conns[sc->slot[i] - 1].k, k))
            return &sc->slot[i];
}

static bool scan(struct scan *sc)
{
    size_t count = sc->host->trace_count(sc->host->trace_ctx);
    sc->end = count;
    sc->start = count > LADDER_SCAN_RECORDS ? count - LADDER_SCAN_RECORDS : 0;
    sc->nslots = 2 * LADDER_SCAN_RECORDS;  /* at most half full: probes stay short */
    sc->conns = calloc(sc->end - sc->start + 1, sizeof *sc->conns);
    sc->slot = calloc(sc->nslots, sizeof *sc->slot);
    if (!sc->conns || !sc->slot)
        return false;
    for (size_t i = sc->start; i < sc->end; i++) {
        const struct trace_record *r = rec(sc, i);
        struct key k = key_of(r);
        int32_t *s = slot_of(sc, k);
        if (*s == 0 || starts_conn(r)) {
            bool start = starts_conn(r);
            sc->conns[sc->n] = (struct conn){k, i, i, 0, !start && r->state, !start && !r->state};
            *s = (int32_t)++sc->n;
        }
        struct conn *c = &sc->conns[*s - 1];
        c->last = i;
        c->nsegs += r->kind == TRACE_SEG_IN || r->kind == TRACE_SEG_OUT;
    }
    return true;
}

/* --- pick: which connections, in what order ---------------------------- */

/* Fills pick[] with conn indices: the asker's newest first, then the
 * rest by latest activity.  Returns how many. */
static size_t pick(const struct scan *sc, uint32_t addr, uint16_t port, size_t pick[])
{
    size_t n = 0;
    for (size_t i = sc->n; i-- > 0;)
        if (sc->conns[i].k.peer == addr && sc->conns[i].k.pport == port) {
            pick[n++] = i;
            break;
        }
    while (n < LADDER_MAX_CONNS) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < sc->n; i++) {
            bool taken = false;
            for (size_t j = 0; j < n; j++)
                taken |= pick[j] == i;
            if (!taken && (best == SIZE_MAX || sc->conns[i].last > sc->conns[best].last))
                best = i;
        }
        if (best == SIZE_MAX)
            break;
        pick[n++] = best;
    }
    return n;
}

/* --- the client's side, inferred ------------------------------------------ */

/* What the client's TCB must be doing, from the segments alone: the
 * textbook diagram of RFC 9293 §3.3.2 seen from the active opener. */
struct peer_side {
    const char *state;
    bool fin;             /* the client has sent its FIN ... */
    uint32_t fin_end;     /* ... and an ACK of this (relative) acks it */
};

static bool is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

/* The client sent r. */
static void client_sent(struct peer_side *p, const struct trace_record *r)
{
    if (r->flags & TCP_RST) {
        p->state = "CLOSED";
    } else if ((r->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        p->state = "SYN-SENT";
    } else if ((r->flags & TCP_FIN) && !p->fin) {
        p->fin = true;
        p->fin_end = r->rel_seq + r->len + 1;
        p->state = is(p->state, "CLOSE-WAIT") ? "LAST-ACK" : "FIN-WAIT-1";
    }
}

/* The client received r: first its ACK, then its FIN (RFC 9293 §3.10.7.4,
 * fifth and eighth). */
static void client_got(struct peer_side *p, const struct trace_record *r)
{
    if (r->flags & TCP_RST) {
        p->state = "CLOSED";
        return;
    }
    if ((r->flags & TCP_SYN) && is(p->state, "SYN-SENT")) {
        p->state = "ESTABLISHED";
        return;
    }
    if ((r->flags & TCP_ACK) && p->fin && (int32_t)(r->rel_ack - p->fin_end) >= 0) {
        if (is(p->state, "FIN-WAIT-1"))
            p->state = "FIN-WAIT-2";
        else if (is(p->state, "CLOSING"))
            p->state = "TIME-WAIT";
        else if (is(p->state, "LAST-ACK"))
            p->state = "CLOSED";
    }
    if (r->flags & TCP_FIN) {
        if (is(p->state, "ESTABLISHED"))
            p->state = "CLOSE-WAIT";
        else if (is(p->state, "FIN-WAIT-1"))
            p->state = "CLOSING";
        else if (is(p->state, "FIN-WAIT-2"))
            p->state = "TIME-WAIT";
    }
}

/* --- draw: one connection -------------------------------------------------- */

struct row {
    const struct trace_record *seg;   /* NULL: no row started yet */
    const char *ours, *theirs;        /* each side's state after it */
    const struct trace_record *notes[LADDER_MAX_NOTES];
    int nnotes;
};

struct walk {
    const struct conn *c;
    usec_t t0;
    struct peer_side peer;
    struct row row;
    const struct trace_record *pending[LADDER_MAX_NOTES]; /* for the next row */
    int npending;
    uint32_t index;                   /* rows started so far */
};

static void note_to(const struct trace_record **notes, int *n, const struct trace_record *r)
{
    if (*n < LADDER_MAX_NOTES)
        notes[(*n)++] = r;
}

/* A retransmission is drawn dashed: an event before it said so. */
static bool is_resend(const struct row *row)
{
    for (int i = 0; i < row->nnotes; i++)
        if (row->notes[i]->kind == TRACE_EVENT && row->notes[i]->what &&
            strstr(row->notes[i]->what, "retransmit"))
            return true;
    return false;
}

/* "[PSH, ACK] Seq=1 Ack=79 Len=412", as Wireshark's Info column has it. */
static void out_label(struct page *pg, const struct trace_record *s)
{
    char fl[48];
    out(pg, "%s Seq=%u", tcp_flags_str(s->flags, fl), s->rel_seq);
    if (s->flags & TCP_ACK)
        out(pg, " Ack=%u", s->rel_ack);
    out(pg, " Len=%u", s->len);
    /* One arrow for a super-segment; the capture has each of its segments,
     * all gso_size long but a short last one (a Nagle tail) if any. */
    if (s->gso_size) {
        out(pg, " (%u&#215;%u", s->len / s->gso_size, s->gso_size);
        if (s->len % s->gso_size)
            out(pg, " + %u", s->len % s->gso_size);
        out(pg, ")");
    }
}

/* The arrow: client -> synack slopes down to the right, synack -> client
 * down to the left; the drop is the time on the wire, schematically. */
static void out_arrow(struct page *pg, const struct row *row)
{
    const struct trace_record *s = row->seg;
    bool in = s->kind == TRACE_SEG_IN;
    out(pg, "<svg class=\"%s%s\" width=\"420\" height=\"44\" viewBox=\"0 0 420 44\">"
        "<title>%s seq=%u ack=%u win=%u", in ? "in" : "out", is_resend(row) ? " resend" : "",
        in ? "client to synack:" : "synack to client:", s->seq, s->ack, s->win);
    if (s->wscale)
        out(pg, " (x%u = %u)", 1u << s->wscale, (uint32_t)s->win << s->wscale);
    out(pg, " (raw numbers)");
    if (s->gso_size)
        out(pg, "; one GSO super-segment, which the link cuts into %u segments of %u bytes"
            " of payload%s, as the capture shows them", stack_gso_segments(s->len, s->gso_size),
            s->gso_size, s->len % s->gso_size ? ", the last shorter" : "");
    out(pg, "</title>");
    if (in)
        out(pg, "<line x1=\"6\" y1=\"20\" x2=\"412\" y2=\"38\"/>"
            "<polygon points=\"414,38 403.8,42.1 404.2,33.1\"/>");
    else
        out(pg, "<line x1=\"414\" y1=\"20\" x2=\"8\" y2=\"38\"/>"
            "<polygon points=\"6,38 16.2,42.1 15.8,33.1\"/>");
    out(pg, "<text x=\"210\" y=\"13\">");
    out_label(pg, s);
    out(pg, "</text></svg>");
}

static void out_note(struct page *pg, const struct trace_record *n)
{
    out(pg, "<div class=\"row note\"><div></div><div></div><div class=\"wire\">");
    if (n->kind == TRACE_STATE) {
        out(pg, "<b>");
        out_text(pg, n->state);
        out(pg, " &rarr; ");
        out_text(pg, n->new_state);
        out(pg, "</b>");
        if (n->what) {
            out(pg, n->has_segment ? ", " : " on ");
            out_text(pg, n->what);
        }
    } else {
        out_text(pg, n->what);
    }
    out(pg, " &middot; ");
    out_text(pg, n->rfc);
    out(pg, " &middot; <code>");
    out_text(pg, n->file);
    out(pg, ":%d</code></div><div></div></div>\n", n->line);
}

/* Writes the finished row, unless it falls in a long connection's middle. */
static void flush_row(struct page *pg, struct walk *w)
{
    const struct row *row = &w->row;
    uint32_t i = w->index - 1, n = w->c->nsegs;
    if (!row->seg)
        return;
    if (n > LADDER_MAX_ROWS && i >= ROWS_HEAD && i < n - ROWS_TAIL) {
        if (i == ROWS_HEAD)
            out(pg, "<div class=\"row gap\"><div></div><div></div><div class=\"wire\">"
                "&hellip; %u segments not drawn &hellip;</div><div></div></div>\n",
                n - ROWS_HEAD - ROWS_TAIL);
        return;
    }
    usec_t t = row->seg->now - w->t0;
    out(pg, "<div class=\"row\"><div class=\"time\">+%llu.%06llu</div>"
        "<div class=\"state peer\">", (unsigned long long)(t / USEC_PER_SEC),
        (unsigned long long)(t % USEC_PER_SEC));
    out_text(pg, row->theirs);
    out(pg, "</div><div class=\"wire\">");
    out_arrow(pg, row);
    out(pg, "</div><div class=\"state ours\">");
    out_text(pg, row->ours);
    out(pg, "</div></div>\n");
    for (int k = 0; k < row->nnotes; k++)
        out_note(pg, row->notes[k]);
}

/* A segment starts a row; what it caused joins its row; what happened
 * without a segment (close(), an event) waits for the next row, which is
 * the segment that carries it (a FIN, a retransmission). */
static void walk_record(struct page *pg, struct walk *w, const struct trace_record *r)
{
    struct row *row = &w->row;
    if (r->kind == TRACE_SEG_IN || r->kind == TRACE_SEG_OUT) {
        flush_row(pg, w);
        *row = (struct row){.seg = r, .ours = r->state ? r->state : "CLOSED"};
        memcpy(row->notes, w->pending, (size_t)w->npending * sizeof *w->pending);
        row->nnotes = w->npending;
        w->npending = 0;
        w->index++;
        if (r->kind == TRACE_SEG_IN)
            client_sent(&w->peer, r);
        else
            client_got(&w->peer, r);
        row->theirs = w->peer.state;
    } else if (r->kind == TRACE_STATE && r->has_segment && row->seg &&
               row->seg->kind == TRACE_SEG_IN) {
        note_to(row->notes, &row->nnotes, r);
        row->ours = r->new_state;
    } else {
        note_to(w->pending, &w->npending, r);
    }
}

/* Notes no later segment carried (an abort after its RST, 2*MSL ending)
 * stay with the last row, which then shows where they left us. */
static void walk_finish(struct page *pg, struct walk *w)
{
    for (int i = 0; i < w->npending && w->row.seg; i++) {
        note_to(w->row.notes, &w->row.nnotes, w->pending[i]);
        if (w->pending[i]->kind == TRACE_STATE)
            w->row.ours = w->pending[i]->new_state;
    }
    flush_row(pg, w);
}

static void draw_conn(struct page *pg, const struct scan *sc, const struct conn *c, bool asker)
{
    struct walk w = {.c = c, .t0 = rec(sc, c->first)->now,
                     .peer = {c->truncated || c->stray ? "?" : "CLOSED", false, 0}};
    out(pg, "<section><h2>");
    out_addr(pg, c->k.peer, c->k.pport);
    out(pg, " &rarr; ");
    out_addr(pg, c->k.us, c->k.uport);
    out(pg, "%s</h2>\n", asker ? " <span class=\"you\">the connection that fetched this "
        "page</span>" : "");
    if (c->truncated)
        out(pg, "<p class=\"hint\">Its start is older than the records kept "
            "(<code>--trace-ring</code>); the client's state is unknown until it shows.</p>\n");
    if (c->stray)
        out(pg, "<p class=\"hint\">No connection had this 4-tuple: synack answers such "
            "segments with RST (RFC 9293 &sect;3.10.7.1).</p>\n");
    out(pg, "<div class=\"row head\"><div>time (s)</div><div class=\"state peer\">client"
        "<br><small>kernel TCP, inferred</small></div><div class=\"wire\"></div>"
        "<div class=\"state ours\">synack<br><small>from its trace</small></div></div>\n");
    for (size_t i = c->first; i <= c->last; i++) {
        const struct trace_record *r = rec(sc, i);
        if (same_key(key_of(r), c->k))
            walk_record(pg, &w, r);
    }
    walk_finish(pg, &w);
    if (asker)
        out(pg, "<p class=\"hint\">This page was drawn when its request arrived, so the "
            "response carrying it is not here yet: reload to see it.</p>\n");
    out(pg, "</section>\n");
}

/* --- the page ---------------------------------------------------------------- */

static const char STYLE[] =
    "body{font:14px/1.4 system-ui,sans-serif;background:#fafafa;color:#212121;margin:24px}"
    "h1{font-size:22px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 6px;font-family:monospace}"
    ".you{font:12px system-ui;background:#ffd23f;padding:2px 6px;border-radius:4px}"
    ".hint{color:#616161;font-size:13px;margin:4px 0}"
    ".row{display:grid;grid-template-columns:90px 130px 426px 130px;align-items:center}"
    ".row>div{min-height:1px}.time{font:11px monospace;color:#757575}"
    ".state{font:12px monospace;padding:0 8px}.peer{text-align:right;font-style:italic;"
    "color:#0d47a1}.ours{color:#bf360c;font-weight:bold}"
    ".wire{border-left:3px solid #455a64;border-right:3px solid #455a64}"
    ".head .wire{height:8px}.head div{font-weight:bold;font-style:normal}"
    ".note .wire,.gap .wire{font-size:11px;color:#424242;padding:0 12px 4px}"
    ".gap .wire{color:#9e9e9e;text-align:center}"
    "svg{display:block}svg text{font:11px monospace;text-anchor:middle;fill:#212121}"
    "svg line{stroke-width:2.5}svg.in line{stroke:#1565c0}svg.in polygon{fill:#1565c0}"
    "svg.out line{stroke:#e65100}svg.out polygon{fill:#e65100}"
    "svg.resend line{stroke-dasharray:6 4}code{font-size:11px}";

static void out_head(struct page *pg, size_t nrecords)
{
    out(pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>synack: recent connections</title>\n<style>%s</style>\n</head>\n<body>\n"
        "<h1>Recent connections, segment by segment</h1>\n<p>Each arrow is one TCP "
        "segment: the client (your kernel's TCP) on the left, synack on the right; "
        "numbers are relative, as Wireshark shows them (hover for the raw ones). Beside "
        "each arrow, each side's state after it; below it, the state changes it caused, "
        "with the RFC section and the line of synack's code that made them. synack's "
        "states come from its trace; the client's, in italics, are inferred from the "
        "segments. Dashed arrows are retransmissions.</p>\n"
        "<p class=\"hint\">Drawn from the last %zu trace records kept in memory "
        "(<code>--trace-ring</code>). <a href=\"/\">Back to the page</a>.</p>\n",
        STYLE, nrecords);
}

size_t http_ladder_page(const struct http_host *host, uint32_t peer_addr, uint16_t peer_port,
                        char **page)
{
    struct scan sc = {.host = host};
    struct page pg = {malloc(PAGE_START), 0, PAGE_START, false};
    size_t chosen[LADDER_MAX_CONNS], n = 0;
    pg.failed = !pg.p || !scan(&sc);
    if (!pg.failed) {
        n = pick(&sc, peer_addr, peer_port, chosen);
        out_head(&pg, sc.end - sc.start);
        if (n == 0)
            out(&pg, "<p>No connections yet.</p>\n");
    }
    for (size_t i = 0; i < n && pg.len < LADDER_MAX_PAGE; i++) {
        const struct conn *c = &sc.conns[chosen[i]];
        draw_conn(&pg, &sc, c, c->k.peer == peer_addr && c->k.pport == peer_port);
    }
    out(&pg, "</body>\n</html>\n");
    free(sc.conns);
    free(sc.slot);
    if (pg.failed) {
        free(pg.p);
        return 0;
    }
    *page = pg.p;
    return pg.len;
}
