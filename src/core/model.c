/*
 * model.c: names of the enumerations and the rules that turn an input into
 * a row. These rules live here, not in a store driver, so that every driver
 * applies them identically.
 */
#include "core/model.h"

#include <inttypes.h>
#include <string.h>

#include "lib/banned.h"

static const char *const priority_names[PRIORITY_COUNT] = { "low", "medium", "high", "critical" };
static const char *const lifecycle_names[LIFECYCLE_COUNT] = { "draft", "published", "archived" };

const char *priority_name(enum priority p)
{
	return priority_names[p];
}

const char *lifecycle_name(enum lifecycle s)
{
	return lifecycle_names[s];
}

static int parse_name(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int priority_parse(const char *s, enum priority *out)
{
	int i = parse_name(s, priority_names, PRIORITY_COUNT);
	if (i < 0)
		return -1;
	*out = (enum priority)i;
	return 0;
}

int lifecycle_parse(const char *s, enum lifecycle *out)
{
	int i = parse_name(s, lifecycle_names, LIFECYCLE_COUNT);
	if (i < 0)
		return -1;
	*out = (enum lifecycle)i;
	return 0;
}

static void set_str(const char **dst, const struct opt_str *src)
{
	if (src->set)
		*dst = src->v;
}

static void copy_ts(char dst[TS_SIZE], const char *src)
{
	size_t n = strlen(src);
	if (n >= TS_SIZE)
		n = TS_SIZE - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The lifecycle rule for published_at, given the status before and after. */
static void follow_lifecycle(struct insight *row, enum lifecycle was, const char *now)
{
	if (row->status == LIFECYCLE_PUBLISHED && (was != LIFECYCLE_PUBLISHED || !row->published_at[0]))
		copy_ts(row->published_at, now);
	else if (row->status == LIFECYCLE_DRAFT)
		row->published_at[0] = '\0';
}

void insight_apply(struct insight *row, const struct insight_input *in, const char *now)
{
	enum lifecycle was = row->status;
	set_str(&row->title, &in->title);
	set_str(&row->description, &in->description);
	set_str(&row->content, &in->content);
	set_str(&row->source, &in->source);
	set_str(&row->author, &in->author);
	if (in->category_id.set)
		row->category_id = in->category_id.v;
	if (in->priority_set)
		row->priority = in->priority;
	if (in->status_set)
		row->status = in->status;
	set_str(&row->owner, &in->owner);
	if (in->review_by.set) {
		const char *d = in->review_by.v ? in->review_by.v : "";
		size_t n = strlen(d) < DATE_SIZE - 1 ? strlen(d) : DATE_SIZE - 1;
		memcpy(row->review_by, d, n);
		row->review_by[n] = '\0';
	}
	if (in->reviewed_at)
		copy_ts(row->reviewed_at, in->reviewed_at);
	if (!in->review)
		copy_ts(row->updated_at, now);
	follow_lifecycle(row, was, now);
	if (in->published_at)
		copy_ts(row->published_at, in->published_at);
	if (in->updated_at)
		copy_ts(row->updated_at, in->updated_at);
}

void insight_init(struct insight *row, const struct insight_input *in, const char *now)
{
	memset(row, 0, sizeof(*row));
	row->priority = PRIORITY_MEDIUM;
	row->status = LIFECYCLE_DRAFT;
	row->id = in->id;
	row->revision = in->revision ? in->revision : 1;
	copy_ts(row->created_at, in->created_at ? in->created_at : now);
	/* A restore keeps its creation time but is made now; a replay is made then. */
	insight_apply(row, in, in->created_at && !in->id ? in->created_at : now);
}

void tag_apply(struct tag *row, const struct tag_input *in)
{
	set_str(&row->name, &in->name);
	set_str(&row->slug, &in->slug);
	set_str(&row->description, &in->description);
	set_str(&row->color, &in->color);
}

void tag_init(struct tag *row, const struct tag_input *in, const char *now)
{
	memset(row, 0, sizeof(*row));
	row->id = in->id;
	copy_ts(row->created_at, in->created_at ? in->created_at : now);
	tag_apply(row, in);
}

void category_apply(struct category *row, const struct category_input *in, const char *now)
{
	set_str(&row->name, &in->name);
	set_str(&row->slug, &in->slug);
	set_str(&row->description, &in->description);
	set_str(&row->color, &in->color);
	set_str(&row->icon, &in->icon);
	if (in->parent_id.set)
		row->parent_id = in->parent_id.v;
	if (!row->created_at[0]) {
		row->id = in->id;
		copy_ts(row->created_at, in->created_at ? in->created_at : now);
	}
	copy_ts(row->updated_at, in->updated_at ? in->updated_at : now);
}

enum status problem_missing_category(struct error *err, const char *field, int64_t id)
{
	return error_invalid(err, field, "value_error",
			     "Value error, category %" PRId64 " does not exist", id);
}

enum status problem_missing_tag(struct error *err, int64_t id)
{
	return error_invalid(err, "tag_ids", "value_error",
			     "Value error, tag %" PRId64 " does not exist", id);
}

enum status problem_parent_cycle(struct error *err, int64_t parent_id)
{
	return error_invalid(err, "parent_id", "value_error",
			     "Value error, category %" PRId64
			     " is this category or one of its descendants: that would make a cycle",
			     parent_id);
}
