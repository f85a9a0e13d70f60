/*
 * conditional.h -- validators, conditional requests and byte ranges
 * (RFC 9110 §8.8, §13, §14).
 */
#ifndef SYNACK_CONDITIONAL_H
#define SYNACK_CONDITIONAL_H

#include <stdbool.h>
#include <stdint.h>

#include "http/http_host.h"
#include "http/request_parser.h"

/* What a response's validators are. */
struct http_validators {
    const char *etag;       /* quoted strong entity-tag, e.g. "\"1a-2b-3c\"" */
    int64_t last_modified;  /* seconds since the epoch */
};

/* Fills fi's etag, a strong ETag (§8.8.3) from inode, size and
 * modification time, and last_modified, its HTTP-date (§8.8.2). */
void http_file_validators(struct http_file_info *fi);

/* Does the If-Match/If-None-Match list match etag?  "*" matches any;
 * strong uses strong comparison, else weak (§8.8.3.2). */
bool http_etag_list_match(struct http_str list, const char *etag, bool strong);

enum http_precondition {
    HTTP_PRECOND_PASS,          /* go on: 200 or 206 */
    HTTP_PRECOND_NOT_MODIFIED,  /* 304 */
    HTTP_PRECOND_FAILED,        /* 412 */
};
/* The preconditions of a GET or HEAD, in RFC 9110 §13.2.2's order. */
enum http_precondition http_preconditions(const struct http_parser *p,
                                          const struct http_validators *v);

enum http_range_result {
    HTTP_RANGE_NONE,           /* no usable Range: the whole representation, 200 */
    HTTP_RANGE_OK,             /* one satisfiable range: 206 */
    HTTP_RANGE_UNSATISFIABLE,  /* 416; Content-Range gives the size */
    HTTP_RANGE_MULTIPLE,       /* several ranges: synack sends 200 and all of it */
};
/* One Range field value against a representation of size bytes; on
 * HTTP_RANGE_OK, [*first, *last] is the inclusive byte range. */
enum http_range_result http_parse_range(struct http_str value, uint64_t size, uint64_t *first,
                                        uint64_t *last);
/* If-Range (§13.1.5): true when the Range may be honoured. */
bool http_if_range_holds(struct http_str value, const struct http_validators *v);
/* Range and If-Range of a GET together (§14.2). */
enum http_range_result http_request_range(const struct http_parser *p,
                                          const struct http_validators *v, uint64_t size,
                                          uint64_t *first, uint64_t *last);

#endif
