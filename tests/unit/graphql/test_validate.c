/*
 * test_validate.c: the GraphQL document validator: each rule accepting a
 * valid document and refusing an invalid one (with Hasura's message, path
 * and position where the error has Hasura's shape), the limits, fragment
 * cycles, documents whose naive expansion would never end, and the
 * timestamp grammar. graphql-js's agreement over a larger corpus is
 * tests/graphql/oracle.mjs's (make test-graphql).
 */
#include "t.h"

#include <stdlib.h>

#include "graphql/parser.h"
#include "graphql/validate.h"
#include "lib/buf.h"

static struct gql_invalid last;

/* At most 200 bytes of a document, for messages. */
static const char *excerpt(const char *text)
{
	static char out[220];
	size_t n = strlen(text);
	snprintf(out, sizeof(out), "%.200s%s", text, n > 200 ? "..." : "");
	return out;
}

/*
 * Parses and validates `text` with `lim` (NULL: none). Returns NULL when the
 * document is valid, else the error (valid until the arena is released; a
 * copy stays in `last`). A document that does not parse fails the test.
 */
static const struct gql_invalid *validate_lim(struct arena *a, const char *text,
					      const struct gql_validate_limits *lim)
{
	struct gql_document doc;
	struct error err = ERROR_INIT;
	struct gql_pos at;
	static const struct gql_invalid parse_failed = { "parse", "-", "the document parses",
							  { 0, 0 } };
	if (gql_parse(text, strlen(text), NULL, a, &doc, &at, &err) != OK) {
		fprintf(stderr, "does not parse (%u:%u: %s): %s\n", at.line, at.column,
			err.problems[0].msg, excerpt(text));
		CHECK(!"the document parses");
		return &parse_failed;
	}
	enum status st = gql_validate(gql_schema(), &doc, lim, a, &last);
	CHECK(st == OK || st == E_INVALID);
	if (st == OK) {
		CHECK(!last.code && !last.path && !last.message && !last.pos.line);
		return NULL;
	}
	CHECK_STR(last.code, "validation-failed");
	return &last;
}

static const struct gql_invalid *validate_text(struct arena *a, const char *text)
{
	return validate_lim(a, text, NULL);
}

static void check_valid(int line, const char *text)
{
	struct arena a = ARENA_INIT;
	const struct gql_invalid *e = validate_text(&a, text);
	t_checks++;
	if (e) {
		t_failures++;
		fprintf(stderr, "%s:%d: valid document refused: %s (%s at %u:%u)\n    %s\n",
			__FILE__, line, e->message, e->path, e->pos.line, e->pos.column,
			excerpt(text));
	}
	arena_release(&a);
}

/* The document is refused with a message containing `msg` (and the path `path`, unless NULL). */
static void check_invalid(int line, const char *text, const char *msg, const char *path)
{
	struct arena a = ARENA_INIT;
	const struct gql_invalid *e = validate_text(&a, text);
	t_checks++;
	if (!e) {
		t_failures++;
		fprintf(stderr, "%s:%d: invalid document accepted: %s\n", __FILE__, line,
			excerpt(text));
	} else if (!strstr(e->message, msg) || (path && strcmp(e->path, path))) {
		t_failures++;
		fprintf(stderr,
			"%s:%d: wrong error for %s\n    got:    %s (%s)\n    wanted: %s (%s)\n",
			__FILE__, line, excerpt(text), e->message, e->path, msg,
			path ? path : "any path");
	}
	arena_release(&a);
}

#define VALID(text) check_valid(__LINE__, (text))
#define INVALID(text, msg, path) check_invalid(__LINE__, (text), (msg), (path))

/* The error at line:column, with exactly this message and path. */
static void check_error(int line, const char *text, unsigned l, unsigned c, const char *msg,
			const char *path)
{
	struct arena a = ARENA_INIT;
	const struct gql_invalid *e = validate_text(&a, text);
	t_checks++;
	if (!e || strcmp(e->message, msg) || strcmp(e->path, path) || e->pos.line != l ||
	    e->pos.column != c) {
		t_failures++;
		fprintf(stderr, "%s:%d: wrong error for %s\n    got:    %u:%u %s (%s)\n"
				"    wanted: %u:%u %s (%s)\n", __FILE__, line, excerpt(text),
			e ? e->pos.line : 0, e ? e->pos.column : 0, e ? e->message : "(valid)",
			e ? e->path : "-", l, c, msg, path);
	}
	arena_release(&a);
}

#define ERROR_AT(text, l, c, msg, path) check_error(__LINE__, (text), (l), (c), (msg), (path))

/* The specification's three example queries, verbatim ("GraphQL Integration"). */
static const char spec_query_1[] =
	"query {\n"
	"  insights(\n"
	"    where: { status: { _eq: \"published\" }, "
	"priority: { _eq: \"high\" }, category: { name: { _eq: \"Technical\" } } }\n"
	"    order_by: { created_at: desc }\n"
	"    limit: 20\n"
	"  ) {\n"
	"    id\n"
	"    title\n"
	"    description\n"
	"    priority\n"
	"    status\n"
	"    created_at\n"
	"    author\n"
	"    category {\n"
	"      name\n"
	"      color\n"
	"      icon\n"
	"    }\n"
	"    tags {\n"
	"      name\n"
	"      color\n"
	"    }\n"
	"  }\n"
	"}";
static const char spec_query_2[] =
	"query {\n"
	"  insights_aggregate {\n"
	"    aggregate {\n"
	"      count\n"
	"    }\n"
	"  }\n"
	"  insights_aggregate_by_status: insights_aggregate {\n"
	"    nodes {\n"
	"      status\n"
	"    }\n"
	"    aggregate {\n"
	"      count\n"
	"    }\n"
	"  }\n"
	"}";
static const char spec_query_3[] =
	"query {\n"
	"  insights(\n"
	"    where: {\n"
	"      _or: [\n"
	"        { title: { _ilike: \"%performance%\" } }\n"
	"        { description: { _ilike: \"%performance%\" } }\n"
	"        { content: { _ilike: \"%performance%\" } }\n"
	"      ]\n"
	"    }\n"
	"  ) {\n"
	"    id\n"
	"    title\n"
	"    description\n"
	"  }\n"
	"}";

TEST(graphql_validate_specification_examples)
{
	VALID(spec_query_1);
	VALID(spec_query_2);
	VALID(spec_query_3);
}

TEST(graphql_validate_operations)
{
	VALID("query A { insights { id } } query B { tags { id } } mutation C { __typename }");
	ERROR_AT("query Q { insights { id } }\nquery Q { tags { id } }", 2, 1,
		 "multiple definitions for operation 'Q'", "$");
	ERROR_AT("{ insights { id } }\nquery Named { tags { id } }", 1, 1,
		 "an anonymous operation must be the only operation in the document", "$");
	ERROR_AT("subscription S { insights { id } }", 1, 1,
		 "the schema has no subscription root: subscriptions are not supported", "$");
	/* Nothing typed is checked under a missing root, as graphql-js does. */
	INVALID("subscription { anything { at all } }", "subscriptions are not supported", "$");
	VALID("mutation { delete_insights(where: {}) { affected_rows } }");
}

TEST(graphql_validate_fields)
{
	VALID("{ __typename insights { __typename id } __schema { queryType { name } } }");
	ERROR_AT("{ insights { id foo } }", 1, 17, "field 'foo' not found in type: 'insights'",
		 "$.selectionSet.insights.selectionSet.foo");
	/* Paths name the fields, not their aliases, as Hasura's do. */
	ERROR_AT("{ list: insights { renamed: foo } }", 1, 20,
		 "field 'foo' not found in type: 'insights'",
		 "$.selectionSet.insights.selectionSet.foo");
	ERROR_AT("mutation { insights { id } }", 1, 12,
		 "field 'insights' not found in type: 'mutation_root'", "$.selectionSet.insights");
	INVALID("mutation { __schema { types { name } } }",
		"field '__schema' not found in type: 'mutation_root'", "$.selectionSet.__schema");
	INVALID("{ insights { __type(name: \"x\") { name } } }",
		"field '__type' not found in type: 'insights'", NULL);
	/* Under an unknown field nothing more is typed: one error. */
	INVALID("{ nope { deeper { still } } }", "field 'nope' not found in type: 'query_root'",
		"$.selectionSet.nope");
}

TEST(graphql_validate_leaf_selections)
{
	ERROR_AT("{ insights { id { x } } }", 1, 14,
		 "unexpected subselection set for non-object field",
		 "$.selectionSet.insights.selectionSet.id");
	ERROR_AT("{ insights }", 1, 3, "missing selection set for 'insights'",
		 "$.selectionSet.insights.selectionSet");
	ERROR_AT("{ insights { category } }", 1, 14, "missing selection set for 'categories'",
		 "$.selectionSet.insights.selectionSet.category.selectionSet");
	INVALID("{ insights_aggregate { aggregate } }",
		"missing selection set for 'insights_aggregate_fields'", NULL);
	INVALID("{ __typename { x } }", "unexpected subselection set for non-object field", NULL);
}

TEST(graphql_validate_arguments)
{
	VALID("{ insights_by_pk(id: 1) { id } __type(name: \"insights\") { name } }");
	ERROR_AT("{ insights(first: 10) { id } }", 1, 12,
		 "'insights' has no argument named 'first'", "$.selectionSet.insights");
	ERROR_AT("{ insights(limit: 1, limit: 2) { id } }", 1, 22,
		 "the argument 'limit' is given more than once",
		 "$.selectionSet.insights.args.limit");
	ERROR_AT("{ insights_by_pk { id } }", 1, 3, "missing required field 'id'",
		 "$.selectionSet.insights_by_pk.args.id");
	INVALID("mutation { delete_insights { affected_rows } }", "missing required field 'where'",
		"$.selectionSet.delete_insights.args.where");
	INVALID("{ search_insights(args: {}) { id } }", "missing required field 'query'",
		"$.selectionSet.search_insights.args.args.query");
	INVALID("{ __type { name } }", "missing required field 'name'",
		"$.selectionSet.__type.args.name");
	/* Many names: duplicates are found without comparing every pair. */
	ERROR_AT("{ insights(where: {_and: [], _not: {}, _or: [], author: {}, category: {}, "
		 "category_id: {}, content: {}, created_at: {}, description: {}, id: {}, "
		 "priority: {}, published_at: {}, source: {}, status: {}, tags: {}, title: {}, "
		 "updated_at: {}, status: {_eq: \"x\"}}) { id } }", 1, 239,
		 "the field 'status' is given more than once",
		 "$.selectionSet.insights.args.where.status");
}

TEST(graphql_validate_values)
{
	VALID("{ insights(where: {id: {_in: 5}, status: {_nin: \"x\"}}, distinct_on: status) "
	      "{ id } }");
	VALID("{ insights(where: {id: {_eq: null}, _not: null}, limit: null) { id } }");
	VALID("{ insights(limit: 2147483647, where: {id: {_gt: -2147483648}}) { id } }");
	ERROR_AT("{ insights(where: {id: {_eq: \"x\"}}) { id } }", 1, 30,
		 "expected a 32-bit integer for type 'Int', but found a string",
		 "$.selectionSet.insights.args.where.id._eq");
	INVALID("{ insights(limit: 2147483648) { id } }",
		"The value 2147483648 lies outside the bounds or is not an integer. Maybe it is a "
		"float, or is there integer overflow?", "$.selectionSet.insights.args.limit");
	INVALID("{ insights(limit: -2147483649) { id } }", "lies outside the bounds", NULL);
	INVALID("{ insights(limit: 1.0) { id } }",
		"expected a 32-bit integer for type 'Int', but found a float", NULL);
	INVALID("{ insights(where: {title: {_eq: 42}}) { id } }",
		"expected a string for type 'String', but found an integer",
		"$.selectionSet.insights.args.where.title._eq");
	INVALID("{ insights(where: {title: {_eq: published}}) { id } }",
		"expected a string for type 'String', but found an enum value", NULL);
	INVALID("{ insights(where: {content: {_is_null: \"yes\"}}) { id } }",
		"expected a boolean for type 'Boolean', but found a string", NULL);
	INVALID("{ insights(order_by: {id: \"asc\"}) { id } }",
		"expected an enum value for type 'order_by', but found a string", NULL);
	ERROR_AT("{ insights(order_by: {id: up}) { id } }", 1, 27,
		 "expected one of the values ['asc', 'asc_nulls_first', 'asc_nulls_last', 'desc', "
		 "'desc_nulls_first', 'desc_nulls_last'] for type 'order_by', but found 'up'",
		 "$.selectionSet.insights.args.order_by.id");
	INVALID("{ insights(where: [{id: {_eq: 1}}]) { id } }",
		"expected an object for type 'insights_bool_exp', but found a list",
		"$.selectionSet.insights.args.where");
	INVALID("{ insights(where: {id: 1}) { id } }",
		"expected an object for type 'Int_comparison_exp', but found an integer",
		"$.selectionSet.insights.args.where.id");
	INVALID("{ insights(limit: [1]) { id } }",
		"expected a 32-bit integer for type 'Int', but found a list", NULL);
	INVALID("{ insights(where: {id: {_in: [[1]]}}) { id } }", "but found a list",
		"$.selectionSet.insights.args.where.id._in[0]");
	/* List items: Hasura's [i]. */
	ERROR_AT("{ insights(where: {_or: [{id: {_eq: 1}}, {titel: {_eq: \"x\"}}]}) { id } }",
		 1, 43, "field 'titel' not found in type: 'insights_bool_exp'",
		 "$.selectionSet.insights.args.where._or[1].titel");
	ERROR_AT("mutation { update_insights_by_pk(pk_columns: {}) { id } }", 1, 46,
		 "missing required field 'id'",
		 "$.selectionSet.update_insights_by_pk.args.pk_columns.id");
	INVALID("{ insights_by_pk(id: null) { id } }",
		"expected a 32-bit integer for type 'Int', but found null",
		"$.selectionSet.insights_by_pk.args.id");
	INVALID("mutation { insert_tags(objects: null) { affected_rows } }",
		"expected a list, but found null", "$.selectionSet.insert_tags.args.objects");
	INVALID("{ insights(where: {id: {_in: [1, null]}}) { id } }", "but found null",
		"$.selectionSet.insights.args.where.id._in[1]");
	INVALID("{ insights(where: {_and: [null]}) { id } }",
		"expected an object for type 'insights_bool_exp', but found null", NULL);
	ERROR_AT("{ insights(where: {id: {_eq: 1}, id: {_eq: 2}}) { id } }", 1, 34,
		 "the field 'id' is given more than once", "$.selectionSet.insights.args.where.id");
	/* Duplicates count where the type is unknown too (after the unknown argument). */
	INVALID("{ insights(x: {a: 1, a: 2}) { id } }", "has no argument named 'x'", NULL);
}

TEST(graphql_validate_timestamps)
{
	VALID("{ insights(where: {created_at: {_in: [\"2024-01-15\", \"2024-01-15T10:30:00Z\", "
	      "\"2024-02-29 10:30\", \"2024-01-15t10:30:00.123456789+02:00\", "
	      "\"2000-02-29T00:00-0530\","
	      " \"1999-12-31T23:59:59+14\"]}}) { id } }");
	ERROR_AT("{ insights(where: {created_at: {_gt: \"2024-13-01\"}}) { id } }", 1, 38,
		 "expected an ISO 8601 date, or date and time, for type 'timestamp', but found "
		 "'2024-13-01'", "$.selectionSet.insights.args.where.created_at._gt");
	INVALID("{ insights(where: {created_at: {_gt: 1700000000}}) { id } }",
		"expected a string for type 'timestamp', but found an integer", NULL);

	const char *ok[] = { "2024-01-15", "0001-01-01", "2024-02-29", "2000-02-29",
			     "2024-01-15T00:00", "2024-01-15 23:59:59", "2024-01-15T10:30:00.1",
			     "2024-01-15T10:30:00.123456789", "2024-01-15T10:30Z",
			     "2024-01-15t10:30z",
			     "2024-01-15T10:30:00+05", "2024-01-15T10:30:00+0530",
			     "2024-01-15T10:30:00-05:30", "2024-12-31T23:59:59+23:59" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t_checks++;
		if (!gql_timestamp_valid(ok[i])) {
			t_failures++;
			fprintf(stderr, "%s:%d: timestamp refused: %s\n", __FILE__, __LINE__,
				ok[i]);
		}
	}
	const char *bad[] = { "", "2024", "2024-1-15", "2024-01-5", "24-01-15", "2024/01/15",
			      "2024-00-10", "2024-13-01", "2024-01-00", "2024-01-32", "2023-02-29",
			      "1900-02-29", "2024-04-31", "2024-01-15T", "2024-01-15T10",
			      "2024-01-15T24:00", "2024-01-15T10:60", "2024-01-15T10:30:60",
			      "2024-01-15T10:30:00.", "2024-01-15T10:30:00.1234567890",
			      "2024-01-15T10:30.5", "2024-01-15T10:30:00+5",
			      "2024-01-15T10:30:00+24",
			      "2024-01-15T10:30:00+05:", "2024-01-15T10:30:00+05:60",
			      "2024-01-15T10:30:00ZZ", "2024-01-15T10:30:00 Z", " 2024-01-15",
			      "2024-01-15 ", "2024-01-15X10:30", "yesterday", "2024-01-15T1:30" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_checks++;
		if (gql_timestamp_valid(bad[i])) {
			t_failures++;
			fprintf(stderr, "%s:%d: timestamp accepted: '%s'\n", __FILE__, __LINE__,
				bad[i]);
		}
	}
}

TEST(graphql_validate_variables)
{
	VALID("query ($w: insights_bool_exp = {status: {_eq: \"x\"}}, $l: Int = 20, "
	      "$ids: [Int!]! = [],"
	      " $t: timestamp = \"2024-01-01\", $f: Boolean! = true) {"
	      " insights(where: {_and: [$w, {id: {_in: $ids}}, {created_at: {_gt: $t}}]}, "
	      "limit: $l)"
	      " { id tags @include(if: $f) { id } } }");
	/* A nullable variable with a non-null default may go where a non-null type is expected. */
	VALID("query ($id: Int = 1) { insights_by_pk(id: $id) { id } }");
	VALID("query ($a: Int!, $b: Int = 3) { insights(where: {id: {_in: [$a, $b]}}) { id } }");
	VALID("query ($id: Int!) { insights(limit: $id) { id } }");
	ERROR_AT("query ($id: Int!, $id: Int!) { insights_by_pk(id: $id) { id } }", 1, 19,
		 "multiple definitions for variable 'id'", "$");
	ERROR_AT("query ($x: Foo) { insights(limit: $x) { id } }", 1, 12, "unknown type 'Foo'",
		 "$");
	ERROR_AT("query ($x: insights) { __typename }", 1, 8,
		 "variable 'x' cannot be of the non-input type 'insights'", "$");
	ERROR_AT("{ insights(where: {_or: [{id: {_eq: 1}}, {status: {_eq: $s}}]}) { id } }", 1, 57,
		 "unbound variable 's'", "$.selectionSet.insights.args.where._or[1].status._eq");
	ERROR_AT("query ($a: Int, $b: Int) { insights { id } }", 1, 8,
		 "following variable(s) have been defined, but have not been used in the query - "
		 "a, b",
		 "$");
	ERROR_AT("query ($limit: String) { insights(limit: $limit) { id } }", 1, 42,
		 "variable 'limit' is declared as 'String', but used where 'Int' is expected",
		 "$.selectionSet.insights.args.limit");
	INVALID("query ($id: Int) { insights_by_pk(id: $id) { id } }",
		"variable 'id' is declared as 'Int', but used where 'Int!' is expected", NULL);
	INVALID("query ($id: Int = null) { insights_by_pk(id: $id) { id } }",
		"declared as 'Int', but used where 'Int!' is expected", NULL);
	INVALID("query ($ids: Int) { insights(where: {id: {_in: $ids}}) { id } }",
		"declared as 'Int', but used where '[Int!]' is expected", NULL);
	INVALID("query ($ids: [Int]) { insights(where: {id: {_in: $ids}}) { id } }",
		"declared as '[Int]', but used where '[Int!]' is expected", NULL);
	INVALID("query ($a: Int) { insights(where: {id: {_in: [$a]}}) { id } }",
		"declared as 'Int', but used where 'Int!' is expected",
		"$.selectionSet.insights.args.where.id._in[0]");
	INVALID("query ($v: Boolean) { insights { id @include(if: $v) } }",
		"declared as 'Boolean', but used where 'Boolean!' is expected",
		"$.selectionSet.insights.selectionSet.include.args.if");
	/* Default values are values of the variable's type. */
	ERROR_AT("query ($l: Int = \"ten\") { insights(limit: $l) { id } }", 1, 18,
		 "expected a 32-bit integer for type 'Int', but found a string",
		 "$.variableDefinitions.l.defaultValue");
	INVALID("query ($id: Int! = null) { insights_by_pk(id: $id) { id } }", "but found null",
		"$.variableDefinitions.id.defaultValue");
	INVALID("query ($v: Int @include(if: true)) { insights(limit: $v) { id } }",
		"directive 'include' is not allowed on a variable definition", "$.include");
}

TEST(graphql_validate_variables_across_operations)
{
	/* Each operation must define the variables of every fragment it reaches. */
	VALID("query A($id: Int!) { ...F } query B($id: Int! = 2) { ...F }\n"
	      "fragment F on query_root { insights_by_pk(id: $id) { id } }");
	ERROR_AT("query A($id: Int!) { ...F }\nquery B { ...F }\n"
		 "fragment F on query_root { insights_by_pk(id: $id) { id } }", 3, 47,
		 "unbound variable 'id'", "$.selectionSet.insights_by_pk.args.id");
	INVALID("query A($id: Int!) { ...F }\nquery B($id: Int!) { tags { id } }\n"
		"fragment F on query_root { insights_by_pk(id: $id) { id } }",
		"following variable(s) have been defined, but have not been used in the query - id",
		"$");
	INVALID("query Q($id: String!) { ...F }\n"
		"fragment F on query_root { tags_by_pk(id: $id) { id } }",
		"variable 'id' is declared as 'String!', but used where 'Int!' is expected",
		"$.selectionSet.tags_by_pk.args.id");
	/* Through a chain of fragments. */
	VALID("query ($s: String) { insights { ...A } }\nfragment A on insights { ...B }\n"
	      "fragment B on insights { tags(where: {name: {_eq: $s}}) { id } }");
}

TEST(graphql_validate_fragments)
{
	VALID("{ insights { ...A category { ...C } } }\n"
	      "fragment A on insights { id ... { title } }\n"
	      "fragment C on categories { ... on categories { name } }");
	VALID("fragment R on query_root { tags { id } }\n{ ...R }");
	ERROR_AT("{ insights { ...F } }\nfragment F on insights { id }\n"
		 "fragment F on insights { title }",
		 3, 1, "multiple definitions for fragment 'F'", "$");
	ERROR_AT("{ insights { id ...Missing } }", 1, 17,
		 "reference to undefined fragment 'Missing'",
		 "$.selectionSet.insights.selectionSet");
	ERROR_AT("{ insights { id } }\nfragment U on insights { title }\nfragment V on tags { id }",
		 2, 1,
		 "following fragment(s) have been defined, but have not been used in the query - "
		 "U, V",
		 "$");
	ERROR_AT("{ insights { ...T } }\nfragment T on tags { id }", 1, 14,
		 "fragment 'T' cannot be spread here: objects of type 'insights' can never be of "
		 "type 'tags'", "$.selectionSet.insights.selectionSet");
	INVALID("{ insights { ... on categories { id } } }",
		"an inline fragment on 'categories' can never apply to objects of type 'insights'",
		NULL);
	ERROR_AT("{ insights { ...F } }\nfragment F on Insight { id }", 2, 1,
		 "unknown type 'Insight'", "$");
	INVALID("{ insights { ... on Insight { id } } }", "unknown type 'Insight'",
		"$.selectionSet.insights.selectionSet");
	INVALID("{ insights { ...F } }\nfragment F on String { x }",
		"fragment 'F' cannot condition on the non-object type 'String'", "$");
	INVALID("{ insights { ... on insights_bool_exp { x } } }",
		"an inline fragment cannot condition on the non-object type 'insights_bool_exp'",
		NULL);
	/* Errors in a fragment carry the path where an operation first spreads it. */
	ERROR_AT("{ insights { tags { ...T } } }\nfragment T on tags { id nope }", 2, 25,
		 "field 'nope' not found in type: 'tags'",
		 "$.selectionSet.insights.selectionSet.tags.selectionSet.nope");
	ERROR_AT("fragment T on tags { early }\n{ tags { ...T } insights { late } }", 1, 22,
		 "field 'early' not found in type: 'tags'",
		 "$.selectionSet.tags.selectionSet.early");
	/* A fragment no operation uses is refused at its start, before anything inside it. */
	ERROR_AT("{ __typename }\nfragment U on insights { nope }\nfragment V on insights { ...U }",
		 2, 1,
		 "following fragment(s) have been defined, but have not been used in the query - "
		 "U, V", "$");
}

TEST(graphql_validate_fragment_cycles)
{
	ERROR_AT("{ insights { ...A } }\nfragment A on insights { id ...A }", 2, 29,
		 "the fragment definition(s) \"A\" form a cycle", "$");
	ERROR_AT("{ insights { ...A } }\nfragment A on insights { ...B }\n"
		 "fragment B on insights { ...A }",
		 3, 26, "the fragment definition(s) \"A\" and \"B\" form a cycle", "$");
	INVALID("{ categories { ...A } }\nfragment A on categories { children { ...B } }\n"
		"fragment B on categories { parent { ...C } }\n"
		"fragment C on categories { id ...A }",
		"the fragment definition(s) \"A\", \"B\", and \"C\" form a cycle", "$");
	/* With the limits on, cycles are still found (the depth is not computed through them). */
	struct arena a = ARENA_INIT;
	struct gql_validate_limits lim = { 12, 1000 };
	const struct gql_invalid *e = validate_lim(
		&a, "{ categories { ...A } }\nfragment A on categories { children { ...B } }\n"
		    "fragment B on categories { children { ...A } }", &lim);
	CHECK(e && strstr(e->message, "form a cycle"));
	arena_release(&a);
	/* A long chain of fragments, followed without recursion. */
	struct buf b = BUF_INIT;
	buf_adds(&b, "{ insights { ...F0 } }\n");
	for (int i = 0; i < 20000; i++)
		buf_addf(&b, "fragment F%d on insights { id ...F%d }\n", i, i + 1);
	buf_adds(&b, "fragment F20000 on insights { ...F0 }\n");
	INVALID(b.data, "form a cycle", "$");
	buf_truncate(&b, 0);
	buf_adds(&b, "{ insights { ...F0 } }\n");
	for (int i = 0; i < 20000; i++)
		buf_addf(&b, "fragment F%d on insights { ...F%d }\n", i, i + 1);
	buf_adds(&b, "fragment F20000 on insights { title }\n");
	VALID(b.data);
	/*
	 * With a field at each step, merging compares each fragment's fields with
	 * every fragment below it, as graphql-js does: quadratic, so over the budget.
	 */
	buf_truncate(&b, 0);
	buf_adds(&b, "{ insights { ...F0 } }\n");
	for (int i = 0; i < 20000; i++)
		buf_addf(&b, "fragment F%d on insights { id ...F%d }\n", i, i + 1);
	buf_adds(&b, "fragment F20000 on insights { title }\n");
	INVALID(b.data, "the document is too complex to validate", "$");
	buf_release(&b);
}

TEST(graphql_validate_directives)
{
	VALID("query ($v: Boolean!) { insights { id @include(if: $v) ...F @skip(if: false) "
	      "... @include(if: true) { title } } }\nfragment F on insights { content }");
	ERROR_AT("{ insights @cached { id } }", 1, 12,
		 "directive 'cached' is not defined in the schema", "$.selectionSet.cached");
	ERROR_AT("query Q @include(if: true) { insights { id } }", 1, 9,
		 "directive 'include' is not allowed on a query", "$.include");
	INVALID("mutation @skip(if: true) { __typename }",
		"directive 'skip' is not allowed on a mutation", NULL);
	INVALID("{ insights { ...F } }\nfragment F on insights @skip(if: true) { id }",
		"directive 'skip' is not allowed on a fragment definition",
		"$.selectionSet.insights.selectionSet.skip");
	INVALID("{ insights { id @deprecated } }",
		"directive 'deprecated' is not allowed on a field", NULL);
	ERROR_AT("{ insights { id @include(if: true) @include(if: false) } }", 1, 36,
		 "the following directives are used more than once: ['include']",
		 "$.selectionSet.insights.selectionSet.include");
	/* Unknown directives repeated are unknown, not repeated. */
	INVALID("{ insights { id @x @x } }", "directive 'x' is not defined in the schema", NULL);
	ERROR_AT("{ insights { id @include } }", 1, 17, "missing required field 'if'",
		 "$.selectionSet.insights.selectionSet.include.args.if");
	INVALID("{ insights { id @include(if: true, unless: false) } }",
		"'include' has no argument named 'unless'",
		"$.selectionSet.insights.selectionSet.include");
	INVALID("{ insights { id @include(if: 1) } }",
		"expected a boolean for type 'Boolean', but found an integer",
		"$.selectionSet.insights.selectionSet.include.args.if");
}

TEST(graphql_validate_field_merging)
{
	VALID("{ insights(where: {id: {_eq: 1}, status: {_eq: \"x\"}}) { id }"
	      " insights(where: {status: {_eq: \"x\"}, id: {_eq: 1}}) { title } }");
	VALID("query ($l: Int) { insights(limit: $l) { id } insights(limit: $l) { title } }");
	VALID("{ insights { ...N } tags { ...M } }\nfragment N on insights { label: title }\n"
	      "fragment M on tags { label: name }");
	ERROR_AT("{ insights { name: title name: author } }", 1, 26,
		 "selection of both 'title' and 'author' specify the same response name, 'name'",
		 "$.selectionSet.insights.selectionSet.name");
	ERROR_AT("{ insights(limit: 1) { id } insights(limit: 2) { id } }", 1, 29,
		 "inconsistent arguments between multiple selections of field 'insights'",
		 "$.selectionSet.insights");
	INVALID("{ insights { id } insights(limit: 2) { id } }", "inconsistent arguments", NULL);
	INVALID("query ($l: Int) { insights(limit: $l) { id } insights(limit: 1) { id } }",
		"inconsistent arguments", NULL);
	/* graphql-js tells a block string from a quoted one. */
	INVALID("{ insights(where: {title: {_eq: \"x\"}}) { id } "
		"insights(where: {title: {_eq: \"\"\"x\"\"\"}}) { id } }", "inconsistent arguments",
		NULL);
	VALID("{ insights(where: {title: {_eq: \"\"\"x\"\"\"}}) { id } "
	      "insights(where: {title: {_eq: \"\"\"x\"\"\"}}) { title } }");
	/* Sub-selections: the path goes down to the conflicting fields. */
	ERROR_AT("{ insights { x: title } insights { x: author } }", 1, 36,
		 "selection of both 'title' and 'author' specify the same response name, 'x'",
		 "$.selectionSet.insights.selectionSet.x");
	INVALID("{ insights { ...A ...B } }\nfragment A on insights { category { n: name } }\n"
		"fragment B on insights { ...C }\nfragment C on insights { category { n: slug } }",
		"selection of both 'name' and 'slug' specify the same response name, 'n'",
		"$.selectionSet.insights.selectionSet.category.selectionSet.n");
	INVALID("{ tags(limit: 1) { id } ...R }\n"
		"fragment R on query_root { tags(limit: 2) { id } }",
		"inconsistent arguments between multiple selections of field 'tags'",
		"$.selectionSet.tags");
	INVALID("{ insights { ... on insights { t: title } ... { t: status } } }",
		"specify the same response name, 't'", NULL);
	/*
	 * Fields of different object types under one key are mutually exclusive:
	 * graphql-js compares only their types, and not __typename's (which its
	 * getFields() leaves out). No conflict here, so the first error is the
	 * spread's, although both fragments come before it.
	 */
	ERROR_AT("fragment N on tags { label: name x: __typename }\n"
		 "fragment M on insights { label: title x: id }\n{ insights { ...M ...N } }", 3, 19,
		 "fragment 'N' cannot be spread here: objects of type 'insights' can never be of "
		 "type 'tags'", "$.selectionSet.insights.selectionSet");
	/* ... and their sub-fields too, even of one type. */
	ERROR_AT("fragment N on tags { c: insights { a: title } }\n"
		 "fragment M on categories { c: insights { a: author } }\n{ tags { ...N ...M } }",
		 3, 15,
		 "fragment 'M' cannot be spread here: objects of type 'tags' can never be of type "
		 "'categories'", "$.selectionSet.tags.selectionSet");
}

TEST(graphql_validate_introspection)
{
	VALID("{ __schema { types { fields { type { inputFields { name } } } } } }");
	ERROR_AT("{ __schema { types { fields { type { fields { type { fields { name } } } } } } "
		 "} }", 1, 3,
		 "the introspection query nests 'fields', 'inputFields', 'interfaces' and "
		 "'possibleTypes' 3 deep under '__schema'; the limit is 2",
		 "$.selectionSet.__schema");
	INVALID("{ __type(name: \"x\") { ...A } }\n"
		"fragment A on __Type { fields { type { ...B } } }\n"
		"fragment B on __Type { inputFields { type { possibleTypes { name } } } }",
		"3 deep under '__type'", "$.selectionSet.__type");
	INVALID("{ __type(name: \"insights\") { isOneOf } }",
		"field 'isOneOf' not found in type: '__Type'", NULL);
}

TEST(graphql_validate_error_order)
{
	/* The first error in document order, whatever the rule. */
	ERROR_AT("{ insights { first } tags { second } }", 1, 14,
		 "field 'first' not found in type: 'insights'",
		 "$.selectionSet.insights.selectionSet.first");
	ERROR_AT("query ($unused: Int) { insights(limit: \"x\") { id } }", 1, 8,
		 "following variable(s) have been defined, but have not been used in the query - "
		 "unused",
		 "$");
	ERROR_AT("{ insights(limit: \"x\") { nope } }", 1, 19,
		 "expected a 32-bit integer for type 'Int', but found a string",
		 "$.selectionSet.insights.args.limit");
}

/* A document of `n` aliased fields. */
static void many_fields(struct buf *b, int n)
{
	buf_reset(b);
	buf_adds(b, "{\n");
	for (int i = 0; i < n; i++)
		buf_addf(b, "  f%d: __typename\n", i);
	buf_adds(b, "}\n");
}

TEST(graphql_validate_field_limit)
{
	struct arena a = ARENA_INIT;
	struct buf b = BUF_INIT;
	struct gql_validate_limits lim = { 12, 1000 };
	many_fields(&b, 1000);
	CHECK(validate_lim(&a, b.data, &lim) == NULL);
	many_fields(&b, 1001);
	const struct gql_invalid *e = validate_lim(&a, b.data, &lim);
	CHECK(e != NULL);
	if (e) {
		CHECK_STR(e->message, "the document has 1001 fields; the limit is 1000 "
				      "(--graphql-max-fields)");
		CHECK_STR(e->path, "$");
		CHECK(e->pos.line == 1002 && e->pos.column == 3);
	}
	/* 0: no limit. */
	lim.max_fields = 0;
	CHECK(validate_lim(&a, b.data, &lim) == NULL);
	CHECK(validate_lim(&a, b.data, NULL) == NULL);
	/* Fragments count once where they are written, however often they are spread. */
	lim.max_fields = 4;
	CHECK(validate_lim(&a, "{ a: insights { ...F } b: insights { ...F } }\n"
			       "fragment F on insights { id title }", &lim) == NULL);
	e = validate_lim(&a, "{ a: insights { ...F } b: insights { ...F id } }\n"
			     "fragment F on insights { id title }", &lim);
	CHECK(e && !strcmp(e->message, "the document has 5 fields; the limit is 4 "
				      "(--graphql-max-fields)"));
	if (e)
		CHECK(e->pos.line == 2 && e->pos.column == 29); /* in document order: F's title */
	/* The limit comes before the rules. */
	e = validate_lim(&a, "{ a: nope b: nope c: nope d: nope e: nope }", &lim);
	CHECK(e && strstr(e->message, "the limit is 4"));
	buf_release(&b);
	arena_release(&a);
}

TEST(graphql_validate_depth_limit)
{
	struct arena a = ARENA_INIT;
	struct gql_validate_limits lim = { 3, 0 };
	CHECK(validate_lim(&a, "{ insights { category { name } } }", &lim) == NULL);
	const struct gql_invalid *e =
		validate_lim(&a, "{ insights { id category { parent { name } } } }", &lim);
	CHECK(e != NULL);
	if (e) {
		CHECK_STR(e->message,
			  "the query is nested 4 deep; the limit is 3 (--graphql-max-depth)");
		CHECK_STR(e->path,
			  "$.selectionSet.insights.selectionSet.category.selectionSet.parent");
		CHECK(e->pos.line == 1 && e->pos.column == 28);
	}
	/* Through spreads and inline fragments, which add no level; the path follows them. */
	e = validate_lim(&a,
			 "mutation { x: insert_categories_one(object: {name: \"n\", slug: \"s\"}) "
			 "{ id ...A } }\nfragment A on categories { ... { children { ...B } } }\n"
			 "fragment B on categories { parent { name } }", &lim);
	CHECK(e && !strcmp(e->message, "the mutation is nested 4 deep; the limit is 3 "
				      "(--graphql-max-depth)"));
	if (e)
		CHECK_STR(e->path, "$.selectionSet.insert_categories_one.selectionSet.children.selectionSet.parent");
	CHECK(validate_lim(&a, "{ insights { ...A } }\nfragment A on insights { ... { category "
			       "{ ...B } } }\nfragment B on categories { name }", &lim) == NULL);
	/* Introspection does not count. */
	lim.max_depth = 2;
	CHECK(validate_lim(&a,
			   "{ __schema { types { fields { type { ofType { ofType { ofType { name }"
			   " } } } } } } __type(name: \"x\") { ofType { ofType { name } } } }",
			   &lim) == NULL);
	lim.max_depth = 1;
	CHECK(validate_lim(&a, "{ __typename __schema { queryType { name } } }", &lim) == NULL);
	e = validate_lim(&a, "{ __typename insights { id } }", &lim);
	CHECK(e && !strcmp(e->message, "the query is nested 2 deep; the limit is 1 "
				      "(--graphql-max-depth)"));
	/* The first operation over the limit. */
	lim.max_depth = 2;
	e = validate_lim(&a, "query A { tags { id } }\nquery B { insights { category { id } } }",
			 &lim);
	CHECK(e && e->pos.line == 2 &&
	      !strcmp(e->path, "$.selectionSet.insights.selectionSet.category"));
	/* The limit comes before the rules. */
	e = validate_lim(&a, "{ nope { nope { nope } } }", &lim);
	CHECK(e && strstr(e->message, "nested 3 deep"));
	arena_release(&a);
}

TEST(graphql_validate_hostile_documents)
{
	struct arena a = ARENA_INIT;
	struct buf b = BUF_INIT;
	struct gql_validate_limits lim = { 12, 1000 };
	/*
	 * Each fragment spreads the one below twice (and merges it with
	 * fields): 2^60 fields once expanded, which only memoisation survives.
	 */
	buf_adds(&b, "{ insights { ...F60 } }\nfragment F0 on insights { id title }\n");
	for (int i = 1; i <= 60; i++)
		buf_addf(&b, "fragment F%d on insights { id ...F%d ... { ...F%d title } }\n", i,
			 i - 1, i - 1);
	CHECK(validate_lim(&a, b.data, NULL) == NULL);
	CHECK(validate_lim(&a, b.data, &lim) == NULL);
	/* The same, nested: 60 deep once expanded, refused by the depth limit... */
	buf_reset(&b);
	buf_adds(&b, "{ categories { ...F60 } }\nfragment F0 on categories { id }\n");
	for (int i = 1; i <= 60; i++)
		buf_addf(&b, "fragment F%d on categories { children { ...F%d } parent { ...F%d } "
			     "c: children { ...F%d } }\n", i, i - 1, i - 1, i - 1);
	const struct gql_invalid *e = validate_lim(&a, b.data, &lim);
	CHECK(e && !strcmp(e->message, "the query is nested 62 deep; the limit is 12 "
				      "(--graphql-max-depth)"));
	/* ... and valid without it (fields merging compares each pair of fragments once). */
	CHECK(validate_lim(&a, b.data, NULL) == NULL);
	/* A conflict with such a tree is still found. */
	buf_reset(&b);
	buf_adds(&b, "{ categories { ...F60 ...G } }\nfragment F0 on categories { id }\n"
		     "fragment G on categories { c: parent { id } }\n");
	for (int i = 1; i <= 60; i++)
		buf_addf(&b, "fragment F%d on categories { children { ...F%d } parent { ...F%d } "
			     "c: children { ...F%d } }\n", i, i - 1, i - 1, i - 1);
	e = validate_lim(&a, b.data, NULL);
	CHECK(e && !strcmp(e->message, "selection of both 'children' and 'parent' specify the same "
				      "response name, 'c'"));
	if (e)
		CHECK_STR(e->path, "$.selectionSet.categories.selectionSet.c");
	/* Quadratic merging: many fields under one response key exhaust the budget. */
	buf_reset(&b);
	buf_adds(&b, "{ insights {");
	for (int i = 0; i < 3000; i++)
		buf_adds(&b, " a: id");
	buf_adds(&b, " } }");
	e = validate_lim(&a, b.data, NULL);
	CHECK(e && !strcmp(e->message, "the document is too complex to validate: it compares too "
				      "many fields and fragments that share response names"));
	if (e)
		CHECK_STR(e->path, "$");
	/* ... which the field limit refuses first, as a server runs. */
	e = validate_lim(&a, b.data, &lim);
	CHECK(e && strstr(e->message, "the document has 3001 fields"));
	/* Two chains of fragments compared level by level, deeper than any recursion may go. */
	buf_reset(&b);
	buf_adds(&b, "{ categories { ...G0 ...H0 } }\n");
	for (int i = 0; i < 3000; i++) {
		buf_addf(&b, "fragment G%d on categories { children { ...G%d } }\n", i, i + 1);
		buf_addf(&b, "fragment H%d on categories { children { ...H%d } }\n", i, i + 1);
	}
	buf_adds(&b, "fragment G3000 on categories { id }\nfragment H3000 on categories { id }\n");
	e = validate_lim(&a, b.data, NULL);
	CHECK(e && strstr(e->message, "too complex"));
	struct gql_validate_limits depth_only = { 12, 0 };
	e = validate_lim(&a, b.data, &depth_only);
	CHECK(e && strstr(e->message, "the query is nested 3002 deep"));
	e = validate_lim(&a, b.data, &lim);
	CHECK(e && strstr(e->message, "the document has 6003 fields"));
	/* Many operations spreading one fragment full of variables: the budget bounds it. */
	buf_reset(&b);
	for (int i = 0; i < 2000; i++)
		buf_addf(&b, "query Q%d($v: Int!) { ...F }\n", i);
	buf_adds(&b, "fragment F on query_root { insights(where: {id: {_in: [");
	for (int i = 0; i < 2000; i++)
		buf_adds(&b, "$v ");
	buf_adds(&b, "]}}) { id } }\n");
	e = validate_lim(&a, b.data, NULL);
	CHECK(e && strstr(e->message, "too complex"));
	buf_release(&b);
	arena_release(&a);
}
