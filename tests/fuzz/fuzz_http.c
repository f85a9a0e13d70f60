/*
 * fuzz_http.c -- libFuzzer target for the HTTP request parser and what
 * reads its results.
 *
 * The first byte of an input picks how the rest is cut into pieces (1..16
 * bytes, or all at once), since TCP may deliver a request in any pieces;
 * the parser must give the same answer however it is fed, and this target
 * checks that it does.  Each request that parses is then routed through
 * the static-file planner on an in-memory host, which exercises target
 * normalisation, the conditional headers, Range and If-Range, and the
 * access-log line.  Run with `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/access_log.h"
#include "http/request_parser.h"
#include "http/static_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char file_data[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static enum http_open_result mem_open(void *ctx, const char *path, void **h,
                                      struct http_file_info *fi)
{
    (void)ctx;
    if (strcmp(path, "") == 0 || strcmp(path, "dir") == 0 || strcmp(path, "dir/") == 0) {
        *fi = (struct http_file_info){.mtime = 1000, .inode = 1, .is_dir = true};
    } else if (strcmp(path, "index.html") == 0 || strcmp(path, "a.txt") == 0 ||
               strcmp(path, "404.html") == 0) {
        *fi = (struct http_file_info){.size = sizeof file_data - 1, .mtime = 784111777,
                                      .mtime_nsec = 5, .inode = 2};
    } else {
        return path[0] == 'x' ? HTTP_OPEN_FORBIDDEN : HTTP_OPEN_NOT_FOUND;
    }
    *h = (void *)file_data;
    return HTTP_OPEN_OK;
}

static int64_t mem_read(void *ctx, void *h, uint64_t off, void *buf, size_t len)
{
    (void)ctx;
    (void)h;
    (void)off;
    (void)buf;
    return (int64_t)len;
}

static void mem_close(void *ctx, void *h)
{
    (void)ctx;
    (void)h;
}

static int64_t mem_clock(void *ctx)
{
    (void)ctx;
    return 784111777;
}

static const struct http_host host = {.open = mem_open, .read = mem_read, .close = mem_close,
                                      .wall_clock = mem_clock};

/* Feeds everything, in pieces of `piece` bytes (0: all at once), parsing
 * request after request as a pipelining server would.  Returns a digest of
 * the outcomes so two feedings can be compared. */
static uint64_t run(const char *in, size_t len, size_t piece, bool plan)
{
    static const struct http_limits lim = {512, 2048, 16, 4096};
    struct http_parser p;
    uint64_t digest = 0;
    size_t at = 0;
    if (http_parser_init(&p, &lim) != 0)
        return 0;
    while (at < len) {
        size_t n = piece && len - at > piece ? piece : len - at;
        at += http_parser_feed(&p, in + at, n);
        if (p.state == HTTP_PARSE_ERROR) {
            digest = digest * 31 + (uint64_t)p.error;
            break;
        }
        if (p.state != HTTP_PARSE_DONE)
            continue;
        digest = digest * 31 + (uint64_t)p.method * 7 + p.body_bytes + p.keep_alive;
        if (plan) {
            char path[512 + HTTP_PATH_EXTRA], line[HTTP_ACCESS_LOG_LINE];
            struct http_response r;
            http_static_plan(&host, &p, path, sizeof path, &r);
            http_access_log_line(line, sizeof line, 0x0a000001, 0, &p, r.status, r.length);
        }
        http_parser_reset(&p);
    }
    http_parser_free(&p);
    return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = data[0] % 17;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    uint64_t a = run(in, len, piece, true);
    uint64_t b = run(in, len, 0, false);
    if (a != b)
        abort();  /* the answer depended on how the bytes were cut */
    return 0;
}
