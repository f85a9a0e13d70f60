/*
 * isn.c -- RFC 6528 initial sequence numbers, with SipHash-2-4 (Aumasson and
 * Bernstein, 2012) as the keyed function F.
 */
#include <string.h>

#include "stack/isn.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
    v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

uint64_t siphash24(const uint8_t key[16], const void *data, uint32_t len)
{
    const uint8_t *in = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                      k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };
    uint32_t whole = len - len % 8;
    for (uint32_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(in + i);
        v[3] ^= m;
        sip_round(v);
        sip_round(v);
        v[0] ^= m;
    }
    uint8_t last[8] = { 0 };
    memcpy(last, in + whole, len % 8);
    uint64_t b = (uint64_t)len << 56 | load_le64(last);
    v[3] ^= b;
    sip_round(v);
    sip_round(v);
    v[0] ^= b;
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* F's input: the 4-tuple, plus a domain byte so the ISN and the timestamp
 * offset of one connection are unrelated. */
static uint32_t keyed_tuple(const uint8_t key[16], uint8_t domain, uint32_t laddr,
                            uint16_t lport, uint32_t raddr, uint16_t rport)
{
    uint8_t msg[13] = {
        (uint8_t)(laddr >> 24), (uint8_t)(laddr >> 16), (uint8_t)(laddr >> 8), (uint8_t)laddr,
        (uint8_t)(lport >> 8), (uint8_t)lport,
        (uint8_t)(raddr >> 24), (uint8_t)(raddr >> 16), (uint8_t)(raddr >> 8), (uint8_t)raddr,
        (uint8_t)(rport >> 8), (uint8_t)rport, domain,
    };
    return (uint32_t)siphash24(key, msg, sizeof msg);
}

uint32_t isn_generate(const uint8_t key[16], uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport, usec_t now)
{
    /* M: RFC 6528 §3 asks for a 4-microsecond timer (RFC 793's ISN clock). */
    uint32_t m = (uint32_t)(now / 4);
    return m + keyed_tuple(key, 'I', laddr, lport, raddr, rport);
}

uint32_t isn_ts_offset(const uint8_t key[16], uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport)
{
    return keyed_tuple(key, 'T', laddr, lport, raddr, rport);
}
