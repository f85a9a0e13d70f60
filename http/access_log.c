/*
 * access_log.c -- the Combined Log Format (Apache's "combined"), which
 * every log analyser reads:
 *
 *   10.0.0.1 - - [24/Nov/2026:09:28:16 +0000] "GET /hello HTTP/1.1" 200 2326 "-" "curl/7.88.1"
 *
 * Bytes are the content bytes sent ("-" for none).  Quotes, backslashes
 * and control bytes in client-supplied text are written as \xHH, so a
 * request cannot forge a log line (the same escaping Apache applies).
 */
#include <stdbool.h>
#include <stdio.h>

#include "http/access_log.h"
#include "http/http_date.h"

#define LOG_FIELD_MAX 512  /* of one escaped client-supplied field */

/* Appends s, escaped, as a quoted field; "-" when absent or empty. */
static size_t quoted(char *out, size_t cap, const struct http_str *s)
{
    size_t n = 0;
    if (cap < 8)
        return 0;
    out[n++] = '"';
    if (!s || s->len == 0)
        out[n++] = '-';
    for (size_t i = 0; s && i < s->len && n + 6 < cap && n < LOG_FIELD_MAX; i++) {
        unsigned char c = (unsigned char)s->p[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n++] = '"';
    out[n] = '\0';
    return n;
}

void http_access_log_line(char *out, size_t cap, uint32_t peer_addr, int64_t now,
                          const struct http_parser *req, int status, uint64_t bytes)
{
    char date[HTTP_CLF_DATE_LEN], req_q[LOG_FIELD_MAX + 8], ref_q[LOG_FIELD_MAX + 8],
        ua_q[LOG_FIELD_MAX + 8], size[24];
    struct http_str line, referer, ua;
    bool have_line = req && http_request_line(req, &line);
    bool have_ref = have_line && http_field_get(req, "Referer", 0, &referer);
    bool have_ua = have_line && http_field_get(req, "User-Agent", 0, &ua);

    http_clf_date(now, date);
    quoted(req_q, sizeof req_q, have_line ? &line : NULL);
    quoted(ref_q, sizeof ref_q, have_ref ? &referer : NULL);
    quoted(ua_q, sizeof ua_q, have_ua ? &ua : NULL);
    if (bytes)
        snprintf(size, sizeof size, "%llu", (unsigned long long)bytes);
    else
        snprintf(size, sizeof size, "-");
    snprintf(out, cap, "%u.%u.%u.%u - - [%s] %s %d %s %s %s", peer_addr >> 24,
             (peer_addr >> 16) & 255, (peer_addr >> 8) & 255, peer_addr & 255, date, req_q,
             status, size, ref_q, ua_q);
}
