/*
 * codec.h: the JSON form of the domain types, both ways.
 *
 * Decoding reads a json-c object tree into a domain input, copying every
 * string into the request's arena (json-c owns the strings of its objects
 * and frees them with the tree, which the caller releases with
 * json_object_put as soon as decoding is done). Type problems are reported
 * with pydantic's types and messages at paths relative to the decoded
 * object ([field], [field, index]); the handler puts them under "body".
 * Value rules are core/validate.h's business.
 *
 * Encoding writes with the streaming writer (lib/jsonw.h), members in the
 * order the specification shows them.
 */
#ifndef INSIGHTS_CODEC_H
#define INSIGHTS_CODEC_H

#include <json-c/json.h>

#include "core/model.h"
#include "lib/arena.h"
#include "lib/error.h"
#include "lib/jsonw.h"

enum status decode_insight_input(json_object *o, struct arena *a, struct insight_input *in,
				 struct error *err);
enum status decode_tag_input(json_object *o, struct arena *a, struct tag_input *in,
			     struct error *err);
enum status decode_category_input(json_object *o, struct arena *a, struct category_input *in,
				  struct error *err);
/* A search request body into a filter (defaults: page 1, page_size 20). */
enum status decode_search(json_object *o, struct arena *a, struct insight_filter *f,
			  struct error *err);

void encode_tag(struct jsonw *w, const struct tag *t);
/* `counted`: include insight_count (category endpoints do; an insight's category does not). */
void encode_category(struct jsonw *w, const struct category *c, bool counted);
void encode_insight(struct jsonw *w, const struct insight *in);
/* The same with a last member "content_html" (omitted when NULL). */
void encode_insight_html(struct jsonw *w, const struct insight *in, const char *content_html);
void encode_insight_page(struct jsonw *w, const struct insight_page *p, int64_t page,
			 int64_t page_size);
void encode_statistics(struct jsonw *w, const struct statistics *s);
/* {"detail": [...]} for E_INVALID, {"detail": "..."} otherwise. */
void encode_error(struct jsonw *w, const struct error *err);

#endif
