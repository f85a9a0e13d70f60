/*
 * conditional.c -- the decisions that make a reload cheap: entity tags,
 * If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since in
 * RFC 9110 §13.2.2's order, and single byte ranges with If-Range (§14).
 *
 * A browser that reloads the synack page sends If-None-Match with the
 * ETag it saw and If-Modified-Since with the Last-Modified; the 304 it
 * gets back carries no content, which is the seed lab's "CSS and logo
 * 304 on reload".
 */
#include <stdio.h>
#include <string.h>

#include "http/conditional.h"
#include "http/http_date.h"

void http_file_validators(struct http_file_info *fi)
{
    /* Strong: any change of content changes size or mtime (to the
     * nanosecond), and a replaced file gets a new inode.  nginx and Apache
     * build theirs the same way. */
    uint64_t ns = (uint64_t)fi->mtime * 1000000000u + fi->mtime_nsec;
    snprintf(fi->etag, sizeof fi->etag, "\"%llx-%llx-%llx\"", (unsigned long long)fi->inode,
             (unsigned long long)fi->size, (unsigned long long)ns);
    http_date_format(fi->mtime, fi->last_modified);
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (§8.8.3).  Reads one from
 * s[*pos], skipping list commas and OWS; false at the end or on garbage. */
static bool next_etag(struct http_str s, size_t *pos, struct http_str *opaque, bool *weak)
{
    size_t i = *pos;
    while (i < s.len && (s.p[i] == ',' || s.p[i] == ' ' || s.p[i] == '\t'))
        i++;
    if (i >= s.len)
        return false;
    *weak = s.len - i >= 2 && s.p[i] == 'W' && s.p[i + 1] == '/';
    if (*weak)
        i += 2;
    if (i >= s.len || s.p[i] != '"')
        return false;
    const char *close = memchr(s.p + i + 1, '"', s.len - i - 1);
    if (!close)
        return false;
    *opaque = (struct http_str){s.p + i, (size_t)(close + 1 - (s.p + i))};
    *pos = (size_t)(close + 1 - s.p);
    return true;
}

bool http_etag_list_match(struct http_str list, const char *etag, bool strong)
{
    struct http_str tag;
    size_t pos = 0;
    bool weak;
    if (list.len == 1 && list.p[0] == '*')
        return true;  /* "any current representation" (§13.1.1, §13.1.2) */
    while (next_etag(list, &pos, &tag, &weak)) {
        if (strong && weak)
            continue;  /* a weak tag never matches strongly */
        if (tag.len == strlen(etag) && memcmp(tag.p, etag, tag.len) == 0)
            return true;
    }
    return false;
}

/* A field that may be split over several lines matches if any line does. */
static bool any_line_matches(const struct http_parser *p, const char *name, const char *etag,
                             bool strong)
{
    struct http_str v;
    for (unsigned n = 0; http_field_get(p, name, n, &v); n++)
        if (http_etag_list_match(v, etag, strong))
            return true;
    return false;
}

/* A date field is used only when it is one valid HTTP-date (§13.1.3, §13.1.4). */
static bool single_date(const struct http_parser *p, const char *name, int64_t *t)
{
    struct http_str v;
    return http_field_count(p, name) == 1 && http_field_get(p, name, 0, &v) &&
           http_date_parse(v.p, v.len, t);
}

enum http_precondition http_preconditions(const struct http_parser *p,
                                          const struct http_validators *v)
{
    int64_t t;
    /* Step 1-2: If-Match, else If-Unmodified-Since; false means 412. */
    if (http_field_count(p, "If-Match") > 0) {
        if (!any_line_matches(p, "If-Match", v->etag, true))
            return HTTP_PRECOND_FAILED;
    } else if (single_date(p, "If-Unmodified-Since", &t) && v->last_modified > t) {
        return HTTP_PRECOND_FAILED;
    }
    /* Step 3-4: If-None-Match (weak comparison), else If-Modified-Since;
     * for GET and HEAD a "not modified" answer is 304. */
    if (http_field_count(p, "If-None-Match") > 0)
        return any_line_matches(p, "If-None-Match", v->etag, false) ? HTTP_PRECOND_NOT_MODIFIED
                                                                    : HTTP_PRECOND_PASS;
    if (single_date(p, "If-Modified-Since", &t) && v->last_modified <= t)
        return HTTP_PRECOND_NOT_MODIFIED;
    return HTTP_PRECOND_PASS;
}

/* A run of digits as a number; false on none.  A number past 2^64 - 1
 * stays there: it lies past the end of any file, which is what it means
 * (§14.1.2: a last-pos past the end is the end; a first-pos there, 416). */
static bool parse_pos(const char *s, size_t len, uint64_t *v)
{
    if (len == 0)
        return false;
    *v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        *v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
    }
    return true;
}

/* One range-spec: int-range "first-[last]" or suffix-range "-length". */
static enum http_range_result one_range(struct http_str r, uint64_t size, uint64_t *first,
                                        uint64_t *last)
{
    const char *dash = memchr(r.p, '-', r.len);
    uint64_t a, b;
    if (!dash)
        return HTTP_RANGE_NONE;
    size_t alen = (size_t)(dash - r.p), blen = r.len - alen - 1;
    if (alen == 0) {  /* the last b bytes */
        if (!parse_pos(dash + 1, blen, &b))
            return HTTP_RANGE_NONE;
        if (b == 0 || size == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return HTTP_RANGE_OK;
    }
    if (!parse_pos(r.p, alen, &a) || (blen && !parse_pos(dash + 1, blen, &b)))
        return HTTP_RANGE_NONE;
    if (blen && b < a)
        return HTTP_RANGE_NONE;  /* invalid: last-pos below first-pos (§14.1.2) */
    if (a >= size)
        return HTTP_RANGE_UNSATISFIABLE;
    *first = a;
    *last = !blen || b >= size ? size - 1 : b;
    return HTTP_RANGE_OK;
}

enum http_range_result http_parse_range(struct http_str value, uint64_t size, uint64_t *first,
                                        uint64_t *last)
{
    struct http_str spec;
    size_t pos = 0;
    if (value.len < 6 || !http_str_ieq((struct http_str){value.p, 6}, "bytes="))
        return HTTP_RANGE_NONE;  /* another unit, or not a range: ignore it (§14.2) */
    struct http_str set = {value.p + 6, value.len - 6};
    if (!http_list_next(set, &pos, &spec))
        return HTTP_RANGE_NONE;
    struct http_str more;
    size_t pos2 = pos;
    if (http_list_next(set, &pos2, &more)) {
        /* Several ranges would need multipart/byteranges.  §14.2 lets a
         * server ignore Range; synack answers 200 with everything. */
        return HTTP_RANGE_MULTIPLE;
    }
    return one_range(spec, size, first, last);
}

bool http_if_range_holds(struct http_str value, const struct http_validators *v)
{
    int64_t t;
    bool weak = value.len > 1 && value.p[0] == 'W' && value.p[1] == '/';
    if (weak || (value.len > 0 && value.p[0] == '"'))
        /* One entity-tag, compared strongly: a weak one never matches. */
        return value.len == strlen(v->etag) && memcmp(value.p, v->etag, value.len) == 0;
    /* A date must match Last-Modified exactly (§13.1.5). */
    return http_date_parse(value.p, value.len, &t) && t == v->last_modified;
}

enum http_range_result http_request_range(const struct http_parser *p,
                                          const struct http_validators *v, uint64_t size,
                                          uint64_t *first, uint64_t *last)
{
    struct http_str range, if_range;
    unsigned n = http_field_count(p, "Range");
    if (n == 0)
        return HTTP_RANGE_NONE;
    if (n > 1)
        return HTTP_RANGE_MULTIPLE;  /* two Range lines are a list (§5.3) */
    http_field_get(p, "Range", 0, &range);
    if (http_field_get(p, "If-Range", 0, &if_range) && !http_if_range_holds(if_range, v))
        return HTTP_RANGE_NONE;  /* the representation changed: send it all */
    return http_parse_range(range, size, first, last);
}
