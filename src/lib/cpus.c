/*
 * cpus.c: see cpus.h.
 */
#include "lib/cpus.h"

#include <unistd.h>

#include "lib/banned.h"

unsigned cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}
