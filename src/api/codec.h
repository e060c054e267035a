/*
 * codec.h: the JSON form of the domain types, both ways: decoding is
 * core/input.h's (shared with the GraphQL API), encoding is here.
 *
 * Encoding writes with the streaming writer (lib/jsonw.h), members in the
 * order the specification shows them.
 */
#ifndef INSIGHTS_CODEC_H
#define INSIGHTS_CODEC_H

#include <json-c/json.h>

#include "core/input.h"
#include "core/model.h"
#include "lib/arena.h"
#include "lib/error.h"
#include "lib/jsonw.h"

void encode_tag(struct jsonw *w, const struct tag *t);
/* `counted`: include insight_count (category endpoints do; an insight's category does not). */
void encode_category(struct jsonw *w, const struct category *c, bool counted);
void encode_insight(struct jsonw *w, const struct insight *in);
/* The same with a last member "content_html" (omitted when NULL). */
void encode_insight_html(struct jsonw *w, const struct insight *in, const char *content_html);
/* A revision: the insight's fields as they were, tag_ids, actor, deleted_at. */
void encode_revision(struct jsonw *w, const struct insight_revision *r);
/* {"total", "page", "page_size", "revisions": [...]} */
void encode_revision_page(struct jsonw *w, const struct revision_page *p, int64_t page,
			  int64_t page_size);
/*
 * {"total", "page", "page_size", "insights": [...]}, and "cursor" (the key
 * of the page's last insight, see cursor_format) when `cursor` is set and
 * the page is full: a list's keyset pagination.
 */
void encode_insight_page(struct jsonw *w, const struct insight_page *p, int64_t page,
			 int64_t page_size, bool cursor);

/* A keyset cursor: "YYYYMMDDhhmmss.ID", created_at and id of an insight. */
#define CURSOR_SIZE 40
void cursor_format(const struct insight *in, char out[CURSOR_SIZE]);
/*
 * Reads a cursor of cursor_format into `ts` (a created_at as the API
 * writes it) and `id`; false when `s` is not one.
 */
bool cursor_parse(const char *s, char ts[TS_SIZE], int64_t *id);
void encode_statistics(struct jsonw *w, const struct statistics *s);
/* {"detail": [...]} for E_INVALID, {"detail": "..."} otherwise. */
void encode_error(struct jsonw *w, const struct error *err);

#endif
