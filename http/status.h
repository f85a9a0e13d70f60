/*
 * status.h -- status codes: their reason phrases and the small bodies sent
 * with errors.
 */
#ifndef SYNACK_STATUS_H
#define SYNACK_STATUS_H

/* "Not Found" for 404 (RFC 9110 §15); "Unknown" for a code not listed. */
const char *http_reason(int status);
/* A short HTML page for an error status, saying what failed and what to
 * do; NULL for statuses that carry no body of ours. */
const char *http_error_body(int status);

#endif
