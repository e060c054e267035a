/*
 * insights.c: the /insights handlers.
 */
#include "api/api.h"

#include "api/codec.h"
#include "api/handlers.h"
#include "lib/banned.h"

static void answer_insight(struct http_request *req, const struct insight *in, unsigned status)
{
	struct api_out o;
	api_begin(&o);
	encode_insight(&o.w, in);
	api_end(req, &o, status);
}

static void answer_page(struct http_request *req, const struct insight_filter *f)
{
	struct error err;
	struct insight_page page;
	if (svc_insight_find(&api_app(req)->svc, http_arena(req), f, &page, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	encode_insight_page(&o.w, &page, f->page, f->page_size);
	api_end(req, &o, 200);
}

/* GET /insights?page&page_size&status&priority&category_id&author */
void api_insight_list(struct http_request *req)
{
	struct error err;
	error_clear(&err);
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
	struct error err;
	error_clear(&err);
	struct insight_filter f;
	decode_search(body, http_arena(req), &f, &err);
	json_object_put(body);
	if (err.status) {
		api_fail(req, &err);
		return;
	}
	answer_page(req, &f);
}

/* POST /insights */
void api_insight_create(struct http_request *req)
{
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err;
	error_clear(&err);
	struct insight_input in;
	decode_insight_input(body, http_arena(req), &in, &err);
	json_object_put(body);
	struct insight out;
	if (svc_insight_create(&api_app(req)->svc, http_arena(req), &in, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_insight(req, &out, 201);
}

/* GET /insights/{insight_id} */
void api_insight_get(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err;
	struct insight out;
	if (svc_insight_get(&api_app(req)->svc, http_arena(req), id, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_insight(req, &out, 200);
}

/* PUT /insights/{insight_id} */
void api_insight_update(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err;
	error_clear(&err);
	struct insight_input in;
	decode_insight_input(body, http_arena(req), &in, &err);
	json_object_put(body);
	struct insight out;
	if (svc_insight_update(&api_app(req)->svc, http_arena(req), id, &in, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_insight(req, &out, 200);
}

/* DELETE /insights/{insight_id} */
void api_insight_delete(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err;
	if (svc_insight_delete(&api_app(req)->svc, id, &err)) {
		api_fail(req, &err);
		return;
	}
	http_respond(req, 204, NULL, NULL);
}
