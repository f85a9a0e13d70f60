/*
 * pcapng_writer.c -- Section Header, Interface Description and Enhanced
 * Packet Blocks, as specified in draft-ietf-opsawg-pcapng (§4.1, §4.2,
 * §4.3).  Every block is: type, total length, body, options, total length
 * again, each part padded to 32 bits, all in host byte order (readers
 * learn it from the byte-order magic).  Like pcap_writer.c, writes go
 * through a stdio buffer and a failed write stops the capture, never
 * synackd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tun/pcapng_writer.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_ENDOFOPT 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_TSRESOL 9
#define OPT_EPB_FLAGS 2
#define EPB_FLAG_INBOUND 1u  /* bits 0-1: direction (§4.3.1) */
#define EPB_FLAG_OUTBOUND 2u
#define LINKTYPE_RAW 101     /* bare IPv4, what the TUN gives (IFF_NO_PI) */
#define SNAPLEN 65535
#define TSRESOL_USEC 6       /* timestamps in units of 10^-6 s */
#define WRITER_BUFFER (64 * 1024)
#define MAX_OPTION_LEN 65535

struct pcapng_writer {
    FILE *f;
    char *path;
    bool failed;
};

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static void fail(struct pcapng_writer *w) {
    if (w->failed)
        return;
    w->failed = true;
    fprintf(stderr, "synackd: cannot write pcapng %s: %s (capture stopped; "
            "synackd carries on)\n", w->path, strerror(errno ? errno : EIO));
}

static void put(struct pcapng_writer *w, const void *p, size_t len) {
    if (w->failed || len == 0)
        return;
    errno = 0;
    if (fwrite(p, 1, len, w->f) != len)
        fail(w);
}

static void put_u32(struct pcapng_writer *w, uint32_t v) { put(w, &v, 4); }

static void put_padding(struct pcapng_writer *w, size_t len) {
    static const uint8_t zeros[4];
    put(w, zeros, pad4(len) - len);
}

/* Bytes one option takes: code, length, value padded to 32 bits. */
static size_t option_size(size_t len) { return 4 + pad4(len); }

static void put_option(struct pcapng_writer *w, uint16_t code, const void *v, size_t len) {
    uint16_t hdr[2] = {code, (uint16_t)len};

    put(w, hdr, sizeof(hdr));
    put(w, v, len);
    put_padding(w, len);
}

static size_t text_len(const char *s) {
    size_t n = strlen(s);
    return n > MAX_OPTION_LEN ? MAX_OPTION_LEN : n;
}

/* §4.1: byte order, version 1.0, section length unknown (-1). */
static void put_shb(struct pcapng_writer *w, const char *app) {
    size_t alen = text_len(app);
    uint32_t total = (uint32_t)(28 + option_size(alen) + 4);
    uint16_t version[2] = {1, 0};
    int64_t section_len = -1;

    put_u32(w, BT_SHB);
    put_u32(w, total);
    put_u32(w, BYTE_ORDER_MAGIC);
    put(w, version, sizeof(version));
    put(w, &section_len, sizeof(section_len));
    put_option(w, OPT_SHB_USERAPPL, app, alen);
    put_u32(w, OPT_ENDOFOPT);
    put_u32(w, total);
}

/* §4.2: one interface, raw IPv4, microsecond timestamps. */
static void put_idb(struct pcapng_writer *w, const char *ifname) {
    size_t nlen = text_len(ifname);
    uint32_t total = (uint32_t)(20 + option_size(nlen) + option_size(1) + 4);
    uint16_t link[2] = {LINKTYPE_RAW, 0};
    uint8_t tsresol = TSRESOL_USEC;

    put_u32(w, BT_IDB);
    put_u32(w, total);
    put(w, link, sizeof(link));
    put_u32(w, SNAPLEN);
    put_option(w, OPT_IF_NAME, ifname, nlen);
    put_option(w, OPT_IF_TSRESOL, &tsresol, 1);
    put_u32(w, OPT_ENDOFOPT);
    put_u32(w, total);
}

struct pcapng_writer *pcapng_writer_open(const char *path, const char *ifname,
                                         const char *app) {
    struct pcapng_writer *w = calloc(1, sizeof(*w));

    if (w == NULL || (w->path = strdup(path)) == NULL) {
        fprintf(stderr, "synackd: cannot open pcapng %s: out of memory\n", path);
        free(w);
        return NULL;
    }
    if ((w->f = fopen(path, "wbe")) == NULL) {
        fprintf(stderr, "synackd: cannot open pcapng %s: %s (check the path and "
                "permissions)\n", path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    setvbuf(w->f, NULL, _IOFBF, WRITER_BUFFER);
    put_shb(w, app);
    put_idb(w, ifname);
    return w;
}

/* §4.3: interface 0, the timestamp in two halves, the packet, then its
 * comments and its direction as options. */
void pcapng_writer_packet(struct pcapng_writer *w, const struct pcapng_packet *p) {
    size_t len = 0, caplen, room, opts = option_size(4) + 4;
    uint32_t flags = p->outbound ? EPB_FLAG_OUTBOUND : EPB_FLAG_INBOUND, total;

    if (w == NULL || w->failed)
        return;
    for (int i = 0; i < p->nparts; i++)
        len += p->parts[i].len;
    caplen = len < SNAPLEN ? len : SNAPLEN;
    for (int i = 0; i < p->ncomments; i++)
        opts += option_size(text_len(p->comments[i]));
    total = (uint32_t)(28 + pad4(caplen) + opts + 4);
    put_u32(w, BT_EPB);
    put_u32(w, total);
    put_u32(w, 0);
    put_u32(w, (uint32_t)(p->ts_usec >> 32));
    put_u32(w, (uint32_t)p->ts_usec);
    put_u32(w, (uint32_t)caplen);
    put_u32(w, (uint32_t)len);
    room = caplen;
    for (int i = 0; i < p->nparts && room > 0; i++) {
        size_t n = p->parts[i].len < room ? p->parts[i].len : room;
        put(w, p->parts[i].data, n);
        room -= n;
    }
    put_padding(w, caplen);
    for (int i = 0; i < p->ncomments; i++)
        put_option(w, OPT_COMMENT, p->comments[i], text_len(p->comments[i]));
    put_option(w, OPT_EPB_FLAGS, &flags, 4);
    put_u32(w, OPT_ENDOFOPT);
    put_u32(w, total);
}

void pcapng_writer_flush(struct pcapng_writer *w) {
    if (w == NULL || w->failed)
        return;
    errno = 0;
    if (fflush(w->f) != 0)
        fail(w);
}

void pcapng_writer_close(struct pcapng_writer *w) {
    if (w == NULL)
        return;
    pcapng_writer_flush(w);
    errno = 0;
    if (fclose(w->f) != 0)
        fail(w);
    free(w->path);
    free(w);
}
