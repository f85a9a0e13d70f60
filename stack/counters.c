/*
 * counters.c -- names for the drop reasons and events of counters.h, and the
 * report synackd prints at exit and on SIGUSR1.
 */
#include <stdarg.h>
#include <stdio.h>

#include "stack/counters.h"

#define X_NAME(name, text) #name,
#define X_TEXT(name, text) text,
static const char *const drop_names[] = { STACK_DROP_REASONS(X_NAME) };
static const char *const drop_texts[] = { STACK_DROP_REASONS(X_TEXT) };
static const char *const event_texts[] = { STACK_EVENTS(X_TEXT) };
#undef X_NAME
#undef X_TEXT

const char *drop_reason_name(enum drop_reason r)
{
    return (unsigned)r < DROP__COUNT ? drop_names[r] : "?";
}

const char *drop_reason_text(enum drop_reason r)
{
    return (unsigned)r < DROP__COUNT ? drop_texts[r] : "?";
}

const char *stack_event_text(enum stack_event e)
{
    return (unsigned)e < EV__COUNT ? event_texts[e] : "?";
}

/* vsnprintf that never runs past cap; *at stays at the terminating NUL. */
static void appendf(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
    if (*at + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    if (w > 0)
        *at = *at + (size_t)w < cap ? *at + (size_t)w : cap - 1;
}

size_t counters_format(const struct stack_counters *c, char *buf, size_t cap)
{
    size_t at = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    appendf(buf, cap, &at, "events:\n");
    for (int e = 0; e < EV__COUNT; e++)
        if (c->events[e])
            appendf(buf, cap, &at, "  %10llu  %s\n",
                    (unsigned long long)c->events[e], event_texts[e]);
    appendf(buf, cap, &at, "drops:\n");
    for (int r = 0; r < DROP__COUNT; r++)
        if (c->drops[r])
            appendf(buf, cap, &at, "  %10llu  %-22s %s\n",
                    (unsigned long long)c->drops[r], drop_names[r], drop_texts[r]);
    return at;
}
