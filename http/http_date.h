/*
 * http_date.h -- HTTP-dates (RFC 9110 §5.6.7) and the access log's date,
 * computed from seconds since the epoch without the C library's time
 * functions, so http/ stays pure and the conversions are testable.
 */
#ifndef SYNACK_HTTP_DATE_H
#define SYNACK_HTTP_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "Sun, 06 Nov 1994 08:49:37 GMT" plus NUL. */
#define HTTP_DATE_LEN 30
/* "06/Nov/1994:08:49:37 +0000" plus NUL. */
#define HTTP_CLF_DATE_LEN 27

/* IMF-fixdate, the one format a sender generates (§5.6.7). */
void http_date_format(int64_t t, char out[HTTP_DATE_LEN]);
/* Any of the three formats a recipient must accept: IMF-fixdate, the
 * obsolete RFC 850 form and asctime().  False when s is none of them. */
bool http_date_parse(const char *s, size_t len, int64_t *t);
/* The Common Log Format's timestamp, always in UTC. */
void http_clf_date(int64_t t, char out[HTTP_CLF_DATE_LEN]);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
