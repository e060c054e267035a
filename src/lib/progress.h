/*
 * progress.h: progress of long command-line work (seed, import, export,
 * backup) on standard error. On a terminal, a bar redrawn in place with
 * the rate and the time left; otherwise (a pipe, a file, a log) nothing
 * while it runs and one summary line at the end. Quiet: neither.
 */
#ifndef INSIGHTS_PROGRESS_H
#define INSIGHTS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
	const char *what;     /* "exported", "imported", ... */
	const char *unit;     /* "insights", "bytes", "pages" */
	FILE *out;
	bool tty;
	bool quiet;
	uint64_t t0_ns, drawn_ns;
	uint64_t done, total;
};

/* Starts reporting on `out` (a terminal or not, as isatty says). */
void progress_init(struct progress *p, FILE *out, const char *what, const char *unit, bool quiet);
/* `done` of `total` (0: unknown); redraws the bar at most ten times a second. */
void progress_update(struct progress *p, uint64_t done, uint64_t total);
/*
 * Ends: the bar at its final state and a newline on a terminal, the
 * summary line elsewhere: "<what> <done> <unit> in <s> s (<rate> <unit>/s)".
 */
void progress_finish(struct progress *p);
/* The bar's text for `done` of `total` after `secs` (exported for the unit tests). */
void progress_format(char *line, size_t size, const char *what, const char *unit, uint64_t done,
		     uint64_t total, double secs);

#endif
