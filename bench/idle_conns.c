/*
 * idle_conns.c -- workload D of `make bench`: open many TCP connections to
 * a server and hold them idle, so the bench can read the server's RSS.
 *
 *   idle_conns ADDR PORT COUNT HOLD_SECONDS [PATH]
 *
 * Opens COUNT connections, at most IN_FLIGHT handshakes at a time.  With
 * PATH, each connection first sends one keep-alive GET for PATH and reads
 * the whole response (so the server has allocated and used its buffers),
 * then falls silent.  Prints one line when all are open:
 *
 *   ready open=10000 failed=0 seconds=0.41
 *
 * then holds them until SIGTERM or SIGINT, or HOLD_SECONDS, and prints
 *
 *   held open=10000 closed_by_server=0
 *
 * and exits, which resets every connection (SO_LINGER 0): no TIME-WAIT is
 * left on this side.
 *
 * Raises its own RLIMIT_NOFILE to fit.  Run it only inside a private network
 * namespace; bench/run.sh does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_FLIGHT 256          /* handshakes (or requests) outstanding at once */
#define OPEN_TIMEOUT_SEC 60.0  /* the whole opening phase */
#define RESP_BUF 4096
#define MAX_COUNT 100000

enum phase { CONNECTING, REQUESTING, IDLE, DEAD };

struct conn {
    int fd;
    enum phase phase;
    size_t got;       /* response bytes read */
    size_t expect;    /* head + content, once the head is read; 0 before */
    char head[RESP_BUF];
};

static struct conn *conns;

static double now_sec(void) {
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int raise_nofile(long count) {
    struct rlimit rl;
    rlim_t want = (rlim_t)count + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if (rl.rlim_cur >= want)
        return 0;
    rl.rlim_cur = want;
    if (rl.rlim_max < want)
        rl.rlim_max = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        perror("idle_conns: setrlimit(RLIMIT_NOFILE)");
        return -1;
    }
    return 0;
}

static int start_connect(int ep, struct sockaddr_in *to, long i) {
    struct epoll_event ev;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        perror("idle_conns: socket");
        return -1;
    }
    /* Closed with RST when we exit: this client then holds no TIME-WAITs,
     * whose ports the next run would have to search past. */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0}, sizeof(struct linger));
    if (connect(fd, (struct sockaddr *)to, sizeof(*to)) < 0 && errno != EINPROGRESS) {
        perror("idle_conns: connect");
        close(fd);
        return -1;
    }
    conns[i].fd = fd;
    conns[i].phase = CONNECTING;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = (uint64_t)i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        perror("idle_conns: epoll_ctl");
        close(fd);
        return -1;
    }
    return 0;
}

/* From here on the connection only reports a close. */
static void go_idle(int ep, long i) {
    struct epoll_event ev;

    conns[i].phase = IDLE;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLRDHUP;
    ev.data.u64 = (uint64_t)i;
    epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
}

static void fail(long i) {
    conns[i].phase = DEAD;
    close(conns[i].fd);
}

/* Reads what the response has; true when it is whole. */
static int read_response(struct conn *c) {
    char buf[RESP_BUF];
    ssize_t n;

    while ((n = read(c->fd, buf, sizeof(buf))) > 0) {
        if (c->expect == 0) {
            size_t take = (size_t)n < sizeof(c->head) - 1 - c->got ? (size_t)n
                                                                   : sizeof(c->head) - 1 - c->got;
            char *end, *cl;

            memcpy(c->head + c->got, buf, take);
            c->head[c->got + take] = '\0';
            if ((end = strstr(c->head, "\r\n\r\n")) != NULL) {
                cl = strcasestr(c->head, "\r\nContent-Length:");
                c->expect = (size_t)(end + 4 - c->head) +
                            (cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
            }
        }
        c->got += (size_t)n;
        if (c->expect != 0 && c->got >= c->expect)
            return 1;
    }
    if (n == 0 || (n < 0 && errno != EAGAIN))
        return -1;
    return 0;
}

int main(int argc, char **argv) {
    struct sockaddr_in to;
    struct epoll_event evs[512];
    char req[512];
    const char *path;
    long count, next = 0, done = 0, failed = 0, pending = 0, closed = 0;
    double hold, start, t_ready;
    sigset_t sigs;
    int ep, sfd, port;

    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: idle_conns ADDR PORT COUNT HOLD_SECONDS [PATH]\n");
        return 2;
    }
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    port = atoi(argv[2]);
    count = atol(argv[3]);
    hold = atof(argv[4]);
    path = argc == 6 ? argv[5] : NULL;
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || port < 1 || port > 65535 ||
        count < 1 || count > MAX_COUNT || hold <= 0) {
        fprintf(stderr, "idle_conns: bad arguments\n");
        return 2;
    }
    to.sin_port = htons((uint16_t)port);
    if (path)
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, argv[1]);
    if (raise_nofile(count) < 0 || (conns = calloc((size_t)count, sizeof(*conns))) == NULL)
        return 1;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        perror("idle_conns: epoll/signalfd");
        return 1;
    }
    start = now_sec();

    /* Opening: keep IN_FLIGHT handshakes (and requests) going. */
    while (done + failed < count && now_sec() - start < OPEN_TIMEOUT_SEC) {
        int n;

        while (pending < IN_FLIGHT && next < count) {
            if (start_connect(ep, &to, next) < 0)
                return 1;
            next++;
            pending++;
        }
        n = epoll_wait(ep, evs, 512, 100);
        for (int k = 0; k < n; k++) {
            long i = (long)evs[k].data.u64;
            struct conn *c = &conns[i];
            int err = 0, r;
            socklen_t len = sizeof(err);

            if (c->phase == CONNECTING) {
                if (!(evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                    continue;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0 || (evs[k].events & (EPOLLERR | EPOLLHUP))) {
                    fail(i);
                    failed++;
                    pending--;
                } else if (path == NULL) {
                    go_idle(ep, i);
                    done++;
                    pending--;
                } else if (write(c->fd, req, strlen(req)) != (ssize_t)strlen(req)) {
                    fail(i);
                    failed++;
                    pending--;
                } else {
                    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)i};

                    c->phase = REQUESTING;
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            } else if (c->phase == REQUESTING) {
                if ((r = read_response(c)) > 0) {
                    go_idle(ep, i);
                    done++;
                    pending--;
                } else if (r < 0) {
                    fail(i);
                    failed++;
                    pending--;
                }
            } else if (c->phase == IDLE && (evs[k].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
                fail(i); /* closed while others were still opening */
                closed++;
            }
        }
    }
    t_ready = now_sec() - start;
    printf("ready open=%ld failed=%ld seconds=%.2f\n", done - closed,
           failed + (count - done - failed), t_ready);
    fflush(stdout);

    /* Holding: count the ones the server closes, until told to stop. */
    {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
        double until = now_sec() + hold;
        int stop = 0;

        epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
        while (!stop && now_sec() < until) {
            int n = epoll_wait(ep, evs, 512, 200);

            for (int k = 0; k < n; k++) {
                long i;

                if (evs[k].data.u64 == UINT64_MAX) {
                    stop = 1;
                    continue;
                }
                i = (long)evs[k].data.u64;
                if (conns[i].phase == IDLE) {
                    fail(i);
                    closed++;
                }
            }
        }
    }
    printf("held open=%ld closed_by_server=%ld\n", done - closed, closed);
    fflush(stdout);
    return 0;
}
