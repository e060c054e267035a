/*
 * process.c: the standard process_* metrics, read from Linux's /proc, as
 * the Prometheus client libraries define them.
 */
#include "metrics/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/banned.h"

struct proc_stat {
	double cpu_seconds;
	double start_time;
	double vsize;
	double rss_bytes;
};

/* Boot time in seconds since the epoch, from /proc/stat. */
static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return 0;
	char line[256];
	double btime = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "btime ", 6))
			btime = strtod(line + 6, NULL);
	fclose(f);
	return btime;
}

static int read_stat(struct proc_stat *ps)
{
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return -1;
	char buf[1024];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which is in parentheses and may hold spaces. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2;
	unsigned long utime = 0, stime = 0, vsize = 0;
	unsigned long long starttime = 0;
	long rss = 0;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	 * cutime cstime priority nice threads itrealvalue starttime vsize rss */
	if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %llu %lu %ld",
		   &utime, &stime, &starttime, &vsize, &rss) != 5)
		return -1;
	double ticks = (double)sysconf(_SC_CLK_TCK);
	ps->cpu_seconds = (double)(utime + stime) / ticks;
	ps->start_time = boot_time() + (double)starttime / ticks;
	ps->vsize = (double)vsize;
	ps->rss_bytes = (double)rss * (double)sysconf(_SC_PAGESIZE);
	return 0;
}

static double open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	double n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own descriptor */
}

void metrics_render_process(struct buf *out)
{
	struct proc_stat ps;
	if (read_stat(&ps) == 0) {
		metrics_render_one(out, "process_cpu_seconds_total", "counter",
				   "Total user and system CPU time spent in seconds.", ps.cpu_seconds);
		metrics_render_one(out, "process_resident_memory_bytes", "gauge",
				   "Resident memory size in bytes.", ps.rss_bytes);
		metrics_render_one(out, "process_virtual_memory_bytes", "gauge",
				   "Virtual memory size in bytes.", ps.vsize);
		metrics_render_one(out, "process_start_time_seconds", "gauge",
				   "Start time of the process since unix epoch in seconds.", ps.start_time);
	}
	metrics_render_one(out, "process_open_fds", "gauge", "Number of open file descriptors.",
			   open_fds());
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		metrics_render_one(out, "process_max_fds", "gauge",
				   "Maximum number of open file descriptors.", (double)rl.rlim_cur);
}
