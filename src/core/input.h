/*
 * input.h: the domain's inputs decoded from JSON, for every front end: a
 * json-c object tree becomes a domain input, every string copied into the
 * request's arena (json-c owns the strings of its objects and frees them
 * with the tree, which the caller releases with json_object_put as soon as
 * decoding is done). Type problems are reported with pydantic's types and
 * messages at paths relative to the decoded object ([field], [field,
 * index]); the front end puts them where its clients expect them (REST
 * under "body", GraphQL at the argument's path). Value rules are
 * core/validate.h's business.
 */
#ifndef INSIGHTS_INPUT_H
#define INSIGHTS_INPUT_H

#include <json-c/json.h>

#include "core/model.h"
#include "lib/arena.h"
#include "lib/error.h"

enum status decode_insight_input(json_object *o, struct arena *a, struct insight_input *in,
				 struct error *err);
enum status decode_tag_input(json_object *o, struct arena *a, struct tag_input *in,
			     struct error *err);
enum status decode_category_input(json_object *o, struct arena *a, struct category_input *in,
				  struct error *err);
/* A search request body into a filter (defaults: page 1, page_size 20). */
enum status decode_search(json_object *o, struct arena *a, struct insight_filter *f,
			  struct error *err);

#endif
