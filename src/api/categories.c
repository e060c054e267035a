/*
 * categories.c: the /categories handlers.
 */
#include "api/api.h"

#include "api/codec.h"
#include "api/handlers.h"
#include "lib/banned.h"

static void answer_category(struct http_request *req, const struct category *c, unsigned status)
{
	struct api_out o;
	api_begin(&o);
	encode_category(&o.w, c, true);
	api_end(req, &o, status);
}

/* GET /categories?skip&limit */
void api_category_list(struct http_request *req)
{
	struct error err;
	error_clear(&err);
	struct range r;
	api_query_int(req, "skip", 0, 0, INT64_MAX, &r.skip, &err);
	api_query_int(req, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, &r.limit, &err);
	struct category *cats;
	size_t n;
	if (err.status || svc_category_list(&api_app(req)->svc, http_arena(req), r, &cats, &n, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_array_open(&o.w);
	for (size_t i = 0; i < n; i++)
		encode_category(&o.w, &cats[i], true);
	jsonw_array_close(&o.w);
	api_end(req, &o, 200);
}

/* POST /categories */
void api_category_create(struct http_request *req)
{
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err;
	error_clear(&err);
	struct category_input in;
	decode_category_input(body, http_arena(req), &in, &err);
	json_object_put(body);
	struct category out;
	if (svc_category_create(&api_app(req)->svc, http_arena(req), &in, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_category(req, &out, 201);
}

/* GET /categories/{category_id} */
void api_category_get(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err;
	struct category out;
	if (svc_category_get(&api_app(req)->svc, http_arena(req), id, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_category(req, &out, 200);
}

/* PUT /categories/{category_id} */
void api_category_update(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err;
	error_clear(&err);
	struct category_input in;
	decode_category_input(body, http_arena(req), &in, &err);
	json_object_put(body);
	struct category out;
	if (svc_category_update(&api_app(req)->svc, http_arena(req), id, &in, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_category(req, &out, 200);
}

/* DELETE /categories/{category_id} */
void api_category_delete(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err;
	if (svc_category_delete(&api_app(req)->svc, id, &err)) {
		api_fail(req, &err);
		return;
	}
	http_respond(req, 204, NULL, NULL);
}
