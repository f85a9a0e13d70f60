/*
 * site_files.c -- files for the HTTP server, opened only beneath the root.
 *
 * http/request_path.c already removed "..", "." and encoded slashes from
 * the path; this is the second wall, against what a path cannot show:
 * symlinks.  openat2(2) with RESOLVE_BENEATH resolves every component
 * inside the root directory and fails with EXDEV when a symlink (or "..")
 * would leave it; RESOLVE_NO_MAGICLINKS refuses /proc-style links.  On a
 * kernel without openat2 (before 5.6, ENOSYS) the same check is made
 * after the fact: the opened file's real path, read back from
 * /proc/self/fd, must lie inside the root's.
 *
 * Opened files stay open in a small cache keyed by the normalised path, as
 * nginx's open_file_cache does: a request for a cached file costs no
 * system call until it is read (openat2, fstat, pread and close per
 * request were 25 % of synackd's CPU under keep-alive requests).  An entry is trusted for
 * SITE_FILE_CACHE_VALID_USEC; after that the path is opened again beneath
 * the root (same rules) and compared, and a different file (inode, size or
 * mtime) replaces the entry.  Every descriptor served was opened beneath
 * the root; within the window a replaced file may still be served as it
 * was (docs/http.md).  An entry a response is still reading is closed only
 * when that response closes its handle.
 *
 * A small file (up to SITE_FILE_CONTENT_MAX bytes) is also read once into
 * its entry, so serving it needs no system call at all: a 1 KiB page over
 * keep-alive cost a pread() per request, 8 % of synackd's CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "http/conditional.h"
#include "http/mime.h"
#include "stack/counters.h"
#include "tun/clock.h"
#include "tun/site_files.h"

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* One open file: the handle the HTTP server holds. */
struct site_file {
    int fd;
    struct http_file_info info;
    uint64_t dev;       /* with info.inode, which file this is */
    char *path;         /* the cache's key; NULL once out of the cache */
    uint32_t hash;      /* of path */
    uint32_t refs;      /* handles given out and not yet closed */
    usec_t checked;     /* when it was opened or last found unchanged */
    uint64_t used;      /* the cache's stamp when last handed out */
    uint8_t *bytes;     /* a small file's content, read when cached; or NULL */
};

/* The fallback: is the file behind fd inside the root? */
static int beneath_root(int root_fd, int fd) {
    char link[64], root[PATH_MAX], real[PATH_MAX];
    ssize_t n, m;
    size_t rl;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", root_fd);
    n = readlink(link, root, sizeof(root) - 1);
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    m = readlink(link, real, sizeof(real) - 1);
    if (n <= 0 || m <= 0)
        return 0;
    root[n] = real[m] = '\0';
    rl = (size_t)n;
    if (rl == 1) /* the root is "/" */
        return 1;
    return strncmp(real, root, rl) == 0 && (real[rl] == '/' || real[rl] == '\0');
}

static int open_beneath(struct site *s, const char *path) {
    const char *p = *path ? path : ".";
    struct open_how how;
    int fd;

    if (s->use_openat2) {
        memset(&how, 0, sizeof(how));
        how.flags = OPEN_FLAGS;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        fd = (int)syscall(SYS_openat2, s->root_fd, p, &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
            return fd;
        s->use_openat2 = 0;
    }
    fd = openat(s->root_fd, p, OPEN_FLAGS);
    if (fd >= 0 && !beneath_root(s->root_fd, fd)) {
        close(fd);
        errno = EXDEV;
        return -1;
    }
    return fd;
}

/* Opens path beneath the root and learns what it is, logging refusals
 * and errors; *f is filled on HTTP_OPEN_OK. */
static enum http_open_result open_fresh(struct site *s, const char *path, struct site_file *f) {
    struct stat sb;
    int fd = open_beneath(s, path);

    s->cache->file_opens++;
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG || errno == ELOOP)
            return HTTP_OPEN_NOT_FOUND;
        if (errno == EXDEV || errno == EACCES || errno == EPERM) {
            if (errno == EXDEV && counter_log_due(++s->cache->escapes))
                fprintf(stderr, "synackd: http: refused %s: it resolves outside the root "
                        "(%llu so far)\n", path, (unsigned long long)s->cache->escapes);
            return HTTP_OPEN_FORBIDDEN;
        }
        if (counter_log_due(++s->cache->open_errors))
            fprintf(stderr, "synackd: http: cannot open %s: %s (%llu so far)\n", path,
                    strerror(errno), (unsigned long long)s->cache->open_errors);
        return HTTP_OPEN_ERROR;
    }
    if (fstat(fd, &sb) != 0 || !(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))) {
        close(fd); /* devices, FIFOs and sockets are never served */
        return HTTP_OPEN_NOT_FOUND;
    }
    memset(f, 0, sizeof(*f));
    f->fd = fd;
    f->dev = (uint64_t)sb.st_dev;
    f->info.size = (uint64_t)sb.st_size;
    f->info.mtime = (int64_t)sb.st_mtim.tv_sec;
    f->info.mtime_nsec = (uint32_t)sb.st_mtim.tv_nsec;
    f->info.inode = (uint64_t)sb.st_ino;
    f->info.is_dir = S_ISDIR(sb.st_mode);
    return HTTP_OPEN_OK;
}

/* FNV-1a: cheap, and 64 entries need no better. */
static uint32_t path_hash(const char *path) {
    uint32_t h = 2166136261u;

    for (; *path; path++)
        h = (h ^ (uint8_t)*path) * 16777619u;
    return h;
}

static int cache_find(const struct site *s, const char *path, uint32_t hash) {
    for (int i = 0; i < SITE_FILE_CACHE_ENTRIES; i++) {
        const struct site_file *f = s->cache->entry[i];
        if (f && f->hash == hash && strcmp(f->path, path) == 0)
            return i;
    }
    return -1;
}

static void file_free(struct site_file *f) {
    close(f->fd);
    free(f->path);
    free(f->bytes);
    free(f);
}

/* A small regular file's content, read whole; NULL (reads then go to the
 * file) when it is larger, out of memory, or changed under the read. */
static uint8_t *read_small(const struct site_file *f) {
    size_t size = (size_t)f->info.size;
    uint8_t *b;

    if (f->info.is_dir || size == 0 || size > SITE_FILE_CONTENT_MAX || (b = malloc(size)) == NULL)
        return NULL;
    if (pread(f->fd, b, size, 0) != (ssize_t)size) {
        free(b);
        return NULL;
    }
    return b;
}

/* Takes slot i's entry out of the cache; responses still reading it keep
 * it open until they close their handles. */
static void cache_drop(struct site *s, int i) {
    struct site_file *f = s->cache->entry[i];

    s->cache->entry[i] = NULL;
    free(f->path);
    f->path = NULL;
    if (f->refs == 0)
        file_free(f);
}

/* A free slot, or the least recently used one emptied (a bound: logged). */
static int cache_slot(struct site *s) {
    int lru = 0;

    for (int i = 0; i < SITE_FILE_CACHE_ENTRIES; i++) {
        if (s->cache->entry[i] == NULL)
            return i;
        if (s->cache->entry[i]->used < s->cache->entry[lru]->used)
            lru = i;
    }
    if (counter_log_due(++s->cache->evictions))
        fprintf(stderr, "synackd: http: open-file cache full (%d files): closed the least "
                "recently used (%llu so far)\n", SITE_FILE_CACHE_ENTRIES,
                (unsigned long long)s->cache->evictions);
    cache_drop(s, lru);
    return lru;
}

/* Caches the file just opened; NULL (and closed) when out of memory. */
static struct site_file *cache_add(struct site *s, const char *path, uint32_t hash,
                                   const struct site_file *opened) {
    struct site_file *f = malloc(sizeof(*f));
    char *key = strdup(path);

    if (f == NULL || key == NULL) {
        if (counter_log_due(++s->cache->open_errors))
            fprintf(stderr, "synackd: http: out of memory caching %s (%llu so far)\n", path,
                    (unsigned long long)s->cache->open_errors);
        close(opened->fd);
        free(f);
        free(key);
        return NULL;
    }
    *f = *opened;
    f->path = key;
    f->hash = hash;
    f->bytes = read_small(f);
    http_file_validators(&f->info);  /* once per file, not per response */
    /* Once per file too: per response, the table's string compares were
     * 1.4 % of synackd's CPU under keep-alive requests. */
    f->info.content_type = http_mime_type(path);
    s->cache->entry[cache_slot(s)] = f;
    return f;
}

static int same_file(const struct site_file *a, const struct site_file *b) {
    return a->dev == b->dev && a->info.inode == b->info.inode &&
           a->info.size == b->info.size && a->info.mtime == b->info.mtime &&
           a->info.mtime_nsec == b->info.mtime_nsec && a->info.is_dir == b->info.is_dir;
}

/* The cached entry for path if it is still trusted, else opens path again:
 * an unchanged file keeps its entry, another replaces it, none drops it. */
static enum http_open_result lookup(struct site *s, const char *path, struct site_file **out) {
    uint32_t hash = path_hash(path);
    int i = cache_find(s, path, hash);
    usec_t now = s->now();
    struct site_file fresh;
    enum http_open_result res;

    *out = i >= 0 ? s->cache->entry[i] : NULL;
    if (*out != NULL && now - (*out)->checked < SITE_FILE_CACHE_VALID_USEC)
        return HTTP_OPEN_OK;
    res = open_fresh(s, path, &fresh);
    if (res == HTTP_OPEN_OK && *out != NULL && same_file(*out, &fresh)) {
        close(fresh.fd);
        (*out)->checked = now;
        return HTTP_OPEN_OK;
    }
    if (i >= 0)
        cache_drop(s, i);
    if (res != HTTP_OPEN_OK)
        return res;
    fresh.checked = now;
    *out = cache_add(s, path, hash, &fresh);
    return *out != NULL ? HTTP_OPEN_OK : HTTP_OPEN_ERROR;
}

static enum http_open_result site_open_file(void *ctx, const char *path, void **handle,
                                            struct http_file_info *info) {
    struct site *s = ctx;
    struct site_file *f;
    enum http_open_result res = lookup(s, path, &f);

    if (res != HTTP_OPEN_OK)
        return res;
    f->refs++;
    f->used = ++s->cache->stamp;
    *info = f->info;
    *handle = f;
    return HTTP_OPEN_OK;
}

static int64_t site_read(void *ctx, void *handle, uint64_t offset, void *buf, size_t len) {
    const struct site_file *f = handle;
    ssize_t n;

    (void)ctx;
    if (f->bytes != NULL) {
        if (offset >= f->info.size)
            return 0;
        if (len > f->info.size - offset)
            len = (size_t)(f->info.size - offset);
        memcpy(buf, f->bytes + offset, len);
        return (int64_t)len;
    }
    do
        n = pread(f->fd, buf, len, (off_t)offset);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Releases a handle; the file stays open while it is cached. */
static void site_close_file(void *ctx, void *handle) {
    struct site_file *f = handle;

    (void)ctx;
    if (--f->refs == 0 && f->path == NULL)
        file_free(f);
}

static int64_t site_wall_clock(void *ctx) {
    (void)ctx;
    return (int64_t)time(NULL);
}

static void site_access_log(void *ctx, const char *line) {
    struct site *s = ctx;

    if (s->access_log == NULL)
        return;
    if (fputs(line, s->access_log) == EOF || fputc('\n', s->access_log) == EOF) {
        fprintf(stderr, "synackd: cannot write the access log: %s (logging stopped)\n",
                strerror(errno));
        s->access_log = NULL;
    }
}

static void site_log(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "synackd: %s\n", line);
}

int site_open(struct site *s, const char *root, const char *access_log_path) {
    memset(s, 0, sizeof(*s));
    s->use_openat2 = 1;
    s->now = clock_now_usec;
    s->root_fd = open(*root ? root : "/nonexistent-synack-root", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0) {
        fprintf(stderr, "synackd: cannot open the site root %s: %s (pass --root DIR)\n",
                *root ? root : "(the bundled http/site was not found)", strerror(errno));
        return -1;
    }
    if (access_log_path != NULL && strcmp(access_log_path, "-") == 0) {
        s->access_log = stdout;
    } else if (access_log_path != NULL &&
               (s->access_log = fopen(access_log_path, "ae")) == NULL) {
        fprintf(stderr, "synackd: cannot open access log %s: %s (check the path and "
                "permissions)\n", access_log_path, strerror(errno));
        site_close(s);
        return -1;
    }
    if (s->access_log != NULL)
        setvbuf(s->access_log, NULL, _IOLBF, 0);
    if ((s->cache = calloc(1, sizeof(*s->cache))) == NULL) {
        fprintf(stderr, "synackd: out of memory for the open-file cache\n");
        site_close(s);
        return -1;
    }
    return 0;
}

/* After the server is gone: no response holds a file any more. */
void site_close(struct site *s) {
    for (int i = 0; s->cache != NULL && i < SITE_FILE_CACHE_ENTRIES; i++)
        if (s->cache->entry[i] != NULL)
            cache_drop(s, i);
    free(s->cache);
    s->cache = NULL;
    if (s->access_log != NULL && s->access_log != stdout)
        fclose(s->access_log);
    s->access_log = NULL;
    if (s->root_fd >= 0)
        close(s->root_fd);
    s->root_fd = -1;
}

struct http_host site_host(struct site *s) {
    return (struct http_host){.open = site_open_file, .read = site_read,
                              .close = site_close_file, .wall_clock = site_wall_clock,
                              /* NULL without a log: no line is even formatted */
                              .access_log = s->access_log != NULL ? site_access_log : NULL,
                              .log = site_log, .ctx = s};
}
