/*
 * error.h: the one status enum of the project and the error details that
 * travel with it.
 *
 * Every fallible function returns an `enum status` (OK is 0) and, when it is
 * not OK, fills the caller's `struct error`. The HTTP layer maps a status to
 * an HTTP status in exactly one table (api/respond.c); later front ends
 * (GraphQL) map the same statuses their own way.
 *
 * E_INVALID carries a list of problems in the shape FastAPI clients know:
 * a location ("body.tag_ids.2": dot-separated, numeric parts are list
 * indexes), a machine-readable type ("string_too_long") and a message.
 * Every other status carries one human-readable `detail` sentence, which is
 * shown to the client as is: it must never contain SQL, paths or secrets.
 */
#ifndef INSIGHTS_ERROR_H
#define INSIGHTS_ERROR_H

#include <stdbool.h>
#include <stddef.h>

enum status {
	OK = 0,
	E_INVALID,     /* the input breaks a rule: 422 */
	E_NOTFOUND,    /* the addressed thing does not exist: 404 */
	E_CONFLICT,    /* the write clashes with existing data: 409 */
	E_TOOLARGE,    /* the body exceeds the configured limit: 413 */
	E_UNAVAILABLE, /* the database is down, busy or too slow: 503 */
	E_INTERNAL,    /* a bug or an unexpected failure: 500 */
};

#define ERROR_MAX_PROBLEMS 16

struct problem {
	char loc[96];
	char type[40];
	char msg[200];
};

struct error {
	enum status status;
	char detail[240];
	size_t nproblems;
	struct problem problems[ERROR_MAX_PROBLEMS];
};

/* Resets `e` to OK with no problems. */
void error_clear(struct error *e);

/* Sets status and detail; returns `status` so callers can `return error_set(...)`. */
enum status error_set(struct error *e, enum status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Adds one validation problem and sets the status to E_INVALID; returns
 * E_INVALID. Problems beyond ERROR_MAX_PROBLEMS are dropped (the first ones
 * are the useful ones).
 */
enum status error_invalid(struct error *e, const char *loc, const char *type,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* True when `e` already holds a problem at `loc`. */
bool error_has(const struct error *e, const char *loc);

const char *status_name(enum status s);

#endif
