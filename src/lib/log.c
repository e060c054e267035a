/*
 * log.c: the log of log.h.
 */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/jsonw.h"
#include "lib/banned.h"

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_FORMAT_JSON;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_setup(enum log_level level, enum log_format fmt)
{
	min_level = level;
	format = fmt;
}

bool log_enabled(enum log_level level)
{
	return level >= min_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (!strcmp(s, "warning")) {
		*out = LOG_WARN;
		return 0;
	}
	return -1;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (!strcmp(s, "json"))
		*out = LOG_FORMAT_JSON;
	else if (!strcmp(s, "text"))
		*out = LOG_FORMAT_TEXT;
	else
		return -1;
	return 0;
}

/* RFC 3339 with milliseconds, UTC. */
static void now_ms(char out[32])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

static void emit(struct buf *line)
{
	buf_addch(line, '\n');
	const char *p = line->data;
	size_t left = line->len;
	while (left) {
		ssize_t n = write(STDERR_FILENO, p, left);
		if (n <= 0)
			break; /* nowhere to report a failing log */
		p += n;
		left -= (size_t)n;
	}
}

/*
 * Starts a line: in JSON, opens the object with time, level and msg (the
 * caller adds members and closes it); in text, writes "time level msg".
 */
static void line_begin(struct buf *line, struct jsonw *w, enum log_level level, const char *msg)
{
	char ts[32];
	now_ms(ts);
	if (format == LOG_FORMAT_JSON) {
		jsonw_init(w, line);
		jsonw_object_open(w);
		jsonw_kstr(w, "time", ts);
		jsonw_kstr(w, "level", level_names[level]);
		if (msg)
			jsonw_kstr(w, "msg", msg);
	} else {
		buf_addf(line, "%s %-5s", ts, level_names[level]);
		if (msg)
			buf_addf(line, " %s", msg);
	}
}

/* Ends a line started by line_begin and writes it. */
static void line_end(struct buf *line, struct jsonw *w)
{
	if (format == LOG_FORMAT_JSON)
		jsonw_object_close(w);
	emit(line);
	buf_release(line);
}

void log_fields(enum log_level level, const char *msg, const char *const *fields)
{
	if (!log_enabled(level))
		return;
	struct buf line = BUF_INIT;
	struct jsonw w;
	line_begin(&line, &w, level, msg);
	for (size_t i = 0; fields && fields[i]; i += 2) {
		if (!fields[i + 1])
			continue;
		if (format == LOG_FORMAT_JSON)
			jsonw_kstr(&w, fields[i], fields[i + 1]);
		else
			buf_addf(&line, " %s=%s", fields[i], fields[i + 1]);
	}
	line_end(&line, &w);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	log_fields(level, buf_cstr(&msg), NULL);
	buf_release(&msg);
}

void log_request(const struct log_request *r)
{
	enum log_level level = r->status >= 500 ? LOG_ERROR : LOG_INFO;
	if (!log_enabled(level))
		return;
	struct buf line = BUF_INIT;
	struct jsonw w;
	line_begin(&line, &w, level, format == LOG_FORMAT_JSON ? "request" : NULL);
	if (format == LOG_FORMAT_JSON) {
		jsonw_kstr(&w, "request_id", r->request_id);
		jsonw_kstr(&w, "method", r->method);
		jsonw_kstr(&w, "route", r->route);
		jsonw_kint(&w, "status", r->status);
		jsonw_key(&w, "duration_ms");
		char num[32];
		int n = snprintf(num, sizeof(num), "%.3f", r->duration_ms);
		jsonw_raw(&w, num, (size_t)n);
		jsonw_kint(&w, "bytes", (int64_t)r->bytes);
		if (r->client)
			jsonw_kstr(&w, "client", r->client);
	} else {
		buf_addf(&line, " %s %s %u %.3fms %zuB request_id=%s", r->method, r->route, r->status,
			 r->duration_ms, r->bytes, r->request_id);
		if (r->client)
			buf_addf(&line, " client=%s", r->client);
	}
	line_end(&line, &w);
}
