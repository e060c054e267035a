/*
 * seed.h: the demo and benchmark dataset (`insights seed`).
 */
#ifndef INSIGHTS_SEED_H
#define INSIGHTS_SEED_H

#include <stdint.h>
#include <time.h>

#include "core/service.h"

struct seed_options {
	uint64_t count;        /* insights to create */
	uint64_t random_seed;  /* same seed, same data */
	time_t until;          /* creation dates fall in the two years before this */
	void (*progress)(void *arg, uint64_t done); /* may be NULL */
	void *progress_arg;
	uint64_t progress_every;
};

struct seed_report {
	uint64_t created;
	unsigned tags;
	unsigned categories;
};

/*
 * Creates 30 tags and 12 categories (three levels deep), reusing those of
 * the same names, then `count` insights: titles of 5-12 words, one or two
 * sentences of description, 150-600 words of markdown content in the
 * specification's template, 0-5 tags, 40 authors, a realistic status and
 * priority mix. Stops at the first failure.
 */
enum status seed_run(struct service *svc, const struct seed_options *opt,
		     struct seed_report *report, struct error *err);

#endif
