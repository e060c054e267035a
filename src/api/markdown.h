/*
 * markdown.h: insight content (CommonMark) rendered as HTML that is safe to
 * put into a page: the one place that includes libcmark.
 *
 * Safe means: raw HTML in the source never reaches the output (cmark's safe
 * mode replaces it with a comment), and a link or image keeps its address
 * only when it is relative or uses http:, https: or mailto: (anything else,
 * javascript:, vbscript:, data: and file: included, becomes an empty
 * address). Text is escaped by cmark's renderer.
 */
#ifndef INSIGHTS_MARKDOWN_H
#define INSIGHTS_MARKDOWN_H

#include <stddef.h>

#include "lib/arena.h"

/*
 * Renders the `len` bytes of Markdown at `md` (UTF-8) and returns the HTML,
 * NUL-terminated, in `a`. Never fails (out of memory aborts).
 */
const char *markdown_html(const char *md, size_t len, struct arena *a);

#endif
