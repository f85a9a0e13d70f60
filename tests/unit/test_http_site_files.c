/*
 * test_http_site_files.c -- synackd's real host (tun/site_files.c) on a
 * temporary directory, with a test clock: the open-file cache hands out a
 * cached file without opening it again, trusts it for
 * SITE_FILE_CACHE_VALID_USEC, then sees replaced, deleted and escaping
 * files; it stays within SITE_FILE_CACHE_ENTRIES and closes a file a
 * response still reads only when that response lets go.
 */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "tun/site_files.h"

static usec_t fake;
static char dir[64];
static struct site site;
static struct http_host host;

static usec_t fake_now(void)
{
    return fake;
}

static void put_file(const char *name, const char *content)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Descriptors this process has open. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void *open_ok(const char *path, struct http_file_info *fi)
{
    void *h = NULL;
    ck_assert_int_eq(host.open(host.ctx, path, &h, fi), HTTP_OPEN_OK);
    return h;
}

/* The whole content behind h, as a string. */
static const char *content(void *h)
{
    static char buf[64];
    int64_t n = host.read(host.ctx, h, 0, buf, sizeof buf - 1);
    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
    return buf;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/synack-site.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(site_open(&site, dir, NULL), 0);
    site.now = fake_now;
    host = site_host(&site);
    fake = 1000 * USEC_PER_SEC;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    site_close(&site);
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(cached_until_rechecked)
{
    struct http_file_info fi;
    setup();
    put_file("a.txt", "one");
    void *h = open_ok("a.txt", &fi);
    ck_assert_uint_eq(fi.size, 3);
    ck_assert_int_eq(fi.etag[0], '"');  /* validators made once, with the entry */
    ck_assert_uint_eq(strlen(fi.last_modified), HTTP_DATE_LEN - 1);
    ck_assert_str_eq(fi.content_type, "text/plain; charset=utf-8"); /* found once too */
    ck_assert_str_eq(content(h), "one");
    host.close(host.ctx, h);
    ck_assert_ptr_eq(open_ok("a.txt", &fi), h);  /* a hit: not opened again */
    ck_assert_uint_eq(site.cache->file_opens, 1);

    /* Replaced the way deploy tools do it: a new file renamed over it. */
    put_file("a.new", "second");
    char from[128], to[128];
    snprintf(from, sizeof from, "%s/a.new", dir);
    snprintf(to, sizeof to, "%s/a.txt", dir);
    ck_assert_int_eq(rename(from, to), 0);
    fake += SITE_FILE_CACHE_VALID_USEC - 1;  /* still trusted: the old file */
    void *old = open_ok("a.txt", &fi);
    ck_assert_ptr_eq(old, h);
    ck_assert_uint_eq(fi.size, 3);
    host.close(host.ctx, h);
    ck_assert_uint_eq(site.cache->file_opens, 1);

    fake += 1;  /* rechecked: the new file replaces the entry */
    int fds = open_fds();
    void *now_h = open_ok("a.txt", &fi);
    ck_assert_ptr_ne(now_h, old);
    ck_assert_uint_eq(fi.size, 6);
    ck_assert_str_eq(content(now_h), "second");
    ck_assert_str_eq(content(old), "one");  /* a response still reading it */
    ck_assert_int_eq(open_fds(), fds + 1);
    host.close(host.ctx, old);  /* its last handle: now it is closed */
    ck_assert_int_eq(open_fds(), fds);
    ck_assert_uint_eq(site.cache->file_opens, 2);

    fake += SITE_FILE_CACHE_VALID_USEC;  /* rechecked and unchanged: kept */
    ck_assert_ptr_eq(open_ok("a.txt", &fi), now_h);
    ck_assert_int_eq(open_fds(), fds);
    ck_assert_uint_eq(site.cache->file_opens, 3);
    host.close(host.ctx, now_h);
    host.close(host.ctx, now_h);
    teardown();
}
END_TEST

START_TEST(recheck_keeps_the_jail_and_404s)
{
    struct http_file_info fi;
    char path[128];
    setup();
    put_file("b.txt", "inside");
    put_file("c.txt", "gone soon");
    int fds = open_fds();
    host.close(host.ctx, open_ok("b.txt", &fi));
    host.close(host.ctx, open_ok("c.txt", &fi));
    host.close(host.ctx, open_ok("", &fi));  /* the root itself: a directory */
    ck_assert(fi.is_dir);
    ck_assert_int_eq(open_fds(), fds + 3);

    snprintf(path, sizeof path, "%s/b.txt", dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof path, "%s/c.txt", dir);
    ck_assert_int_eq(unlink(path), 0);
    void *h = open_ok("b.txt", &fi);  /* within the window: the file it was */
    ck_assert_str_eq(content(h), "inside");
    host.close(host.ctx, h);

    fake += SITE_FILE_CACHE_VALID_USEC;
    void *none = NULL;
    ck_assert_int_eq(host.open(host.ctx, "b.txt", &none, &fi), HTTP_OPEN_FORBIDDEN);
    ck_assert_int_eq(host.open(host.ctx, "c.txt", &none, &fi), HTTP_OPEN_NOT_FOUND);
    ck_assert_int_eq(host.open(host.ctx, "missing", &none, &fi), HTTP_OPEN_NOT_FOUND);
    ck_assert_ptr_null(none);
    ck_assert_uint_eq(site.cache->escapes, 1);
    ck_assert_int_eq(open_fds(), fds + 1);  /* only the directory is still cached */
    teardown();
}
END_TEST

START_TEST(bounded_least_recently_used)
{
    struct http_file_info fi;
    char name[16];
    setup();
    for (int i = 0; i <= SITE_FILE_CACHE_ENTRIES; i++) {
        snprintf(name, sizeof name, "f%d", i);
        put_file(name, name);
    }
    int fds = open_fds();
    void *first = open_ok("f0", &fi);  /* held by a response throughout */
    for (int i = 1; i <= SITE_FILE_CACHE_ENTRIES; i++) {
        snprintf(name, sizeof name, "f%d", i);
        host.close(host.ctx, open_ok(name, &fi));
    }
    /* f0 was the least recently used: out of the cache, still open. */
    ck_assert_uint_eq(site.cache->evictions, 1);
    ck_assert_int_eq(open_fds(), fds + SITE_FILE_CACHE_ENTRIES + 1);
    ck_assert_str_eq(content(first), "f0");
    host.close(host.ctx, first);
    ck_assert_int_eq(open_fds(), fds + SITE_FILE_CACHE_ENTRIES);

    uint64_t opens = site.cache->file_opens;
    host.close(host.ctx, open_ok("f0", &fi));  /* a miss, which evicts f1 */
    ck_assert_uint_eq(site.cache->file_opens, opens + 1);
    ck_assert_uint_eq(site.cache->evictions, 2);
    host.close(host.ctx, open_ok("f64", &fi));  /* a hit */
    host.close(host.ctx, open_ok("f2", &fi));
    ck_assert_uint_eq(site.cache->file_opens, opens + 1);
    ck_assert_int_eq(open_fds(), fds + SITE_FILE_CACHE_ENTRIES);
    teardown();
    ck_assert_int_eq(open_fds(), fds - 1);  /* and site_close() closed the rest, and the root */
}
END_TEST

/* A small file's content is read once, when cached: reads come from
 * memory (here, truncating the file on disk inside the trust window does
 * not shorten what is served), a larger file is read from disk each time,
 * and an out-of-range offset reads nothing. */
START_TEST(small_file_content_served_from_memory)
{
    struct http_file_info fi;
    char big[SITE_FILE_CONTENT_MAX + 2];
    setup();
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    put_file("small.txt", "small content");
    put_file("big.txt", big);
    void *hs = open_ok("small.txt", &fi);
    void *hb = open_ok("big.txt", &fi);
    char path[128];
    snprintf(path, sizeof path, "%s/small.txt", dir);
    ck_assert_int_eq(truncate(path, 2), 0);
    snprintf(path, sizeof path, "%s/big.txt", dir);
    ck_assert_int_eq(truncate(path, 2), 0);
    ck_assert_str_eq(content(hs), "small content");
    ck_assert_str_eq(content(hb), "bb");
    char one[4];
    ck_assert_int_eq(host.read(host.ctx, hs, 6, one, sizeof one), 4);
    ck_assert_mem_eq(one, "cont", 4);
    ck_assert_int_eq(host.read(host.ctx, hs, 13, one, sizeof one), 0);
    host.close(host.ctx, hs);
    host.close(host.ctx, hb);
    /* Past the window the change is seen: a new entry with the new bytes. */
    fake += SITE_FILE_CACHE_VALID_USEC;
    hs = open_ok("small.txt", &fi);
    ck_assert_uint_eq(fi.size, 2);
    ck_assert_str_eq(content(hs), "sm");
    host.close(host.ctx, hs);
    teardown();
}
END_TEST

Suite *http_site_files_suite(void)
{
    Suite *s = suite_create("http_site_files");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, cached_until_rechecked);
    tcase_add_test(tc, recheck_keeps_the_jail_and_404s);
    tcase_add_test(tc, bounded_least_recently_used);
    tcase_add_test(tc, small_file_content_served_from_memory);
    suite_add_tcase(s, tc);
    return s;
}
