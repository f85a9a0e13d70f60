/*
 * icmp.h -- ICMP (RFC 792): echo replies, so ping works, and destination
 * unreachable for protocols and ports synack does not serve, rate-limited
 * as RFC 1812 §4.3.2.8 asks.
 */
#ifndef SYNACK_ICMP_H
#define SYNACK_ICMP_H

#include "stack/ipv4.h"

struct stack;

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_CODE_PROTO_UNREACH 2
#define ICMP_CODE_PORT_UNREACH 3
#define ICMP_HDR_LEN 8
/* RFC 1812 §4.3.2.3: an error quotes as much of the offending datagram as
 * fits in 576 bytes. */
#define ICMP_ERROR_MAX_TOTAL 576

void icmp_input(struct stack *st, const struct ipv4_packet *ip);
void icmp_send_unreachable(struct stack *st, const struct ipv4_packet *ip, uint8_t code);

#endif
