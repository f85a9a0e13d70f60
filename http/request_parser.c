/*
 * request_parser.c -- RFC 9112 request parsing, one byte at a time.
 *
 * TCP hands the server bytes in whatever pieces the segments made, so the
 * parser is a state machine that never needs more than the byte in front
 * of it: it stores the request line and field lines in one fixed buffer
 * (bounded by the limits), checks each line as its LF arrives, and then
 * reads the body by Content-Length or chunked coding only to discard it --
 * no method synack serves gives request content a meaning.
 *
 * Strictness, each from RFC 9112: CRLF ends a line, a bare LF is accepted
 * (§2.2), a bare CR is an error (§2.2); no whitespace between a field name
 * and its colon (§5.1); no obs-fold (§5.2); Transfer-Encoding with
 * Content-Length, or conflicting Content-Lengths, are 400 (§6.1, §6.3);
 * HTTP/1.1 needs exactly one Host (§3.2).
 */
#include <stdlib.h>
#include <string.h>

#include "http/request_parser.h"

/* +2: the request line's own CRLF is not counted by its limit. */
static uint32_t buf_cap(const struct http_limits *lim)
{
    return lim->max_request_line + 2 + lim->max_header_bytes;
}

static uint32_t field_slots(const struct http_limits *lim)
{
    return lim->max_headers ? lim->max_headers : 1;
}

size_t http_parser_bytes(const struct http_limits *lim)
{
    return buf_cap(lim) + field_slots(lim) * sizeof(struct http_field);
}

int http_parser_init(struct http_parser *p, const struct http_limits *lim)
{
    memset(p, 0, sizeof *p);
    p->lim = *lim;
    p->cap = buf_cap(lim);
    p->buf = malloc(p->cap);
    p->fields = calloc(field_slots(lim), sizeof *p->fields);
    if (!p->buf || !p->fields) {
        http_parser_free(p);
        return -1;
    }
    http_parser_reset(p);
    return 0;
}

void http_parser_free(struct http_parser *p)
{
    free(p->buf);
    free(p->fields);
    p->buf = NULL;
    p->fields = NULL;
}

void http_parser_reset(struct http_parser *p)
{
    struct http_limits lim = p->lim;
    char *buf = p->buf;
    struct http_field *fields = p->fields;
    uint32_t cap = p->cap;
    memset(p, 0, sizeof *p);
    p->lim = lim;
    p->buf = buf;
    p->fields = fields;
    p->cap = cap;
    p->state = HTTP_PARSE_START;
}

bool http_parser_head_done(const struct http_parser *p)
{
    return p->state >= HTTP_PARSE_BODY && p->state != HTTP_PARSE_ERROR;
}

static void fail(struct http_parser *p, int status, const char *why)
{
    p->state = HTTP_PARSE_ERROR;
    p->error = status;
    p->why = why;
}

/* --- character classes (RFC 9110 §5.6.2, §5.5) ---------------------------- */

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* field-vchar / SP / HTAB; obs-text (0x80-0xff) is kept as opaque data. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2): unreserved,
 * pct-encoded and sub-delims, the brackets of an IP-literal, the colon;
 * no userinfo ('@') and nothing that ends an authority. */
static bool is_host_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("-._~!$&'()*+,;=%:[]", c) != NULL);
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

bool http_str_ieq(struct http_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = s.p[i], b = lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

bool http_list_next(struct http_str list, size_t *pos, struct http_str *item)
{
    while (*pos < list.len) {
        size_t start = *pos, end;
        while (*pos < list.len && list.p[*pos] != ',')
            (*pos)++;
        end = *pos;
        if (*pos < list.len)
            (*pos)++;  /* past the comma */
        while (start < end && is_ows(list.p[start]))
            start++;
        while (end > start && is_ows(list.p[end - 1]))
            end--;
        if (end > start) {
            *item = (struct http_str){list.p + start, end - start};
            return true;
        }
    }
    return false;
}

/* Methods are case-sensitive (RFC 9110 §9.1): "get" is unknown. */
enum http_method http_method_from(const char *s, size_t len)
{
    static const struct { const char *name; enum http_method m; } known[] = {
        {"GET", HTTP_METHOD_GET},         {"HEAD", HTTP_METHOD_HEAD},
        {"OPTIONS", HTTP_METHOD_OPTIONS}, {"POST", HTTP_METHOD_POST},
        {"PUT", HTTP_METHOD_PUT},         {"DELETE", HTTP_METHOD_DELETE},
        {"CONNECT", HTTP_METHOD_CONNECT}, {"TRACE", HTTP_METHOD_TRACE},
        {"PATCH", HTTP_METHOD_PATCH},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].name) == len && memcmp(known[i].name, s, len) == 0)
            return known[i].m;
    return HTTP_METHOD_UNKNOWN;
}

/* --- the request line (RFC 9112 §3) ---------------------------------------- */

/* HTTP-version = "HTTP/" DIGIT "." DIGIT (§2.3).  A higher minor version
 * is served as 1.1 (RFC 9110 §2.5); another major version gets 505. */
static bool parse_version(struct http_parser *p, const char *v, size_t n)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9') {
        fail(p, 400, "malformed HTTP version in the request line");
        return false;
    }
    if (v[5] != '1') {
        fail(p, 505, "unsupported HTTP major version");
        return false;
    }
    p->version_minor = v[7] == '0' ? 0 : 1;
    return true;
}

/* method SP request-target SP HTTP-version: single spaces, nothing else. */
static void request_line(struct http_parser *p, uint32_t len)
{
    const char *l = p->buf;
    const char *sp1 = memchr(l, ' ', len), *sp2;
    if (!sp1 || sp1 == l) {
        fail(p, 400, "request line is not 'METHOD TARGET HTTP/1.1'");
        return;
    }
    sp2 = memchr(sp1 + 1, ' ', (size_t)(l + len - sp1 - 1));
    if (!sp2 || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', (size_t)(l + len - sp2 - 1))) {
        fail(p, 400, "request line is not 'METHOD TARGET HTTP/1.1'");
        return;
    }
    for (const char *c = l; c < sp1; c++)
        if (!is_tchar((unsigned char)*c)) {
            fail(p, 400, "method is not a token");
            return;
        }
    for (const char *c = sp1 + 1; c < sp2; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
            fail(p, 400, "request target holds a control, space or non-ASCII byte");
            return;
        }
    p->method_str = (struct http_str){l, (size_t)(sp1 - l)};
    p->target = (struct http_str){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    p->method = http_method_from(l, p->method_str.len);
    if (!parse_version(p, sp2 + 1, (size_t)(l + len - sp2 - 1)))
        return;
    p->request_line_len = len;
    p->state = HTTP_PARSE_FIELD_LINE;
}

/* --- field lines (RFC 9112 §5) ---------------------------------------------- */

static void field_line(struct http_parser *p, uint32_t start, uint32_t len)
{
    const char *l = p->buf + start;
    if (is_ows(l[0])) {
        fail(p, 400, "obsolete line folding (RFC 9112 §5.2)");
        return;
    }
    const char *colon = memchr(l, ':', len);
    if (!colon || colon == l) {
        fail(p, 400, "field line without 'name:'");
        return;
    }
    for (const char *c = l; c < colon; c++)
        if (!is_tchar((unsigned char)*c)) {
            fail(p, 400, is_ows(*c) ? "whitespace before a field's colon (RFC 9112 §5.1)"
                                    : "field name is not a token");
            return;
        }
    uint32_t v = (uint32_t)(colon + 1 - p->buf), e = start + len;
    while (v < e && is_ows(p->buf[v]))
        v++;
    while (e > v && is_ows(p->buf[e - 1]))
        e--;
    for (uint32_t i = v; i < e; i++)
        if (!is_field_char((unsigned char)p->buf[i])) {
            fail(p, 400, "control character in a field value");
            return;
        }
    if (p->nfields == p->lim.max_headers) {
        fail(p, 431, "too many header fields (--max-headers)");
        return;
    }
    p->fields[p->nfields++] = (struct http_field){start, (uint32_t)(colon - l), v, e - v};
}

bool http_field_get(const struct http_parser *p, const char *name, unsigned n,
                    struct http_str *value)
{
    for (uint32_t i = 0; i < p->nfields; i++) {
        const struct http_field *f = &p->fields[i];
        struct http_str fname = {p->buf + f->name_off, f->name_len};
        if (http_str_ieq(fname, name) && n-- == 0) {
            *value = (struct http_str){p->buf + f->value_off, f->value_len};
            return true;
        }
    }
    return false;
}

unsigned http_field_count(const struct http_parser *p, const char *name)
{
    struct http_str v;
    unsigned n = 0;
    while (http_field_get(p, name, n, &v))
        n++;
    return n;
}

bool http_request_line(const struct http_parser *p, struct http_str *line)
{
    if (!p->buf || p->request_line_len == 0)
        return false;
    *line = (struct http_str){p->buf, p->request_line_len};
    return true;
}

/* --- end of the head: framing and connection (RFC 9112 §6.3, §9.3) ------ */

/* Every Content-Length line, and every member of each, must agree (§6.3
 * item 5).  A value too large to count is larger than any body we take. */
static bool content_length(struct http_parser *p, uint64_t *out)
{
    struct http_str line, item;
    bool have = false;
    for (unsigned n = 0; http_field_get(p, "Content-Length", n, &line); n++) {
        size_t pos = 0;
        bool any = false;
        while (http_list_next(line, &pos, &item)) {
            uint64_t v = 0;
            for (size_t i = 0; i < item.len; i++) {
                if (item.p[i] < '0' || item.p[i] > '9')
                    return false;
                v = v > UINT64_MAX / 20 ? UINT64_MAX / 2 : v * 10 + (uint64_t)(item.p[i] - '0');
            }
            if (have && v != *out)
                return false;
            *out = v;
            have = any = true;
        }
        if (!any)
            return false;  /* "Content-Length:" with nothing in it */
    }
    return true;
}

/* Transfer-Encoding in a request: chunked must come last (§6.3 item 4);
 * any other coding is one we do not implement (§6.1: 501). */
static bool transfer_encoding(struct http_parser *p)
{
    struct http_str line, item, last = {NULL, 0};
    bool other = false, twice = false;
    for (unsigned n = 0; http_field_get(p, "Transfer-Encoding", n, &line); n++) {
        size_t pos = 0;
        while (http_list_next(line, &pos, &item)) {
            if (last.p && http_str_ieq(last, "chunked"))
                twice = true;  /* §7.1: chunked is applied at most once */
            else if (last.p)
                other = true;
            last = item;
        }
    }
    if (!last.p || !http_str_ieq(last, "chunked") || twice) {
        fail(p, 400, "Transfer-Encoding does not end in a single chunked (RFC 9112 §6.3)");
        return false;
    }
    if (other) {
        fail(p, 501, "Transfer-Encoding other than chunked is not implemented");
        return false;
    }
    p->chunked = true;
    return true;
}

static bool host_field(struct http_parser *p)
{
    struct http_str host;
    unsigned n = http_field_count(p, "Host");
    if (n > 1 || (n == 0 && p->version_minor >= 1)) {
        fail(p, 400, n ? "more than one Host field (RFC 9112 §3.2)"
                       : "HTTP/1.1 request without Host (RFC 9112 §3.2)");
        return false;
    }
    if (n == 1 && http_field_get(p, "Host", 0, &host)) {
        for (size_t i = 0; i < host.len; i++) {
            char c = host.p[i];
            if (!is_host_char((unsigned char)c)) {
                fail(p, 400, "Host is not a valid host[:port]");
                return false;
            }
        }
    }
    return true;
}

/* Persistence: 1.1 keeps the connection unless "close"; 1.0 closes unless
 * "keep-alive" was asked (RFC 9112 §9.3). */
static void connection_field(struct http_parser *p)
{
    struct http_str line, item;
    bool close = false, keep = false;
    for (unsigned n = 0; http_field_get(p, "Connection", n, &line); n++) {
        size_t pos = 0;
        while (http_list_next(line, &pos, &item)) {
            close |= http_str_ieq(item, "close");
            keep |= http_str_ieq(item, "keep-alive");
        }
    }
    p->keep_alive = !close && (p->version_minor >= 1 || keep);
}

static void head_done(struct http_parser *p)
{
    bool te = http_field_count(p, "Transfer-Encoding") > 0;
    bool cl = http_field_count(p, "Content-Length") > 0;
    if (!host_field(p))
        return;
    connection_field(p);
    if (te && cl) {
        fail(p, 400, "both Transfer-Encoding and Content-Length (RFC 9112 §6.1)");
        return;
    }
    if (te && p->version_minor == 0) {
        fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)");
        return;
    }
    if (te) {
        if (transfer_encoding(p))
            p->state = HTTP_PARSE_CHUNK_SIZE;
        return;
    }
    if (cl && !content_length(p, &p->content_length)) {
        fail(p, 400, "invalid or conflicting Content-Length (RFC 9112 §6.3)");
        return;
    }
    if (p->content_length > p->lim.max_body) {
        fail(p, 413, "request content larger than --max-body");
        return;
    }
    p->remaining = p->content_length;
    p->state = p->remaining ? HTTP_PARSE_BODY : HTTP_PARSE_DONE;
}

/* --- the head, byte by byte ------------------------------------------------- */

/* A complete line of the head: the request line, a field, or the empty
 * line that ends the section. */
static void head_line(struct http_parser *p)
{
    uint32_t start = p->line_start, len = p->len - start;
    if (p->state == HTTP_PARSE_REQUEST_LINE)
        request_line(p, len);
    else if (len == 0)
        head_done(p);
    else
        field_line(p, start, len);
    p->line_start = p->len;
}

/* Stores one byte of the head, or ends a line.  Enforces the limits. */
static void head_byte(struct http_parser *p, char c)
{
    if (p->state == HTTP_PARSE_FIELD_LINE && ++p->header_bytes > p->lim.max_header_bytes) {
        fail(p, 431, "header section larger than --max-header-bytes");
        return;
    }
    if (c == '\n') {
        p->saw_cr = false;
        head_line(p);
        return;
    }
    if (p->saw_cr) {
        fail(p, 400, "bare CR in the request head (RFC 9112 §2.2)");
        return;
    }
    if (c == '\r') {
        p->saw_cr = true;
        return;
    }
    if (c == '\0') {
        fail(p, 400, "NUL byte in the request head");
        return;
    }
    if (p->state == HTTP_PARSE_REQUEST_LINE && p->len - p->line_start >= p->lim.max_request_line) {
        fail(p, 414, "request line longer than --max-request-line");
        return;
    }
    if (p->len == p->cap) {  /* unreachable with the limits above; belt and braces */
        fail(p, 431, "request head larger than its buffer");
        return;
    }
    p->buf[p->len++] = c;
}

/* --- the body: discarded, but framed exactly (RFC 9112 §6, §7.1) ------------ */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* chunk-size [ chunk-ext ] CRLF (§7.1, §7.1.1).  Extensions are skipped. */
static void chunk_size_byte(struct http_parser *p, char c)
{
    if (++p->line_len > HTTP_MAX_CHUNK_LINE) {
        fail(p, 400, "chunk-size line too long");
        return;
    }
    if (c == '\n') {
        if (!p->chunk_digits) {
            fail(p, 400, "chunk without a size (RFC 9112 §7.1)");
            return;
        }
        p->line_len = 0;
        p->saw_cr = false;
        p->remaining = p->chunk_size;
        p->state = p->chunk_size ? HTTP_PARSE_CHUNK_DATA : HTTP_PARSE_TRAILER;
        p->chunk_size = 0;
        p->chunk_digits = p->chunk_ext = p->chunk_semi = false;
        return;
    }
    if (p->saw_cr) {
        fail(p, 400, "bare CR in a chunk-size line");
        return;
    }
    if (c == '\r') {
        p->saw_cr = true;
    } else if (p->chunk_ext || c == ';' || is_ows(c)) {
        /* BWS ";" ext...: skipped to the line end.  Only BWS may come
         * between the size and the ';' (§7.1.1): "3 5" is no size of 3,
         * which a proxy in front might read otherwise. */
        if (!p->chunk_digits || !is_field_char((unsigned char)c) ||
            (!p->chunk_semi && c != ';' && !is_ows(c))) {
            fail(p, 400, "malformed chunk extension");
            return;
        }
        p->chunk_ext = true;
        p->chunk_semi |= c == ';';
    } else {
        int h = hex_value(c);
        if (h < 0) {
            fail(p, 400, "chunk size is not hexadecimal");
            return;
        }
        if (p->chunk_size > (p->lim.max_body >> 4) ||
            p->body_bytes + p->chunk_size * 16 + (unsigned)h > p->lim.max_body) {
            fail(p, 413, "chunked request content larger than --max-body");
            return;
        }
        p->chunk_size = p->chunk_size * 16 + (unsigned)h;
        p->chunk_digits = true;
    }
}

/* The CRLF (or bare LF, §2.2) that ends a chunk's data. */
static void chunk_end_byte(struct http_parser *p, char c)
{
    if (c == '\r' && !p->saw_cr) {
        p->saw_cr = true;
    } else if (c == '\n') {
        p->saw_cr = false;
        p->state = HTTP_PARSE_CHUNK_SIZE;
    } else {
        fail(p, 400, "chunk data not followed by CRLF");
    }
}

/* trailer-section CRLF (§7.1.2): fields are read past, never used, but
 * each must still be a field line (§5: token ":" field-value), as a
 * proxy in front would read it. */
static void trailer_byte(struct http_parser *p, char c)
{
    if (++p->trailer_bytes > p->lim.max_header_bytes) {
        fail(p, 431, "trailer section larger than --max-header-bytes");
        return;
    }
    if (c == '\n') {
        if (p->line_len > 0 && !p->trailer_value) {
            fail(p, 400, "trailer line without a colon");
            return;
        }
        p->state = p->line_len == 0 ? HTTP_PARSE_DONE : HTTP_PARSE_TRAILER;
        p->line_len = 0;
        p->saw_cr = p->trailer_value = false;
    } else if (p->saw_cr) {
        fail(p, 400, "bare CR in the trailer section");
    } else if (c == '\r') {
        p->saw_cr = true;
    } else if (p->trailer_value ? !is_field_char((unsigned char)c)
                                : !is_tchar((unsigned char)c) && (c != ':' || p->line_len == 0)) {
        fail(p, 400, "malformed trailer field");
    } else {
        p->trailer_value |= c == ':';
        p->line_len++;
    }
}

/* Content bytes are skipped in bulk, not byte by byte. */
static size_t skip_content(struct http_parser *p, size_t avail)
{
    size_t n = avail < p->remaining ? avail : (size_t)p->remaining;
    p->remaining -= n;
    p->body_bytes += n;
    if (p->remaining == 0)
        p->state = p->state == HTTP_PARSE_BODY ? HTTP_PARSE_DONE : HTTP_PARSE_CHUNK_END;
    return n;
}

size_t http_parser_feed(struct http_parser *p, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && p->state != HTTP_PARSE_DONE && p->state != HTTP_PARSE_ERROR) {
        char c = data[i];
        switch (p->state) {
        case HTTP_PARSE_START:
            /* §2.2: ignore empty lines before the request line, within
             * reason.  They are the request's first bytes all the same:
             * its --header-timeout runs from them. */
            p->started = true;
            if (c == '\r' || c == '\n') {
                if (++p->line_len > HTTP_MAX_LEADING_EMPTY_BYTES)
                    fail(p, 400, "more than 4 empty lines before the request line");
                i++;
                continue;
            }
            p->line_len = 0;
            p->state = HTTP_PARSE_REQUEST_LINE;
            continue;
        case HTTP_PARSE_REQUEST_LINE:
        case HTTP_PARSE_FIELD_LINE: head_byte(p, c); break;
        case HTTP_PARSE_BODY:
        case HTTP_PARSE_CHUNK_DATA: i += skip_content(p, len - i); continue;
        case HTTP_PARSE_CHUNK_SIZE: chunk_size_byte(p, c); break;
        case HTTP_PARSE_CHUNK_END: chunk_end_byte(p, c); break;
        case HTTP_PARSE_TRAILER: trailer_byte(p, c); break;
        default: break;
        }
        i++;
    }
    return i;
}
