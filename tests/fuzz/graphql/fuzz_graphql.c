/*
 * fuzz_graphql.c: GraphQL documents through the parser (graphql/parser.c)
 * and, when they parse, the validator (graphql/validate.c) against the
 * service's schema, with the service's default limits and with none.
 *
 * Invariants: the parser returns OK, or E_INVALID with exactly one problem
 * of type "parse_failed", a message and a position (line and column from
 * 1); the validator returns OK, or E_INVALID with a code, a path starting
 * with "$", a message and a position; nothing else, whatever the input.
 */
#include "fuzz.h"

#include "graphql/parser.h"
#include "graphql/schema.h"
#include "graphql/validate.h"
#include "lib/arena.h"
#include "lib/banned.h"

static void validate_with(const struct gql_document *doc, const struct gql_validate_limits *limits,
			  struct arena *a)
{
	struct gql_invalid inv;
	enum status rc = gql_validate(gql_schema(), doc, limits, a, &inv);
	FUZZ_CHECK(rc == OK || rc == E_INVALID);
	if (rc == OK)
		return;
	FUZZ_CHECK(inv.code && inv.path && inv.path[0] == '$' && inv.message && *inv.message);
	FUZZ_CHECK(inv.pos.line >= 1 && inv.pos.column >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = ARENA_INIT;
	struct gql_limits limits = { .max_depth = 64, .max_tokens = 20000 };
	struct gql_document doc;
	struct gql_pos pos;
	struct error err = ERROR_INIT;
	enum status rc = gql_parse((const char *)data, size, &limits, &a, &doc, &pos, &err);
	FUZZ_CHECK(rc == OK || rc == E_INVALID);
	if (rc == E_INVALID) {
		FUZZ_CHECK(err.nproblems == 1 && !strcmp(err.problems[0].type, "parse_failed"));
		FUZZ_CHECK(err.problems[0].msg[0] && pos.line >= 1 && pos.column >= 1);
	} else {
		FUZZ_CHECK(doc.nops + doc.nfrags >= 1);
		validate_with(&doc, &(struct gql_validate_limits){ .max_depth = 12, .max_fields = 1000 }, &a);
		validate_with(&doc, NULL, &a);
	}
	arena_release(&a);
	return 0;
}
