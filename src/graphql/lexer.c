/*
 * lexer.c: the lexical grammar of GraphQL, October 2021 edition (section 2.1
 * and appendix B), over UTF-8 text.
 *
 * What the source may hold is the edition's SourceCharacter: tab, line
 * feed, carriage return and U+0020 and above; any other control character
 * is an error wherever it appears (a comment ends before it). Characters
 * above U+FFFF (which the edition, written for UTF-16, leaves out) are
 * accepted in strings and comments, as every later edition does. Bytes that
 * are not UTF-8 are an error wherever they appear.
 *
 * Deliberate differences from graphql-js 16, whose lexer follows a later
 * draft: the variable-width escape \u{1F600} is an error (the edition has
 * only \uXXXX), and so are control characters inside strings. Both agree
 * that an escaped surrogate pair is one character and a lone escaped
 * surrogate an error. Beyond both, a string cannot contain U+0000 (neither
 * escaped nor raw): the tree holds C strings.
 *
 * Messages are graphql-js 16's, word for word, where it has one.
 */
#include "graphql/lexer.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/banned.h"

void gql_lex_init(struct gql_lexer *lx, const char *src, size_t len, struct arena *a,
		  struct error *err, struct gql_pos *error_pos)
{
	*lx = (struct gql_lexer){
		.src = src ? src : "", /* NULL (with len 0) is the empty text */
		.len = len,
		.line = 1,
		.col = 1,
		.arena = a,
		.err = err,
		.error_pos = error_pos,
	};
}

enum status gql_syntax_error(struct error *err, struct gql_pos *error_pos, struct gql_pos at,
			     const char *fmt, ...)
{
	char msg[sizeof(((struct problem *)0)->msg)];
	int n = snprintf(msg, sizeof(msg), "Syntax Error: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m >= 0 && (size_t)n + (size_t)m >= sizeof(msg)) {
		/* Cut: drop a character the cut left incomplete. */
		size_t len = sizeof(msg) - 1, i = len;
		while (i > 0 && ((unsigned char)msg[i - 1] & 0xC0) == 0x80)
			i--;
		if (i > 0 && (unsigned char)msg[i - 1] >= 0x80 &&
		    utf8_seqlen((const unsigned char *)msg + i - 1, len - (i - 1)) == 0)
			msg[i - 1] = '\0';
	}
	if (error_pos)
		*error_pos = at;
	return error_invalid(err, NULL, "parse_failed", "%s", msg);
}

/* The position of the byte at `off`, which is at or after lx->col_off on lx->line. */
static struct gql_pos pos_at(struct gql_lexer *lx, size_t off)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	unsigned col = lx->col;
	if (lx->wide) {
		for (size_t i = lx->col_off; i < off; i++)
			col += (s[i] & 0xC0) != 0x80;
	} else {
		col += (unsigned)(off - lx->col_off);
	}
	lx->col = col;
	lx->col_off = off;
	lx->wide = false;
	return (struct gql_pos){ lx->line, col };
}

/* A line terminator ended just before `next`. */
static void new_line(struct gql_lexer *lx, size_t next)
{
	lx->line++;
	lx->col_off = next;
	lx->col = 1;
	lx->wide = false;
}

static enum status fail_at(struct gql_lexer *lx, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum status fail_at(struct gql_lexer *lx, size_t off, const char *fmt, ...)
{
	char msg[sizeof(((struct problem *)0)->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return gql_syntax_error(lx->err, lx->error_pos, pos_at(lx, off), "%s", msg);
}

static enum status fail_utf8(struct gql_lexer *lx, size_t off)
{
	return fail_at(lx, off, "Invalid UTF-8 byte 0x%02X.", (unsigned char)lx->src[off]);
}

/* Decodes the well-formed UTF-8 sequence at `s` (`n` bytes of it). */
static uint32_t decode(const unsigned char *s, size_t n)
{
	switch (n) {
	case 1: return s[0];
	case 2: return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
	case 3: return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	default:
		return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
		       (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
	}
}

static size_t encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static size_t encoded_len(uint32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/*
 * Fails with `fmt`, whose one %s receives how graphql-js prints the
 * character at `off`: <EOF>, "x" for printable ASCII ('"' for the quote),
 * U+XXXX otherwise; or with the UTF-8 error when the bytes there are not.
 */
static enum status fail_char(struct gql_lexer *lx, size_t off, const char *fmt)
{
	char what[16];
	const unsigned char *s = (const unsigned char *)lx->src;
	if (off >= lx->len) {
		snprintf(what, sizeof(what), "<EOF>");
	} else if (s[off] == '"') {
		snprintf(what, sizeof(what), "'\"'");
	} else if (s[off] >= 0x20 && s[off] <= 0x7E) {
		snprintf(what, sizeof(what), "\"%c\"", s[off]);
	} else {
		size_t n = utf8_seqlen(s + off, lx->len - off);
		if (!n)
			return fail_utf8(lx, off);
		snprintf(what, sizeof(what), "U+%04X", (unsigned)decode(s + off, n));
	}
	return fail_at(lx, off, fmt, what);
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_continue(unsigned char c)
{
	return is_name_start(c) || is_digit(c);
}

/* Advances `*p` over Digit+; fails when there is not one digit. */
static enum status digits(struct gql_lexer *lx, size_t *p)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	size_t i = *p;
	if (i >= lx->len || !is_digit(s[i]))
		return fail_char(lx, i, "Invalid number, expected digit but got: %s.");
	while (i < lx->len && is_digit(s[i]))
		i++;
	*p = i;
	return OK;
}

/* IntValue or FloatValue, starting with "-" or a digit at lx->off. */
static enum status lex_number(struct gql_lexer *lx, struct gql_token *tok)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	size_t n = lx->len, p = lx->off;
	bool is_float = false;
	enum status rc;

	if (s[p] == '-')
		p++;
	if (p < n && s[p] == '0') {
		p++;
		if (p < n && is_digit(s[p]))
			return fail_char(lx, p, "Invalid number, unexpected digit after 0: %s.");
	} else if ((rc = digits(lx, &p)) != OK) {
		return rc;
	}
	if (p < n && s[p] == '.') {
		is_float = true;
		p++;
		if ((rc = digits(lx, &p)) != OK)
			return rc;
	}
	if (p < n && (s[p] == 'e' || s[p] == 'E')) {
		is_float = true;
		p++;
		if (p < n && (s[p] == '+' || s[p] == '-'))
			p++;
		if ((rc = digits(lx, &p)) != OK)
			return rc;
	}
	/* [lookahead != {Digit, `.`, NameStart}] (a digit cannot follow here) */
	if (p < n && (s[p] == '.' || is_name_start(s[p])))
		return fail_char(lx, p, "Invalid number, expected digit but got: %s.");
	tok->kind = is_float ? GQL_TOK_FLOAT : GQL_TOK_INT;
	tok->len = p - lx->off;
	lx->off = p;
	return OK;
}

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits at `p` as a number, or -1. */
static long hex4(const unsigned char *s, size_t n, size_t p)
{
	if (n - p < 4)
		return -1;
	long v = 0;
	for (size_t i = 0; i < 4; i++) {
		int d = hex_digit(s[p + i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

enum escape_result {
	ESCAPE_OK,
	ESCAPE_BAD_CHARACTER, /* \q */
	ESCAPE_BAD_UNICODE,   /* \u12, \uD800 alone */
	ESCAPE_NUL,           /* \u0000 */
};

/*
 * The escape sequence at `p` (a backslash, inside a string, `p` < n): its
 * code point and length in the source.
 */
static enum escape_result escape(const unsigned char *s, size_t n, size_t p, uint32_t *cp,
				 size_t *size)
{
	*cp = 0;
	*size = 2;
	if (n - p < 2)
		return ESCAPE_BAD_CHARACTER;
	switch (s[p + 1]) {
	case '"': *cp = '"'; return ESCAPE_OK;
	case '\\': *cp = '\\'; return ESCAPE_OK;
	case '/': *cp = '/'; return ESCAPE_OK;
	case 'b': *cp = '\b'; return ESCAPE_OK;
	case 'f': *cp = '\f'; return ESCAPE_OK;
	case 'n': *cp = '\n'; return ESCAPE_OK;
	case 'r': *cp = '\r'; return ESCAPE_OK;
	case 't': *cp = '\t'; return ESCAPE_OK;
	case 'u': break;
	default: return ESCAPE_BAD_CHARACTER;
	}
	long v = hex4(s, n, p + 2);
	if (v < 0 || (v >= 0xDC00 && v <= 0xDFFF))
		return ESCAPE_BAD_UNICODE;
	if (v == 0)
		return ESCAPE_NUL;
	if (v >= 0xD800 && v <= 0xDBFF) {
		/* Only as the first half of an escaped surrogate pair. */
		if (n - p < 12 || s[p + 6] != '\\' || s[p + 7] != 'u')
			return ESCAPE_BAD_UNICODE;
		long t = hex4(s, n, p + 8);
		if (t < 0xDC00 || t > 0xDFFF)
			return ESCAPE_BAD_UNICODE;
		*cp = 0x10000 + (uint32_t)((v - 0xD800) << 10 | (t - 0xDC00));
		*size = 12;
		return ESCAPE_OK;
	}
	*cp = (uint32_t)v;
	*size = 6;
	return ESCAPE_OK;
}

/*
 * Up to `max` characters of the source from `p` into `out`, for a message:
 * stops early at the end, at a control character or at bytes that are not
 * UTF-8, so that the message stays one clean line.
 */
static void excerpt(const struct gql_lexer *lx, size_t p, unsigned max, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	size_t o = 0;
	for (unsigned i = 0; i < max && p < lx->len && s[p] >= 0x20; i++) {
		size_t k = utf8_seqlen(s + p, lx->len - p);
		if (!k || o + k >= size)
			break;
		memcpy(out + o, s + p, k);
		o += k;
		p += k;
	}
	out[o] = '\0';
}

static enum status fail_escape(struct gql_lexer *lx, size_t p, enum escape_result r)
{
	char seq[32];
	switch (r) {
	case ESCAPE_BAD_CHARACTER:
		excerpt(lx, p, 2, seq, sizeof(seq));
		return fail_at(lx, p, "Invalid character escape sequence: \"%s\".", seq);
	case ESCAPE_BAD_UNICODE:
		excerpt(lx, p, 6, seq, sizeof(seq));
		return fail_at(lx, p, "Invalid Unicode escape sequence: \"%s\".", seq);
	case ESCAPE_NUL:
	case ESCAPE_OK:
		break;
	}
	excerpt(lx, p, 6, seq, sizeof(seq));
	return fail_at(lx, p, "Invalid Unicode escape sequence: \"%s\": a string cannot contain U+0000.",
		       seq);
}

/*
 * A StringValue between single quotes, at lx->off. One pass checks it and
 * measures its value, a second decodes it into the arena.
 */
static enum status lex_string(struct gql_lexer *lx, struct gql_token *tok)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	size_t n = lx->len, p = lx->off + 1, size = 0, k;
	uint32_t cp;
	enum escape_result r;

	for (;;) {
		if (p >= n)
			return fail_at(lx, p, "Unterminated string.");
		unsigned char c = s[p];
		if (c == '"')
			break;
		if (c == '\n' || c == '\r')
			return fail_at(lx, p, "Unterminated string.");
		if (c == '\\') {
			if ((r = escape(s, n, p, &cp, &k)) != ESCAPE_OK)
				return fail_escape(lx, p, r);
			size += encoded_len(cp);
			p += k;
		} else if (c < 0x20 && c != '\t') {
			return fail_at(lx, p, "Invalid character within String: U+%04X.", c);
		} else if (c < 0x80) {
			size++;
			p++;
		} else {
			if (!(k = utf8_seqlen(s + p, n - p)))
				return fail_utf8(lx, p);
			lx->wide = true;
			size += k;
			p += k;
		}
	}
	size_t end = p + 1;

	char *out = arena_alloc(lx->arena, size + 1);
	size_t o = 0;
	for (p = lx->off + 1; p < end - 1;) {
		if (s[p] == '\\') {
			escape(s, n, p, &cp, &k);
			o += encode(cp, out + o);
			p += k;
		} else {
			out[o++] = (char)s[p++];
		}
	}
	out[o] = '\0';
	tok->kind = GQL_TOK_STRING;
	tok->value = out;
	tok->len = end - lx->off;
	lx->off = end;
	return OK;
}

static bool at_triple_quote(const unsigned char *s, size_t n, size_t p)
{
	return n - p >= 3 && s[p] == '"' && s[p + 1] == '"' && s[p + 2] == '"';
}

static bool at_escaped_triple_quote(const unsigned char *s, size_t n, size_t p)
{
	return n - p >= 4 && s[p] == '\\' && s[p + 1] == '"' && s[p + 2] == '"' && s[p + 3] == '"';
}

/*
 * A block string at lx->off, its value by the specification's
 * BlockStringValue(): split into lines at line terminators; the smallest
 * indentation (spaces and tabs) of the lines after the first that are not
 * white space only is removed from every line after the first; leading and
 * trailing lines of white space only are dropped; the lines are joined with
 * "\n". \""" stands for """.
 *
 * The first pass checks the characters, finds the end and gathers what the
 * algorithm needs (the common indentation, the first and last lines with
 * content); the second writes the value into the arena.
 */
static enum status lex_block_string(struct gql_lexer *lx, struct gql_token *tok)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	size_t n = lx->len, begin = lx->off + 3, p = begin, k;
	size_t line = 0, first = SIZE_MAX, last = 0, common = SIZE_MAX;
	size_t indent = 0;
	bool blank = true;

	for (;;) {
		if (p >= n)
			return fail_at(lx, p, "Unterminated string.");
		unsigned char c = s[p];
		bool end = at_triple_quote(s, n, p);
		if (end || c == '\n' || c == '\r') {
			if (!blank) {
				if (first == SIZE_MAX)
					first = line;
				last = line;
				if (line > 0 && indent < common)
					common = indent;
			}
			if (end)
				break;
			p += c == '\r' && n - p >= 2 && s[p + 1] == '\n' ? 2 : 1;
			new_line(lx, p);
			line++;
			indent = 0;
			blank = true;
			continue;
		}
		if (c == ' ' || c == '\t') {
			if (blank)
				indent++;
			p++;
			continue;
		}
		blank = false;
		if (at_escaped_triple_quote(s, n, p)) {
			p += 4;
		} else if (c < 0x20) {
			return fail_at(lx, p, "Invalid character within String: U+%04X.", c);
		} else if (c < 0x80) {
			p++;
		} else {
			if (!(k = utf8_seqlen(s + p, n - p)))
				return fail_utf8(lx, p);
			lx->wide = true;
			p += k;
		}
	}
	size_t close = p;

	/* The value is never longer than the raw text. */
	char *out = arena_alloc(lx->arena, close - begin + 1);
	size_t o = 0;
	line = 0;
	for (p = begin; first != SIZE_MAX;) {
		/* One line: [p, e), then its terminator or the closing quotes. */
		size_t e = p;
		while (e < close && s[e] != '\n' && s[e] != '\r')
			e += at_escaped_triple_quote(s, n, e) ? 4 : 1;
		if (line >= first && line <= last) {
			if (line > first)
				out[o++] = '\n';
			if (line > 0)
				for (size_t i = 0; i < common && p < e && (s[p] == ' ' || s[p] == '\t'); i++)
					p++;
			while (p < e) {
				if (at_escaped_triple_quote(s, n, p)) {
					memcpy(out + o, "\"\"\"", 3);
					o += 3;
					p += 4;
				} else {
					out[o++] = (char)s[p++];
				}
			}
		}
		if (e >= close || line >= last)
			break;
		p = e + (s[e] == '\r' && e + 1 < close && s[e + 1] == '\n' ? 2 : 1);
		line++;
	}
	out[o] = '\0';
	tok->kind = GQL_TOK_BLOCK_STRING;
	tok->value = out;
	tok->len = close + 3 - lx->off;
	lx->off = close + 3;
	return OK;
}

/* A character that starts no token, at `p`. */
static enum status fail_unexpected(struct gql_lexer *lx, size_t p)
{
	if (lx->src[p] == '\'')
		return fail_at(lx, p, "Unexpected single quote character ('), did you mean to use a "
				      "double quote (\")?");
	return fail_char(lx, p, "Unexpected character: %s.");
}

enum status gql_lex_next(struct gql_lexer *lx, struct gql_token *tok)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	size_t n = lx->len, p = lx->off;

	/* Ignored tokens. */
	while (p < n) {
		unsigned char c = s[p];
		if (c == ' ' || c == '\t' || c == ',') {
			p++;
		} else if (c == '\n') {
			new_line(lx, ++p);
		} else if (c == '\r') {
			p += n - p >= 2 && s[p + 1] == '\n' ? 2 : 1;
			new_line(lx, p);
		} else if (c == '#') {
			/* Comment: up to a line terminator or a character that is no SourceCharacter. */
			for (p++; p < n; ) {
				c = s[p];
				if (c < 0x20 && c != '\t')
					break;
				if (c < 0x80) {
					p++;
				} else {
					size_t k = utf8_seqlen(s + p, n - p);
					if (!k)
						return fail_utf8(lx, p);
					lx->wide = true;
					p += k;
				}
			}
		} else if (c == 0xEF && n - p >= 3 && s[p + 1] == 0xBB && s[p + 2] == 0xBF) {
			p += 3; /* UnicodeBOM */
			lx->wide = true;
		} else {
			break;
		}
	}

	lx->off = p;
	tok->pos = pos_at(lx, p);
	tok->text = lx->src + p;
	tok->len = 1;
	tok->value = NULL;
	if (p >= n) {
		tok->kind = GQL_TOK_EOF;
		tok->len = 0;
		return OK;
	}

	switch (s[p]) {
	case '!': tok->kind = GQL_TOK_BANG; break;
	case '$': tok->kind = GQL_TOK_DOLLAR; break;
	case '&': tok->kind = GQL_TOK_AMP; break;
	case '(': tok->kind = GQL_TOK_PAREN_L; break;
	case ')': tok->kind = GQL_TOK_PAREN_R; break;
	case ':': tok->kind = GQL_TOK_COLON; break;
	case '=': tok->kind = GQL_TOK_EQUALS; break;
	case '@': tok->kind = GQL_TOK_AT; break;
	case '[': tok->kind = GQL_TOK_BRACKET_L; break;
	case ']': tok->kind = GQL_TOK_BRACKET_R; break;
	case '{': tok->kind = GQL_TOK_BRACE_L; break;
	case '|': tok->kind = GQL_TOK_PIPE; break;
	case '}': tok->kind = GQL_TOK_BRACE_R; break;
	case '.':
		if (n - p < 3 || s[p + 1] != '.' || s[p + 2] != '.')
			return fail_unexpected(lx, p);
		tok->kind = GQL_TOK_SPREAD;
		tok->len = 3;
		break;
	case '"':
		return at_triple_quote(s, n, p) ? lex_block_string(lx, tok) : lex_string(lx, tok);
	default:
		if (s[p] == '-' || is_digit(s[p]))
			return lex_number(lx, tok);
		if (!is_name_start(s[p]))
			return fail_unexpected(lx, p);
		size_t e = p + 1;
		while (e < n && is_name_continue(s[e]))
			e++;
		tok->kind = GQL_TOK_NAME;
		tok->len = e - p;
		break;
	}
	lx->off = p + tok->len;
	return OK;
}

const char *gql_tok_kind_desc(enum gql_tok_kind kind)
{
	switch (kind) {
	case GQL_TOK_EOF: return "<EOF>";
	case GQL_TOK_BANG: return "\"!\"";
	case GQL_TOK_DOLLAR: return "\"$\"";
	case GQL_TOK_AMP: return "\"&\"";
	case GQL_TOK_PAREN_L: return "\"(\"";
	case GQL_TOK_PAREN_R: return "\")\"";
	case GQL_TOK_SPREAD: return "\"...\"";
	case GQL_TOK_COLON: return "\":\"";
	case GQL_TOK_EQUALS: return "\"=\"";
	case GQL_TOK_AT: return "\"@\"";
	case GQL_TOK_BRACKET_L: return "\"[\"";
	case GQL_TOK_BRACKET_R: return "\"]\"";
	case GQL_TOK_BRACE_L: return "\"{\"";
	case GQL_TOK_PIPE: return "\"|\"";
	case GQL_TOK_BRACE_R: return "\"}\"";
	case GQL_TOK_NAME: return "Name";
	case GQL_TOK_INT: return "Int";
	case GQL_TOK_FLOAT: return "Float";
	case GQL_TOK_STRING: return "String";
	case GQL_TOK_BLOCK_STRING: return "BlockString";
	}
	return "?";
}

/* The most bytes of a token's value quoted in a message. */
#define DESC_VALUE_MAX 40

void gql_tok_desc(const struct gql_token *t, char *out, size_t size)
{
	const char *kind = gql_tok_kind_desc(t->kind);
	const char *v;
	size_t len;
	switch (t->kind) {
	case GQL_TOK_NAME:
	case GQL_TOK_INT:
	case GQL_TOK_FLOAT:
		v = t->text;
		len = t->len;
		break;
	case GQL_TOK_STRING:
	case GQL_TOK_BLOCK_STRING:
		v = t->value;
		len = strlen(v);
		break;
	default:
		snprintf(out, size, "%s", kind);
		return;
	}
	const char *more = "";
	if (len > DESC_VALUE_MAX) {
		len = DESC_VALUE_MAX;
		while (len > 0 && ((unsigned char)v[len] & 0xC0) == 0x80)
			len--; /* v[len] is a continuation byte: cut before its character */
		more = "...";
	}
	snprintf(out, size, "%s \"%.*s%s\"", kind, (int)len, v, more);
}
