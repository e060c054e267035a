/*
 * introspect.c: the answers of __schema and __type, read from the same
 * schema structure (schema.h) the validator and the executor use, so that
 * what GraphiQL, graphql-js's buildClientSchema or a code generator learn
 * is exactly what runs. The introspection types are those of the October
 * 2021 specification (specifiedByURL, isRepeatable, includeDeprecated).
 * Nothing here is deprecated, so includeDeprecated changes nothing.
 */
#include "graphql/gx.h"

#include <string.h>

#include "lib/banned.h"

static void write_type(struct gx *x, struct jsonw *w, const struct gx_field *f,
		       const struct gql_type *t);

static const char *const kind_names[] = {
	[GK_SCALAR] = "SCALAR", [GK_OBJECT] = "OBJECT", [GK_INTERFACE] = "INTERFACE",
	[GK_UNION] = "UNION", [GK_ENUM] = "ENUM", [GK_INPUT_OBJECT] = "INPUT_OBJECT",
	[GK_LIST] = "LIST", [GK_NON_NULL] = "NON_NULL",
};

static bool is(const struct gx_field *k, const char *name)
{
	return !strcmp(k->def->name, name);
}

static void write_input_value(struct gx *x, struct jsonw *w, const struct gx_field *f,
			      const struct gql_input_value *v)
{
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		if (is(k, "name"))
			jsonw_str(w, v->name);
		else if (is(k, "description"))
			jsonw_str(w, v->description);
		else if (is(k, "type"))
			write_type(x, w, k, v->type);
		else if (is(k, "defaultValue"))
			jsonw_str(w, v->default_value);
		else if (is(k, "isDeprecated"))
			jsonw_bool(w, false);
		else if (is(k, "deprecationReason"))
			jsonw_null(w);
		else
			jsonw_str(w, k->owner->name);
	}
	jsonw_object_close(w);
}

static void write_inputs(struct gx *x, struct jsonw *w, const struct gx_field *f,
			 const struct gql_input_value *v, size_t n)
{
	jsonw_array_open(w);
	for (size_t i = 0; i < n; i++)
		write_input_value(x, w, f, &v[i]);
	jsonw_array_close(w);
}

static void write_field(struct gx *x, struct jsonw *w, const struct gx_field *f,
			const struct gql_field *d)
{
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		if (is(k, "name"))
			jsonw_str(w, d->name);
		else if (is(k, "description"))
			jsonw_str(w, d->description);
		else if (is(k, "args"))
			write_inputs(x, w, k, d->args, d->nargs);
		else if (is(k, "type"))
			write_type(x, w, k, d->type);
		else if (is(k, "isDeprecated"))
			jsonw_bool(w, d->deprecated);
		else if (is(k, "deprecationReason"))
			jsonw_str(w, d->deprecation_reason);
		else
			jsonw_str(w, k->owner->name);
	}
	jsonw_object_close(w);
}

static void write_enum_value(struct jsonw *w, const struct gx_field *f,
			     const struct gql_enum_value *v)
{
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		if (is(k, "name"))
			jsonw_str(w, v->name);
		else if (is(k, "description"))
			jsonw_str(w, v->description);
		else if (is(k, "isDeprecated"))
			jsonw_bool(w, v->deprecated);
		else if (is(k, "deprecationReason"))
			jsonw_str(w, v->deprecation_reason);
		else
			jsonw_str(w, k->owner->name);
	}
	jsonw_object_close(w);
}

static void write_type(struct gx *x, struct jsonw *w, const struct gx_field *f,
		       const struct gql_type *t)
{
	if (!t) {
		jsonw_null(w);
		return;
	}
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		if (is(k, "kind")) {
			jsonw_str(w, kind_names[t->kind]);
		} else if (is(k, "name")) {
			jsonw_str(w, t->name);
		} else if (is(k, "description")) {
			jsonw_str(w, t->description);
		} else if (is(k, "specifiedByURL")) {
			jsonw_str(w, t->specified_by);
		} else if (is(k, "fields")) {
			if (t->kind != GK_OBJECT) {
				jsonw_null(w);
				continue;
			}
			jsonw_array_open(w);
			for (size_t j = 0; j < t->nfields; j++)
				write_field(x, w, k, &t->fields[j]);
			jsonw_array_close(w);
		} else if (is(k, "interfaces")) {
			if (t->kind == GK_OBJECT) {
				jsonw_array_open(w);
				jsonw_array_close(w);
			} else {
				jsonw_null(w);
			}
		} else if (is(k, "possibleTypes")) {
			jsonw_null(w);
		} else if (is(k, "enumValues")) {
			if (t->kind != GK_ENUM) {
				jsonw_null(w);
				continue;
			}
			jsonw_array_open(w);
			for (size_t j = 0; j < t->nvalues; j++)
				write_enum_value(w, k, &t->values[j]);
			jsonw_array_close(w);
		} else if (is(k, "inputFields")) {
			if (t->kind != GK_INPUT_OBJECT)
				jsonw_null(w);
			else
				write_inputs(x, w, k, t->inputs, t->ninputs);
		} else if (is(k, "ofType")) {
			write_type(x, w, k, t->kind == GK_LIST || t->kind == GK_NON_NULL ? t->of : NULL);
		} else {
			jsonw_str(w, k->owner->name);
		}
	}
	jsonw_object_close(w);
}

static void write_directive(struct gx *x, struct jsonw *w, const struct gx_field *f,
			    const struct gql_directive_def *d)
{
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		if (is(k, "name")) {
			jsonw_str(w, d->name);
		} else if (is(k, "description")) {
			jsonw_str(w, d->description);
		} else if (is(k, "isRepeatable")) {
			jsonw_bool(w, d->repeatable);
		} else if (is(k, "locations")) {
			jsonw_array_open(w);
			for (int b = 0; b < GD__COUNT; b++)
				if (d->locations & (1u << b))
					jsonw_str(w, gql_directive_loc_names[b]);
			jsonw_array_close(w);
		} else if (is(k, "args")) {
			write_inputs(x, w, k, d->args, d->nargs);
		} else {
			jsonw_str(w, k->owner->name);
		}
	}
	jsonw_object_close(w);
}

static void write_schema(struct gx *x, struct jsonw *w, const struct gx_field *f)
{
	const struct gql_schema *s = x->s;
	jsonw_object_open(w);
	for (size_t i = 0; i < f->nkids; i++) {
		const struct gx_field *k = &f->kids[i];
		jsonw_key(w, k->key);
		if (is(k, "description")) {
			jsonw_str(w, s->description);
		} else if (is(k, "types")) {
			jsonw_array_open(w);
			for (size_t j = 0; j < s->ntypes; j++)
				write_type(x, w, k, s->types[j]);
			jsonw_array_close(w);
		} else if (is(k, "queryType")) {
			write_type(x, w, k, s->query);
		} else if (is(k, "mutationType")) {
			write_type(x, w, k, s->mutation);
		} else if (is(k, "subscriptionType")) {
			jsonw_null(w);
		} else if (is(k, "directives")) {
			jsonw_array_open(w);
			for (size_t j = 0; j < s->ndirectives; j++)
				write_directive(x, w, k, &s->directives[j]);
			jsonw_array_close(w);
		} else {
			jsonw_str(w, k->owner->name);
		}
	}
	jsonw_object_close(w);
}

void gx_write_meta(struct gx *x, struct jsonw *w, const struct gx_field *f)
{
	if (f->def->kind == GF_SCHEMA) {
		write_schema(x, w, f);
		return;
	}
	const struct gql_value *name = gx_arg(x, f->ast->args, f->ast->nargs, "name");
	write_type(x, w, f, name && name->kind == GQL_STRING ? gql_type_find(x->s, name->text) : NULL);
}
