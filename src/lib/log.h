/*
 * log.h: the service's log, one line per event on stderr.
 *
 * Two formats: JSON lines (the default, for log collectors) and plain text
 * (for a person at a terminal). Each line is written with a single write(2)
 * so lines from different threads never interleave. Nothing that could hold
 * a secret (connection strings, request bodies) is ever passed here.
 */
#ifndef INSIGHTS_LOG_H
#define INSIGHTS_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_JSON, LOG_FORMAT_TEXT };

void log_setup(enum log_level level, enum log_format format);
bool log_enabled(enum log_level level);
/* Parses "debug", "info", "warn" (or "warning"), "error"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
/* Parses "json" or "text"; returns 0 or -1. */
int log_format_parse(const char *s, enum log_format *out);

/* One event with a free-form message. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * One event with structured fields: `fields` is a NULL-terminated list of
 * key, value string pairs (a NULL value is skipped). In JSON each pair is a
 * member; in text they follow the message as key=value.
 */
void log_fields(enum log_level level, const char *msg, const char *const *fields);

/* The line written for every completed HTTP request. */
struct log_request {
	const char *request_id;
	const char *method;
	const char *route;      /* the route template, never the raw path */
	unsigned status;
	double duration_ms;
	size_t bytes;           /* response body */
	const char *client;     /* the client's address (http_client_addr); may be NULL */
};

/* Logs a request at info (error for a 5xx status). */
void log_request(const struct log_request *r);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
