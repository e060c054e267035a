/*
 * insights.c: listing and searching insights (their create, get, update and
 * delete are the shared handlers of resources.c).
 */
#include "api/api.h"

#include "api/codec.h"
#include "api/handlers.h"
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
	encode_insight_page(&o.w, &page, f->page, f->page_size);
	arena_release(&rows);
	api_end(req, &o, 200);
}

/* GET /insights?page&page_size&status&priority&category_id&author */
void api_insight_list(struct http_request *req)
{
	struct error err = ERROR_INIT;
	struct insight_filter f = { 0 };
	api_query_int(req, "page", 1, 1, INT64_MAX, &f.page, &err);
	api_query_int(req, "page_size", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX, &f.page_size, &err);
	api_query_lifecycle(req, "status", &f.status, &err);
	api_query_priority(req, "priority", &f.priority, &err);
	api_query_int(req, "category_id", 0, 1, INT64_MAX, &f.category_id, &err);
	api_query_str(req, "author", &f.author, &err);
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
