/*
 * access_log.h -- one line per response in the Combined Log Format.
 */
#ifndef SYNACK_ACCESS_LOG_H
#define SYNACK_ACCESS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "http/request_parser.h"

/* Longest line written; longer request lines and field values are cut. */
#define HTTP_ACCESS_LOG_LINE 2048

/* host - - [date] "request line" status bytes "Referer" "User-Agent"
 * req may be NULL when no request line was read. */
void http_access_log_line(char *out, size_t cap, uint32_t peer_addr, int64_t now,
                          const struct http_parser *req, int status, uint64_t bytes);

#endif
