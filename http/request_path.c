/*
 * request_path.c -- the first wall of the root jail: percent-decoding and
 * path normalisation of the request target (RFC 9112 §3.2, RFC 3986).
 *
 * The result is a relative path with no "." or ".." segment and no empty
 * segment, so it cannot name anything above the root however the client
 * spells it: "/../etc/passwd", "/%2e%2e/etc/passwd" and "//etc/./passwd"
 * all become "etc/passwd", which the host looks up beneath the root.  ".."
 * at the top stays at the top, as RFC 3986 §5.2.4 removes it.  A decoded
 * NUL is refused (400), and so is an encoded slash (404, as Apache does):
 * it would otherwise turn into a separator the client was not allowed to
 * write.  The second wall is the host's: it resolves the path beneath the
 * root and refuses symlinks that leave it (tun/site_files.c).
 */
#include <stdbool.h>
#include <string.h>

#include "http/request_path.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* absolute-form "http://host/path" (§3.2.2): only the path is ours to read.
 * The authority ends at the first '/', '?' or '#' (RFC 3986 §3.2), so a
 * '/' inside "http://host?next=/a" is the query's, not a path's. */
static void skip_scheme_authority(const char **t, const char *end)
{
    static const char *const schemes[] = {"http://", "https://"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(schemes[i]), k;
        if ((size_t)(end - *t) < n)
            continue;
        for (k = 0; k < n; k++)
            if (((*t)[k] | 0x20) != schemes[i][k])  /* schemes are case-insensitive */
                break;
        if (k == n) {
            const char *c = *t + n;
            while (c < end && *c != '/' && *c != '?' && *c != '#')
                c++;
            *t = c;
            return;
        }
    }
}

/* The segment just decoded at out[*len..*len+n): keep it, or apply the
 * dot-segment rules of RFC 3986 §5.2.4.  True when it was a name. */
static bool end_segment(char *out, size_t *len, size_t n)
{
    char *seg = out + *len;
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return false;  /* "//" and "/./" name nothing */
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
        if (*len > 0)
            (*len)--;  /* the separator after the last name */
        while (*len > 0 && out[*len - 1] != '/')
            (*len)--;  /* the last name; at the root, nothing to drop */
        return false;
    }
    *len += n;
    out[(*len)++] = '/';
    return true;
}

/* One character of a segment, %XX decoded: the bytes it used, or 0 when
 * the target must be refused (*why says how). */
static size_t decode_char(const char *c, const char *end, char *ch,
                          enum http_path_result *why)
{
    if (*c != '%') {
        *ch = *c;
        return 1;
    }
    if (end - c < 3 || hex_digit(c[1]) < 0 || hex_digit(c[2]) < 0) {
        *why = HTTP_PATH_BAD;  /* '%' must start a pct-encoded triplet */
        return 0;
    }
    *ch = (char)(hex_digit(c[1]) << 4 | hex_digit(c[2]));
    if (*ch == '\0' || *ch == '/') {
        *why = *ch ? HTTP_PATH_ENCODED_SLASH : HTTP_PATH_BAD;
        return 0;
    }
    return 3;
}

enum http_path_result http_target_path(const char *target, size_t target_len, char *out,
                                       size_t cap)
{
    const char *t = target, *end = target + target_len, *q;
    size_t len = 0, n = 0;
    enum http_path_result why = HTTP_PATH_BAD;

    if (target_len == 1 && target[0] == '*')
        return HTTP_PATH_ASTERISK;
    if (cap < target_len + 1)
        return HTTP_PATH_BAD;
    /* A fragment is for the client alone and never sent (RFC 9110 §7.1):
     * '#' has no place in any request-target form (RFC 9112 §3.2), so the
     * request line is invalid, and §3 asks for a 400. */
    if (memchr(target, '#', target_len))
        return HTTP_PATH_BAD;
    skip_scheme_authority(&t, end);
    if (t < end && *t == '?')
        end = t;  /* "http://host?query": the empty path, which is "/" */
    if (t < end && *t != '/')
        return HTTP_PATH_BAD;  /* neither origin-form nor absolute-form */
    if (t < end && (q = memchr(t, '?', (size_t)(end - t))) != NULL)
        end = q;  /* the query names no file */
    for (const char *c = t < end ? t + 1 : end; c < end;) {
        if (*c == '/') {
            end_segment(out, &len, n);
            n = 0;
            c++;
            continue;
        }
        size_t used = decode_char(c, end, &out[len + n], &why);
        if (used == 0)
            return why;
        n++;
        c += used;
    }
    if (end_segment(out, &len, n))
        len--;  /* "a/b" names a file; "a/b/" keeps its slash: a directory */
    out[len] = '\0';
    return HTTP_PATH_OK;
}

bool http_target_plain_path(const char *target, size_t target_len, const char **path,
                            size_t *path_len, const char **query, size_t *query_len)
{
    const char *t = target, *end = target + target_len;
    skip_scheme_authority(&t, end);
    const char *q = t < end ? memchr(t, '?', (size_t)(end - t)) : NULL;
    const char *path_end = q ? q : end;
    if (t == path_end || *t != '/')
        return false;
    for (const char *seg = t; seg < path_end;) {
        const char *next = memchr(seg + 1, '/', (size_t)(path_end - seg - 1));
        size_t n = (size_t)((next ? next : path_end) - seg - 1);
        if (n == 0 && next)  /* "//": an empty segment, or an authority */
            return false;
        if ((n == 1 && seg[1] == '.') || (n == 2 && seg[1] == '.' && seg[2] == '.'))
            return false;
        seg = next ? next : path_end;
    }
    for (const char *c = t; c < end; c++)
        if (*c <= ' ' || *c > '~')
            return false;
    *path = t;
    *path_len = (size_t)(path_end - t);
    *query = q ? q + 1 : path_end;
    *query_len = q ? (size_t)(end - q - 1) : 0;
    return true;
}
