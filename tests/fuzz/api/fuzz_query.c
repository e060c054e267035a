/*
 * fuzz_query.c: query parameter values (api/respond.c, core/model.c): the
 * checks behind api_query_int, api_query_lifecycle, api_query_priority and
 * api_query_str, on arbitrary NUL-free strings, as decoded query values
 * reach them. Every parameter of the route table is tried with its own
 * bounds.
 *
 * Invariants, against a reference written from the specification: an
 * integer is accepted exactly when it is valid UTF-8 of the form -?[0-9]+
 * within int64 and within the parameter's bounds, and then has that value;
 * an enum exactly when it is one of the names, spelt the same; otherwise
 * the default stays and exactly one problem is added, at ["query", key],
 * of the type the first broken rule names.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "api/api.h"
#include "core/model.h"
#include "lib/error.h"
#include "lib/utf8.h"
#include "lib/banned.h"

/* The reference: -?[0-9]+ fitting in an int64. */
static bool ref_int(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	const char *p = s + neg;
	if (!*p)
		return false;
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* The one problem added since `mark`: at ["query", key], of type `type`. */
static void check_problem(const struct error *err, size_t mark, const char *key, const char *type)
{
	FUZZ_CHECK(err->status == E_INVALID && err->nproblems == mark + 1);
	const struct problem *p = &err->problems[mark];
	FUZZ_CHECK(p->nloc == 2 && !strcmp(p->loc[0].name, "query"));
	FUZZ_CHECK(!strcmp(p->loc[1].name, key));
	FUZZ_CHECK(!strcmp(p->type, type));
}

static const struct {
	const char *key;
	int64_t def, min, max;
} int_params[] = {
	{ "page", 1, 1, INT64_MAX },
	{ "page_size", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX },
	{ "category_id", 0, 1, INT64_MAX },
	{ "skip", 0, 0, INT64_MAX },
	{ "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX },
	{ "days", 30, 1, 366 },
	{ "limit", 10, 1, 100 },
	{ "x", 0, INT64_MIN, INT64_MAX },
};

static void fuzz_int(const char *v, bool unicode)
{
	int64_t want;
	bool parses = unicode && ref_int(v, &want);
	for (size_t i = 0; i < sizeof(int_params) / sizeof(int_params[0]); i++) {
		const char *key = int_params[i].key;
		int64_t def = int_params[i].def, min = int_params[i].min, max = int_params[i].max;
		struct error err = ERROR_INIT;
		int64_t out = -7;
		api_query_parse_int(key, v, def, min, max, &out, &err);
		if (parses && want >= min && want <= max) {
			FUZZ_CHECK(err.status == OK && err.nproblems == 0);
			FUZZ_CHECK(out == want);
			continue;
		}
		FUZZ_CHECK(out == def);
		check_problem(&err, 0, key, !unicode ? "string_unicode" : !parses ? "int_parsing"
				  : want < min ? "greater_than_equal" : "less_than_equal");
	}
	/* Absent: the default, no problem. */
	struct error err = ERROR_INIT;
	int64_t out = -7;
	api_query_parse_int("page", NULL, 3, 1, 9, &out, &err);
	FUZZ_CHECK(out == 3 && err.status == OK);
}

static void fuzz_enums(const char *v, bool unicode)
{
	struct error err = ERROR_INIT;
	int l = -7;
	api_query_parse_lifecycle("status", v, &l, &err);
	int want = -1;
	for (int i = 0; i < LIFECYCLE_COUNT; i++)
		if (!strcmp(v, lifecycle_name((enum lifecycle)i)))
			want = i;
	FUZZ_CHECK(l == want);
	if (want < 0)
		check_problem(&err, 0, "status", unicode ? "enum" : "string_unicode");
	else
		FUZZ_CHECK(err.status == OK);

	/* Problems accumulate in one error, as a handler reads its parameters. */
	size_t mark = err.nproblems;
	int p = -7;
	api_query_parse_priority("priority", v, &p, &err);
	want = -1;
	for (int i = 0; i < PRIORITY_COUNT; i++)
		if (!strcmp(v, priority_name((enum priority)i)))
			want = i;
	FUZZ_CHECK(p == want);
	if (want < 0)
		check_problem(&err, mark, "priority", unicode ? "enum" : "string_unicode");
	else
		FUZZ_CHECK(err.nproblems == mark);
}

static void fuzz_str(const char *v, bool unicode)
{
	struct error err = ERROR_INIT;
	const char *out = "unset";
	api_query_parse_str("author", v, &out, &err);
	if (!unicode) {
		FUZZ_CHECK(out == NULL);
		check_problem(&err, 0, "author", "string_unicode");
		return;
	}
	FUZZ_CHECK(err.status == OK);
	FUZZ_CHECK(*v ? out == v : out == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = fuzz_cstr(data, size);
	bool unicode = utf8_valid(v, strlen(v));
	fuzz_int(v, unicode);
	fuzz_enums(v, unicode);
	fuzz_str(v, unicode);
	free(v);
	return 0;
}
