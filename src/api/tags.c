/*
 * tags.c: the /tags handlers.
 */
#include "api/api.h"

#include "api/codec.h"
#include "api/handlers.h"
#include "lib/banned.h"

static void answer_tag(struct http_request *req, const struct tag *t, unsigned status)
{
	struct api_out o;
	api_begin(&o);
	encode_tag(&o.w, t);
	api_end(req, &o, status);
}

/* GET /tags?skip&limit */
void api_tag_list(struct http_request *req)
{
	struct error err;
	error_clear(&err);
	struct range r;
	api_query_int(req, "skip", 0, 0, INT64_MAX, &r.skip, &err);
	api_query_int(req, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, &r.limit, &err);
	struct tag *tags;
	size_t n;
	if (err.status || svc_tag_list(&api_app(req)->svc, http_arena(req), r, &tags, &n, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_array_open(&o.w);
	for (size_t i = 0; i < n; i++)
		encode_tag(&o.w, &tags[i]);
	jsonw_array_close(&o.w);
	api_end(req, &o, 200);
}

/* POST /tags */
void api_tag_create(struct http_request *req)
{
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err;
	error_clear(&err);
	struct tag_input in;
	decode_tag_input(body, http_arena(req), &in, &err);
	json_object_put(body);
	struct tag out;
	if (svc_tag_create(&api_app(req)->svc, http_arena(req), &in, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_tag(req, &out, 201);
}

/* GET /tags/{tag_id} */
void api_tag_get(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err;
	struct tag out;
	if (svc_tag_get(&api_app(req)->svc, http_arena(req), id, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_tag(req, &out, 200);
}

/* PUT /tags/{tag_id} */
void api_tag_update(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err;
	error_clear(&err);
	struct tag_input in;
	decode_tag_input(body, http_arena(req), &in, &err);
	json_object_put(body);
	struct tag out;
	if (svc_tag_update(&api_app(req)->svc, http_arena(req), id, &in, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_tag(req, &out, 200);
}

/* DELETE /tags/{tag_id} */
void api_tag_delete(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err;
	if (svc_tag_delete(&api_app(req)->svc, id, &err)) {
		api_fail(req, &err);
		return;
	}
	http_respond(req, 204, NULL, NULL);
}
