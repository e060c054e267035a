/*
 * lexer.h: the tokens of a GraphQL document (the lexical grammar of the
 * October 2021 specification), for graphql/parser.c. Internal to
 * src/graphql/.
 *
 * The lexer reads UTF-8 text of a given length (any bytes: it stops at the
 * first that breaks the grammar or is not UTF-8), skips the ignored tokens
 * (the byte order mark, white space, line terminators, commas, comments)
 * and returns one token at a time with the position of its first
 * character. String values are decoded into the arena as they are read.
 * A lexical error is reported with gql_syntax_error() at the character
 * that broke the token, and gql_lex_next() returns E_INVALID.
 */
#ifndef INSIGHTS_GQL_LEXER_H
#define INSIGHTS_GQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "graphql/ast.h"
#include "lib/arena.h"
#include "lib/error.h"

enum gql_tok_kind {
	GQL_TOK_EOF,
	GQL_TOK_BANG,      /* ! */
	GQL_TOK_DOLLAR,    /* $ */
	GQL_TOK_AMP,       /* & */
	GQL_TOK_PAREN_L,   /* ( */
	GQL_TOK_PAREN_R,   /* ) */
	GQL_TOK_SPREAD,    /* ... */
	GQL_TOK_COLON,     /* : */
	GQL_TOK_EQUALS,    /* = */
	GQL_TOK_AT,        /* @ */
	GQL_TOK_BRACKET_L, /* [ */
	GQL_TOK_BRACKET_R, /* ] */
	GQL_TOK_BRACE_L,   /* { */
	GQL_TOK_PIPE,      /* | */
	GQL_TOK_BRACE_R,   /* } */
	GQL_TOK_NAME,
	GQL_TOK_INT,
	GQL_TOK_FLOAT,
	GQL_TOK_STRING,
	GQL_TOK_BLOCK_STRING,
};

struct gql_token {
	enum gql_tok_kind kind;
	struct gql_pos pos;
	const char *text;  /* the token's bytes in the source (not NUL-terminated) */
	size_t len;
	const char *value; /* strings: the decoded value, NUL-terminated, in the arena; else NULL */
};

/*
 * The state of a lexer; a copy is a bookmark (the parser looks one token
 * ahead by lexing with a copy). Columns are computed lazily: `col` is the
 * column of the byte at `col_off`, which is on line `line`; unless `wide`
 * says that bytes above 0x7F were read since, the column of a later byte
 * on that line is found without reading the bytes between.
 */
struct gql_lexer {
	const char *src;
	size_t len;
	size_t off;        /* the next byte to read */
	unsigned line;
	size_t col_off;
	unsigned col;
	bool wide;
	struct arena *arena;        /* decoded strings */
	struct error *err;          /* borrowed: lexical errors */
	struct gql_pos *error_pos;  /* borrowed, may be NULL */
};

void gql_lex_init(struct gql_lexer *lx, const char *src, size_t len, struct arena *a,
		  struct error *err, struct gql_pos *error_pos);
/* The next token; at the end, GQL_TOK_EOF (again at every call). */
enum status gql_lex_next(struct gql_lexer *lx, struct gql_token *tok);

/*
 * Sets `err` to E_INVALID with one "parse_failed" problem whose message is
 * "Syntax Error: " and the formatted text (cut to fit, on a character
 * boundary), and `*error_pos` (when not NULL) to `at`. Returns E_INVALID.
 */
enum status gql_syntax_error(struct error *err, struct gql_pos *error_pos, struct gql_pos at,
			     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * How graphql-js names a token in a message: `<EOF>`, `"{"`, `Name "id"`,
 * `String "text"` (a long value is cut, on a character boundary, and ends
 * in "..."). Writes a NUL-terminated string into `out`.
 */
void gql_tok_desc(const struct gql_token *t, char *out, size_t size);
/* How graphql-js names a kind of token: `<EOF>`, `"{"`, `Name`. */
const char *gql_tok_kind_desc(enum gql_tok_kind kind);

#endif
