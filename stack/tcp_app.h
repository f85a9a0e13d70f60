/*
 * tcp_app.h -- the narrow interface between TCP and the application above it.
 *
 * An application listens on a port and is called back when a connection is
 * accepted, when bytes can be read, when send space frees up, when the peer
 * has sent its FIN, and when the connection is gone.  It moves bytes with
 * tcp_recv()/tcp_send() and ends with tcp_close() (FIN after queued data) or
 * tcp_abort() (RST).  The application never sees a segment; TCP never looks
 * inside the bytes.  This is RFC 9293 §3.9.1's user interface in callback form.
 *
 * Callbacks run inside stack_input()/stack_tick(); they may call any tcp_*
 * function on their own connection.  After on_closed the conn is gone.
 */
#ifndef SYNACK_TCP_APP_H
#define SYNACK_TCP_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack;
struct tcp_conn;

enum tcp_close_reason {
    TCP_CLOSED_NORMALLY, /* both FINs exchanged and acknowledged */
    TCP_CLOSED_RESET,    /* the peer sent RST */
    TCP_CLOSED_TIMEOUT,  /* retransmissions exhausted, we sent RST */
    TCP_CLOSED_ABORTED,  /* tcp_abort() or stack shutdown */
};

struct tcp_app_ops {
    /* A connection reached ESTABLISHED.  Return the app's per-connection
     * state (passed to every later callback), or NULL to refuse with RST. */
    void *(*on_accept)(void *app, struct tcp_conn *c);
    /* New bytes are ready for tcp_recv(). */
    void (*on_data)(void *conn_state, struct tcp_conn *c);
    /* Send space has freed up after tcp_send() accepted less than asked. */
    void (*on_sendable)(void *conn_state, struct tcp_conn *c);
    /* The peer sent FIN: no more bytes will arrive; sending still works. */
    void (*on_eof)(void *conn_state, struct tcp_conn *c);
    /* The connection is gone; free conn_state.  c must not be used after. */
    void (*on_closed)(void *conn_state, struct tcp_conn *c, enum tcp_close_reason why);
    /* The deadline set with tcp_app_timer() has passed. */
    void (*on_timer)(void *conn_state, struct tcp_conn *c);
};

/* Listen on port (host order) at the stack's address.  0 on success, -1 when
 * the port is already taken or no listener slot is free. */
int tcp_listen(struct stack *st, uint16_t port, const struct tcp_app_ops *ops, void *app);

/* Copies up to cap received bytes out; the window reopens as they are read. */
size_t tcp_recv(struct tcp_conn *c, void *buf, size_t cap);
/* Bytes waiting in the receive buffer. */
size_t tcp_recv_ready(const struct tcp_conn *c);
/* Queues up to len bytes for sending; returns how many were taken (the send
 * buffer is bounded).  0 once the connection is closing. */
size_t tcp_send(struct tcp_conn *c, const void *buf, size_t len);
/* Queues like tcp_send() but sends nothing yet: more is coming in the same
 * burst (Linux's MSG_MORE).  A response's head and a small body then leave
 * in one segment, where Nagle would otherwise hold the body back until the
 * peer's delayed ACK of the head.  tcp_push() sends what is queued. */
size_t tcp_send_more(struct tcp_conn *c, const void *buf, size_t len);
void tcp_push(struct tcp_conn *c);
/* tcp_send_more() without the copy: free send-buffer space to fill in
 * place, up to max bytes in at most two areas (the buffer is a ring), for
 * an app that reads a file straight into it (the copy this saves, a
 * memmove, was 6 % of synackd's CPU in bulk transfer at MTU 65535).  Nothing is queued until
 * tcp_send_commit() counts the bytes written, the first area first.
 * Returns the number of areas, 0 when nothing can be queued. */
struct tcp_send_area {
    uint8_t *data;
    size_t len;
};
int tcp_send_area(struct tcp_conn *c, size_t max, struct tcp_send_area out[2]);
void tcp_send_commit(struct tcp_conn *c, size_t n);
/* Free space in the send buffer. */
size_t tcp_send_space(const struct tcp_conn *c);
/* Turns Nagle's algorithm (RFC 896) off or on for this connection: with
 * nodelay, a small write goes out at once even while earlier data is
 * unacknowledged.  The default comes from stack_config.nagle. */
void tcp_set_nodelay(struct tcp_conn *c, bool nodelay);
/* Send FIN once queued data has gone: ESTABLISHED -> FIN-WAIT-1 or
 * CLOSE-WAIT -> LAST-ACK (RFC 9293 §3.10.4). Idempotent. */
void tcp_close(struct tcp_conn *c);
/* Send RST and drop the connection now (RFC 9293 §3.10.5). */
void tcp_abort(struct tcp_conn *c);

/* The time of the event being handled (monotonic microseconds, as the link
 * passed it in): apps never read a clock themselves. */
uint64_t tcp_now(const struct tcp_conn *c);
/* Arms the app's one timer on this connection for the absolute time
 * deadline (on_timer is called then); UINT64_MAX disarms it.  For idle and
 * request timeouts; TCP's own timers are separate. */
void tcp_app_timer(struct tcp_conn *c, uint64_t deadline);

/* Addresses in host byte order, for logs. */
void tcp_conn_peer(const struct tcp_conn *c, uint32_t *addr, uint16_t *port);

#endif
