/*
 * seq_ranges.c -- the sorted range set behind out-of-order reassembly and
 * the SACK scoreboard.  At most SEQ_RANGES_MAX ranges, so a linear pass is
 * both the simplest and the fastest way through it.
 */
#include <string.h>

#include "stack/seq.h"
#include "stack/seq_ranges.h"

bool seq_ranges_add(struct seq_ranges *rs, uint32_t start, uint32_t end)
{
    if (!seq_lt(start, end))
        return true;
    uint32_t i = 0;
    while (i < rs->n && seq_lt(rs->r[i].end, start))
        i++;  /* ranges wholly before, not even touching */
    uint32_t j = i;
    while (j < rs->n && seq_leq(rs->r[j].start, end)) {
        start = seq_min(start, rs->r[j].start);  /* overlaps or touches: absorb */
        end = seq_max(end, rs->r[j].end);
        j++;
    }
    if (i == j && rs->n == SEQ_RANGES_MAX)
        return false;
    /* Ranges i..j-1 collapse into one slot at i. */
    uint32_t removed = j - i;
    if (removed == 0) {
        memmove(&rs->r[i + 1], &rs->r[i], (rs->n - i) * sizeof rs->r[0]);
        rs->n++;
    } else if (removed > 1) {
        memmove(&rs->r[i + 1], &rs->r[j], (rs->n - j) * sizeof rs->r[0]);
        rs->n -= removed - 1;
    }
    rs->r[i] = (struct seq_range){ start, end };
    return true;
}

void seq_ranges_trim_below(struct seq_ranges *rs, uint32_t seq)
{
    uint32_t i = 0;
    while (i < rs->n && seq_leq(rs->r[i].end, seq))
        i++;
    memmove(&rs->r[0], &rs->r[i], (rs->n - i) * sizeof rs->r[0]);
    rs->n -= i;
    if (rs->n && seq_lt(rs->r[0].start, seq))
        rs->r[0].start = seq;
}

uint32_t seq_ranges_bytes_above(const struct seq_ranges *rs, uint32_t seq)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < rs->n; i++)
        if (seq_gt(rs->r[i].end, seq))
            total += rs->r[i].end - seq_max(rs->r[i].start, seq);
    return total;
}

const struct seq_range *seq_ranges_find(const struct seq_ranges *rs, uint32_t seq)
{
    for (uint32_t i = 0; i < rs->n; i++)
        if (seq_in_window(seq, rs->r[i].start, rs->r[i].end))
            return &rs->r[i];
    return NULL;
}

const struct seq_range *seq_ranges_next(const struct seq_ranges *rs, uint32_t seq)
{
    for (uint32_t i = 0; i < rs->n; i++)
        if (seq_geq(rs->r[i].start, seq))
            return &rs->r[i];
    return NULL;
}
