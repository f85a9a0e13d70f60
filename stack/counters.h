/*
 * counters.h -- what the stack counts: every dropped packet by reason, and the
 * events a reader wants totals for.  Bad input never crashes or hangs the
 * stack; it lands in one of these counters, which synackd prints at exit and
 * on SIGUSR1.  The list is an X-macro so the enum and the names never drift.
 */
#ifndef SYNACK_COUNTERS_H
#define SYNACK_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STACK_DROP_REASONS(X)                                                   \
    X(NOT_IPV4, "not an IPv4 packet (e.g. IPv6 router solicitation)")           \
    X(IP_SHORT, "IPv4: shorter than the 20-byte header")                        \
    X(IP_IHL, "IPv4: header length < 5 words or past the packet")               \
    X(IP_TOTAL_LEN, "IPv4: total length smaller than header or larger than read") \
    X(IP_CHECKSUM, "IPv4: bad header checksum")                                 \
    X(IP_NOT_FOR_US, "IPv4: destination is not our address")                   \
    X(IP_BAD_SOURCE, "IPv4: source is ours, broadcast, multicast or zero")      \
    X(IP_FRAGMENT, "IPv4: fragment (reassembly not supported)")                 \
    X(ICMP_SHORT, "ICMP: shorter than its 8-byte header")                       \
    X(ICMP_CHECKSUM, "ICMP: bad checksum")                                      \
    X(ICMP_UNHANDLED, "ICMP: type other than echo request")                     \
    X(ICMP_RATE_LIMIT, "ICMP: error not sent, rate limit reached")              \
    X(UNKNOWN_PROTO, "IPv4: protocol not served (answered unreachable)")        \
    X(TCP_SHORT, "TCP: shorter than its 20-byte header")                        \
    X(TCP_CHECKSUM, "TCP: bad checksum")                                        \
    X(TCP_DATA_OFFSET, "TCP: data offset < 5 or past the segment")              \
    X(TCP_OPTIONS, "TCP: malformed option")                                     \
    X(TCP_BAD_PORT, "TCP: port 0 or broadcast-like source")                     \
    X(TCP_NO_LISTENER, "TCP: no connection or listener (answered RST)")         \
    X(TCP_BACKLOG, "TCP: SYN dropped, listen backlog full")                     \
    X(TCP_TABLE_FULL, "TCP: SYN dropped, connection table full")                \
    X(TCP_LISTEN_BAD, "TCP: segment to a listener that is not a SYN")           \
    X(TCP_UNACCEPTABLE, "TCP: sequence number outside the window")              \
    X(TCP_PAWS, "TCP: timestamp older than TS.Recent (PAWS)")                   \
    X(TCP_NO_TIMESTAMP, "TCP: no timestamp on a connection that uses them")     \
    X(TCP_RST_OUT_OF_WINDOW, "TCP: RST outside the window ignored")             \
    X(TCP_NO_ACK, "TCP: segment without ACK in a synchronized state")           \
    X(TCP_ACK_UNACCEPTABLE, "TCP: ACK for data never sent, or too old")         \
    X(TCP_OOO_FULL, "TCP: out-of-order data, no free reassembly range")         \
    X(TCP_DATA_AFTER_FIN, "TCP: data after the peer's FIN")                     \
    X(TCP_RCV_BUF_FULL, "TCP: data beyond the receive buffer")                  \
    X(TCP_CHALLENGE_LIMIT, "TCP: challenge ACK not sent, rate limit reached")   \
    X(TCP_INVALID_ACK_LIMIT, "TCP: ACK to an invalid segment not sent, one went out lately")

#define STACK_EVENTS(X)                                                          \
    X(PKT_IN, "packets received")                                               \
    X(PKT_OUT, "packets sent")                                                  \
    X(ICMP_ECHO_REPLIES, "ICMP echo replies sent")                              \
    X(ICMP_UNREACH_SENT, "ICMP destination unreachable sent")                   \
    X(TCP_SEG_IN, "TCP segments received")                                      \
    X(TCP_SEG_OUT, "TCP segments sent")                                         \
    X(TCP_GSO_OUT, "TCP super-segments the link split (GSO)")                   \
    X(TCP_RST_SENT, "TCP RSTs sent")                                            \
    X(TCP_PASSIVE_OPENS, "connections accepted (SYN-RECEIVED)")                 \
    X(TCP_ESTABLISHED, "connections established")                               \
    X(TCP_RESETS_RECEIVED, "connections reset by the peer")                     \
    X(TCP_CHALLENGE_ACKS, "RFC 5961 challenge ACKs sent")                       \
    X(TCP_RETRANSMITS, "segments retransmitted")                                \
    X(TCP_FAST_RETRANSMITS, "fast retransmits (loss recovery entered)")         \
    X(TCP_RTO_EXPIRIES, "retransmission timeouts")                              \
    X(TCP_PERSIST_PROBES, "zero-window probes sent")                            \
    X(TCP_KEEPALIVE_PROBES, "keep-alive probes sent")                           \
    X(TCP_OOO_QUEUED, "out-of-order segments held for reassembly")              \
    X(TCP_TIMEOUTS, "connections dropped after too many retransmissions")       \
    X(TCP_TIME_WAIT_REUSE, "TIME-WAIT connections reused by a new SYN")       \
    X(TCP_TIME_WAIT_RECYCLED, "TIME-WAIT connections ended early for a new SYN: table full") \
    X(TCP_SYN_COOKIES_SENT, "SYNs answered with a SYN cookie: listen backlog full") \
    X(TCP_SYN_COOKIES_OK, "connections opened by the ACK of a SYN cookie")       \
    X(RING_POOL_MISSES, "first ring buffers taken from malloc: every pool slot lent")

#define X_ENUM(name, text) DROP_##name,
enum drop_reason { STACK_DROP_REASONS(X_ENUM) DROP__COUNT };
#undef X_ENUM
#define X_ENUM(name, text) EV_##name,
enum stack_event { STACK_EVENTS(X_ENUM) EV__COUNT };
#undef X_ENUM

struct stack_counters {
    uint64_t drops[DROP__COUNT];
    uint64_t events[EV__COUNT];
};

/* For parsers: record why the input is rejected and return false, so a
 * check reads `return reject(why, DROP_X);`. */
static inline bool reject(enum drop_reason *why, enum drop_reason r)
{
    *why = r;
    return false;
}

/* Whether the n-th occurrence of a bound is logged: the 1st, 2nd, 4th, 8th
 * ..., so a flood leaves a few lines, not one per packet. */
static inline bool counter_log_due(uint64_t n) { return n && (n & (n - 1)) == 0; }

const char *drop_reason_name(enum drop_reason r);
const char *drop_reason_text(enum drop_reason r);
const char *stack_event_text(enum stack_event e);

/* Formats the non-zero counters, one per line, into buf (always terminated).
 * Returns the length written. */
size_t counters_format(const struct stack_counters *c, char *buf, size_t cap);

#endif
