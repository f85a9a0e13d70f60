/*
 * stack.h -- the public face of synack's TCP/IPv4 core.
 *
 * The core is pure: it makes no system calls and never reads a clock.  The
 * link layer (tun/) hands it each IPv4 packet with stack_input(), tells it the
 * time with every call, and receives every packet the core emits through the
 * output hook in struct stack_io.  Timers fire when the link calls
 * stack_tick() at or after stack_next_deadline().  This is what lets tests
 * drive the core on virtual time: a 60 s TIME-WAIT passes in one call.
 */
#ifndef SYNACK_STACK_H
#define SYNACK_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "stack/counters.h"

/* Monotonic time in microseconds.  Only tun/ ever reads a real clock. */
typedef uint64_t usec_t;
#define USEC_NEVER UINT64_MAX
#define USEC_PER_SEC 1000000ULL

/* A piece of an outgoing packet.  A packet leaves as up to STACK_MAX_SLICES
 * pieces (headers, then payload that may wrap in a ring buffer) so the link
 * can hand them to writev() without copying. */
struct slice {
    const uint8_t *data;
    size_t len;
};
#define STACK_MAX_SLICES 3

/* How the link is to finish a packet it is handed (struct stack_io.output),
 * when the stack runs with offload on (stack_config.offload).  The TCP
 * checksum field then holds only the pseudo-header sum, and the kernel on
 * the other side of the TUN completes or trusts it; a segment longer than
 * one MSS is a GSO super-segment that the kernel treats as gso_size-byte
 * segments, each with a copy of the headers (PSH and FIN on the last).
 * These are the fields of Linux's struct virtio_net_hdr. */
struct stack_offload {
    uint16_t hdr_len;      /* IPv4 and TCP headers, options included */
    uint16_t csum_start;   /* bytes from the packet's start to the TCP header */
    uint16_t csum_offset;  /* ... and from there to the checksum field */
    uint16_t gso_size;     /* payload bytes per segment; 0: one segment */
};
/* The largest packet offload may produce: what IPv4's 16-bit Total Length
 * allows (RFC 791), so one super-segment carries up to 45 segments of
 * 1448 bytes at MTU 1500. */
#define STACK_GSO_MAX_PACKET 65535

/* How many segments a super-segment of paylen bytes becomes on the wire. */
static inline uint32_t stack_gso_segments(uint32_t paylen, uint16_t gso_size)
{
    return gso_size ? (paylen + gso_size - 1u) / gso_size : 1u;
}

/* Trace levels: what the trace hook is given. */
enum trace_level {
    TRACE_OFF = 0,
    TRACE_STATES = 1,   /* one line per TCP state change */
    TRACE_SEGMENTS = 2, /* ... and one line per segment received or sent */
};

/* The trace as data, beside the text line: what the link needs to comment
 * a capture (pcapng) or draw a connection (GET /trace) without parsing
 * text.  Records are made at any trace level, but only when the record hook
 * is set; the text lines do not change. */
enum trace_kind {
    TRACE_SEG_IN,  /* a segment arrived; recorded before it is processed */
    TRACE_SEG_OUT, /* a segment left */
    TRACE_STATE,   /* a connection changed state (tcp_set_state) */
    TRACE_EVENT,   /* a retransmission, probe, challenge ACK, loss reaction */
};

struct trace_record {
    enum trace_kind kind;
    usec_t now;
    /* Segments: src > dst as the segment travelled.  States and events:
     * the connection as its trace line shows it, peer > us. */
    uint32_t src, dst;
    uint16_t sport, dport;
    /* The segment (TRACE_SEG_*), or the one that caused a state change
     * (TRACE_STATE with has_segment).  rel_seq and rel_ack count from the
     * ISNs, as Wireshark's relative numbers do. */
    bool has_segment;
    uint8_t flags;           /* the header's flag bits (TCP_SYN ...) */
    uint32_t seq, ack, rel_seq, rel_ack;
    uint32_t len;            /* payload bytes */
    uint16_t win;            /* the window field, unscaled */
    uint8_t wscale;          /* its sender's shift; 0 on a SYN or when off */
    /* A GSO super-segment (stack_offload): the payload of each segment the
     * link cuts it into, as the capture and the peer see them; else 0. */
    uint16_t gso_size;
    /* Segments: our state when it was handled (before, for an arriving
     * one), NULL when no connection had it.  TRACE_STATE: old and new. */
    const char *state;
    const char *new_state;
    /* TRACE_STATE: its cause, if not (only) the segment; TRACE_EVENT: the
     * event.  Valid only during the hook call: copy it to keep it. */
    const char *what;
    const char *rfc;         /* static; NULL for segments */
    const char *file;        /* static, with line: the code that made a state
                                change or event; NULL for segments */
    int line;
};

struct stack_io {
    /* Called once per packet the stack emits: a complete IPv4 datagram
     * when off is NULL; else one the link finishes as off says (above). */
    void (*output)(void *ctx, const struct slice *parts, int nparts,
                   const struct stack_offload *off);
    /* Called once per trace line (no trailing newline). May be NULL. */
    void (*trace)(void *ctx, const char *line);
    /* Called once per trace record (above), at any trace level.  May be NULL. */
    void (*record)(void *ctx, const struct trace_record *r);
    /* Called when a bound is hit (backlog, table, buffer, rate limit): one
     * line naming the bound and its flag, on the 1st, 2nd, 4th, 8th ...
     * occurrence so a flood stays readable.  May be NULL. */
    void (*log)(void *ctx, const char *line);
    void *ctx;
};

/* Every bound the core enforces, with the flag that sets it (see tun/cli.c). */
struct stack_config {
    uint32_t addr;           /* our IPv4 address, host byte order (--addr) */
    uint32_t netmask;        /* the link's subnet (--tun-addr's /PREFIX); 0: unknown */
    uint32_t mtu;            /* link MTU; our MSS is mtu - 40 (--mtu) */
    uint32_t max_conns;      /* TCBs in any state (--max-conns) */
    uint32_t backlog;        /* half-open (SYN-RECEIVED) per listener (--backlog) */
    bool syn_cookies;        /* past the backlog, answer SYNs with cookies
                                (RFC 4987 §3.6; --no-syn-cookies drops them) */
    usec_t msl;              /* maximum segment lifetime; TIME-WAIT is 2*MSL (--msl) */
    uint32_t rcv_buf;        /* receive buffer bytes per connection (--rcv-buf) */
    uint32_t snd_buf;        /* send buffer bytes per connection (--snd-buf) */
    uint32_t synack_retries; /* SYN-ACK retransmissions before giving up */
    uint32_t max_retries;    /* data/FIN retransmissions before RST */
    uint32_t icmp_rate;      /* ICMP errors per second (--icmp-rate) */
    uint32_t challenge_ack_rate; /* RFC 5961 challenge ACKs per second */
    usec_t invalid_ack_gap;  /* per connection, at most one ACK per this long
                                answers invalid segments without data
                                (--invalid-ack-ms; 0 = every one) */
    usec_t min_rto;          /* lower bound on the RTO (--min-rto-ms) */
    usec_t delack;           /* longest an ACK is held back (--delack-ms) */
    bool nagle;              /* RFC 896 on by default (--no-nagle turns it off) */
    usec_t keepalive;        /* idle time before keep-alive probes; 0 = off */
    usec_t user_timeout;     /* longest data may go unacked; 0 = retries only */
    /* The link completes TCP checksums and splits super-segments (GSO):
     * tun/ sets it when the TUN speaks virtio_net_hdr (--no-offload). */
    bool offload;
    enum trace_level trace_level;
    uint8_t isn_key[16];     /* RFC 6528 secret; tun/ fills it from getrandom() */
};

/* Defaults, documented in README and --help. */
#define STACK_DEFAULT_ADDR 0x0a000002u /* 10.0.0.2 */
#define STACK_DEFAULT_MTU 1500
#define STACK_MIN_MTU 576       /* RFC 791: every host must accept 576 */
#define STACK_MAX_MTU 65535
#define STACK_DEFAULT_MAX_CONNS 16384
#define STACK_DEFAULT_BACKLOG 128
#define STACK_DEFAULT_MSL_SEC 30
#define STACK_DEFAULT_RCV_BUF (64 * 1024)
/* The send buffer bounds what can be in flight: at MTU 65535 a 64 KiB
 * buffer would hold one segment, and with one segment in flight no loss
 * can be repaired by fast retransmit.  The ring grows only as data is
 * queued, so the bound costs a short response nothing. */
#define STACK_DEFAULT_SND_BUF (1024 * 1024)
#define STACK_MIN_BUF 1024      /* below this a segment barely fits */
#define STACK_MAX_BUF (16 * 1024 * 1024)
#define STACK_DEFAULT_SYNACK_RETRIES 5
#define STACK_DEFAULT_MAX_RETRIES 8
#define STACK_MAX_RETRIES_LIMIT 30  /* with a 60 s RTO cap, half an hour */
#define STACK_DEFAULT_ICMP_RATE 100
#define STACK_DEFAULT_CHALLENGE_ACK_RATE 100
/* Linux's tcp_invalid_ratelimit: two ACKs a second per connection stop an
 * ACK loop and still tell a confused peer where we are. */
#define STACK_DEFAULT_INVALID_ACK_GAP (500 * 1000)
/* RFC 6298 §2.4 asks for a 1 s minimum RTO, written when RTTs were long and
 * clocks coarse.  Over a TUN the RTT is tens of microseconds; a 1 s floor
 * would turn every lost segment without three dupACKs behind it into a
 * one-second stall.  Linux uses 200 ms, and so do we (§2.4 allows a lower
 * bound as long as the RTO stays conservative). */
#define STACK_DEFAULT_MIN_RTO (200 * 1000)
/* Delayed ACKs wait at most this long; RFC 9293 §3.8.6.3 allows up to
 * 500 ms.  Linux's minimum, 40 ms, keeps request/response latency low. */
#define STACK_DEFAULT_DELACK (40 * 1000)
#define STACK_MAX_DELACK (500 * 1000)

struct stack;

void stack_config_defaults(struct stack_config *cfg);
/* NULL when memory for the connection table cannot be had.  cfg and io are
 * copied; the caller need not keep them. */
struct stack *stack_new(const struct stack_config *cfg, const struct stack_io *io);
void stack_free(struct stack *st);

/* One IPv4 datagram from the link.  Never fails: bad input is counted. */
void stack_input(struct stack *st, const uint8_t *pkt, size_t len, usec_t now);
/* Run every timer due at or before now. */
void stack_tick(struct stack *st, usec_t now);
/* When stack_tick() next has work; USEC_NEVER when no timer is armed. */
usec_t stack_next_deadline(const struct stack *st);

const struct stack_counters *stack_counters(const struct stack *st);
/* Connections still doing work: every TCB except those in TIME-WAIT, which
 * only wait out 2*MSL.  Shutdown waits for this to reach 0. */
uint32_t stack_conn_count(const struct stack *st);
/* Every TCB, TIME-WAIT included: what the connection table holds. */
uint32_t stack_tcb_count(const struct stack *st);
/* Abort every connection with RST (shutdown on SIGTERM without waiting). */
void stack_abort_all(struct stack *st, usec_t now);
/* Close every connection gracefully with FIN, as the app would. */
void stack_close_all(struct stack *st, usec_t now);

#endif
