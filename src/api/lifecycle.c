/*
 * lifecycle.c: lifecycle statistics and reviews (issue 14):
 * GET /statistics/lifecycle?days=90 and POST /insights/{id}/review.
 * (GET /insights?stale=true is the list's, in insights.c; stale_insights
 * is /statistics'.)
 */
#include "api/api.h"

#include <string.h>

#include "api/codec.h"
#include "api/handlers.h"
#include "core/input.h"
#include "core/lifecycle.h"
#include "lib/banned.h"

/* {"count", "median_seconds", "p90_seconds"} (null figures when count is 0), after its name. */
static void encode_durations(struct jsonw *w, const char *key, const struct duration_figures *d)
{
	jsonw_object_open(w);
	if (key)
		jsonw_kstr(w, key, d->name);
	jsonw_kint(w, "count", d->count);
	jsonw_key(w, "median_seconds");
	if (d->count)
		jsonw_int(w, d->median);
	else
		jsonw_null(w);
	jsonw_key(w, "p90_seconds");
	if (d->count)
		jsonw_int(w, d->p90);
	else
		jsonw_null(w);
	jsonw_object_close(w);
}

/*
 * GET /statistics/lifecycle?days=90: {"days", "since", "transitions":
 * [{"from", "to", "count"}], "time_to_publish": {"overall", "by_category",
 * "by_author"}}.
 */
void api_statistics_lifecycle(struct http_request *req)
{
	struct error err = ERROR_INIT;
	int64_t days;
	api_query_int(req, "days", LIFECYCLE_DAYS_DEFAULT, 1, LIFECYCLE_DAYS_MAX, &days, &err);
	struct lifecycle_figures f;
	if (err.status || svc_lifecycle(&api_app(req)->svc, http_arena(req), days, &f, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	struct jsonw *w = &o.w;
	jsonw_object_open(w);
	jsonw_kint(w, "days", f.days);
	jsonw_kstr(w, "since", f.since);
	jsonw_key(w, "transitions");
	jsonw_array_open(w);
	for (size_t i = 0; i < f.ncounts; i++) {
		const struct transition_count *t = &f.counts[i];
		jsonw_object_open(w);
		jsonw_kstr(w, "from", t->from >= 0 ? lifecycle_name((enum lifecycle)t->from) : NULL);
		jsonw_kstr(w, "to", lifecycle_name((enum lifecycle)t->to));
		jsonw_kint(w, "count", t->count);
		jsonw_object_close(w);
	}
	jsonw_array_close(w);
	jsonw_key(w, "time_to_publish");
	jsonw_object_open(w);
	jsonw_key(w, "overall");
	encode_durations(w, NULL, &f.overall);
	jsonw_key(w, "by_category");
	jsonw_array_open(w);
	for (size_t i = 0; i < f.ncategories; i++)
		encode_durations(w, "category", &f.by_category[i]);
	jsonw_array_close(w);
	jsonw_key(w, "by_author");
	jsonw_array_open(w);
	for (size_t i = 0; i < f.nauthors; i++)
		encode_durations(w, "author", &f.by_author[i]);
	jsonw_array_close(w);
	jsonw_object_close(w);
	jsonw_object_close(w);
	api_end(req, &o, 200);
}

/*
 * POST /insights/{insight_id}/review, with an optional body {"review_by":
 * "YYYY-MM-DD" or null}: marks the insight reviewed now; If-Match honoured.
 * Answers the insight, with its new ETag.
 */
void api_insight_review(struct http_request *req)
{
	int64_t id, expected;
	if (!api_path_id(req, 0, &id))
		return;
	size_t len;
	http_body(req, &len);
	struct error err = ERROR_INIT;
	struct insight_input body;
	memset(&body, 0, sizeof(body));
	if (len) {
		json_object *o = api_body_object(req);
		if (!o)
			return;
		decode_insight_input(o, http_arena(req), &body, &err);
		json_object_put(o);
		/* Only review_by is read here; a problem elsewhere is not this route's. */
		if (err.status && !error_has(&err, "review_by"))
			error_clear(&err);
		if (err.status) {
			api_fail_input(req, &err, "body");
			return;
		}
	}
	if (!api_if_match(req, QT_INSIGHTS, id, &expected))
		return;
	struct insight out;
	if (svc_insight_review(&api_app(req)->svc, http_arena(req), id, expected, &body.review_by,
			       &out, &err)) {
		api_fail_write(req, QT_INSIGHTS, id, &err, "body");
		return;
	}
	api_version_header(req);
	api_etag(req, out.revision);
	struct api_out o;
	api_begin(&o);
	encode_insight(&o.w, &out);
	api_end(req, &o, 200);
}
