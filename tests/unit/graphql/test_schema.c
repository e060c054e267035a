/*
 * test_schema.c: the GraphQL schema generated from core/query.h: Hasura's
 * type names, the shapes of the fields clients rely on, and lookups.
 */
#include "t.h"

#include <stdlib.h>

#include "graphql/schema.h"

/* The type of field `field` of type `type` as GraphQL writes it, or "(none)". */
static const char *field_type(const char *type, const char *field)
{
	static char out[128];
	const struct gql_schema *s = gql_schema();
	const struct gql_type *t = gql_type_find(s, type);
	const struct gql_field *f = t ? gql_field_find(s, t, field) : NULL;
	if (!f)
		return "(none)";
	struct buf b = BUF_INIT;
	gql_type_write(&b, f->type);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_release(&b);
	return out;
}

static const char *input_type(const char *type, const char *name)
{
	static char out[128];
	const struct gql_type *t = gql_type_find(gql_schema(), type);
	const struct gql_input_value *v = t ? gql_input_find(t->inputs, t->ninputs, name) : NULL;
	if (!v)
		return "(none)";
	struct buf b = BUF_INIT;
	gql_type_write(&b, v->type);
	snprintf(out, sizeof(out), "%s", b.data);
	buf_release(&b);
	return out;
}

TEST(graphql_schema_names)
{
	const struct gql_schema *s = gql_schema();
	const char *names[] = {
		"insights", "insights_bool_exp", "insights_order_by", "insights_insert_input",
		"insights_set_input", "insights_select_column", "insights_aggregate",
		"insights_aggregate_fields", "insights_mutation_response", "insights_pk_columns_input",
		"insights_max_fields", "insights_min_fields", "insights_avg_fields",
		"insights_sum_fields", "String_comparison_exp", "Int_comparison_exp",
		"timestamp_comparison_exp", "order_by", "query_root", "mutation_root", "tags",
		"categories", "tags_aggregate_order_by", "search_insights_args", "insights_group",
		"__Schema", "__Type", "__TypeKind", "__Field", "__InputValue", "__EnumValue",
		"__Directive", "__DirectiveLocation", "Int", "Float", "String", "Boolean", "timestamp",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct gql_type *t = gql_type_find(s, names[i]);
		CHECK(t != NULL);
		if (t)
			CHECK_STR(t->name, names[i]);
	}
	CHECK(gql_type_find(s, "Float_comparison_exp") == NULL); /* no Float column */
	CHECK(gql_type_find(s, "nope") == NULL);
	for (size_t i = 1; i < s->ntypes; i++)
		CHECK(strcmp(s->types[i - 1]->name, s->types[i]->name) < 0);
	CHECK(s->query == gql_type_find(s, "query_root"));
	CHECK(s->mutation == gql_type_find(s, "mutation_root"));
}

TEST(graphql_schema_fields)
{
	CHECK_STR(field_type("insights", "id"), "Int!");
	CHECK_STR(field_type("insights", "content"), "String");
	CHECK_STR(field_type("insights", "published_at"), "timestamp");
	CHECK_STR(field_type("insights", "category"), "categories");
	CHECK_STR(field_type("insights", "tags"), "[tags!]!");
	CHECK_STR(field_type("insights", "tags_aggregate"), "tags_aggregate!");
	CHECK_STR(field_type("categories", "children"), "[categories!]!");
	CHECK_STR(field_type("categories", "parent"), "categories");
	CHECK_STR(field_type("categories", "insight_count"), "Int!");
	CHECK_STR(field_type("tags", "insights_aggregate"), "insights_aggregate!");
	CHECK_STR(field_type("query_root", "insights"), "[insights!]!");
	CHECK_STR(field_type("query_root", "insights_by_pk"), "insights");
	CHECK_STR(field_type("query_root", "search_insights"), "[insights!]!");
	CHECK_STR(field_type("query_root", "insights_groups"), "[insights_group!]!");
	CHECK_STR(field_type("query_root", "__schema"), "__Schema!");
	CHECK_STR(field_type("query_root", "__type"), "__Type");
	CHECK_STR(field_type("tags", "__typename"), "String!");
	CHECK_STR(field_type("tags", "__schema"), "(none)");
	CHECK_STR(field_type("mutation_root", "insert_insights_one"), "insights");
	CHECK_STR(field_type("mutation_root", "update_tags"), "tags_mutation_response");
	CHECK_STR(field_type("mutation_root", "delete_categories_by_pk"), "categories");
	CHECK_STR(field_type("insights_aggregate_fields", "count"), "Int!");
	CHECK_STR(field_type("insights_avg_fields", "category_id"), "Float");
	CHECK_STR(field_type("insights_avg_fields", "title"), "(none)");
	CHECK_STR(field_type("insights_max_fields", "title"), "String");
	CHECK_STR(field_type("insights_sum_fields", "id"), "Int");
	CHECK_STR(field_type("insights_mutation_response", "returning"), "[insights!]!");

	CHECK_STR(input_type("insights_bool_exp", "_and"), "[insights_bool_exp!]");
	CHECK_STR(input_type("insights_bool_exp", "_not"), "insights_bool_exp");
	CHECK_STR(input_type("insights_bool_exp", "status"), "String_comparison_exp");
	CHECK_STR(input_type("insights_bool_exp", "tags"), "tags_bool_exp");
	CHECK_STR(input_type("insights_bool_exp", "created_at"), "timestamp_comparison_exp");
	CHECK_STR(input_type("insights_order_by", "category"), "categories_order_by");
	CHECK_STR(input_type("insights_order_by", "tags_aggregate"), "tags_aggregate_order_by");
	CHECK_STR(input_type("insights_insert_input", "tag_ids"), "[Int!]");
	CHECK_STR(input_type("insights_insert_input", "id"), "(none)");
	CHECK_STR(input_type("insights_set_input", "created_at"), "(none)");
	CHECK_STR(input_type("String_comparison_exp", "_ilike"), "String");
	CHECK_STR(input_type("Int_comparison_exp", "_ilike"), "(none)");
	CHECK_STR(input_type("Int_comparison_exp", "_in"), "[Int!]");
	CHECK_STR(input_type("Int_comparison_exp", "_is_null"), "Boolean");
	CHECK_STR(input_type("search_insights_args", "query"), "String!");
	CHECK_STR(input_type("tags_pk_columns_input", "id"), "Int!");

	const struct gql_schema *s = gql_schema();
	const struct gql_type *ob = gql_type_find(s, "order_by");
	CHECK(ob->nvalues == 6 && gql_enum_find(ob, "desc_nulls_last") != NULL);
	CHECK(gql_enum_find(gql_type_find(s, "insights_select_column"), "created_at") != NULL);
	const struct gql_field *f = gql_field_find(s, gql_type_find(s, "__Type"), "fields");
	CHECK(f && f->nargs == 1 && !strcmp(f->args[0].default_value, "false"));
	CHECK(gql_directive_find(s, "include") && gql_directive_find(s, "specifiedBy"));
	CHECK(gql_directive_find(s, "cached") == NULL);
	/* Fields are sorted, so lookups can halve. */
	const struct gql_type *qr = s->query;
	for (size_t i = 1; i < qr->nfields; i++)
		CHECK(strcmp(qr->fields[i - 1].name, qr->fields[i].name) < 0);
}

TEST(graphql_schema_sdl)
{
	struct buf b = BUF_INIT;
	gql_schema_sdl(gql_schema(), &b);
	CHECK(strstr(b.data, "schema {\n  query: query_root\n  mutation: mutation_root\n}") != NULL);
	CHECK(strstr(b.data, "\nscalar timestamp\n") != NULL);
	CHECK(strstr(b.data, "  insights_by_pk(id: Int!): insights\n") != NULL);
	CHECK(strstr(b.data, "__Type") == NULL);
	buf_release(&b);
}
