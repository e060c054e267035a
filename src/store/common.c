/*
 * common.c: the backend-neutral helpers of common.h.
 */
#include "store/common.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fault.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "lib/banned.h"

/* ---- decoding ------------------------------------------------------------ */

static const char *col_text(const struct store_row *r, int col, struct arena *a)
{
	size_t len;
	const char *v = r->ops->text(r->res, r->row, col, &len);
	return v ? arena_strndup(a, v, len) : NULL;
}

static int64_t col_int(const struct store_row *r, int col)
{
	return r->ops->int64(r->res, r->row, col);
}

void store_read_ts(const struct store_row *r, int col, char out[TS_SIZE])
{
	size_t n = 0;
	const char *v = r->ops->text(r->res, r->row, col, &n);
	out[0] = '\0';
	if (!v)
		return;
	if (n == 19 && v[10] == ' ') {
		memcpy(out, v, 19);
		out[10] = 'T';
		out[19] = 'Z';
		out[20] = '\0';
		return;
	}
	if (n >= TS_SIZE)
		n = TS_SIZE - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

void store_read_tag(const struct store_row *r, int base, struct arena *a, struct tag *t)
{
	t->id = col_int(r, base + TC_ID);
	t->name = col_text(r, base + TC_NAME, a);
	t->slug = col_text(r, base + TC_SLUG, a);
	t->description = col_text(r, base + TC_DESCRIPTION, a);
	t->color = col_text(r, base + TC_COLOR, a);
	store_read_ts(r, base + TC_CREATED_AT, t->created_at);
	t->usage_count = col_int(r, base + TC_USAGE_COUNT);
}

void store_read_category(const struct store_row *r, int base, bool counted, struct arena *a,
			 struct category *c)
{
	c->id = col_int(r, base + CC_ID);
	c->name = col_text(r, base + CC_NAME, a);
	c->slug = col_text(r, base + CC_SLUG, a);
	c->description = col_text(r, base + CC_DESCRIPTION, a);
	c->parent_id = col_int(r, base + CC_PARENT_ID);
	c->color = col_text(r, base + CC_COLOR, a);
	c->icon = col_text(r, base + CC_ICON, a);
	store_read_ts(r, base + CC_CREATED_AT, c->created_at);
	store_read_ts(r, base + CC_UPDATED_AT, c->updated_at);
	c->insight_count = counted ? col_int(r, base + CC_INSIGHT_COUNT) : 0;
}

/* A date column (YYYY-MM-DD, text on both dialects); "" for NULL. */
static void read_date(const struct store_row *r, int col, char out[DATE_SIZE])
{
	out[0] = '\0';
	if (r->ops->is_null(r->res, r->row, col))
		return;
	size_t len;
	const char *d = r->ops->text(r->res, r->row, col, &len);
	if (!d)
		return;
	if (len > DATE_SIZE - 1)
		len = DATE_SIZE - 1;
	memcpy(out, d, len);
	out[len] = '\0';
}

void store_read_insight(const struct store_row *r, int base, struct arena *a,
			struct insight *in)
{
	memset(in, 0, sizeof(*in));
	in->id = col_int(r, base + IC_ID);
	in->title = col_text(r, base + IC_TITLE, a);
	in->description = col_text(r, base + IC_DESCRIPTION, a);
	in->content = col_text(r, base + IC_CONTENT, a);
	in->source = col_text(r, base + IC_SOURCE, a);
	in->author = col_text(r, base + IC_AUTHOR, a);
	in->category_id = col_int(r, base + IC_CATEGORY_ID);
	size_t len;
	const char *p = r->ops->text(r->res, r->row, base + IC_PRIORITY, &len);
	if (!p || priority_parse(p, &in->priority))
		in->priority = PRIORITY_MEDIUM;
	const char *s = r->ops->text(r->res, r->row, base + IC_STATUS, &len);
	if (!s || lifecycle_parse(s, &in->status))
		in->status = LIFECYCLE_DRAFT;
	store_read_ts(r, base + IC_CREATED_AT, in->created_at);
	store_read_ts(r, base + IC_UPDATED_AT, in->updated_at);
	store_read_ts(r, base + IC_PUBLISHED_AT, in->published_at);
	in->revision = col_int(r, base + IC_REVISION);
	read_date(r, base + IC_REVIEW_BY, in->review_by);
	in->owner = col_text(r, base + IC_OWNER, a);
	store_read_ts(r, base + IC_REVIEWED_AT, in->reviewed_at);
	if (!r->ops->is_null(r->res, r->row, base + IC_CATEGORY + CC_ID)) {
		in->category = ARENA_NEW(a, struct category);
		store_read_category(r, base + IC_CATEGORY, false, a, in->category);
	}
}

/* ---- revisions ------------------------------------------------------------------ */

void store_read_revision(const struct store_row *r, struct arena *a,
			 struct insight_revision *out)
{
	memset(out, 0, sizeof(*out));
	struct insight *v = &out->v;
	v->id = col_int(r, RC_INSIGHT_ID);
	v->revision = col_int(r, RC_REVISION);
	v->title = col_text(r, RC_TITLE, a);
	v->description = col_text(r, RC_DESCRIPTION, a);
	v->content = col_text(r, RC_CONTENT, a);
	v->source = col_text(r, RC_SOURCE, a);
	v->author = col_text(r, RC_AUTHOR, a);
	v->category_id = col_int(r, RC_CATEGORY_ID);
	size_t len;
	const char *p = r->ops->text(r->res, r->row, RC_PRIORITY, &len);
	if (!p || priority_parse(p, &v->priority))
		v->priority = PRIORITY_MEDIUM;
	const char *s = r->ops->text(r->res, r->row, RC_STATUS, &len);
	if (!s || lifecycle_parse(s, &v->status))
		v->status = LIFECYCLE_DRAFT;
	store_read_ts(r, RC_CREATED_AT, v->created_at);
	store_read_ts(r, RC_UPDATED_AT, v->updated_at);
	store_read_ts(r, RC_PUBLISHED_AT, v->published_at);
	out->actor = col_text(r, RC_ACTOR, a);
	store_read_ts(r, RC_DELETED_AT, out->deleted_at);
	read_date(r, RC_REVIEW_BY, v->review_by);
	v->owner = col_text(r, RC_OWNER, a);
	store_read_ts(r, RC_REVIEWED_AT, v->reviewed_at);
	/* "[1,2,3]", written by store_ids_print: digits and commas. */
	const char *ids = r->ops->text(r->res, r->row, RC_TAG_IDS, &len);
	size_t n = 0;
	for (size_t i = 0; ids && i < len; i++)
		n += ids[i] >= '0' && ids[i] <= '9' && (i + 1 == len || ids[i + 1] < '0' || ids[i + 1] > '9');
	out->tag_ids = ARENA_NEW_ARRAY(a, int64_t, n ? n : 1);
	int64_t cur = 0;
	bool in_num = false;
	for (size_t i = 0; ids && i < len; i++) {
		if (ids[i] >= '0' && ids[i] <= '9') {
			cur = cur * 10 + (ids[i] - '0');
			in_num = true;
		} else if (in_num) {
			out->tag_ids[out->ntag_ids++] = cur;
			cur = 0;
			in_num = false;
		}
	}
	if (in_num)
		out->tag_ids[out->ntag_ids++] = cur;
}

/* ---- tags of several insights -------------------------------------------- */

void store_hang_tags(struct insight *items, size_t n, const struct tag_link *links,
		     size_t nlinks, struct arena *a)
{
	/* Links come grouped by insight id, ascending: find each group. */
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = nlinks;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (links[mid].insight_id < items[i].id)
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t end = lo;
		while (end < nlinks && links[end].insight_id == items[i].id)
			end++;
		items[i].ntags = end - lo;
		items[i].tags = NULL;
		if (!items[i].ntags)
			continue;
		items[i].tags = ARENA_NEW_ARRAY(a, struct tag, items[i].ntags);
		for (size_t k = lo; k < end; k++)
			items[i].tags[k - lo] = links[k].tag;
	}
}

void store_ids_print(struct buf *b, const int64_t *ids, size_t n, char open, char close)
{
	buf_addch(b, open);
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%" PRId64, i ? "," : "", ids[i]);
	buf_addch(b, close);
}

void store_item_ids_print(struct buf *b, const struct insight *items, size_t n, char open,
			  char close)
{
	buf_addch(b, open);
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%" PRId64, i ? "," : "", items[i].id);
	buf_addch(b, close);
}

/* ---- pages and searches --------------------------------------------------- */

bool store_page_offset(const struct insight_filter *f, int64_t total, int64_t *offset)
{
	return !__builtin_mul_overflow(f->page - 1, f->page_size, offset) && *offset < total;
}

void store_window_plan(unsigned window, int64_t total, int64_t offset, int64_t page_size,
		       struct window_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->split = window && total > (int64_t)window;
	if (!out->split) {
		out->a_offset = offset;
		out->a_limit = page_size;
		return;
	}
	int64_t w = (int64_t)window;
	if (offset < w) {
		out->a_offset = offset;
		out->a_limit = w - offset < page_size ? w - offset : page_size;
	}
	out->b_offset = offset > w ? offset - w : 0;
	out->b_limit = page_size - out->a_limit;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

bool store_next_word(const char **p, const char **word, size_t *len)
{
	const char *s = *p;
	while (*s && is_space(*s))
		s++;
	if (!*s) {
		*p = s;
		return false;
	}
	*word = s;
	while (*s && !is_space(*s))
		s++;
	*len = (size_t)(s - *word);
	*p = s;
	return true;
}

bool store_has_text(const struct insight_filter *f)
{
	const char *p = f->text, *w;
	size_t n;
	return p && store_next_word(&p, &w, &n);
}

bool store_needs_row_count(const struct insight_filter *f)
{
	return store_has_text(f) || f->author || f->ntag_ids || f->stale_before;
}

/* ---- statistics and trends ------------------------------------------------- */

void stats_begin(struct stats_acc *acc, struct statistics *out)
{
	memset(acc, 0, sizeof(*acc));
	memset(out, 0, sizeof(*out));
	acc->out = out;
}

void stats_count(struct stats_acc *acc, const char *status, const char *priority,
		 int64_t category_id, int64_t n)
{
	struct statistics *out = acc->out;
	enum lifecycle ls;
	enum priority pr;
	if (status && !lifecycle_parse(status, &ls))
		out->by_status[ls] += n;
	if (priority && !priority_parse(priority, &pr))
		out->by_priority[pr] += n;
	out->total_insights += n;
	if (!category_id) {
		acc->uncategorized += n;
		return;
	}
	size_t k = 0;
	while (k < acc->ncats && acc->cats[k].id != category_id)
		k++;
	if (k == acc->ncats) {
		if (acc->ncats == acc->cap) {
			acc->cap = acc->cap ? acc->cap * 2 : 16;
			acc->cats = xrealloc(acc->cats, acc->cap * sizeof(*acc->cats));
		}
		acc->cats[acc->ncats].id = category_id;
		acc->cats[acc->ncats++].n = 0;
	}
	acc->cats[k].n += n;
}

void stats_category(struct stats_acc *acc, struct arena *a, int64_t id, const char *name,
		    size_t len)
{
	struct statistics *out = acc->out;
	if (acc->nnames == acc->names_cap) {
		/* One spare slot for UNCATEGORIZED. */
		size_t cap = acc->names_cap ? acc->names_cap * 2 : 32;
		struct count_by_name *grown = ARENA_NEW_ARRAY(a, struct count_by_name, cap + 1);
		if (acc->nnames)
			memcpy(grown, out->by_category, acc->nnames * sizeof(*grown));
		out->by_category = grown;
		acc->names_cap = cap;
	}
	int64_t n = 0;
	for (size_t k = 0; k < acc->ncats; k++)
		if (acc->cats[k].id == id)
			n = acc->cats[k].n;
	out->by_category[acc->nnames++] =
		(struct count_by_name){ arena_strndup(a, name ? name : "", name ? len : 0), n };
}

void stats_finish(struct stats_acc *acc, struct arena *a)
{
	struct statistics *out = acc->out;
	if (!out->by_category)
		out->by_category = ARENA_NEW_ARRAY(a, struct count_by_name, 1);
	size_t n = acc->nnames;
	out->total_categories = (int64_t)n;
	out->ncategories_counted = n;
	if (acc->uncategorized) {
		size_t k = 0;
		while (k < n && strcmp(out->by_category[k].name, UNCATEGORIZED))
			k++;
		if (k < n) {
			out->by_category[k].count += acc->uncategorized;
		} else {
			out->by_category[n] = (struct count_by_name){ UNCATEGORIZED, acc->uncategorized };
			out->ncategories_counted++;
		}
	}
	stats_abandon(acc);
}

void stats_abandon(struct stats_acc *acc)
{
	free(acc->cats);
	acc->cats = NULL;
	acc->ncats = acc->cap = 0;
}

void store_trend_add(struct trend_day *days, size_t ndays, const char *day, const char *status,
		     int64_t n)
{
	enum lifecycle ls;
	if (!day || !status || lifecycle_parse(status, &ls))
		return;
	for (size_t i = 0; i < ndays; i++)
		if (!strcmp(days[i].date, day))
			days[i].by_status[ls] += n;
}

/* ---- migrations ------------------------------------------------------------------- */

bool store_migration_name(const char *path, int *version, char *name, size_t namelen)
{
	if (*path == '/')
		path++;
	size_t digits = strspn(path, "0123456789");
	size_t len = strlen(path);
	if (digits != 4 || path[4] != '_' || len < 10 || strcmp(path + len - 4, ".sql") || !namelen)
		return false;
	*version = (int)strtol(path, NULL, 10);
	size_t n = 0;
	for (const char *p = path + 5; p < path + len - 4 && n + 1 < namelen; p++)
		name[n++] = *p == '_' ? ' ' : *p;
	name[n] = '\0';
	return *version > 0 && n > 0;
}

/* ---- queries ------------------------------------------------------------------------- */

enum q_type store_agg_type(enum q_table table, const struct q_agg *agg)
{
	switch (agg->fn) {
	case QA_COUNT:
	case QA_COUNT_COLUMN:
	case QA_COUNT_DISTINCT:
		return QTY_INT;
	case QA_AVG:
		return QTY_FLOAT;
	case QA_SUM:
		return q_columns[table][agg->column].type == QTY_INT ? QTY_INT : QTY_FLOAT;
	case QA_MAX:
	case QA_MIN:
		return q_columns[table][agg->column].type;
	}
	return QTY_INT;
}

/* ---- fault injection ---------------------------------------------------------- */

enum status store_fault_halfway(struct error *err)
{
	if (fault_armed("store.write.halfway", NULL))
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	return OK;
}

/* ---- duplicate candidates ----------------------------------------------------------- */

size_t store_similar_pick(const int64_t *df, size_t n, size_t *pick)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (df[i] < 1 || df[i] >= STORE_SIMILAR_DF_CAP)
			continue;
		/* Insertion into the rarest-first list; equals keep the caller's order. */
		size_t at = k;
		while (at > 0 && df[pick[at - 1]] > df[i])
			at--;
		if (at >= STORE_SIMILAR_PICK)
			continue;
		size_t last = k < STORE_SIMILAR_PICK ? k : STORE_SIMILAR_PICK - 1;
		for (size_t j = last; j > at; j--)
			pick[j] = pick[j - 1];
		pick[at] = i;
		if (k < STORE_SIMILAR_PICK)
			k++;
	}
	return k;
}

double store_similar_weight(int64_t total, int64_t df)
{
	return log(((double)total + 1.0) / ((double)df + 0.5));
}

static int cmp_hit_id(const void *x, const void *y)
{
	const struct similar_hit *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int cmp_hit_rank(const void *x, const void *y)
{
	const struct similar_hit *a = x, *b = y;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return a->id > b->id ? -1 : a->id < b->id;
}

size_t store_similar_top(struct similar_hit *hits, size_t n, size_t limit, int64_t *ids)
{
	if (!n)
		return 0;
	/* Sum each id's weights, in the order of ids so that sums do not depend on the driver's. */
	qsort(hits, n, sizeof(*hits), cmp_hit_id);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && hits[k - 1].id == hits[i].id)
			hits[k - 1].weight += hits[i].weight;
		else
			hits[k++] = hits[i];
	}
	qsort(hits, k, sizeof(*hits), cmp_hit_rank);
	size_t m = k < limit ? k : limit;
	for (size_t i = 0; i < m; i++)
		ids[i] = hits[i].id;
	return m;
}
