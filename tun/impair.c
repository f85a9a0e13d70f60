/*
 * impair.c -- the impairment layer: for each packet a seeded generator draws
 * whether it is lost, duplicated, held back to be overtaken, and how long it
 * is delayed; held packets are copied into a bounded min-heap keyed by
 * release time.  No system calls and no clock: `now` comes in, packets leave
 * through the deliver hook, so a seed and a packet sequence always give the
 * same decisions, on real time in synackd and on virtual time in the tests.
 *
 * Each direction has its own generator: how IN and OUT packets interleave
 * depends on the kernel's timing, but the decisions for the Nth packet of a
 * direction depend only on the seed and N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/counters.h"
#include "stack/tcp_header.h"
#include "tun/impair.h"

#define DRAWS_PER_PACKET 4   /* loss, dup, reorder, jitter: always all four */
#define SUMMARY_PEEK 120     /* IPv4 (<= 60) + TCP (<= 60) header bytes */
#define SUMMARY_MAX 160
#define TRACE_LINE_MAX 320
#define IPV4_MIN_HDR 20
#define TCP_MIN_HDR 20
#define PROTO_ICMP 1
#define PROTO_TCP 6

/* One held packet, copied: the stack's slices die with the output call. */
struct held {
    usec_t release;
    uint64_t order;           /* ties on release go first-held first */
    enum impair_dir dir;
    bool waiting;             /* reordered, not yet overtaken */
    struct held *wprev, *wnext; /* the direction's waiting list */
    size_t pos;               /* index in the heap */
    size_t len;
    uint8_t data[];
};

struct impair {
    struct impair_spec spec;
    struct impair_hooks hooks;
    enum trace_level trace_level;
    uint64_t rng[IMPAIR_DIRS];
    struct impair_counters count[IMPAIR_DIRS];
    /* Release time of the last in-order packet held: later packets never go
     * before it, so delay and jitter never reorder (only reorder= does). */
    usec_t floor[IMPAIR_DIRS];
    size_t in_order_held[IMPAIR_DIRS];
    struct held *wait_head[IMPAIR_DIRS], *wait_tail[IMPAIR_DIRS];
    uint64_t next_order;
    uint64_t queue_full_total; /* for thinning the log */
    size_t nheld, held_bytes;
    struct held *heap[IMPAIR_MAX_HELD];
};

static const char *const dir_names[IMPAIR_DIRS] = {"IN", "OUT"};

/* ---- the generator ------------------------------------------------------ */

/* splitmix64 (Steele, Lea, Flood 2014): one add and two multiply-xorshifts,
 * every 64-bit output equally likely, and trivially seeded. */
uint64_t impair_prng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* True with probability ppb / 10^9.  The modulo's bias is 10^9 / 2^64. */
static bool chance(uint64_t r, uint32_t ppb) {
    return r % IMPAIR_PPB_ONE < ppb;
}

/* ---- the heap of held packets ----------------------------------------- */

static bool before(const struct held *a, const struct held *b) {
    return a->release != b->release ? a->release < b->release : a->order < b->order;
}

static void heap_set(struct impair *im, size_t i, struct held *h) {
    im->heap[i] = h;
    h->pos = i;
}

static void sift_up(struct impair *im, size_t i) {
    struct held *h = im->heap[i];

    while (i > 0 && before(h, im->heap[(i - 1) / 2])) {
        heap_set(im, i, im->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(im, i, h);
}

static void sift_down(struct impair *im, size_t i) {
    struct held *h = im->heap[i];
    size_t c;

    while ((c = 2 * i + 1) < im->nheld) {
        if (c + 1 < im->nheld && before(im->heap[c + 1], im->heap[c]))
            c++;
        if (!before(im->heap[c], h))
            break;
        heap_set(im, i, im->heap[c]);
        i = c;
    }
    heap_set(im, i, h);
}

static void heap_remove(struct impair *im, struct held *h) {
    struct held *last = im->heap[--im->nheld];

    if (h != last) {
        heap_set(im, h->pos, last);
        sift_up(im, last->pos);
        sift_down(im, last->pos);
    }
}

/* ---- waiting for an overtaker ------------------------------------------ */

static void wait_append(struct impair *im, struct held *h) {
    h->waiting = true;
    h->wnext = NULL;
    h->wprev = im->wait_tail[h->dir];
    if (h->wprev != NULL)
        h->wprev->wnext = h;
    else
        im->wait_head[h->dir] = h;
    im->wait_tail[h->dir] = h;
}

/* Off the waiting list: from now on it is an ordinary held packet. */
static void unwait(struct impair *im, struct held *h) {
    if (h->wprev != NULL)
        h->wprev->wnext = h->wnext;
    else
        im->wait_head[h->dir] = h->wnext;
    if (h->wnext != NULL)
        h->wnext->wprev = h->wprev;
    else
        im->wait_tail[h->dir] = h->wprev;
    h->waiting = false;
    im->in_order_held[h->dir]++;
}

/* Takes h out of every structure, so delivering it cannot disturb them even
 * when the deliver hook re-enters impair_packet(). */
static void detach(struct impair *im, struct held *h) {
    if (h->waiting)
        unwait(im, h);
    im->in_order_held[h->dir]--;
    heap_remove(im, h);
    im->held_bytes -= h->len;
}

static void deliver_held(struct impair *im, struct held *h) {
    struct slice s = {h->data, h->len};

    im->hooks.deliver(im->hooks.ctx, h->dir, &s, 1);
    free(h);
}

/* A packet of dir has just been scheduled for `release`: every packet still
 * waiting in dir goes right after it, unless its own hold ends sooner. */
static void overtake(struct impair *im, enum impair_dir dir, usec_t release) {
    struct held *h;

    while ((h = im->wait_head[dir]) != NULL) {
        unwait(im, h);
        if (release <= h->release) {
            h->release = release;
            h->order = im->next_order++;
            sift_up(im, h->pos);
            sift_down(im, h->pos);
        }
    }
}

/* The same, when the overtaker went straight through: the waiters go now. */
static void overtake_now(struct impair *im, enum impair_dir dir) {
    struct held *h;

    while ((h = im->wait_head[dir]) != NULL) {
        detach(im, h);
        deliver_held(im, h);
    }
}

/* ---- tracing ------------------------------------------------------------ */

static size_t slices_len(const struct slice *parts, int nparts) {
    size_t n = 0;

    for (int i = 0; i < nparts; i++)
        n += parts[i].len;
    return n;
}

/* The first cap bytes of a packet given in slices. */
static size_t gather(const struct slice *parts, int nparts, uint8_t *out, size_t cap) {
    size_t at = 0, n;

    for (int i = 0; i < nparts && at < cap; i++) {
        n = parts[i].len < cap - at ? parts[i].len : cap - at;
        if (n > 0)
            memcpy(out + at, parts[i].data, n);
        at += n;
    }
    return at;
}

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }

static int fmt_ip(char *out, size_t cap, const uint8_t *p) {
    return snprintf(out, cap, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

/* "A:p > B:p [FLAGS] seq=S ack=A len=L" (the payload length), as the stack's
 * own segment lines put it; ICMP and anything else in a shorter form. */
static void summarize(const struct slice *parts, int nparts, char *out, size_t cap) {
    uint8_t b[SUMMARY_PEEK];
    char fl[48];
    size_t n = gather(parts, nparts, b, sizeof(b));
    uint32_t ihl, tot, doff, tlen;
    const uint8_t *t;
    char src[16], dst[16];

    if (n < IPV4_MIN_HDR || b[0] >> 4 != 4 || (ihl = (b[0] & 15u) * 4) < IPV4_MIN_HDR) {
        snprintf(out, cap, "len=%zu (not IPv4)", slices_len(parts, nparts));
        return;
    }
    tot = be16(b + 2);
    fmt_ip(src, sizeof(src), b + 12);
    fmt_ip(dst, sizeof(dst), b + 16);
    t = b + ihl;
    if (b[9] == PROTO_TCP && n >= ihl + TCP_MIN_HDR) {
        doff = (uint32_t)(t[12] >> 4) * 4;
        tlen = tot > ihl + doff ? tot - ihl - doff : 0;
        snprintf(out, cap, "%s:%u > %s:%u %s seq=%u ack=%u len=%u", src, be16(t), dst,
                 be16(t + 2), tcp_flags_str(t[13], fl), be32(t + 4), be32(t + 8),
                 tlen);
    } else if (b[9] == PROTO_ICMP && n >= ihl + 8 && (t[0] == 0 || t[0] == 8)) {
        snprintf(out, cap, "%s > %s ICMP echo %s id=%u seq=%u", src, dst,
                 t[0] == 8 ? "request" : "reply", be16(t + 4), be16(t + 6));
    } else {
        snprintf(out, cap, "%s > %s proto %u len=%u", src, dst, b[9], tot);
    }
}

/* "12.345678 impair OUT drop 10.0.0.2:80 > ..." when tracing at `level`. */
static void trace_decision(struct impair *im, enum trace_level level, enum impair_dir dir,
                           const char *what, const struct slice *parts, int nparts,
                           usec_t now) {
    char sum[SUMMARY_MAX], line[TRACE_LINE_MAX];

    if (im->hooks.trace == NULL || im->trace_level < level)
        return;
    summarize(parts, nparts, sum, sizeof(sum));
    snprintf(line, sizeof(line), "%llu.%06llu impair %s %s %s",
             (unsigned long long)(now / USEC_PER_SEC),
             (unsigned long long)(now % USEC_PER_SEC), dir_names[dir], what, sum);
    im->hooks.trace(im->hooks.ctx, line);
}

/* ---- deciding ----------------------------------------------------------- */

struct decision {
    bool drop, dup, reorder;
    usec_t delay; /* delay +/- jitter, never below zero */
};

/* Always four draws, so the Nth packet's fate depends on the seed and N
 * only, not on which impairments happen to be switched on. */
static struct decision decide(struct impair *im, enum impair_dir dir) {
    const struct impair_params *p = &im->spec.dir[dir];
    uint64_t r[DRAWS_PER_PACKET], off;
    struct decision d;

    for (int i = 0; i < DRAWS_PER_PACKET; i++)
        r[i] = impair_prng_next(&im->rng[dir]);
    d.drop = chance(r[0], p->loss);
    d.dup = !d.drop && chance(r[1], p->dup);
    d.reorder = !d.drop && chance(r[2], p->reorder);
    d.delay = p->delay;
    if (p->jitter > 0) {
        off = r[3] % (2 * p->jitter + 1); /* 0 .. 2*jitter, uniform */
        d.delay = d.delay + off >= p->jitter ? d.delay + off - p->jitter : 0;
    }
    return d;
}

static void queue_full(struct impair *im, enum impair_dir dir, const struct slice *parts,
                       int nparts, usec_t now) {
    char line[TRACE_LINE_MAX];
    uint64_t n = ++im->queue_full_total;

    im->count[dir].queue_full++;
    trace_decision(im, TRACE_STATES, dir, "queue-full drop", parts, nparts, now);
    if (im->hooks.log != NULL && counter_log_due(n)) {
        snprintf(line, sizeof(line), "impairment queue full (%d packets or %u bytes "
                 "held, IMPAIR_MAX_HELD/_BYTES): packet dropped (%llu so far)",
                 IMPAIR_MAX_HELD, IMPAIR_MAX_HELD_BYTES, (unsigned long long)n);
        im->hooks.log(im->hooks.ctx, line);
    }
}

/* Copies the packet into the heap; false (counted) when it does not fit. */
static bool hold(struct impair *im, enum impair_dir dir, const struct slice *parts,
                 int nparts, usec_t release, bool waiting, usec_t now) {
    size_t len = slices_len(parts, nparts);
    struct held *h = NULL;

    if (im->nheld < IMPAIR_MAX_HELD && len <= IMPAIR_MAX_HELD_BYTES - im->held_bytes)
        h = malloc(sizeof(*h) + len);
    if (h == NULL) {
        queue_full(im, dir, parts, nparts, now);
        return false;
    }
    gather(parts, nparts, h->data, len);
    h->len = len;
    h->dir = dir;
    h->release = release;
    h->order = im->next_order++;
    h->waiting = false;
    if (waiting)
        wait_append(im, h);
    else
        im->in_order_held[dir]++;
    im->held_bytes += len;
    heap_set(im, im->nheld++, h);
    sift_up(im, h->pos);
    return true;
}

/* "dup+reorder+delay 5.000ms": the decisions for one trace line. */
static void describe(const struct decision *d, usec_t delay, char *out, size_t cap) {
    int n = snprintf(out, cap, "%s%s", d->dup ? "+dup" : "", d->reorder ? "+reorder" : "");

    if (delay > 0)
        snprintf(out + n, cap - (size_t)n, "+delay %llu.%03llums",
                 (unsigned long long)(delay / 1000), (unsigned long long)(delay % 1000));
    memmove(out, out + 1, strlen(out)); /* the leading '+' */
}

static void count_and_trace(struct impair *im, enum impair_dir dir, const struct decision *d,
                            usec_t delay, const struct slice *parts, int nparts,
                            usec_t now) {
    char what[64];

    im->count[dir].duplicated += d->dup;
    im->count[dir].reordered += d->reorder;
    im->count[dir].delayed += delay > 0;
    if (!d->dup && !d->reorder && delay == 0)
        return;
    describe(d, delay, what, sizeof(what));
    /* A delay alone applies to every packet: a line each only at level 2. */
    trace_decision(im, d->dup || d->reorder ? TRACE_STATES : TRACE_SEGMENTS, dir, what,
                   parts, nparts, now);
}

int impair_packet(struct impair *im, enum impair_dir dir, const struct slice *parts,
                  int nparts, usec_t now) {
    struct decision d = decide(im, dir);
    int copies = d.dup ? 2 : 1, held = 0;
    usec_t release = now + d.delay;

    im->count[dir].packets++;
    if (d.drop) {
        im->count[dir].dropped++;
        trace_decision(im, TRACE_STATES, dir, "drop", parts, nparts, now);
        return 0;
    }
    if (!d.reorder && release < im->floor[dir])
        release = im->floor[dir];
    count_and_trace(im, dir, &d, release - now, parts, nparts, now);
    if (!d.reorder && release <= now && im->in_order_held[dir] == 0) {
        for (int i = 0; i < copies; i++)
            im->hooks.deliver(im->hooks.ctx, dir, parts, nparts);
        overtake_now(im, dir);
        return copies;
    }
    if (d.reorder)
        release += IMPAIR_REORDER_HOLD_USEC;
    for (int i = 0; i < copies; i++)
        held += hold(im, dir, parts, nparts, release, d.reorder, now);
    if (held > 0 && !d.reorder) {
        im->floor[dir] = release;
        overtake(im, dir, release);
    }
    return held;
}

void impair_release(struct impair *im, usec_t now) {
    struct held *h;

    while (im->nheld > 0 && im->heap[0]->release <= now) {
        h = im->heap[0];
        detach(im, h);
        deliver_held(im, h);
    }
}

usec_t impair_next_release(const struct impair *im) {
    return im->nheld > 0 ? im->heap[0]->release : USEC_NEVER;
}

size_t impair_held(const struct impair *im) {
    return im->nheld;
}

/* ---- life cycle and counters ------------------------------------------- */

struct impair *impair_new(const struct impair_spec *spec, const struct impair_hooks *hooks,
                          enum trace_level level) {
    struct impair *im = calloc(1, sizeof(*im));
    uint64_t s;

    if (im == NULL)
        return NULL;
    im->spec = *spec;
    im->hooks = *hooks;
    im->trace_level = level;
    /* Two independent streams from one seed: IN's and OUT's. */
    s = spec->seed;
    for (int d = 0; d < IMPAIR_DIRS; d++)
        im->rng[d] = impair_prng_next(&s);
    return im;
}

void impair_free(struct impair *im) {
    if (im == NULL)
        return;
    for (size_t i = 0; i < im->nheld; i++)
        free(im->heap[i]);
    free(im);
}

const struct impair_counters *impair_counters(const struct impair *im, enum impair_dir dir) {
    return &im->count[dir];
}

size_t impair_counters_format(const struct impair *im, char *buf, size_t cap) {
    const struct impair_counters *i = &im->count[IMPAIR_IN], *o = &im->count[IMPAIR_OUT];
    int n = snprintf(buf, cap,
        "impairment:           in         out\n"
        "  %10llu  %10llu  packets offered\n"
        "  %10llu  %10llu  dropped (loss=)\n"
        "  %10llu  %10llu  duplicated (dup=)\n"
        "  %10llu  %10llu  reordered (reorder=)\n"
        "  %10llu  %10llu  delayed (delay=, jitter=)\n"
        "  %10llu  %10llu  dropped, queue full (%d packets / %u bytes)\n",
        (unsigned long long)i->packets, (unsigned long long)o->packets,
        (unsigned long long)i->dropped, (unsigned long long)o->dropped,
        (unsigned long long)i->duplicated, (unsigned long long)o->duplicated,
        (unsigned long long)i->reordered, (unsigned long long)o->reordered,
        (unsigned long long)i->delayed, (unsigned long long)o->delayed,
        (unsigned long long)i->queue_full, (unsigned long long)o->queue_full,
        IMPAIR_MAX_HELD, IMPAIR_MAX_HELD_BYTES);

    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap > 0 ? cap - 1 : 0;
}
