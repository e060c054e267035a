/*
 * cpus.c: see cpus.h.
 */
#include "lib/cpus.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/banned.h"

unsigned cpu_quota_limit(const char *cpu_max)
{
	char quota[32];
	unsigned long long period = 0;
	if (sscanf(cpu_max, "%31s %llu", quota, &period) != 2 || !period || !strcmp(quota, "max"))
		return 0;
	char *end;
	unsigned long long q = strtoull(quota, &end, 10);
	if (*end || !q)
		return 0;
	unsigned long long n = (q + period - 1) / period;
	return n > 4096 ? 4096 : (unsigned)n;
}

/* The quota of cgroup v2 (cpu.max), or of v1 (cfs_quota_us, cfs_period_us); 0: none. */
static unsigned cgroup_limit(void)
{
	char text[64] = "";
	FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
		return cpu_quota_limit(text);
	}
	long long quota = -1, period = 0;
	f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r");
	if (f) {
		if (fscanf(f, "%lld", &quota) != 1)
			quota = -1;
		fclose(f);
	}
	f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r");
	if (f) {
		if (fscanf(f, "%lld", &period) != 1)
			period = 0;
		fclose(f);
	}
	if (quota <= 0 || period <= 0)
		return 0;
	snprintf(text, sizeof(text), "%lld %lld", quota, period);
	return cpu_quota_limit(text);
}

static unsigned cpus;

static void count(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = online > 0 ? (unsigned)online : 1;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		n = (unsigned)CPU_COUNT(&set);
	unsigned limit = cgroup_limit();
	if (limit && limit < n)
		n = limit;
	cpus = n ? n : 1;
}

unsigned cpu_count(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, count);
	return cpus;
}
