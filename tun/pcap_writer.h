/*
 * pcap_writer.h -- a capture of the link, both ways, in classic pcap: what
 * the kernel sent us and what we sent it, exactly as it crossed the TUN, so a
 * learner can open synackd's side of a conversation in Wireshark.
 *
 * The names are pcap_writer_*: a pcapng writer (with per-packet comments) can
 * sit beside it as pcapng_writer_* with the same shape.
 */
#ifndef SYNACK_PCAP_WRITER_H
#define SYNACK_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "stack/stack.h"

struct pcap_writer;

/* Creates path and writes the file header.  NULL after printing one line. */
struct pcap_writer *pcap_writer_open(const char *path);
/* A packet read from the TUN (incoming). */
void pcap_writer_packet(struct pcap_writer *w, const uint8_t *pkt, size_t len);
/* A packet written to the TUN (outgoing), in the pieces the stack gave it. */
void pcap_writer_slices(struct pcap_writer *w, const struct slice *parts, int nparts);
/* Pushes buffered records to the file, so a reader sees them now. */
void pcap_writer_flush(struct pcap_writer *w);
/* Flushes, closes and frees.  NULL is fine. */
void pcap_writer_close(struct pcap_writer *w);

#endif
