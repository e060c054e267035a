/*
 * input.c: the domain's inputs decoded from JSON (input.h), for every front
 * end that receives JSON: REST bodies, and GraphQL's input objects, which
 * the GraphQL executor hands over as JSON so that both answer a wrong value
 * with the same problem.
 *
 * Integer fields accept what pydantic's lax mode accepts from JSON: an
 * integer, a float without a fractional part, or a string of decimal
 * digits. Booleans are not integers here.
 */
#include "core/input.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/banned.h"

/* ---- decoding ------------------------------------------------------- */

/*
 * Reads `key` as a string: unset when absent, set with NULL when null.
 * Strings holding a NUL character are refused: no store can keep them.
 */
static void get_str(json_object *o, const char *key, struct arena *a, struct opt_str *out,
		    struct error *err)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return;
	out->set = true;
	out->v = NULL;
	if (!v)
		return;
	if (!json_object_is_type(v, json_type_string)) {
		error_invalid(err, key, "string_type", "Input should be a valid string");
		return;
	}
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', len)) {
		error_invalid(err, key, "string_type", "Input should be a string without NUL characters");
		return;
	}
	if (!utf8_valid(s, len)) {
		/* An escaped lone surrogate ("\ud800") decodes to no valid character. */
		error_invalid(err, key, "string_unicode", "Input should be a valid string, unable to parse raw data as a unicode string");
		return;
	}
	out->v = arena_strndup(a, s, len);
}

/* Converts a JSON value to an integer the way pydantic's lax mode does. */
static bool as_int(json_object *v, int64_t *out, const char **type, const char **msg)
{
	switch (json_object_get_type(v)) {
	case json_type_int:
		errno = 0;
		*out = json_object_get_int64(v);
		if (errno == ERANGE || (*out == INT64_MAX && json_object_get_uint64(v) > INT64_MAX))
			break;
		return true;
	case json_type_double: {
		double d = json_object_get_double(v);
		if (isfinite(d) && d == floor(d) && fabs(d) < 9.2e18) {
			*out = (int64_t)d;
			return true;
		}
		*type = "int_from_float";
		*msg = "Input should be a valid integer, got a number with a fractional part";
		return false;
	}
	case json_type_string: {
		const char *s = json_object_get_string(v);
		char *end;
		errno = 0;
		long long n = strtoll(s, &end, 10);
		if (*s && !errno && !*end && s[0] != ' ') {
			*out = n;
			return true;
		}
		*type = "int_parsing";
		*msg = "Input should be a valid integer, unable to parse string as an integer";
		return false;
	}
	default:
		break;
	}
	*type = "int_type";
	*msg = "Input should be a valid integer";
	return false;
}

/* Reads `key` as a nullable id (absent: unset; null: set to 0). */
static void get_id(json_object *o, const char *key, struct opt_id *out, struct error *err)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return;
	out->set = true;
	out->v = 0;
	if (!v)
		return;
	const char *type, *msg;
	int64_t n;
	if (!as_int(v, &n, &type, &msg)) {
		error_invalid(err, key, type, "%s", msg);
		return;
	}
	if (n < 1) {
		error_invalid(err, key, "greater_than_equal", "Input should be greater than or equal to 1");
		return;
	}
	out->v = n;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Reads `key` as a list of ids, sorted and without duplicates. */
static void get_ids(json_object *o, const char *key, struct arena *a, bool *set, int64_t **ids,
		    size_t *n, bool nullable, struct error *err)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return;
	if (!v && nullable)
		return;
	*set = true;
	if (!v || !json_object_is_type(v, json_type_array)) {
		error_invalid(err, key, "list_type", "Input should be a valid list");
		return;
	}
	size_t len = json_object_array_length(v);
	int64_t *out = ARENA_NEW_ARRAY(a, int64_t, len ? len : 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		const char *type, *msg;
		int64_t id;
		if (!as_int(json_object_array_get_idx(v, i), &id, &type, &msg))
			error_invalid_item(err, key, (int64_t)i, type, "%s", msg);
		else if (id < 1)
			error_invalid_item(err, key, (int64_t)i, "greater_than_equal",
					   "Input should be greater than or equal to 1");
		else
			out[k++] = id;
	}
	qsort(out, k, sizeof(*out), cmp_id);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || out[u - 1] != out[i])
			out[u++] = out[i];
	*ids = out;
	*n = u;
}

/*
 * Reads `key` as one of `names` (an enum): sets *index, or reports the
 * pydantic enum problem. `nullable`: null counts as absent.
 */
static void get_enum(json_object *o, const char *key, int (*parse)(const char *, int *),
		     const char *expected, bool nullable, bool *set, int *index, struct error *err)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return;
	if (!v && nullable)
		return;
	if (!v || !json_object_is_type(v, json_type_string) || parse(json_object_get_string(v), index)) {
		error_invalid(err, key, "enum", "Input should be %s", expected);
		return;
	}
	*set = true;
}

static int parse_priority(const char *s, int *out)
{
	enum priority p;
	if (priority_parse(s, &p))
		return -1;
	*out = (int)p;
	return 0;
}

static int parse_lifecycle(const char *s, int *out)
{
	enum lifecycle l;
	if (lifecycle_parse(s, &l))
		return -1;
	*out = (int)l;
	return 0;
}

#define PRIORITY_EXPECTED "'low', 'medium', 'high' or 'critical'"
#define LIFECYCLE_EXPECTED "'draft', 'published' or 'archived'"

enum status decode_insight_input(json_object *o, struct arena *a, struct insight_input *in,
				 struct error *err)
{
	memset(in, 0, sizeof(*in));
	get_str(o, "title", a, &in->title, err);
	get_str(o, "description", a, &in->description, err);
	get_str(o, "content", a, &in->content, err);
	get_str(o, "source", a, &in->source, err);
	get_str(o, "author", a, &in->author, err);
	get_str(o, "review_by", a, &in->review_by, err);
	get_str(o, "owner", a, &in->owner, err);
	get_id(o, "category_id", &in->category_id, err);
	int p = 0, s = 0;
	get_enum(o, "priority", parse_priority, PRIORITY_EXPECTED, false, &in->priority_set, &p, err);
	get_enum(o, "status", parse_lifecycle, LIFECYCLE_EXPECTED, false, &in->status_set, &s, err);
	in->priority = (enum priority)p;
	in->status = (enum lifecycle)s;
	get_ids(o, "tag_ids", a, &in->tag_ids_set, &in->tag_ids, &in->ntag_ids, false, err);
	return err->status == E_INVALID ? E_INVALID : OK;
}

enum status decode_tag_input(json_object *o, struct arena *a, struct tag_input *in,
			     struct error *err)
{
	memset(in, 0, sizeof(*in));
	get_str(o, "name", a, &in->name, err);
	get_str(o, "slug", a, &in->slug, err);
	get_str(o, "description", a, &in->description, err);
	get_str(o, "color", a, &in->color, err);
	return err->status == E_INVALID ? E_INVALID : OK;
}

enum status decode_category_input(json_object *o, struct arena *a, struct category_input *in,
				  struct error *err)
{
	memset(in, 0, sizeof(*in));
	get_str(o, "name", a, &in->name, err);
	get_str(o, "slug", a, &in->slug, err);
	get_str(o, "description", a, &in->description, err);
	get_id(o, "parent_id", &in->parent_id, err);
	get_str(o, "color", a, &in->color, err);
	get_str(o, "icon", a, &in->icon, err);
	return err->status == E_INVALID ? E_INVALID : OK;
}

/* Reads an integer `key` within [min, max]; null or absent keeps `*out`. */
static void get_bounded(json_object *o, const char *key, int64_t min, int64_t max, int64_t *out,
			struct error *err)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return;
	const char *type, *msg;
	int64_t n;
	if (!as_int(v, &n, &type, &msg))
		error_invalid(err, key, type, "%s", msg);
	else if (n < min)
		error_invalid(err, key, "greater_than_equal",
			      "Input should be greater than or equal to %" PRId64, min);
	else if (n > max)
		error_invalid(err, key, "less_than_equal",
			      "Input should be less than or equal to %" PRId64, max);
	else
		*out = n;
}

enum status decode_search(json_object *o, struct arena *a, struct insight_filter *f,
			  struct error *err)
{
	memset(f, 0, sizeof(*f));
	f->status = -1;
	f->priority = -1;
	f->page = 1;
	f->page_size = PAGE_SIZE_DEFAULT;

	struct opt_str text = { 0 }, author = { 0 };
	get_str(o, "query", a, &text, err);
	f->text = text.v;
	if (text.v && utf8_count(text.v, strlen(text.v)) > SEARCH_QUERY_MAX)
		error_invalid(err, "query", "string_too_long",
			      "String should have at most %d characters", SEARCH_QUERY_MAX);
	get_str(o, "author", a, &author, err);
	f->author = author.v && *author.v ? author.v : NULL;

	struct opt_id cat = { 0 };
	get_id(o, "category_id", &cat, err);
	f->category_id = cat.v;

	bool set = false;
	int64_t *ids = NULL;
	get_ids(o, "tag_ids", a, &set, &ids, &f->ntag_ids, true, err);
	f->tag_ids = ids;

	bool pset = false, sset = false;
	int p = -1, s = -1;
	get_enum(o, "priority", parse_priority, PRIORITY_EXPECTED, true, &pset, &p, err);
	get_enum(o, "status", parse_lifecycle, LIFECYCLE_EXPECTED, true, &sset, &s, err);
	f->priority = pset ? p : -1;
	f->status = sset ? s : -1;

	get_bounded(o, "page", 1, INT64_MAX, &f->page, err);
	get_bounded(o, "page_size", 1, PAGE_SIZE_MAX, &f->page_size, err);
	return err->status == E_INVALID ? E_INVALID : OK;
}
