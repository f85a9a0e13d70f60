/*
 * pcapng_writer.h -- a capture in pcapng, the format Wireshark writes
 * itself, chosen by naming the --pcap file *.pcapng.  Unlike classic pcap
 * each packet can carry comments (Wireshark shows them in the packet list
 * and under "Packet comments"; `tshark -T fields -e frame.comment` prints
 * them) and its direction (inbound to synack, outbound from it).
 *
 * This file only encodes blocks; which packet gets which comment is
 * decided in tun/capture.c.
 */
#ifndef SYNACK_PCAPNG_WRITER_H
#define SYNACK_PCAPNG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

struct pcapng_writer;

/* One Enhanced Packet Block. */
struct pcapng_packet {
    uint64_t ts_usec;            /* wall clock, microseconds since the epoch */
    bool outbound;               /* sent by synack (else received by it) */
    const struct slice *parts;   /* an IPv4 datagram, in pieces */
    int nparts;
    const char *const *comments; /* UTF-8, one opt_comment each */
    int ncomments;
};

/* Creates path and writes the Section Header Block (naming app, e.g.
 * "synackd 0.1.0") and one Interface Description Block (raw IPv4, named
 * ifname).  NULL after printing one line saying why. */
struct pcapng_writer *pcapng_writer_open(const char *path, const char *ifname,
                                         const char *app);
void pcapng_writer_packet(struct pcapng_writer *w, const struct pcapng_packet *p);
/* Pushes buffered blocks to the file, so a reader sees them now. */
void pcapng_writer_flush(struct pcapng_writer *w);
/* Flushes, closes and frees.  NULL is fine. */
void pcapng_writer_close(struct pcapng_writer *w);

#endif
