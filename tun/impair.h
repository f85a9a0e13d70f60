/*
 * impair.h -- a lossy, slow, shuffling wire between the TUN and the core,
 * because `tc netem` is not available everywhere and TCP's recovery has to be
 * seen to be believed.  Each packet, in each direction, may be dropped,
 * duplicated, held back so a later one overtakes it, or delayed.
 *
 * Like the core, this is pure: no system calls, no clock.  The caller passes
 * `now` (monotonic microseconds) and gets packets back through a deliver
 * hook, so tests run it on virtual time and a seed makes every run alike.
 */
#ifndef SYNACK_IMPAIR_H
#define SYNACK_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

/* IN: read from the TUN, on its way to stack_input().
 * OUT: emitted by the core, on its way to the TUN. */
enum impair_dir { IMPAIR_IN = 0, IMPAIR_OUT = 1, IMPAIR_DIRS = 2 };

/* Bounds.  A held packet is copied, so the queue is capped in packets and in
 * bytes; a packet that does not fit is dropped, counted and logged. */
#define IMPAIR_MAX_HELD 4096
#define IMPAIR_MAX_HELD_BYTES (16u * 1024 * 1024)
#define IMPAIR_MAX_DELAY_USEC (10 * USEC_PER_SEC) /* delay and jitter each */
/* How long a reordered packet waits for a later one to overtake it before
 * it goes anyway (a lone packet must not wait forever). */
#define IMPAIR_REORDER_HOLD_USEC 10000
/* Probabilities are parts per billion: 100% = 1e9, so "0.0000001%" is the
 * finest step a spec can name. */
#define IMPAIR_PPB_ONE 1000000000u
#define IMPAIR_DEFAULT_SEED 1

/* What to do to one direction. */
struct impair_params {
    uint32_t loss, dup, reorder; /* probabilities, parts per billion */
    usec_t delay, jitter;        /* one-way delay, +/- uniform jitter */
};

/* A parsed --impair SPEC. */
struct impair_spec {
    bool enabled; /* false: no --impair, synackd takes the direct path */
    uint64_t seed;
    struct impair_params dir[IMPAIR_DIRS];
};

/* Parses "loss=5%,in.delay=5ms,seed=42" into *out (tun/impair_spec.c).
 * false on error, with one line in err naming the key and the form it
 * accepts.  Per-direction keys win over plain ones, whatever their order. */
#define IMPAIR_ERR_LEN 256
bool impair_parse(const char *text, struct impair_spec *out, char *err, size_t errcap);
/* "seed 42; in: loss 5% ...; out: ..." for synackd's start-up line. */
size_t impair_spec_format(const struct impair_spec *spec, char *buf, size_t cap);

struct impair_counters {
    uint64_t packets;    /* offered to impair_packet() */
    uint64_t dropped;    /* by loss= */
    uint64_t duplicated; /* delivered one extra time, by dup= */
    uint64_t reordered;  /* held back for a later packet to overtake */
    uint64_t delayed;    /* delayed by delay=/jitter= */
    uint64_t queue_full; /* dropped: IMPAIR_MAX_HELD or _BYTES reached */
};

struct impair_hooks {
    /* A packet leaves the impairment, in the direction it came: the caller
     * writes it to the TUN (OUT) or hands it to stack_input() (IN).  The
     * slices are valid only during the call. */
    void (*deliver)(void *ctx, enum impair_dir dir, const struct slice *parts, int nparts);
    /* One line per decision, no trailing newline.  NULL: no trace. */
    void (*trace)(void *ctx, const char *line);
    /* A bound was hit; thinned to the 1st, 2nd, 4th, ... time.  May be NULL. */
    void (*log)(void *ctx, const char *line);
    void *ctx;
};

struct impair;

/* NULL when out of memory.  spec and hooks are copied.  At level >= 1 each
 * drop, duplicate, reorder and queue-full drop is traced; at level 2 also
 * each packet that is only delayed. */
struct impair *impair_new(const struct impair_spec *spec, const struct impair_hooks *hooks,
                          enum trace_level level);
/* Frees every held packet undelivered. */
void impair_free(struct impair *im);

/* One packet enters in direction dir.  It is delivered now (maybe twice),
 * held (copied) for later, or dropped.  Returns the copies decided on:
 * 0 dropped, 1, or 2 duplicated.  Deliver may re-enter impair_packet() for
 * the other direction (stack_input() emits replies): that is allowed. */
int impair_packet(struct impair *im, enum impair_dir dir, const struct slice *parts,
                  int nparts, usec_t now);
/* Delivers every held packet due at or before now, in release order. */
void impair_release(struct impair *im, usec_t now);
/* When impair_release() next has work; USEC_NEVER when nothing is held. */
usec_t impair_next_release(const struct impair *im);
/* Packets held right now. */
size_t impair_held(const struct impair *im);

const struct impair_counters *impair_counters(const struct impair *im, enum impair_dir dir);
/* The counters of both directions, as lines for synackd's report. */
size_t impair_counters_format(const struct impair *im, char *buf, size_t cap);

/* The deterministic generator behind every decision (splitmix64), public
 * so tests can pin its sequence. */
uint64_t impair_prng_next(uint64_t *state);

#endif
