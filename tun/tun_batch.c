/*
 * tun_batch.c -- the TUN's reads and writes, and the loop's sleep, carried
 * in batches by io_uring.
 *
 * The loop in main.c sleeps until the TUN or the signal fd is readable,
 * reads whatever the kernel has queued on the TUN, feeds it to the core,
 * and the core answers with packets to write.  On the machines
 * docs/performance.md was measured on, a system call's entry and exit alone
 * cost about 1.1 us, as much as the kernel's whole work on a small packet:
 * bench/tun_ceiling wrote 454K 1500-byte packets/s with one write() each,
 * 1.43M with 32 per io_uring_enter().  So packets to write wait here, in
 * order, and cross in one io_uring_enter() with the reads of the next
 * turn, or with the loop's next sleep: a turn of the loop costs two system
 * calls, one to send and sleep, one to read, however many packets it
 * moves.
 *
 * Reads and writes complete inside the call that submits them: each is
 * marked RWF_NOWAIT, so io_uring tries it at once and reports EAGAIN rather
 * than parking it until the TUN is ready (O_NONBLOCK on the fd is not
 * enough: io_uring would wait for a packet on a read).  No buffer is shared
 * with the kernel after a call returns; only the sleep's polls stay armed
 * from one call to the next.
 */
#include <errno.h>
#include <liburing.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "stack/counters.h"
#include "tun/tun_batch.h"

/* The largest IPv4 datagram, plus one, after its virtio_net_hdr. */
#define READ_BUF_SIZE (sizeof(struct virtio_net_hdr) + 65536)
/* Reads per io_uring_enter(), between these: a read that finds the TUN
 * empty still costs a trip through the driver, so the batch only grows
 * while reads come back full. */
#define READ_BATCH_MIN 4
#define READ_BATCH_MAX 32
/* Writes queued before the queue is sent regardless. */
#define WRITE_SLOTS 64
/* A queued packet is copied here: a segment of the default MTU with its
 * virtio_net_hdr fits.  A larger one is written at once from where it is. */
#define WRITE_SLOT_BYTES 2048
/* >= WRITE_SLOTS + READ_BATCH_MAX + the two polls: get_sqe never fails. */
#define RING_ENTRIES 128

/* What a completion was for: its user_data. */
#define TAG_WRITE (0ull << 32) /* | the write's slot */
#define TAG_READ (1ull << 32)  /* | the read's buffer */
#define TAG_POLL (2ull << 32)  /* | the TUN_WAKE_ bit of the polled fd */
#define TAG_KIND(t) ((t) & ~0xffffffffull)
#define TAG_INDEX(t) ((unsigned)((t) & 0xffffffffull))

struct tun_batch {
    int fd, signal_fd;
    bool uring;
    struct io_uring ring;
    int sqe_fd;              /* 0, the registered fd's index, or fd itself */
    uint8_t sqe_flags;       /* IOSQE_FIXED_FILE when registered */
    uint8_t *slots;          /* WRITE_SLOTS x WRITE_SLOT_BYTES */
    uint32_t slot_len[WRITE_SLOTS];
    unsigned queued;         /* writes prepared, not yet submitted */
    unsigned in_flight;      /* reads and writes submitted, not yet reaped */
    unsigned armed;          /* TUN_WAKE_ bits with a poll waiting */
    unsigned ready;          /* TUN_WAKE_ bits whose poll fired, not yet told */
    uint8_t *rx;             /* read buffers, READ_BUF_SIZE each */
    int rx_res[READ_BATCH_MAX]; /* each read's result: bytes or -errno */
    int rx_index[READ_BATCH_MAX]; /* the buffers that hold a packet, in order */
    int rx_count;
    int read_ask;            /* reads per submission, READ_BATCH_MIN..MAX */
    int epoll_fd;            /* without io_uring, the loop sleeps in epoll */
    bool busy;               /* the last read found packets */
    bool moderated;          /* this turn began with a moderation sleep */
    long coalesce_ns;        /* --coalesce-usec, in ns; 0: off */
    struct tun_batch_counters c;
};

/* A write's result (bytes, or -errno) against the packet's size; true when
 * the kernel took the packet whole. */
static bool count_write(struct tun_batch *b, long res, size_t total) {
    if (res == (long)total)
        return true;
    if (res == -EAGAIN || res == -EWOULDBLOCK) {
        if (counter_log_due(++b->c.write_eagain))
            fprintf(stderr, "synackd: TUN queue full, packet dropped (%llu so far)\n",
                    (unsigned long long)b->c.write_eagain);
    } else if (counter_log_due(++b->c.write_errors)) {
        fprintf(stderr, "synackd: TUN write failed: %s, packet dropped (%llu so far)\n",
                res < 0 ? strerror((int)-res) : "short write",
                (unsigned long long)b->c.write_errors);
    }
    return false;
}

static bool write_now(struct tun_batch *b, const struct iovec *iov, int niov, size_t total) {
    ssize_t n = writev(b->fd, iov, niov);

    return count_write(b, n < 0 ? -(long)errno : (long)n, total);
}

/* A read or write of the TUN, tagged, done at once or failed (RWF_NOWAIT). */
static struct io_uring_sqe *tun_sqe(struct tun_batch *b, uint64_t tag) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring); /* room: RING_ENTRIES */

    io_uring_sqe_set_data64(sqe, tag);
    return sqe;
}

static void tun_sqe_finish(struct tun_batch *b, struct io_uring_sqe *sqe) {
    sqe->flags |= b->sqe_flags;
    sqe->rw_flags = RWF_NOWAIT;
    b->in_flight++;
}

/* Every completion waiting: reads' results kept, writes counted, fired
 * polls noted. */
static void reap(struct tun_batch *b) {
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;

    io_uring_for_each_cqe(&b->ring, head, cqe) {
        uint64_t tag = io_uring_cqe_get_data64(cqe);
        unsigned i = TAG_INDEX(tag);

        if (tag == LIBURING_UDATA_TIMEOUT) {
            /* liburing's own timer, on kernels before 5.11: nothing to do */
        } else if (TAG_KIND(tag) == TAG_POLL) {
            b->armed &= ~i;
            b->ready |= i;
        } else {
            b->in_flight--;
            if (TAG_KIND(tag) == TAG_READ)
                b->rx_res[i] = cqe->res;
            else
                count_write(b, cqe->res, b->slot_len[i]);
        }
        seen++;
    }
    io_uring_cq_advance(&b->ring, seen);
}

/* Once synackd runs on io_uring; before (the probe), the caller says why
 * it falls back instead. */
static void say_enter_failed(const struct tun_batch *b, int err) {
    if (b->uring)
        fprintf(stderr, "synackd: io_uring_enter failed: %s (TUN input and output stop; "
                "restart synackd, with --no-io-uring if it recurs)\n", strerror(err));
}

/* Submits what is prepared and waits until every read and write is done:
 * at once (see the top of the file), so the loop runs once but for a
 * signal.  The queue is empty after.  0, or -errno when the kernel refused. */
static int submit_all(struct tun_batch *b) {
    int ret;

    b->queued = 0;
    do {
        ret = io_uring_submit_and_wait(&b->ring, b->in_flight);
        if (ret < 0 && ret != -EINTR) {
            say_enter_failed(b, -ret);
            return ret;
        }
        reap(b);
    } while (b->in_flight > 0);
    return 0;
}

void tun_batch_flush(struct tun_batch *b) {
    if (b->queued > 0)
        submit_all(b); /* a failure was said; the next read reports it too */
}

bool tun_batch_write(struct tun_batch *b, const struct iovec *iov, int niov) {
    struct io_uring_sqe *sqe;
    size_t total = 0;
    uint8_t *slot;

    for (int i = 0; i < niov; i++)
        total += iov[i].iov_len;
    if (!b->uring || total > WRITE_SLOT_BYTES) {
        tun_batch_flush(b); /* those queued before it go first */
        return write_now(b, iov, niov, total);
    }
    if (b->queued == WRITE_SLOTS)
        tun_batch_flush(b);
    slot = b->slots + (size_t)b->queued * WRITE_SLOT_BYTES;
    for (int i = 0, at = 0; i < niov; at += (int)iov[i].iov_len, i++)
        memcpy(slot + at, iov[i].iov_base, iov[i].iov_len);
    b->slot_len[b->queued] = (uint32_t)total;
    sqe = tun_sqe(b, TAG_WRITE | b->queued);
    io_uring_prep_write(sqe, b->sqe_fd, slot, (unsigned)total, 0);
    tun_sqe_finish(b, sqe);
    b->queued++;
    return true;
}

/* Without io_uring: one read(), its result as io_uring would give it. */
static int read_one(struct tun_batch *b) {
    ssize_t n = read(b->fd, b->rx, READ_BUF_SIZE);

    if (n < 0)
        return errno == EINTR ? -EAGAIN : -errno;
    return (int)n;
}

/* The reads' results in order: packets kept, -1 on a read error. */
static int gather(struct tun_batch *b, int asked, bool *drained) {
    int res;

    b->rx_count = 0;
    *drained = false;
    for (int i = 0; i < asked; i++) {
        res = b->rx_res[i];
        if (res > 0) {
            b->rx_index[b->rx_count++] = i;
        } else if (res == -EAGAIN || res == -EWOULDBLOCK) {
            *drained = true;
        } else {
            fprintf(stderr, "synackd: TUN read failed: %s (was the device removed?)\n",
                    res < 0 ? strerror(-res) : "end of file");
            return -1;
        }
    }
    return b->rx_count;
}

static void prep_reads(struct tun_batch *b, int n) {
    for (int i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = tun_sqe(b, TAG_READ | (uint64_t)i);

        io_uring_prep_read(sqe, b->sqe_fd, b->rx + (size_t)i * READ_BUF_SIZE,
                           (unsigned)READ_BUF_SIZE, 0);
        tun_sqe_finish(b, sqe);
    }
}

/* Adds got to the counter of the kind of turn it was read in. */
static int count_read(struct tun_batch *b, int got) {
    if (got <= 0)
        return got;
    if (b->moderated)
        b->c.read_moderated += (unsigned)got;
    else
        b->c.read_unmoderated += (unsigned)got;
    return got;
}

int tun_batch_read(struct tun_batch *b, int max, bool *drained) {
    int ask = b->read_ask < max ? b->read_ask : max, got;

    if (!b->uring) {
        b->rx_res[0] = read_one(b);
        return count_read(b, gather(b, 1, drained));
    }
    prep_reads(b, ask);
    if (submit_all(b) < 0 || (got = count_read(b, gather(b, ask, drained))) < 0)
        return -1;
    b->busy = got > 0;
    if (got == ask && b->read_ask < READ_BATCH_MAX)
        b->read_ask *= 2;
    else if (got < b->read_ask / 2 && b->read_ask > READ_BATCH_MIN)
        b->read_ask /= 2;
    if (*drained)
        b->ready &= ~(unsigned)TUN_WAKE_PACKETS; /* a fired poll is stale now */
    return got;
}

const uint8_t *tun_batch_packet(const struct tun_batch *b, int i, size_t *len) {
    int at = b->rx_index[i];

    *len = (size_t)b->rx_res[at];
    return b->rx + (size_t)at * READ_BUF_SIZE;
}

/* Sleeping in epoll, without io_uring. */
static int wait_epoll(struct tun_batch *b, int timeout_ms) {
    struct epoll_event ev[2];
    unsigned wake = 0;
    int n = epoll_wait(b->epoll_fd, ev, 2, timeout_ms);

    if (n < 0 && errno != EINTR) {
        fprintf(stderr, "synackd: epoll_wait failed: %s\n", strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++)
        wake |= ev[i].data.u32;
    return (int)wake;
}

/* A one-shot poll on the fd behind bit, unless one is armed already: it
 * fires at once when the fd is readable as it is armed, so a packet that
 * came after the last read is never slept through. */
static void arm(struct tun_batch *b, unsigned bit) {
    struct io_uring_sqe *sqe;

    if ((b->armed | b->ready) & bit)
        return;
    sqe = io_uring_get_sqe(&b->ring);
    if (bit == TUN_WAKE_PACKETS) {
        io_uring_prep_poll_add(sqe, b->sqe_fd, POLLIN);
        sqe->flags |= b->sqe_flags;
    } else {
        io_uring_prep_poll_add(sqe, b->signal_fd, POLLIN);
    }
    io_uring_sqe_set_data64(sqe, TAG_POLL | bit);
    b->armed |= bit;
}

/* Interrupt moderation, as a NIC's rx-usecs: while packets keep coming,
 * the loop sleeps a fixed coalesce_ns instead of waking for the first
 * packet, and reads what came meanwhile in one batch.  Under wrk's 32
 * keep-alive connections that took io_uring_enter() calls from 0.9 per
 * request to 0.09, and synackd's CPU per new connection (B) from 38 to 28
 * us, for up to coalesce_ns more latency (docs/performance.md).  The first
 * packet after a quiet turn is never held: the loop then sleeps on the
 * TUN. */
static bool coalescing(const struct tun_batch *b, int timeout_ms) {
    return b->busy && b->coalesce_ns > 0 &&
           (timeout_ms < 0 || (long long)timeout_ms * 1000000 > b->coalesce_ns);
}

int tun_batch_wait(struct tun_batch *b, int timeout_ms) {
    struct __kernel_timespec ts = {timeout_ms / 1000, (long long)(timeout_ms % 1000) * 1000000};
    struct io_uring_cqe *cqe;
    bool coalesce = coalescing(b, timeout_ms);
    int ret, wake;

    if (!b->uring)
        return wait_epoll(b, timeout_ms);
    b->moderated = coalesce;
    if (coalesce)
        ts = (struct __kernel_timespec){0, b->coalesce_ns};
    else
        arm(b, TUN_WAKE_PACKETS);
    arm(b, TUN_WAKE_SIGNAL);
    b->queued = 0;
    /* The queued writes complete during the call; then it sleeps until a
     * poll fires or the time is up (-ETIME).  Coalescing, the time being
     * up means "read what came". */
    ret = io_uring_submit_and_wait_timeout(&b->ring, &cqe, b->in_flight + (b->ready ? 0 : 1),
                                           timeout_ms < 0 && !coalesce ? NULL : &ts, NULL);
    if (ret < 0 && ret != -ETIME && ret != -EINTR) {
        say_enter_failed(b, -ret);
        return -1;
    }
    reap(b);
    if (b->in_flight > 0 && submit_all(b) < 0) /* not after a signal: at once */
        return -1;
    wake = (int)b->ready | (coalesce ? TUN_WAKE_PACKETS : 0);
    b->ready = 0;
    return wake;
}

/* Whether the kernel's TUN takes RWF_NOWAIT (Linux 5.x TUNs may not: the
 * read then fails with EOPNOTSUPP).  Run before synackd has a connection:
 * a packet read here is dropped, and its sender will send it again. */
static int probe_nowait(struct tun_batch *b) {
    uint8_t *rx = b->rx;
    int res;

    if ((b->rx = malloc(READ_BUF_SIZE)) == NULL) {
        b->rx = rx;
        return -ENOMEM;
    }
    prep_reads(b, 1);
    if ((res = submit_all(b)) == 0)
        res = b->rx_res[0];
    free(b->rx);
    b->rx = rx;
    return res >= 0 || res == -EAGAIN ? 0 : res;
}

/* How the ring is set up, the first the kernel accepts.  All of them: one
 * thread alone submits.  DEFER_TASKRUN (Linux 6.1) and COOP_TASKRUN (5.19):
 * a poll that fires while the loop is busy waits for its next
 * io_uring_enter() instead of interrupting it with an IPI. */
static const unsigned ring_setups[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
    IORING_SETUP_COOP_TASKRUN,
    0,
};

/* A ring for this thread alone, with the TUN and the ring's own fd
 * registered so each operation and each io_uring_enter() skips a look-up
 * in the fd table.  0, or -errno when the kernel refuses. */
static int ring_open(struct tun_batch *b) {
    struct io_uring_params p;
    int ret = -EINVAL;

    for (size_t i = 0; i < sizeof(ring_setups) / sizeof(ring_setups[0]) && ret == -EINVAL; i++) {
        memset(&p, 0, sizeof(p));
        p.flags = ring_setups[i];
        ret = io_uring_queue_init_params(RING_ENTRIES, &b->ring, &p);
    }
    if (ret < 0)
        return ret;
    b->sqe_fd = b->fd;
    if (io_uring_register_files(&b->ring, &b->fd, 1) == 0) {
        b->sqe_fd = 0;
        b->sqe_flags = IOSQE_FIXED_FILE;
    }
    io_uring_register_ring_fd(&b->ring); /* Linux 5.18; an optimisation only */
    if ((ret = probe_nowait(b)) < 0)
        io_uring_queue_exit(&b->ring);
    return ret;
}

static int epoll_open(struct tun_batch *b) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TUN_WAKE_PACKETS};

    if ((b->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) >= 0 &&
        epoll_ctl(b->epoll_fd, EPOLL_CTL_ADD, b->fd, &ev) == 0) {
        ev.data.u32 = TUN_WAKE_SIGNAL;
        if (epoll_ctl(b->epoll_fd, EPOLL_CTL_ADD, b->signal_fd, &ev) == 0)
            return 0;
    }
    fprintf(stderr, "synackd: cannot set up epoll: %s\n", strerror(errno));
    return -1;
}

static struct tun_batch *start_io_uring(struct tun_batch *b) {
    int ret = ring_open(b);

    if (ret < 0) {
        fprintf(stderr, "synackd: io_uring is not available (%s): one system call per "
                "TUN packet, which costs speed only\n", strerror(-ret));
        return b;
    }
    b->uring = true;
    /* Read buffers are touched only as far as packets fill them. */
    b->rx = malloc(READ_BATCH_MAX * READ_BUF_SIZE);
    b->slots = malloc((size_t)WRITE_SLOTS * WRITE_SLOT_BYTES);
    return b->rx != NULL && b->slots != NULL ? b : NULL;
}

struct tun_batch *tun_batch_new(int fd, int signal_fd, bool use_io_uring,
                                unsigned coalesce_usec) {
    struct tun_batch *b = calloc(1, sizeof(*b));

    if (b == NULL) {
        fprintf(stderr, "synackd: cannot allocate the TUN's buffers: out of memory\n");
        return NULL;
    }
    b->fd = fd;
    b->signal_fd = signal_fd;
    b->epoll_fd = -1;
    b->read_ask = READ_BATCH_MIN;
    b->coalesce_ns = (long)coalesce_usec * 1000;
    if (use_io_uring && start_io_uring(b) == NULL) {
        fprintf(stderr, "synackd: cannot allocate the TUN's buffers: out of memory\n");
        tun_batch_free(b);
        return NULL;
    }
    if (b->uring)
        return b;
    if ((b->rx = malloc(READ_BUF_SIZE)) == NULL)
        fprintf(stderr, "synackd: cannot allocate the TUN's buffers: out of memory\n");
    if (b->rx == NULL || epoll_open(b) < 0) {
        tun_batch_free(b);
        return NULL;
    }
    return b;
}

void tun_batch_free(struct tun_batch *b) {
    if (b == NULL)
        return;
    if (b->uring)
        io_uring_queue_exit(&b->ring);
    if (b->epoll_fd >= 0)
        close(b->epoll_fd);
    free(b->slots);
    free(b->rx);
    free(b);
}

const char *tun_batch_mode(const struct tun_batch *b) {
    return b->uring ? "io_uring, many packets per system call"
                    : "read/writev and epoll, one system call per packet";
}

const struct tun_batch_counters *tun_batch_counters(const struct tun_batch *b) {
    return &b->c;
}
