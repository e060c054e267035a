/*
 * cors.c: the allowed origins of cors.h.
 */
#include "http/cors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "lib/banned.h"

int http_cors_init(struct http_cors *c, const char *list, bool credentials, char *why,
		   size_t whylen)
{
	*c = (struct http_cors){ .credentials = credentials };
	if (!list)
		list = credentials ? "" : "*";
	const char *p = list;
	while (*p) {
		p += strspn(p, " ,");
		size_t n = strcspn(p, ",");
		size_t trim = n;
		while (trim && p[trim - 1] == ' ')
			trim--;
		if (trim == 1 && p[0] == '*') {
			c->any = true;
		} else if (trim) {
			c->origins = xrealloc(c->origins, (c->norigins + 1) * sizeof(char *));
			c->origins[c->norigins++] = xstrndup(p, trim);
		}
		p += n;
	}
	if (c->any && credentials) {
		snprintf(why, whylen, "with authentication on, list the allowed origins in "
				      "INSIGHTS_CORS_ORIGINS (--cors-origins): '*' would let any "
				      "web site act with a signed-in user's credentials");
		return -1;
	}
	return 0;
}

void http_cors_release(struct http_cors *c)
{
	for (size_t i = 0; i < c->norigins; i++)
		free(c->origins[i]);
	free(c->origins);
	*c = (struct http_cors){ 0 };
}

const char *http_cors_origin_allowed(const struct http_cors *c, const char *origin)
{
	if (!origin)
		return NULL;
	if (c->any && !c->credentials)
		return "*";
	for (size_t i = 0; i < c->norigins; i++)
		if (!strcmp(c->origins[i], origin))
			return origin;
	return NULL;
}
