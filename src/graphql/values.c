/*
 * values.c: the values of a request: its variables, coerced from the
 * request's JSON to the types the operation declares (the specification's
 * CoerceVariableValues, with Hasura v2's messages), and argument values
 * with those variables put in. Literals were checked against their types by
 * the validator; variables are checked here, so that the planner reads
 * values that always fit their types.
 */
#include "graphql/gx.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graphql/validate.h"
#include "lib/utf8.h"
#include "lib/banned.h"

static struct gql_value *new_value(struct gx *x, enum gql_value_kind kind)
{
	struct gql_value *v = ARENA_NEW(x->a, struct gql_value);
	v->kind = kind;
	return v;
}

/* "a string", "a number", ... for messages about a JSON value. */
static const char *json_kind(json_object *j)
{
	switch (json_object_get_type(j)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
	case json_type_double:
		return "a number";
	case json_type_string:
		return "a string";
	case json_type_array:
		return "a list";
	case json_type_object:
		return "an object";
	}
	return "a value";
}

static const char *type_text(struct gx *x, const struct gql_type *t)
{
	struct buf b = BUF_INIT;
	gql_type_write(&b, t);
	char *s = arena_strndup(x->a, b.data ? b.data : "", b.len);
	buf_release(&b);
	return s;
}

static const struct gql_value *from_json(struct gx *x, json_object *j, const struct gql_type *t,
					 bool *ok);

/* An input object from a JSON object. */
static const struct gql_value *object_from_json(struct gx *x, json_object *j,
						const struct gql_type *t, bool *ok)
{
	if (!json_object_is_type(j, json_type_object)) {
		*ok = gx_fail(x, "validation-failed", "expected an object for type '%s', but found %s",
			      t->name, json_kind(j));
		return NULL;
	}
	struct gql_value *v = new_value(x, GQL_OBJECT);
	size_t n = (size_t)json_object_object_length(j), k = 0;
	v->fields = ARENA_NEW_ARRAY(x->a, struct gql_object_field, n ? n : 1);
	json_object_object_foreach(j, key, val)
	{
		const struct gql_input_value *iv = gql_input_find(t->inputs, t->ninputs, key);
		if (!iv) {
			*ok = gx_fail(x, "validation-failed", "field '%s' not found in type: '%s'", key,
				      t->name);
			return NULL;
		}
		gx_push(x, iv->name);
		const struct gql_value *fv = from_json(x, val, iv->type, ok);
		gx_pop(x);
		if (!*ok)
			return NULL;
		v->fields[k++] = (struct gql_object_field){ .name = iv->name, .value =
								     (struct gql_value *)fv };
	}
	v->nfields = k;
	for (size_t i = 0; i < t->ninputs; i++) {
		const struct gql_input_value *iv = &t->inputs[i];
		if (iv->type->kind == GK_NON_NULL && !iv->default_value &&
		    !json_object_object_get_ex(j, iv->name, NULL)) {
			*ok = gx_fail(x, "validation-failed", "missing required field '%s'", iv->name);
			return NULL;
		}
	}
	return v;
}

/* A leaf value (a scalar or an enum) from JSON. */
static const struct gql_value *leaf_from_json(struct gx *x, json_object *j,
					      const struct gql_type *t, bool *ok)
{
	struct gql_value *v;
	json_type jt = json_object_get_type(j);
	if (t->kind == GK_ENUM) {
		if (jt == json_type_string && gql_enum_find(t, json_object_get_string(j))) {
			v = new_value(x, GQL_ENUM);
			v->text = arena_strdup(x->a, json_object_get_string(j));
			return v;
		}
		struct buf names = BUF_INIT;
		for (size_t i = 0; i < t->nvalues && i < 12; i++)
			buf_addf(&names, "%s'%s'", i ? ", " : "", t->values[i].name);
		if (t->nvalues > 12)
			buf_adds(&names, ", ...");
		gx_fail(x, "validation-failed", "expected one of the values [%s] for type '%s', but found %s",
			names.data, t->name,
			jt == json_type_string ? arena_strdup(x->a, json_object_get_string(j)) : json_kind(j));
		buf_release(&names);
		*ok = false;
		return NULL;
	}
	switch (t->scalar) {
	case GS_INT: {
		int64_t n = 0;
		bool integral = false;
		if (jt == json_type_int) {
			errno = 0;
			n = json_object_get_int64(j);
			integral = errno != ERANGE;
		} else if (jt == json_type_double) {
			double d = json_object_get_double(j);
			integral = isfinite(d) && d == floor(d) && fabs(d) < 4e9;
			n = integral ? (int64_t)d : 0;
		}
		if (!integral || n < INT32_MIN || n > INT32_MAX) {
			*ok = gx_fail(x, "validation-failed",
				      "expected a 32-bit integer for type '%s', but found %s", t->name,
				      jt == json_type_int || jt == json_type_double ? "a number out of range or with a fraction" : json_kind(j));
			return NULL;
		}
		v = new_value(x, GQL_INT);
		char num[24];
		snprintf(num, sizeof(num), "%" PRId64, n);
		v->text = arena_strdup(x->a, num);
		return v;
	}
	case GS_FLOAT: {
		if (jt != json_type_int && jt != json_type_double) {
			*ok = gx_fail(x, "validation-failed", "expected a float for type '%s', but found %s",
				      t->name, json_kind(j));
			return NULL;
		}
		v = new_value(x, GQL_FLOAT);
		char num[40];
		snprintf(num, sizeof(num), "%.17g", json_object_get_double(j));
		v->text = arena_strdup(x->a, num);
		return v;
	}
	case GS_BOOLEAN:
		if (jt != json_type_boolean) {
			*ok = gx_fail(x, "validation-failed", "expected a boolean for type '%s', but found %s",
				      t->name, json_kind(j));
			return NULL;
		}
		v = new_value(x, GQL_BOOLEAN);
		v->boolean = json_object_get_boolean(j);
		return v;
	case GS_STRING:
	case GS_ID:
	case GS_TIMESTAMP: {
		if (jt != json_type_string) {
			*ok = gx_fail(x, "validation-failed", "expected a string for type '%s', but found %s",
				      t->name, json_kind(j));
			return NULL;
		}
		const char *s = json_object_get_string(j);
		size_t len = (size_t)json_object_get_string_len(j);
		if (memchr(s, '\0', len) || !utf8_valid(s, len)) {
			*ok = gx_fail(x, "validation-failed",
				      "expected a string for type '%s', but found one with a NUL "
				      "character or a lone surrogate", t->name);
			return NULL;
		}
		int64_t when;
		bool fraction;
		if (t->scalar == GS_TIMESTAMP && !gql_timestamp_parse(s, &when, &fraction)) {
			*ok = gx_fail(x, "validation-failed",
				      "expected an ISO 8601 date and time for type '%s', but found '%s'",
				      t->name, s);
			return NULL;
		}
		v = new_value(x, GQL_STRING);
		v->text = arena_strndup(x->a, s, len);
		return v;
	}
	case GS_NONE:
		break;
	}
	*ok = gx_fail(x, "unexpected", "a value of an unknown type");
	return NULL;
}

/* Converts `j` to a value of type `t`; *ok false with the error when it does not fit. */
static const struct gql_value *from_json(struct gx *x, json_object *j, const struct gql_type *t,
					 bool *ok)
{
	if (t->kind == GK_NON_NULL) {
		if (!j) {
			*ok = gx_fail(x, "validation-failed", "unexpected null value for type '%s'",
				      type_text(x, t));
			return NULL;
		}
		return from_json(x, j, t->of, ok);
	}
	if (!j)
		return new_value(x, GQL_NULL);
	switch (t->kind) {
	case GK_LIST: {
		struct gql_value *v = new_value(x, GQL_LIST);
		if (!json_object_is_type(j, json_type_array)) {
			/* A single value stands for a list of one. */
			v->items = ARENA_NEW_ARRAY(x->a, struct gql_value *, 1);
			v->items[0] = (struct gql_value *)from_json(x, j, t->of, ok);
			v->nitems = 1;
			return *ok ? v : NULL;
		}
		size_t n = json_object_array_length(j);
		v->items = ARENA_NEW_ARRAY(x->a, struct gql_value *, n ? n : 1);
		for (size_t i = 0; i < n; i++) {
			gx_push_index(x, i);
			v->items[i] = (struct gql_value *)from_json(x, json_object_array_get_idx(j, i),
								    t->of, ok);
			gx_pop(x);
			if (!*ok)
				return NULL;
		}
		v->nitems = n;
		return v;
	}
	case GK_INPUT_OBJECT:
		return object_from_json(x, j, t, ok);
	case GK_SCALAR:
	case GK_ENUM:
		return leaf_from_json(x, j, t, ok);
	default:
		*ok = gx_fail(x, "validation-failed", "the type '%s' is not an input type",
			      type_text(x, t));
		return NULL;
	}
}

static const struct gql_type *type_of_ref(struct gx *x, const struct gql_type_ref *r)
{
	switch (r->kind) {
	case GQL_TYPE_NAMED:
		return gql_type_find(x->s, r->name);
	case GQL_TYPE_LIST: {
		const struct gql_type *of = type_of_ref(x, r->of);
		if (!of)
			return NULL;
		struct gql_type *t = ARENA_NEW(x->a, struct gql_type);
		t->kind = GK_LIST;
		t->of = of;
		return t;
	}
	case GQL_TYPE_NON_NULL: {
		const struct gql_type *of = type_of_ref(x, r->of);
		if (!of)
			return NULL;
		struct gql_type *t = ARENA_NEW(x->a, struct gql_type);
		t->kind = GK_NON_NULL;
		t->of = of;
		return t;
	}
	}
	return NULL;
}

bool gx_variables(struct gx *x)
{
	const struct gql_operation *op = x->op;
	json_object *given = x->rq->variables;
	x->nvars = op->nvars;
	x->vars = ARENA_NEW_ARRAY(x->a, struct gx_var, op->nvars ? op->nvars : 1);
	gx_push(x, "variableValues");
	if (given) {
		/* Hasura refuses variables the operation does not declare. */
		struct buf extra = BUF_INIT;
		json_object_object_foreach(given, key, val)
		{
			(void)val;
			bool declared = false;
			for (size_t i = 0; i < op->nvars && !declared; i++)
				declared = !strcmp(op->vars[i].name, key);
			if (!declared)
				buf_addf(&extra, "%s%s", extra.len ? ", " : "", key);
		}
		if (extra.len) {
			gx_fail(x, "validation-failed", "unexpected variables in variableValues: %s",
				extra.data);
			buf_release(&extra);
			return false;
		}
	}
	bool ok = true;
	for (size_t i = 0; i < op->nvars && ok; i++) {
		const struct gql_variable_def *d = &op->vars[i];
		struct gx_var *v = &x->vars[i];
		v->name = d->name;
		v->type = type_of_ref(x, d->type);
		if (!v->type || !gql_is_input(v->type))
			return gx_fail(x, "validation-failed", "the variable '%s' has no input type",
				       d->name);
		json_object *j;
		if (!given || !json_object_object_get_ex(given, d->name, &j)) {
			if (d->default_value)
				v->value = d->default_value;
			else if (v->type->kind == GK_NON_NULL)
				return gx_fail(x, "validation-failed",
					       "expecting a value for non-nullable variable: \"%s\"",
					       d->name);
			continue;
		}
		gx_push(x, d->name);
		v->value = from_json(x, j, v->type, &ok);
		gx_pop(x);
	}
	gx_pop(x);
	return ok;
}

const struct gql_value *gx_resolve(struct gx *x, const struct gql_value *v)
{
	switch (v->kind) {
	case GQL_VARIABLE:
		for (size_t i = 0; i < x->nvars; i++)
			if (!strcmp(x->vars[i].name, v->text))
				return x->vars[i].value;
		return NULL;
	case GQL_LIST: {
		struct gql_value *out = NULL;
		for (size_t i = 0; i < v->nitems; i++) {
			const struct gql_value *item = gx_resolve(x, v->items[i]);
			if (item == v->items[i] && !out)
				continue;
			if (!out) {
				out = new_value(x, GQL_LIST);
				out->pos = v->pos;
				out->items = ARENA_NEW_ARRAY(x->a, struct gql_value *, v->nitems);
				memcpy(out->items, v->items, i * sizeof(*out->items));
				out->nitems = v->nitems;
			}
			out->items[i] = item ? (struct gql_value *)item : new_value(x, GQL_NULL);
		}
		return out ? out : v;
	}
	case GQL_OBJECT: {
		struct gql_value *out = NULL;
		size_t k = 0;
		for (size_t i = 0; i < v->nfields; i++) {
			const struct gql_value *fv = gx_resolve(x, v->fields[i].value);
			if (fv == v->fields[i].value && !out) {
				k++;
				continue;
			}
			if (!out) {
				out = new_value(x, GQL_OBJECT);
				out->pos = v->pos;
				out->fields = ARENA_NEW_ARRAY(x->a, struct gql_object_field, v->nfields);
				memcpy(out->fields, v->fields, k * sizeof(*out->fields));
			}
			if (fv) {
				out->fields[k] = v->fields[i];
				out->fields[k++].value = (struct gql_value *)fv;
			}
		}
		if (!out)
			return v;
		out->nfields = k;
		return out;
	}
	default:
		return v;
	}
}

const struct gql_value *gx_arg(struct gx *x, const struct gql_argument *args, size_t nargs,
			       const char *name)
{
	for (size_t i = 0; i < nargs; i++)
		if (!strcmp(args[i].name, name))
			return gx_resolve(x, args[i].value);
	return NULL;
}

bool gx_included(struct gx *x, const struct gql_directive *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool skip = !strcmp(d[i].name, "skip");
		if (!skip && strcmp(d[i].name, "include"))
			continue;
		const struct gql_value *v = gx_arg(x, d[i].args, d[i].nargs, "if");
		bool cond = v && v->kind == GQL_BOOLEAN && v->boolean;
		if (skip == cond)
			return false;
	}
	return true;
}

bool gx_int(const struct gql_value *v, int64_t *out)
{
	if (!v || v->kind != GQL_INT || !v->text)
		return false;
	char *end;
	errno = 0;
	long long n = strtoll(v->text, &end, 10);
	if (errno || *end)
		return false;
	*out = n;
	return true;
}
