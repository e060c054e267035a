/*
 * markdown.c: CommonMark to safe HTML with Debian's libcmark (see
 * markdown.h for what "safe" promises).
 *
 * cmark's safe mode (the default since 0.29; CMARK_OPT_SAFE is named for
 * older versions) drops raw HTML and blanks javascript:, vbscript:, file:
 * and most data: addresses. It still lets data:image/png and friends
 * through; the address check here is an allowlist instead, run over the
 * parsed tree before rendering, so that only schemes a reader can follow
 * safely survive.
 *
 * Memory: cmark allocates with malloc; its tree is freed with
 * cmark_node_free and the rendered string with free, after it is copied
 * into the request's arena.
 */
#include "api/markdown.h"

#include <cmark.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/banned.h"

/*
 * Whether a link address may be kept: no scheme (a relative reference, a
 * fragment), or exactly http, https or mailto. A scheme is what precedes
 * the first ':' when no '/', '?' or '#' comes before it; a "scheme" with
 * any character a scheme cannot hold (a tab or a space that a browser
 * would strip: "java\tscript:") counts as unsafe.
 */
static bool url_allowed(const char *url)
{
	size_t n = strcspn(url, ":/?#");
	if (url[n] != ':')
		return true;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
		if (!ok)
			return false;
	}
	return (n == 4 && !strncasecmp(url, "http", 4)) || (n == 5 && !strncasecmp(url, "https", 5)) ||
	       (n == 6 && !strncasecmp(url, "mailto", 6));
}

const char *markdown_html(const char *md, size_t len, struct arena *a)
{
	int options = CMARK_OPT_DEFAULT | CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8;
	cmark_node *doc = cmark_parse_document(md, len, options);
	if (!doc)
		abort(); /* cmark fails only when out of memory */
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *node = cmark_iter_get_node(it);
		cmark_node_type type = cmark_node_get_type(node);
		if (ev != CMARK_EVENT_ENTER || (type != CMARK_NODE_LINK && type != CMARK_NODE_IMAGE))
			continue;
		const char *url = cmark_node_get_url(node);
		if (url && !url_allowed(url))
			cmark_node_set_url(node, "");
	}
	cmark_iter_free(it);
	char *html = cmark_render_html(doc, options);
	cmark_node_free(doc);
	if (!html)
		abort();
	const char *out = arena_strdup(a, html);
	free(html);
	return out;
}
