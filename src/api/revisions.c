/*
 * revisions.c: conditional requests and an insight's revisions (issue 14).
 *
 * An insight's entity tag is its revision, a tag's or category's its
 * version ("3"). GET answers it in ETag and 304 to an If-None-Match that
 * lists it; PUT and DELETE (and restores) with If-Match write only when the
 * row is still at a listed version: the handler picks the listed version
 * the row is at now (or none), and the use case compares it again inside
 * the write's transaction, so that of clients racing with the same tag one
 * wins and the others get 412 with the current ETag. Without If-Match a
 * write is unconditional, as the specification has it.
 *
 * The revisions routes: GET /insights/{id}/revisions (a page, newest
 * first), GET /insights/{id}/revisions/{n}, POST .../revisions/{n}/restore
 * and POST /insights/{id}/restore (a deleted insight back).
 */
#include "api/api.h"

#include <inttypes.h>
#include <stdio.h>

#include "api/codec.h"
#include "api/handlers.h"
#include "lib/banned.h"

static void quoted(int64_t v, char out[24])
{
	snprintf(out, 24, "\"%" PRId64 "\"", v);
}

void api_etag(struct http_request *req, int64_t version)
{
	char tag[24];
	quoted(version, tag);
	http_add_header(req, "ETag", tag);
}

bool api_not_modified(struct http_request *req, int64_t version)
{
	const char *list = http_header(req, "If-None-Match");
	char tag[24];
	snprintf(tag, sizeof(tag), "%" PRId64, version);
	if (!list || !http_etag_listed(list, tag))
		return false;
	api_etag(req, version);
	http_respond(req, 304, NULL, NULL);
	return true;
}

bool api_if_match(struct http_request *req, enum q_table table, int64_t id, int64_t *expected)
{
	*expected = 0;
	const char *list = http_header(req, "If-Match");
	if (!list)
		return true;
	struct error err = ERROR_INIT;
	int64_t now;
	if (svc_version(&api_app(req)->svc, table, id, &now, &err)) {
		api_fail(req, &err);
		return false;
	}
	char tag[24];
	snprintf(tag, sizeof(tag), "%" PRId64, now);
	/* Not listed: a version no row has, which the write's own check refuses. */
	*expected = http_etag_listed(list, tag) ? now : -1;
	return true;
}

void api_fail_write(struct http_request *req, enum q_table table, int64_t id,
		    struct error *err, const char *where)
{
	if (err->status == E_PRECONDITION) {
		struct error ignored = ERROR_INIT;
		int64_t now;
		if (svc_version(&api_app(req)->svc, table, id, &now, &ignored) == OK)
			api_etag(req, now);
	}
	if (where)
		api_fail_input(req, err, where);
	else
		api_fail(req, err);
}

/* GET /insights/{insight_id}/revisions?page&page_size */
void api_revision_list(struct http_request *req)
{
	int64_t id, page, page_size;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err = ERROR_INIT;
	api_query_int(req, "page", 1, 1, INT64_MAX, &page, &err);
	api_query_int(req, "page_size", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX, &page_size, &err);
	struct revision_page p;
	if (err.status ||
	    svc_revision_list(&api_app(req)->svc, http_arena(req), id, page, page_size, &p, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	encode_revision_page(&o.w, &p, page, page_size);
	api_end(req, &o, 200);
}

/*
 * The path's revision number (its second parameter): false after answering
 * 422 (not an integer) or 404 (below 1: no revision has it), as for ids.
 */
static bool path_revision(struct http_request *req, int64_t *n)
{
	if (!api_path_id(req, 1, n))
		return false;
	if (*n >= 1)
		return true;
	struct error err = ERROR_INIT;
	error_set(&err, E_NOTFOUND, "Revision not found");
	api_fail(req, &err);
	return false;
}

/* GET /insights/{insight_id}/revisions/{revision} */
void api_revision_get(struct http_request *req)
{
	int64_t id, n;
	if (!api_path_id(req, 0, &id) || !path_revision(req, &n))
		return;
	struct error err = ERROR_INIT;
	struct insight_revision r;
	if (svc_revision_get(&api_app(req)->svc, http_arena(req), id, n, &r, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	encode_revision(&o.w, &r);
	api_end(req, &o, 200);
}

static void answer_insight(struct http_request *req, const struct insight *in, unsigned status)
{
	api_version_header(req);
	api_etag(req, in->revision);
	struct api_out o;
	api_begin(&o);
	encode_insight(&o.w, in);
	api_end(req, &o, status);
}

/* POST /insights/{insight_id}/revisions/{revision}/restore (If-Match honoured) */
void api_revision_restore(struct http_request *req)
{
	int64_t id, n, expected;
	if (!api_path_id(req, 0, &id) || !path_revision(req, &n) ||
	    !api_if_match(req, QT_INSIGHTS, id, &expected))
		return;
	struct error err = ERROR_INIT;
	struct insight out;
	if (svc_revision_restore(&api_app(req)->svc, http_arena(req), id, n, expected, &out, &err)) {
		api_fail_write(req, QT_INSIGHTS, id, &err, NULL);
		return;
	}
	answer_insight(req, &out, 200);
}

/* POST /insights/{insight_id}/restore: a deleted insight back, 201. */
void api_insight_restore(struct http_request *req)
{
	int64_t id;
	if (!api_path_id(req, 0, &id))
		return;
	struct error err = ERROR_INIT;
	struct insight out;
	if (svc_insight_restore(&api_app(req)->svc, http_arena(req), id, &out, &err)) {
		api_fail(req, &err);
		return;
	}
	answer_insight(req, &out, 201);
}
