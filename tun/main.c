/*
 * main.c -- synackd: the link between the kernel and the pure core.  Packets
 * read from the TUN go into stack_input(); packets the core emits come out of
 * link_output() to the TUN, in batches (tun/tun_batch.c).  One thread, one
 * sleep: the TUN fd, a signalfd and the core's next timer deadline are
 * everything that can wake us, so the whole process is a single loop a
 * reader can follow.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <linux/virtio_net.h>
#include <unistd.h>

#include "http/server.h"
#include "stack/stack.h"
#include "tun/cli.h"
#include "tun/clock.h"
#include "tun/capture.h"
#include "tun/gso.h"
#include "tun/impair.h"
#include "tun/site_files.h"
#include "tun/trace_ring.h"
#include "tun/tun_batch.h"
#include "tun/tun_device.h"

#ifndef SYNACK_VERSION
#define SYNACK_VERSION "unknown" /* the Makefile always defines it */
#endif

#define READ_BURST 64          /* packets per wake-up, so timers and signals get a turn */
#define SHUTDOWN_GRACE_USEC (3 * USEC_PER_SEC) /* for FINs to be acked */
#define COUNTERS_BUF_SIZE 8192
#define TRIM_INTERVAL_USEC USEC_PER_SEC /* heap trims at most this often */

struct link {
    int tun_fd;
    struct tun_batch *io;  /* every read and write of tun_fd */
    size_t vnet_len;       /* bytes of virtio_net_hdr before each packet; 0: none */
    struct capture *cap;   /* --pcap; NULL for none */
    struct trace_ring *ring; /* --trace-ring, for GET /trace; NULL when 0 */
    FILE *trace;
    uint64_t split_errors; /* super-segments gso_split() could not cut up */
    struct impair *impair; /* --impair; NULL: packets go straight through */
    struct stack *st;      /* where impaired incoming packets are delivered */
};

/* Giving memory back.  glibc keeps the heap that freed connections leave
 * behind (a burst of 16,384 connections in TIME-WAIT left 40-47 MiB two
 * MSL after the last of them ended); malloc_trim() returns the free pages
 * to the kernel.  It walks the heap, so it runs only when the link is
 * quiet and the connection table has shrunk since the last trim. */
struct heap_trim {
    usec_t last;
    uint32_t peak;         /* the table's largest size since the last trim */
};

/* When the next trim may run: once the interval since the last has
 * passed, if the table has shrunk meanwhile; else never.  The loop wakes
 * for it, so the memory of the last connections to end is given back too. */
static usec_t trim_deadline(const struct heap_trim *ht, const struct stack *st) {
    return stack_tcb_count(st) < ht->peak ? ht->last + TRIM_INTERVAL_USEC : USEC_NEVER;
}

/* Called once per turn of the loop; idle: the turn brought no packet. */
static void trim_if_shrunk(struct heap_trim *ht, const struct stack *st, bool idle,
                           usec_t now) {
    uint32_t tcbs = stack_tcb_count(st);

    if (tcbs > ht->peak)
        ht->peak = tcbs;
    if (idle && now >= trim_deadline(ht, st)) {
        malloc_trim(0);
        ht->last = now;
        ht->peak = tcbs;
    }
}

/* Graceful shutdown: started by the first SIGINT/SIGTERM, bounded in time. */
struct shutdown {
    bool stopping;
    usec_t deadline;
};

/* The virtio_net_hdr that tells the kernel how to finish a packet: its
 * checksum from csum_start on, and for a super-segment, the size of the
 * segments its TCP is to take it as (Linux: virtio_net_hdr_to_skb()).
 * Fields are in host order, as a TUN without TUNSETVNETLE expects. */
static struct virtio_net_hdr vnet_header(const struct stack_offload *off) {
    struct virtio_net_hdr h;

    memset(&h, 0, sizeof(h));
    if (off == NULL)
        return h; /* complete already */
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.csum_start = off->csum_start;
    h.csum_offset = off->csum_offset;
    h.hdr_len = off->hdr_len;
    if (off->gso_size) {
        h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h.gso_size = off->gso_size;
    }
    return h;
}

/* One packet to the TUN, led by its virtio_net_hdr when the TUN has one.
 * False when it is known to be dropped already (tun/tun_batch.h). */
static bool tun_write(struct link *l, const struct slice *parts, int nparts,
                      const struct stack_offload *off) {
    struct iovec iov[1 + STACK_MAX_SLICES];
    struct virtio_net_hdr vh = vnet_header(off);
    int niov = 0;

    if (nparts > STACK_MAX_SLICES)
        nparts = STACK_MAX_SLICES; /* the core promises never to; stay in bounds */
    if (l->vnet_len > 0)
        iov[niov++] = (struct iovec){&vh, l->vnet_len};
    for (int i = 0; i < nparts; i++) /* only read: the cast drops const for iovec */
        iov[niov++] = (struct iovec){(void *)parts[i].data, parts[i].len};
    return tun_batch_write(l->io, iov, niov);
}

/* gso_split()'s hooks: each wire segment of what the stack emitted. */
static void capture_segment(void *ctx, const struct slice *parts, int nparts) {
    struct link *l = ctx;

    capture_out(l->cap, parts, nparts);
}

/* Impaired, the capture records the segment as the stack emitted it (a
 * lost one too, a duplicated one twice), so Wireshark shows the stack's
 * own view of the conversation. */
static void impair_segment(void *ctx, const struct slice *parts, int nparts) {
    struct link *l = ctx;
    int copies = impair_packet(l->impair, IMPAIR_OUT, parts, nparts, clock_now_usec());

    do
        capture_out(l->cap, parts, nparts);
    while (--copies > 0);
}

/* The core's output hook.  A super-segment goes to the TUN whole, but the
 * capture and the impairment see the MSS-sized segments the kernel's TCP
 * takes it as: what a learner reads in Wireshark is what TCP exchanged. */
static void link_output(void *ctx, const struct slice *parts, int nparts,
                        const struct stack_offload *off) {
    struct link *l = ctx;
    int segments = 1;

    if (l->impair != NULL)
        segments = gso_split(parts, nparts, off, impair_segment, l);
    else if (tun_write(l, parts, nparts, off) && l->cap != NULL)
        segments = gso_split(parts, nparts, off, capture_segment, l);
    /* Never for the stack's own packets; if it happened, the impaired link
     * would lose the packet and the capture would miss it: say so. */
    if (segments == 0 && counter_log_due(++l->split_errors))
        fprintf(stderr, "synackd: a packet with offload could not be cut into segments, "
                "so %s (%llu so far)\n", l->impair != NULL ? "it was dropped" :
                "the capture misses it", (unsigned long long)l->split_errors);
}

/* One packet into the core, recorded as the core receives it.  The
 * capture writes it once the core is done with it, with the comments of
 * what it caused (tun/capture.h). */
static void link_input(struct link *l, const uint8_t *pkt, size_t len, usec_t now) {
    capture_in(l->cap, pkt, len);
    stack_input(l->st, pkt, len, now);
    capture_settle(l->cap);
}

/* The impairment's deliver hook: a packet it let through, now or later. */
static void link_deliver(void *ctx, enum impair_dir dir, const struct slice *parts,
                         int nparts) {
    struct link *l = ctx;

    if (dir == IMPAIR_OUT)
        tun_write(l, parts, nparts, NULL); /* a wire segment, checksum complete */
    else if (nparts == 1) /* always: an incoming packet is one read() */
        link_input(l, parts[0].data, parts[0].len, clock_now_usec());
}

/* The core's trace hook: one line per call, line-buffered so `tail -f`
 * follows the connection as it happens. */
static void link_trace(void *ctx, const char *line) {
    struct link *l = ctx;

    if (l->trace == NULL)
        return;
    if (fputs(line, l->trace) == EOF || fputc('\n', l->trace) == EOF) {
        fprintf(stderr, "synackd: cannot write trace: %s (tracing stopped)\n",
                strerror(errno));
        l->trace = NULL;
    }
}

/* The core's record hook: the trace as data, for the pcapng comments and
 * the ring behind GET /trace. */
static void link_record(void *ctx, const struct trace_record *r) {
    struct link *l = ctx;

    capture_note(l->cap, r);
    trace_ring_push(l->ring, r);
}

/* The core's log hook: bounds it hit, already thinned to powers of two. */
static void link_log(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "synackd: %s\n", line);
}

static void print_counters(const struct stack *st, const struct link *l) {
    static char buf[COUNTERS_BUF_SIZE];
    const struct tun_batch_counters *tc = tun_batch_counters(l->io);

    counters_format(stack_counters(st), buf, sizeof(buf));
    fprintf(stderr, "synackd counters:\n%s", buf);
    fprintf(stderr, "link:\n  %10llu  TUN writes dropped, queue full\n"
            "  %10llu  TUN writes failed\n"
            "  %10llu  super-segments not cut for the capture or --impair\n"
            "  %10llu  packets read with no moderation sleep before\n"
            "  %10llu  packets read after a moderation sleep (--coalesce-usec)\n",
            (unsigned long long)tc->write_eagain, (unsigned long long)tc->write_errors,
            (unsigned long long)l->split_errors, (unsigned long long)tc->read_unmoderated,
            (unsigned long long)tc->read_moderated);
    if (l->impair != NULL) {
        impair_counters_format(l->impair, buf, sizeof(buf));
        fputs(buf, stderr);
    }
}

/* Signals arrive as readable data on an fd, so they are handled in the loop
 * like packets, never asynchronously in the middle of the core. */
static int signals_open(void) {
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
        (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        fprintf(stderr, "synackd: cannot set up signal handling: %s\n", strerror(errno));
        return -1;
    }
    /* A closed stdout (trace | head) must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    return fd;
}

static void handle_signals(int sfd, struct stack *st, struct link *l,
                           struct shutdown *sd) {
    struct signalfd_siginfo si;
    usec_t now;

    while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        now = clock_now_usec();
        if (si.ssi_signo == SIGUSR1) {
            print_counters(st, l);
            capture_flush(l->cap);
        } else if (!sd->stopping) {
            fprintf(stderr, "synackd: %s, closing connections (up to %llu s)\n",
                    strsignal((int)si.ssi_signo),
                    (unsigned long long)(SHUTDOWN_GRACE_USEC / USEC_PER_SEC));
            sd->stopping = true;
            sd->deadline = now + SHUTDOWN_GRACE_USEC;
            stack_close_all(st, now);
            capture_settle(l->cap);
        } else {
            sd->deadline = now; /* asked twice: stop waiting */
        }
    }
}

/* Reads until the TUN is empty or the burst is spent; what the packets
 * cause waits in the batch and goes out with the next read or flush.  -1
 * when the TUN is gone (e.g. `ip link del`): nothing more can arrive, so
 * the loop ends. */
static int drain_tun(struct link *l) {
    const uint8_t *pkt;
    bool drained = false;
    size_t len;
    usec_t now;
    int n;

    for (int got = 0; got < READ_BURST && !drained; got += n) {
        if ((n = tun_batch_read(l->io, READ_BURST - got, &drained)) < 0)
            return -1;
        now = clock_now_usec(); /* the batch was read in one call */
        for (int i = 0; i < n; i++) {
            pkt = tun_batch_packet(l->io, i, &len);
            if (len < l->vnet_len)
                continue; /* cannot happen: the kernel always writes the header */
            /* Without TUNSETOFFLOAD the header says nothing: the kernel
             * hands us whole segments with complete checksums. */
            pkt += l->vnet_len;
            len -= l->vnet_len;
            if (l->impair != NULL)
                impair_packet(l->impair, IMPAIR_IN, &(struct slice){pkt, len}, 1, now);
            else
                link_input(l, pkt, len, now);
        }
    }
    return 0;
}

/* The sleep's timeout: until the next timer, held packet's release, heap trim or
 * the shutdown deadline, in ms rounded up so we never wake a hair early and spin. */
static int loop_timeout(const struct link *l, const struct shutdown *sd,
                        const struct heap_trim *ht, usec_t now) {
    usec_t deadline = stack_next_deadline(l->st), ms;

    if (trim_deadline(ht, l->st) < deadline)
        deadline = trim_deadline(ht, l->st);

    if (l->impair != NULL && impair_next_release(l->impair) < deadline)
        deadline = impair_next_release(l->impair);

    if (sd->stopping && sd->deadline < deadline)
        deadline = sd->deadline;
    if (deadline == USEC_NEVER)
        return -1;
    if (deadline <= now)
        return 0;
    ms = (deadline - now + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The event loop.  Returns synackd's exit status. */
static int run(struct stack *st, struct link *l, int sfd) {
    struct shutdown sd = {false, 0};
    struct heap_trim ht = {0, 0};
    usec_t now;
    int wake;

    l->st = st;
    for (;;) {
        now = clock_now_usec();
        if (sd.stopping && (stack_conn_count(st) == 0 || now >= sd.deadline))
            return 0;
        /* What the last turn sent leaves here, then the loop sleeps. */
        if ((wake = tun_batch_wait(l->io, loop_timeout(l, &sd, &ht, now))) < 0)
            return 1;
        if (wake & TUN_WAKE_SIGNAL)
            handle_signals(sfd, st, l, &sd);
        if ((wake & TUN_WAKE_PACKETS) && drain_tun(l) < 0)
            return 1;
        if (l->impair != NULL)
            impair_release(l->impair, clock_now_usec());
        now = clock_now_usec();
        stack_tick(st, now);
        capture_settle(l->cap);
        trim_if_shrunk(&ht, st, wake == 0, now);
    }
}

/* --impair: decisions are traced through the same trace as the core's. */
static int start_impair(const struct cli_options *o, struct link *l) {
    struct impair_hooks h = {link_deliver, link_trace, link_log, l};
    char desc[IMPAIR_ERR_LEN];

    if (!o->impair.enabled)
        return 0;
    if (l->trace == NULL)
        h.trace = NULL;
    if ((l->impair = impair_new(&o->impair, &h, o->cfg.trace_level)) == NULL) {
        fprintf(stderr, "synackd: cannot allocate the impairment queue: out of memory\n");
        return -1;
    }
    impair_spec_format(&o->impair, desc, sizeof(desc));
    fprintf(stderr, "synackd: impairing the link: %s\n", desc);
    return 0;
}

/* Trace and capture are opened before the TUN, so a bad path fails before
 * the host's network is touched at all. */
static int open_outputs(const struct cli_options *o, struct link *l) {
    if (o->trace_path != NULL && strcmp(o->trace_path, "-") == 0) {
        l->trace = stdout;
    } else if (o->trace_path != NULL && (l->trace = fopen(o->trace_path, "we")) == NULL) {
        fprintf(stderr, "synackd: cannot open trace file %s: %s (check the path and "
                "permissions)\n", o->trace_path, strerror(errno));
        return -1;
    }
    if (l->trace != NULL)
        setvbuf(l->trace, NULL, _IOLBF, 0);
    if (o->pcap_path != NULL &&
        (l->cap = capture_open(o->pcap_path, o->tun_name, "synackd " SYNACK_VERSION)) == NULL)
        return -1;
    if (o->trace_ring > 0 && (l->ring = trace_ring_new(o->trace_ring)) == NULL) {
        fprintf(stderr, "synackd: cannot allocate a trace ring of %u records: out of "
                "memory (lower --trace-ring)\n", o->trace_ring);
        return -1;
    }
    return start_impair(o, l);
}

static struct stack *start_stack(const struct cli_options *o, struct link *l,
                                 struct http_server *srv) {
    struct stack_io io = {.output = link_output, .trace = link_trace, .log = link_log, .ctx = l};
    char a[IPV4_STR_LEN], t[IPV4_STR_LEN];
    struct stack *st;

    if (l->ring != NULL || capture_wants_records(l->cap))
        io.record = link_record; /* else records cost nothing at all */
    if ((st = stack_new(&o->cfg, &io)) == NULL) {
        fprintf(stderr, "synackd: cannot allocate the connection table for %u "
                "connections: out of memory (lower --max-conns)\n", o->cfg.max_conns);
        return NULL;
    }
    if (http_server_listen(srv, st, o->port) < 0) {
        fprintf(stderr, "synackd: cannot listen on port %u\n", o->port);
        stack_free(st);
        return NULL;
    }
    fprintf(stderr, "synackd: %s: kernel %s/%u, stack %s, mtu %u, root %s\n",
            o->tun_name, ipv4_str(o->tun_addr, t), o->tun_prefix,
            ipv4_str(o->cfg.addr, a), o->cfg.mtu, o->root[0] ? o->root : "(none)");
    printf("listening on http://%s:%u/\n", a, o->port);
    fflush(stdout);
    return st;
}

/* The HTTP server over the site's files; before the TUN, like the outputs,
 * so a bad --root or --access-log fails with the network untouched. */
static struct http_server *start_http(struct cli_options *o, struct site *site,
                                      struct trace_ring *ring) {
    static char server_name[64];
    struct http_host host;
    struct http_server *srv;

    if (site_open(site, o->root, o->access_log_path) < 0)
        return NULL;
    snprintf(server_name, sizeof(server_name), "synack/%s", SYNACK_VERSION);
    o->http.server_name = server_name;
    host = site_host(site);
    if (ring != NULL) { /* GET /trace draws from it (http/ladder.c) */
        host.trace_count = trace_ring_count;
        host.trace_get = trace_ring_get;
        host.trace_ctx = ring;
    }
    if ((srv = http_server_new(&o->http, &host)) == NULL)
        fprintf(stderr, "synackd: cannot allocate the HTTP server: out of memory\n");
    return srv;
}

int main(int argc, char **argv) {
    static struct cli_options o;
    struct link l = {.tun_fd = -1};
    struct site site = {.root_fd = -1};
    struct http_server *srv = NULL;
    struct tun_params tp;
    struct stack *st = NULL;
    int sfd = -1, rc;

    if ((rc = cli_parse(&o, argc, argv)) != CLI_RUN)
        return rc;
    rc = 1;
    if ((sfd = signals_open()) < 0 || open_outputs(&o, &l) < 0 ||
        (srv = start_http(&o, &site, l.ring)) == NULL)
        goto out;
    tp = (struct tun_params){o.tun_name, o.tun_addr, o.tun_prefix, o.cfg.mtu, o.cfg.offload};
    if ((l.tun_fd = tun_open(&tp)) < 0)
        goto out;
    l.vnet_len = o.cfg.offload ? sizeof(struct virtio_net_hdr) : 0;
    if ((l.io = tun_batch_new(l.tun_fd, sfd, o.io_uring, o.coalesce_usec)) == NULL ||
        (st = start_stack(&o, &l, srv)) == NULL)
        goto out;
    fprintf(stderr, "synackd: TUN I/O: %s\n", tun_batch_mode(l.io));

    rc = run(st, &l, sfd);
    stack_abort_all(st, clock_now_usec());
    tun_batch_flush(l.io); /* the RSTs */
    capture_settle(l.cap);
    print_counters(st, &l);

out:
    impair_free(l.impair); /* packets still held are lost, as on a cut wire */
    capture_close(l.cap);
    l.cap = NULL;
    if (l.trace != NULL && l.trace != stdout)
        fclose(l.trace);
    l.trace = NULL;
    if (st != NULL)
        stack_free(st); /* tells the server each connection ended */
    http_server_free(srv);
    trace_ring_free(l.ring);
    site_close(&site);
    tun_batch_free(l.io);
    if (l.tun_fd >= 0)
        close(l.tun_fd);
    if (sfd >= 0)
        close(sfd);
    return rc;
}
