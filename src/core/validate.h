/*
 * validate.h: the rules an input must meet before it reaches a store:
 * required fields, nullability, lengths in characters and formats. JSON
 * types are checked earlier, by the decoder; existence of referenced rows
 * (category_id, tag_ids, parent_id) later, by the store, inside the write's
 * transaction.
 *
 * Each function adds one problem per broken rule to `err` (at the path
 * [field], relative to the input), skipping fields that already have a
 * problem (the decoder's type problems come first), and returns
 * err->status: E_INVALID when `err` holds any problem, whoever added it.
 * Problems about referenced rows are worded in core/model.h.
 */
#ifndef INSIGHTS_VALIDATE_H
#define INSIGHTS_VALIDATE_H

#include <stdbool.h>

#include "core/model.h"
#include "lib/error.h"

enum status insight_input_check(const struct insight_input *in, bool create, struct error *err);
enum status tag_input_check(const struct tag_input *in, bool create, struct error *err);
enum status category_input_check(const struct category_input *in, bool create, struct error *err);

/* True when `s` is a color of the form #RRGGBB (hex digits, either case). */
bool color_valid(const char *s);
/* True when `s` is a calendar date YYYY-MM-DD (year 0001 to 9999, leap days checked). */
bool date_valid(const char *s);

#endif
