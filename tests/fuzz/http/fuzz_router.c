/*
 * fuzz_router.c: route matching (http/router.c) over the real route table
 * (api/routes.c), with arbitrary methods and paths. The input is a method
 * name, a newline, then the path (up to a NUL); a method name that is not
 * one gives HTTP_OTHER, as http_method_parse says.
 *
 * Invariants, against a reference matcher that splits pattern and path at
 * '/': the route found is the first whose pattern matches the path and
 * whose methods include the method (HEAD counting as GET); otherwise
 * path_route is the first route matching the path with any method and
 * `allow` the union of those routes' methods, with no parameters. A match
 * has one non-empty parameter per "{name}" segment, without '/', named as
 * in the pattern, and putting them back into the pattern gives the path.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "api/api.h"
#include "http/router.h"
#include "lib/arena.h"
#include "lib/banned.h"

/* Whether segment `k` of `s` ('/'-separated, after the leading '/') exists: its bounds. */
static bool segment(const char *s, unsigned k, const char **from, size_t *len)
{
	if (*s != '/')
		return false;
	for (unsigned i = 0;; i++) {
		s++;
		size_t n = strcspn(s, "/");
		if (i == k) {
			*from = s, *len = n;
			return true;
		}
		s += n;
		if (!*s)
			return false;
	}
}

static unsigned nsegments(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '/';
	return n;
}

static bool is_param(const char *seg, size_t len)
{
	return len >= 2 && seg[0] == '{' && seg[len - 1] == '}';
}

/* The reference: same number of segments, literals equal, parameters non-empty. */
static bool ref_match(const char *pattern, const char *path)
{
	if (*path != '/' || nsegments(pattern) != nsegments(path))
		return false;
	for (unsigned k = 0; k < nsegments(pattern); k++) {
		const char *p, *s;
		size_t pl, sl;
		if (!segment(pattern, k, &p, &pl) || !segment(path, k, &s, &sl))
			return false;
		if (is_param(p, pl) ? sl == 0 : pl != sl || memcmp(p, s, pl))
			return false;
	}
	return true;
}

static void check_params(const struct http_route *r, const struct http_match *m, const char *path)
{
	char rebuilt[8192];
	size_t n = 0;
	unsigned np = 0;
	for (unsigned k = 0; k < nsegments(r->pattern); k++) {
		const char *p;
		size_t pl;
		FUZZ_CHECK(segment(r->pattern, k, &p, &pl));
		const char *piece = p;
		size_t len = pl;
		if (is_param(p, pl)) {
			FUZZ_CHECK(np < HTTP_MAX_PARAMS);
			const char *v = m->params[np], *name = m->param_names[np];
			FUZZ_CHECK(v && *v && !strchr(v, '/'));
			FUZZ_CHECK(name && strlen(name) == pl - 2 && !memcmp(name, p + 1, pl - 2));
			piece = v, len = strlen(v);
			np++;
		}
		FUZZ_CHECK(n + 1 + len < sizeof(rebuilt));
		rebuilt[n++] = '/';
		memcpy(rebuilt + n, piece, len);
		n += len;
	}
	rebuilt[n] = '\0';
	FUZZ_CHECK(!strcmp(rebuilt, path));
	for (unsigned i = np; i < HTTP_MAX_PARAMS; i++)
		FUZZ_CHECK(!m->params[i] && !m->param_names[i]);
}

static void fuzz_route(enum http_method method, const char *path)
{
	struct arena a = ARENA_INIT;
	struct http_match m;
	http_route_find(api_routes, api_nroutes, method, path, &a, &m);

	unsigned want = method == HTTP_HEAD ? HTTP_GET : (unsigned)method;
	const struct http_route *route = NULL, *path_route = NULL;
	unsigned allow = 0;
	for (size_t i = 0; i < api_nroutes && !route; i++) {
		const struct http_route *r = &api_routes[i];
		if (!ref_match(r->pattern, path))
			continue;
		if (!path_route)
			path_route = r;
		if (r->methods & want)
			route = path_route = r;
		else
			allow |= r->methods;
	}
	FUZZ_CHECK(m.route == route);
	if (route) {
		FUZZ_CHECK(m.path_route == route);
		check_params(route, &m, path);
	} else {
		FUZZ_CHECK(m.path_route == path_route);
		FUZZ_CHECK(m.allow == allow);
		FUZZ_CHECK(!(allow & want));
		for (unsigned i = 0; i < HTTP_MAX_PARAMS; i++)
			FUZZ_CHECK(!m.params[i] && !m.param_names[i]);
	}
	arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0; /* check_params rebuilds the path in a fixed buffer */
	char *in = fuzz_cstr(data, size);
	char *nl = strchr(in, '\n');
	const char *path = in;
	enum http_method method = HTTP_GET;
	if (nl) {
		*nl = '\0';
		method = http_method_parse(in);
		path = nl + 1;
	}
	fuzz_route(method, path);
	/* The same path with every method the server knows. */
	static const enum http_method all[] = {
		HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_PATCH, HTTP_HEAD, HTTP_OPTIONS,
		HTTP_OTHER,
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		fuzz_route(all[i], path);
	free(in);
	return 0;
}
