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
 * loop: searches, trends and lists filtered by author (a scan: up to
 * hundreds of milliseconds on a large database) can take long, and writes
 * wait for the write lock and their group's commit (which also lets
 * concurrent writes share one commit). A cached answer is served on the
 * loop before the route would leave it.
 *
 * Cached routes answer from the response cache (api/cache.c) while no write
 * has happened since the answer was computed; single-row reads are not
 * cached: they are as cheap as a cache lookup.
 */
const struct http_route api_routes[] = {
	{ HTTP_GET, "/health", api_health, 0, NULL },
	{ HTTP_GET, "/metrics", api_metrics, 0, NULL },
	{ HTTP_GET, "/insights", api_insight_list, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_POST, "/insights", api_insight_create, HTTP_ROUTE_OFFLOAD, &api_insights },
	{ HTTP_POST, "/insights/search", api_insight_search, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_POST, "/insights/similar", api_insight_similar, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_GET, "/insights/{insight_id}", api_insight_get, 0, NULL },
	{ HTTP_GET, "/insights/{insight_id}/related", api_insight_related, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_GET, "/insights/{insight_id}/revisions", api_revision_list, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_GET, "/insights/{insight_id}/revisions/{revision}", api_revision_get, 0, NULL },
	{ HTTP_POST, "/insights/{insight_id}/revisions/{revision}/restore", api_revision_restore, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_POST, "/insights/{insight_id}/restore", api_insight_restore, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_POST, "/insights/{insight_id}/review", api_insight_review, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_PUT, "/insights/{insight_id}", api_update, HTTP_ROUTE_OFFLOAD, &api_insights },
	{ HTTP_DELETE, "/insights/{insight_id}", api_delete, HTTP_ROUTE_OFFLOAD, &api_insights },
	{ HTTP_GET, "/tags", api_list, HTTP_ROUTE_CACHE, &api_tags },
	{ HTTP_POST, "/tags", api_create, HTTP_ROUTE_OFFLOAD, &api_tags },
	{ HTTP_GET, "/tags/{tag_id}", api_get, 0, &api_tags },
	{ HTTP_PUT, "/tags/{tag_id}", api_update, HTTP_ROUTE_OFFLOAD, &api_tags },
	{ HTTP_DELETE, "/tags/{tag_id}", api_delete, HTTP_ROUTE_OFFLOAD, &api_tags },
	{ HTTP_GET, "/categories", api_list, HTTP_ROUTE_CACHE, &api_categories },
	{ HTTP_POST, "/categories", api_create, HTTP_ROUTE_OFFLOAD, &api_categories },
	{ HTTP_GET, "/categories/{category_id}", api_get, 0, &api_categories },
	{ HTTP_PUT, "/categories/{category_id}", api_update, HTTP_ROUTE_OFFLOAD, &api_categories },
	{ HTTP_DELETE, "/categories/{category_id}", api_delete, HTTP_ROUTE_OFFLOAD, &api_categories },
	{ HTTP_GET, "/statistics", api_statistics, HTTP_ROUTE_CACHE, NULL },
	{ HTTP_GET, "/statistics/trends", api_statistics_trends, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_GET, "/statistics/authors", api_statistics_authors, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_GET, "/statistics/lifecycle", api_statistics_lifecycle, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_GET, "/auth/me", api_auth_me, 0, NULL },
	{ HTTP_GET, "/auth/tokens", api_token_list, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_POST, "/auth/tokens", api_token_create, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_DELETE, "/auth/tokens/{token_name}", api_token_revoke, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_GET, "/audit", api_audit, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_GET, "/export", api_export, HTTP_ROUTE_OFFLOAD, NULL },
	{ HTTP_GET | HTTP_POST, "/v1/graphql", api_graphql, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_GET | HTTP_POST, "/graphql", api_graphql, HTTP_ROUTE_OFFLOAD | HTTP_ROUTE_CACHE, NULL },
	{ HTTP_GET, "/openapi.json", api_openapi, 0, NULL },
	{ HTTP_GET, "/docs", api_docs, 0, NULL },
	{ HTTP_GET, "/redoc", api_redoc, 0, NULL },
	{ HTTP_GET, "/docs/{asset}", api_docs_asset, 0, NULL },
	{ HTTP_GET, "/graphiql", api_graphiql, 0, NULL },
	{ HTTP_GET, "/graphiql/{asset}", api_graphiql_asset, 0, NULL },
	{ HTTP_POST, "/render", api_render, 0, NULL },
	{ HTTP_GET, "/", api_dashboard, 0, NULL },
	{ HTTP_GET, "/web/{file}", api_dashboard_asset, 0, NULL },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
