/*
 * access.c: the one table of what each endpoint and each GraphQL root field
 * needs (core/access.h's enum access). The server's gate (api/auth.c)
 * reads it for every request; the GraphQL executor for every root field of
 * an operation. A unit test checks that every route of routes.c has an
 * entry and every entry a route, and the black-box suite walks it for
 * every role.
 */
#include "api/auth.h"

#include <string.h>

#include "lib/banned.h"

const struct api_access_rule api_access_rules[] = {
	/* Probes, documentation and the dashboard's files. */
	{ "GET", "/health", ACCESS_OPEN },
	{ "GET", "/openapi.json", ACCESS_OPEN },
	{ "GET", "/docs", ACCESS_OPEN },
	{ "GET", "/redoc", ACCESS_OPEN },
	{ "GET", "/docs/{asset}", ACCESS_OPEN },
	{ "GET", "/graphiql", ACCESS_OPEN },
	{ "GET", "/graphiql/{asset}", ACCESS_OPEN },
	{ "GET", "/", ACCESS_OPEN },
	{ "GET", "/web/{file}", ACCESS_OPEN },
	/* Scrapers. */
	{ "GET", "/metrics", ACCESS_METRICS },
	/* Reads. */
	{ "GET", "/insights", ACCESS_READ },
	{ "POST", "/insights/search", ACCESS_READ },
	{ "POST", "/insights/similar", ACCESS_READ },
	{ "GET", "/insights/{insight_id}", ACCESS_READ },
	{ "GET", "/insights/{insight_id}/related", ACCESS_READ },
	{ "GET", "/insights/{insight_id}/revisions", ACCESS_READ },
	{ "GET", "/insights/{insight_id}/revisions/{revision}", ACCESS_READ },
	{ "GET", "/tags", ACCESS_READ },
	{ "GET", "/tags/{tag_id}", ACCESS_READ },
	{ "GET", "/categories", ACCESS_READ },
	{ "GET", "/categories/{category_id}", ACCESS_READ },
	{ "GET", "/statistics", ACCESS_READ },
	{ "GET", "/statistics/trends", ACCESS_READ },
	{ "GET", "/statistics/authors", ACCESS_READ },
	{ "GET", "/statistics/lifecycle", ACCESS_READ },
	{ "POST", "/render", ACCESS_READ },
	{ "GET", "/auth/me", ACCESS_READ },
	/* GraphQL: the transport needs a reader; each root field its own (below). */
	{ "GET", "/v1/graphql", ACCESS_READ },
	{ "POST", "/v1/graphql", ACCESS_READ },
	{ "GET", "/graphql", ACCESS_READ },
	{ "POST", "/graphql", ACCESS_READ },
	/* Writes. */
	{ "POST", "/insights", ACCESS_WRITE },
	{ "PUT", "/insights/{insight_id}", ACCESS_WRITE },
	{ "DELETE", "/insights/{insight_id}", ACCESS_WRITE },
	{ "POST", "/insights/{insight_id}/revisions/{revision}/restore", ACCESS_WRITE },
	{ "POST", "/insights/{insight_id}/restore", ACCESS_WRITE },
	{ "POST", "/insights/{insight_id}/review", ACCESS_WRITE },
	{ "POST", "/tags", ACCESS_WRITE },
	{ "PUT", "/tags/{tag_id}", ACCESS_WRITE },
	{ "DELETE", "/tags/{tag_id}", ACCESS_WRITE },
	{ "POST", "/categories", ACCESS_WRITE },
	{ "PUT", "/categories/{category_id}", ACCESS_WRITE },
	{ "DELETE", "/categories/{category_id}", ACCESS_WRITE },
	/* Administration. */
	{ "GET", "/auth/tokens", ACCESS_ADMIN },
	{ "POST", "/auth/tokens", ACCESS_ADMIN },
	{ "DELETE", "/auth/tokens/{token_name}", ACCESS_ADMIN },
	{ "GET", "/audit", ACCESS_ADMIN },
	{ "GET", "/export", ACCESS_ADMIN },
	/* GraphQL root fields, by operation type ("*": every field of it). */
	{ "query", "*", ACCESS_READ },
	{ "mutation", "*", ACCESS_WRITE },
};

const size_t api_access_nrules = sizeof(api_access_rules) / sizeof(api_access_rules[0]);

static const char *method_word(unsigned m)
{
	switch (m) {
	case HTTP_GET: return "GET";
	case HTTP_POST: return "POST";
	case HTTP_PUT: return "PUT";
	case HTTP_DELETE: return "DELETE";
	case HTTP_PATCH: return "PATCH";
	}
	return "";
}

enum access api_route_access(const struct http_route *route, enum http_method method)
{
	/* HEAD is answered as GET. */
	unsigned m = method == HTTP_HEAD ? HTTP_GET : (unsigned)method;
	const char *word = method_word(m);
	for (size_t i = 0; i < api_access_nrules; i++) {
		const struct api_access_rule *r = &api_access_rules[i];
		if (!strcmp(r->method, word) && !strcmp(r->pattern, route->pattern))
			return r->need;
	}
	return ACCESS_ADMIN; /* a route without an entry: only admins (and a failing unit test) */
}

enum access api_field_access(const char *operation, const char *field)
{
	enum access need = ACCESS_ADMIN;
	for (size_t i = 0; i < api_access_nrules; i++) {
		const struct api_access_rule *r = &api_access_rules[i];
		if (strcmp(r->method, operation))
			continue;
		if (!strcmp(r->pattern, field))
			return r->need;
		if (!strcmp(r->pattern, "*"))
			need = r->need;
	}
	return need;
}
