/*
 * handlers.h: the REST handlers, one per route of routes.c.
 */
#ifndef INSIGHTS_HANDLERS_H
#define INSIGHTS_HANDLERS_H

#include "http/http.h"

void api_health(struct http_request *req);

void api_insight_list(struct http_request *req);
void api_insight_create(struct http_request *req);
void api_insight_search(struct http_request *req);
void api_insight_get(struct http_request *req);
void api_insight_update(struct http_request *req);
void api_insight_delete(struct http_request *req);

void api_tag_list(struct http_request *req);
void api_tag_create(struct http_request *req);
void api_tag_get(struct http_request *req);
void api_tag_update(struct http_request *req);
void api_tag_delete(struct http_request *req);

void api_category_list(struct http_request *req);
void api_category_create(struct http_request *req);
void api_category_get(struct http_request *req);
void api_category_update(struct http_request *req);
void api_category_delete(struct http_request *req);

void api_statistics(struct http_request *req);
void api_statistics_trends(struct http_request *req);
void api_statistics_authors(struct http_request *req);

void api_metrics(struct http_request *req);
/* The server's observer: metrics and the request log line. */
void api_observe(void *app, const struct http_request *req);

#endif
