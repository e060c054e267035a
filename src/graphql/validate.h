/*
 * validate.h: validation of a parsed GraphQL document against the schema:
 * the October 2021 specification's validation section, as graphql-js 16.15
 * implements it (its `specifiedRules`, MaxIntrospectionDepth included; the
 * parser already enforces ExecutableDefinitions), over the whole document
 * (every operation and every fragment, used or not), plus the service's
 * own document limits.
 *
 * Where graphql-js 16 and the service part ways, the service's reading
 * wins and tests/graphql/oracle.mjs gives graphql-js the same reading:
 *   - an operation whose root type the schema lacks (every subscription)
 *     is invalid; graphql-js 16 skips every typed rule under it instead,
 *     and 17 refuses it as we do;
 *   - a literal of the custom scalar `timestamp` must be a string holding
 *     an ISO 8601 date or date and time (gql_timestamp_valid()); the
 *     scalar graphql-js builds from our SDL would accept any literal.
 * An explicit `null` for a nullable input (`{id: {_eq: null}}`) is valid
 * here, as in graphql-js: refusing it is the executor's rule.
 *
 * Errors are in Hasura v2's shape: code "validation-failed", a JSONPath
 * from the operation (`$.selectionSet.insights.args.where.status._eq`;
 * fields by response key, `[i]` for list items, `$` for what belongs to the
 * document as a whole), Hasura's message where it has one ("field 'foo'
 * not found in type: 'insights'"), and the line and column of the node at
 * fault. Errors inside a fragment carry the path of the first place an
 * operation spreads it; inside a fragment no operation uses, `$`.
 */
#ifndef INSIGHTS_GQL_VALIDATE_H
#define INSIGHTS_GQL_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "graphql/ast.h"
#include "graphql/schema.h"
#include "lib/arena.h"
#include "lib/error.h"

/*
 * The document limits; 0 means no limit.
 *
 * max_depth: the deepest nesting of selection sets in an operation, with
 * fragment spreads and inline fragments expanded in place (they add no
 * level of their own); the operation's own set is depth 1, so
 * `{ insights { id } }` is 2 deep. Fields under `__schema` and `__type`
 * do not count (the schema bounds introspection; graphql-js's
 * getIntrospectionQuery is 1 deep).
 *
 * max_fields: the field selections written in the document, aliases
 * included, each fragment's counted once where it is defined, however
 * often it is spread.
 */
struct gql_validate_limits {
	unsigned max_depth;
	unsigned max_fields;
};

struct gql_invalid {
	const char *code;    /* "validation-failed" */
	const char *path;    /* Hasura's JSONPath: "$.selectionSet.insights.selectionSet.foo" */
	const char *message; /* "field 'foo' not found in type: 'insights'" */
	struct gql_pos pos;  /* of the node at fault */
};

/*
 * Validates `doc` (as gql_parse() made it) against `s`. `limits` may be
 * NULL (no limits). Returns OK, or E_INVALID with one error in `*out`,
 * whose strings live in `a`:
 *   1. a document with more fields than max_fields: that limit;
 *   2. otherwise an operation nested deeper than max_depth (the first
 *      such operation, at the first field whose selection set is too
 *      deep): that limit;
 *   3. otherwise the rule error found first in document order (the
 *      smallest line:column of its node).
 * The limits are checked first because they bound the work of the rules.
 * On OK `*out` is zeroed. Scratch memory is private and freed on return.
 *
 * Work is bounded for any document: fragments are never expanded
 * recursively without memoisation, cycles are found before anything
 * follows spreads, and the comparisons of fields to merge (quadratic in the
 * worst case, as in graphql-js) stop at a budget: a document that exceeds
 * it is refused as too complex to validate, as graphql-js aborts one.
 * Recursion is bounded by the parser's nesting cap (GQL_DEPTH_CAP).
 */
enum status gql_validate(const struct gql_schema *s, const struct gql_document *doc,
			 const struct gql_validate_limits *limits, struct arena *a,
			 struct gql_invalid *out);

/*
 * Whether `text` is a literal of the `timestamp` scalar: an ISO 8601
 * calendar date, or date and time, as RFC 3339 and PostgreSQL read them:
 *   YYYY-MM-DD
 *   YYYY-MM-DD(T|t| )hh:mm[:ss[.f{1,9}]][Z|z|(+|-)hh[[:]mm]]
 * with a real date (leap years counted), hours 00-23, minutes and seconds
 * 00-59, and an offset up to 23:59. A time without an offset is UTC.
 */
bool gql_timestamp_valid(const char *text);
/*
 * The same, and its instant: *when (seconds since the epoch, the fraction
 * dropped) and *fraction (whether a non-zero fraction of a second was
 * given). False when `text` is not one.
 */
bool gql_timestamp_parse(const char *text, int64_t *when, bool *fraction);

#endif
