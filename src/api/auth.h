/*
 * auth.h: authentication, rate limits and roles in front of the API, and
 * the table of what each endpoint and GraphQL root field needs.
 *
 * With authentication off every request acts as "anonymous", allowed
 * everything, and nothing is limited. With it on, a request names itself
 * with `Authorization: Bearer <credential>`: an API token (ins_..., looked
 * up by its hash, kept in a small cache for AUTH_CACHE_TTL_S seconds) or a
 * JWT (checked against the configured key). Then, in this order:
 *   - no or a bad credential on a route that needs one: 401, counted in a
 *     stricter bucket per client address (429 once it is empty);
 *   - the credential's bucket (the client address's when anonymous) is
 *     empty: 429 with Retry-After;
 *   - its role does not allow the route: 403.
 * Every limited answer carries RateLimit-Policy and RateLimit. Failures
 * and 403s are logged without the credential.
 */
#ifndef INSIGHTS_API_AUTH_H
#define INSIGHTS_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/access.h"
#include "http/http.h"

struct app;

struct api_auth_config {
	bool on;
	bool metrics_public;          /* /metrics needs no credential */
	const char *jwt_secret_file;  /* at most one of the three */
	const char *jwt_jwks_file;
	const char *jwt_public_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	const char *jwt_role_claim;
	const char *jwt_name_claim;
	const char *rate_limit;       /* "50/s"; "" or "0": no limit */
	unsigned rate_burst;
	const char *fail_limit;       /* failed authentications per address: "10/m" */
	unsigned audit_retention_days; /* 0: kept forever */
	unsigned revision_retention_days; /* deleted insights' revisions; 0: kept forever */
};

/* Seconds a token read from the database is trusted before it is read again. */
#define AUTH_CACHE_TTL_S 5

/*
 * Sets up app->auth (keys, buckets, the token cache) and starts the thread
 * that records tokens' last use and prunes the audit trail and the
 * idempotency keys (as often as they expire, at most hourly). Returns 0, or
 * -1 with a reason in `why` (a key file that cannot be used, a bad rate).
 */
int api_auth_start(struct app *app, const struct api_auth_config *cfg, char *why, size_t whylen);
void api_auth_stop(struct app *app);
/* Forgets cached tokens (after a revocation here). */
void api_auth_forget(struct app *app);

/* The server's gate (http.h): admission, and the actor around each handler. */
extern const struct http_gate api_gate;

/* gql_config.allowed: the access table, for the calling thread's actor. */
bool api_graphql_allowed(const char *op, const char *field);

/* The actor a request was admitted as. */
const struct actor *api_actor(struct http_request *req);

/* ---- the access table (access.c) ---------------------------------------- */

struct api_access_rule {
	const char *method;   /* "GET", ... or a GraphQL operation type: "query", "mutation" */
	const char *pattern;  /* a route's pattern, or a root field's name ("*": every field) */
	enum access need;
};
extern const struct api_access_rule api_access_rules[];
extern const size_t api_access_nrules;

/* What `route` needs for `method` (HEAD as GET); ACCESS_ADMIN when it has no entry. */
enum access api_route_access(const struct http_route *route, enum http_method method);
/* What root field `field` of an operation of type `operation` needs. */
enum access api_field_access(const char *operation, const char *field);

#endif
