/*
 * ipv4.c -- RFC 791 header checks and construction.  Every test here reads a
 * field only after the length that contains it has been checked.
 */
#include "stack/ipv4.h"
#include "stack/checksum.h"


bool ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_packet *out,
                enum drop_reason *why)
{
    if (len < 1 || pkt[0] >> 4 != 4)
        return reject(why, DROP_NOT_IPV4);
    if (len < IPV4_HDR_LEN)
        return reject(why, DROP_IP_SHORT);
    uint32_t ihl = (uint32_t)(pkt[0] & 0x0f) * 4;
    if (ihl < IPV4_HDR_LEN || ihl > len)
        return reject(why, DROP_IP_IHL);
    /* Total Length is the truth; a link may pad, but never truncate. */
    uint16_t total = load_be16(pkt + 2);
    if (total < ihl || total > len)
        return reject(why, DROP_IP_TOTAL_LEN);
    if (csum_buffer(pkt, ihl) != 0)
        return reject(why, DROP_IP_CHECKSUM);
    uint16_t frag = load_be16(pkt + 6);
    if ((frag & IP_FLAG_MF) || (frag & IP_FRAG_OFFSET_MASK))
        return reject(why, DROP_IP_FRAGMENT);

    out->hdr = pkt;
    out->hdr_len = ihl;
    out->id = load_be16(pkt + 4);
    out->ttl = pkt[8];
    out->proto = pkt[9];
    out->src = load_be32(pkt + 12);
    out->dst = load_be32(pkt + 16);
    /* Options (ihl > 20) are stepped over: none of them changes how a host
     * that does not route handles the datagram (RFC 1122 §3.2.1.8). */
    out->payload = pkt + ihl;
    out->payload_len = total - ihl;
    return true;
}

void ipv4_write_header(uint8_t *out, uint32_t src, uint32_t dst, uint8_t proto,
                       uint16_t payload_len, uint16_t id, bool df)
{
    out[0] = 0x45;  /* version 4, IHL 5 */
    out[1] = 0;     /* DSCP/ECN: best effort */
    store_be16(out + 2, (uint16_t)(IPV4_HDR_LEN + payload_len));
    store_be16(out + 4, id);
    store_be16(out + 6, df ? IP_FLAG_DF : 0);
    out[8] = IPV4_DEFAULT_TTL;
    out[9] = proto;
    store_be16(out + 10, 0);
    store_be32(out + 12, src);
    store_be32(out + 16, dst);
    store_be16(out + 10, csum_buffer(out, IPV4_HDR_LEN));
}

bool ipv4_is_bad_source(uint32_t addr)
{
    uint8_t first = (uint8_t)(addr >> 24);
    return first == 0 || first == 127 || (first >= 224 && first <= 239) ||
           addr == 0xffffffffu;
}
