/*
 * stats.c: /statistics (and its trends and authors views) and /health.
 */
#include "api/api.h"

#include "api/codec.h"
#include "api/handlers.h"
#include "lib/banned.h"

#define TREND_DAYS_DEFAULT 30
#define TREND_DAYS_MAX 366
#define AUTHORS_DEFAULT 10
#define AUTHORS_MAX 100

/* GET /statistics */
void api_statistics(struct http_request *req)
{
	struct error err = ERROR_INIT;
	struct statistics s;
	if (svc_statistics(&api_app(req)->svc, http_arena(req), &s, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	encode_statistics(&o.w, &s);
	api_end(req, &o, 200);
}

/* GET /statistics/trends?days=30: insights created per day, by status. */
void api_statistics_trends(struct http_request *req)
{
	struct error err = ERROR_INIT;
	int64_t days;
	api_query_int(req, "days", TREND_DAYS_DEFAULT, 1, TREND_DAYS_MAX, &days, &err);
	struct trend_day *t;
	if (err.status || svc_trends(&api_app(req)->svc, http_arena(req), (int)days, &t, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_kint(&o.w, "days", days);
	jsonw_key(&o.w, "trends");
	jsonw_array_open(&o.w);
	for (int64_t i = 0; i < days; i++) {
		int64_t total = 0;
		jsonw_object_open(&o.w);
		jsonw_kstr(&o.w, "date", t[i].date);
		for (int s = 0; s < LIFECYCLE_COUNT; s++) {
			jsonw_kint(&o.w, lifecycle_name((enum lifecycle)s), t[i].by_status[s]);
			total += t[i].by_status[s];
		}
		jsonw_kint(&o.w, "total", total);
		jsonw_object_close(&o.w);
	}
	jsonw_array_close(&o.w);
	jsonw_object_close(&o.w);
	api_end(req, &o, 200);
}

/* GET /statistics/authors?limit=10: top authors of published insights. */
void api_statistics_authors(struct http_request *req)
{
	struct error err = ERROR_INIT;
	int64_t limit;
	api_query_int(req, "limit", AUTHORS_DEFAULT, 1, AUTHORS_MAX, &limit, &err);
	struct count_by_name *authors;
	size_t n;
	if (err.status ||
	    svc_top_authors(&api_app(req)->svc, http_arena(req), limit, &authors, &n, &err)) {
		api_fail(req, &err);
		return;
	}
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_key(&o.w, "authors");
	jsonw_array_open(&o.w);
	for (size_t i = 0; i < n; i++) {
		jsonw_object_open(&o.w);
		jsonw_kstr(&o.w, "author", authors[i].name);
		jsonw_kint(&o.w, "insight_count", authors[i].count);
		jsonw_object_close(&o.w);
	}
	jsonw_array_close(&o.w);
	jsonw_object_close(&o.w);
	api_end(req, &o, 200);
}

/* GET /health: 200 when a round trip to the database works, 503 otherwise. */
void api_health(struct http_request *req)
{
	struct app *app = api_app(req);
	struct error err = ERROR_INIT;
	bool up = svc_health(&app->svc, &err) == OK;
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_kstr(&o.w, "status", up ? "healthy" : "unhealthy");
	jsonw_kstr(&o.w, "service", "insights");
	jsonw_kstr(&o.w, "version", app->version);
	jsonw_kbool(&o.w, "database_connected", up);
	jsonw_object_close(&o.w);
	api_end(req, &o, up ? 200 : 503);
}
