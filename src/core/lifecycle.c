/*
 * lifecycle.c: the figures of lifecycle.h, computed from the store's raw
 * facts the same way on every driver.
 */
#include "core/lifecycle.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

int64_t lifecycle_percentile(const int64_t *sorted, size_t n, int p)
{
	assert(n >= 1 && p >= 1 && p <= 100);
	size_t rank = ((size_t)p * n + 99) / 100; /* ceil(p * n / 100), >= 1 */
	return sorted[rank - 1];
}

static int by_transition(const void *a, const void *b)
{
	const struct transition_count *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return (x->to > y->to) - (x->to < y->to);
}

static int by_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The figures of `n` durations (reordered). */
static void figures(int64_t *v, size_t n, const char *name, struct duration_figures *out)
{
	memset(out, 0, sizeof(*out));
	out->name = name;
	out->count = (int64_t)n;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), by_int64);
	out->median = lifecycle_percentile(v, n, 50);
	out->p90 = lifecycle_percentile(v, n, 90);
}

/* A group's key: the category's name or the author. */
static const char *key_of(const struct publication *p, bool by_category)
{
	if (!by_category)
		return p->author ? p->author : "";
	return p->category ? p->category : UNCATEGORIZED;
}

/* What by_key compares (qsort passes no argument; each thread sorts with its own). */
static _Thread_local bool grouping_category;

static int by_key(const void *a, const void *b)
{
	const struct publication *x = a, *y = b;
	int c = strcmp(key_of(x, grouping_category), key_of(y, grouping_category));
	if (c)
		return c;
	return (x->seconds > y->seconds) - (x->seconds < y->seconds);
}

/* Groups the publications by category or author, in name order. */
static void groups(struct arena *a, struct publication *pubs, size_t n, bool by_category,
		   int64_t *scratch, struct duration_figures **out, size_t *nout)
{
	*out = ARENA_NEW_ARRAY(a, struct duration_figures, n ? n : 1);
	*nout = 0;
	grouping_category = by_category;
	if (n)
		qsort(pubs, n, sizeof(*pubs), by_key);
	for (size_t i = 0; i < n;) {
		const char *k = key_of(&pubs[i], by_category);
		size_t j = i;
		while (j < n && !strcmp(key_of(&pubs[j], by_category), k)) {
			scratch[j - i] = pubs[j].seconds;
			j++;
		}
		figures(scratch, j - i, arena_strdup(a, k), &(*out)[(*nout)++]);
		i = j;
	}
}

void lifecycle_compute(struct arena *a, struct lifecycle_data *data,
		       struct lifecycle_figures *out)
{
	if (data->ncounts)
		qsort(data->counts, data->ncounts, sizeof(*data->counts), by_transition);
	out->counts = data->counts;
	out->ncounts = data->ncounts;
	size_t n = data->npubs;
	int64_t *v = ARENA_NEW_ARRAY(a, int64_t, n ? n : 1);
	for (size_t i = 0; i < n; i++)
		v[i] = data->pubs[i].seconds;
	figures(v, n, NULL, &out->overall);
	groups(a, data->pubs, n, true, v, &out->by_category, &out->ncategories);
	groups(a, data->pubs, n, false, v, &out->by_author, &out->nauthors);
}
