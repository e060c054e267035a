/*
 * lifecycle.h: lifecycle statistics (issue 14). Every change of an
 * insight's status is a transition (from, to, when, who), recorded by the
 * use cases of core/service.c in the write's transaction. From them,
 * GET /statistics/lifecycle counts the transitions of a window and how
 * long insights first published in it took from creation to publication,
 * overall, by category and by author.
 *
 * The store reads the raw facts (struct lifecycle_data); this module turns
 * them into figures the same way on every driver. Percentiles are
 * nearest-rank: the p-th percentile of n sorted values is the value of rank
 * ceil(p * n / 100) (1-based), so that every figure is one of the measured
 * durations; the median is the 50th percentile (of an even count, the
 * lower of the two middle values).
 */
#ifndef INSIGHTS_LIFECYCLE_H
#define INSIGHTS_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "lib/arena.h"

/* A change of status: from -1 when the insight was created (or brought back). */
struct transition {
	int64_t insight_id;
	int from;                 /* enum lifecycle, or -1 */
	enum lifecycle to;
	const char *at;           /* a timestamp */
	const char *actor;        /* NULL: unknown */
};

struct transition_count {
	int from;                 /* enum lifecycle, or -1 */
	int to;                   /* enum lifecycle */
	int64_t count;
};

/* An insight first published in the window, as the store reads it. */
struct publication {
	int64_t seconds;          /* from creation to first publication, >= 0 */
	const char *category;     /* NULL: none */
	const char *author;       /* the insight's author field */
};

struct lifecycle_data {
	struct transition_count *counts;
	size_t ncounts;
	struct publication *pubs;
	size_t npubs;
};

/* Durations of a group: how many, their median and 90th percentile (seconds). */
struct duration_figures {
	const char *name;         /* the category or author; NULL overall */
	int64_t count;
	int64_t median;           /* meaningless when count is 0 */
	int64_t p90;
};

struct lifecycle_figures {
	int64_t days;
	char since[TS_SIZE];
	struct transition_count *counts;   /* from (-1 first), then to, in lifecycle order */
	size_t ncounts;
	struct duration_figures overall;
	struct duration_figures *by_category;  /* by name; UNCATEGORIZED for none */
	size_t ncategories;
	struct duration_figures *by_author;    /* by name */
	size_t nauthors;
};

#define LIFECYCLE_DAYS_DEFAULT 90
#define LIFECYCLE_DAYS_MAX 3650

/*
 * The nearest-rank `p`-th percentile (1..100) of `n` >= 1 values sorted
 * ascending: v[ceil(p * n / 100) - 1].
 */
int64_t lifecycle_percentile(const int64_t *sorted, size_t n, int p);

/*
 * Fills `out` (days and since already set) from what the store read: the
 * counts sorted, the durations grouped and their percentiles. `data` is
 * reordered; everything is allocated in `a`.
 */
void lifecycle_compute(struct arena *a, struct lifecycle_data *data,
		       struct lifecycle_figures *out);

#endif
