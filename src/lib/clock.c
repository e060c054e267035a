/*
 * clock.c: the clocks of clock.h.
 */
#include "lib/clock.h"

#include <stdio.h>

#include "lib/fault.h"
#include "lib/banned.h"

void clock_format(time_t t, char out[TS_SIZE])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, TS_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t clock_now(void)
{
	long offset = 0;
	if (fault_armed("clock.at_s", &offset))
		return (time_t)offset;
	if (fault_armed("clock.offset_s", &offset))
		return time(NULL) + (time_t)offset;
	return time(NULL);
}

void clock_timestamp(char out[TS_SIZE])
{
	clock_format(clock_now(), out);
}

uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
