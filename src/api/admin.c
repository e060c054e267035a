/*
 * admin.c: API tokens over REST (/auth/tokens), the caller's identity
 * (/auth/me) and the audit trail (/audit).
 */
#include "api/api.h"

#include <string.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "lib/banned.h"

static void encode_token(struct jsonw *w, const struct token *t, const char *secret)
{
	jsonw_object_open(w);
	jsonw_kint(w, "id", t->id);
	jsonw_kstr(w, "name", t->name);
	jsonw_kstr(w, "role", role_name(t->role));
	jsonw_kstr(w, "last4", t->last4);
	jsonw_kstr(w, "created_at", t->created_at);
	jsonw_kstr(w, "expires_at", t->expires_at[0] ? t->expires_at : NULL);
	jsonw_kstr(w, "last_used_at", t->last_used_at[0] ? t->last_used_at : NULL);
	if (secret)
		jsonw_kstr(w, "token", secret);
	jsonw_object_close(w);
}

/* GET /auth/tokens */
void api_token_list(struct http_request *req)
{
	struct error err = ERROR_INIT;
	struct token *t;
	size_t n;
	if (svc_token_list(&api_app(req)->svc, http_arena(req), &t, &n, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_key(&o.w, "tokens");
	jsonw_array_open(&o.w);
	for (size_t i = 0; i < n; i++)
		encode_token(&o.w, &t[i], NULL);
	jsonw_array_close(&o.w);
	jsonw_object_close(&o.w);
	api_end(req, &o, 200);
}

/* A string member of `body`: absent or null leaves NULL; another type is a problem. */
static const char *member_str(struct http_request *req, json_object *body, const char *key,
			      struct error *err)
{
	json_object *v;
	if (!json_object_object_get_ex(body, key, &v) || !v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		error_invalid(err, key, "string_type", "Input should be a valid string");
		return NULL;
	}
	return arena_strdup(http_arena(req), json_object_get_string(v));
}

/* POST /auth/tokens {"name", "role", "expires_in"}: the token, once. */
void api_token_create(struct http_request *req)
{
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err = ERROR_INIT;
	struct token_input in = {
		.name = member_str(req, body, "name", &err),
		.role = member_str(req, body, "role", &err),
		.expires_in = member_str(req, body, "expires_in", &err),
	};
	json_object_put(body);
	if (err.status) {
		/* Type problems first, with the rule problems of what did decode. */
		api_fail_input(req, &err, "body");
		return;
	}
	char secret[TOKEN_SECRET_SIZE];
	struct token t;
	if (svc_token_create(&api_app(req)->svc, http_arena(req), &in, secret, &t, &err)) {
		if (err.status == E_INVALID)
			api_fail_input(req, &err, "body");
		else
			api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	encode_token(&o.w, &t, secret);
	memset(secret, 0, sizeof(secret));
	http_add_header(req, "Cache-Control", "no-store");
	api_end(req, &o, 201);
}

/* DELETE /auth/tokens/{token_name} */
void api_token_revoke(struct http_request *req)
{
	struct error err = ERROR_INIT;
	const char *name = http_param(req, 0, NULL);
	if (svc_token_revoke(&api_app(req)->svc, name, &err)) {
		api_fail(req, &err);
		return;
	}
	api_auth_forget(api_app(req));
	http_respond(req, 204, NULL, NULL);
}

/* GET /auth/me: who the credential is. */
void api_auth_me(struct http_request *req)
{
	const struct actor *who = api_actor(req);
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_kstr(&o.w, "name", who->name);
	jsonw_kstr(&o.w, "role", role_name(who->role));
	jsonw_kbool(&o.w, "authenticated", who->authenticated);
	jsonw_object_close(&o.w);
	api_end(req, &o, 200);
}

/* A timestamp query parameter in the API's format ("2026-12-01T04:20:00Z"), or a date. */
static const char *query_time(struct http_request *req, const char *key, bool end,
			      struct error *err)
{
	const char *v = http_query(req, key);
	if (!v)
		return NULL;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *rest = strptime(v, "%Y-%m-%d", &tm);
	if (rest && !*rest) {
		/* A date: from its first second, or until its last. */
		char *ts = arena_alloc(http_arena(req), TS_SIZE);
		tm.tm_hour = end ? 23 : 0;
		tm.tm_min = end ? 59 : 0;
		tm.tm_sec = end ? 59 : 0;
		clock_format(timegm(&tm), ts);
		return ts;
	}
	if (rest && rest[0] == 'T') {
		rest = strptime(rest + 1, "%H:%M:%S", &tm);
		if (rest && !strcmp(rest, "Z")) {
			char *ts = arena_alloc(http_arena(req), TS_SIZE);
			clock_format(timegm(&tm), ts);
			return ts;
		}
	}
	error_invalid(err, key, "datetime_parsing",
		      "Input should be a date (2026-12-01) or a UTC time (2026-12-01T04:20:00Z)");
	return NULL;
}

/* GET /audit?resource=&resource_id=&actor=&since=&until=&page=&page_size= */
void api_audit(struct http_request *req)
{
	struct error err = ERROR_INIT;
	struct audit_filter f = { 0 };
	api_query_str(req, "resource", &f.resource, &err);
	api_query_str(req, "actor", &f.actor, &err);
	if (http_query(req, "resource_id")) {
		api_query_int(req, "resource_id", 0, INT64_MIN, INT64_MAX, &f.resource_id, &err);
		f.resource_id_set = true;
	}
	f.since = query_time(req, "since", false, &err);
	f.until = query_time(req, "until", true, &err);
	api_query_int(req, "page", 1, 1, INT64_MAX / PAGE_SIZE_MAX, &f.page, &err);
	api_query_int(req, "page_size", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX, &f.page_size, &err);
	if (err.status) {
		api_fail_input(req, &err, "query");
		return;
	}
	struct audit_page p;
	if (svc_audit_find(&api_app(req)->svc, http_arena(req), &f, &p, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_kint(&o.w, "total", p.total);
	jsonw_kint(&o.w, "page", f.page);
	jsonw_kint(&o.w, "page_size", f.page_size);
	jsonw_key(&o.w, "entries");
	jsonw_array_open(&o.w);
	for (size_t i = 0; i < p.n; i++) {
		const struct audit_entry *e = &p.items[i];
		jsonw_object_open(&o.w);
		jsonw_kint(&o.w, "id", e->id);
		jsonw_kstr(&o.w, "time", e->time);
		jsonw_kstr(&o.w, "actor", e->actor);
		jsonw_kstr(&o.w, "role", e->role);
		jsonw_kstr(&o.w, "action", e->action);
		jsonw_kstr(&o.w, "resource", e->resource);
		jsonw_kid(&o.w, "resource_id", e->resource_id);
		jsonw_kstr(&o.w, "request_id", e->request_id);
		jsonw_key(&o.w, "changes");
		/* Written by audit.c's JSON writer: trusted text. */
		jsonw_raw(&o.w, e->changes, strlen(e->changes));
		jsonw_object_close(&o.w);
	}
	jsonw_array_close(&o.w);
	jsonw_object_close(&o.w);
	api_end(req, &o, 200);
}
