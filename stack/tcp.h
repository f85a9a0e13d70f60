/*
 * tcp.h -- what the TCP files of the core share: the connection record
 * (TCB, RFC 9293 §3.3.1), the listener, the stack object, and the functions
 * each file offers the others.  Not part of the public API (stack.h,
 * tcp_app.h).
 *
 *   ipv4.c ─► tcp_input.c ─► tcp_state.c (the one door for state changes)
 *                  │    └──► tcp_app.c callbacks ─► the application
 *                  ▼
 *             tcp_output.c ─► stack io.output ─► the link
 *   tcp_timer.c (heap of TCBs by next deadline) ─► tcp_output.c
 */
#ifndef SYNACK_TCP_H
#define SYNACK_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "stack/counters.h"
#include "stack/ring.h"
#include "stack/seq_ranges.h"
#include "stack/stack.h"
#include "stack/tcp_app.h"
#include "stack/tcp_header.h"

/* RFC 9293 §3.3.2.  SYN-SENT exists for completeness of the diagram; synack
 * only opens passively. */
enum tcp_state {
    TCP_CLOSED,
    TCP_LISTEN,
    TCP_SYN_SENT,
    TCP_SYN_RECEIVED,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_LAST_ACK,
    TCP_TIME_WAIT,
    TCP__STATE_COUNT
};

/* Initial RTO before any RTT sample, RFC 6298 §2.1. */
#define TCP_INITIAL_RTO (1 * USEC_PER_SEC)
/* Upper bound on the RTO, RFC 6298 §2.5 allows a maximum of at least 60 s. */
#define TCP_MAX_RTO (60 * USEC_PER_SEC)
/* RFC 6298 §5.7: the RTO once the handshake needed a retransmission. */
#define TCP_SYN_LOSS_RTO (3 * USEC_PER_SEC)
/* RFC 6298 §2.4's clock granularity G. */
#define TCP_CLOCK_GRANULARITY 1000
/* Fast retransmit after this many duplicate ACKs (RFC 5681 §3.2). */
#define TCP_DUPTHRESH 3
/* Delayed ACK: an ACK for at least every second full-sized segment (RFC
 * 9293 §3.8.6.3). */
#define TCP_DELACK_SEGMENTS 2
/* Keep-alive: probes sent this often once idle, and how many go unanswered
 * before the connection is dropped (RFC 1122 §4.2.3.6 leaves both to us;
 * these are Linux's defaults). */
#define TCP_KEEPALIVE_INTERVAL (75 * USEC_PER_SEC)
#define TCP_KEEPALIVE_PROBES 9
/* RFC 7323 §5.5: TS.Recent is invalid after 24 days of idleness. */
#define TCP_PAWS_IDLE (24ULL * 24 * 3600 * USEC_PER_SEC)
/* The fewest data bytes a segment may carry whatever the options: a peer
 * announcing a tiny MSS still gets segments that make progress. */
#define TCP_MIN_SEND_MSS 64
/* The MSS we announce: what the link's MTU leaves after the headers. */
#define TCP_OUR_MSS(cfg) ((uint16_t)((cfg)->mtu - IPV4_HDR_LEN - TCP_HDR_LEN))
#define TCP_MAX_LISTENERS 8

/* The clocks a connection can have running. */
enum tcp_timer {
    TCP_T_REXMIT,     /* SYN-ACK, data or FIN unacknowledged (RFC 6298) */
    TCP_T_PERSIST,    /* zero window: time to probe (RFC 9293 §3.8.6.1) */
    TCP_T_DELACK,     /* an ACK is being held back (RFC 9293 §3.8.6.3) */
    TCP_T_KEEPALIVE,  /* idle connection: time to probe (RFC 9293 §3.8.4) */
    TCP_T_TIMEWAIT,   /* 2*MSL: TIME-WAIT (RFC 9293 §3.10.8), and the
                         bound on waiting in FIN-WAIT-2 for the peer's FIN */
    TCP_T_APP,        /* the application's own timer (tcp_app_timer) */
    TCP_TIMER_COUNT
};

struct listener {
    bool used;
    uint16_t port;
    uint32_t half_open;        /* TCBs in SYN-RECEIVED, bounded by cfg.backlog */
    /* When this listener last answered a SYN with a cookie; an ACK is
     * checked for one only within a cookie's lifetime of it. */
    bool cookies_sent;
    usec_t last_cookie;
    const struct tcp_app_ops *ops;
    void *app;
};

struct tcb {
    /* Identity: the 4-tuple, host order. */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    enum tcp_state state;
    struct stack *st;
    struct listener *listener;
    struct tcb *hash_next;     /* chain in the 4-tuple hash table */
    struct tcb *reap_next;     /* on the list of TCBs to free */
    struct tcb *tw_prev, *tw_next;  /* TIME-WAIT FIFO, oldest first */

    /* Send sequence variables (RFC 9293 §3.3.1). */
    uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
    uint32_t snd_max;          /* highest sequence sent + 1 (go-back-N on RTO) */
    uint32_t max_snd_wnd;      /* largest window the peer offered (RFC 5961 §5.2) */
    /* Receive sequence variables. */
    uint32_t irs, rcv_nxt;
    uint32_t rcv_adv;          /* right edge of the window we last advertised */
    uint32_t last_ack_sent;    /* RCV.NXT as of our last segment (RFC 7323 §4.3) */

    /* Options negotiated on the SYN (RFC 9293 §3.7.1, RFC 7323, RFC 2018). */
    uint16_t snd_mss;          /* bytes of data per segment we send */
    uint8_t snd_wscale, rcv_wscale;
    bool ws_ok, ts_ok, sack_ok;
    uint32_t ts_recent;        /* RFC 7323 §4.3 */
    usec_t ts_recent_age;
    uint32_t ts_offset;        /* added to our ms clock to form TSval */
    bool by_cookie;            /* opened by the ACK of a SYN cookie */

    struct ring sndq;          /* bytes from SND.UNA on: unacked, then unsent */
    struct ring rcvq;          /* bytes received in order, not yet read; out-of-
                                  order bytes wait past its end, at their offset */
    struct seq_ranges ooo;     /* which out-of-order ranges are held (RFC 2018 §4) */
    uint32_t ooo_last;         /* start of the most recent out-of-order segment */
    bool rcv_fin_held;         /* the peer's FIN came beyond a gap... */
    uint32_t rcv_fin_seq;      /* ...at this sequence number */
    uint32_t sack_sent[TCP_MAX_SACK_BLOCKS];  /* a byte of each block last reported, */
    uint32_t sack_nsent;                      /* most recent first (RFC 2018 §4) */
    struct seq_ranges sacked;  /* our data the peer has SACKed (RFC 6675 scoreboard) */

    /* RTT estimation, RFC 6298. */
    usec_t srtt, rttvar;
    bool rtt_valid;            /* at least one sample taken */
    bool rtt_timing;           /* without timestamps: one segment is being timed */
    uint32_t rtt_seq;          /* ... the segment ending at this sequence number */
    usec_t rtt_start;

    /* Congestion control, RFC 5681 / 6582 / 6675 / 6928. */
    uint32_t cwnd, ssthresh;
    uint32_t ca_acked;         /* bytes acked toward the next cwnd step in CA */
    uint32_t dupacks;
    bool in_recovery;
    uint32_t recover;          /* SND.MAX when recovery began (RFC 6582) */
    uint32_t high_rxt;         /* highest sequence retransmitted in recovery */
    uint32_t rxt_mark;         /* SND.MAX when a round of hole resends began */
    bool rxt_mark_set;
    usec_t last_send;          /* for restart after idle (RFC 5681 §4.1) */

    bool nodelay;              /* Nagle off (RFC 896) */
    uint32_t segs_unacked;     /* full-sized segments received since our last ACK */
    uint32_t keepalive_probes; /* sent without an answer */
    usec_t idle_since;         /* last segment from the peer (keep-alive, user timeout) */
    usec_t unacked_since;      /* when SND.UNA last moved, for the user timeout */
    bool fin_queued;           /* the app closed: FIN follows the queued data */
    bool fin_sent;             /* our FIN went out at least once... */
    uint32_t fin_seq;          /* ...and occupies this sequence number */
    bool ack_now;              /* an ACK is owed at the end of input */
    usec_t invalid_ack_at;     /* last ACK to an invalid segment (tcp_ack_invalid) */

    /* Timers: each an absolute deadline or USEC_NEVER.  The heap orders TCBs
     * by heap_key, at most the earliest of them (tcb_deadline): a deadline
     * that moves later need not re-sort the heap (tcp_timer.c). */
    usec_t timer[TCP_TIMER_COUNT];
    usec_t heap_key;
    usec_t rto;                /* current retransmission timeout, RFC 6298 */
    uint32_t retries;          /* consecutive expiries of REXMIT or PERSIST */
    uint32_t heap_idx;

    /* The application above. */
    const struct tcp_app_ops *ops;
    void *app_state;
    bool app_attached;         /* on_accept returned state; on_closed owed */
};

struct rate_limit {
    uint32_t per_sec;
    uint32_t tokens;
    usec_t window_start;
};

struct stack {
    struct stack_config cfg;
    struct stack_io io;
    struct stack_counters ctr;
    usec_t now;                /* time of the call being served */
    uint16_t ip_id;

    struct listener listeners[TCP_MAX_LISTENERS];
    struct tcb **buckets;      /* 4-tuple hash table */
    uint32_t nbuckets;         /* a power of two */
    uint32_t ntcb;             /* TCBs allocated */
    uint32_t ntimewait;
    /* TIME-WAIT TCBs in order of expiry: 2*MSL is the same for all, so the
     * order they (re)started it in.  The head goes first when a SYN finds
     * the table full. */
    struct tcb *tw_oldest, *tw_newest;
    struct tcb *reap;          /* released TCBs, freed at the end of a call */

    struct tcb **heap;         /* timer heap, min by tcb_deadline() */
    uint32_t heap_len;

    struct rate_limit icmp_rl, challenge_rl;
    /* Header scratch for one outgoing packet: IPv4 + TCP + options. */
    uint8_t hdr_buf[20 + 60 + 40];
    /* First buffers for every connection's rings (1 MiB, inside the stack
     * so it goes with it; pages are touched only as slots are first lent). */
    struct ring_pool rings;
};

/* The public handle is the TCB itself. */
static inline struct tcb *conn_tcb(struct tcp_conn *c) { return (struct tcb *)(void *)c; }
static inline struct tcp_conn *tcb_conn(struct tcb *t) { return (struct tcp_conn *)(void *)t; }

/* The earliest timer of a TCB (its heap key is at most this). */
static inline usec_t tcb_deadline(const struct tcb *t)
{
    usec_t d = USEC_NEVER;
    for (int i = 0; i < TCP_TIMER_COUNT; i++)
        d = t->timer[i] < d ? t->timer[i] : d;
    return d;
}

/* stack.c */
bool rate_allow(struct rate_limit *rl, usec_t now);
void stack_emit(struct stack *st, const struct slice *parts, int nparts,
                const struct stack_offload *off);
void stack_drop(struct stack *st, enum drop_reason r);
static inline void stack_count(struct stack *st, enum stack_event e) { st->ctr.events[e]++; }

/* tcb_table.c: the TCB table, keyed by 4-tuple. */
struct tcb *tcb_lookup(struct stack *st, uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport);
struct tcb *tcb_create(struct stack *st, const struct tcp_segment *syn,
                       struct listener *l);
uint8_t tcp_rcv_wscale(uint32_t rcv_buf);  /* the window scale we ask for */
void tcb_release(struct tcb *t);   /* unhash, stop timers, free at end of call */
void tcb_reap(struct stack *st);
/* The ring calls that may take memory from the stack's pool. */
uint32_t tcb_ring_write(struct tcb *t, struct ring *r, const void *data, uint32_t len);
int tcb_ring_areas(struct tcb *t, struct ring *r, uint32_t len, struct ring_area out[2]);
bool tcb_rcvq_write_ahead(struct tcb *t, uint32_t gap, const void *data, uint32_t len);
void tcb_rings_trim(struct tcb *t);  /* empty rings give their buffers back */
/* TIME-WAIT bookkeeping (tcp_set_state's census): entering sheds the
 * buffers and joins the FIFO; restarting 2*MSL moves to its end. */
void tcb_timewait_enter(struct tcb *t);
void tcb_timewait_restart(struct tcb *t);
void tcb_timewait_leave(struct tcb *t);
/* A bound reached and worked around (not a drop): counted, and logged on
 * the 1st, 2nd, 4th ... time as stack_drop() logs. */
void stack_bound_event(struct stack *st, enum stack_event e, const char *bound);
struct listener *listener_find(struct stack *st, uint16_t port);

/* tcp_state.c: the one door for state changes, and the trace. */
#define tcp_set_state(t, new_state, seg, cause, rfc) \
    tcp_set_state_at((t), (new_state), (seg), (cause), (rfc), __FILE__, __LINE__)
void tcp_set_state_at(struct tcb *t, enum tcp_state new_state,
                      const struct tcp_segment *seg, const char *cause,
                      const char *rfc, const char *file, int line);
const char *tcp_state_name(enum tcp_state s);
void tcp_trace_segment(struct stack *st, const struct tcb *t, const char *dir,
                       const struct tcp_segment *seg, uint16_t gso_size);
void tcp_trace_event(struct tcb *t, const char *what, const char *rfc,
                     const char *file, int line);
#define TCP_TRACE_EVENT(t, what, rfc) tcp_trace_event((t), (what), (rfc), __FILE__, __LINE__)

/* tcp_input.c */
void tcp_input(struct stack *st, const struct tcp_segment *seg);

/* tcp_output.c */
void tcp_output(struct tcb *t);             /* send what is due: data, FIN, ACK */
void tcp_send_synack(struct tcb *t);
void tcp_send_ack(struct tcb *t);
void tcp_send_challenge_ack(struct tcb *t);
void tcp_ack_invalid(struct tcb *t, const struct tcp_segment *seg);
void tcp_send_rst(struct tcb *t);           /* <SEQ=SND.NXT><CTL=RST>, §3.10.5 */
void tcp_reply_rst(struct stack *st, const struct tcp_segment *seg);  /* §3.10.7.1 */
void tcp_send_cookie_synack(struct stack *st, const struct tcp_segment *syn, uint32_t cookie);
void tcp_cookie_synack_sent(struct tcb *t, uint32_t cookie);
uint32_t tcp_send_retransmission(struct tcb *t, uint32_t seq, uint32_t len);
bool tcp_send_window_probe(struct tcb *t);
void tcp_send_keepalive(struct tcb *t);
void tcp_ack_owed(struct tcb *t, bool now); /* immediately, or within delack */
uint32_t tcp_rcv_window(const struct tcb *t);   /* bytes we can take now */
uint32_t tcp_ts_now(const struct tcb *t);       /* our TSval clock */
uint32_t tcp_ts_clock(const struct stack *st, uint32_t offset);  /* the same, any offset */

/* tcp_rtt.c: RFC 6298 */
void tcp_rtt_sample(struct tcb *t, usec_t rtt);
void tcp_rtt_on_ack(struct tcb *t, const struct tcp_segment *seg);
void tcp_rtt_time(struct tcb *t, uint32_t end_seq);
void tcp_rto_backoff(struct tcb *t);
void tcp_rto_reset(struct tcb *t);

/* tcp_congestion.c: RFC 5681, 6582, 6675, 6928 */
void cc_init(struct tcb *t);
void cc_restart_after_idle(struct tcb *t);
void cc_on_new_ack(struct tcb *t, uint32_t acked);
void cc_on_dupack(struct tcb *t);
void cc_on_rto(struct tcb *t);
uint32_t cc_send_allowance(const struct tcb *t);
void cc_recovery_send(struct tcb *t);

/* tcp_timer.c */
void tcp_timer_set(struct tcb *t, enum tcp_timer which, usec_t at);
static inline void tcp_timer_stop(struct tcb *t, enum tcp_timer which)
{
    tcp_timer_set(t, which, USEC_NEVER);
}
static inline bool tcp_timer_armed(const struct tcb *t, enum tcp_timer which)
{
    return t->timer[which] != USEC_NEVER;
}
void tcp_timer_remove(struct tcb *t);       /* out of the heap for good */
void tcp_timers_run(struct stack *st, usec_t now);
usec_t tcp_timers_next(const struct stack *st);  /* the earliest deadline */
void tcp_arm_rexmit(struct tcb *t);
void tcp_start_timewait(struct tcb *t);
void tcp_start_fin_wait_2_timer(struct tcb *t);

/* tcp_app.c: calls up into the application. */
void tcp_app_accept(struct tcb *t);
void tcp_app_data(struct tcb *t);
void tcp_app_eof(struct tcb *t);
void tcp_app_closed(struct tcb *t, enum tcp_close_reason why);
void tcp_app_sendable(struct tcb *t);
void tcp_app_timer_fired(struct tcb *t);
void tcp_close_tcb(struct tcb *t);          /* tcp_close() on a TCB */
void tcp_abort_tcb(struct tcb *t);          /* tcp_abort() on a TCB */

#endif
