/*
 * routes.c: the route table of the REST API, in one place. The pattern is
 * also the `endpoint` label of the request metrics, so it must stay a
 * template ("/insights/{insight_id}"), never a concrete path.
 */
#include "api/api.h"

#include "api/handlers.h"
#include "lib/banned.h"

/*
 * Offloaded routes run on the worker pool so that they never stall an event
 * loop: searches and trends can take tens of milliseconds on a large
 * database, and writes wait for the write lock and their group's commit
 * (which also lets concurrent writes share one commit).
 */
const struct http_route api_routes[] = {
	{ HTTP_GET, "/health", api_health, 0 },
	{ HTTP_GET, "/metrics", api_metrics, 0 },
	{ HTTP_GET, "/insights", api_insight_list, 0 },
	{ HTTP_POST, "/insights", api_insight_create, HTTP_ROUTE_OFFLOAD },
	{ HTTP_POST, "/insights/search", api_insight_search, HTTP_ROUTE_OFFLOAD },
	{ HTTP_GET, "/insights/{insight_id}", api_insight_get, 0 },
	{ HTTP_PUT, "/insights/{insight_id}", api_insight_update, HTTP_ROUTE_OFFLOAD },
	{ HTTP_DELETE, "/insights/{insight_id}", api_insight_delete, HTTP_ROUTE_OFFLOAD },
	{ HTTP_GET, "/tags", api_tag_list, 0 },
	{ HTTP_POST, "/tags", api_tag_create, HTTP_ROUTE_OFFLOAD },
	{ HTTP_GET, "/tags/{tag_id}", api_tag_get, 0 },
	{ HTTP_PUT, "/tags/{tag_id}", api_tag_update, HTTP_ROUTE_OFFLOAD },
	{ HTTP_DELETE, "/tags/{tag_id}", api_tag_delete, HTTP_ROUTE_OFFLOAD },
	{ HTTP_GET, "/categories", api_category_list, 0 },
	{ HTTP_POST, "/categories", api_category_create, HTTP_ROUTE_OFFLOAD },
	{ HTTP_GET, "/categories/{category_id}", api_category_get, 0 },
	{ HTTP_PUT, "/categories/{category_id}", api_category_update, HTTP_ROUTE_OFFLOAD },
	{ HTTP_DELETE, "/categories/{category_id}", api_category_delete, HTTP_ROUTE_OFFLOAD },
	{ HTTP_GET, "/statistics", api_statistics, 0 },
	{ HTTP_GET, "/statistics/trends", api_statistics_trends, HTTP_ROUTE_OFFLOAD },
	{ HTTP_GET, "/statistics/authors", api_statistics_authors, HTTP_ROUTE_OFFLOAD },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
