/*
 * dashboard.c: the web dashboard, served from the binary: GET / (the page)
 * and GET /web/{file} (its scripts, styles and the npm libraries it uses:
 * Chart.js, htm with Preact). The files come from api/web_assets.h.
 *
 * Each file is embedded twice, as is and gzip-compressed at build time; a
 * client whose Accept-Encoding accepts gzip gets the compressed bytes with
 * Content-Encoding: gzip. The two are different representations, so each
 * has its own strong ETag (the SHA-256 of the bytes sent) and every answer
 * says Vary: Accept-Encoding. Files are revalidated on every load
 * (no-cache; a 304 costs a round trip, not the bytes), so a new binary
 * shows a new dashboard at once.
 *
 * The page carries a strict Content-Security-Policy: scripts, styles,
 * images and API calls from this origin only, no inline script or style
 * element, no eval, no plugins, no framing. Every answer says nosniff and
 * no-referrer.
 *
 * Response memory: the embedded bytes live as long as the process and are
 * handed over without a copy (http_respond_static).
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/handlers.h"
#include "api/web_assets.h"
#include "lib/banned.h"

#define DASHBOARD_CSP                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "          \
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "         \
	"form-action 'none'; frame-ancestors 'none'"

/*
 * Whether an Accept-Encoding value accepts gzip (RFC 9110, 12.5.3): "gzip"
 * (or "x-gzip") with a q-value above 0, or else "*" with one. Codings are
 * case-insensitive; a malformed q counts as 1.
 */
bool dashboard_accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1; /* -1 absent, 0 refused, 1 accepted */
	while (ae && *ae) {
		size_t len = strcspn(ae, ",");
		const char *end = ae + len;
		while (ae < end && (*ae == ' ' || *ae == '\t'))
			ae++;
		size_t name = strcspn(ae, ";, \t");
		if (ae + name > end)
			name = (size_t)(end - ae);
		int ok = 1;
		const char *q = memchr(ae, ';', (size_t)(end - ae));
		for (; q && q < end; q = memchr(q + 1, ';', (size_t)(end - q - 1))) {
			const char *p = q + 1;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
				/* q=0, 0.0, 0.00, 0.000: refused; any other weight: accepted. */
				const char *d = p + 2;
				ok = 0;
				if (d < end && *d == '0') {
					d++;
					if (d < end && *d == '.')
						for (d++; d < end && *d >= '0' && *d <= '9'; d++)
							if (*d != '0')
								ok = 1;
				} else {
					ok = 1;
				}
				break;
			}
		}
		if ((name == 4 && !strncasecmp(ae, "gzip", 4)) || (name == 6 && !strncasecmp(ae, "x-gzip", 6)))
			gzip = ok;
		else if (name == 1 && *ae == '*')
			star = ok;
		ae = *end ? end + 1 : end;
	}
	return gzip >= 0 ? gzip == 1 : star == 1;
}

static void serve(struct http_request *req, const char *path, bool page)
{
	size_t i;
	for (i = 0; i < web_assets_count; i++)
		if (!strcmp(web_assets[i].path, path))
			break;
	if (i == web_assets_count) {
		struct error err = ERROR_INIT;
		error_set(&err, E_NOTFOUND, "Not Found");
		api_fail(req, &err);
		return;
	}
	const struct asset *a = &web_assets[i];
	bool gz = false;
	if (i < web_assets_gz_count && web_assets_gz[i].len < a->len &&
	    dashboard_accepts_gzip(http_header(req, "Accept-Encoding"))) {
		a = &web_assets_gz[i];
		gz = true;
	}
	char etag[72];
	snprintf(etag, sizeof(etag), "\"%s\"", a->sha256);
	http_add_header(req, "ETag", etag);
	http_add_header(req, "Cache-Control", "no-cache");
	http_add_header(req, "Vary", "Accept-Encoding");
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	http_add_header(req, "Referrer-Policy", "no-referrer");
	if (gz)
		http_add_header(req, "Content-Encoding", "gzip");
	if (page)
		http_add_header(req, "Content-Security-Policy", DASHBOARD_CSP);
	const char *inm = http_header(req, "If-None-Match");
	bool fresh = inm && http_etag_listed(inm, a->sha256);
	http_respond_static(req, fresh ? 304 : 200, a->data, a->len, fresh ? NULL : a->content_type);
}

/* GET /: the dashboard's page. */
void api_dashboard(struct http_request *req)
{
	serve(req, "/", true);
}

/* GET /web/{file}: the files the page loads. */
void api_dashboard_asset(struct http_request *req)
{
	serve(req, http_path(req), false);
}
