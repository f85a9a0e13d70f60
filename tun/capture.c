/*
 * capture.c -- decides what the --pcap file holds and in what order, and,
 * in pcapng, which packet carries which comment (the rules are in
 * capture.h).  Classic pcap is written as packets pass; pcapng packets of
 * one call into the stack are held in an arena with the comments assigned
 * to them so far, and written together when the call returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stack/tcp_header.h"
#include "tun/capture.h"
#include "tun/pcap_writer.h"
#include "tun/pcapng_writer.h"

#define IPV4_MIN_HDR 20
#define IPPROTO_TCP_NUM 6

/* A connection as both directions see it: the peer's end and ours. */
struct conn_key {
    uint32_t peer, us;
    uint16_t pport, uport;
};

struct held {
    size_t off, len;   /* the packet's bytes in the arena */
    uint64_t ts_usec;
    bool out;
    bool tcp;          /* key and flags are meaningful */
    struct conn_key key;
    uint8_t flags;
};

struct note {
    char text[CAPTURE_NOTE_LEN];
    struct conn_key key;
    int pkt;           /* the held packet carrying it; -1 while pending */
    uint64_t order;    /* when it was made: a packet's comments read in order */
};

struct capture {
    struct pcap_writer *pcap;     /* exactly one of these two */
    struct pcapng_writer *pcapng;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    struct held *held;
    int nheld, held_cap;
    int in_pkt;                   /* the arriving packet of this call, or -1 */
    struct note notes[CAPTURE_MAX_NOTES];
    int nnotes;
    struct note fin_waits[CAPTURE_MAX_FIN_WAITS]; /* rule 2, across calls */
    int nfin_waits;
    uint64_t notes_made;
};

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

struct capture *capture_open(const char *path, const char *ifname, const char *app) {
    struct capture *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        fprintf(stderr, "synackd: cannot open capture %s: out of memory\n", path);
        return NULL;
    }
    c->in_pkt = -1;
    if (ends_with(path, ".pcapng"))
        c->pcapng = pcapng_writer_open(path, ifname, app);
    else
        c->pcap = pcap_writer_open(path);
    if (c->pcap == NULL && c->pcapng == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

bool capture_wants_records(const struct capture *c) {
    return c != NULL && c->pcapng != NULL;
}

static uint64_t wall_usec(void) {
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The 4-tuple and flags of a held TCP segment; h->tcp stays false for
 * anything else (ICMP, a runt), which then carries no comment. */
static void classify(struct held *h, const uint8_t *p) {
    size_t ihl;
    uint32_t src, dst;
    uint16_t sport, dport;

    if (h->len < IPV4_MIN_HDR || p[9] != IPPROTO_TCP_NUM)
        return;
    ihl = (size_t)(p[0] & 15) * 4;
    if (ihl < IPV4_MIN_HDR || h->len < ihl + TCP_HDR_LEN)
        return;
    src = be32(p + 12);
    dst = be32(p + 16);
    sport = (uint16_t)(p[ihl] << 8 | p[ihl + 1]);
    dport = (uint16_t)(p[ihl + 2] << 8 | p[ihl + 3]);
    h->key = h->out ? (struct conn_key){dst, src, dport, sport}
                    : (struct conn_key){src, dst, sport, dport};
    h->flags = p[ihl + 13];
    h->tcp = true;
}

static bool same_conn(struct conn_key a, struct conn_key b) {
    return a.peer == b.peer && a.us == b.us && a.pport == b.pport && a.uport == b.uport;
}

/* Room for one more held packet of len bytes; false past the hold limit
 * or when memory runs out (the caller settles early and tries again). */
static bool make_room(struct capture *c, size_t len) {
    if (c->arena_len + len > CAPTURE_HOLD_LIMIT)
        return false;
    if (c->arena_len + len > c->arena_cap) {
        size_t cap = c->arena_cap ? c->arena_cap : 64 * 1024;
        while (cap < c->arena_len + len)
            cap *= 2;
        uint8_t *a = realloc(c->arena, cap);
        if (a == NULL)
            return false;
        c->arena = a;
        c->arena_cap = cap;
    }
    if (c->nheld == c->held_cap) {
        int cap = c->held_cap ? c->held_cap * 2 : 64;
        struct held *h = realloc(c->held, (size_t)cap * sizeof(*h));
        if (h == NULL)
            return false;
        c->held = h;
        c->held_cap = cap;
    }
    return true;
}

/* Copies a packet into the arena; its index, or -1 if it cannot be held
 * even after writing out what was (then it is written at once, bare). */
static int hold(struct capture *c, const struct slice *parts, int nparts, bool out) {
    size_t len = 0;
    struct held *h;

    for (int i = 0; i < nparts; i++)
        len += parts[i].len;
    if (!make_room(c, len)) {
        capture_settle(c);
        if (!make_room(c, len)) {
            struct pcapng_packet p = {wall_usec(), out, parts, nparts, NULL, 0};
            pcapng_writer_packet(c->pcapng, &p);
            return -1;
        }
    }
    h = &c->held[c->nheld];
    *h = (struct held){c->arena_len, len, wall_usec(), out, false, {0, 0, 0, 0}, 0};
    for (int i = 0; i < nparts; i++) {
        memcpy(c->arena + c->arena_len, parts[i].data, parts[i].len);
        c->arena_len += parts[i].len;
    }
    classify(h, c->arena + h->off);
    return c->nheld++;
}

void capture_in(struct capture *c, const uint8_t *pkt, size_t len) {
    struct slice s = {pkt, len};

    if (c == NULL)
        return;
    if (c->pcap != NULL) {
        pcap_writer_packet(c->pcap, pkt, len);
        return;
    }
    capture_settle(c); /* a packet from an earlier call must not wait */
    c->in_pkt = hold(c, &s, 1, false);
}

/* Rules 2 and 4: comments waiting for the next segment we send. */
static void attach_waiting(struct capture *c, int pkt) {
    const struct held *h = &c->held[pkt];
    int keep = 0, first = c->nnotes;

    for (int i = 0; i < c->nfin_waits; i++) {
        struct note *w = &c->fin_waits[i];
        if ((h->flags & TCP_FIN) && same_conn(w->key, h->key) && c->nnotes < CAPTURE_MAX_NOTES) {
            c->notes[c->nnotes] = *w;
            c->notes[c->nnotes++].pkt = pkt;
        } else {
            c->fin_waits[keep++] = *w;
        }
    }
    c->nfin_waits = keep;
    for (int i = 0; i < first; i++)
        if (c->notes[i].pkt < 0 && same_conn(c->notes[i].key, h->key))
            c->notes[i].pkt = pkt;
}

void capture_out(struct capture *c, const struct slice *parts, int nparts) {
    int pkt;

    if (c == NULL)
        return;
    if (c->pcap != NULL) {
        pcap_writer_slices(c->pcap, parts, nparts);
        return;
    }
    pkt = hold(c, parts, nparts, true);
    if (pkt >= 0 && c->held[pkt].tcp)
        attach_waiting(c, pkt);
}

/* A comment reads like the trace line without its prefix:
 *   SYN-RECEIVED -> ESTABLISHED (RFC 9293 §3.10.7.4 ...) stack/tcp_input.c:206 */
static void note_text(char *out, size_t cap, const struct trace_record *r) {
    const char *rfc = r->rfc != NULL ? r->rfc : "-";
    const char *file = r->file != NULL ? r->file : "?";

    if (r->kind == TRACE_EVENT)
        snprintf(out, cap, "%s: %s (%s) %s:%d", r->state, r->what ? r->what : "",
                 rfc, file, r->line);
    else if (r->has_segment && r->what)
        snprintf(out, cap, "%s -> %s, %s (%s) %s:%d", r->state, r->new_state, r->what, rfc,
                 file, r->line);
    else if (r->has_segment)
        snprintf(out, cap, "%s -> %s (%s) %s:%d", r->state, r->new_state, rfc, file, r->line);
    else
        snprintf(out, cap, "%s -> %s on %s (%s) %s:%d", r->state, r->new_state,
                 r->what ? r->what : "?", rfc, file, r->line);
}

static void add_note(struct capture *c, const struct note *n, int pkt) {
    if (c->nnotes == CAPTURE_MAX_NOTES)
        return; /* a pathological call; the trace still has every line */
    c->notes[c->nnotes] = *n;
    c->notes[c->nnotes++].pkt = pkt;
}

/* Rule 3: the last RST we sent on the connection in this call. */
static int last_rst(const struct capture *c, struct conn_key key) {
    for (int i = c->nheld - 1; i >= 0; i--) {
        const struct held *h = &c->held[i];
        if (h->out && h->tcp && (h->flags & TCP_RST) && same_conn(h->key, key))
            return i;
    }
    return -1;
}

/* The connection is gone: comments still waiting for its FIN never will. */
static void forget_fin_waits(struct capture *c, struct conn_key key) {
    int keep = 0;

    for (int i = 0; i < c->nfin_waits; i++)
        if (!same_conn(c->fin_waits[i].key, key))
            c->fin_waits[keep++] = c->fin_waits[i];
    c->nfin_waits = keep;
}

static void wait_for_fin(struct capture *c, const struct note *n) {
    if (c->nfin_waits == CAPTURE_MAX_FIN_WAITS) { /* the oldest gives way */
        memmove(c->fin_waits, c->fin_waits + 1, (size_t)(c->nfin_waits - 1) * sizeof(*n));
        c->nfin_waits--;
    }
    c->fin_waits[c->nfin_waits++] = *n;
}

void capture_note(struct capture *c, const struct trace_record *r) {
    struct note n;
    const struct held *in;

    if (c == NULL || c->pcapng == NULL || (r->kind != TRACE_STATE && r->kind != TRACE_EVENT))
        return;
    note_text(n.text, sizeof(n.text), r);
    n.key = (struct conn_key){r->src, r->dst, r->sport, r->dport};
    n.pkt = -1;
    n.order = c->notes_made++;
    in = c->in_pkt >= 0 ? &c->held[c->in_pkt] : NULL;
    if (r->kind == TRACE_STATE && r->has_segment && in != NULL && same_conn(in->key, n.key)) {
        add_note(c, &n, c->in_pkt);                          /* rule 1 */
    } else if (r->kind == TRACE_STATE && strcmp(r->new_state, "CLOSED") == 0) {
        forget_fin_waits(c, n.key);                          /* rule 3 */
        if (last_rst(c, n.key) >= 0)
            add_note(c, &n, last_rst(c, n.key));
    } else if (r->kind == TRACE_STATE && !r->has_segment &&
               (strcmp(r->new_state, "FIN-WAIT-1") == 0 ||
                strcmp(r->new_state, "LAST-ACK") == 0)) {
        wait_for_fin(c, &n);                                 /* rule 2 */
    } else {
        add_note(c, &n, -1);                                 /* rule 4 */
    }
}

static void write_packet(struct capture *c, const struct held *h, const char *const *comments,
                         int ncomments) {
    struct slice s = {c->arena + h->off, h->len};
    struct pcapng_packet p = {h->ts_usec, h->out, &s, 1, comments, ncomments};
    pcapng_writer_packet(c->pcapng, &p);
}

/* The comments packet pkt carries, oldest first.  Returns how many. */
static int comments_of(const struct capture *c, int pkt, const char **out) {
    const struct note *mine[CAPTURE_MAX_NOTES];
    int n = 0;

    for (int j = 0; j < c->nnotes; j++) {
        const struct note *x = &c->notes[j];
        int k = n;
        if (x->pkt != pkt)
            continue;
        for (; k > 0 && mine[k - 1]->order > x->order; k--) /* few: insertion sort */
            mine[k] = mine[k - 1];
        mine[k] = x;
        n++;
    }
    for (int k = 0; k < n; k++)
        out[k] = mine[k]->text;
    return n;
}

/* Writes every held packet in order, each with the comments it carries. */
void capture_settle(struct capture *c) {
    const char *comments[CAPTURE_MAX_NOTES];

    if (c == NULL || c->pcapng == NULL)
        return;
    for (int i = 0; i < c->nnotes; i++) /* rule 4's fallback: the arriving segment */
        if (c->notes[i].pkt < 0 && c->in_pkt >= 0 && c->held[c->in_pkt].tcp &&
            same_conn(c->notes[i].key, c->held[c->in_pkt].key))
            c->notes[i].pkt = c->in_pkt;
    for (int i = 0; i < c->nheld; i++)
        write_packet(c, &c->held[i], comments, comments_of(c, i, comments));
    c->nheld = 0;
    c->arena_len = 0;
    c->nnotes = 0;
    c->in_pkt = -1;
}

void capture_flush(struct capture *c) {
    if (c == NULL)
        return;
    pcap_writer_flush(c->pcap);
    pcapng_writer_flush(c->pcapng);
}

void capture_close(struct capture *c) {
    if (c == NULL)
        return;
    capture_settle(c);
    pcap_writer_close(c->pcap);
    pcapng_writer_close(c->pcapng);
    free(c->arena);
    free(c->held);
    free(c);
}
