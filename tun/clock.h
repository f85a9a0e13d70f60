/*
 * clock.h -- the one real clock in synackd.  The core never reads time; the
 * link reads it here and passes "now" into every stack call, so swapping this
 * for a virtual clock is all a test needs to control time.
 */
#ifndef SYNACK_CLOCK_H
#define SYNACK_CLOCK_H

#include "stack/stack.h"

/* Monotonic microseconds: immune to wall-clock steps, so timers never jump. */
usec_t clock_now_usec(void);

#endif
