/*
 * cli.c -- turns argv into a checked struct cli_options before anything else
 * runs.  Every numeric flag is range-checked against the core's own limits
 * here, so a typo fails fast with one line and the usage, instead of as an
 * odd failure deep inside the stack or the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tun/cli.h"
#include "tun/trace_ring.h"
#include "tun/tun_batch.h"

#ifndef SYNACK_VERSION
#define SYNACK_VERSION "unknown" /* the Makefile always defines it */
#endif

/* Bounds the core leaves to the link; stack.h has the rest. */
#define CLI_MAX_CONNS (1u << 20)
#define CLI_MAX_BACKLOG 65535
#define CLI_MAX_MSL_SEC 3600
#define CLI_MAX_ICMP_RATE 1000000
#define CLI_MIN_RTO_MS 1
#define CLI_MAX_RTO_MS 60000           /* TCP_MAX_RTO */
#define CLI_MAX_KEEPALIVE_SEC (7 * 24 * 3600)
#define CLI_MIN_PREFIX 1
#define CLI_MAX_PREFIX 30 /* leaves room for a network, two hosts, a broadcast */
/* Bounds of the HTTP limits: below the minimums no real request fits. */
#define CLI_MIN_REQUEST_LINE 64
#define CLI_MAX_REQUEST_LINE (1024 * 1024)
#define CLI_MIN_HEADER_BYTES 256
#define CLI_MAX_HEADER_BYTES (1024 * 1024)
#define CLI_MAX_HEADERS 10000
#define CLI_MAX_BODY (1024u * 1024 * 1024)

enum {
    OPT_TUN = 256, OPT_ADDR, OPT_TUN_ADDR, OPT_PORT, OPT_ROOT, OPT_MTU,
    OPT_PCAP, OPT_TRACE, OPT_TRACE_LEVEL, OPT_MSL, OPT_MAX_CONNS, OPT_BACKLOG,
    OPT_RCV_BUF, OPT_SND_BUF, OPT_ICMP_RATE, OPT_ISN_KEY, OPT_SYNACK_RETRIES,
    OPT_MAX_RETRIES, OPT_CHALLENGE_ACK_RATE, OPT_ACCESS_LOG, OPT_IDLE_TIMEOUT,
    OPT_HEADER_TIMEOUT, OPT_MAX_REQUEST_LINE, OPT_MAX_HEADER_BYTES, OPT_MAX_HEADERS,
    OPT_MAX_BODY,
    OPT_IMPAIR,
    OPT_MIN_RTO, OPT_DELACK, OPT_INVALID_ACK, OPT_NO_NAGLE, OPT_NO_SYN_COOKIES, OPT_KEEPALIVE, OPT_USER_TIMEOUT,
    OPT_TRACE_RING, OPT_NO_OFFLOAD, OPT_NO_IO_URING, OPT_COALESCE,
};

static const struct option long_options[] = {
    {"tun", required_argument, NULL, OPT_TUN},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"tun-addr", required_argument, NULL, OPT_TUN_ADDR},
    {"port", required_argument, NULL, OPT_PORT},
    {"root", required_argument, NULL, OPT_ROOT},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"trace-ring", required_argument, NULL, OPT_TRACE_RING},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"trace-level", required_argument, NULL, OPT_TRACE_LEVEL},
    {"msl", required_argument, NULL, OPT_MSL},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"backlog", required_argument, NULL, OPT_BACKLOG},
    {"rcv-buf", required_argument, NULL, OPT_RCV_BUF},
    {"snd-buf", required_argument, NULL, OPT_SND_BUF},
    {"icmp-rate", required_argument, NULL, OPT_ICMP_RATE},
    {"isn-key", required_argument, NULL, OPT_ISN_KEY},
    {"synack-retries", required_argument, NULL, OPT_SYNACK_RETRIES},
    {"max-retries", required_argument, NULL, OPT_MAX_RETRIES},
    {"challenge-ack-rate", required_argument, NULL, OPT_CHALLENGE_ACK_RATE},
    {"access-log", required_argument, NULL, OPT_ACCESS_LOG},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"max-request-line", required_argument, NULL, OPT_MAX_REQUEST_LINE},
    {"max-header-bytes", required_argument, NULL, OPT_MAX_HEADER_BYTES},
    {"max-headers", required_argument, NULL, OPT_MAX_HEADERS},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"impair", required_argument, NULL, OPT_IMPAIR},
    {"min-rto-ms", required_argument, NULL, OPT_MIN_RTO},
    {"delack-ms", required_argument, NULL, OPT_DELACK},
    {"invalid-ack-ms", required_argument, NULL, OPT_INVALID_ACK},
    {"no-nagle", no_argument, NULL, OPT_NO_NAGLE},
    {"no-syn-cookies", no_argument, NULL, OPT_NO_SYN_COOKIES},
    {"no-offload", no_argument, NULL, OPT_NO_OFFLOAD},
    {"no-io-uring", no_argument, NULL, OPT_NO_IO_URING},
    {"coalesce-usec", required_argument, NULL, OPT_COALESCE},
    {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
    {"user-timeout", required_argument, NULL, OPT_USER_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Which defaults depend on whether a flag was given at all. */
struct seen {
    bool trace_level;
    bool isn_key;
    bool root;
};

const char *ipv4_str(uint32_t addr, char buf[IPV4_STR_LEN]) {
    snprintf(buf, IPV4_STR_LEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
             (addr >> 8) & 255, addr & 255);
    return buf;
}

uint32_t prefix_mask(unsigned prefix) {
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* --impair's part of the usage: the keys of SPEC and what each does. */
static void impair_usage(FILE *out) {
    fprintf(out,
        "  --impair SPEC         impair the link, to watch TCP recover: comma-separated\n"
        "                        KEY=VALUE, e.g. loss=5%%,reorder=10%%,dup=2%%,delay=5ms\n"
        "                        loss=P%%     drop a packet with probability P, 0..100,\n"
        "                                    decimals allowed (0.5%%)\n"
        "                        dup=P%%      deliver it twice\n"
        "                        reorder=P%%  hold it until the next packet the same\n"
        "                                    way has passed (at most %u ms more)\n"
        "                        delay=T     one-way delay, T like 5ms, 200us, 1.5s,\n"
        "                                    up to %llu s; jitter=T adds +-T, uniform\n"
        "                        seed=N      same seed, same decisions (default %d)\n"
        "                        in.KEY, out.KEY: one direction only (in: to the\n"
        "                        stack, out: from it); plain keys set both.\n"
        "                        At --trace-level 1 each drop, dup and reorder is\n"
        "                        traced (default off)\n",
        (unsigned)(IMPAIR_REORDER_HOLD_USEC / 1000),
        (unsigned long long)(IMPAIR_MAX_DELAY_USEC / USEC_PER_SEC), IMPAIR_DEFAULT_SEED);
}

void cli_usage(FILE *out) {
    char a[IPV4_STR_LEN], t[IPV4_STR_LEN];

    fprintf(out,
        "usage: synackd [options]\n"
        "Serve HTTP from synack's userspace TCP/IPv4 stack over a TUN device.\n\n"
        "  --tun NAME            TUN device to open or create (default %s)\n"
        "  --addr IP             the stack's own address (default %s)\n"
        "  --tun-addr IP/PREFIX  kernel side of the TUN and its subnet (default %s/%d)\n"
        "  --port N              TCP port to serve, 1..65535 (default %d)\n"
        "  --root DIR            directory to serve (default: the bundled site,\n"
        "                        ../http/site or ../share/synack/site from the binary)\n"
        "  --mtu N               link MTU, %d..%d; MSS is MTU-40 (default %d)\n"
        "  --pcap FILE           capture every packet both ways (default off): pcapng\n"
        "                        with a comment on each state change and retransmission\n"
        "                        when FILE ends in .pcapng, else classic pcap\n"
        "  --trace FILE|-        write trace lines to FILE, - for stdout (default off)\n"
        "  --trace-level N       0 off, 1 state changes, 2 also every segment\n"
        "                        (default 1 with --trace; alone, traces to stdout)\n"
        "  --trace-ring N        trace records kept in memory for the ladder diagrams\n"
        "                        at /trace, 0..%u; 0 turns /trace off (default %d)\n",
        CLI_DEFAULT_TUN, ipv4_str(STACK_DEFAULT_ADDR, a),
        ipv4_str(CLI_DEFAULT_TUN_ADDR, t), CLI_DEFAULT_TUN_PREFIX, CLI_DEFAULT_PORT,
        STACK_MIN_MTU, STACK_MAX_MTU, STACK_DEFAULT_MTU, TRACE_RING_MAX, TRACE_RING_DEFAULT);
    impair_usage(out);
    fprintf(out,
        "  --msl SECONDS         maximum segment lifetime, 1..%d; TIME-WAIT lasts\n"
        "                        2*MSL (default %d)\n"
        "  --max-conns N         connections in any state, 1..%u (default %d)\n"
        "  --backlog N           half-open connections per listener, 1..%d\n"
        "                        (default %d); past it, SYN cookies\n"
        "  --no-syn-cookies      past the backlog, drop SYNs instead of answering\n"
        "                        them with SYN cookies (RFC 4987)\n"
        "  --rcv-buf BYTES       receive buffer per connection, %d..%d (default %d)\n"
        "  --snd-buf BYTES       send buffer per connection, %d..%d (default %d)\n"
        "  --icmp-rate N         ICMP errors per second at most, 0..%d (default %d)\n"
        "  --isn-key HEX         32 hex digits: the RFC 6528 ISN secret, for\n"
        "                        reproducible runs (default: random per run)\n"
        "  --synack-retries N    SYN-ACK retransmissions before a half-open\n"
        "                        connection is dropped, 0..%d (default %d)\n"
        "  --max-retries N       retransmissions of data or FIN before the\n"
        "                        connection is reset, 1..%d (default %d)\n"
        "  --challenge-ack-rate N  RFC 5961 challenge ACKs per second at most,\n"
        "                        0..%d (default %d)\n",
        CLI_MAX_MSL_SEC, STACK_DEFAULT_MSL_SEC, CLI_MAX_CONNS,
        STACK_DEFAULT_MAX_CONNS, CLI_MAX_BACKLOG, STACK_DEFAULT_BACKLOG,
        STACK_MIN_BUF, STACK_MAX_BUF, STACK_DEFAULT_RCV_BUF,
        STACK_MIN_BUF, STACK_MAX_BUF, STACK_DEFAULT_SND_BUF,
        CLI_MAX_ICMP_RATE, STACK_DEFAULT_ICMP_RATE,
        STACK_MAX_RETRIES_LIMIT, STACK_DEFAULT_SYNACK_RETRIES,
        STACK_MAX_RETRIES_LIMIT, STACK_DEFAULT_MAX_RETRIES,
        CLI_MAX_ICMP_RATE, STACK_DEFAULT_CHALLENGE_ACK_RATE);
    fprintf(out,
        "  --min-rto-ms MS       lower bound on the retransmission timeout, %d..%d\n"
        "                        (default %d; RFC 6298 says 1000, see docs)\n"
        "  --delack-ms MS        longest an ACK is delayed, 0 (ACK at once)..%d\n"
        "                        (default %d)\n"
        "  --invalid-ack-ms MS   per connection, at most one ACK per MS to\n"
        "                        segments without data that fail a check (ACK-loop\n"
        "                        guard), 0 (answer each)..%d (default %d)\n"
        "  --no-nagle            send small segments at once (RFC 896 off)\n"
        "  --no-offload          one TUN write per segment, checksum computed here\n"
        "                        (default: GSO super-segments, checksum left to\n"
        "                        the kernel)\n"
        "  --no-io-uring         one system call per TUN packet (default: reads\n"
        "                        and writes batched through io_uring)\n"
        "  --coalesce-usec USEC  while packets keep coming, sleep this long and\n"
        "                        read what came, 0 (wake for each)..%d\n"
        "                        (default %d; io_uring only)\n"
        "  --keepalive SECONDS   probe a connection idle this long, 1..%d\n"
        "                        (default off)\n"
        "  --user-timeout SECONDS  reset a connection whose data stays unacked\n"
        "                        this long, 1..%d (default off: --max-retries)\n",
        CLI_MIN_RTO_MS, CLI_MAX_RTO_MS, (int)(STACK_DEFAULT_MIN_RTO / 1000),
        (int)(STACK_MAX_DELACK / 1000), (int)(STACK_DEFAULT_DELACK / 1000),
        CLI_MAX_RTO_MS, (int)(STACK_DEFAULT_INVALID_ACK_GAP / 1000),
        TUN_BATCH_MAX_COALESCE_USEC, TUN_BATCH_DEFAULT_COALESCE_USEC,
        CLI_MAX_KEEPALIVE_SEC, CLI_MAX_KEEPALIVE_SEC);
    fprintf(out,
        "  --access-log FILE|-   append one Combined Log Format line per response\n"
        "                        (default off)\n"
        "  --idle-timeout SECONDS  close a keep-alive connection quiet this long,\n"
        "                        or reset one whose client stopped reading, 1..%d\n"
        "                        (default %d)\n"
        "  --header-timeout SECONDS  answer 408 to a request whose header section is\n"
        "                        not complete this long after its first byte, 1..%d\n"
        "                        (default %d)\n"
        "  --max-request-line BYTES  longer request lines get 414, %d..%d\n"
        "                        (default %d)\n"
        "  --max-header-bytes BYTES  larger header sections get 431, %d..%d\n"
        "                        (default %d)\n"
        "  --max-headers N       more header fields get 431, 1..%d (default %d)\n"
        "  --max-body BYTES      larger request content gets 413, 0..%u (default %d)\n"
        "  -h, --help            show this help and exit\n"
        "  -V, --version         show the version and exit\n",
        HTTP_MAX_TIMEOUT_SEC, HTTP_DEFAULT_IDLE_TIMEOUT_SEC, HTTP_MAX_TIMEOUT_SEC,
        HTTP_DEFAULT_HEADER_TIMEOUT_SEC, CLI_MIN_REQUEST_LINE, CLI_MAX_REQUEST_LINE,
        HTTP_DEFAULT_MAX_REQUEST_LINE, CLI_MIN_HEADER_BYTES, CLI_MAX_HEADER_BYTES,
        HTTP_DEFAULT_MAX_HEADER_BYTES, CLI_MAX_HEADERS, HTTP_DEFAULT_MAX_HEADERS,
        CLI_MAX_BODY, HTTP_DEFAULT_MAX_BODY);
}

/* One line naming the problem, then the usage: the shape of every flag error.
 * Returns false so parsers can `return bad_flag(...)`. */
__attribute__((format(printf, 1, 2)))
static bool bad_flag(const char *fmt, ...) {
    va_list ap;

    fputs("synackd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_usage(stderr);
    return false;
}

/* strtoul() alone takes "-1", " 7" and "" as numbers; a flag must not. */
static bool parse_u32(const char *flag, const char *s, uint32_t min, uint32_t max,
                      uint32_t *out) {
    char *end;
    unsigned long long v;

    if (!isdigit((unsigned char)*s))
        return bad_flag("%s %s: not a number", flag, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0')
        return bad_flag("%s %s: not a number", flag, s);
    if (errno == ERANGE || v < min || v > max)
        return bad_flag("%s %s: must be between %u and %u", flag, s, min, max);
    *out = (uint32_t)v;
    return true;
}

static bool parse_ipv4(const char *flag, const char *s, uint32_t *out) {
    struct in_addr in;

    if (inet_pton(AF_INET, s, &in) != 1)
        return bad_flag("%s %s: not an IPv4 address like 10.0.0.2", flag, s);
    *out = ntohl(in.s_addr);
    return true;
}

static bool parse_cidr(const char *s, uint32_t *addr, unsigned *prefix) {
    char ip[IPV4_STR_LEN];
    const char *slash = strchr(s, '/');
    uint32_t p = 0;

    if (slash == NULL || (size_t)(slash - s) >= sizeof(ip))
        return bad_flag("--tun-addr %s: expected IP/PREFIX like 10.0.0.1/24", s);
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    if (!parse_ipv4("--tun-addr", ip, addr) ||
        !parse_u32("--tun-addr prefix", slash + 1, CLI_MIN_PREFIX, CLI_MAX_PREFIX, &p))
        return false;
    *prefix = p;
    return true;
}

static int hex_digit(char c) {
    return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

static bool parse_isn_key(const char *s, uint8_t key[16]) {
    size_t i;

    for (i = 0; i < 32 && isxdigit((unsigned char)s[i]); i++)
        ;
    if (i != 32 || s[i] != '\0')
        return bad_flag("--isn-key %s: expected 32 hex digits (16 bytes)", s);
    for (i = 0; i < 16; i++)
        key[i] = (uint8_t)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
    return true;
}

static bool parse_impair(const char *s, struct impair_spec *out) {
    char err[IMPAIR_ERR_LEN];

    if (!impair_parse(s, out, err, sizeof(err)))
        return bad_flag("--impair %s", err);
    return true;
}

static bool parse_tun_name(const char *s, char name[IFNAMSIZ]) {
    /* The kernel takes any name below IFNAMSIZ without '/', ':' or spaces. */
    if (*s == '\0' || strlen(s) >= IFNAMSIZ || strpbrk(s, "/: \t\n") != NULL)
        return bad_flag("--tun %s: not a valid interface name "
                        "(1..15 chars, no '/', ':' or spaces)", s);
    strcpy(name, s);
    return true;
}

static bool parse_root(const char *s, char root[PATH_MAX]) {
    struct stat sb;

    if (stat(s, &sb) != 0)
        return bad_flag("--root %s: %s", s, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return bad_flag("--root %s: not a directory", s);
    if (realpath(s, root) == NULL)
        return bad_flag("--root %s: %s", s, strerror(errno));
    return true;
}

/* The HTTP server's flags: timeouts in seconds, limits in bytes or fields. */
static bool parse_http_number(struct http_config *h, int c, const char *arg) {
    struct http_limits *lim = &h->limits;
    uint32_t v = 0;

    switch (c) {
    case OPT_IDLE_TIMEOUT:
    case OPT_HEADER_TIMEOUT:
        if (!parse_u32(c == OPT_IDLE_TIMEOUT ? "--idle-timeout" : "--header-timeout", arg, 1,
                       HTTP_MAX_TIMEOUT_SEC, &v))
            return false;
        *(c == OPT_IDLE_TIMEOUT ? &h->idle_timeout : &h->header_timeout) =
            (uint64_t)v * USEC_PER_SEC;
        return true;
    case OPT_MAX_REQUEST_LINE:
        return parse_u32("--max-request-line", arg, CLI_MIN_REQUEST_LINE, CLI_MAX_REQUEST_LINE,
                         &lim->max_request_line);
    case OPT_MAX_HEADER_BYTES:
        return parse_u32("--max-header-bytes", arg, CLI_MIN_HEADER_BYTES, CLI_MAX_HEADER_BYTES,
                         &lim->max_header_bytes);
    case OPT_MAX_HEADERS:
        return parse_u32("--max-headers", arg, 1, CLI_MAX_HEADERS, &lim->max_headers);
    case OPT_MAX_BODY:
        if (!parse_u32("--max-body", arg, 0, CLI_MAX_BODY, &v))
            return false;
        lim->max_body = v;
        return true;
    default:
        return false;
    }
}

/* The flags of TCP's timers (RFC 6298 RTO floor, delayed ACK, keep-alive,
 * user timeout): milliseconds or seconds on the command line, µs inside. */
static bool parse_tcp_timing(struct cli_options *o, int c, const char *arg) {
    struct stack_config *cfg = &o->cfg;
    uint32_t v = 0;

    switch (c) {
    case OPT_MIN_RTO:
        if (!parse_u32("--min-rto-ms", arg, CLI_MIN_RTO_MS, CLI_MAX_RTO_MS, &v))
            return false;
        cfg->min_rto = (usec_t)v * 1000;
        return true;
    case OPT_DELACK:
        if (!parse_u32("--delack-ms", arg, 0, (uint32_t)(STACK_MAX_DELACK / 1000), &v))
            return false;
        cfg->delack = (usec_t)v * 1000;
        return true;
    case OPT_INVALID_ACK:
        if (!parse_u32("--invalid-ack-ms", arg, 0, CLI_MAX_RTO_MS, &v))
            return false;
        cfg->invalid_ack_gap = (usec_t)v * 1000;
        return true;
    case OPT_KEEPALIVE:
    case OPT_USER_TIMEOUT:
        if (!parse_u32(c == OPT_KEEPALIVE ? "--keepalive" : "--user-timeout", arg, 1,
                       CLI_MAX_KEEPALIVE_SEC, &v))
            return false;
        *(c == OPT_KEEPALIVE ? &cfg->keepalive : &cfg->user_timeout) = (usec_t)v * USEC_PER_SEC;
        return true;
    default:
        return parse_http_number(&o->http, c, arg);
    }
}

/* Flags that take a plain number, and the bounds each is checked against. */
static bool parse_number(struct cli_options *o, int c, const char *arg) {
    struct stack_config *cfg = &o->cfg;
    uint32_t v = 0;

    switch (c) {
    case OPT_MTU: return parse_u32("--mtu", arg, STACK_MIN_MTU, STACK_MAX_MTU, &cfg->mtu);
    case OPT_MAX_CONNS: return parse_u32("--max-conns", arg, 1, CLI_MAX_CONNS, &cfg->max_conns);
    case OPT_BACKLOG: return parse_u32("--backlog", arg, 1, CLI_MAX_BACKLOG, &cfg->backlog);
    case OPT_RCV_BUF:
        return parse_u32("--rcv-buf", arg, STACK_MIN_BUF, STACK_MAX_BUF, &cfg->rcv_buf);
    case OPT_SND_BUF:
        return parse_u32("--snd-buf", arg, STACK_MIN_BUF, STACK_MAX_BUF, &cfg->snd_buf);
    case OPT_SYNACK_RETRIES:
        return parse_u32("--synack-retries", arg, 0, STACK_MAX_RETRIES_LIMIT,
                         &cfg->synack_retries);
    case OPT_MAX_RETRIES:
        return parse_u32("--max-retries", arg, 1, STACK_MAX_RETRIES_LIMIT, &cfg->max_retries);
    case OPT_CHALLENGE_ACK_RATE:
        return parse_u32("--challenge-ack-rate", arg, 0, CLI_MAX_ICMP_RATE,
                         &cfg->challenge_ack_rate);
    case OPT_ICMP_RATE:
        return parse_u32("--icmp-rate", arg, 0, CLI_MAX_ICMP_RATE, &cfg->icmp_rate);
    case OPT_PORT:
        if (!parse_u32("--port", arg, 1, 65535, &v))
            return false;
        o->port = (uint16_t)v;
        return true;
    case OPT_TRACE_LEVEL:
        if (!parse_u32("--trace-level", arg, TRACE_OFF, TRACE_SEGMENTS, &v))
            return false;
        cfg->trace_level = (enum trace_level)v;
        return true;
    case OPT_MSL:
        if (!parse_u32("--msl", arg, 1, CLI_MAX_MSL_SEC, &v))
            return false;
        cfg->msl = (usec_t)v * USEC_PER_SEC;
        return true;
    case OPT_TRACE_RING:
        return parse_u32("--trace-ring", arg, 0, TRACE_RING_MAX, &o->trace_ring);
    case OPT_COALESCE:
        return parse_u32("--coalesce-usec", arg, 0, TUN_BATCH_MAX_COALESCE_USEC,
                         &o->coalesce_usec);
    default:
        return parse_tcp_timing(o, c, arg);
    }
}

/* Applies one option: CLI_RUN to go on, else the exit status. */
static int apply_option(struct cli_options *o, struct seen *seen, int c,
                        const char *arg) {
    bool ok;

    switch (c) {
    case OPT_TUN: ok = parse_tun_name(arg, o->tun_name); break;
    case OPT_ADDR: ok = parse_ipv4("--addr", arg, &o->cfg.addr); break;
    case OPT_TUN_ADDR: ok = parse_cidr(arg, &o->tun_addr, &o->tun_prefix); break;
    case OPT_ROOT: seen->root = true; ok = parse_root(arg, o->root); break;
    case OPT_ISN_KEY: seen->isn_key = true; ok = parse_isn_key(arg, o->cfg.isn_key); break;
    case OPT_IMPAIR: ok = parse_impair(arg, &o->impair); break;
    case OPT_PCAP: o->pcap_path = arg; ok = true; break;
    case OPT_TRACE: o->trace_path = arg; ok = true; break;
    case OPT_NO_NAGLE: o->cfg.nagle = false; ok = true; break;
    case OPT_NO_SYN_COOKIES: o->cfg.syn_cookies = false; ok = true; break;
    case OPT_NO_OFFLOAD: o->cfg.offload = false; ok = true; break;
    case OPT_NO_IO_URING: o->io_uring = false; ok = true; break;
    case OPT_ACCESS_LOG: o->access_log_path = arg; ok = true; break;
    case 'h': cli_usage(stdout); return CLI_EXIT_OK;
    case 'V': printf("synackd %s\n", SYNACK_VERSION); return CLI_EXIT_OK;
    case '?': cli_usage(stderr); return CLI_EXIT_USAGE; /* getopt named the problem */
    default:
        seen->trace_level |= c == OPT_TRACE_LEVEL;
        ok = parse_number(o, c, arg);
        break;
    }
    return ok ? CLI_RUN : CLI_EXIT_USAGE;
}

/* The bundled site sits beside the binary in a build tree (build/../http/site)
 * and under share/ once installed; whichever exists, else none. */
static void find_bundled_site(char root[PATH_MAX]) {
    static const char *const rel[] = {"/../http/site", "/../share/synack/site"};
    char exe[PATH_MAX], path[PATH_MAX + 32];
    struct stat sb;
    ssize_t n;
    char *slash;

    root[0] = '\0';
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL)
        return;
    *slash = '\0';
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", exe, rel[i]);
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && realpath(path, root) != NULL)
            return;
        root[0] = '\0';
    }
}

/* The stack talks to the kernel across one subnet: both ends must be distinct
 * hosts in it, or the kernel would never route our replies back to the TUN. */
static bool check_addresses(const struct cli_options *o) {
    char a[IPV4_STR_LEN], t[IPV4_STR_LEN], subnet[IPV4_STR_LEN + 4];
    uint32_t mask = prefix_mask(o->tun_prefix), addr = o->cfg.addr;
    uint32_t net = o->tun_addr & mask, bcast = net | ~mask;

    ipv4_str(addr, a);
    snprintf(subnet, sizeof(subnet), "%s/%u", ipv4_str(o->tun_addr, t), o->tun_prefix);
    if (o->tun_addr == net || o->tun_addr == bcast)
        return bad_flag("--tun-addr %s: is the subnet's network or broadcast "
                        "address", subnet);
    if ((addr & mask) != net)
        return bad_flag("--addr %s: not inside the --tun-addr subnet %s", a, subnet);
    if (addr == o->tun_addr)
        return bad_flag("--addr %s: same as the --tun-addr address", a);
    if (addr == net || addr == bcast)
        return bad_flag("--addr %s: is the network or broadcast address of %s", a, subnet);
    return true;
}

/* Decisions that need every flag seen: trace defaults, addresses, secrets. */
static int finish(struct cli_options *o, const struct seen *seen) {
    if (!seen->trace_level && o->trace_path != NULL)
        o->cfg.trace_level = TRACE_STATES;
    if (o->cfg.trace_level == TRACE_OFF)
        o->trace_path = NULL;
    else if (o->trace_path == NULL)
        o->trace_path = "-";
    if (!check_addresses(o))
        return CLI_EXIT_USAGE;
    o->cfg.netmask = prefix_mask(o->tun_prefix);
    if (!seen->root)
        find_bundled_site(o->root);
    if (!seen->isn_key && getrandom(o->cfg.isn_key, sizeof(o->cfg.isn_key), 0) !=
                              (ssize_t)sizeof(o->cfg.isn_key)) {
        fprintf(stderr, "synackd: cannot read a random ISN key: %s (pass --isn-key HEX)\n",
                strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    return CLI_RUN;
}

int cli_parse(struct cli_options *o, int argc, char **argv) {
    struct seen seen = {false, false, false};
    int c, rc;

    memset(o, 0, sizeof(*o));
    stack_config_defaults(&o->cfg);
    o->cfg.trace_level = TRACE_OFF;
    o->cfg.offload = true; /* the TUN is opened with IFF_VNET_HDR unless --no-offload */
    o->io_uring = true;
    o->coalesce_usec = TUN_BATCH_DEFAULT_COALESCE_USEC;
    strcpy(o->tun_name, CLI_DEFAULT_TUN);
    o->tun_addr = CLI_DEFAULT_TUN_ADDR;
    o->tun_prefix = CLI_DEFAULT_TUN_PREFIX;
    o->port = CLI_DEFAULT_PORT;
    o->trace_ring = TRACE_RING_DEFAULT;
    http_config_defaults(&o->http);

    optind = 1;
    while ((c = getopt_long(argc, argv, "hV", long_options, NULL)) != -1) {
        if ((rc = apply_option(o, &seen, c, optarg)) != CLI_RUN)
            return rc;
    }
    if (optind < argc) {
        bad_flag("%s: unexpected argument", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    return finish(o, &seen);
}
