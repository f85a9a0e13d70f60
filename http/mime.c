/*
 * mime.c -- the table of media types synack serves (RFC 9110 §8.3).
 *
 * A short fixed table beats a system mime.types file: the answer is the
 * same on every machine, and a reader sees it all on one screen.  Text
 * types carry charset=utf-8 because the bundled site is UTF-8 and a
 * browser otherwise guesses (RFC 9110 §8.3.2 lets the sender say).
 */
#include <stddef.h>
#include <string.h>

#include "http/mime.h"

#define MIME_DEFAULT "application/octet-stream"  /* RFC 9110 §8.3: unknown content */
#define MIME_MAX_EXT 8

static const struct {
    const char *ext;
    const char *type;
} mime_table[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},   /* RFC 9239 */
    {"mjs", "text/javascript; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"json", "application/json"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"svg", "image/svg+xml"},
    {"ico", "image/vnd.microsoft.icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"pcap", "application/vnd.tcpdump.pcap"},
};

const char *http_mime_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    char ext[MIME_MAX_EXT + 1];
    size_t n;

    if (!dot || dot[1] == '\0' || (n = strlen(dot + 1)) > MIME_MAX_EXT)
        return MIME_DEFAULT;
    for (size_t i = 0; i <= n; i++) {
        char c = dot[1 + i];
        ext[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    for (size_t i = 0; i < sizeof mime_table / sizeof mime_table[0]; i++)
        if (strcmp(mime_table[i].ext, ext) == 0)
            return mime_table[i].type;
    return MIME_DEFAULT;
}
