/*
 * respond.c: reading requests and answering them, shared by all handlers;
 * home of the one table that maps a status to an HTTP status.
 */
#include "api/api.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec.h"
#include "lib/utf8.h"
#include "lib/banned.h"

static const unsigned http_status_of[] = {
	[OK] = 200,
	[E_INVALID] = 422,
	[E_NOTFOUND] = 404,
	[E_CONFLICT] = 409,
	[E_TOOLARGE] = 413,
	[E_UNAVAILABLE] = 503,
	[E_INTERNAL] = 500,
	[E_PRECONDITION] = 412,
};

unsigned api_http_status(enum status s)
{
	if ((size_t)s >= sizeof(http_status_of) / sizeof(http_status_of[0]))
		return 500;
	return http_status_of[s];
}

void api_json(struct http_request *req, unsigned status, struct buf *body)
{
	http_respond(req, status, body, "application/json");
}

void api_version_header(struct http_request *req)
{
	char v[24];
	snprintf(v, sizeof(v), "%" PRIu64, svc_write_version(&api_app(req)->svc));
	http_add_header(req, "X-Insights-Version", v);
}

void api_begin(struct api_out *o)
{
	o->buf = (struct buf)BUF_INIT;
	buf_grow(&o->buf, 8192); /* one insight fits: no regrowth on the common path */
	jsonw_init(&o->w, &o->buf);
}

void api_end(struct http_request *req, struct api_out *o, unsigned status)
{
	api_json(req, status, &o->buf);
}

void api_fail_input(struct http_request *req, struct error *err, const char *where)
{
	error_locate(err, 0, where);
	api_fail(req, err);
}

void api_fail(struct http_request *req, const struct error *err)
{
	struct api_out o;
	api_begin(&o);
	encode_error(&o.w, err);
	if (err->status == E_UNAVAILABLE)
		http_add_header(req, "Retry-After", "1");
	api_end(req, &o, api_http_status(err->status));
}

/*
 * Parses a whole string as a decimal integer, -?[0-9]+ (strtoll alone would
 * also take leading whitespace and a '+').
 */
static bool parse_int(const char *s, int64_t *out)
{
	if (!isdigit((unsigned char)(*s == '-' ? s[1] : s[0])))
		return false;
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = n;
	return true;
}

bool api_path_id(struct http_request *req, unsigned i, int64_t *id)
{
	const char *name;
	const char *v = http_param(req, i, &name);
	if (v && parse_int(v, id))
		return true;
	struct error err = ERROR_INIT;
	error_invalid(&err, name ? name : "id", "int_parsing",
		      "Input should be a valid integer, unable to parse string as an integer");
	api_fail_input(req, &err, "path");
	return false;
}

/* Adds a problem with the query parameter `key`, at ["query", key]. */
static void query_problem(struct error *err, const char *key, const char *type, const char *msg)
{
	size_t mark = err->nproblems;
	error_invalid(err, key, type, "%s", msg);
	error_locate(err, mark, "query");
}

/* `v` (the query value of `key`), or NULL when absent; reports invalid UTF-8. */
static const char *query_value(const char *key, const char *v, struct error *err)
{
	if (v && !utf8_valid(v, strlen(v))) {
		query_problem(err, key, "string_unicode",
			      "Input should be a valid string, unable to parse raw data as a unicode string");
		return NULL;
	}
	return v;
}

void api_query_parse_int(const char *key, const char *value, int64_t def, int64_t min,
			 int64_t max, int64_t *out, struct error *err)
{
	*out = def;
	const char *v = query_value(key, value, err);
	if (!v)
		return;
	int64_t n;
	char msg[96];
	if (!parse_int(v, &n)) {
		query_problem(err, key, "int_parsing",
			      "Input should be a valid integer, unable to parse string as an integer");
	} else if (n < min) {
		snprintf(msg, sizeof(msg), "Input should be greater than or equal to %" PRId64, min);
		query_problem(err, key, "greater_than_equal", msg);
	} else if (n > max) {
		snprintf(msg, sizeof(msg), "Input should be less than or equal to %" PRId64, max);
		query_problem(err, key, "less_than_equal", msg);
	} else {
		*out = n;
	}
}

void api_query_parse_lifecycle(const char *key, const char *value, int *out, struct error *err)
{
	*out = -1;
	const char *v = query_value(key, value, err);
	enum lifecycle l;
	if (!v)
		return;
	if (lifecycle_parse(v, &l)) {
		query_problem(err, key, "enum", "Input should be 'draft', 'published' or 'archived'");
		return;
	}
	*out = (int)l;
}

void api_query_parse_priority(const char *key, const char *value, int *out, struct error *err)
{
	*out = -1;
	const char *v = query_value(key, value, err);
	enum priority p;
	if (!v)
		return;
	if (priority_parse(v, &p)) {
		query_problem(err, key, "enum", "Input should be 'low', 'medium', 'high' or 'critical'");
		return;
	}
	*out = (int)p;
}

void api_query_parse_str(const char *key, const char *value, const char **out,
			 struct error *err)
{
	const char *v = query_value(key, value, err);
	*out = v && *v ? v : NULL;
}

void api_query_int(struct http_request *req, const char *key, int64_t def, int64_t min,
		   int64_t max, int64_t *out, struct error *err)
{
	api_query_parse_int(key, http_query(req, key), def, min, max, out, err);
}

void api_query_lifecycle(struct http_request *req, const char *key, int *out, struct error *err)
{
	api_query_parse_lifecycle(key, http_query(req, key), out, err);
}

void api_query_priority(struct http_request *req, const char *key, int *out, struct error *err)
{
	api_query_parse_priority(key, http_query(req, key), out, err);
}

void api_query_str(struct http_request *req, const char *key, const char **out,
		   struct error *err)
{
	api_query_parse_str(key, http_query(req, key), out, err);
}

/* The value of the escape "\uXXXX" at text[i] (its backslash), or -1 when it is not one. */
static long unicode_escape(const char *text, size_t len, size_t i)
{
	if (i + 6 > len || text[i] != '\\' || text[i + 1] != 'u')
		return -1;
	long v = 0;
	for (size_t k = i + 2; k < i + 6; k++) {
		char c = text[k];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Rules of RFC 8259 that json-c does not enforce: the text is valid UTF-8
 * (json-c lets overlong forms and surrogates through), strings hold no raw
 * control characters (json-c accepts a literal tab or newline inside
 * quotes), and an escaped UTF-16 surrogate comes in a pair (json-c turns a
 * lone "\ud800" into U+FFFD, which would then clash with a real U+FFFD).
 * Only string boundaries and escapes are tracked here; json-c does the
 * parsing. Returns the offset of the first offending byte, or `len`, and
 * in *why what is wrong there.
 */
enum text_fault { TEXT_UTF8, TEXT_CONTROL, TEXT_SURROGATE };

static size_t strict_text_error(const char *text, size_t len, enum text_fault *why)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x80) {
			size_t n = utf8_seqlen((const unsigned char *)text + i, len - i);
			if (!n) {
				*why = TEXT_UTF8;
				return i;
			}
			i += n - 1;
		} else if (in_string && c < 0x20) {
			*why = TEXT_CONTROL;
			return i;
		} else if (c == '"') {
			in_string = !in_string;
		} else if (c == '\\' && in_string) {
			long u = unicode_escape(text, len, i);
			if (u >= 0xDC00 && u <= 0xDFFF) {
				*why = TEXT_SURROGATE;
				return i;
			}
			if (u >= 0xD800 && u <= 0xDBFF) {
				long low = unicode_escape(text, len, i + 6);
				if (low < 0xDC00 || low > 0xDFFF) {
					*why = TEXT_SURROGATE;
					return i;
				}
				i += 11; /* the pair */
				continue;
			}
			i++; /* the escaped character cannot end the string */
		}
	}
	return len;
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		if (i == n || !isdigit((unsigned char)s[i]))
			return false;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		size_t from = ++i;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == from)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t from = i;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == from)
			return false;
	}
	return i == n;
}

/* A character of a literal or a number, as far as lenient_json is concerned. */
static bool json_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '+' || c == '.';
}

/*
 * What json-c accepts even in strict mode and RFC 8259 does not: numbers
 * out of the grammar (00, -01, 1., -.5), NaN and Infinity, and
 * single-quoted object keys. Called on a text json-c parsed, where any run
 * of letters, digits and "+-." outside strings is a literal or a number:
 * returns the offset of the first one that is neither, or of a quote
 * outside a string, or `len`, with what is wrong in *why.
 */
static size_t lenient_json(const char *text, size_t len, const char **why)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '\'') {
			*why = "strings take double quotes";
			return i;
		} else if (json_word_char(c)) {
			size_t n = 1;
			while (i + n < len && json_word_char(text[i + n]))
				n++;
			const char *w = text + i;
			bool literal = (n == 4 && (!memcmp(w, "true", 4) || !memcmp(w, "null", 4))) ||
				       (n == 5 && !memcmp(w, "false", 5));
			if (!literal && !is_json_number(w, n)) {
				*why = c == '-' || c == '+' || c == '.' || isdigit((unsigned char)c)
					? "invalid number" : "invalid literal";
				return i;
			}
			i += n - 1;
		}
	}
	return len;
}

bool api_json_value(const char *text, size_t len, json_object **out, struct error *err)
{
	*out = NULL;
	if (len == 0) {
		error_invalid(err, NULL, "missing", "Field required");
		return false;
	}
	enum text_fault fault = TEXT_UTF8;
	size_t bad = strict_text_error(text, len, &fault);
	if (bad != len) {
		if (fault == TEXT_SURROGATE)
			error_invalid_item(err, NULL, (int64_t)bad, "string_unicode",
					   "Input should be a valid string, unable to parse raw data "
					   "as a unicode string (a lone UTF-16 surrogate)");
		else
			error_invalid_item(err, NULL, (int64_t)bad, "json_invalid",
					   "JSON decode error: %s",
					   fault == TEXT_CONTROL ? "control character in a string"
							       : "invalid UTF-8");
		return false;
	}
	json_tokener *tok = json_tokener_new_ex(64);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/*
	 * The buffer's terminating NUL is passed too: it tells json-c the text
	 * ends there, so that a bare top-level number is complete rather than
	 * "to be continued".
	 */
	json_object *o = json_tokener_parse_ex(tok, text, (int)len + 1);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	/* Only whitespace may follow the value. */
	while (jerr == json_tokener_success && end < len &&
	       (text[end] == ' ' || text[end] == '\t' || text[end] == '\n' || text[end] == '\r'))
		end++;
	/*
	 * The text stopped in the middle of a value: json-c waits for more
	 * (continue), or stops at the terminating NUL (eof; inside a string,
	 * counting it: offset len + 1).
	 */
	if (end > len || jerr == json_tokener_continue)
		end = len;
	bool cut = jerr == json_tokener_continue ||
		   (jerr == json_tokener_error_parse_eof && end == len);
	const char *lenient = NULL;
	if (jerr == json_tokener_success && end == len)
		end = lenient_json(text, len, &lenient);
	if (jerr != json_tokener_success || end != len) {
		const char *why = lenient ? lenient
			: jerr == json_tokener_success ? "Extra data after the JSON value"
			: cut ? "Unexpected end of the JSON text"
			: json_tokener_error_desc(jerr);
		error_invalid_item(err, NULL, (int64_t)end, "json_invalid", "JSON decode error: %s",
				   why);
		json_object_put(o);
		return false;
	}
	*out = o;
	return true;
}

json_object *api_json_parse(const char *text, size_t len, struct error *err)
{
	json_object *o;
	if (!api_json_value(text, len, &o, err))
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {
		error_invalid(err, NULL, "model_attributes_type",
			      "Input should be a valid dictionary or object to extract fields from");
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *api_body_object(struct http_request *req)
{
	size_t len;
	const char *body = http_body(req, &len);
	struct error err = ERROR_INIT;
	json_object *o = api_json_parse(body, len, &err);
	if (!o)
		api_fail_input(req, &err, "body");
	return o;
}
