/*
 * fault.c: the armed points of fault.h, read from INSIGHTS_FAULTS_FILE.
 * Compiled to nothing unless INSIGHTS_FAULTS is defined.
 */
#include "lib/fault.h"

#ifdef INSIGHTS_FAULTS

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/banned.h"

#define MAX_POINTS 32

static struct {
	pthread_mutex_t lock;
	struct stat seen;           /* the file as last read */
	bool present;
	unsigned n;
	char name[MAX_POINTS][64];
	long arg[MAX_POINTS];
} f = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Re-reads the file when it changed. Holds f.lock. */
static void refresh(void)
{
	const char *path = getenv("INSIGHTS_FAULTS_FILE");
	struct stat st;
	if (!path || stat(path, &st)) {
		f.present = false;
		f.n = 0;
		return;
	}
	if (f.present && same_file(&st, &f.seen))
		return;
	f.present = true;
	f.seen = st;
	f.n = 0;
	FILE *in = fopen(path, "r");
	if (!in)
		return;
	char line[128];
	while (f.n < MAX_POINTS && fgets(line, sizeof(line), in)) {
		char name[64];
		long arg = 0;
		if (sscanf(line, "%63s %ld", name, &arg) >= 1) {
			memcpy(f.name[f.n], name, sizeof(name));
			f.arg[f.n++] = arg;
		}
	}
	fclose(in);
}

bool fault_armed(const char *point, long *arg)
{
	bool armed = false;
	pthread_mutex_lock(&f.lock);
	refresh();
	for (unsigned i = 0; i < f.n && !armed; i++) {
		if (!strcmp(f.name[i], point)) {
			armed = true;
			if (arg)
				*arg = f.arg[i];
		}
	}
	pthread_mutex_unlock(&f.lock);
	return armed;
}

void fault_sleep(const char *point)
{
	long ms = 0;
	if (fault_armed(point, &ms) && ms > 0) {
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts))
			;
	}
}

#else
/* ISO C wants a translation unit to declare something. */
typedef int fault_unused;
#endif
