/*
 * seq_ranges.h -- a small sorted set of disjoint sequence ranges
 * [start, end), mod 2^32.  The receiver uses one to remember which
 * out-of-order bytes it holds (and reports them as SACK blocks, RFC 2018);
 * the sender uses one as its SACK scoreboard (RFC 6675 §3).  Bounded: a
 * range that would need a slot beyond SEQ_RANGES_MAX is refused.
 */
#ifndef SYNACK_SEQ_RANGES_H
#define SYNACK_SEQ_RANGES_H

#include <stdbool.h>
#include <stdint.h>

#define SEQ_RANGES_MAX 16

struct seq_range {
    uint32_t start, end;
};

struct seq_ranges {
    struct seq_range r[SEQ_RANGES_MAX];  /* sorted, disjoint, not adjacent */
    uint32_t n;
};

static inline void seq_ranges_clear(struct seq_ranges *rs) { rs->n = 0; }
/* Adds [start, end), merging with what it touches.  False if it needed a
 * new slot and none was free (nothing is changed then). */
bool seq_ranges_add(struct seq_ranges *rs, uint32_t start, uint32_t end);
/* Forgets everything before seq (cumulatively acknowledged). */
void seq_ranges_trim_below(struct seq_ranges *rs, uint32_t seq);
/* Bytes held at or above seq. */
uint32_t seq_ranges_bytes_above(const struct seq_ranges *rs, uint32_t seq);
/* The range containing seq, or NULL. */
const struct seq_range *seq_ranges_find(const struct seq_ranges *rs, uint32_t seq);
/* The first range starting at or after seq, or NULL. */
const struct seq_range *seq_ranges_next(const struct seq_ranges *rs, uint32_t seq);

#endif
