/*
 * router.h: matching a request's method and path against the route table
 * (http.h's struct http_route). No libmicrohttpd here: the server calls it,
 * and the unit tests call it directly.
 */
#ifndef INSIGHTS_ROUTER_H
#define INSIGHTS_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "lib/arena.h"

#define HTTP_MAX_PARAMS 4

struct http_match {
	/* The route matching method and path; NULL when none does. */
	const struct http_route *route;
	/*
	 * The route naming the endpoint: `route`, or for a wrong method the
	 * first route whose pattern matched the path; NULL for an unknown path.
	 */
	const struct http_route *path_route;
	/* When only paths matched: the methods of those routes (for a 405's Allow). */
	unsigned allow;
	/* Path parameters of `route`, in pattern order, copied into the arena. */
	const char *params[HTTP_MAX_PARAMS];
	const char *param_names[HTTP_MAX_PARAMS];
};

/* The method named `name` ("GET"); HTTP_OTHER for any other. */
enum http_method http_method_parse(const char *name);

/*
 * Finds the route for `method` and `path` (without its query string; a
 * trailing "/" is the caller's business). As in Starlette, a route matching
 * both wins over one matching only the path. HEAD matches GET routes. A
 * "{name}" segment of a pattern takes any non-empty segment.
 */
void http_route_find(const struct http_route *routes, size_t nroutes, enum http_method method,
		     const char *path, struct arena *a, struct http_match *out);

#endif
