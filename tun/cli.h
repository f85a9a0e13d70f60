/*
 * cli.h -- synackd's command line.  Everything the daemon can be told comes in
 * here and is checked once, against the same bounds the core enforces, so the
 * rest of tun/ and the core can trust every value they are handed.
 */
#ifndef SYNACK_CLI_H
#define SYNACK_CLI_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "http/server.h"
#include "stack/stack.h"
#include "tun/impair.h"

#define CLI_DEFAULT_TUN "synack0"
#define CLI_DEFAULT_TUN_ADDR 0x0a000001u /* 10.0.0.1 */
#define CLI_DEFAULT_TUN_PREFIX 24
#define CLI_DEFAULT_PORT 80

struct cli_options {
    struct stack_config cfg;   /* the core's settings, --addr, --mtu, ... */
    char tun_name[IFNAMSIZ];   /* --tun */
    uint32_t tun_addr;         /* kernel side of the link, host order */
    unsigned tun_prefix;       /* --tun-addr's /PREFIX */
    uint16_t port;             /* --port, host order */
    char root[PATH_MAX];       /* --root; "" when the bundled site is absent */
    const char *pcap_path;     /* --pcap; NULL for no capture */
    struct impair_spec impair; /* --impair; .enabled is false without it */
    const char *trace_path;    /* --trace; "-" is stdout, NULL for none */
    struct http_config http;   /* --idle-timeout, --header-timeout, --max-... */
    const char *access_log_path; /* --access-log; "-" is stdout, NULL for none */
    uint32_t trace_ring;       /* --trace-ring: records kept for GET /trace; 0 = off */
    bool io_uring;             /* TUN I/O batched through io_uring; --no-io-uring */
    uint32_t coalesce_usec;    /* --coalesce-usec: sleep this long while busy; 0 = off */
};

/* What cli_parse() returns: run, or leave with that exit status. */
#define CLI_RUN (-1)
#define CLI_EXIT_OK 0      /* after --help or --version */
#define CLI_EXIT_FAILURE 1 /* the system could not provide the ISN key */
#define CLI_EXIT_USAGE 2   /* a bad flag */

/* Fills o from argv.  Any message is already printed when it returns. */
int cli_parse(struct cli_options *o, int argc, char **argv);

/* The usage text with every flag and its default. */
void cli_usage(FILE *out);

/* Dotted quad of a host-order address, for messages; buf is returned. */
#define IPV4_STR_LEN 16
const char *ipv4_str(uint32_t addr, char buf[IPV4_STR_LEN]);
/* Netmask (host order) of a prefix length 0..32. */
uint32_t prefix_mask(unsigned prefix);

#endif
