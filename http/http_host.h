/*
 * http_host.h -- everything the HTTP server needs from the operating system,
 * as a table of functions the host fills in.
 *
 * http/ is pure like stack/: it makes no system calls and reads no clock.
 * Files, wall-clock time and log lines come through this interface, which
 * synackd implements for real in tun/site_files.c (openat2 beneath the root)
 * and the unit tests implement in memory.  Monotonic time for timeouts is
 * not here: it comes from tcp_now(), the time of the event being handled.
 */
#ifndef SYNACK_HTTP_HOST_H
#define SYNACK_HTTP_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_date.h"

/* '"' + three 16-digit hex numbers + 2 '-' + '"' + NUL fits. */
#define HTTP_ETAG_LEN 64

struct trace_record; /* stack/stack.h */

/* What open() learned about a file or directory. */
struct http_file_info {
    uint64_t size;        /* bytes, for a regular file */
    int64_t mtime;        /* last modification, seconds since the Unix epoch */
    uint32_t mtime_nsec;  /* ... and nanoseconds, so the ETag sees sub-second edits */
    uint64_t inode;       /* with size and mtime, makes the ETag */
    bool is_dir;
    /* The ETag and Last-Modified values as sent, made from the fields
     * above by http_file_validators() (http/conditional.h).  A host that
     * keeps files open makes them once per file; left empty, they are made
     * for each response. */
    char etag[HTTP_ETAG_LEN];
    char last_modified[HTTP_DATE_LEN];
    /* Its media type, http_mime_type() of the path it was opened by (a
     * host that keeps files open finds it once per file); NULL: looked up
     * for each response. */
    const char *content_type;
};

enum http_open_result {
    HTTP_OPEN_OK,
    HTTP_OPEN_NOT_FOUND,  /* no such file, or not a regular file or directory */
    HTTP_OPEN_FORBIDDEN,  /* exists but would leave the root, or unreadable */
    HTTP_OPEN_ERROR,      /* anything else (out of file descriptors, I/O) */
};

struct http_host {
    /* Opens path beneath the served root.  path is already normalised by
     * http_target_path(): relative, no "." or ".." segments, no empty
     * segments, "" for the root itself.  The host must still refuse to
     * follow a symlink out of the root.  On HTTP_OPEN_OK *handle is set and
     * must be passed to close(); a directory's handle may be closed at once.
     * *info is filled whole (etag and last_modified "" when not made). */
    enum http_open_result (*open)(void *ctx, const char *path, void **handle,
                                  struct http_file_info *info);
    /* Up to len bytes at offset: the count read, 0 at end of file, -1 on
     * an error.  Called only as send space opens, so a file is streamed. */
    int64_t (*read)(void *ctx, void *handle, uint64_t offset, void *buf, size_t len);
    void (*close)(void *ctx, void *handle);
    /* Wall-clock seconds since the epoch, for Date and Last-Modified
     * comparisons (RFC 9110 §6.6.1, §13.1.3). */
    int64_t (*wall_clock)(void *ctx);
    /* One access-log line, Combined Log Format, no newline.  May be NULL. */
    void (*access_log)(void *ctx, const char *line);
    /* One line naming a bound that was hit or an error, no newline.  May be
     * NULL.  Already thinned to the 1st, 2nd, 4th, 8th ... occurrence. */
    void (*log)(void *ctx, const char *line);
    void *ctx;
    /* The recent trace, oldest record first, drawn by GET /trace
     * (http/ladder.c): how many records are held, and the i-th, valid
     * until the stack next runs.  NULL when the host keeps none; /trace is
     * then an ordinary path. */
    size_t (*trace_count)(void *trace_ctx);
    const struct trace_record *(*trace_get)(void *trace_ctx, size_t i);
    void *trace_ctx;
};

#endif
