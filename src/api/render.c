/*
 * render.c: what the dashboard reads beyond the plain resources: an insight
 * with its content rendered as HTML (GET /insights/{id}?format=html), the
 * insights related to one (GET /insights/{id}/related), and a preview of
 * Markdown being written (POST /render). The HTML comes from markdown.h,
 * which keeps raw HTML and unsafe links out of it.
 */
#include "api/api.h"

#include <string.h>

#include "api/codec.h"
#include "api/handlers.h"
#include "api/markdown.h"
#include "lib/utf8.h"
#include "lib/banned.h"

/*
 * GET /insights/{insight_id}?format=json|html: "html" adds content_html
 * (the content rendered; an empty string for no content).
 */
void api_insight_get(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err = ERROR_INIT;
	const char *format;
	api_query_str(req, "format", &format, &err);
	if (!err.status && format && strcmp(format, "json") && strcmp(format, "html")) {
		error_invalid(&err, "format", "literal_error", "Input should be 'json' or 'html'");
		error_locate(&err, 0, "query");
	}
	if (err.status) {
		api_fail(req, &err);
		return;
	}
	struct insight in;
	if (svc_insight_get(&api_app(req)->svc, http_arena(req), id, &in, &err)) {
		api_fail(req, &err);
		return;
	}
	if (api_not_modified(req, in.revision))
		return;
	api_etag(req, in.revision);
	const char *html = NULL;
	if (format && !strcmp(format, "html"))
		html = in.content ? markdown_html(in.content, strlen(in.content), http_arena(req)) : "";
	struct api_out o;
	api_begin(&o);
	encode_insight_html(&o.w, &in, html);
	api_end(req, &o, 200);
}

/* GET /insights/{insight_id}/related?limit: a JSON array of insights. */
void api_insight_related(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err = ERROR_INIT;
	int64_t limit;
	api_query_int(req, "limit", RELATED_LIMIT_DEFAULT, 1, RELATED_LIMIT_MAX, &limit, &err);
	struct insight *rows;
	size_t n;
	if (err.status ||
	    svc_insight_related(&api_app(req)->svc, http_arena(req), id, limit, &rows, &n, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_array_open(&o.w);
	for (size_t i = 0; i < n; i++)
		encode_insight(&o.w, &rows[i]);
	jsonw_array_close(&o.w);
	api_end(req, &o, 200);
}

/*
 * POST /render {"content": "..."}: {"html": "..."}, the content rendered as
 * an insight's would be; the same limit as an insight's content.
 */
void api_render(struct http_request *req)
{
	json_object *body = api_body_object(req);
	if (!body)
		return;
	struct error err = ERROR_INIT;
	json_object *v;
	const char *md = NULL;
	size_t len = 0;
	if (!json_object_object_get_ex(body, "content", &v))
		error_invalid(&err, "content", "missing", "Field required");
	else if (!json_object_is_type(v, json_type_string))
		error_invalid(&err, "content", "string_type", "Input should be a valid string");
	else {
		md = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (utf8_count(md, len) > CONTENT_MAX)
			error_invalid(&err, "content", "string_too_long",
				      "String should have at most %d characters", CONTENT_MAX);
	}
	if (err.status) {
		json_object_put(body);
		api_fail_input(req, &err, "body");
		return;
	}
	const char *html = markdown_html(md, len, http_arena(req));
	json_object_put(body);
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_kstr(&o.w, "html", html);
	jsonw_object_close(&o.w);
	api_end(req, &o, 200);
}
