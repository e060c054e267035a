/*
 * error.h: the one status enum of the project and the error details that
 * travel with it.
 *
 * Every fallible function returns an `enum status` (OK is 0) and, when it is
 * not OK, fills the caller's `struct error`. The HTTP layer maps a status to
 * an HTTP status in exactly one table (api/respond.c); other front ends
 * (GraphQL) map the same statuses their own way.
 *
 * E_INVALID carries a list of problems: where (a path of field names and
 * list indexes, relative to the input the problem was found in: ["tag_ids",
 * 2]), a machine-readable type ("string_too_long") and a message. A front
 * end puts the path where its clients expect it (REST prefixes "body" or
 * "query", GraphQL its own path) with error_locate(); the layers below never
 * know which front end called them. Every other status carries one
 * human-readable `detail` sentence, which is shown to the client as is: it
 * must never contain SQL, paths or secrets.
 *
 * A struct error starts as ERROR_INIT (or error_clear()); functions that
 * read it (to add problems to those a decoder found) must be given one.
 */
#ifndef INSIGHTS_ERROR_H
#define INSIGHTS_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum status {
	OK = 0,
	E_INVALID,     /* the input breaks a rule: 422 */
	E_NOTFOUND,    /* the addressed thing does not exist: 404 */
	E_CONFLICT,    /* the write clashes with existing data: 409 */
	E_TOOLARGE,    /* the body exceeds the configured limit: 413 */
	E_UNAVAILABLE, /* the database is down, busy or too slow: 503 */
	E_INTERNAL,    /* a bug or an unexpected failure: 500 */
	E_PRECONDITION, /* the row is not at the version the caller expected: 412 */
};

#define ERROR_MAX_PROBLEMS 16
/* Segments of a problem's path; deeper ones are dropped (kept: the outermost). */
#define ERROR_LOC_MAX 6

/* One step of a path: a field name, or (name empty) a list index. */
struct loc_segment {
	char name[40];
	int64_t index;
};

struct problem {
	struct loc_segment loc[ERROR_LOC_MAX];
	unsigned nloc;
	char type[40];
	char msg[200];
};

struct error {
	enum status status;
	/*
	 * For E_UNAVAILABLE: the failure may well end by itself (a database
	 * server not started yet, or restarting), as opposed to one that waits
	 * for someone to fix something (credentials the server refuses).
	 */
	bool transient;
	char detail[240];
	size_t nproblems;
	struct problem problems[ERROR_MAX_PROBLEMS];
};

#define ERROR_INIT { .status = OK }

/* Resets `e` to OK with no problems. */
void error_clear(struct error *e);

/* Sets status and detail; returns `status` so callers can `return error_set(...)`. */
enum status error_set(struct error *e, enum status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Adds one validation problem at the path [field] (or the empty path, the
 * input as a whole, when `field` is NULL) and sets the status to E_INVALID;
 * returns E_INVALID. Problems beyond ERROR_MAX_PROBLEMS are dropped (the
 * first ones are the useful ones).
 */
enum status error_invalid(struct error *e, const char *field, const char *type,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same at the path [field, index] ([index] when `field` is NULL). */
enum status error_invalid_item(struct error *e, const char *field, int64_t index,
			       const char *type, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Puts problems number `from` and later under `name` (or list index
 * `index`): ["title"] becomes ["body", "title"]. For the caller that knows
 * where the input it checked sits in its own request.
 */
void error_locate(struct error *e, size_t from, const char *name);
void error_locate_index(struct error *e, size_t from, int64_t index);

/* True when `e` holds a problem whose path starts with the field `field`. */
bool error_has(const struct error *e, const char *field);

const char *status_name(enum status s);

#endif
