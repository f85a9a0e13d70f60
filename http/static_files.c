/*
 * static_files.c -- from a GET or HEAD to a file: the root jail, index
 * pages, the site's 404 page, validators, conditionals and ranges.
 *
 * Lookup order for a normalised path P (request_path.c made it safe):
 *   1. P itself; a directory serves P/index.html and is never listed, and
 *      is redirected to P/ first when its address lacks the slash, so that
 *      the index page's relative links resolve inside it (as nginx does);
 *   2. if P is missing and its last segment has no extension, P.html, so
 *      /hello serves hello.html (a "clean URL");
 *   3. otherwise 404, with the site's 404.html as the body when present.
 * The file is only opened here: server.c streams it as send space opens.
 */
#include <stdbool.h>
#include <string.h>

#include "http/conditional.h"
#include "http/http_date.h"
#include "http/mime.h"
#include "http/request_path.h"
#include "http/static_files.h"

/* lookup()'s answers beyond the host's: LOOKUP_BAD_TARGET, the target is
 * not a path at all; LOOKUP_ADD_SLASH, it names a directory but lacks the
 * final slash. */
#define LOOKUP_BAD_TARGET (HTTP_OPEN_ERROR + 1)
#define LOOKUP_ADD_SLASH (HTTP_OPEN_ERROR + 2)

/* Opens path, or its index page when it is a directory. */
static int open_file(const struct http_host *host, char *path, size_t cap, void **h,
                     struct http_file_info *fi)
{
    enum http_open_result res = host->open(host->ctx, path, h, fi);
    if (res != HTTP_OPEN_OK || !fi->is_dir)
        return (int)res;
    host->close(host->ctx, *h);
    size_t n = strlen(path);
    if (n > 0 && path[n - 1] != '/')
        return LOOKUP_ADD_SLASH;
    if (n + sizeof HTTP_INDEX_PAGE > cap)
        return HTTP_OPEN_NOT_FOUND;
    memcpy(path + n, HTTP_INDEX_PAGE, sizeof HTTP_INDEX_PAGE);
    res = host->open(host->ctx, path, h, fi);
    if (res == HTTP_OPEN_OK && fi->is_dir) {
        host->close(host->ctx, *h);
        return HTTP_OPEN_NOT_FOUND;
    }
    return res;
}

/* "hello" -> "hello.html" when the last segment has no dot. */
static bool try_html(char *path, size_t cap)
{
    size_t n = strlen(path);
    const char *last = strrchr(path, '/');
    last = last ? last + 1 : path;
    if (n == 0 || path[n - 1] == '/' || strchr(last, '.') || n + sizeof ".html" > cap)
        return false;
    memcpy(path + n, ".html", sizeof ".html");
    return true;
}

/* 404: the site's own page if it has one, else ours (status.c). */
static void not_found(const struct http_host *host, bool send_body, struct http_response *r)
{
    struct http_file_info fi;
    void *h;
    http_response_error(r, 404, send_body);
    if (host->open(host->ctx, HTTP_NOT_FOUND_PAGE, &h, &fi) != HTTP_OPEN_OK)
        return;
    if (fi.is_dir) {
        host->close(host->ctx, h);
        return;
    }
    r->body = NULL;
    r->file = h;
    r->length = fi.size;
    r->content_type = http_mime_type(HTTP_NOT_FOUND_PAGE);
}

/* The validators of an open file, copied into the response.  RFC 9110
 * §8.8.2.1: a modification time in the future by our clock is replaced by
 * the present, so Last-Modified is never later than the response's Date
 * (taken after this); conditions compare against the same time. */
static void set_validators(const struct http_host *host, struct http_file_info *fi,
                           struct http_response *r, struct http_validators *v)
{
    if (!fi->etag[0])
        http_file_validators(fi);  /* the host did not make them */
    memcpy(r->etag, fi->etag, sizeof r->etag);
    int64_t now = host->wall_clock(host->ctx), mtime = fi->mtime;
    if (mtime > now) {
        mtime = now;
        http_date_format(now, r->last_modified);
    } else {
        memcpy(r->last_modified, fi->last_modified, sizeof r->last_modified);
    }
    r->has_validators = true;
    *v = (struct http_validators){r->etag, mtime};
}

/* 200 or 206 with the file as content, or 416; the handle is closed when
 * the response does not use it. */
static void file_content(const struct http_host *host, const struct http_parser *req,
                         void *h, const struct http_file_info *fi, struct http_response *r,
                         const struct http_validators *v)
{
    uint64_t first = 0, last = 0;
    enum http_range_result rr = HTTP_RANGE_NONE;
    if (req->method == HTTP_METHOD_GET)  /* Range is defined for GET only (§14.2) */
        rr = http_request_range(req, v, fi->size, &first, &last);
    if (rr == HTTP_RANGE_UNSATISFIABLE) {
        host->close(host->ctx, h);
        http_response_error(r, 416, r->send_body);
        r->content_range = HTTP_CR_UNSATISFIED;
        r->full_size = fi->size;
        return;
    }
    r->status = 200;
    r->file = h;
    r->length = r->full_size = fi->size;
    r->accept_ranges = true;
    if (rr == HTTP_RANGE_OK) {
        r->status = 206;
        r->content_range = HTTP_CR_RANGE;
        r->range_first = r->offset = first;
        r->range_last = last;
        r->length = last - first + 1;
    }
}

/* Finds the file for the target: HTTP_OPEN_OK with *h open, or why not. */
static int lookup(const struct http_host *host, const struct http_parser *req,
                                    char *path, size_t cap, void **h, struct http_file_info *fi)
{
    switch (http_target_path(req->target.p, req->target.len, path, cap - HTTP_PATH_EXTRA)) {
    case HTTP_PATH_OK: break;
    case HTTP_PATH_ENCODED_SLASH: return HTTP_OPEN_NOT_FOUND;
    default: return LOOKUP_BAD_TARGET;  /* e.g. bad %-encoding, or "*": 400 */
    }
    int res = open_file(host, path, cap, h, fi);
    if (res == HTTP_OPEN_NOT_FOUND && try_html(path, cap)) {
        res = open_file(host, path, cap, h, fi);
        if (res == LOOKUP_ADD_SLASH)
            res = HTTP_OPEN_NOT_FOUND;  /* "/x" names no directory "x.html/" */
    }
    return res;
}

/* A directory asked for without its slash: 301 to the address with it,
 * built from the path as sent, and only from a plain one (request_path.h),
 * so the Location never leads off this server.  Any other spelling of a
 * directory ("//x/../docs") is not worth a redirect: 404. */
static void redirect_with_slash(const struct http_host *host, const struct http_parser *req,
                                bool send_body, struct http_response *r)
{
    const char *path, *query;
    size_t path_len, query_len;
    if (!http_target_plain_path(req->target.p, req->target.len, &path, &path_len, &query,
                                &query_len)) {
        not_found(host, send_body, r);
        return;
    }
    if (path_len + query_len + 2 > HTTP_LOCATION_MAX) {
        not_found(host, send_body, r);
        r->why = "a directory's address is too long to redirect (HTTP_LOCATION_MAX); "
                 "answered 404";
        return;
    }
    http_response_error(r, 301, send_body);
    r->location = path;  /* the query, if any, follows it after its '?' */
    r->location_path_len = (uint16_t)path_len;
    r->location_query_len = (uint16_t)query_len;
}

void http_static_plan(const struct http_host *host, const struct http_parser *req, char *path,
                      size_t cap, struct http_response *r)
{
    struct http_file_info fi;
    struct http_validators v;
    bool send_body = req->method != HTTP_METHOD_HEAD;
    void *h = NULL;
    int res = lookup(host, req, path, cap, &h, &fi);

    memset(r, 0, sizeof *r);
    if (res == LOOKUP_ADD_SLASH) {
        redirect_with_slash(host, req, send_body, r);
        return;
    }
    if (res == HTTP_OPEN_NOT_FOUND || res == HTTP_OPEN_FORBIDDEN) {
        /* Refused and missing look the same: the client learns nothing
         * about what lies outside the root. */
        not_found(host, send_body, r);
        return;
    }
    if (res != HTTP_OPEN_OK) {
        http_response_error(r, res == HTTP_OPEN_ERROR ? 500 : 400, send_body);
        r->why = res == HTTP_OPEN_ERROR ? "cannot open a file beneath the root" : NULL;
        return;
    }
    r->send_body = send_body;
    r->has_length = true;
    r->content_type = fi.content_type ? fi.content_type : http_mime_type(path);
    set_validators(host, &fi, r, &v);
    switch (http_preconditions(req, &v)) {
    case HTTP_PRECOND_FAILED:
        host->close(host->ctx, h);
        http_response_error(r, 412, send_body);
        return;
    case HTTP_PRECOND_NOT_MODIFIED:
        /* 304: the validators, no content and no Content-Length (§15.4.5). */
        host->close(host->ctx, h);
        r->status = 304;
        r->has_length = false;
        r->content_type = NULL;
        r->send_body = false;
        return;
    case HTTP_PRECOND_PASS:
        file_content(host, req, h, &fi, r, &v);
        return;
    }
}
