/*
 * router.c: the route matching of router.h.
 */
#include "http/router.h"

#include <string.h>

#include "lib/banned.h"

enum http_method http_method_parse(const char *name)
{
	static const struct {
		const char *name;
		enum http_method m;
	} methods[] = {
		{ "GET", HTTP_GET }, { "POST", HTTP_POST }, { "PUT", HTTP_PUT },
		{ "DELETE", HTTP_DELETE }, { "PATCH", HTTP_PATCH }, { "HEAD", HTTP_HEAD },
		{ "OPTIONS", HTTP_OPTIONS },
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(name, methods[i].name))
			return methods[i].m;
	return HTTP_OTHER;
}

/*
 * Matches `path` against `pattern` segment by segment. On a match, fills
 * the parameters of `out`.
 */
static bool http_match_path(const char *pattern, const char *path, struct arena *a,
			    struct http_match *out)
{
	const char *p = pattern, *s = path;
	const char *vals[HTTP_MAX_PARAMS], *names[HTTP_MAX_PARAMS];
	size_t vlen[HTTP_MAX_PARAMS], nlen[HTTP_MAX_PARAMS];
	unsigned n = 0;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++, s++;
		size_t pl = strcspn(p, "/"), sl = strcspn(s, "/");
		if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
			if (!sl || n == HTTP_MAX_PARAMS)
				return false;
			names[n] = p + 1;
			nlen[n] = pl - 2;
			vals[n] = s;
			vlen[n] = sl;
			n++;
		} else if (pl != sl || memcmp(p, s, pl)) {
			return false;
		}
		p += pl, s += sl;
	}
	if (*p || *s)
		return false;
	for (unsigned i = 0; i < n; i++) {
		out->params[i] = arena_strndup(a, vals[i], vlen[i]);
		out->param_names[i] = arena_strndup(a, names[i], nlen[i]);
	}
	return true;
}

void http_route_find(const struct http_route *routes, size_t nroutes, enum http_method method,
		     const char *path, struct arena *a, struct http_match *out)
{
	memset(out, 0, sizeof(*out));
	enum http_method m = method == HTTP_HEAD ? HTTP_GET : method;
	for (size_t i = 0; i < nroutes; i++) {
		const struct http_route *r = &routes[i];
		if (!http_match_path(r->pattern, path, a, out))
			continue;
		if (!out->path_route)
			out->path_route = r;
		if (r->methods & m) {
			out->path_route = r;
			out->route = r;
			return;
		}
		out->allow |= r->methods;
	}
	/* Parameters of paths that matched with another method do not count. */
	memset(out->params, 0, sizeof(out->params));
	memset(out->param_names, 0, sizeof(out->param_names));
}
