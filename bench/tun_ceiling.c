/*
 * tun_ceiling.c -- workload F of `make bench`: how fast can one thread push
 * packets into a TUN fd, one write() per packet?  That is the ceiling for a
 * userspace stack that writes each segment with its own system call, as
 * synackd does.
 *
 * It creates its own TUN device (MTU 65535), gives the kernel's side
 * 10.0.0.1/24 and writes IPv4/UDP packets from 10.0.0.2 to 10.0.0.1:9 for
 * a fixed time at each size asked for.  A UDP socket bound to 10.0.0.1:9 in
 * this process takes them and is never read: once its small receive buffer
 * is full the kernel drops each packet after IPv4 and UDP input (no ICMP
 * error is generated).
 *
 * Two modes.  "csum": each packet carries a valid UDP checksum, which the
 * kernel verifies on arrival (an accept-all socket filter makes it, see
 * sink_open), reading every byte, as it must verify every TCP segment
 * synackd writes (a TUN without offload flags has no way to say "already
 * checked").  This is the ceiling `make bench` compares synack with.
 * "nocsum": UDP checksum 0 (RFC 768: none), so the kernel never reads the
 * payload: the cost of the device and the copy into the kernel alone.
 *
 * Run it only inside a private network namespace; bench/run.sh does.
 *
 *   tun_ceiling SECONDS MODE SIZE...     e.g.  tun_ceiling 3 csum 1500 65535
 *
 * One line per size on stdout:
 *   ceiling mode=csum size=1500 packets=1288448 seconds=3.002 pps=429215 MBps=643.8 failed=0
 * (MB = 10^6 bytes of whole packets, headers included.)
 *
 * With TUN_CEILING_BATCH=N in the environment (1..64) the writes go N per
 * io_uring_enter() instead, as synackd's do (tun/tun_batch.c): the same
 * kernel work per packet without a system call each; the line then says
 * batch=N.  `make bench` measures the one-write() ceiling only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#define TUN_NAME "ceil0"
#define MAX_PKT 65535
#define MIN_PKT 28 /* IPv4 + UDP headers */
#define DISCARD_PORT 9
#define MAX_BATCH 64

static uint8_t pkt[MAX_PKT];

static double now_sec(void) {
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len) {
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 768: the one's complement sum over the pseudo-header and the datagram. */
static uint16_t udp_checksum(const uint8_t *ip, size_t size) {
    uint32_t sum = 17 + (uint32_t)(size - 20); /* protocol, UDP length */
    uint16_t c;

    for (size_t i = 12; i < 20; i += 2) /* source and destination addresses */
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    for (size_t i = 20; i < size; i += 2)
        sum += (uint32_t)ip[i] << 8 | (i + 1 < size ? ip[i + 1] : 0);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    c = (uint16_t)~sum;
    return c ? c : 0xffff; /* 0 would mean "no checksum" */
}

/* An IPv4/UDP packet of exactly size bytes, 10.0.0.2 -> 10.0.0.1:9. */
static void build_packet(size_t size, int csum) {
    uint16_t c;

    for (size_t i = 0; i < size; i++)
        pkt[i] = (uint8_t)(i * 7); /* a payload that is not all zeros */
    memset(pkt, 0, 28);
    pkt[0] = 0x45;
    put16(pkt + 2, (uint16_t)size);
    pkt[6] = 0x40; /* DF */
    pkt[8] = 64;
    pkt[9] = 17; /* UDP */
    memcpy(pkt + 12, (const uint8_t[]){10, 0, 0, 2}, 4);
    memcpy(pkt + 16, (const uint8_t[]){10, 0, 0, 1}, 4);
    c = ip_checksum(pkt, 20);
    put16(pkt + 10, c);
    put16(pkt + 20, 40000);
    put16(pkt + 22, DISCARD_PORT);
    put16(pkt + 24, (uint16_t)(size - 20));
    if (csum)
        put16(pkt + 26, udp_checksum(pkt, size)); /* else 0: none */
}

static int run_cmd(const char *cmd) {
    int rc = system(cmd);

    if (rc != 0)
        fprintf(stderr, "tun_ceiling: '%s' failed\n", cmd);
    return rc;
}

static int tun_open(void) {
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        perror("tun_ceiling: /dev/net/tun");
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TUN_NAME);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        perror("tun_ceiling: TUNSETIFF");
        close(fd);
        return -1;
    }
    if (run_cmd("ip link set " TUN_NAME " mtu 65535 up") != 0 ||
        run_cmd("ip addr add 10.0.0.1/24 dev " TUN_NAME) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The packets' destination: bound, never read, with a small buffer.  Linux
 * verifies a UDP checksum late, when the datagram is read, unless the socket
 * has a filter; so in csum mode an accept-all filter makes it verify each
 * packet on arrival, as TCP input does. */
static int sink_open(int csum) {
    struct sock_filter accept_all = BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
    struct sock_fprog prog = {1, &accept_all};
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), small = 4096;

    if (s < 0) {
        perror("tun_ceiling: socket");
        return -1;
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(DISCARD_PORT);
    a.sin_addr.s_addr = htonl(0x0a000001);
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    if (csum && setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
        perror("tun_ceiling: SO_ATTACH_FILTER");
        close(s);
        return -1;
    }
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("tun_ceiling: bind 10.0.0.1:9");
        close(s);
        return -1;
    }
    return s;
}

/* One write's result against the packet's size. */
static void count(long res, size_t size, uint64_t *sent, uint64_t *failed) {
    if (res == (long)size)
        (*sent)++;
    else if (++*failed == 1)
        fprintf(stderr, "tun_ceiling: write %zu bytes: %s\n", size,
                res < 0 ? strerror((int)-res) : "short write");
}

/* 256 writes, one write() each. */
static void write_plain(int fd, size_t size, uint64_t *sent, uint64_t *failed) {
    for (int i = 0; i < 256; i++) {
        ssize_t n = write(fd, pkt, size);

        count(n < 0 ? -(long)errno : (long)n, size, sent, failed);
    }
}

/* About 256 writes, batch per io_uring_enter(). */
static void write_batched(struct io_uring *ring, int fd, int batch, size_t size,
                          uint64_t *sent, uint64_t *failed) {
    struct io_uring_cqe *cqe;
    unsigned head, seen;

    for (int k = 0; k < 256 / batch; k++) {
        for (int i = 0; i < batch; i++)
            io_uring_prep_write(io_uring_get_sqe(ring), fd, pkt, (unsigned)size, 0);
        io_uring_submit_and_wait(ring, (unsigned)batch);
        seen = 0;
        io_uring_for_each_cqe(ring, head, cqe) {
            count(cqe->res, size, sent, failed);
            seen++;
        }
        io_uring_cq_advance(ring, seen);
    }
}

static int measure(int fd, double seconds, int csum, size_t size, int batch,
                   struct io_uring *ring) {
    uint64_t sent = 0, failed = 0;
    double start, end, elapsed;

    build_packet(size, csum);
    start = now_sec();
    end = start + seconds;
    do {
        /* Check the clock every 256 writes: cheap next to a system call. */
        if (batch > 0)
            write_batched(ring, fd, batch, size, &sent, &failed);
        else
            write_plain(fd, size, &sent, &failed);
    } while (now_sec() < end);
    elapsed = now_sec() - start;
    printf("ceiling mode=%s size=%zu packets=%llu seconds=%.3f pps=%.0f MBps=%.1f failed=%llu",
           csum ? "csum" : "nocsum", size, (unsigned long long)sent, elapsed, (double)sent / elapsed,
           (double)sent * (double)size / elapsed / 1e6, (unsigned long long)failed);
    printf(batch > 0 ? " batch=%d\n" : "\n", batch);
    fflush(stdout);
    return failed > sent / 100 ? -1 : 0;
}

int main(int argc, char **argv) {
    const char *b = getenv("TUN_CEILING_BATCH");
    struct io_uring ring;
    double seconds;
    int fd, sink, csum, batch = b != NULL ? atoi(b) : 0, rc = 0;

    if (argc < 4 || (strcmp(argv[2], "csum") != 0 && strcmp(argv[2], "nocsum") != 0)) {
        fprintf(stderr, "usage: tun_ceiling SECONDS csum|nocsum SIZE...\n");
        return 2;
    }
    csum = strcmp(argv[2], "csum") == 0;
    seconds = atof(argv[1]);
    if (seconds <= 0 || seconds > 60) {
        fprintf(stderr, "tun_ceiling: SECONDS must be in (0, 60]\n");
        return 2;
    }
    if (b != NULL && (batch < 1 || batch > MAX_BATCH)) {
        fprintf(stderr, "tun_ceiling: TUN_CEILING_BATCH must be in 1..%d\n", MAX_BATCH);
        return 2;
    }
    if (batch > 0 && (rc = io_uring_queue_init(MAX_BATCH, &ring, 0)) < 0) {
        fprintf(stderr, "tun_ceiling: io_uring: %s\n", strerror(-rc));
        return 1;
    }
    if ((fd = tun_open()) < 0 || (sink = sink_open(csum)) < 0)
        return 1;
    for (int i = 3; i < argc; i++) {
        long size = strtol(argv[i], NULL, 10);

        if (size < MIN_PKT || size > MAX_PKT) {
            fprintf(stderr, "tun_ceiling: size %s not in %d..%d\n", argv[i], MIN_PKT, MAX_PKT);
            return 2;
        }
        if (measure(fd, seconds, csum, (size_t)size, batch, &ring) < 0)
            rc = 1;
    }
    close(sink);
    close(fd);
    if (batch > 0)
        io_uring_queue_exit(&ring);
    return rc;
}
