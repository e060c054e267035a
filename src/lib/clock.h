/*
 * clock.h: wall-clock timestamps in the API's format and a monotonic clock
 * for durations and deadlines.
 */
#ifndef INSIGHTS_CLOCK_H
#define INSIGHTS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* "2025-12-23T18:00:00Z" and its terminating NUL. */
#define TS_SIZE 21

/* Formats `t` (seconds since the epoch) as RFC 3339 UTC with a Z. */
void clock_format(time_t t, char out[TS_SIZE]);
/*
 * The current time in seconds since the epoch: what every timestamp the
 * service writes (clock_timestamp) and every window it computes start from.
 * In the test build (lib/fault.h) the point "clock.offset_s N" moves it by N
 * seconds and "clock.at_s N" stops it at N, so that a test can script a
 * history over days; a release build has no such hook.
 */
time_t clock_now(void);
/* The current time (clock_now), formatted as clock_format() does. */
void clock_timestamp(char out[TS_SIZE]);
/* Monotonic nanoseconds, for durations and deadlines only. */
uint64_t clock_mono_ns(void);

#endif
