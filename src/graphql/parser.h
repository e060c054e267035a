/*
 * parser.h: GraphQL documents (the executable subset of the October 2021
 * specification) parsed into graphql/ast.h's tree.
 */
#ifndef INSIGHTS_GQL_PARSER_H
#define INSIGHTS_GQL_PARSER_H

#include <stddef.h>

#include "graphql/ast.h"
#include "lib/arena.h"
#include "lib/error.h"

/*
 * The deepest nesting the parser ever accepts, whatever the limits say: it
 * bounds the parser's recursion, hence its stack (a few hundred bytes per
 * level).
 */
#define GQL_DEPTH_CAP 256

struct gql_limits {
	/*
	 * The deepest nesting of selection sets (the operation's own set is
	 * depth 1; an inline fragment's set counts like a field's), and,
	 * counted separately, of list and object values within one value and
	 * of list types within one type. 0 means GQL_DEPTH_CAP, and so does
	 * any larger number.
	 */
	unsigned max_depth;
	/* The most tokens (punctuators, names, numbers, strings; not comments) read; 0: no limit. */
	unsigned max_tokens;
};

/*
 * Parses the `len` bytes at `text` (which need no NUL terminator and may
 * hold any bytes) into `*out`, every part of which is allocated in `a`.
 * `limits` may be NULL (no limits but the depth cap).
 *
 * A text that is not an executable document (a syntax error, invalid
 * UTF-8, a type system definition, an exceeded limit, an empty document)
 * returns E_INVALID with exactly one problem, at the empty path, of type
 * "parse_failed", whose message is graphql-js 16's for the same mistake
 * where it has one ("Syntax Error: Expected Name, found \"}\"."), without
 * the position; the position goes to `*error_pos` (when not NULL): the
 * first character of the token the parser did not expect, or for a
 * lexical error the character that broke the token (the bad escape's
 * backslash, the digit after a leading zero, the end of the line that
 * leaves a string unterminated). `*out` is then zeroed, and what the arena
 * already holds stays there until it is released. On success `*error_pos`
 * is {0, 0}.
 */
enum status gql_parse(const char *text, size_t len, const struct gql_limits *limits,
		      struct arena *a, struct gql_document *out, struct gql_pos *error_pos,
		      struct error *err);

#endif
