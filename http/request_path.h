/*
 * request_path.h -- from a request target to a path beneath the root.
 */
#ifndef SYNACK_REQUEST_PATH_H
#define SYNACK_REQUEST_PATH_H

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

#endif
