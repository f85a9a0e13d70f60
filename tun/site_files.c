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

#include "tun/site_files.h"

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* Log the 1st, 2nd, 4th, 8th... occurrence: visible, but never a flood. */
static int worth_logging(uint64_t count) {
    return (count & (count - 1)) == 0;
}

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

static enum http_open_result site_open_file(void *ctx, const char *path, void **handle,
                                            struct http_file_info *info) {
    struct site *s = ctx;
    struct stat sb;
    int fd = open_beneath(s, path);

    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG || errno == ELOOP)
            return HTTP_OPEN_NOT_FOUND;
        if (errno == EXDEV || errno == EACCES || errno == EPERM) {
            if (errno == EXDEV && worth_logging(++s->escapes))
                fprintf(stderr, "synackd: http: refused %s: it resolves outside the root "
                        "(%llu so far)\n", path, (unsigned long long)s->escapes);
            return HTTP_OPEN_FORBIDDEN;
        }
        if (worth_logging(++s->open_errors))
            fprintf(stderr, "synackd: http: cannot open %s: %s (%llu so far)\n", path,
                    strerror(errno), (unsigned long long)s->open_errors);
        return HTTP_OPEN_ERROR;
    }
    if (fstat(fd, &sb) != 0 || !(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))) {
        close(fd); /* devices, FIFOs and sockets are never served */
        return HTTP_OPEN_NOT_FOUND;
    }
    info->size = (uint64_t)sb.st_size;
    info->mtime = (int64_t)sb.st_mtim.tv_sec;
    info->mtime_nsec = (uint32_t)sb.st_mtim.tv_nsec;
    info->inode = (uint64_t)sb.st_ino;
    info->is_dir = S_ISDIR(sb.st_mode);
    *handle = (void *)(intptr_t)fd;
    return HTTP_OPEN_OK;
}

static int64_t site_read(void *ctx, void *handle, uint64_t offset, void *buf, size_t len) {
    ssize_t n;

    (void)ctx;
    do
        n = pread((int)(intptr_t)handle, buf, len, (off_t)offset);
    while (n < 0 && errno == EINTR);
    return n;
}

static void site_close_file(void *ctx, void *handle) {
    (void)ctx;
    close((int)(intptr_t)handle);
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
    s->use_openat2 = 1;
    s->access_log = NULL;
    s->escapes = s->open_errors = 0;
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
        close(s->root_fd);
        s->root_fd = -1;
        return -1;
    }
    if (s->access_log != NULL)
        setvbuf(s->access_log, NULL, _IOLBF, 0);
    return 0;
}

void site_close(struct site *s) {
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
                              .access_log = site_access_log, .log = site_log, .ctx = s};
}
