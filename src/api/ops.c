/*
 * ops.c: what operators use: the per-request observer (metrics and the
 * request log line) and GET /metrics.
 */
#include "api/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/cache.h"
#include "api/handlers.h"
#include "core/access.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "lib/banned.h"

void api_observe(void *appv, const struct http_request *req)
{
	(void)appv;
	const struct http_route *route = http_endpoint_route(req);
	/* /graphql is an alias: its requests count under /v1/graphql. */
	if (route && route->handler == api_graphql && route > api_routes &&
	    route[-1].handler == api_graphql)
		route--;
	uint64_t ns = http_elapsed_ns(req);
	unsigned status = http_response_status(req);
	metrics_observe(route, http_method(req), status, ns);
	struct log_request line = {
		.request_id = http_request_id(req),
		.method = http_method_name(req),
		.route = route ? route->pattern : "unmatched",
		.status = status,
		.duration_ms = (double)ns / 1e6,
		.bytes = http_response_size(req),
		/* Worked out once and kept by the request: not a change an observer sees. */
		.client = http_client_addr((struct http_request *)req),
	};
	log_request(&line);
}

/* The tag of an answer that must not be cached (data versions never reach it). */
#define NO_TAG UINT64_MAX

/*
 * The cache key of a request: its route, its path (which holds the route's
 * parameters: /insights/3/related and /insights/4/related are different
 * answers), every query argument and the body, each part with its length
 * first, so that different requests never share a key (an encoded "&" or
 * "=" in a value stays inside that value). Then what a handler may answer
 * differently for the same bytes: the body's Content-Type (a body that is
 * not declared JSON is refused, 415) and the role the gate admitted (what
 * a GraphQL operation may touch is decided per role).
 */
static void cache_key(struct http_request *req, struct buf *key)
{
	const char *pattern = http_matched_route(req)->pattern;
	const char *path = http_path(req);
	buf_addf(key, "r%zu:%s", strlen(pattern), pattern);
	buf_addf(key, "p%zu:%s", strlen(path), path);
	http_query_key(req, key);
	size_t len;
	const char *body = http_body(req, &len);
	buf_addf(key, "b%zu:", len);
	buf_add(key, body, len);
	const char *type = len ? http_header(req, "Content-Type") : NULL;
	buf_addf(key, "t%zu:%s", type ? strlen(type) : 0, type ? type : "");
	const struct actor *who = http_principal(req);
	buf_addf(key, "a%d", who ? (int)who->role : -1);
}

/*
 * The data version a client asks a read to reflect at least
 * (X-Insights-Min-Version, from the answer to one of its writes); 0: none
 * asked, or not a number.
 */
static uint64_t min_version(struct http_request *req)
{
	const char *v = http_header(req, "X-Insights-Min-Version");
	if (!v || *v < '0' || *v > '9')
		return 0;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	return errno || *end ? 0 : n;
}

static bool cache_lookup(void *appv, struct http_request *req, uint64_t *tag)
{
	struct app *app = appv;
	*tag = NO_TAG;
	if (!app->cache)
		return false;
	/*
	 * A write the client made (maybe on another instance) that this one
	 * has not heard of yet: the answer is computed afresh, and not cached
	 * (the data version that would tag it does not cover that write yet).
	 * Checked before the data version is read: see svc_has_seen.
	 */
	uint64_t needed = min_version(req);
	if (needed && !svc_has_seen(&app->svc, needed))
		return false;
	/* The version is read before anything else: see cache.c. */
	uint64_t version;
	if (!svc_complete_version(&app->svc, &version))
		return false; /* other instances' writes may go unseen */
	*tag = version;
	struct buf key = BUF_INIT, body = BUF_INIT;
	cache_key(req, &key);
	const char *type = NULL;
	bool hit = cache_get(app->cache, &key, *tag, &body, &type);
	/* Asked for the first time (lately): answered, not stored (see cache.c). */
	if (!hit && !cache_admit(app->cache, &key))
		*tag = NO_TAG;
	buf_release(&key);
	if (hit)
		http_respond(req, 200, &body, type);
	buf_release(&body);
	return hit;
}

static void cache_store(void *appv, struct http_request *req, uint64_t tag)
{
	struct app *app = appv;
	if (!app->cache || tag == NO_TAG)
		return;
	struct buf key = BUF_INIT;
	cache_key(req, &key);
	size_t len;
	const char *body = http_response_body(req, &len);
	cache_put(app->cache, &key, tag, body, len, http_response_type(req));
	buf_release(&key);
}

const struct http_cache_hooks api_cache_hooks = {
	.lookup = cache_lookup,
	.store = cache_store,
};

/* GET /metrics: the Prometheus text exposition. */
void api_metrics(struct http_request *req)
{
	struct app *app = api_app(req);
	struct buf out = BUF_INIT;
	buf_grow(&out, 16384);
	const struct service_counters *c = &app->svc.counters;
	metrics_render_one(&out, "insights_created_total", "counter", "Insights created.",
			   (double)atomic_load(&c->insights_created));
	metrics_render_one(&out, "insights_updated_total", "counter", "Insights updated.",
			   (double)atomic_load(&c->insights_updated));
	metrics_render_one(&out, "insights_deleted_total", "counter", "Insights deleted.",
			   (double)atomic_load(&c->insights_deleted));
	if (app->cache) {
		metrics_render_one(&out, "insights_cache_hits_total", "counter",
				   "Read responses served from the response cache.",
				   (double)cache_hits(app->cache));
		metrics_render_one(&out, "insights_cache_misses_total", "counter",
				   "Cacheable read responses computed afresh.",
				   (double)cache_misses(app->cache));
	}
	api_graphql_metrics(&out);
	metrics_render_requests(&out);
	metrics_render_process(&out);
	struct store_gauges g;
	struct error err = ERROR_INIT;
	if (svc_gauges(&app->svc, &g, &err) == OK) {
		metrics_family(&out, "insights_db_rows", "gauge", "Rows stored, by table.");
		metrics_sample(&out, "insights_db_rows", "table=\"insights\"", (double)g.insights);
		metrics_sample(&out, "insights_db_rows", "table=\"tags\"", (double)g.tags);
		metrics_sample(&out, "insights_db_rows", "table=\"categories\"", (double)g.categories);
		metrics_family(&out, "insights_db_pool_connections", "gauge",
			       "Database connections of this instance, by state.");
		metrics_sample(&out, "insights_db_pool_connections", "state=\"in_use\"", (double)g.pool_in_use);
		metrics_sample(&out, "insights_db_pool_connections", "state=\"idle\"", (double)g.pool_idle);
	}
	metrics_render_one(&out, "insights_db_up", "gauge",
			   "Whether the last database round trip of this scrape succeeded.",
			   err.status == OK ? 1 : 0);
	http_respond(req, 200, &out, "text/plain; version=0.0.4; charset=utf-8");
}
