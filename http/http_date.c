/*
 * http_date.c -- formatting and parsing HTTP-dates (RFC 9110 §5.6.7).
 *
 * Date, Last-Modified and If-Modified-Since carry these.  The calendar
 * arithmetic is Howard Hinnant's days_from_civil / civil_from_days: exact
 * for the proleptic Gregorian calendar, no tables, no time zone, no libc.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_date.h"

static const char *const wkday[7] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
static const char *const month[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const weekday_long[7] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                            "Friday", "Saturday", "Sunday"};

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Splits t into a date and a time of day; negative t rounds toward -inf. */
static int64_t split_time(int64_t t, unsigned *hh, unsigned *mm, unsigned *ss)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    *hh = (unsigned)(rem / 3600);
    *mm = (unsigned)(rem / 60 % 60);
    *ss = (unsigned)(rem % 60);
    return days;
}

void http_date_format(int64_t t, char out[HTTP_DATE_LEN])
{
    unsigned hh, mm, ss, mon, day;
    int64_t y, days = split_time(t, &hh, &mm, &ss);
    civil_from_days(days, &y, &mon, &day);
    int wd = (int)(((days % 7) + 7) % 7);  /* 1970-01-01 was a Thursday */
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;  /* four digits, as the grammar demands */
    snprintf(out, HTTP_DATE_LEN, "%s, %02u %s %04lld %02u:%02u:%02u GMT", wkday[wd], day,
             month[mon - 1], (long long)y, hh, mm, ss);
}

void http_clf_date(int64_t t, char out[HTTP_CLF_DATE_LEN])
{
    unsigned hh, mm, ss, mon, day;
    int64_t y;
    civil_from_days(split_time(t, &hh, &mm, &ss), &y, &mon, &day);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    snprintf(out, HTTP_CLF_DATE_LEN, "%02u/%s/%04lld:%02u:%02u:%02u +0000", day,
             month[mon - 1], (long long)y, hh, mm, ss);
}

/* --- parsing: a tiny cursor over the field value ------------------------- */

struct cursor {
    const char *s;
    size_t len, at;
    bool ok;
};

static void expect_char(struct cursor *c, char ch)
{
    if (c->at < c->len && c->s[c->at] == ch)
        c->at++;
    else
        c->ok = false;
}

static void expect_str(struct cursor *c, const char *lit)
{
    for (; *lit; lit++)
        expect_char(c, *lit);
}

/* Exactly n digits (or, with n_max > n, between n and n_max). */
static unsigned digits(struct cursor *c, unsigned n, unsigned n_max)
{
    unsigned v = 0, k = 0;
    while (k < n_max && c->at < c->len && c->s[c->at] >= '0' && c->s[c->at] <= '9') {
        v = v * 10 + (unsigned)(c->s[c->at++] - '0');
        k++;
    }
    if (k < n)
        c->ok = false;
    return v;
}

/* One of names (case-sensitive, as the grammar says); its index, or -1. */
static int name_of(struct cursor *c, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        if (c->len - c->at >= l && memcmp(c->s + c->at, names[i], l) == 0) {
            c->at += l;
            return i;
        }
    }
    c->ok = false;
    return -1;
}

static void time_of_day(struct cursor *c, unsigned *hh, unsigned *mm, unsigned *ss)
{
    *hh = digits(c, 2, 2);
    expect_char(c, ':');
    *mm = digits(c, 2, 2);
    expect_char(c, ':');
    *ss = digits(c, 2, 2);
}

static bool finish(struct cursor *c, int64_t y, int mon, unsigned d, unsigned hh,
                   unsigned mm, unsigned ss, int64_t *t)
{
    /* A leap second (60) is allowed by the grammar; fold it into the next. */
    if (!c->ok || c->at != c->len || mon < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 ||
        ss > 60)
        return false;
    *t = days_from_civil(y, (unsigned)mon + 1, d) * 86400 + hh * 3600 + mm * 60 + ss;
    return true;
}

/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
static bool parse_imf(struct cursor *c, int64_t *t)
{
    unsigned d, y, hh, mm, ss;
    name_of(c, wkday, 7);
    expect_str(c, ", ");
    d = digits(c, 2, 2);
    expect_char(c, ' ');
    int mon = name_of(c, month, 12);
    expect_char(c, ' ');
    y = digits(c, 4, 4);
    expect_char(c, ' ');
    time_of_day(c, &hh, &mm, &ss);
    expect_str(c, " GMT");
    return finish(c, y, mon, d, hh, mm, ss, t);
}

/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT.  Two-digit years more than 50
 * years ahead are taken as the past century (RFC 9110 §5.6.7). */
static bool parse_rfc850(struct cursor *c, int64_t *t)
{
    unsigned d, y, hh, mm, ss;
    name_of(c, weekday_long, 7);
    expect_str(c, ", ");
    d = digits(c, 2, 2);
    expect_char(c, '-');
    int mon = name_of(c, month, 12);
    expect_char(c, '-');
    y = digits(c, 2, 2);
    expect_char(c, ' ');
    time_of_day(c, &hh, &mm, &ss);
    expect_str(c, " GMT");
    return finish(c, y < 70 ? 2000 + y : 1900 + y, mon, d, hh, mm, ss, t);
}

/* asctime: Sun Nov  6 08:49:37 1994 */
static bool parse_asctime(struct cursor *c, int64_t *t)
{
    unsigned d, y, hh, mm, ss;
    name_of(c, wkday, 7);
    expect_char(c, ' ');
    int mon = name_of(c, month, 12);
    expect_char(c, ' ');
    if (c->at < c->len && c->s[c->at] == ' ') {
        c->at++;
        d = digits(c, 1, 1);
    } else {
        d = digits(c, 2, 2);
    }
    expect_char(c, ' ');
    time_of_day(c, &hh, &mm, &ss);
    expect_char(c, ' ');
    y = digits(c, 4, 4);
    return finish(c, y, mon, d, hh, mm, ss, t);
}

bool http_date_parse(const char *s, size_t len, int64_t *t)
{
    struct cursor c = {s, len, 0, true};
    if (parse_imf(&c, t))
        return true;
    c = (struct cursor){s, len, 0, true};
    if (parse_rfc850(&c, t))
        return true;
    c = (struct cursor){s, len, 0, true};
    return parse_asctime(&c, t);
}
