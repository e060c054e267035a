/*
 * docs.c: the API's documentation, served from the binary itself:
 * GET /openapi.json (the OpenAPI document, src/api/openapi.json), GET /docs
 * (Swagger UI), GET /redoc (ReDoc) and GET /docs/{asset} (the scripts,
 * styles and icons those pages load), and GraphiQL for the GraphQL API at
 * GET /graphiql and GET /graphiql/{asset}. Everything comes from the table of
 * api/assets.h, embedded at build time, so the pages work on a network
 * without internet access.
 *
 * Caching: every answer carries its SHA-256 as a strong ETag and a matching
 * If-None-Match gets 304. The files under /docs/ come from pinned npm
 * packages and change only with the binary, so browsers may keep them for
 * an hour; the pages and the document are revalidated on every load
 * (no-cache), so a new binary shows a new document at once.
 *
 * The two HTML pages also carry a Content-Security-Policy that allows only
 * this origin (plus inline styles and data: images, which both UIs use, and
 * blob: workers, which ReDoc's search uses): a browser will not fetch
 * anything from the internet for them even if a bundle asks it to.
 *
 * Response memory: the embedded bytes live as long as the process, so they
 * are handed to the HTTP layer without a copy (http_respond_static); a 304
 * announces the representation's length without sending it.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "api/assets.h"
#include "api/handlers.h"
#include "lib/banned.h"

#define CACHE_VERSIONED "public, max-age=3600"
#define CACHE_REVALIDATE "no-cache"

#define PAGE_CSP                                                                           \
	"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "        \
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "                \
	"worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "                    \
	"form-action 'self'; frame-ancestors 'self'"

static const struct asset *asset_find(const char *path)
{
	for (size_t i = 0; i < assets_count; i++)
		if (!strcmp(assets[i].path, path))
			return &assets[i];
	return NULL;
}

/*
 * Answers with the embedded file served at `path`: 200 with the bytes, 304
 * when the client already holds them, 404 when there is no such file.
 */
static void serve(struct http_request *req, const char *path, const char *cache, bool page)
{
	const struct asset *a = asset_find(path);
	if (!a) {
		struct error err = ERROR_INIT;
		error_set(&err, E_NOTFOUND, "Not Found");
		api_fail(req, &err);
		return;
	}
	char etag[72];
	snprintf(etag, sizeof(etag), "\"%s\"", a->sha256);
	http_add_header(req, "ETag", etag);
	http_add_header(req, "Cache-Control", cache);
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	if (page)
		http_add_header(req, "Content-Security-Policy", PAGE_CSP);
	const char *inm = http_header(req, "If-None-Match");
	bool fresh = inm && http_etag_listed(inm, a->sha256);
	http_respond_static(req, fresh ? 304 : 200, a->data, a->len, fresh ? NULL : a->content_type);
}

/* GET /openapi.json */
void api_openapi(struct http_request *req)
{
	serve(req, "/openapi.json", CACHE_REVALIDATE, false);
}

/* GET /docs: Swagger UI. */
void api_docs(struct http_request *req)
{
	serve(req, "/docs", CACHE_REVALIDATE, true);
}

/* GET /redoc: ReDoc. */
void api_redoc(struct http_request *req)
{
	serve(req, "/redoc", CACHE_REVALIDATE, true);
}

/* GET /docs/{asset}: the files the two pages load. */
void api_docs_asset(struct http_request *req)
{
	serve(req, http_path(req), CACHE_VERSIONED, false);
}

/* GET /graphiql: GraphiQL, on /v1/graphql. */
void api_graphiql(struct http_request *req)
{
	serve(req, "/graphiql", CACHE_REVALIDATE, true);
}

/* GET /graphiql/{asset}: the files GraphiQL's page loads. */
void api_graphiql_asset(struct http_request *req)
{
	serve(req, http_path(req), CACHE_VERSIONED, false);
}
