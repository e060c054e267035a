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
	e->transient = false;
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

/* A new problem (NULL when the list is full), the status set to E_INVALID. */
static struct problem *add_problem(struct error *e, const char *type)
{
	e->status = E_INVALID;
	if (!e->detail[0])
		snprintf(e->detail, sizeof(e->detail), "Invalid input");
	if (e->nproblems >= ERROR_MAX_PROBLEMS)
		return NULL;
	struct problem *p = &e->problems[e->nproblems++];
	memset(p, 0, sizeof(*p));
	snprintf(p->type, sizeof(p->type), "%s", type);
	return p;
}

static void push_name(struct problem *p, const char *name)
{
	if (p->nloc < ERROR_LOC_MAX) {
		struct loc_segment *s = &p->loc[p->nloc++];
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->index = 0;
	}
}

static void push_index(struct problem *p, int64_t index)
{
	if (p->nloc < ERROR_LOC_MAX)
		p->loc[p->nloc++] = (struct loc_segment){ .name = "", .index = index };
}

enum status error_invalid(struct error *e, const char *field, const char *type,
			  const char *fmt, ...)
{
	struct problem *p = add_problem(e, type);
	if (!p)
		return E_INVALID;
	if (field)
		push_name(p, field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return E_INVALID;
}

enum status error_invalid_item(struct error *e, const char *field, int64_t index,
			       const char *type, const char *fmt, ...)
{
	struct problem *p = add_problem(e, type);
	if (!p)
		return E_INVALID;
	if (field)
		push_name(p, field);
	push_index(p, index);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return E_INVALID;
}

/* Makes room for one segment in front of the path (dropping the innermost if full). */
static struct loc_segment *prepend(struct problem *p)
{
	unsigned keep = p->nloc < ERROR_LOC_MAX ? p->nloc : ERROR_LOC_MAX - 1;
	memmove(&p->loc[1], &p->loc[0], keep * sizeof(p->loc[0]));
	p->nloc = keep + 1;
	return &p->loc[0];
}

void error_locate(struct error *e, size_t from, const char *name)
{
	for (size_t i = from; i < e->nproblems; i++) {
		struct loc_segment *s = prepend(&e->problems[i]);
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->index = 0;
	}
}

void error_locate_index(struct error *e, size_t from, int64_t index)
{
	for (size_t i = from; i < e->nproblems; i++)
		*prepend(&e->problems[i]) = (struct loc_segment){ .name = "", .index = index };
}

bool error_has(const struct error *e, const char *field)
{
	for (size_t i = 0; i < e->nproblems; i++) {
		const struct problem *p = &e->problems[i];
		if (p->nloc && p->loc[0].name[0] && !strcmp(p->loc[0].name, field))
			return true;
	}
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
	case E_PRECONDITION: return "precondition_failed";
	}
	return "unknown";
}
