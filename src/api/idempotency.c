/*
 * idempotency.c: the Idempotency-Key header on the POSTs that create
 * (draft-ietf-httpapi-idempotency-key-header): reading the key, and the
 * steps around the handler's write that make a retry answer what the first
 * request answered instead of writing again.
 *
 * The key is the draft's Structured Field String ("..." with \" and \\
 * escapes, printable ASCII), or, for clients that do not quote, a plain run
 * of visible ASCII without quotes, backslashes, commas or semicolons; 1 to
 * IDEM_KEY_MAX bytes once unquoted. Anything else is a 422 at
 * ["header", "idempotency-key"].
 *
 * A request is the same as the first one with its key when its route (method
 * and pattern) and a hash of its query and body are (svc_idem_claim). The
 * write, its audit entry and the answer it stores commit together in one
 * batch; a write that fails stores nothing and gives the key back. Replays
 * carry the first status and body byte for byte and `Idempotent-Replayed:
 * true`, and no other header of the first answer.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "lib/banned.h"

_Static_assert(IDEM_KEY_MAX == 255, "the messages below say 255");

#define KEY_FIELD "idempotency-key"

/* A problem with the header, at ["header", "idempotency-key"]. */
static bool key_problem(struct error *err, const char *type, const char *msg)
{
	size_t mark = err->nproblems;
	error_invalid(err, KEY_FIELD, type, "%s", msg);
	error_locate(err, mark, "header");
	return false;
}

/* A character of a plain (unquoted) key. */
static bool plain_char(char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != ',' && c != ';';
}

bool api_idem_key_parse(const char *value, char out[IDEM_KEY_MAX + 1], struct error *err)
{
	out[0] = '\0';
	const char *p = value;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t end = strlen(p);
	while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
		end--;
	size_t n = 0;
	bool quoted = *p == '"';
	size_t i = quoted ? 1 : 0;
	for (;; i++) {
		if (i >= end) {
			if (quoted)
				return key_problem(err, "string_pattern_mismatch",
						   "A quoted key must end with a double quote");
			break;
		}
		char c = p[i];
		if (quoted && c == '"') {
			if (i + 1 != end)
				return key_problem(err, "string_pattern_mismatch",
						   "Nothing may follow the key's closing quote");
			break;
		}
		if (quoted && c == '\\') {
			c = ++i < end ? p[i] : '\0';
			if (c != '"' && c != '\\')
				return key_problem(err, "string_pattern_mismatch",
						   "Only \\\" and \\\\ are escapes in a quoted key");
		} else if (quoted ? (c < 0x20 || c > 0x7e) : !plain_char(c)) {
			return key_problem(err, "string_pattern_mismatch",
					   quoted ? "A quoted key holds printable ASCII characters only"
						  : "A key is a quoted string, or visible ASCII characters "
						    "without quotes, backslashes, commas or semicolons");
		}
		if (n == IDEM_KEY_MAX)
			return key_problem(err, "string_too_long", "A key has at most 255 characters");
		out[n++] = c;
	}
	out[n] = '\0';
	if (n == 0)
		return key_problem(err, "string_too_short", "A key has at least 1 character");
	return true;
}

bool api_idem_key(struct http_request *req, char out[IDEM_KEY_MAX + 1], bool *keyed)
{
	const char *v = http_header(req, "Idempotency-Key");
	*keyed = v != NULL;
	out[0] = '\0';
	if (!v)
		return true;
	struct error err = ERROR_INIT;
	if (api_idem_key_parse(v, out, &err))
		return true;
	api_fail(req, &err);
	return false;
}

/* Answers the first answer again. */
static void replay(struct http_request *req, const struct idem_row *first)
{
	struct buf body = BUF_INIT;
	buf_add(&body, first->body ? first->body : "", first->body_len);
	http_add_header(req, "Idempotent-Replayed", "true");
	api_json(req, (unsigned)first->status, &body);
}

bool api_idem_begin(struct http_request *req, const char *key, struct idem_claim *c)
{
	struct service *svc = &api_app(req)->svc;
	struct arena *a = http_arena(req);
	const struct http_route *route = http_matched_route(req);
	size_t tlen = strlen(http_method_name(req)) + strlen(route->pattern) + 2;
	char *target = arena_alloc(a, tlen);
	snprintf(target, tlen, "%s %s", http_method_name(req), route->pattern);
	/* The query's arguments (each length-prefixed), a NUL, the body. */
	struct buf rest = BUF_INIT;
	http_query_key(req, &rest);
	buf_addch(&rest, '\0');
	size_t len;
	const char *body = http_body(req, &len);
	buf_add(&rest, body, len);
	struct idem_request rq = { .key = key, .target = target, .rest = rest.data ? rest.data : "",
				   .rest_len = rest.len };
	struct error err = ERROR_INIT;
	enum status rc = svc_idem_claim(svc, a, &rq, c, &err);
	buf_release(&rest);
	if (rc) {
		api_fail(req, &err);
		return false;
	}
	switch (c->outcome) {
	case IDEM_REPLAY:
		replay(req, &c->row);
		return false;
	case IDEM_BUSY:
		error_set(&err, E_CONFLICT,
			  "A request with this Idempotency-Key is still in progress: retry it later");
		http_add_header(req, "Retry-After", "1");
		api_fail(req, &err);
		return false;
	case IDEM_MISMATCH:
		if (c->same_target)
			error_invalid(&err, KEY_FIELD, "idempotency_key_reused",
				      "This key was already used with a different body or query: "
				      "a key names one request");
		else
			error_invalid(&err, KEY_FIELD, "idempotency_key_reused",
				      "This key was already used for %s, not %s: a key names one "
				      "request", c->first_target, target);
		error_locate(&err, 0, "header");
		api_fail(req, &err);
		return false;
	case IDEM_PROCEED:
		break;
	}
	if (svc_batch_begin(svc, &err)) {
		struct error ignored = ERROR_INIT;
		svc_idem_release(svc, c, &ignored);
		api_fail(req, &err);
		return false;
	}
	return true;
}

void api_idem_abandon(struct http_request *req, struct idem_claim *c)
{
	struct service *svc = &api_app(req)->svc;
	struct error ignored = ERROR_INIT;
	svc_batch_end(svc, false, &ignored);
	error_clear(&ignored);
	svc_idem_release(svc, c, &ignored);
}

bool api_idem_commit(struct http_request *req, struct idem_claim *c, unsigned status,
		     struct api_out *o)
{
	struct service *svc = &api_app(req)->svc;
	struct error err = ERROR_INIT;
	enum status rc = svc_idem_finish(svc, c, (int)status, buf_cstr(&o->buf), o->buf.len, &err);
	if (rc) {
		api_idem_abandon(req, c);
	} else if ((rc = svc_batch_end(svc, true, &err)) != OK) {
		struct error ignored = ERROR_INIT;
		svc_idem_release(svc, c, &ignored);
	}
	if (rc == OK)
		return true;
	buf_release(&o->buf);
	if (rc == E_CONFLICT)
		http_add_header(req, "Retry-After", "1");
	api_fail(req, &err);
	return false;
}
