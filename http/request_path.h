/*
 * request_path.h -- from a request target to a path beneath the root.
 */
#ifndef SYNACK_REQUEST_PATH_H
#define SYNACK_REQUEST_PATH_H

#include <stdbool.h>
#include <stddef.h>

enum http_path_result {
    HTTP_PATH_OK,
    HTTP_PATH_ASTERISK,       /* "*": only OPTIONS may use it (RFC 9112 §3.2.4) */
    HTTP_PATH_BAD,            /* not a target we can read: 400 */
    HTTP_PATH_ENCODED_SLASH,  /* %2F inside a segment: refused, 404 */
};

/* Writes the normalised path (relative, "" for the root, a trailing '/'
 * kept) to out, which needs room for target_len + 1 bytes. */
enum http_path_result http_target_path(const char *target, size_t target_len, char *out,
                                       size_t cap);

/* The target's path as sent ("/docs", also from "http://host/docs") and
 * its query (after '?', possibly empty), when the path is plain: one
 * leading '/', no empty, "." or ".." segment, visible ASCII only.  Only
 * then does the path with a '/' added name the same place on this server
 * and nowhere else ("//host/x" would name another host), so only then may
 * a redirect's Location be built from it. */
bool http_target_plain_path(const char *target, size_t target_len, const char **path,
                            size_t *path_len, const char **query, size_t *query_len);

#endif
