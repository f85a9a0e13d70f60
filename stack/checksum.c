/*
 * checksum.c -- RFC 1071 one's-complement sum.  Every checksum synack checks
 * or writes goes through here.
 *
 * The sum is independent of byte order (RFC 1071 §2(B)): adding 16-bit
 * words in the host's own order and swapping the folded result once gives
 * the same value as adding big-endian words.  So the loop reads 8 bytes at
 * a time in host order, adds their two 32-bit halves into a 64-bit
 * accumulator (which cannot overflow below 2^32 words), and folds and
 * swaps once per call.  A loop over bytes was 47 % of synackd's CPU in
 * bulk transfer at MTU 65535, before outgoing checksums were left to the
 * kernel (offload); every incoming segment is still summed here
 * (docs/performance.md).
 */
#include <string.h>

#include "stack/checksum.h"

/* The folded host-order sum of len bytes, as a big-endian 16-bit value. */
static uint32_t sum_words(const uint8_t *p, size_t len)
{
    uint64_t acc = 0;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);  /* any alignment: a ring slice starts anywhere */
        acc += (w & 0xffffffffu) + (w >> 32);
    }
    for (; len >= 2; p += 2, len -= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        acc += w;
    }
    if (len) {
        /* RFC 1071 §4.1: the odd last byte is the high half of a word whose
         * low half is zero -- in memory order, {p[0], 0}. */
        uint16_t w = 0;
        memcpy(&w, p, 1);
        acc += w;
    }
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    acc = ((acc & 0xff) << 8) | (acc >> 8);
#endif
    return (uint32_t)acc;
}

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
    /* Both terms are below 2^32 - 2^16 after this, so callers may keep
     * adding pieces without ever folding in between. */
    sum = (sum & 0xffff) + (sum >> 16);
    return sum + sum_words(data, len);
}

uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint32_t sum = 0;
    sum += src >> 16;
    sum += src & 0xffff;
    sum += dst >> 16;
    sum += dst & 0xffff;
    sum += proto;
    sum += len;
    return sum;
}

uint16_t csum_buffer(const void *data, size_t len)
{
    return csum_fold(csum_add(0, data, len));
}
