/*
 * progress.c: the progress bar and summary line of long command-line
 * work (progress.h).
 */
#include "lib/progress.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/banned.h"

#define BAR_WIDTH 24
#define REDRAW_NS 100000000ull

void progress_init(struct progress *p, FILE *out, const char *what, const char *unit, bool quiet)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->unit = unit;
	p->out = out;
	p->quiet = quiet;
	p->tty = isatty(fileno(out)) == 1;
	p->t0_ns = clock_mono_ns();
}

/* "1:05" or "1:02:03" */
static void duration(char *s, size_t size, double secs)
{
	uint64_t t = secs > 0 ? (uint64_t)(secs + 0.5) : 0;
	if (t >= 3600)
		snprintf(s, size, "%" PRIu64 ":%02u:%02u", t / 3600, (unsigned)(t / 60 % 60),
			 (unsigned)(t % 60));
	else
		snprintf(s, size, "%u:%02u", (unsigned)(t / 60), (unsigned)(t % 60));
}

void progress_format(char *line, size_t size, const char *what, const char *unit, uint64_t done,
		     uint64_t total, double secs)
{
	double rate = secs > 0 ? (double)done / secs : 0;
	char bar[BAR_WIDTH + 1];
	unsigned filled = total ? (unsigned)((done > total ? total : done) * BAR_WIDTH / total) : 0;
	for (unsigned i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	char left[32] = "?";
	if (total && rate > 0 && done <= total)
		duration(left, sizeof(left), (double)(total - done) / rate);
	if (total)
		snprintf(line, size, "%s [%s] %3u%% %" PRIu64 "/%" PRIu64 " %s  %.0f %s/s  ETA %s",
			 what, bar, (unsigned)((done > total ? total : done) * 100 / total), done,
			 total, unit, rate, unit, left);
	else
		snprintf(line, size, "%s %" PRIu64 " %s  %.0f %s/s", what, done, unit, rate, unit);
}

static void draw(struct progress *p)
{
	char line[256];
	progress_format(line, sizeof(line), p->what, p->unit, p->done, p->total,
			(double)(clock_mono_ns() - p->t0_ns) / 1e9);
	fprintf(p->out, "\r%s\033[K", line);
	fflush(p->out);
}

void progress_update(struct progress *p, uint64_t done, uint64_t total)
{
	p->done = done;
	p->total = total;
	if (p->quiet || !p->tty)
		return;
	uint64_t now = clock_mono_ns();
	if (p->drawn_ns && now - p->drawn_ns < REDRAW_NS)
		return;
	p->drawn_ns = now;
	draw(p);
}

void progress_finish(struct progress *p)
{
	if (p->quiet)
		return;
	if (p->tty) {
		draw(p);
		fputc('\n', p->out);
		return;
	}
	double secs = (double)(clock_mono_ns() - p->t0_ns) / 1e9;
	fprintf(p->out, "%s %" PRIu64 " %s in %.2f s (%.0f %s/s)\n", p->what, p->done, p->unit, secs,
		secs > 0 ? (double)p->done / secs : 0.0, p->unit);
}
