/*
 * static_files.h -- GET and HEAD of files beneath the root.
 */
#ifndef SYNACK_STATIC_FILES_H
#define SYNACK_STATIC_FILES_H

#include <stddef.h>

#include "http/http_host.h"
#include "http/request_parser.h"
#include "http/response.h"

/* The site's own 404 page, served with status 404 when it exists. */
#define HTTP_NOT_FOUND_PAGE "404.html"
/* A directory's page; directories are never listed. */
#define HTTP_INDEX_PAGE "index.html"
/* Room the path buffer needs beyond the target's length. */
#define HTTP_PATH_EXTRA 32

/* Plans the response to a GET or HEAD of req's target: a file (200, 206),
 * 304, 412, 416, 404 with the site's page, 400 or 500.  path is scratch of
 * at least target length + HTTP_PATH_EXTRA bytes.  A file handle in r is
 * the caller's to close. */
void http_static_plan(const struct http_host *host, const struct http_parser *req, char *path,
                      size_t cap, struct http_response *r);

#endif
