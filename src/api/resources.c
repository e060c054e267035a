/*
 * resources.c: the handlers that insights, tags and categories share:
 * create, get, update and delete by id, and (tags, categories) list by
 * skip/limit. Each resource is a descriptor of typed adapters over its
 * decoder, use cases and encoder; the route table hands the descriptor to
 * the handler (http_route_data), so one handler serves all three.
 */
#include "api/api.h"

#include "api/codec.h"
#include "api/handlers.h"
#include "lib/banned.h"

struct resource {
	size_t input_size;
	size_t row_size;
	enum status (*decode)(json_object *o, struct arena *a, void *in, struct error *err);
	enum status (*create)(struct service *svc, struct arena *a, const void *in, void *out,
			      struct error *err);
	/* Conditional: `expected` as service.h's svc_*_update_if has it. */
	enum status (*update)(struct service *svc, struct arena *a, int64_t id, int64_t expected,
			      const void *in, void *out, struct error *err);
	enum status (*get)(struct service *svc, struct arena *a, int64_t id, void *out,
			   struct error *err);
	enum status (*remove)(struct service *svc, int64_t id, int64_t expected, struct error *err);
	/* Lists by skip/limit; NULL when the resource has its own list (insights). */
	enum status (*list)(struct service *svc, struct arena *a, struct range r, void **rows,
			    size_t *n, struct error *err);
	void (*encode)(struct jsonw *w, const void *row);
	/* Its table (whose version is the entity tag) and a row's version. */
	enum q_table table;
	int64_t (*version)(const void *row);
};

/* ---- adapters: typed functions behind the descriptor's void pointers -- */

static enum status insight_decode(json_object *o, struct arena *a, void *in, struct error *err)
{ return decode_insight_input(o, a, in, err); }
static enum status insight_create(struct service *svc, struct arena *a, const void *in, void *out, struct error *err)
{ return svc_insight_create(svc, a, in, out, err); }
static enum status insight_update(struct service *svc, struct arena *a, int64_t id, int64_t expected, const void *in, void *out, struct error *err)
{ return svc_insight_update_if(svc, a, id, expected, in, out, err); }
static int64_t insight_version(const void *row)
{ return ((const struct insight *)row)->revision; }
static enum status insight_get(struct service *svc, struct arena *a, int64_t id, void *out, struct error *err)
{ return svc_insight_get(svc, a, id, out, err); }
static void insight_encode(struct jsonw *w, const void *row)
{ encode_insight(w, row); }

static enum status tag_decode(json_object *o, struct arena *a, void *in, struct error *err)
{ return decode_tag_input(o, a, in, err); }
static enum status tag_create(struct service *svc, struct arena *a, const void *in, void *out, struct error *err)
{ return svc_tag_create(svc, a, in, out, err); }
static enum status tag_update(struct service *svc, struct arena *a, int64_t id, int64_t expected, const void *in, void *out, struct error *err)
{ return svc_tag_update_if(svc, a, id, expected, in, out, err); }
static enum status tag_get(struct service *svc, struct arena *a, int64_t id, void *out, struct error *err)
{ return svc_tag_get(svc, a, id, out, err); }
static enum status tag_list(struct service *svc, struct arena *a, struct range r, void **rows, size_t *n, struct error *err)
{ return svc_tag_list(svc, a, r, (struct tag **)rows, n, err); }
static void tag_encode(struct jsonw *w, const void *row)
{ encode_tag(w, row); }

static enum status category_decode(json_object *o, struct arena *a, void *in, struct error *err)
{ return decode_category_input(o, a, in, err); }
static enum status category_create(struct service *svc, struct arena *a, const void *in, void *out, struct error *err)
{ return svc_category_create(svc, a, in, out, err); }
static enum status category_update(struct service *svc, struct arena *a, int64_t id, int64_t expected, const void *in, void *out, struct error *err)
{ return svc_category_update_if(svc, a, id, expected, in, out, err); }
static enum status category_get(struct service *svc, struct arena *a, int64_t id, void *out, struct error *err)
{ return svc_category_get(svc, a, id, out, err); }
static enum status category_list(struct service *svc, struct arena *a, struct range r, void **rows, size_t *n, struct error *err)
{ return svc_category_list(svc, a, r, (struct category **)rows, n, err); }
static void category_encode(struct jsonw *w, const void *row)
{ encode_category(w, row, true); }

const struct resource api_insights = {
	sizeof(struct insight_input), sizeof(struct insight), insight_decode, insight_create,
	insight_update, insight_get, svc_insight_delete_if, NULL, insight_encode, QT_INSIGHTS,
	insight_version,
};
const struct resource api_tags = {
	sizeof(struct tag_input), sizeof(struct tag), tag_decode, tag_create, tag_update, tag_get,
	svc_tag_delete_if, tag_list, tag_encode, QT_TAGS, NULL,
};
const struct resource api_categories = {
	sizeof(struct category_input), sizeof(struct category), category_decode, category_create,
	category_update, category_get, svc_category_delete_if, category_list, category_encode,
	QT_CATEGORIES, NULL,
};

/* ---- the shared handlers ------------------------------------------- */

static void answer_row(struct http_request *req, const struct resource *r, const void *row,
		       unsigned status)
{
	struct api_out o;
	api_begin(&o);
	r->encode(&o.w, row);
	api_end(req, &o, status);
}

/*
 * Reads the body into a fresh input of the resource. Returns NULL after
 * answering 422 when the body is not a JSON object; decoding problems stay
 * in `err` (which must start empty) for the use case to report with its
 * own.
 */
static void *read_input(struct http_request *req, const struct resource *r, struct error *err)
{
	json_object *body = api_body_object(req);
	if (!body)
		return NULL;
	void *in = arena_alloc(http_arena(req), r->input_size);
	r->decode(body, http_arena(req), in, err);
	json_object_put(body);
	return in;
}

/*
 * POST /insights, /tags, /categories. With an Idempotency-Key, the write,
 * its audit entry and its answer commit together (api/idempotency.c).
 */
void api_create(struct http_request *req)
{
	const struct resource *r = http_route_data(req);
	struct error err = ERROR_INIT;
	char key[IDEM_KEY_MAX + 1];
	bool keyed;
	if (!api_idem_key(req, key, &keyed))
		return;
	void *in = read_input(req, r, &err);
	if (!in)
		return;
	struct idem_claim claim;
	if (keyed && !api_idem_begin(req, key, &claim))
		return;
	void *out = arena_alloc(http_arena(req), r->row_size);
	if (r->create(&api_app(req)->svc, http_arena(req), in, out, &err)) {
		if (keyed)
			api_idem_abandon(req, &claim);
		api_fail_input(req, &err, "body");
		return;
	}
	if (!keyed) {
		api_version_header(req);
		answer_row(req, r, out, 201);
		return;
	}
	struct api_out o;
	api_begin(&o);
	r->encode(&o.w, out);
	if (!api_idem_commit(req, &claim, 201, &o))
		return;
	api_version_header(req);
	api_end(req, &o, 201);
}

/* GET /{resource}/{id} */
void api_get(struct http_request *req)
{
	const struct resource *r = http_route_data(req);
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err = ERROR_INIT;
	void *out = arena_alloc(http_arena(req), r->row_size);
	/*
	 * A tag's or category's version is not in its row: read first, it is
	 * at most as new as the row, so that an If-Match with it never passes
	 * for a version the client has not seen.
	 */
	int64_t version = 0;
	if ((!r->version && svc_version(&api_app(req)->svc, r->table, id, &version, &err)) ||
	    r->get(&api_app(req)->svc, http_arena(req), id, out, &err)) {
		api_fail(req, &err);
		return;
	}
	if (r->version)
		version = r->version(out);
	if (api_not_modified(req, version))
		return;
	api_etag(req, version);
	answer_row(req, r, out, 200);
}

/* PUT /{resource}/{id}: a partial update. */
void api_update(struct http_request *req)
{
	const struct resource *r = http_route_data(req);
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err = ERROR_INIT;
	void *in = read_input(req, r, &err);
	if (!in)
		return;
	int64_t expected;
	if (!api_if_match(req, r->table, id, &expected))
		return;
	void *out = arena_alloc(http_arena(req), r->row_size);
	if (r->update(&api_app(req)->svc, http_arena(req), id, expected, in, out, &err)) {
		api_fail_write(req, r->table, id, &err, "body");
		return;
	}
	api_version_header(req);
	if (r->version)
		api_etag(req, r->version(out));
	answer_row(req, r, out, 200);
}

/* DELETE /{resource}/{id}: 204 with no body. */
void api_delete(struct http_request *req)
{
	const struct resource *r = http_route_data(req);
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err = ERROR_INIT;
	int64_t expected;
	if (!api_if_match(req, r->table, id, &expected))
		return;
	if (r->remove(&api_app(req)->svc, id, expected, &err)) {
		api_fail_write(req, r->table, id, &err, NULL);
		return;
	}
	api_version_header(req);
	http_respond(req, 204, NULL, NULL);
}

/* GET /tags, /categories?skip&limit: a JSON array ordered by name. */
void api_list(struct http_request *req)
{
	const struct resource *r = http_route_data(req);
	struct error err = ERROR_INIT;
	struct range range;
	api_query_int(req, "skip", 0, 0, INT64_MAX, &range.skip, &err);
	api_query_int(req, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX, &range.limit, &err);
	void *rows;
	size_t n;
	if (err.status || r->list(&api_app(req)->svc, http_arena(req), range, &rows, &n, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_array_open(&o.w);
	for (size_t i = 0; i < n; i++)
		r->encode(&o.w, (const char *)rows + i * r->row_size);
	jsonw_array_close(&o.w);
	api_end(req, &o, 200);
}
