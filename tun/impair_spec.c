/*
 * impair_spec.c -- reads the --impair SPEC, "loss=5%,reorder=10%,dup=2%,
 * delay=5ms,seed=42", strictly: every key known, every number whole and in
 * range, each key at most once, so a typo fails at start-up with one line
 * naming the key and the form it takes, never as a silently clean link.
 *
 * Plain keys set both directions; in.KEY and out.KEY set one and win over
 * the plain key whatever the order, so "loss=5%,in.loss=0%" means "lose 5%
 * of what the stack sends, nothing of what it receives".
 */
#include <stdio.h>
#include <string.h>

#include "tun/impair.h"

#define PCT_DECIMALS 7     /* 1% = 10^7 parts per billion */
#define PCT_ONE 10000000u  /* 1% in parts per billion */
#define MAX_INT_DIGITS 9   /* keeps a scaled decimal far from overflow */
#define SEED_MAX_DIGITS 20 /* 18446744073709551615 */
#define SCOPES 3           /* plain, in., out. */

enum key { K_LOSS, K_DUP, K_REORDER, K_DELAY, K_JITTER, K_SEED, K__COUNT };
enum kind { PERCENT, DURATION, SEED };

static const struct {
    const char *name;
    enum kind kind;
} keys[K__COUNT] = {
    [K_LOSS] = {"loss", PERCENT},     [K_DUP] = {"dup", PERCENT},
    [K_REORDER] = {"reorder", PERCENT}, [K_DELAY] = {"delay", DURATION},
    [K_JITTER] = {"jitter", DURATION}, [K_SEED] = {"seed", SEED},
};

/* What each kind of value looks like, for the error line. */
static const struct {
    const char *form, *example;
} forms[] = {
    [PERCENT] = {"a percentage from 0% to 100%, decimals allowed (0.5%)", "5%"},
    [DURATION] = {"a duration up to 10s with a unit: us, ms or s (1.5ms)", "5ms"},
    [SEED] = {"a whole number from 0 to 18446744073709551615", "42"},
};

struct scoped {
    bool set[SCOPES][K__COUNT];
    uint64_t val[SCOPES][K__COUNT];
};

/* An item being parsed: its text (not NUL-terminated) for messages. */
struct item {
    const char *s;
    int len;
};

/* "D[.F]" between s and end, times 10^decimals; false unless it is exactly
 * that, with at most `decimals` digits after the point. */
static bool parse_decimal(const char *s, const char *end, unsigned decimals, uint64_t *out) {
    uint64_t v = 0;
    unsigned ints = 0, fracs = 0;

    for (; s < end && *s >= '0' && *s <= '9'; s++, ints++)
        v = v * 10 + (uint64_t)(*s - '0');
    if (s < end && *s == '.')
        for (s++; s < end && *s >= '0' && *s <= '9'; s++, fracs++)
            v = v * 10 + (uint64_t)(*s - '0');
    if (s != end || ints == 0 || ints > MAX_INT_DIGITS || fracs > decimals)
        return false;
    for (; fracs < decimals; fracs++)
        v *= 10;
    *out = v;
    return true;
}

static bool ends_with(const char *s, const char *end, const char *suffix) {
    size_t n = strlen(suffix);

    return (size_t)(end - s) >= n && memcmp(end - n, suffix, n) == 0;
}

/* "12.5%" -> parts per billion. */
static bool parse_percent(const char *s, const char *end, uint64_t *out) {
    return ends_with(s, end, "%") && parse_decimal(s, end - 1, PCT_DECIMALS, out) &&
           *out <= IMPAIR_PPB_ONE;
}

/* "5ms", "200us", "1.5s" -> microseconds; the unit says how many decimals. */
static bool parse_duration(const char *s, const char *end, uint64_t *out) {
    static const struct { const char *unit; unsigned decimals; } units[] = {
        {"us", 0}, {"ms", 3}, {"s", 6},
    };

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ends_with(s, end, units[i].unit))
            return parse_decimal(s, end - strlen(units[i].unit), units[i].decimals, out) &&
                   *out <= IMPAIR_MAX_DELAY_USEC;
    }
    return false;
}

static bool parse_seed(const char *s, const char *end, uint64_t *out) {
    uint64_t v = 0;
    unsigned d;

    if (s == end || end - s > SEED_MAX_DIGITS)
        return false;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return false;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool bad_value(const struct item *it, enum key k, char *err, size_t cap) {
    snprintf(err, cap, "%.*s: %s takes %s, like %s=%s", it->len, it->s, keys[k].name,
             forms[keys[k].kind].form, keys[k].name, forms[keys[k].kind].example);
    return false;
}

/* "in.loss" -> scope 1, key K_LOSS.  False (err filled) if unknown. */
static bool parse_key(const struct item *it, const char *eq, int *scope, enum key *k,
                      char *err, size_t cap) {
    const char *name = it->s;

    *scope = 0;
    if (eq - name > 3 && memcmp(name, "in.", 3) == 0)
        *scope = 1, name += 3;
    else if (eq - name > 4 && memcmp(name, "out.", 4) == 0)
        *scope = 2, name += 4;
    for (int i = 0; i < K__COUNT; i++) {
        if ((size_t)(eq - name) == strlen(keys[i].name) &&
            memcmp(name, keys[i].name, (size_t)(eq - name)) == 0) {
            *k = (enum key)i;
            if (*k != K_SEED || *scope == 0)
                return true;
            snprintf(err, cap, "%.*s: seed applies to both directions; write seed=N",
                     it->len, it->s);
            return false;
        }
    }
    snprintf(err, cap, "%.*s: unknown key '%.*s' (keys: loss, dup, reorder, delay, "
             "jitter, seed; in.KEY or out.KEY for one direction)", it->len, it->s,
             (int)(eq - it->s), it->s);
    return false;
}

/* One "KEY=VALUE" into sc. */
static bool parse_item(const struct item *it, struct scoped *sc, char *err, size_t cap) {
    const char *end = it->s + it->len, *eq = memchr(it->s, '=', (size_t)it->len);
    uint64_t v = 0;
    enum key k;
    int scope;
    bool ok;

    if (eq == NULL || eq == it->s) {
        snprintf(err, cap, "%.*s: expected KEY=VALUE, like loss=5%%", it->len, it->s);
        return false;
    }
    if (!parse_key(it, eq, &scope, &k, err, cap))
        return false;
    if (sc->set[scope][k]) {
        snprintf(err, cap, "%.*s: %.*s given twice", it->len, it->s,
                 (int)(eq - it->s), it->s);
        return false;
    }
    switch (keys[k].kind) {
    case PERCENT: ok = parse_percent(eq + 1, end, &v); break;
    case DURATION: ok = parse_duration(eq + 1, end, &v); break;
    default: ok = parse_seed(eq + 1, end, &v); break;
    }
    if (!ok)
        return bad_value(it, k, err, cap);
    sc->set[scope][k] = true;
    sc->val[scope][k] = v;
    return true;
}

/* The direction's own value if given, else the plain one, else 0. */
static uint64_t pick(const struct scoped *sc, int dir, enum key k) {
    if (sc->set[1 + dir][k])
        return sc->val[1 + dir][k];
    return sc->set[0][k] ? sc->val[0][k] : 0;
}

bool impair_parse(const char *text, struct impair_spec *out, char *err, size_t errcap) {
    struct scoped sc;
    struct item it;
    const char *comma;

    memset(&sc, 0, sizeof(sc));
    for (const char *s = text;; s = comma + 1) {
        comma = strchr(s, ',');
        it.s = s;
        it.len = comma != NULL ? (int)(comma - s) : (int)strlen(s);
        if (it.len == 0) {
            snprintf(err, errcap, "'%s': empty item; expected KEY=VALUE[,KEY=VALUE...], "
                     "like loss=5%%,delay=5ms", text);
            return false;
        }
        if (!parse_item(&it, &sc, err, errcap))
            return false;
        if (comma == NULL)
            break;
    }
    memset(out, 0, sizeof(*out));
    out->enabled = true;
    out->seed = sc.set[0][K_SEED] ? sc.val[0][K_SEED] : IMPAIR_DEFAULT_SEED;
    for (int d = 0; d < IMPAIR_DIRS; d++) {
        out->dir[d].loss = (uint32_t)pick(&sc, d, K_LOSS);
        out->dir[d].dup = (uint32_t)pick(&sc, d, K_DUP);
        out->dir[d].reorder = (uint32_t)pick(&sc, d, K_REORDER);
        out->dir[d].delay = pick(&sc, d, K_DELAY);
        out->dir[d].jitter = pick(&sc, d, K_JITTER);
    }
    return true;
}

/* 50000000 ppb -> "5", 5000000 -> "0.5". */
static const char *pct_str(uint32_t ppb, char buf[24]) {
    size_t n;

    n = (size_t)snprintf(buf, 24, "%u.%07u", ppb / PCT_ONE, ppb % PCT_ONE);
    while (buf[n - 1] == '0')
        buf[--n] = '\0';
    if (buf[n - 1] == '.')
        buf[n - 1] = '\0';
    return buf;
}

static int dir_format(const struct impair_params *p, char *buf, size_t cap) {
    char l[24], d[24], r[24];

    return snprintf(buf, cap, "loss %s%% dup %s%% reorder %s%% delay %lluus jitter %lluus",
                    pct_str(p->loss, l), pct_str(p->dup, d), pct_str(p->reorder, r),
                    (unsigned long long)p->delay, (unsigned long long)p->jitter);
}

size_t impair_spec_format(const struct impair_spec *spec, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "seed %llu; in: ", (unsigned long long)spec->seed);

    if (n >= 0 && (size_t)n < cap)
        n += dir_format(&spec->dir[IMPAIR_IN], buf + n, cap - (size_t)n);
    if (n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, "; out: ");
    if (n >= 0 && (size_t)n < cap)
        n += dir_format(&spec->dir[IMPAIR_OUT], buf + n, cap - (size_t)n);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap > 0 ? cap - 1 : 0;
}
