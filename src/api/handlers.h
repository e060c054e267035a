/*
 * handlers.h: the REST handlers, one per route of routes.c.
 */
#ifndef INSIGHTS_HANDLERS_H
#define INSIGHTS_HANDLERS_H

#include "http/http.h"

void api_health(struct http_request *req);

/* Shared by insights, tags and categories; the route's data is the resource. */
struct resource;
extern const struct resource api_insights, api_tags, api_categories;
void api_create(struct http_request *req);
void api_get(struct http_request *req);
void api_update(struct http_request *req);
void api_delete(struct http_request *req);
void api_list(struct http_request *req);

void api_insight_list(struct http_request *req);
void api_insight_search(struct http_request *req);
/* POST /insights/similar; POST /insights (check_duplicates, then api_create). */
void api_insight_similar(struct http_request *req);
void api_insight_create(struct http_request *req);

void api_statistics(struct http_request *req);
void api_statistics_trends(struct http_request *req);
void api_statistics_authors(struct http_request *req);
/* lifecycle.c (issue 14) */
void api_statistics_lifecycle(struct http_request *req);
void api_insight_review(struct http_request *req);

void api_metrics(struct http_request *req);

/* Tokens, identity and the audit trail (admin.c). */
void api_token_list(struct http_request *req);
void api_token_create(struct http_request *req);
void api_token_revoke(struct http_request *req);
void api_auth_me(struct http_request *req);
void api_audit(struct http_request *req);
/* GET /export?format=jsonl: every category, tag and insight as JSON Lines, streamed. */
void api_export(struct http_request *req);

/* The GraphQL API (graphql.c): POST and GET /v1/graphql and /graphql. */
void api_graphql(struct http_request *req);
/* Appends graphql_operations_total to a metrics page. */
void api_graphql_metrics(struct buf *out);

/* API documentation (docs.c): the OpenAPI document, Swagger UI, ReDoc. */
void api_openapi(struct http_request *req);
void api_docs(struct http_request *req);
void api_redoc(struct http_request *req);
void api_docs_asset(struct http_request *req);
void api_graphiql(struct http_request *req);
void api_graphiql_asset(struct http_request *req);
/* The insight with rendered content, related insights, a Markdown preview (render.c). */
void api_insight_get(struct http_request *req);
void api_insight_related(struct http_request *req);
void api_render(struct http_request *req);
/* An insight's revisions and restores (revisions.c). */
void api_revision_list(struct http_request *req);
void api_revision_get(struct http_request *req);
void api_revision_restore(struct http_request *req);
void api_insight_restore(struct http_request *req);

/* The web dashboard (dashboard.c): the page and its files. */
void api_dashboard(struct http_request *req);
void api_dashboard_asset(struct http_request *req);
/* Whether an Accept-Encoding header value accepts gzip (NULL: no header, no). */
bool dashboard_accepts_gzip(const char *accept_encoding);

/* The server's observer: metrics and the request log line. */
void api_observe(void *app, const struct http_request *req);

#endif
