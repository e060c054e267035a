/*
 * validate.h: the rules an input must meet before it reaches a store:
 * required fields, nullability, lengths in characters and formats. JSON
 * types are checked earlier, by the decoder; existence of referenced rows
 * (category_id, tag_ids, parent_id) later, by the store, inside the write's
 * transaction.
 *
 * Each function adds one problem per broken rule to `err` (locations are
 * "body.<field>"), skipping fields that already have a problem there (the
 * decoder's type problems come first), and returns err->status: E_INVALID
 * when `err` holds any problem, whoever added it.
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

/*
 * Problems about referenced rows, phrased identically by every store
 * driver. Each returns E_INVALID.
 */
enum status invalid_category_ref(struct error *err, const char *loc, int64_t id);
enum status invalid_tag_ref(struct error *err, int64_t id);
enum status invalid_parent_cycle(struct error *err, int64_t parent_id);

#endif
