/*
 * test_parser.c: the GraphQL lexer and parser (graphql/lexer.c,
 * graphql/parser.c): every construct of an executable document, the
 * specification's example queries, GraphiQL's introspection query, string
 * decoding and block strings, and every error with its exact message and
 * position. Expected messages are graphql-js 16's where it has one.
 */
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

#include "graphql/parser.h"
#include "lib/buf.h"
#include "lib/utf8.h"

/* The specification's three example queries ("GraphQL Integration"), verbatim. */
static const char spec_query_filters[] =
	"# Query insights with filters\n"
	"query {\n"
	"  insights(\n"
	"    where: { status: { _eq: \"published\" }, priority: { _eq: \"high\" }, category: { name: { _eq: \"Technical\" } } }\n"
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
	"}\n";

static const char spec_query_statistics[] =
	"# Query statistics\n"
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
	"}\n";

static const char spec_query_search[] =
	"# Search insights by text\n"
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
	"}\n";

/*
 * graphql-js 16's getIntrospectionQuery({ descriptions: true,
 * specifiedByUrl: true, directiveIsRepeatable: true,
 * inputValueDeprecation: true }), as GraphiQL sends it (the blank lines
 * are where options left out insert nothing).
 */
static const char introspection_query[] =
	"\n"
	"    query IntrospectionQuery {\n"
	"      __schema {\n"
	"        \n"
	"        queryType { name kind }\n"
	"        mutationType { name kind }\n"
	"        subscriptionType { name kind }\n"
	"        types {\n"
	"          ...FullType\n"
	"        }\n"
	"        directives {\n"
	"          name\n"
	"          description\n"
	"          isRepeatable\n"
	"          \n"
	"          \n"
	"          locations\n"
	"          args(includeDeprecated: true) {\n"
	"            ...InputValue\n"
	"          }\n"
	"        }\n"
	"      }\n"
	"    }\n"
	"\n"
	"    fragment FullType on __Type {\n"
	"      kind\n"
	"      name\n"
	"      description\n"
	"      specifiedByURL\n"
	"      \n"
	"      fields(includeDeprecated: true) {\n"
	"        name\n"
	"        description\n"
	"        args(includeDeprecated: true) {\n"
	"          ...InputValue\n"
	"        }\n"
	"        type {\n"
	"          ...TypeRef\n"
	"        }\n"
	"        isDeprecated\n"
	"        deprecationReason\n"
	"      }\n"
	"      inputFields(includeDeprecated: true) {\n"
	"        ...InputValue\n"
	"      }\n"
	"      interfaces {\n"
	"        ...TypeRef\n"
	"      }\n"
	"      enumValues(includeDeprecated: true) {\n"
	"        name\n"
	"        description\n"
	"        isDeprecated\n"
	"        deprecationReason\n"
	"      }\n"
	"      possibleTypes {\n"
	"        ...TypeRef\n"
	"      }\n"
	"    }\n"
	"\n"
	"    fragment InputValue on __InputValue {\n"
	"      name\n"
	"      description\n"
	"      type { ...TypeRef }\n"
	"      defaultValue\n"
	"      isDeprecated\n"
	"      deprecationReason\n"
	"    }\n"
	"\n"
	"    fragment TypeRef on __Type {\n"
	"      kind\n"
	"      name\n"
	"      ofType {\n"
	"        name\n"
	"        kind\n"
	"        ofType {\n"
	"          name\n"
	"          kind\n"
	"          ofType {\n"
	"            name\n"
	"            kind\n"
	"            ofType {\n"
	"              name\n"
	"              kind\n"
	"              ofType {\n"
	"                name\n"
	"                kind\n"
	"                ofType {\n"
	"                  name\n"
	"                  kind\n"
	"                  ofType {\n"
	"                    name\n"
	"                    kind\n"
	"                    ofType {\n"
	"                      name\n"
	"                      kind\n"
	"                      ofType {\n"
	"                        name\n"
	"                        kind\n"
	"                      }\n"
	"                    }\n"
	"                  }\n"
	"                }\n"
	"              }\n"
	"            }\n"
	"          }\n"
	"        }\n"
	"      }\n"
	"    }\n"
	"  ";

/* Parses `len` bytes; on failure says why on stderr. */
static bool parse_n(struct arena *a, const char *text, size_t len, const struct gql_limits *limits,
		    struct gql_document *doc)
{
	struct error e = ERROR_INIT;
	struct gql_pos where;
	enum status rc = gql_parse(text, len, limits, a, doc, &where, &e);
	if (rc != OK)
		fprintf(stderr, "    unexpected parse error at %u:%u: %s\n", where.line, where.column,
			e.nproblems ? e.problems[0].msg : "(no problem)");
	return rc == OK;
}

static bool parse(struct arena *a, const char *text, struct gql_document *doc)
{
	return parse_n(a, text, strlen(text), NULL, doc);
}

/*
 * Checks that `len` bytes fail with exactly one "parse_failed" problem at
 * the empty path, with message `msg` and position line:column.
 */
static void check_error_at(int at, const char *text, size_t len, const struct gql_limits *limits,
			   const char *msg, unsigned line, unsigned column)
{
	struct arena a = ARENA_INIT;
	struct error e = ERROR_INIT;
	struct gql_pos where = { 999, 999 };
	struct gql_document doc = { .nops = 7 };
	enum status rc = gql_parse(text, len, limits, &a, &doc, &where, &e);
	t_checks++;
	bool ok = rc == E_INVALID && e.status == E_INVALID && e.nproblems == 1 &&
		  !strcmp(e.problems[0].type, "parse_failed") && e.problems[0].nloc == 0 &&
		  !strcmp(e.problems[0].msg, msg) && where.line == line && where.column == column &&
		  !doc.ops && !doc.nops && !doc.frags && !doc.nfrags;
	if (!ok) {
		t_failures++;
		fprintf(stderr, "%s:%d: parse error mismatch\n    got:    %s (%u:%u)\n"
			"    wanted: %s (%u:%u)\n", __FILE__, at,
			rc == OK ? "OK" : e.nproblems ? e.problems[0].msg : "(no problem)",
			where.line, where.column, msg, line, column);
	}
	arena_release(&a);
}

/* For string literals (which may hold NUL bytes). */
#define CHECK_ERROR(text, msg, line, column)                                      \
	check_error_at(__LINE__, (text), sizeof(text) - 1, NULL, (msg), (line), (column))
#define CHECK_ERROR_LIMITS(text, limits, msg, line, column)                       \
	check_error_at(__LINE__, (text), sizeof(text) - 1, (limits), (msg), (line), (column))

#define CHECK_POS(p, l, c) CHECK((p).line == (l) && (p).column == (c))

/* The value of the argument x in `{ f(x: <text>) }`, or NULL when that does not parse. */
static const struct gql_value *arg_value(struct arena *a, const char *text)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "{ f(x: %s) }", text);
	struct gql_document doc;
	bool ok = parse_n(a, b.data, b.len, NULL, &doc);
	buf_release(&b); /* the tree must not point into the text */
	if (!ok)
		return NULL;
	return doc.ops[0].set->items[0].args[0].value;
}

/* The decoded value of the string literal `text`, or NULL. */
static const char *string_value(struct arena *a, const char *text)
{
	const struct gql_value *v = arg_value(a, text);
	return v && v->kind == GQL_STRING ? v->text : NULL;
}

static const struct gql_selection *field(const struct gql_selection_set *set, size_t i)
{
	return i < set->n ? &set->items[i] : NULL;
}

/* The field of `set` named (or aliased) `name`, or NULL. */
static const struct gql_selection *find(const struct gql_selection_set *set, const char *name)
{
	for (size_t i = 0; set && i < set->n; i++) {
		const struct gql_selection *s = &set->items[i];
		if (s->kind == GQL_FIELD && !strcmp(s->alias ? s->alias : s->name, name))
			return s;
	}
	return NULL;
}

/* The value of the object field `name` of `v`, or NULL. */
static const struct gql_value *member(const struct gql_value *v, const char *name)
{
	for (size_t i = 0; v && v->kind == GQL_OBJECT && i < v->nfields; i++)
		if (!strcmp(v->fields[i].name, name))
			return v->fields[i].value;
	return NULL;
}

static const struct gql_value *argument(const struct gql_selection *s, const char *name)
{
	for (size_t i = 0; s && i < s->nargs; i++)
		if (!strcmp(s->args[i].name, name))
			return s->args[i].value;
	return NULL;
}

static bool is_string(const struct gql_value *v, const char *text)
{
	return v && v->kind == GQL_STRING && !strcmp(v->text, text);
}

static bool is_enum(const struct gql_value *v, const char *text)
{
	return v && v->kind == GQL_ENUM && !strcmp(v->text, text);
}

TEST(graphql_spec_query_filters)
{
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	struct gql_limits limits = { .max_depth = 12, .max_tokens = 1000 };
	CHECK(parse_n(&a, spec_query_filters, strlen(spec_query_filters), &limits, &doc));
	CHECK(doc.nops == 1 && doc.nfrags == 0);
	const struct gql_operation *op = &doc.ops[0];
	CHECK(op->kind == GQL_QUERY && op->name == NULL && op->nvars == 0 && op->ndirectives == 0);
	CHECK_POS(op->pos, 2, 1);
	CHECK(op->set->n == 1);
	const struct gql_selection *ins = find(op->set, "insights");
	CHECK(ins && !ins->alias && ins->nargs == 3);
	CHECK_POS(ins->pos, 3, 3);
	const struct gql_value *where = argument(ins, "where");
	CHECK(where && where->kind == GQL_OBJECT && where->nfields == 3);
	CHECK_POS(where->pos, 4, 12);
	CHECK(is_string(member(member(where, "status"), "_eq"), "published"));
	CHECK(is_string(member(member(where, "priority"), "_eq"), "high"));
	CHECK(is_string(member(member(member(where, "category"), "name"), "_eq"), "Technical"));
	CHECK(is_enum(member(argument(ins, "order_by"), "created_at"), "desc"));
	const struct gql_value *limit = argument(ins, "limit");
	CHECK(limit && limit->kind == GQL_INT && !strcmp(limit->text, "20"));
	CHECK_POS(limit->pos, 6, 12);
	CHECK(ins->set && ins->set->n == 9);
	static const char *const names[] = { "id", "title", "description", "priority", "status",
					      "created_at", "author", "category", "tags" };
	for (size_t i = 0; i < 9; i++)
		CHECK(field(ins->set, i) && !strcmp(field(ins->set, i)->name, names[i]));
	const struct gql_selection *cat = find(ins->set, "category");
	CHECK(cat && cat->set && cat->set->n == 3 && !strcmp(cat->set->items[2].name, "icon"));
	CHECK_POS(cat->set->items[2].pos, 18, 7);
	const struct gql_selection *tags = find(ins->set, "tags");
	CHECK(tags && tags->set && tags->set->n == 2 && !tags->set->items[1].set);
	arena_release(&a);
}

TEST(graphql_spec_query_statistics)
{
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	CHECK(parse(&a, spec_query_statistics, &doc));
	CHECK(doc.nops == 1);
	const struct gql_selection_set *set = doc.ops[0].set;
	CHECK(set->n == 2);
	const struct gql_selection *plain = field(set, 0), *by = field(set, 1);
	CHECK(plain && !plain->alias && !strcmp(plain->name, "insights_aggregate"));
	CHECK(by && !strcmp(by->alias, "insights_aggregate_by_status") &&
	      !strcmp(by->name, "insights_aggregate"));
	CHECK_POS(by->pos, 8, 3);
	CHECK(by->set->n == 2 && !strcmp(by->set->items[0].name, "nodes") &&
	      !strcmp(by->set->items[1].name, "aggregate"));
	CHECK(!strcmp(by->set->items[1].set->items[0].name, "count"));
	arena_release(&a);
}

TEST(graphql_spec_query_search)
{
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	CHECK(parse(&a, spec_query_search, &doc));
	const struct gql_selection *ins = find(doc.ops[0].set, "insights");
	const struct gql_value *or = member(argument(ins, "where"), "_or");
	CHECK(or && or->kind == GQL_LIST && or->nitems == 3);
	static const char *const cols[] = { "title", "description", "content" };
	for (size_t i = 0; or && i < or->nitems && i < 3; i++)
		CHECK(is_string(member(member(or->items[i], cols[i]), "_ilike"), "%performance%"));
	CHECK_POS(or->items[2]->pos, 8, 9);
	CHECK(ins->set->n == 3);
	arena_release(&a);
}

TEST(graphql_spec_queries_in_one_document)
{
	struct arena a = ARENA_INIT;
	struct buf b = BUF_INIT;
	buf_adds(&b, spec_query_filters);
	buf_adds(&b, spec_query_statistics);
	buf_adds(&b, spec_query_search);
	struct gql_document doc;
	CHECK(parse_n(&a, b.data, b.len, NULL, &doc));
	CHECK(doc.nops == 3 && doc.nfrags == 0);
	CHECK(find(doc.ops[1].set, "insights_aggregate_by_status"));
	CHECK_POS(doc.ops[2].pos, 43, 1);
	buf_release(&b);
	arena_release(&a);
}

TEST(graphql_introspection_query)
{
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	struct gql_limits limits = { .max_depth = 12, .max_tokens = 1000 };
	CHECK(parse_n(&a, introspection_query, strlen(introspection_query), &limits, &doc));
	CHECK(doc.nops == 1 && doc.nfrags == 3);
	CHECK(doc.ops[0].kind == GQL_QUERY && !strcmp(doc.ops[0].name, "IntrospectionQuery"));
	CHECK_POS(doc.ops[0].pos, 2, 5);
	CHECK(!strcmp(doc.frags[0].name, "FullType") && !strcmp(doc.frags[0].type_condition, "__Type"));
	CHECK(!strcmp(doc.frags[1].name, "InputValue") &&
	      !strcmp(doc.frags[1].type_condition, "__InputValue"));
	CHECK(!strcmp(doc.frags[2].name, "TypeRef"));
	const struct gql_selection *schema = find(doc.ops[0].set, "__schema");
	CHECK(schema && schema->set->n == 5);
	const struct gql_selection *types = find(schema->set, "types");
	CHECK(types && types->set->n == 1 && types->set->items[0].kind == GQL_FRAGMENT_SPREAD &&
	      !strcmp(types->set->items[0].name, "FullType"));
	const struct gql_selection *dirs = find(schema->set, "directives");
	CHECK(dirs && find(dirs->set, "isRepeatable"));
	const struct gql_selection *args = find(dirs->set, "args");
	const struct gql_value *incl = argument(args, "includeDeprecated");
	CHECK(incl && incl->kind == GQL_BOOLEAN && incl->boolean);
	CHECK(find(doc.frags[0].set, "specifiedByURL"));
	CHECK(find(doc.frags[0].set, "inputFields") && find(doc.frags[1].set, "isDeprecated"));
	/* TypeRef: ofType nested nine deep, the deepest set at depth 10. */
	const struct gql_selection_set *set = doc.frags[2].set;
	unsigned depth = 1;
	for (const struct gql_selection *of; (of = find(set, "ofType")) != NULL; set = of->set)
		depth++;
	CHECK(depth == 10);
	arena_release(&a);

	limits.max_depth = 9;
	struct error e = ERROR_INIT;
	struct gql_pos where;
	CHECK(gql_parse(introspection_query, strlen(introspection_query), &limits, &a, &doc, &where,
			&e) == E_INVALID);
	CHECK_STR(e.problems[0].msg, "Syntax Error: Selection set exceeds the maximum depth of 9.");
	CHECK_POS(where, 96, 30);
	arena_release(&a);
}

/* Every construct of the executable grammar, with the positions of its nodes. */
static const char kitchen_sink[] =
	"query Q($id: ID! = 4, $list: [[Int!]]! = [[1, 2], []] @v(a: 1),\n"
	"        $obj: In = {a: \"x\", b: [true, false, null], c: RED, d: 1.5e3, e: -0, f: \"\"\"b\"\"\"})\n"
	"  @op(x: 1) @op2 {\n"
	"  alias: field(arg: $id, other: {nested: [$list, {}]}) @include(if: true) @skip(if: false) {\n"
	"    ...Frag @spread\n"
	"    ... on User @inline(a: $obj) { id }\n"
	"    ... @include(if: $cond) { name }\n"
	"    ... { plain, }\n"
	"  }\n"
	"  another\n"
	"}\n"
	"mutation { m(x: 1) }\n"
	"subscription S { s }\n"
	"fragment Frag on User @fragdir { id ...Other }\n"
	"{ shorthand }\n"
	"query on { on: on(on: on) }\n";

TEST(graphql_every_construct)
{
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	CHECK(parse(&a, kitchen_sink, &doc));
	CHECK(doc.nops == 5 && doc.nfrags == 1);

	const struct gql_operation *q = &doc.ops[0];
	CHECK(q->kind == GQL_QUERY && !strcmp(q->name, "Q") && q->nvars == 3 && q->ndirectives == 2);
	CHECK_POS(q->pos, 1, 1);
	const struct gql_variable_def *v = q->vars;
	CHECK(!strcmp(v[0].name, "id") && v[0].type->kind == GQL_TYPE_NON_NULL &&
	      v[0].type->of->kind == GQL_TYPE_NAMED && !strcmp(v[0].type->of->name, "ID") &&
	      !v[0].type->name);
	CHECK_POS(v[0].pos, 1, 9);
	CHECK_POS(v[0].type->pos, 1, 14);
	CHECK(v[0].default_value->kind == GQL_INT && !strcmp(v[0].default_value->text, "4"));
	/* [[Int!]]! */
	const struct gql_type_ref *t = v[1].type;
	CHECK(t->kind == GQL_TYPE_NON_NULL && t->of->kind == GQL_TYPE_LIST &&
	      t->of->of->kind == GQL_TYPE_LIST && t->of->of->of->kind == GQL_TYPE_NON_NULL &&
	      t->of->of->of->of->kind == GQL_TYPE_NAMED && !strcmp(t->of->of->of->of->name, "Int"));
	CHECK_POS(t->pos, 1, 30);
	CHECK_POS(t->of->of->pos, 1, 31);
	const struct gql_value *dl = v[1].default_value;
	CHECK(dl->kind == GQL_LIST && dl->nitems == 2 && dl->items[0]->nitems == 2 &&
	      dl->items[1]->kind == GQL_LIST && dl->items[1]->nitems == 0 && !dl->items[1]->items);
	CHECK(!strcmp(dl->items[0]->items[1]->text, "2"));
	CHECK(v[1].ndirectives == 1 && !strcmp(v[1].directives[0].name, "v") &&
	      v[1].directives[0].nargs == 1);
	CHECK_POS(v[1].directives[0].pos, 1, 55);
	const struct gql_value *obj = v[2].default_value;
	CHECK(obj->kind == GQL_OBJECT && obj->nfields == 6);
	CHECK(!strcmp(obj->fields[0].name, "a") && is_string(obj->fields[0].value, "x"));
	CHECK_POS(obj->fields[1].pos, 2, 29);
	const struct gql_value *b = member(obj, "b");
	CHECK(b->nitems == 3 && b->items[0]->kind == GQL_BOOLEAN && b->items[0]->boolean &&
	      b->items[1]->kind == GQL_BOOLEAN && !b->items[1]->boolean &&
	      b->items[2]->kind == GQL_NULL && !b->items[2]->text);
	CHECK(is_enum(member(obj, "c"), "RED"));
	CHECK(member(obj, "d")->kind == GQL_FLOAT && !strcmp(member(obj, "d")->text, "1.5e3"));
	CHECK(member(obj, "e")->kind == GQL_INT && !strcmp(member(obj, "e")->text, "-0"));
	CHECK(is_string(member(obj, "f"), "b"));
	CHECK(!strcmp(q->directives[0].name, "op") && q->directives[0].nargs == 1 &&
	      !strcmp(q->directives[1].name, "op2") && q->directives[1].nargs == 0 &&
	      !q->directives[1].args);
	CHECK_POS(q->directives[1].pos, 3, 13);

	CHECK_POS(q->set->pos, 3, 18);
	CHECK(q->set->n == 2);
	const struct gql_selection *f = field(q->set, 0);
	CHECK(f->kind == GQL_FIELD && !strcmp(f->alias, "alias") && !strcmp(f->name, "field"));
	CHECK_POS(f->pos, 4, 3);
	CHECK(f->nargs == 2 && !strcmp(f->args[0].name, "arg"));
	CHECK_POS(f->args[1].pos, 4, 26);
	const struct gql_value *var = f->args[0].value;
	CHECK(var->kind == GQL_VARIABLE && !strcmp(var->text, "id"));
	CHECK_POS(var->pos, 4, 21);
	const struct gql_value *nested = member(f->args[1].value, "nested");
	CHECK(nested->nitems == 2 && nested->items[0]->kind == GQL_VARIABLE &&
	      nested->items[1]->kind == GQL_OBJECT && nested->items[1]->nfields == 0 &&
	      !nested->items[1]->fields);
	CHECK(f->ndirectives == 2 && !strcmp(f->directives[0].name, "include") &&
	      !strcmp(f->directives[1].name, "skip") && !f->directives[1].args[0].value->boolean);
	CHECK(f->set->n == 4);
	const struct gql_selection *spread = field(f->set, 0);
	CHECK(spread->kind == GQL_FRAGMENT_SPREAD && !strcmp(spread->name, "Frag") &&
	      spread->ndirectives == 1 && !spread->set && !spread->type_condition);
	CHECK_POS(spread->pos, 5, 5);
	const struct gql_selection *inl = field(f->set, 1);
	CHECK(inl->kind == GQL_INLINE_FRAGMENT && !strcmp(inl->type_condition, "User") &&
	      !inl->name && inl->ndirectives == 1 && inl->set->n == 1);
	CHECK(inl->directives[0].args[0].value->kind == GQL_VARIABLE);
	const struct gql_selection *bare = field(f->set, 2);
	CHECK(bare->kind == GQL_INLINE_FRAGMENT && !bare->type_condition && bare->ndirectives == 1);
	CHECK_POS(bare->set->pos, 7, 29);
	const struct gql_selection *plain = field(f->set, 3);
	CHECK(plain->kind == GQL_INLINE_FRAGMENT && !plain->ndirectives && !plain->directives &&
	      plain->set->n == 1);
	const struct gql_selection *another = field(q->set, 1);
	CHECK(!another->alias && !strcmp(another->name, "another") && !another->nargs &&
	      !another->args && !another->set);

	CHECK(doc.ops[1].kind == GQL_MUTATION && !doc.ops[1].name);
	CHECK_POS(doc.ops[1].pos, 12, 1);
	CHECK(doc.ops[2].kind == GQL_SUBSCRIPTION && !strcmp(doc.ops[2].name, "S"));
	CHECK(doc.ops[3].kind == GQL_QUERY && !doc.ops[3].name && !doc.ops[3].nvars);
	CHECK_POS(doc.ops[3].pos, 15, 1);
	CHECK_POS(doc.ops[3].set->pos, 15, 1);
	/* "on" is a keyword only where a fragment's name or type condition goes. */
	const struct gql_operation *on = &doc.ops[4];
	CHECK(!strcmp(on->name, "on") && !strcmp(on->set->items[0].alias, "on") &&
	      is_enum(on->set->items[0].args[0].value, "on"));

	const struct gql_fragment *fr = &doc.frags[0];
	CHECK(!strcmp(fr->name, "Frag") && !strcmp(fr->type_condition, "User") &&
	      fr->ndirectives == 1 && !strcmp(fr->directives[0].name, "fragdir"));
	CHECK_POS(fr->pos, 14, 1);
	CHECK(fr->set->n == 2 && fr->set->items[1].kind == GQL_FRAGMENT_SPREAD);
	arena_release(&a);
}

TEST(graphql_ignored_tokens)
{
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	/* Commas, tabs, comments, every line terminator, byte order marks. */
	const char text[] = "\xEF\xBB\xBF# comment, { not a token\r\n"
			    "query\t,,Q # \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80\r"
			    "{\n  a,b \xEF\xBB\xBF c(x: 1,,, y: 2)\r\n}#end";
	CHECK(parse_n(&a, text, sizeof(text) - 1, NULL, &doc));
	CHECK(doc.nops == 1 && !strcmp(doc.ops[0].name, "Q"));
	CHECK_POS(doc.ops[0].pos, 2, 1);
	CHECK_POS(doc.ops[0].set->pos, 3, 1);
	const struct gql_selection_set *set = doc.ops[0].set;
	CHECK(set->n == 3 && set->items[2].nargs == 2);
	CHECK_POS(set->items[1].pos, 4, 5);
	CHECK_POS(set->items[2].pos, 4, 9); /* the BOM counts as one character */
	CHECK_POS(set->items[2].args[1].pos, 4, 19);
	/* A byte order mark alone at the start: columns count it. */
	CHECK(parse(&a, "\xEF\xBB\xBF{ a }", &doc));
	CHECK_POS(doc.ops[0].pos, 1, 2);
	arena_release(&a);
}

TEST(graphql_columns_count_code_points)
{
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	CHECK(parse(&a, "{ a(x: \"\xC3\xA9\xF0\x9F\x98\x80\xE2\x82\xAC\") b }", &doc));
	CHECK_POS(doc.ops[0].set->items[1].pos, 1, 15);
	/* After a block string over several lines. */
	CHECK(parse(&a, "{ a(x: \"\"\"\n  \xC3\xA9\r\n\r  z\"\"\") b }", &doc));
	CHECK_POS(doc.ops[0].set->items[1].pos, 4, 9);
	CHECK_STR(doc.ops[0].set->items[0].args[0].value->text, "\xC3\xA9\n\nz");
	arena_release(&a);
}

TEST(graphql_numbers)
{
	struct arena a = ARENA_INIT;
	static const struct {
		const char *text;
		enum gql_value_kind kind;
	} ok[] = {
		{ "0", GQL_INT }, { "-0", GQL_INT }, { "7", GQL_INT }, { "-1234567890", GQL_INT },
		{ "99999999999999999999999", GQL_INT }, { "0.0", GQL_FLOAT }, { "-1.5", GQL_FLOAT },
		{ "1e5", GQL_FLOAT }, { "1E+5", GQL_FLOAT }, { "-0e-5", GQL_FLOAT },
		{ "6.0221413e23", GQL_FLOAT }, { "1.25E-10", GQL_FLOAT },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const struct gql_value *v = arg_value(&a, ok[i].text);
		CHECK(v && v->kind == ok[i].kind && !strcmp(v->text, ok[i].text));
	}
	/* A number ends at anything else that is not a digit, "." or a NameStart. */
	const struct gql_value *v = arg_value(&a, "[1,2 -3[4]-5.5]");
	CHECK(v && v->nitems == 5 && v->items[3]->kind == GQL_LIST &&
	      !strcmp(v->items[4]->text, "-5.5"));
	arena_release(&a);
}

TEST(graphql_string_escapes)
{
	struct arena a = ARENA_INIT;
	CHECK_STR(string_value(&a, "\"\""), "");
	CHECK_STR(string_value(&a, "\"plain text\""), "plain text");
	CHECK_STR(string_value(&a, "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), "\" \\ / \b \f \n \r \t");
	CHECK_STR(string_value(&a, "\"\\u0041\\u00e9\\u20AC\\uFfFf\""),
		  "A\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF");
	/* A surrogate pair escaped JSON-style is one character. */
	CHECK_STR(string_value(&a, "\"\\uD83D\\uDE00!\""), "\xF0\x9F\x98\x80!");
	CHECK_STR(string_value(&a, "\"\\uDBFF\\uDFFF\""), "\xF4\x8F\xBF\xBF");
	/* Raw characters: tab, non-ASCII, characters above U+FFFF, DEL. */
	CHECK_STR(string_value(&a, "\"\tcaf\xC3\xA9 \xF0\x9F\x98\x80 \x7F\""),
		  "\tcaf\xC3\xA9 \xF0\x9F\x98\x80 \x7F");
	CHECK_STR(string_value(&a, "\"# not a comment, {}\""), "# not a comment, {}");
	/* "" followed by another string. */
	const struct gql_value *v = arg_value(&a, "[\"\" \"a\"]");
	CHECK(v && v->nitems == 2 && is_string(v->items[0], "") && is_string(v->items[1], "a"));
	arena_release(&a);
}

/* The block string `raw` (between its triple quotes) and its value. */
static void check_block(int at, const char *raw, const char *want)
{
	struct arena a = ARENA_INIT;
	struct buf b = BUF_INIT;
	buf_addf(&b, "\"\"\"%s\"\"\"", raw);
	const char *got = string_value(&a, b.data);
	t_checks++;
	if (!got || strcmp(got, want)) {
		t_failures++;
		fprintf(stderr, "%s:%d: block string\n    got:    [%s]\n    wanted: [%s]\n", __FILE__,
			at, got ? got : "(error)", want);
	}
	buf_release(&b);
	arena_release(&a);
}

#define CHECK_BLOCK(raw, want) check_block(__LINE__, (raw), (want))

TEST(graphql_block_strings)
{
	/* The specification's example (2.9.4). */
	CHECK_BLOCK("\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  ",
		    "Hello,\n  World!\n\nYours,\n  GraphQL.");
	/* Uniform indentation removed, the first line's kept. */
	CHECK_BLOCK("first\n    second\n      third", "first\nsecond\n  third");
	CHECK_BLOCK("  first\n  second", "  first\nsecond");
	/* Leading and trailing blank lines (white space only) removed; inner ones kept. */
	CHECK_BLOCK("\n\n   \n  a\n\t\n\n  b\n \t \n\n", "a\n\n\nb");
	/* A blank line shorter than the indentation becomes empty; a longer one keeps the rest. */
	CHECK_BLOCK("\n    a\n  \n      \n    b", "a\n\n  \nb");
	/* Trailing spaces are kept. */
	CHECK_BLOCK("\n  a  \n  b\t", "a  \nb\t");
	/* Tabs are white space too. */
	CHECK_BLOCK("\n\t\ta\n\t\t\tb", "a\n\tb");
	/* Only white space: empty. */
	CHECK_BLOCK("", "");
	CHECK_BLOCK("   ", "");
	CHECK_BLOCK("\n \n\t\n", "");
	/* Every line terminator becomes "\n". */
	CHECK_BLOCK("\r\n  a\r  b\r\n\n  c\r", "a\nb\n\nc");
	/* \""" is """; other escapes are not escapes. */
	CHECK_BLOCK("a \\\"\"\" b", "a \"\"\" b");
	CHECK_BLOCK("\\n \\u0041 \\\\ \\\" x", "\\n \\u0041 \\\\ \\\" x");
	CHECK_BLOCK("\n  \\\"\"\"x\n    y", "\"\"\"x\n  y");
	CHECK_BLOCK("\"quoted\" and \"\"two\"\" end", "\"quoted\" and \"\"two\"\" end");
	/* Non-ASCII content; indentation counts characters. */
	CHECK_BLOCK("\n  \xC3\xA9\n   \xF0\x9F\x98\x80", "\xC3\xA9\n \xF0\x9F\x98\x80");
	/* The first line does not set the indentation, even when it is the smallest. */
	CHECK_BLOCK("a\n      b\n    c", "a\n  b\nc");
}

/* Whether a string was a block string is kept (field merging compares it). */
TEST(graphql_block_string_flag)
{
	struct arena a = ARENA_INIT;
	const struct gql_value *v = arg_value(&a, "\"\"\"a\"\"\"");
	CHECK(v && v->kind == GQL_STRING && v->block && !strcmp(v->text, "a"));
	v = arg_value(&a, "\"a\"");
	CHECK(v && v->kind == GQL_STRING && !v->block && !strcmp(v->text, "a"));
	arena_release(&a);
}

TEST(graphql_values_enum_boolean_null)
{
	struct arena a = ARENA_INIT;
	const struct gql_value *v = arg_value(&a, "[true, false, null, True, NULL, on, fragment, _x1]");
	CHECK(v && v->nitems == 8);
	CHECK(v->items[0]->kind == GQL_BOOLEAN && v->items[0]->boolean);
	CHECK(v->items[1]->kind == GQL_BOOLEAN && !v->items[1]->boolean);
	CHECK(v->items[2]->kind == GQL_NULL);
	CHECK(is_enum(v->items[3], "True") && is_enum(v->items[4], "NULL"));
	CHECK(is_enum(v->items[5], "on") && is_enum(v->items[6], "fragment"));
	CHECK(is_enum(v->items[7], "_x1"));
	/* Object fields keep their order and their duplicates (validation's business). */
	v = arg_value(&a, "{b: 1, a: 2, b: 3}");
	CHECK(v && v->nfields == 3 && !strcmp(v->fields[2].name, "b") &&
	      !strcmp(v->fields[2].value->text, "3"));
	arena_release(&a);
}

TEST(graphql_syntax_errors)
{
	CHECK_ERROR("", "Syntax Error: Unexpected <EOF>.", 1, 1);
	CHECK_ERROR("   \n  ", "Syntax Error: Unexpected <EOF>.", 2, 3);
	CHECK_ERROR("# only a comment", "Syntax Error: Unexpected <EOF>.", 1, 17);
	CHECK_ERROR("{}", "Syntax Error: Expected Name, found \"}\".", 1, 2);
	CHECK_ERROR("{ a", "Syntax Error: Expected Name, found <EOF>.", 1, 4);
	CHECK_ERROR("{ a }}", "Syntax Error: Unexpected \"}\".", 1, 6);
	CHECK_ERROR("foo { a }", "Syntax Error: Unexpected Name \"foo\".", 1, 1);
	CHECK_ERROR("query", "Syntax Error: Expected \"{\", found <EOF>.", 1, 6);
	CHECK_ERROR("query q on", "Syntax Error: Expected \"{\", found Name \"on\".", 1, 9);
	CHECK_ERROR("query Q ()", "Syntax Error: Expected \"$\", found \")\".", 1, 10);
	CHECK_ERROR("query Q ($a) { a }", "Syntax Error: Expected \":\", found \")\".", 1, 12);
	CHECK_ERROR("query Q ($a: ) { a }", "Syntax Error: Expected Name, found \")\".", 1, 14);
	CHECK_ERROR("query Q ($a: [Int) { a }", "Syntax Error: Expected \"]\", found \")\".", 1, 18);
	CHECK_ERROR("query Q ($a: Int!!) { a }", "Syntax Error: Expected \"$\", found \"!\".", 1, 18);
	CHECK_ERROR("query Q ($a: Int = ) { a }", "Syntax Error: Unexpected \")\".", 1, 20);
	CHECK_ERROR("query Q @ { a }", "Syntax Error: Expected Name, found \"{\".", 1, 11);
	CHECK_ERROR("{ a() }", "Syntax Error: Expected Name, found \")\".", 1, 5);
	CHECK_ERROR("{ a(x: ) }", "Syntax Error: Unexpected \")\".", 1, 8);
	CHECK_ERROR("{ a(x 1) }", "Syntax Error: Expected \":\", found Int \"1\".", 1, 7);
	CHECK_ERROR("{ a: }", "Syntax Error: Expected Name, found \"}\".", 1, 6);
	CHECK_ERROR("{ a(x: [1 2) }", "Syntax Error: Unexpected \")\".", 1, 12);
	CHECK_ERROR("{ a(x: {b 1}) }", "Syntax Error: Expected \":\", found Int \"1\".", 1, 11);
	CHECK_ERROR("{ a(x: {1: 1}) }", "Syntax Error: Expected Name, found Int \"1\".", 1, 9);
	CHECK_ERROR("{ a(x: $) }", "Syntax Error: Expected Name, found \")\".", 1, 9);
	CHECK_ERROR("{ a(x: \"s\" }", "Syntax Error: Expected Name, found \"}\".", 1, 12);
	CHECK_ERROR("{ a(x: ...) }", "Syntax Error: Unexpected \"...\".", 1, 8);
	CHECK_ERROR("{ a(x: [1, 2", "Syntax Error: Unexpected <EOF>.", 1, 13);
	CHECK_ERROR("{ a(x: {b: 1", "Syntax Error: Expected Name, found <EOF>.", 1, 13);
	CHECK_ERROR("{ a | b }", "Syntax Error: Expected Name, found \"|\".", 1, 5);
	CHECK_ERROR("{ a & b }", "Syntax Error: Expected Name, found \"&\".", 1, 5);
	CHECK_ERROR("{ a = b }", "Syntax Error: Expected Name, found \"=\".", 1, 5);
	CHECK_ERROR("{ ... }", "Syntax Error: Expected \"{\", found \"}\".", 1, 7);
	CHECK_ERROR("{ ... on }", "Syntax Error: Expected Name, found \"}\".", 1, 10);
	CHECK_ERROR("query { ... on { a } }", "Syntax Error: Expected Name, found \"{\".", 1, 16);
	CHECK_ERROR("{ ...F @ }", "Syntax Error: Expected Name, found \"}\".", 1, 10);
	CHECK_ERROR("{ a } b", "Syntax Error: Unexpected Name \"b\".", 1, 7);
	CHECK_ERROR("{ a } 1", "Syntax Error: Unexpected Int \"1\".", 1, 7);
	CHECK_ERROR("{ a } [", "Syntax Error: Unexpected \"[\".", 1, 7);
	CHECK_ERROR("{ a }\n\n  \"\"\"x\"\"\" query { a }",
		    "Syntax Error: Unexpected description, descriptions are supported only on type "
		    "definitions.", 3, 3);
	CHECK_ERROR("\"d\" { a }",
		    "Syntax Error: Unexpected description, descriptions are supported only on type "
		    "definitions.", 1, 1);
	CHECK_ERROR("{ f(x: 1.5) @ }", "Syntax Error: Expected Name, found \"}\".", 1, 15);
	/* A long token is cut in the message. */
	CHECK_ERROR("{ a(x: 1) } "
		    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
		    "Syntax Error: Unexpected Name \"abcdefghijklmnopqrstuvwxyzabcdefghijklmn...\".",
		    1, 13);
	CHECK_ERROR("{ \"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
		    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
		    "x\xC3\xA9\xC3\xA9\" }",
		    "Syntax Error: Expected Name, found String \"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
		    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
		    "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9x...\".", 1, 3);
	CHECK_ERROR("{ a } \"d\"", "Syntax Error: Unexpected <EOF>.", 1, 10);
	CHECK_ERROR("{ a } \"d\" 1", "Syntax Error: Unexpected Int \"1\".", 1, 11);
	CHECK_ERROR("{ a } \"d\" foo",
		    "Syntax Error: Unexpected description, descriptions are supported only on type "
		    "definitions.", 1, 7);
}

TEST(graphql_fragment_errors)
{
	CHECK_ERROR("fragment F T { a }", "Syntax Error: Expected \"on\", found Name \"T\".", 1, 12);
	CHECK_ERROR("fragment F { a }", "Syntax Error: Expected \"on\", found \"{\".", 1, 12);
	CHECK_ERROR("fragment on on T { a }", "Syntax Error: Unexpected Name \"on\".", 1, 10);
	CHECK_ERROR("fragment F on T", "Syntax Error: Expected \"{\", found <EOF>.", 1, 16);
	CHECK_ERROR("fragment F on { a }", "Syntax Error: Expected Name, found \"{\".", 1, 15);
	CHECK_ERROR("fragment { a }", "Syntax Error: Expected Name, found \"{\".", 1, 10);
	CHECK_ERROR("fragment F($v: Int) on T { a }", "Syntax Error: Expected \"on\", found \"(\".",
		    1, 11);
}

TEST(graphql_constant_values)
{
	CHECK_ERROR("query ($a: Int = $b) { a }",
		    "Syntax Error: Unexpected variable \"$b\" in constant value.", 1, 18);
	CHECK_ERROR("query ($a: [Int] = [1, $b]) { a }",
		    "Syntax Error: Unexpected variable \"$b\" in constant value.", 1, 24);
	CHECK_ERROR("query ($a: In = {x: {y: $b}}) { a }",
		    "Syntax Error: Unexpected variable \"$b\" in constant value.", 1, 25);
	CHECK_ERROR("query ($a: Int = $) { a }", "Syntax Error: Unexpected \"$\".", 1, 18);
	/* A variable's directives are constant too; other directives are not. */
	CHECK_ERROR("query ($a: Int @d(x: $b)) { a }",
		    "Syntax Error: Unexpected variable \"$b\" in constant value.", 1, 22);
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	CHECK(parse(&a, "query ($a: Int = 1 @d(x: 2)) @d(x: $a) { f @d(x: $a) ...F @d(x: $a) }",
		    &doc));
	CHECK(doc.ops[0].vars[0].ndirectives == 1);
	arena_release(&a);
}

TEST(graphql_type_system_refused)
{
	static const char *const words[] = { "schema", "scalar", "type", "interface", "union",
					      "enum", "input", "directive", "extend" };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char text[64], msg[160];
		snprintf(text, sizeof(text), "{ a }\n%s X { a: Int }", words[i]);
		snprintf(msg, sizeof(msg), "Syntax Error: Unexpected Name \"%s\": only executable "
			 "definitions (operations and fragments) are supported.", words[i]);
		check_error_at(__LINE__, text, strlen(text), NULL, msg, 2, 1);
	}
	CHECK_ERROR("type Query { a: Int }",
		    "Syntax Error: Unexpected Name \"type\": only executable definitions (operations "
		    "and fragments) are supported.", 1, 1);
	/* With a description, the error points at the keyword. */
	CHECK_ERROR("\"A type\" type Q { a: Int }",
		    "Syntax Error: Unexpected Name \"type\": only executable definitions (operations "
		    "and fragments) are supported.", 1, 10);
	CHECK_ERROR("\"\"\"\nA scalar\n\"\"\"\nscalar Date",
		    "Syntax Error: Unexpected Name \"scalar\": only executable definitions (operations "
		    "and fragments) are supported.", 4, 1);
	CHECK_ERROR("extend schema @d",
		    "Syntax Error: Unexpected Name \"extend\": only executable definitions (operations "
		    "and fragments) are supported.", 1, 1);
	/* The token after a description is lexed, and its errors reported. */
	CHECK_ERROR("\"d\" %", "Syntax Error: Unexpected character: \"%\".", 1, 5);
}

TEST(graphql_lexical_errors)
{
	/* Strings. */
	CHECK_ERROR("{ a(x: \"abc", "Syntax Error: Unterminated string.", 1, 12);
	CHECK_ERROR("{ a(x: \"abc\n\") }", "Syntax Error: Unterminated string.", 1, 12);
	CHECK_ERROR("{ a(x: \"abc\r\") }", "Syntax Error: Unterminated string.", 1, 12);
	CHECK_ERROR("{ a(x: \"\\\") }", "Syntax Error: Unterminated string.", 1, 14);
	CHECK_ERROR("{ a(x: \"\"\"abc) }", "Syntax Error: Unterminated string.", 1, 17);
	CHECK_ERROR("{ a(x: \"\"\"abc\n\\\"\"\"\n\"\") }", "Syntax Error: Unterminated string.", 3,
		    6);
	CHECK_ERROR("{ a(x: \"\\q\") }", "Syntax Error: Invalid character escape sequence: \"\\q\".",
		    1, 9);
	CHECK_ERROR("{ a(x: \"ok\\x\") }",
		    "Syntax Error: Invalid character escape sequence: \"\\x\".", 1, 11);
	CHECK_ERROR("{ a(x: \"\\\xC3\xA9\") }",
		    "Syntax Error: Invalid character escape sequence: \"\\\xC3\xA9\".", 1, 9);
	CHECK_ERROR("{ a(x: \"\\\n\") }", "Syntax Error: Invalid character escape sequence: \"\\\".",
		    1, 9);
	CHECK_ERROR("{ a(x: \"\\", "Syntax Error: Invalid character escape sequence: \"\\\".", 1, 9);
	CHECK_ERROR("{ a(x: \"\\u12\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\u12\")\".", 1, 9);
	CHECK_ERROR("{ a(x: \"\\uXYZW\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\uXYZW\".", 1, 9);
	CHECK_ERROR("{ a(x: \"\\u12", "Syntax Error: Invalid Unicode escape sequence: \"\\u12\".", 1,
		    9);
	/* The variable-width escape is a later edition's. */
	CHECK_ERROR("{ a(x: \"\\u{1F600}\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\u{1F6\".", 1, 9);
	/* Lone surrogates. */
	CHECK_ERROR("{ a(x: \"\\uD800\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\uD800\".", 1, 9);
	CHECK_ERROR("{ a(x: \"\\uDBFF\\u0041\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\uDBFF\".", 1, 9);
	CHECK_ERROR("{ a(x: \"\\uD800\\uD800\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\uD800\".", 1, 9);
	CHECK_ERROR("{ a(x: \"\\uD83D\\uDE0\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\uD83D\".", 1, 9);
	CHECK_ERROR("{ a(x: \"a\\uDC00\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\uDC00\".", 1, 10);
	CHECK_ERROR("{ a(x: \"\\uDE00\\uD83D\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\uDE00\".", 1, 9);
	/* U+0000, escaped or raw, and control characters. */
	CHECK_ERROR("{ a(x: \"a\\u0000b\") }",
		    "Syntax Error: Invalid Unicode escape sequence: \"\\u0000\": a string cannot "
		    "contain U+0000.", 1, 10);
	CHECK_ERROR("{ a(x: \"a\0b\") }", "Syntax Error: Invalid character within String: U+0000.",
		    1, 10);
	CHECK_ERROR("{ a(x: \"a\x07\") }", "Syntax Error: Invalid character within String: U+0007.",
		    1, 10);
	CHECK_ERROR("{ a(x: \"\"\"\n a\x1F\"\"\") }",
		    "Syntax Error: Invalid character within String: U+001F.", 2, 3);
	CHECK_ERROR("{ a(x: \"\"\"\0\"\"\") }",
		    "Syntax Error: Invalid character within String: U+0000.", 1, 11);

	/* Numbers. */
	CHECK_ERROR("{ a(x: 00) }", "Syntax Error: Invalid number, unexpected digit after 0: \"0\".",
		    1, 9);
	CHECK_ERROR("{ a(x: -01) }",
		    "Syntax Error: Invalid number, unexpected digit after 0: \"1\".", 1, 10);
	CHECK_ERROR("{ a(x: 1.e5) }", "Syntax Error: Invalid number, expected digit but got: \"e\".",
		    1, 10);
	CHECK_ERROR("{ a(x: 1.5.) }", "Syntax Error: Invalid number, expected digit but got: \".\".",
		    1, 11);
	CHECK_ERROR("{ a(x: 12abc) }",
		    "Syntax Error: Invalid number, expected digit but got: \"a\".", 1, 10);
	CHECK_ERROR("{ a(x: 0x1) }", "Syntax Error: Invalid number, expected digit but got: \"x\".",
		    1, 9);
	CHECK_ERROR("{ a(x: 1_000) }",
		    "Syntax Error: Invalid number, expected digit but got: \"_\".", 1, 9);
	CHECK_ERROR("{ a(x: 1e) }", "Syntax Error: Invalid number, expected digit but got: \")\".",
		    1, 10);
	CHECK_ERROR("{ a(x: 1e+) }", "Syntax Error: Invalid number, expected digit but got: \")\".",
		    1, 11);
	CHECK_ERROR("{ a(x: 1.5e3e) }",
		    "Syntax Error: Invalid number, expected digit but got: \"e\".", 1, 13);
	CHECK_ERROR("{ a(x: -) }", "Syntax Error: Invalid number, expected digit but got: \")\".",
		    1, 9);
	CHECK_ERROR("{ a(x: -a) }", "Syntax Error: Invalid number, expected digit but got: \"a\".",
		    1, 9);
	CHECK_ERROR("{ a(x: .5) }", "Syntax Error: Unexpected character: \".\".", 1, 8);
	CHECK_ERROR("{ a(x: 1.", "Syntax Error: Invalid number, expected digit but got: <EOF>.", 1,
		    10);
	CHECK_ERROR("{ a(x: 1.\"", "Syntax Error: Invalid number, expected digit but got: '\"'.", 1,
		    10);
	CHECK_ERROR("{ a(x: 1.\xC3\xA9) }",
		    "Syntax Error: Invalid number, expected digit but got: U+00E9.", 1, 10);
	CHECK_ERROR("{ a(x: 1.\xFF) }", "Syntax Error: Invalid UTF-8 byte 0xFF.", 1, 10);

	/* Characters that start no token. */
	CHECK_ERROR("{ a %}", "Syntax Error: Unexpected character: \"%\".", 1, 5);
	CHECK_ERROR("{ a '}",
		    "Syntax Error: Unexpected single quote character ('), did you mean to use a "
		    "double quote (\")?", 1, 5);
	CHECK_ERROR("{ a .. b }", "Syntax Error: Unexpected character: \".\".", 1, 5);
	CHECK_ERROR("{ a ..", "Syntax Error: Unexpected character: \".\".", 1, 5);
	CHECK_ERROR("{ a \x07 }", "Syntax Error: Unexpected character: U+0007.", 1, 5);
	CHECK_ERROR("{ a \0 }", "Syntax Error: Unexpected character: U+0000.", 1, 5);
	CHECK_ERROR("{ a \x0B }", "Syntax Error: Unexpected character: U+000B.", 1, 5);
	CHECK_ERROR("{ a \x7F }", "Syntax Error: Unexpected character: U+007F.", 1, 5);
	CHECK_ERROR("{ a \xC3\xA9 }", "Syntax Error: Unexpected character: U+00E9.", 1, 5);
	CHECK_ERROR("{ \xF0\x9F\x98\x80 }", "Syntax Error: Unexpected character: U+1F600.", 1, 3);
	CHECK_ERROR("{ a \xC2\xA0 }", "Syntax Error: Unexpected character: U+00A0.", 1, 5);
	/* A control character ends a comment, then is refused. */
	CHECK_ERROR("{ a # x\x01y\n }", "Syntax Error: Unexpected character: U+0001.", 1, 8);
}

TEST(graphql_invalid_utf8)
{
	CHECK_ERROR("{ a \xFF }", "Syntax Error: Invalid UTF-8 byte 0xFF.", 1, 5);
	CHECK_ERROR("{ a(x: \"caf\xC3\") }", "Syntax Error: Invalid UTF-8 byte 0xC3.", 1, 12);
	CHECK_ERROR("{ a(x: \"\xC0\xAF\") }", "Syntax Error: Invalid UTF-8 byte 0xC0.", 1, 9);
	CHECK_ERROR("{ a(x: \"\xED\xA0\x80\") }", "Syntax Error: Invalid UTF-8 byte 0xED.", 1, 9);
	CHECK_ERROR("{ a(x: \"\xF4\x90\x80\x80\") }", "Syntax Error: Invalid UTF-8 byte 0xF4.", 1,
		    9);
	CHECK_ERROR("{ a(x: \"\xE2\x82\") }", "Syntax Error: Invalid UTF-8 byte 0xE2.", 1, 9);
	CHECK_ERROR("{ a(x: \"\x80\") }", "Syntax Error: Invalid UTF-8 byte 0x80.", 1, 9);
	CHECK_ERROR("{ a(x: \"\"\"\n\xC3\xA9 \xE9\"\"\") }", "Syntax Error: Invalid UTF-8 byte 0xE9.",
		    2, 3);
	CHECK_ERROR("{ a } # \xC3\xA9\xF0\x9F\x98", "Syntax Error: Invalid UTF-8 byte 0xF0.", 1, 10);
	CHECK_ERROR("{ a }\r\n\xEF\xBB", "Syntax Error: Invalid UTF-8 byte 0xEF.", 2, 1);
	CHECK_ERROR("\xFE\xFF{ a }", "Syntax Error: Invalid UTF-8 byte 0xFE.", 1, 1);
	/* A string that lacks a character after an escape: the escape is reported first. */
	CHECK_ERROR("{ a(x: \"\\z\xFF\") }",
		    "Syntax Error: Invalid character escape sequence: \"\\z\".", 1, 9);
}

TEST(graphql_error_positions_across_lines)
{
	CHECK_ERROR("query {\n  a\n  b(\n}", "Syntax Error: Expected Name, found \"}\".", 4, 1);
	CHECK_ERROR("query {\r\n  a\r\n  b(\r\n}", "Syntax Error: Expected Name, found \"}\".", 4, 1);
	CHECK_ERROR("query {\r  a\r  b(\r}", "Syntax Error: Expected Name, found \"}\".", 4, 1);
	/* "\n\r" is two line terminators. */
	CHECK_ERROR("query {\n\r  b(\r\n\n}", "Syntax Error: Expected Name, found \"}\".", 5, 1);
	CHECK_ERROR("{ a(x: \"\"\"\r\n\r\n  \xC3\xA9\"\"\") % }",
		    "Syntax Error: Unexpected character: \"%\".", 3, 9);
	CHECK_ERROR("{ a(x: \"\xF0\x9F\x98\x80\") % }", "Syntax Error: Unexpected character: \"%\".",
		    1, 13);
	CHECK_ERROR("{\n\t\ta(x: 1.e5) }", "Syntax Error: Invalid number, expected digit but got: \"e\".",
		    2, 10);
}

TEST(graphql_depth_limit)
{
	struct gql_limits lim = { .max_depth = 3 };
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	CHECK(parse_n(&a, "{a{b{c}}}", 9, &lim, &doc));
	CHECK_ERROR_LIMITS("{a{b{c{d}}}}", &lim,
			   "Syntax Error: Selection set exceeds the maximum depth of 3.", 1, 7);
	/* Inline fragments nest selection sets too; fragment spreads do not. */
	CHECK(parse_n(&a, "{a{...{c}}}", 11, &lim, &doc));
	CHECK_ERROR_LIMITS("{a{... on T{c{d}}}}", &lim,
			   "Syntax Error: Selection set exceeds the maximum depth of 3.", 1, 14);
	CHECK(parse_n(&a, "{a{b{...F}}} fragment F on T {a{b{c}}}", 38, &lim, &doc));
	/* Values and types count their own nesting, from each value or type. */
	CHECK(parse_n(&a, "{a{b{c(x: [[[1]]], y: {a: {b: {c: 1}}})}}}", 42, &lim, &doc));
	CHECK_ERROR_LIMITS("{a(x: [[[[1]]]])}", &lim,
			   "Syntax Error: Value exceeds the maximum depth of 3.", 1, 10);
	CHECK_ERROR_LIMITS("{a(x: {a: [{b: 1}, {c: [2]}]})}", &lim,
			   "Syntax Error: Value exceeds the maximum depth of 3.", 1, 24);
	CHECK(parse_n(&a, "query ($a: [[[Int]]] = [[[1]]]) {a}", 35, &lim, &doc));
	CHECK_ERROR_LIMITS("query ($a: [[[[Int]]]]) {a}", &lim,
			   "Syntax Error: Type reference exceeds the maximum depth of 3.", 1, 15);
	CHECK_ERROR_LIMITS("query ($a: Int = [[[[1]]]]) {a}", &lim,
			   "Syntax Error: Value exceeds the maximum depth of 3.", 1, 21);
	arena_release(&a);
}

/* `n` times `open`, then `middle`, then `n` times `close`. */
static char *nested(const char *prefix, const char *open, const char *middle, const char *close,
		    size_t n, const char *suffix, size_t *len)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, prefix);
	for (size_t i = 0; i < n; i++)
		buf_adds(&b, open);
	buf_adds(&b, middle);
	for (size_t i = 0; i < n; i++)
		buf_adds(&b, close);
	buf_adds(&b, suffix);
	return buf_detach(&b, len);
}

static void check_deep(int at, const char *prefix, const char *open, const char *middle,
		       const char *close, size_t n, const char *suffix,
		       const struct gql_limits *limits, const char *msg, unsigned column)
{
	size_t len;
	char *text = nested(prefix, open, middle, close, n, suffix, &len);
	if (msg) {
		check_error_at(at, text, len, limits, msg, 1, column);
	} else {
		struct arena a = ARENA_INIT;
		struct gql_document doc;
		t_checks++;
		if (!parse_n(&a, text, len, limits, &doc)) {
			t_failures++;
			fprintf(stderr, "%s:%d: deep document refused\n", __FILE__, at);
		}
		arena_release(&a);
	}
	free(text);
}

TEST(graphql_depth_cap)
{
	const char *sel = "Syntax Error: Selection set exceeds the maximum depth of 256.";
	const char *val = "Syntax Error: Value exceeds the maximum depth of 256.";
	const char *typ = "Syntax Error: Type reference exceeds the maximum depth of 256.";
	struct gql_limits none = { 0 }, huge = { .max_depth = 100000 };
	/* 256 levels are accepted, the 257th refused, with or without limits. */
	check_deep(__LINE__, "", "{a", "", "}", 256, "", NULL, NULL, 0);
	check_deep(__LINE__, "", "{a", "", "}", 257, "", NULL, sel, 2 * 256 + 1);
	check_deep(__LINE__, "", "{a", "", "}", 257, "", &none, sel, 2 * 256 + 1);
	check_deep(__LINE__, "", "{a", "", "}", 257, "", &huge, sel, 2 * 256 + 1);
	check_deep(__LINE__, "{a(x:", "[", "1", "]", 256, ")}", NULL, NULL, 0);
	check_deep(__LINE__, "{a(x:", "[", "1", "]", 257, ")}", &huge, val, 6 + 256);
	check_deep(__LINE__, "{a(x:", "{a:", "1", "}", 257, ")}", NULL, val, 6 + 3 * 256);
	check_deep(__LINE__, "query($a:", "[", "Int", "]", 256, "){a}", NULL, NULL, 0);
	check_deep(__LINE__, "query($a:", "[", "Int", "]", 257, "){a}", NULL, typ, 10 + 256);
	/* Far deeper input fails as fast, without exhausting the stack. */
	check_deep(__LINE__, "", "{a", "", "}", 1000000, "", NULL, sel, 2 * 256 + 1);
	check_deep(__LINE__, "{a(x:", "[", "", "", 1000000, "", NULL, val, 6 + 256);
	check_deep(__LINE__, "{", "...{", "a", "}", 1000000, "}", NULL, sel, 1 + 4 * 255 + 4);
}

TEST(graphql_token_limit)
{
	struct gql_limits lim = { .max_tokens = 4 };
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	/* Five tokens; comments, commas and the end do not count. */
	lim.max_tokens = 5;
	CHECK(parse_n(&a, "{ a # x\n b,,, c } # end", 23, &lim, &doc));
	lim.max_tokens = 4;
	CHECK_ERROR_LIMITS("{ a # x\n b,,, c } # end", &lim,
			   "Syntax Error: Document contains more than 4 tokens. Parsing aborted.", 2,
			   9);
	lim.max_tokens = 1;
	CHECK_ERROR_LIMITS("{ a }", &lim,
			   "Syntax Error: Document contains more than 1 tokens. Parsing aborted.", 1,
			   3);
	/* A description's lookahead is not a token read. */
	lim.max_tokens = 1;
	CHECK_ERROR_LIMITS("\"d\" type T", &lim,
			   "Syntax Error: Unexpected Name \"type\": only executable definitions "
			   "(operations and fragments) are supported.", 1, 5);
	arena_release(&a);
}

TEST(graphql_parse_contract)
{
	struct arena a = ARENA_INIT;
	struct gql_document doc;
	struct error e = ERROR_INIT;
	/* error_pos may be NULL; on success it is {0, 0}. */
	CHECK(gql_parse("{ a }", 5, NULL, &a, &doc, NULL, &e) == OK && e.status == OK);
	struct gql_pos where = { 5, 5 };
	CHECK(gql_parse("{ a }", 5, NULL, &a, &doc, &where, &e) == OK);
	CHECK(where.line == 0 && where.column == 0);
	CHECK(gql_parse("{ a ", 4, NULL, &a, &doc, NULL, &e) == E_INVALID && e.nproblems == 1);
	/* The length bounds the text: what follows is not read. */
	error_clear(&e);
	CHECK(gql_parse("{ a }garbage", 5, NULL, &a, &doc, &where, &e) == OK);
	CHECK(gql_parse(NULL, 0, NULL, &a, &doc, &where, &e) == E_INVALID);
	CHECK_POS(where, 1, 1);
	/* A document of fragments only is syntax; refusing it is validation's business. */
	error_clear(&e);
	CHECK(gql_parse("fragment F on T { a }", 21, NULL, &a, &doc, NULL, &e) == OK);
	CHECK(doc.nops == 0 && !doc.ops && doc.nfrags == 1);
	arena_release(&a);
}

/*
 * Any bytes give OK or one clean error: every prefix of the test documents,
 * and random mutations of them. The message is valid UTF-8 and the
 * position within the text (on the line after its last, at worst).
 */
static void check_total(const char *text, size_t len)
{
	struct arena a = ARENA_INIT;
	struct error e = ERROR_INIT;
	struct gql_pos where;
	struct gql_document doc;
	enum status rc = gql_parse(text, len, NULL, &a, &doc, &where, &e);
	if (rc == OK) {
		CHECK(e.status == OK && (doc.nops || doc.nfrags));
	} else {
		unsigned lines = 1;
		for (size_t i = 0; i < len; i++)
			lines += text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n'));
		bool ok = rc == E_INVALID && e.nproblems == 1 &&
			  !strncmp(e.problems[0].msg, "Syntax Error: ", 14) &&
			  utf8_valid(e.problems[0].msg, strlen(e.problems[0].msg)) &&
			  where.line >= 1 && where.line <= lines && where.column >= 1 &&
			  where.column <= len + 1 && !doc.nops && !doc.nfrags;
		if (!ok) {
			fprintf(stderr, "    bad failure for [%.*s]: %s at %u:%u\n", (int)len, text,
				e.nproblems ? e.problems[0].msg : "-", where.line, where.column);
		}
		CHECK(ok);
	}
	arena_release(&a);
}

TEST(graphql_any_bytes)
{
	const char *docs[] = { kitchen_sink, introspection_query, spec_query_filters,
			       "{ a(x: \"\\uD83D\\uDE00 \\n\", y: \"\"\"\n  b\\\"\"\"\n  \"\"\") }" };
	for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		size_t len = strlen(docs[d]);
		for (size_t n = 0; n <= len; n++)
			check_total(docs[d], n);
	}
	/* Random edits (a fixed seed: the same edits every run). */
	static const char alphabet[] = "{}()[]:$@!=.\"\\#,\n\r\t aZ_09-+eE"
				       "\xC3\xA9\xF0\x9F\x98\x80\xFF\x00";
	uint32_t seed = 12345;
	char buf[512];
	for (unsigned i = 0; i < 20000; i++) {
		const char *src = docs[i % 4];
		size_t len = strlen(src);
		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, src, len);
		for (unsigned k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			buf[at] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
		}
		check_total(buf, len);
	}
}
