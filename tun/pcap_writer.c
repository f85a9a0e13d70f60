/*
 * pcap_writer.c -- records every packet crossing the TUN.  Writes go through a
 * stdio buffer because a capture must not cost a syscall per packet; the
 * price is that records reach the file on flush (exit, SIGUSR1).  A failed
 * write stops the capture rather than synackd: losing the pcap must never
 * take the server down.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tun/pcap_writer.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_SNAPLEN 65535
#define PCAP_LINKTYPE_RAW 101 /* bare IPv4/IPv6, exactly what IFF_NO_PI gives */
#define PCAP_BUFFER (64 * 1024)

/* Both headers are in host byte order; readers learn it from the magic. */
struct pcap_file_header {
    uint32_t magic;
    uint16_t version_major, version_minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};

struct pcap_record_header {
    uint32_t ts_sec, ts_usec, incl_len, orig_len;
};

struct pcap_writer {
    FILE *f;
    char *path;
    bool failed;
};

static void pcap_fail(struct pcap_writer *w) {
    if (w->failed)
        return;
    w->failed = true;
    fprintf(stderr, "synackd: cannot write pcap %s: %s (capture stopped; "
            "synackd carries on)\n", w->path, strerror(errno ? errno : EIO));
}

static void pcap_write(struct pcap_writer *w, const void *p, size_t len) {
    if (w->failed || len == 0)
        return;
    errno = 0;
    if (fwrite(p, 1, len, w->f) != len)
        pcap_fail(w);
}

struct pcap_writer *pcap_writer_open(const char *path) {
    struct pcap_file_header h = {PCAP_MAGIC_USEC, PCAP_VERSION_MAJOR,
                                 PCAP_VERSION_MINOR, 0, 0, PCAP_SNAPLEN,
                                 PCAP_LINKTYPE_RAW};
    struct pcap_writer *w = calloc(1, sizeof(*w));

    if (w == NULL || (w->path = strdup(path)) == NULL) {
        fprintf(stderr, "synackd: cannot open pcap %s: out of memory\n", path);
        free(w);
        return NULL;
    }
    if ((w->f = fopen(path, "wbe")) == NULL) {
        fprintf(stderr, "synackd: cannot open pcap %s: %s (check the path and "
                "permissions)\n", path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    setvbuf(w->f, NULL, _IOFBF, PCAP_BUFFER);
    pcap_write(w, &h, sizeof(h));
    return w;
}

/* Wall-clock time, unlike the stack's: a capture is read against real dates. */
static void pcap_record_start(struct pcap_writer *w, size_t len) {
    struct pcap_record_header r;
    struct timespec ts = {0, 0};

    clock_gettime(CLOCK_REALTIME, &ts);
    r.ts_sec = (uint32_t)ts.tv_sec;
    r.ts_usec = (uint32_t)(ts.tv_nsec / 1000);
    r.incl_len = (uint32_t)(len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN);
    r.orig_len = (uint32_t)len;
    pcap_write(w, &r, sizeof(r));
}

void pcap_writer_packet(struct pcap_writer *w, const uint8_t *pkt, size_t len) {
    if (w == NULL || w->failed)
        return;
    pcap_record_start(w, len);
    pcap_write(w, pkt, len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN);
}

void pcap_writer_slices(struct pcap_writer *w, const struct slice *parts, int nparts) {
    size_t total = 0, room, n;

    if (w == NULL || w->failed)
        return;
    for (int i = 0; i < nparts; i++)
        total += parts[i].len;
    pcap_record_start(w, total);
    room = total < PCAP_SNAPLEN ? total : PCAP_SNAPLEN;
    for (int i = 0; i < nparts && room > 0; i++) {
        n = parts[i].len < room ? parts[i].len : room;
        pcap_write(w, parts[i].data, n);
        room -= n;
    }
}

void pcap_writer_flush(struct pcap_writer *w) {
    if (w == NULL || w->failed)
        return;
    errno = 0;
    if (fflush(w->f) != 0)
        pcap_fail(w);
}

void pcap_writer_close(struct pcap_writer *w) {
    if (w == NULL)
        return;
    pcap_writer_flush(w);
    errno = 0;
    if (fclose(w->f) != 0)
        pcap_fail(w);
    free(w->path);
    free(w);
}
