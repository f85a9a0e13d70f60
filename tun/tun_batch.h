/*
 * tun_batch.h -- packets across the TUN fd, many per system call, and the
 * loop's sleep.  Every packet synackd sends or receives is one read or
 * write of the TUN; with io_uring a whole batch of them travels in one
 * io_uring_enter(), where read() and writev() pay a system call's entry and
 * exit for each packet.  Without io_uring (a kernel or container that
 * refuses it, or --no-io-uring) the same packets go one system call each,
 * and the loop sleeps in epoll.
 *
 * Nothing here looks inside a packet: main.c hands over whole packets
 * (virtio_net_hdr first when the TUN has one) and gets whole ones back.
 */
#ifndef SYNACK_TUN_BATCH_H
#define SYNACK_TUN_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct tun_batch;

/* Packets the kernel did not take.  A TUN write is a whole packet or
 * nothing; a refused one is dropped, as by a full NIC queue, and TCP's
 * retransmission recovers it.  Blocking instead would stall every
 * connection. */
struct tun_batch_counters {
    uint64_t write_eagain; /* dropped: the TUN's queue to the kernel was full */
    uint64_t write_errors; /* dropped: any other write failure */
    /* Packets read in a turn that began with an interrupt-moderation sleep,
     * and in any other turn (woken by the TUN, a timer or a signal; every
     * turn without io_uring): a packet that came while the link was quiet
     * is always in the second. */
    uint64_t read_moderated;
    uint64_t read_unmoderated;
};

/* --coalesce-usec: how long the loop sleeps, while packets keep coming,
 * before it reads what came (tun_batch_wait()). */
#define TUN_BATCH_DEFAULT_COALESCE_USEC 50
#define TUN_BATCH_MAX_COALESCE_USEC 1000

/* For fd, a non-blocking TUN; signal_fd is the other fd the loop sleeps
 * on.  use_io_uring false (--no-io-uring) or a kernel that refuses
 * io_uring: one system call per packet and no coalescing (a line on
 * stderr says why the kernel refused).  NULL when it cannot be set up
 * (already said). */
struct tun_batch *tun_batch_new(int fd, int signal_fd, bool use_io_uring,
                                unsigned coalesce_usec);
void tun_batch_free(struct tun_batch *b);

/* How packets cross: for the start-up line. */
const char *tun_batch_mode(const struct tun_batch *b);

/* One packet for the TUN, in pieces.  A small one is copied into the queue
 * the next tun_batch_flush() or tun_batch_read() sends; a larger one (a
 * super-segment) is written at once, after the queue, so the kernel sees
 * the packets in the order they were given.  False when it is already
 * known to be dropped. */
bool tun_batch_write(struct tun_batch *b, const struct iovec *iov, int niov);

/* Sends every queued packet. */
void tun_batch_flush(struct tun_batch *b);

/* What woke tun_batch_wait(): bits of its result. */
#define TUN_WAKE_PACKETS 1u /* the TUN has packets to read */
#define TUN_WAKE_SIGNAL 2u  /* signal_fd is readable */

/* Sends every queued packet, then sleeps until the TUN or signal_fd is
 * readable, or timeout_ms (-1: no limit) has passed.  While packets keep
 * coming it sleeps coalesce_usec instead, and wakes saying
 * TUN_WAKE_PACKETS: the read may then find none.  Returns TUN_WAKE_ bits
 * (0: the time is up), or -1 when sleeping failed (it says so). */
int tun_batch_wait(struct tun_batch *b, int timeout_ms);

/* Sends every queued packet, then reads at most max packets waiting on the
 * TUN.  Returns how many were read, or -1 when the TUN is gone (it says
 * so).  *drained: the TUN had no more. */
int tun_batch_read(struct tun_batch *b, int max, bool *drained);

/* Packet i (0 .. what tun_batch_read() returned - 1) of the last read; its
 * bytes stay put until the next tun_batch_read(). */
const uint8_t *tun_batch_packet(const struct tun_batch *b, int i, size_t *len);

const struct tun_batch_counters *tun_batch_counters(const struct tun_batch *b);

#endif
