/*
 * model.h: the domain types of insights, shared by every layer.
 *
 * Rows read from a store (struct insight, tag, category) point into the
 * caller's arena: they live as long as the request that read them. Nullable
 * text fields are NULL when absent; nullable ids are 0 (ids start at 1);
 * nullable timestamps are "" (an empty string).
 *
 * Inputs (struct *_input) distinguish a field that was not given (`set` is
 * false: keep the old value on update, use the default on create) from one
 * given as null (`set` is true and the value is NULL or 0).
 */
#ifndef INSIGHTS_MODEL_H
#define INSIGHTS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/clock.h"
#include "lib/error.h"

enum priority { PRIORITY_LOW, PRIORITY_MEDIUM, PRIORITY_HIGH, PRIORITY_CRITICAL };
#define PRIORITY_COUNT 4

enum lifecycle { LIFECYCLE_DRAFT, LIFECYCLE_PUBLISHED, LIFECYCLE_ARCHIVED };
#define LIFECYCLE_COUNT 3

/* Names as they appear in JSON and in the database. */
const char *priority_name(enum priority p);
const char *lifecycle_name(enum lifecycle s);
/* Parse a name; return 0, or -1 when it is not one of the values. */
int priority_parse(const char *s, enum priority *out);
int lifecycle_parse(const char *s, enum lifecycle *out);

/* Field limits from the schema tables, in characters. */
#define TITLE_MAX 500
#define AUTHOR_MAX 255
#define SOURCE_MAX 255
/* An insight's owner (issue 14), in characters. */
#define OWNER_MAX 255
/* "2026-03-31" and its terminating NUL: review_by. */
#define DATE_SIZE 11
#define TAG_NAME_MAX 50
#define CATEGORY_NAME_MAX 100
#define ICON_MAX 50
/*
 * An insight's content, in characters: at most 256 KiB of UTF-8, which
 * bounds the memory a page of insights takes (100 of them: 25 MiB at most).
 */
#define CONTENT_MAX 65536
#define SEARCH_QUERY_MAX 1000
#define PAGE_SIZE_MAX 100
#define PAGE_SIZE_DEFAULT 20
#define LIST_LIMIT_MAX 100
#define LIST_LIMIT_DEFAULT 100
/* GET /insights/{id}/related?limit */
#define RELATED_LIMIT_MAX 50
#define RELATED_LIMIT_DEFAULT 5

struct tag {
	int64_t id;
	const char *name;
	const char *slug;
	const char *description;
	const char *color;
	char created_at[TS_SIZE];
	int64_t usage_count;
};

struct category {
	int64_t id;
	const char *name;
	const char *slug;
	const char *description;
	int64_t parent_id;
	const char *color;
	const char *icon;
	char created_at[TS_SIZE];
	char updated_at[TS_SIZE];
	int64_t insight_count;
};

struct insight {
	int64_t id;
	const char *title;
	const char *description;
	const char *content;
	const char *source;
	const char *author;
	int64_t category_id;
	enum priority priority;
	enum lifecycle status;
	char created_at[TS_SIZE];
	char updated_at[TS_SIZE];
	char published_at[TS_SIZE];
	int64_t revision;            /* 1 when created; moves on every change */
	/*
	 * Lifecycle (issue 14): the date by which it should be reviewed
	 * (YYYY-MM-DD, "" when none), who owns it (NULL: nobody), when it was
	 * last reviewed ("" never).
	 */
	char review_by[DATE_SIZE];
	const char *owner;
	char reviewed_at[TS_SIZE];
	struct tag *tags;            /* ordered by tag id */
	size_t ntags;
	struct category *category;   /* NULL when category_id is 0 */
};

struct opt_str {
	bool set;
	const char *v; /* NULL: given as null */
};

struct opt_id {
	bool set;
	int64_t v; /* 0: given as null */
};

struct insight_input {
	struct opt_str title, description, content, source, author;
	struct opt_str review_by, owner; /* review_by: YYYY-MM-DD */
	struct opt_id category_id;
	bool priority_set;
	enum priority priority;
	bool status_set;
	enum lifecycle status;
	bool tag_ids_set;
	int64_t *tag_ids; /* sorted ascending, no duplicates */
	size_t ntag_ids;
	/*
	 * Creation time for trusted callers that replay history (the seed
	 * command, imports); NULL: now. Never decoded from a request.
	 */
	const char *created_at;
	/*
	 * Restores (core/service.c), never decoded from a request: `id` makes
	 * a create bring back a deleted insight under its id (0: a new id),
	 * `revision` the revision it starts at (0: 1), and `published_at`
	 * replaces what the lifecycle rule would give (NULL: the rule; "": none).
	 */
	int64_t id;
	int64_t revision;
	const char *published_at;
	/* Imports (core/transfer.c): the update time to keep (NULL: the rule's, now). */
	const char *updated_at;
	/*
	 * Reviews and restores, never decoded from a request: `reviewed_at`
	 * replaces the time of the last review (NULL: kept; "": none), and
	 * `review` marks the change as a review, which leaves updated_at as it
	 * was (a review is not an edit).
	 */
	const char *reviewed_at;
	bool review;
};

/*
 * A revision of an insight: its fields as they were at `v.revision` (v.tags
 * unused), the ids of its tags, who made it (NULL: unknown, for versions
 * made before revisions were kept or by a bulk load) and, while the insight
 * is deleted, when it was ("" otherwise). The time it was made is
 * v.updated_at: every change sets it.
 */
struct insight_revision {
	struct insight v;
	int64_t *tag_ids;            /* ascending */
	size_t ntag_ids;
	const char *actor;
	char deleted_at[TS_SIZE];
};

struct revision_page {
	int64_t total;
	struct insight_revision *items;   /* newest first */
	size_t n;
};

struct tag_input {
	struct opt_str name, slug, description, color;
	/*
	 * Imports (core/transfer.c), never decoded from a request: the id a
	 * create uses (0: a new one) and the creation time it keeps (NULL: now).
	 */
	int64_t id;
	const char *created_at;
};

struct category_input {
	struct opt_str name, slug, description, color, icon;
	struct opt_id parent_id;
	/*
	 * Imports (core/transfer.c), never decoded from a request: the id a
	 * create uses (0: a new one), the creation time it keeps and the
	 * update time a create or update keeps (NULL: now).
	 */
	int64_t id;
	const char *created_at;
	const char *updated_at;
};

/*
 * What to list or search. `text` is the user's search text as given (the
 * store turns it into a safe full-text query); NULL or blank means no text
 * condition. A negative status/priority and a 0 category_id mean "any".
 * `after_ts` (with `after_id`) starts a list without text after that key
 * of its order (created_at, id, newest first): keyset pagination, `page`
 * then counting from there; `total` still counts every match of the filter.
 */
struct insight_filter {
	const char *text;
	int status;
	int priority;
	int64_t category_id;
	const char *author;        /* case-insensitive substring; NULL: any */
	const int64_t *tag_ids;    /* an insight must carry all of them */
	size_t ntag_ids;
	/*
	 * Stale insights only (GET /insights?stale=true) when not NULL: those
	 * not archived whose review_by is before `today` (YYYY-MM-DD), and the
	 * published ones neither updated nor reviewed since `stale_before` (a
	 * timestamp).
	 */
	const char *stale_before;
	const char *today;
	int64_t page;              /* >= 1 */
	int64_t page_size;         /* 1..PAGE_SIZE_MAX */
	const char *after_ts;      /* a created_at as the API writes it; NULL: from the start */
	int64_t after_id;
};

struct insight_page {
	int64_t total;
	struct insight *items;
	size_t n;
};

struct range {
	int64_t skip;
	int64_t limit;
};

struct count_by_name {
	const char *name;
	int64_t count;
};

struct statistics {
	int64_t total_insights;
	int64_t by_status[LIFECYCLE_COUNT];
	int64_t by_priority[PRIORITY_COUNT];
	struct count_by_name *by_category; /* ordered by category name */
	size_t ncategories_counted;
	int64_t total_tags;
	int64_t total_categories;
	struct insight *recent;            /* newest first */
	size_t nrecent;
	/* Published insights neither updated nor reviewed for --stale-after (issue 14). */
	int64_t stale_insights;
};

#define STATS_RECENT 5
#define UNCATEGORIZED "Uncategorized"

struct trend_day {
	char date[11]; /* YYYY-MM-DD */
	int64_t by_status[LIFECYCLE_COUNT];
};

/* A tag of an insight: a batch read of several insights' tags returns these. */
struct tag_link {
	int64_t insight_id;
	struct tag tag;
};

struct tag_fix {
	int64_t id;
	const char *name;
	int64_t was;
	int64_t now;
};

/*
 * Applies an update to a stored insight: the fields set in `in` replace
 * those of `row`, `updated_at` becomes `now`, and published_at follows the
 * lifecycle rule (set when the insight becomes published, kept when it is
 * archived, cleared when it returns to draft). Strings of `in` are borrowed.
 * Tags are not touched: the store replaces them when in->tag_ids_set.
 */
void insight_apply(struct insight *row, const struct insight_input *in, const char *now);

/*
 * Fills a new insight from a create input: defaults for absent fields, both
 * timestamps `now` (or in->created_at when given), published_at the same
 * when created published.
 */
void insight_init(struct insight *row, const struct insight_input *in, const char *now);

void tag_apply(struct tag *row, const struct tag_input *in);
/* Fills a new tag from a create input: its id (0: new) and created_at (in's, or `now`). */
void tag_init(struct tag *row, const struct tag_input *in, const char *now);

/*
 * Problems about the rows an input refers to, found by a store inside the
 * write's transaction and worded here once for every driver. Paths are
 * relative to the input ([field], ["tag_ids"]). Each returns E_INVALID.
 */
enum status problem_missing_category(struct error *err, const char *field, int64_t id);
enum status problem_missing_tag(struct error *err, int64_t id);
enum status problem_parent_cycle(struct error *err, int64_t parent_id);
/*
 * Applies a create or update input to a category: the fields set replace
 * the row's, updated_at becomes `now` (in->updated_at when given), and a
 * new row (no created_at yet) takes in->id and in->created_at (or `now`).
 */
void category_apply(struct category *row, const struct category_input *in, const char *now);

#endif
