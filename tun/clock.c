/*
 * clock.c -- monotonic time for the core's timers.  CLOCK_MONOTONIC, not the
 * wall clock: an NTP step must not fire every retransmission timer at once.
 */
#include <time.h>

#include "tun/clock.h"

usec_t clock_now_usec(void) {
    struct timespec ts;

    /* Cannot fail for CLOCK_MONOTONIC on Linux; ts stays zero if it did. */
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}
