/*
 * insights.c: listing and searching insights, and duplicate warnings
 * (their create, get, update and delete are the shared handlers of
 * resources.c; a create asking for a duplicate check passes here first).
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/codec.h"
#include "api/handlers.h"
#include "core/input.h"
#include "lib/banned.h"

/*
 * The page's rows live in an arena of their own, freed once encoded: a
 * page of long insights (up to 25 MiB) is then held once, as the response,
 * while a slow client reads it, not twice.
 */
static void answer_page(struct http_request *req, const struct insight_filter *f)
{
	struct error err = ERROR_INIT;
	struct insight_page page;
	struct arena rows = ARENA_INIT;
	if (svc_insight_find(&api_app(req)->svc, &rows, f, &page, &err)) {
		arena_release(&rows);
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	encode_insight_page(&o.w, &page, f->page, f->page_size, !f->text);
	arena_release(&rows);
	api_end(req, &o, 200);
}

static bool query_flag(struct http_request *req, const char *key, struct error *err);

/*
 * GET /insights?page&page_size&status&priority&category_id&author&stale&after
 * `after`: a page's cursor; the list goes on after that insight (page
 * counting from there).
 */
void api_insight_list(struct http_request *req)
{
	struct error err = ERROR_INIT;
	struct insight_filter f = { 0 };
	const char *after = NULL;
	char *after_ts = arena_alloc(http_arena(req), TS_SIZE);
	api_query_int(req, "page", 1, 1, INT64_MAX, &f.page, &err);
	api_query_int(req, "page_size", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX, &f.page_size, &err);
	api_query_lifecycle(req, "status", &f.status, &err);
	api_query_priority(req, "priority", &f.priority, &err);
	api_query_int(req, "category_id", 0, 1, INT64_MAX, &f.category_id, &err);
	api_query_str(req, "author", &f.author, &err);
	/* Past their review date or stale (issue 14); false or absent: every insight. */
	if (query_flag(req, "stale", &err))
		svc_stale_filter(&api_app(req)->svc, http_arena(req), &f);
	api_query_str(req, "after", &after, &err);
	if (after && !err.status) {
		if (cursor_parse(after, after_ts, &f.after_id))
			f.after_ts = after_ts;
		else {
			size_t mark = err.nproblems;
			error_invalid(&err, "after", "value_error",
				      "Value error, not a cursor of this list");
			error_locate(&err, mark, "query");
		}
	}
	if (err.status) {
		api_fail(req, &err);
		return;
	}
	answer_page(req, &f);
}

/* POST /insights/search */
void api_insight_search(struct http_request *req)
{
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err = ERROR_INIT;
	struct insight_filter f;
	decode_search(body, http_arena(req), &f, &err);
	json_object_put(body);
	if (err.status) {
		api_fail_input(req, &err, "body");
		return;
	}
	answer_page(req, &f);
}

/* ---- duplicate warnings ------------------------------------------------------- */

/* A score with at most four decimals, as a JSON number (0.8123, 1, 0.5). */
static void write_score(struct jsonw *w, double score)
{
	char num[32];
	int len = snprintf(num, sizeof(num), "%.4f", score);
	while (len > 1 && num[len - 1] == '0')
		len--;
	if (num[len - 1] == '.')
		len--;
	jsonw_raw(w, num, (size_t)len);
}

/* The items of "similar" and "duplicates". */
static void encode_matches(struct jsonw *w, const struct similar_match *m, size_t n)
{
	jsonw_array_open(w);
	for (size_t i = 0; i < n; i++) {
		jsonw_object_open(w);
		jsonw_key(w, "insight");
		encode_insight(w, m[i].insight);
		jsonw_key(w, "score");
		write_score(w, m[i].score);
		jsonw_key(w, "reasons");
		jsonw_array_open(w);
		for (size_t r = 0; r < m[i].nreasons; r++)
			jsonw_str(w, m[i].reasons[r]);
		jsonw_array_close(w);
		jsonw_object_close(w);
	}
	jsonw_array_close(w);
}

/* The body decoded as an insight input; NULL after answering when it is not an object. */
static struct insight_input *read_draft(struct http_request *req, struct error *err)
{
	json_object *body = api_body_object(req);
	if (!body)
		return NULL;
	struct insight_input *in = arena_alloc(http_arena(req), sizeof(*in));
	memset(in, 0, sizeof(*in));
	decode_insight_input(body, http_arena(req), in, err);
	json_object_put(body);
	return in;
}

/* POST /insights/similar: {"similar": [{"insight", "score", "reasons"}]}, best first. */
void api_insight_similar(struct http_request *req)
{
	struct error err = ERROR_INIT;
	struct insight_input *in = read_draft(req, &err);
	if (!in)
		return;
	struct similar_match *m;
	size_t n;
	if (svc_insight_similar(&api_app(req)->svc, http_arena(req), in, &m, &n, &err)) {
		api_fail_input(req, &err, "body");
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_key(&o.w, "similar");
	encode_matches(&o.w, m, n);
	jsonw_object_close(&o.w);
	api_end(req, &o, 200);
}

/* check_duplicates: true or false, as pydantic reads a boolean from a query string. */
static bool query_flag(struct http_request *req, const char *key, struct error *err)
{
	const char *v = http_query(req, key);
	if (!v)
		return false;
	static const char *const yes[] = { "true", "1", "yes", "on", "t", "y" };
	static const char *const no[] = { "false", "0", "no", "off", "f", "n" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		if (!strcasecmp(v, yes[i]))
			return true;
		if (!strcasecmp(v, no[i]))
			return false;
	}
	size_t mark = err->nproblems;
	error_invalid(err, key, "bool_parsing", "Input should be a valid boolean, unable to interpret input");
	error_locate(err, mark, "query");
	return false;
}

/*
 * POST /insights: with check_duplicates=true, a draft as similar as
 * --duplicate-threshold to an insight is refused (409, the duplicates) and
 * nothing is created; otherwise the shared create.
 */
void api_insight_create(struct http_request *req)
{
	struct error err = ERROR_INIT;
	bool check = query_flag(req, "check_duplicates", &err);
	if (err.status) {
		api_fail(req, &err);
		return;
	}
	if (!check) {
		api_create(req);
		return;
	}
	struct insight_input *in = read_draft(req, &err);
	if (!in)
		return;
	struct similar_match *m;
	size_t n;
	enum status rc = svc_insight_duplicates(&api_app(req)->svc, http_arena(req), in, &m, &n, &err);
	if (rc == E_CONFLICT && n) {
		struct api_out o;
		api_begin(&o);
		jsonw_object_open(&o.w);
		jsonw_kstr(&o.w, "detail", err.detail);
		jsonw_key(&o.w, "duplicates");
		encode_matches(&o.w, m, n);
		jsonw_object_close(&o.w);
		api_end(req, &o, 409);
		return;
	}
	if (rc) {
		api_fail_input(req, &err, "body");
		return;
	}
	api_create(req);
}
