/*
 * cors.h: which origins may read the API's answers from a browser
 * (http_config's cors_origins and credentials). No libmicrohttpd here: the
 * server calls it, and the unit tests call it directly.
 *
 * Without credentials (authentication off), the default is any origin
 * ("*"). With credentials, a browser would let a page of an allowed origin
 * act with the signed-in user's token, so only origins listed by name are
 * allowed: the default is none, and "*" is refused at start.
 */
#ifndef INSIGHTS_CORS_H
#define INSIGHTS_CORS_H

#include <stdbool.h>
#include <stddef.h>

struct http_cors {
	bool any;         /* every origin, answered "*" */
	bool credentials;
	char **origins;   /* listed origins, compared exactly */
	size_t norigins;
};

/*
 * Reads `list`: NULL (the option was not set) is "*" without credentials
 * and nothing with them; "" is nothing (CORS off); otherwise "*" or a
 * comma-separated list of origins. Returns 0, or -1 with a sentence in
 * `why` when `list` allows any origin although `credentials` is true.
 * Release with http_cors_release() either way.
 */
int http_cors_init(struct http_cors *c, const char *list, bool credentials, char *why,
		   size_t whylen);
void http_cors_release(struct http_cors *c);

/*
 * The Access-Control-Allow-Origin value for a request from `origin` (its
 * Origin header, NULL when absent): "*", `origin` itself when it is listed,
 * or NULL when the answer must carry no CORS headers.
 */
const char *http_cors_origin_allowed(const struct http_cors *c, const char *origin);

#endif
