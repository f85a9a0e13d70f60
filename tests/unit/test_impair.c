/*
 * test_impair.c -- the impairment layer (tun/impair.c, tun/impair_spec.c) on
 * virtual time: the --impair SPEC parser with good and bad input, the
 * generator's determinism, loss rates, exact delay release times, reorder,
 * duplication, the bounded queue, re-entry and the trace lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/suites.h"
#include "tun/impair.h"

#define MAX_LOG 20000     /* deliveries a test records */
#define RATE_SAMPLES 100000
#define RATE_TOLERANCE_PPB 5000000u /* +-0.5% */
#define PKT_LEN 64

/* What the hooks saw. */
struct seen {
    int n, delivered;
    uint32_t id[MAX_LOG];
    usec_t at[MAX_LOG];
    enum impair_dir dir[MAX_LOG];
    int traces, logs;
    char last_trace[512];
};

static struct seen seen;
static usec_t vnow;
static struct impair *reenter; /* when set, IN deliveries emit an OUT reply */

static uint32_t pkt_id(const struct slice *parts)
{
    uint32_t id;
    memcpy(&id, parts[0].data, sizeof(id));
    return id;
}

static void on_deliver(void *ctx, enum impair_dir dir, const struct slice *parts, int nparts)
{
    (void)ctx;
    ck_assert_int_ge(nparts, 1);
    seen.delivered++;
    if (seen.n < MAX_LOG) {
        seen.id[seen.n] = pkt_id(parts);
        seen.at[seen.n] = vnow;
        seen.dir[seen.n] = dir;
        seen.n++;
    }
    if (reenter != NULL && dir == IMPAIR_IN) {
        uint8_t reply[PKT_LEN] = {0};
        uint32_t id = pkt_id(parts) + 1000000;
        memcpy(reply, &id, sizeof(id));
        struct slice s = {reply, sizeof(reply)};
        impair_packet(reenter, IMPAIR_OUT, &s, 1, vnow);
    }
}

static void on_trace(void *ctx, const char *line)
{
    (void)ctx;
    seen.traces++;
    snprintf(seen.last_trace, sizeof(seen.last_trace), "%s", line);
}

static void on_log(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
    seen.logs++;
}

static struct impair *make(const char *spec, enum trace_level level)
{
    struct impair_spec sp;
    char err[IMPAIR_ERR_LEN];
    struct impair_hooks h = {on_deliver, on_trace, on_log, NULL};

    ck_assert_msg(impair_parse(spec, &sp, err, sizeof(err)), "%s: %s", spec, err);
    memset(&seen, 0, sizeof(seen));
    vnow = 0;
    reenter = NULL;
    struct impair *im = impair_new(&sp, &h, level);
    ck_assert_ptr_nonnull(im);
    return im;
}

/* A packet whose first four bytes are its id. */
static int send_id(struct impair *im, enum impair_dir dir, uint32_t id)
{
    uint8_t buf[PKT_LEN] = {0};
    memcpy(buf, &id, sizeof(id));
    struct slice s = {buf, sizeof(buf)};
    return impair_packet(im, dir, &s, 1, vnow);
}

static void advance(struct impair *im, usec_t to)
{
    vnow = to;
    impair_release(im, vnow);
}

/* ---- parsing ------------------------------------------------------------ */

START_TEST(parse_full_spec)
{
    struct impair_spec s;
    char err[IMPAIR_ERR_LEN];
    ck_assert(impair_parse("loss=5%,reorder=10%,dup=2%,delay=5ms,seed=42", &s, err,
                           sizeof(err)));
    ck_assert(s.enabled);
    ck_assert_uint_eq(s.seed, 42);
    for (int d = 0; d < IMPAIR_DIRS; d++) {
        ck_assert_uint_eq(s.dir[d].loss, 50000000u);
        ck_assert_uint_eq(s.dir[d].reorder, 100000000u);
        ck_assert_uint_eq(s.dir[d].dup, 20000000u);
        ck_assert_uint_eq(s.dir[d].delay, 5000);
        ck_assert_uint_eq(s.dir[d].jitter, 0);
    }
}
END_TEST

START_TEST(parse_units_decimals_defaults)
{
    struct impair_spec s;
    char err[IMPAIR_ERR_LEN];
    ck_assert(impair_parse("loss=0.5%", &s, err, sizeof(err)));
    ck_assert_uint_eq(s.seed, IMPAIR_DEFAULT_SEED);
    ck_assert_uint_eq(s.dir[IMPAIR_IN].loss, 5000000u);
    ck_assert_uint_eq(s.dir[IMPAIR_OUT].dup, 0);
    ck_assert(impair_parse("loss=100%,dup=0.0000001%", &s, err, sizeof(err)));
    ck_assert_uint_eq(s.dir[IMPAIR_OUT].loss, IMPAIR_PPB_ONE);
    ck_assert_uint_eq(s.dir[IMPAIR_OUT].dup, 1);
    ck_assert(impair_parse("delay=1.5ms,jitter=200us", &s, err, sizeof(err)));
    ck_assert_uint_eq(s.dir[IMPAIR_IN].delay, 1500);
    ck_assert_uint_eq(s.dir[IMPAIR_IN].jitter, 200);
    ck_assert(impair_parse("delay=10s,seed=18446744073709551615", &s, err, sizeof(err)));
    ck_assert_uint_eq(s.dir[IMPAIR_OUT].delay, 10 * USEC_PER_SEC);
    ck_assert_uint_eq(s.seed, UINT64_MAX);
    ck_assert(impair_parse("delay=0.25s,seed=0", &s, err, sizeof(err)));
    ck_assert_uint_eq(s.dir[IMPAIR_IN].delay, 250000);
    ck_assert_uint_eq(s.seed, 0);
}
END_TEST

START_TEST(parse_direction_wins_in_any_order)
{
    struct impair_spec s;
    char err[IMPAIR_ERR_LEN];
    ck_assert(impair_parse("in.loss=1%,loss=5%,out.delay=3ms", &s, err, sizeof(err)));
    ck_assert_uint_eq(s.dir[IMPAIR_IN].loss, 10000000u);
    ck_assert_uint_eq(s.dir[IMPAIR_OUT].loss, 50000000u);
    ck_assert_uint_eq(s.dir[IMPAIR_IN].delay, 0);
    ck_assert_uint_eq(s.dir[IMPAIR_OUT].delay, 3000);
    ck_assert(impair_parse("loss=5%,in.loss=0%", &s, err, sizeof(err)));
    ck_assert_uint_eq(s.dir[IMPAIR_IN].loss, 0);
    ck_assert_uint_eq(s.dir[IMPAIR_OUT].loss, 50000000u);
}
END_TEST

/* Each bad spec fails with a line naming what is wrong. */
static const struct {
    const char *spec, *must_say;
} bad_specs[] = {
    {"loss=150%", "loss takes a percentage from 0% to 100%"},
    {"loss=100.1%", "like loss=5%"},
    {"loss=5", "loss takes a percentage"},
    {"loss=abc%", "loss=abc%: loss takes"},
    {"loss= 5%", "loss takes"},
    {"loss=-1%", "loss takes"},
    {"loss=1e2%", "loss takes"},
    {"loss=.5%", "loss takes"},
    {"loss=0.00000001%", "loss takes"},
    {"dup=2%%", "dup takes"},
    {"reorder=", "reorder takes"},
    {"foo=1", "unknown key 'foo'"},
    {"sideways.loss=5%", "unknown key 'sideways.loss'"},
    {"in.=5%", "unknown key 'in.'"},
    {"loss", "expected KEY=VALUE"},
    {"=5%", "expected KEY=VALUE"},
    {"", "empty item"},
    {"loss=5%,", "empty item"},
    {",loss=5%", "empty item"},
    {"loss=5%,,dup=1%", "empty item"},
    {"loss=5%,loss=6%", "loss given twice"},
    {"in.loss=5%,in.loss=6%", "in.loss given twice"},
    {"in.seed=3", "seed applies to both directions"},
    {"delay=5", "delay takes a duration"},
    {"delay=11s", "delay takes a duration up to 10s"},
    {"delay=1.5us", "delay takes"},
    {"delay=5min", "delay takes"},
    {"jitter=10001ms", "jitter takes"},
    {"seed=-1", "seed takes a whole number"},
    {"seed=18446744073709551616", "seed takes"},
    {"seed=4x", "seed takes"},
};

START_TEST(parse_rejects)
{
    struct impair_spec s;
    char err[IMPAIR_ERR_LEN];
    const char *spec = bad_specs[_i].spec;
    memset(err, 0, sizeof(err));
    ck_assert_msg(!impair_parse(spec, &s, err, sizeof(err)), "'%s' accepted", spec);
    ck_assert_msg(strstr(err, bad_specs[_i].must_say) != NULL,
                  "'%s': error '%s' lacks '%s'", spec, err, bad_specs[_i].must_say);
    ck_assert_msg(strchr(err, '\n') == NULL, "'%s': error is not one line", spec);
}
END_TEST

START_TEST(spec_format_reads_back)
{
    struct impair_spec s;
    char err[IMPAIR_ERR_LEN], buf[256];
    ck_assert(impair_parse("loss=0.5%,out.dup=2%,delay=5ms,seed=7", &s, err, sizeof(err)));
    impair_spec_format(&s, buf, sizeof(buf));
    ck_assert_str_eq(buf, "seed 7; in: loss 0.5% dup 0% reorder 0% delay 5000us jitter 0us; "
                          "out: loss 0.5% dup 2% reorder 0% delay 5000us jitter 0us");
}
END_TEST

/* ---- the generator and its decisions ---------------------------------- */

START_TEST(prng_is_splitmix64)
{
    uint64_t s = 0;
    ck_assert_uint_eq(impair_prng_next(&s), 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(impair_prng_next(&s), 0x6e789e6aa1b965f4ull);
}
END_TEST

#define DECISIONS 5000
static int fates_a[DECISIONS], fates_b[DECISIONS];

static void fates(const char *spec, int *out)
{
    struct impair *im = make(spec, TRACE_OFF);
    for (int i = 0; i < DECISIONS; i++) {
        out[i] = send_id(im, i % 3 ? IMPAIR_OUT : IMPAIR_IN, (uint32_t)i);
        out[i] += 10 * (int)impair_held(im);
        advance(im, vnow + 1000);
    }
    impair_free(im);
}

START_TEST(same_seed_same_decisions)
{
    fates("loss=10%,dup=10%,reorder=10%,seed=42", fates_a);
    int n_a = seen.n;
    uint32_t first_ids[64];
    memcpy(first_ids, seen.id, sizeof(first_ids));
    fates("loss=10%,dup=10%,reorder=10%,seed=42", fates_b);
    ck_assert_mem_eq(fates_a, fates_b, sizeof(fates_a));
    ck_assert_int_eq(n_a, seen.n);
    ck_assert_mem_eq(first_ids, seen.id, sizeof(first_ids));
}
END_TEST

START_TEST(different_seed_different_decisions)
{
    fates("loss=10%,dup=10%,reorder=10%,seed=42", fates_a);
    fates("loss=10%,dup=10%,reorder=10%,seed=43", fates_b);
    int differ = 0;
    for (int i = 0; i < DECISIONS; i++)
        differ += fates_a[i] != fates_b[i];
    ck_assert_int_gt(differ, DECISIONS / 20);
}
END_TEST

/* The Nth packet of a direction meets the same fate however the other
 * direction's packets interleave with it. */
START_TEST(directions_are_independent_streams)
{
    struct impair *im = make("loss=30%,seed=5", TRACE_OFF);
    for (int i = 0; i < DECISIONS; i++)
        fates_a[i] = send_id(im, IMPAIR_OUT, (uint32_t)i);
    impair_free(im);
    im = make("loss=30%,seed=5", TRACE_OFF);
    for (int i = 0; i < DECISIONS; i++) {
        send_id(im, IMPAIR_IN, (uint32_t)i);
        if (i % 7 == 0)
            send_id(im, IMPAIR_IN, (uint32_t)i);
        fates_b[i] = send_id(im, IMPAIR_OUT, (uint32_t)i);
    }
    impair_free(im);
    ck_assert_mem_eq(fates_a, fates_b, sizeof(fates_a));
}
END_TEST

static const struct {
    const char *spec;
    uint32_t ppb;
} rates[] = {
    {"loss=5%,seed=1", 50000000u},
    {"loss=0.5%,seed=2", 5000000u},
    {"loss=30%,seed=3", 300000000u},
    {"loss=99.5%,seed=4", 995000000u},
};

START_TEST(loss_rate_within_half_a_percent)
{
    struct impair *im = make(rates[_i].spec, TRACE_OFF);
    for (uint32_t i = 0; i < RATE_SAMPLES; i++)
        send_id(im, IMPAIR_OUT, i);
    uint64_t dropped = impair_counters(im, IMPAIR_OUT)->dropped;
    uint64_t want = (uint64_t)rates[_i].ppb * RATE_SAMPLES / IMPAIR_PPB_ONE;
    uint64_t tol = (uint64_t)RATE_TOLERANCE_PPB * RATE_SAMPLES / IMPAIR_PPB_ONE;
    ck_assert_msg(dropped + tol >= want && dropped <= want + tol,
                  "%s: dropped %llu of %d, want %llu +- %llu", rates[_i].spec,
                  (unsigned long long)dropped, RATE_SAMPLES, (unsigned long long)want,
                  (unsigned long long)tol);
    ck_assert_int_eq(seen.delivered, RATE_SAMPLES - (int)dropped);
    ck_assert_uint_eq(impair_counters(im, IMPAIR_OUT)->packets, RATE_SAMPLES);
    impair_free(im);
}
END_TEST

START_TEST(extremes_are_exact)
{
    struct impair *im = make("in.loss=100%,out.loss=0%", TRACE_OFF);
    for (uint32_t i = 0; i < 1000; i++) {
        ck_assert_int_eq(send_id(im, IMPAIR_IN, i), 0);
        ck_assert_int_eq(send_id(im, IMPAIR_OUT, i), 1);
    }
    ck_assert_int_eq(seen.n, 1000);
    impair_free(im);
}
END_TEST

/* ---- delay ------------------------------------------------------------- */

START_TEST(delay_releases_exactly_on_time)
{
    struct impair *im = make("delay=5ms", TRACE_OFF);
    ck_assert_uint_eq(impair_next_release(im), USEC_NEVER);
    vnow = 1000;
    ck_assert_int_eq(send_id(im, IMPAIR_OUT, 1), 1);
    vnow = 1700;
    send_id(im, IMPAIR_IN, 2);
    ck_assert_int_eq(seen.n, 0);
    ck_assert_uint_eq(impair_next_release(im), 6000);
    advance(im, 5999);
    ck_assert_int_eq(seen.n, 0);
    advance(im, 6000);
    ck_assert_int_eq(seen.n, 1);
    ck_assert_uint_eq(seen.id[0], 1);
    ck_assert_int_eq(seen.dir[0], IMPAIR_OUT);
    ck_assert_uint_eq(impair_next_release(im), 6700);
    advance(im, 6699);
    ck_assert_int_eq(seen.n, 1);
    advance(im, 6700);
    ck_assert_int_eq(seen.n, 2);
    ck_assert_int_eq(seen.dir[1], IMPAIR_IN);
    ck_assert_uint_eq(impair_next_release(im), USEC_NEVER);
    ck_assert_uint_eq(impair_counters(im, IMPAIR_OUT)->delayed, 1);
    impair_free(im);
}
END_TEST

/* Jitter spreads delays over [delay-jitter, delay+jitter] but never lets a
 * packet pass the one before it: only reorder= reorders. */
START_TEST(jitter_bounded_and_in_order)
{
    struct impair *im = make("delay=10ms,jitter=4ms,seed=9", TRACE_OFF);
    usec_t sent[200];
    usec_t min_d = USEC_NEVER, max_d = 0;
    for (uint32_t i = 0; i < 200; i++) {
        sent[i] = vnow;
        send_id(im, IMPAIR_OUT, i);
        usec_t target = vnow + 3000;
        while (impair_next_release(im) <= target)
            advance(im, impair_next_release(im));
        vnow = target;
    }
    while (impair_next_release(im) != USEC_NEVER)
        advance(im, impair_next_release(im));
    ck_assert_int_eq(seen.n, 200);
    for (int i = 0; i < 200; i++) {
        ck_assert_uint_eq(seen.id[i], (uint32_t)i);
        usec_t d = seen.at[i] - sent[i];
        ck_assert_uint_ge(d, 6000);
        min_d = d < min_d ? d : min_d;
        max_d = d > max_d ? d : max_d;
    }
    ck_assert_uint_lt(min_d, 8000);     /* the spread is really used */
    ck_assert_uint_gt(max_d, 12000);
    ck_assert_uint_le(max_d, 14000 + 3000); /* + waiting behind a slower one */
    impair_free(im);
}
END_TEST

/* ---- reorder and duplication ------------------------------------------ */

START_TEST(lone_reordered_packet_waits_the_hold)
{
    struct impair *im = make("reorder=100%", TRACE_OFF);
    vnow = 500;
    ck_assert_int_eq(send_id(im, IMPAIR_IN, 7), 1);
    ck_assert_int_eq(seen.n, 0);
    ck_assert_uint_eq(impair_next_release(im), 500 + IMPAIR_REORDER_HOLD_USEC);
    advance(im, 500 + IMPAIR_REORDER_HOLD_USEC);
    ck_assert_int_eq(seen.n, 1);
    ck_assert_uint_eq(impair_counters(im, IMPAIR_IN)->reordered, 1);
    impair_free(im);
}
END_TEST

#define REORDER_PKTS 2000

/* Every packet arrives exactly once; a reordered one arrives right after
 * the packet that overtook it, not later. */
static void check_reorders(const char *spec, usec_t step)
{
    struct impair *im = make(spec, TRACE_OFF);
    static int count[REORDER_PKTS];
    int inversions = 0;

    memset(count, 0, sizeof(count));
    for (uint32_t i = 0; i < REORDER_PKTS; i++) {
        send_id(im, IMPAIR_OUT, i);
        advance(im, vnow + step);
    }
    advance(im, vnow + USEC_PER_SEC);
    ck_assert_int_eq(seen.n, REORDER_PKTS);
    for (int k = 0; k < seen.n; k++) {
        count[seen.id[k]]++;
        if (k > 0 && seen.id[k] < seen.id[k - 1])
            inversions++;
    }
    for (int i = 0; i < REORDER_PKTS; i++)
        ck_assert_int_eq(count[i], 1);
    uint64_t reordered = impair_counters(im, IMPAIR_OUT)->reordered;
    ck_assert_uint_gt(reordered, REORDER_PKTS / 20);
    /* Runs of reordered packets all go after one overtaker: at most one
     * inversion per run, at least one per run. */
    ck_assert_int_gt(inversions, (int)reordered / 2);
    ck_assert_int_le(inversions, (int)reordered);
    impair_free(im);
}

START_TEST(reorder_lets_the_next_packet_pass)
{
    check_reorders("reorder=10%,seed=11", 100);
}
END_TEST

START_TEST(reorder_with_delay)
{
    check_reorders("reorder=10%,delay=2ms,seed=12", 100);
}
END_TEST

START_TEST(reordered_goes_right_after_its_overtaker)
{
    /* Find a seed-determined reorder, then look at the delivery order. */
    struct impair *im = make("reorder=30%,seed=3", TRACE_OFF);
    int held_id = -1;
    for (uint32_t i = 0; i < 100 && held_id < 0; i++) {
        int before = seen.n;
        send_id(im, IMPAIR_OUT, i);
        if (seen.n == before)
            held_id = (int)i;
    }
    ck_assert_int_ge(held_id, 0);
    /* Send until one passes straight through. */
    uint32_t next = (uint32_t)held_id + 1;
    int before = seen.n;
    while (seen.n == before)
        send_id(im, IMPAIR_OUT, next++);
    ck_assert_uint_eq(seen.id[before], next - 1);      /* the overtaker */
    ck_assert_uint_eq(seen.id[before + 1], (uint32_t)held_id); /* then the held */
    ck_assert_uint_eq(impair_held(im), 0);
    impair_free(im);
}
END_TEST

START_TEST(dup_delivers_twice)
{
    struct impair *im = make("dup=100%", TRACE_OFF);
    ck_assert_int_eq(send_id(im, IMPAIR_IN, 5), 2);
    ck_assert_int_eq(seen.n, 2);
    ck_assert_uint_eq(seen.id[0], 5);
    ck_assert_uint_eq(seen.id[1], 5);
    ck_assert_uint_eq(impair_counters(im, IMPAIR_IN)->duplicated, 1);
    impair_free(im);

    im = make("dup=100%,delay=1ms", TRACE_OFF);
    ck_assert_int_eq(send_id(im, IMPAIR_OUT, 6), 2);
    ck_assert_uint_eq(impair_held(im), 2);
    advance(im, 1000);
    ck_assert_int_eq(seen.n, 2);
    ck_assert_uint_eq(seen.at[0], 1000);
    ck_assert_uint_eq(seen.at[1], 1000);
    impair_free(im);
}
END_TEST

START_TEST(dup_rate_is_close)
{
    struct impair *im = make("dup=2%,seed=8", TRACE_OFF);
    for (uint32_t i = 0; i < RATE_SAMPLES; i++)
        send_id(im, IMPAIR_IN, i);
    uint64_t dups = impair_counters(im, IMPAIR_IN)->duplicated;
    ck_assert_uint_ge(dups, 1500);
    ck_assert_uint_le(dups, 2500);
    impair_free(im);
}
END_TEST

/* ---- bounds, re-entry, tracing ---------------------------------------- */

START_TEST(queue_is_bounded_in_packets)
{
    struct impair *im = make("delay=1s", TRACE_OFF);
    for (uint32_t i = 0; i < IMPAIR_MAX_HELD + 10; i++)
        ck_assert_int_eq(send_id(im, IMPAIR_OUT, i), i < IMPAIR_MAX_HELD ? 1 : 0);
    ck_assert_uint_eq(impair_held(im), IMPAIR_MAX_HELD);
    ck_assert_uint_eq(impair_counters(im, IMPAIR_OUT)->queue_full, 10);
    ck_assert_int_eq(seen.logs, 4); /* 1st, 2nd, 4th, 8th */
    advance(im, USEC_PER_SEC);
    ck_assert_int_eq(seen.n, IMPAIR_MAX_HELD);
    ck_assert_uint_eq(impair_held(im), 0);
    for (int i = 0; i < seen.n; i++)
        ck_assert_uint_eq(seen.id[i], (uint32_t)i);
    impair_free(im);
}
END_TEST

START_TEST(queue_is_bounded_in_bytes)
{
    enum { BIG = 65535 };
    struct impair *im = make("delay=1s", TRACE_OFF);
    uint8_t *big = calloc(1, BIG);
    struct slice s = {big, BIG};
    unsigned fit = IMPAIR_MAX_HELD_BYTES / BIG;
    for (unsigned i = 0; i < fit; i++)
        ck_assert_int_eq(impair_packet(im, IMPAIR_IN, &s, 1, 0), 1);
    ck_assert_int_eq(impair_packet(im, IMPAIR_IN, &s, 1, 0), 0);
    ck_assert_uint_eq(impair_counters(im, IMPAIR_IN)->queue_full, 1);
    ck_assert_uint_eq(impair_held(im), fit);
    impair_free(im); /* frees what it holds: ASan checks */
    free(big);
}
END_TEST

START_TEST(held_packets_are_copies_of_all_slices)
{
    struct impair *im = make("delay=1ms", TRACE_OFF);
    uint8_t a[4] = {1, 0, 0, 0}, b[3] = {'x', 'y', 'z'};
    struct slice parts[2] = {{a, 4}, {b, 3}};
    impair_packet(im, IMPAIR_OUT, parts, 2, 0);
    a[0] = 99;
    b[0] = '!';
    advance(im, 1000);
    ck_assert_int_eq(seen.n, 1);
    ck_assert_uint_eq(seen.id[0], 1);
    impair_free(im);
}
END_TEST

/* An IN delivery makes the stack emit: impair_packet(OUT) from inside
 * impair_release() must work and be released in its turn. */
START_TEST(deliver_may_reenter)
{
    struct impair *im = make("delay=1ms,reorder=20%,seed=4", TRACE_OFF);
    reenter = im;
    for (uint32_t i = 0; i < 500; i++) {
        send_id(im, IMPAIR_IN, i);
        advance(im, vnow + 300);
    }
    advance(im, vnow + USEC_PER_SEC); /* the last INs emit OUTs ... */
    advance(im, vnow + USEC_PER_SEC); /* ... due a little later */
    int in = 0, out = 0;
    for (int k = 0; k < seen.n; k++)
        *(seen.dir[k] == IMPAIR_IN ? &in : &out) += 1;
    ck_assert_int_eq(in, 500);
    ck_assert_msg(out == 500, "out %d held %zu", out, impair_held(im));
    ck_assert_uint_eq(impair_held(im), 0);
    impair_free(im);
}
END_TEST

/* 10.0.0.2:80 > 10.0.0.1:40000 [PSH, ACK] seq=1000 ack=2000, 10 bytes. */
static void tcp_packet(uint8_t p[50])
{
    static const uint8_t hdr[40] = {
        0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
        0, 80, 0x9c, 0x40, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0, 0x50, 0x18, 0xff, 0xff,
        0, 0, 0, 0,
    };
    memset(p, 'a', 50);
    memcpy(p, hdr, sizeof(hdr));
}

START_TEST(trace_names_the_decision_and_segment)
{
    uint8_t p[50];
    tcp_packet(p);
    struct slice s[2] = {{p, 30}, {p + 30, 20}}; /* header split across slices */
    struct impair *im = make("out.loss=100%,in.delay=2ms", TRACE_STATES);
    vnow = 12345678;
    impair_packet(im, IMPAIR_OUT, s, 2, vnow);
    ck_assert_int_eq(seen.traces, 1);
    ck_assert_str_eq(seen.last_trace, "12.345678 impair OUT drop 10.0.0.2:80 > "
                                      "10.0.0.1:40000 [PSH, ACK] seq=1000 ack=2000 len=10");
    impair_packet(im, IMPAIR_IN, s, 2, vnow); /* a delay alone: level 2 only */
    ck_assert_int_eq(seen.traces, 1);
    impair_free(im);

    im = make("in.delay=2ms,in.dup=100%", TRACE_SEGMENTS);
    impair_packet(im, IMPAIR_IN, s, 2, 0);
    ck_assert_int_eq(seen.traces, 1);
    ck_assert_ptr_nonnull(strstr(seen.last_trace, " impair IN dup+delay 2.000ms 10.0.0.2:80"));
    impair_free(im);

    im = make("loss=100%", TRACE_OFF);
    impair_packet(im, IMPAIR_OUT, s, 2, 0);
    ck_assert_int_eq(seen.traces, 0);
    impair_free(im);
}
END_TEST

START_TEST(trace_icmp_and_garbage)
{
    uint8_t icmp[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                        8, 0, 0, 0, 0x12, 0x34, 0, 7};
    uint8_t junk[3] = {1, 2, 3};
    struct slice s = {icmp, sizeof(icmp)}, j = {junk, sizeof(junk)};
    struct impair *im = make("reorder=100%", TRACE_STATES);
    impair_packet(im, IMPAIR_IN, &s, 1, 0);
    ck_assert_str_eq(seen.last_trace, "0.000000 impair IN reorder 10.0.0.1 > 10.0.0.2 "
                                      "ICMP echo request id=4660 seq=7");
    impair_packet(im, IMPAIR_IN, &j, 1, 0);
    ck_assert_str_eq(seen.last_trace, "0.000000 impair IN reorder len=3 (not IPv4)");
    impair_free(im);
}
END_TEST

START_TEST(counters_format_lists_both_directions)
{
    char buf[1024];
    struct impair *im = make("loss=100%", TRACE_OFF);
    send_id(im, IMPAIR_IN, 1);
    send_id(im, IMPAIR_OUT, 1);
    send_id(im, IMPAIR_OUT, 2);
    impair_counters_format(im, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "impairment:"));
    ck_assert_ptr_nonnull(strstr(buf, "         1           2  dropped (loss=)"));
    ck_assert_uint_eq(impair_counters_format(im, buf, 10), 9);
    impair_free(im);
}
END_TEST

Suite *impair_suite(void)
{
    Suite *s = suite_create("impair");
    TCase *p = tcase_create("parse");
    tcase_add_test(p, parse_full_spec);
    tcase_add_test(p, parse_units_decimals_defaults);
    tcase_add_test(p, parse_direction_wins_in_any_order);
    tcase_add_loop_test(p, parse_rejects, 0, (int)(sizeof(bad_specs) / sizeof(bad_specs[0])));
    tcase_add_test(p, spec_format_reads_back);
    suite_add_tcase(s, p);

    TCase *d = tcase_create("decisions");
    tcase_add_test(d, prng_is_splitmix64);
    tcase_add_test(d, same_seed_same_decisions);
    tcase_add_test(d, different_seed_different_decisions);
    tcase_add_test(d, directions_are_independent_streams);
    tcase_add_loop_test(d, loss_rate_within_half_a_percent, 0,
                        (int)(sizeof(rates) / sizeof(rates[0])));
    tcase_add_test(d, extremes_are_exact);
    tcase_add_test(d, dup_rate_is_close);
    suite_add_tcase(s, d);

    TCase *q = tcase_create("queue");
    tcase_add_test(q, delay_releases_exactly_on_time);
    tcase_add_test(q, jitter_bounded_and_in_order);
    tcase_add_test(q, lone_reordered_packet_waits_the_hold);
    tcase_add_test(q, reorder_lets_the_next_packet_pass);
    tcase_add_test(q, reorder_with_delay);
    tcase_add_test(q, reordered_goes_right_after_its_overtaker);
    tcase_add_test(q, dup_delivers_twice);
    tcase_add_test(q, queue_is_bounded_in_packets);
    tcase_add_test(q, queue_is_bounded_in_bytes);
    tcase_add_test(q, held_packets_are_copies_of_all_slices);
    tcase_add_test(q, deliver_may_reenter);
    suite_add_tcase(s, q);

    TCase *t = tcase_create("trace");
    tcase_add_test(t, trace_names_the_decision_and_segment);
    tcase_add_test(t, trace_icmp_and_garbage);
    tcase_add_test(t, counters_format_lists_both_directions);
    suite_add_tcase(s, t);
    return s;
}
