/*
 * error.c: filling struct error.
 */
#include "lib/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/banned.h"

void error_clear(struct error *e)
{
	e->status = OK;
	e->detail[0] = '\0';
	e->nproblems = 0;
}

enum status error_set(struct error *e, enum status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	e->status = status;
	return status;
}

enum status error_invalid(struct error *e, const char *loc, const char *type,
			  const char *fmt, ...)
{
	e->status = E_INVALID;
	if (!e->detail[0])
		snprintf(e->detail, sizeof(e->detail), "Invalid input");
	if (e->nproblems >= ERROR_MAX_PROBLEMS)
		return E_INVALID;
	struct problem *p = &e->problems[e->nproblems++];
	snprintf(p->loc, sizeof(p->loc), "%s", loc);
	snprintf(p->type, sizeof(p->type), "%s", type);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return E_INVALID;
}

bool error_has(const struct error *e, const char *loc)
{
	for (size_t i = 0; i < e->nproblems; i++)
		if (!strcmp(e->problems[i].loc, loc))
			return true;
	return false;
}

const char *status_name(enum status s)
{
	switch (s) {
	case OK: return "ok";
	case E_INVALID: return "invalid";
	case E_NOTFOUND: return "not_found";
	case E_CONFLICT: return "conflict";
	case E_TOOLARGE: return "too_large";
	case E_UNAVAILABLE: return "unavailable";
	case E_INTERNAL: return "internal";
	}
	return "unknown";
}
