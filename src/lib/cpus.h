/*
 * cpus.h: how many CPUs this process may use, for the defaults that scale
 * with it (event loops, workers, page caches, concurrent searches).
 */
#ifndef INSIGHTS_CPUS_H
#define INSIGHTS_CPUS_H

/*
 * The CPUs this process can run on, at least 1: the CPUs of its affinity
 * mask (taskset, a container's cpuset), further bounded by a cgroup CPU
 * quota rounded up (a container limited to 2 CPUs on a 64-core host counts
 * 2). Computed once.
 */
unsigned cpu_count(void);

/*
 * The bound a cgroup quota puts on the CPUs, from the text of cgroup v2's
 * cpu.max ("max 100000", "150000 100000"): the quota over the period,
 * rounded up; 0 when there is no quota or the text is not understood.
 */
unsigned cpu_quota_limit(const char *cpu_max);

#endif
