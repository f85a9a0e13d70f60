/*
 * checksum.c -- RFC 1071 one's-complement sum.  Every checksum synack checks
 * or writes goes through here.
 */
#include "stack/checksum.h"

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    /* Big-endian 16-bit words, byte by byte: the sum is the same on any host
     * and reads like the RFC.  A 64-bit accumulator would be faster; the
     * fold below is what makes either correct. */
    while (len > 1) {
        sum += (uint32_t)p[0] << 8 | p[1];
        if (sum & 0x80000000u)
            sum = (sum & 0xffff) + (sum >> 16);
        p += 2;
        len -= 2;
    }
    if (len)
        sum += (uint32_t)p[0] << 8;
    return sum;
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
