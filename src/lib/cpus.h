/*
 * cpus.h: how many CPUs the machine has online, for the defaults that
 * scale with it (event loops, workers, page caches, concurrent searches).
 */
#ifndef INSIGHTS_CPUS_H
#define INSIGHTS_CPUS_H

/* The CPUs online; at least 1. */
unsigned cpu_count(void);

#endif
