/*
 * site_files.h -- the real host of the HTTP server (http/http_host.h):
 * files beneath --root, kept open for a while in a small cache, the wall
 * clock, the access log and stderr.
 */
#ifndef SYNACK_SITE_FILES_H
#define SYNACK_SITE_FILES_H

#include <stdint.h>
#include <stdio.h>

#include "http/http_host.h"
#include "stack/stack.h"

/* Open files kept between requests, least recently used evicted first. */
#define SITE_FILE_CACHE_ENTRIES 64
/* How long an entry is trusted before the path is opened again and
 * compared (nginx's open_file_cache_valid): the staleness window. */
#define SITE_FILE_CACHE_VALID_USEC (1 * USEC_PER_SEC)
/* Files up to this size are kept in memory with their entry: at most
 * SITE_FILE_CACHE_ENTRIES x 16 KiB = 1 MiB. */
#define SITE_FILE_CONTENT_MAX (16 * 1024)

struct site_file; /* an open file, cached or on its way out */

struct site_cache {
    struct site_file *entry[SITE_FILE_CACHE_ENTRIES];
    uint64_t stamp;       /* ticks once per open, for least-recently-used */
    uint64_t file_opens;  /* opens tried beneath the root: misses and rechecks */
    uint64_t evictions;   /* entries pushed out by a full cache */
    uint64_t escapes;     /* paths refused for resolving outside the root */
    uint64_t open_errors; /* opens that failed for another reason */
};

struct site {
    int root_fd;              /* the served directory, O_PATH */
    FILE *access_log;         /* --access-log; NULL for none */
    int use_openat2;          /* 1 until the kernel says ENOSYS */
    usec_t (*now)(void);      /* monotonic time for the cache (tun/clock.c) */
    struct site_cache *cache; /* made by site_open() */
};

/* Opens root (and the access log, "-" for stdout).  0, or -1 after
 * printing what failed and what to do. */
int site_open(struct site *s, const char *root, const char *access_log_path);
void site_close(struct site *s);
/* The host table over s. */
struct http_host site_host(struct site *s);

#endif
