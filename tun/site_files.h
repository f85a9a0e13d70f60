/*
 * site_files.h -- the real host of the HTTP server (http/http_host.h):
 * files beneath --root, the wall clock, the access log and stderr.
 */
#ifndef SYNACK_SITE_FILES_H
#define SYNACK_SITE_FILES_H

#include <stdint.h>
#include <stdio.h>

#include "http/http_host.h"

struct site {
    int root_fd;          /* the served directory, O_PATH */
    FILE *access_log;     /* --access-log; NULL for none */
    int use_openat2;      /* 1 until the kernel says ENOSYS */
    uint64_t escapes;     /* paths refused for resolving outside the root */
    uint64_t open_errors; /* opens that failed for another reason */
};

/* Opens root (and the access log, "-" for stdout).  0, or -1 after
 * printing what failed and what to do. */
int site_open(struct site *s, const char *root, const char *access_log_path);
void site_close(struct site *s);
/* The host table over s. */
struct http_host site_host(struct site *s);

#endif
