/*
 * test_query.c: reads in core/query.h's form (store_select,
 * store_aggregate) and batches, through the service layer, on a fresh
 * SQLite file and on PostgreSQL when TEST_PG_STORE_URL names a database.
 * Every row this suite makes carries a name unique to the run, and every
 * query filters on it, so a shared database's other rows do not matter.
 */
#include "t.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/service.h"
#include "store/store.h"

struct fx {
	struct store *st;
	struct service svc;
	struct arena a;
	char path[64];
	char run[24];          /* unique to this run: the author of every insight */
	int64_t cat_tech, cat_db;  /* Technical, and its child Databases */
	int64_t tag_sec, tag_perf, tag_none;
	int64_t ins[5];
};

static struct opt_str str(const char *v)
{
	return (struct opt_str){ .set = true, .v = v };
}

static const char *name(struct fx *f, const char *base)
{
	char *s = arena_alloc(&f->a, 64);
	snprintf(s, 64, "%s-%s", base, f->run);
	return s;
}

static int64_t tag(struct fx *f, const char *base)
{
	struct tag_input in = { .name = str(name(f, base)), .slug = str(name(f, base)) };
	struct tag t = { 0 };
	struct error e = ERROR_INIT;
	CHECK(svc_tag_create(&f->svc, &f->a, &in, &t, &e) == OK);
	return t.id;
}

static int64_t category(struct fx *f, const char *base, int64_t parent)
{
	struct category_input in = { .name = str(name(f, base)), .slug = str(name(f, base)),
				     .parent_id = { parent != 0, parent } };
	struct category c = { 0 };
	struct error e = ERROR_INIT;
	CHECK(svc_category_create(&f->svc, &f->a, &in, &c, &e) == OK);
	return c.id;
}

static int64_t insight(struct fx *f, const char *title, const char *content, int64_t cat,
		       enum priority p, int64_t *tags, size_t ntags)
{
	struct insight_input in = { .title = str(title), .description = str("d"),
				    .content = str(content), .author = str(f->run),
				    .category_id = { cat != 0, cat }, .priority_set = true,
				    .priority = p, .tag_ids_set = ntags > 0, .tag_ids = tags,
				    .ntag_ids = ntags };
	struct insight out = { 0 };
	struct error e = ERROR_INIT;
	CHECK(svc_insight_create(&f->svc, &f->a, &in, &out, &e) == OK);
	return out.id;
}

/* The condition author = this run's, on insights. */
static struct q_expr *mine(struct fx *f)
{
	struct q_value *v = ARENA_NEW(&f->a, struct q_value);
	*v = (struct q_value){ .type = QTY_TEXT, .s = f->run };
	struct q_expr *e = ARENA_NEW(&f->a, struct q_expr);
	*e = (struct q_expr){ .kind = QX_CMP, .column = QI_AUTHOR, .op = QOP_EQ, .values = v,
			      .nvalues = 1 };
	return e;
}

static struct q_expr *both(struct fx *f, struct q_expr *x, struct q_expr *y)
{
	struct q_expr **kids = ARENA_NEW_ARRAY(&f->a, struct q_expr *, 2);
	kids[0] = x;
	kids[1] = y;
	struct q_expr *e = ARENA_NEW(&f->a, struct q_expr);
	*e = (struct q_expr){ .kind = QX_AND, .kids = kids, .nkids = 2 };
	return e;
}

static struct q_expr *text_cmp(struct fx *f, int col, enum q_cmp op, const char *s)
{
	struct q_value *v = ARENA_NEW(&f->a, struct q_value);
	*v = (struct q_value){ .type = QTY_TEXT, .s = s };
	struct q_expr *e = ARENA_NEW(&f->a, struct q_expr);
	*e = (struct q_expr){ .kind = QX_CMP, .column = col, .op = op, .values = v, .nvalues = 1 };
	return e;
}

static struct q_expr *rel(struct fx *f, enum q_rel r, const struct q_expr *sub)
{
	struct q_expr *e = ARENA_NEW(&f->a, struct q_expr);
	*e = (struct q_expr){ .kind = QX_REL, .rel = r, .sub = sub };
	return e;
}

static struct q_expr *not(struct fx *f, struct q_expr *x)
{
	struct q_expr **kids = ARENA_NEW_ARRAY(&f->a, struct q_expr *, 1);
	kids[0] = x;
	struct q_expr *e = ARENA_NEW(&f->a, struct q_expr);
	*e = (struct q_expr){ .kind = QX_NOT, .kids = kids, .nkids = 1 };
	return e;
}

/* The ids of the insights `where` selects, in `order`, as "1,2,3" by index in f->ins. */
static const char *select_insights(struct fx *f, const struct q_expr *where,
				   const struct q_order *order, size_t norder, int64_t limit,
				   int64_t offset)
{
	struct q_select q = { .table = QT_INSIGHTS, .columns = 1ull << QI_TITLE,
			      .where = both(f, mine(f), (struct q_expr *)where), .order = order,
			      .norder = norder, .limit = limit, .offset = offset };
	if (!where)
		q.where = mine(f);
	struct q_rows rows;
	struct error e = ERROR_INIT;
	if (svc_select(&f->svc, &f->a, &q, &rows, &e) != OK)
		return "error";
	char *s = arena_alloc(&f->a, 128);
	size_t len = 0;
	s[0] = 0;
	for (size_t i = 0; i < rows.n; i++) {
		int k = -1;
		for (int j = 0; j < 5; j++)
			if (f->ins[j] == rows.rows[i].u.insight.id)
				k = j;
		len += (size_t)snprintf(s + len, 128 - len, "%s%d", i ? "," : "", k);
	}
	return s;
}

static void seed(struct fx *f)
{
	f->cat_tech = category(f, "Technical", 0);
	f->cat_db = category(f, "Databases", f->cat_tech);
	f->tag_sec = tag(f, "security");
	f->tag_perf = tag(f, "performance");
	f->tag_none = tag(f, "unused");
	int64_t sec[] = { f->tag_sec }, sp[] = { f->tag_sec < f->tag_perf ? f->tag_sec : f->tag_perf,
						 f->tag_sec < f->tag_perf ? f->tag_perf : f->tag_sec };
	f->ins[0] = insight(f, "Composite indexes", "Query PERFORMANCE doubled", f->cat_db,
			    PRIORITY_HIGH, sp, 2);
	f->ins[1] = insight(f, "École des données", "Straße und ÉTÉ", f->cat_tech, PRIORITY_LOW,
			    sec, 1);
	f->ins[2] = insight(f, "Retrospective", "notes 100% done", 0, PRIORITY_CRITICAL, NULL, 0);
	f->ins[3] = insight(f, "Backups tested", "restore drill", f->cat_tech, PRIORITY_MEDIUM,
			    NULL, 0);
	f->ins[4] = insight(f, "性能の改善", "検索が速くなった", f->cat_db, PRIORITY_HIGH, sec, 1);

}

static void check_filters(struct fx *f)
{
	/* ILIKE folds case for all of Unicode; LIKE does not. */
	CHECK_STR(select_insights(f, text_cmp(f, QI_TITLE, QOP_ILIKE, "%ÉCOLE%"), NULL, 0, -1, 0),
		  "1");
	CHECK_STR(select_insights(f, text_cmp(f, QI_TITLE, QOP_LIKE, "%ÉCOLE%"), NULL, 0, -1, 0),
		  "");
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_ILIKE, "%été%"), NULL, 0, -1, 0),
		  "1");
	/* Through the trigram index and without it, alike. */
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_ILIKE, "%performance%"), NULL, 0,
				  -1, 0),
		  "0");
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_LIKE, "%performance%"), NULL, 0,
				  -1, 0),
		  "");
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_NILIKE, "%performance%"), NULL, 0,
				  -1, 0),
		  "1,2,3,4");
	/* The %literal% fast path agrees with the general matcher. */
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_LIKE, "%PERFORMANCE%"), NULL, 0, -1, 0),
		  "0");
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_LIKE, "%Performance%"), NULL, 0, -1, 0),
		  "");
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_ILIKE, "%Query perf%"), NULL, 0, -1, 0),
		  "0");
	/* Substrings of text without spaces. */
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_LIKE, "%速く%"), NULL, 0, -1, 0),
		  "4");
	CHECK_STR(select_insights(f, text_cmp(f, QI_TITLE, QOP_LIKE, "性能%"), NULL, 0, -1, 0), "4");
	/* Escapes: \% is a percent sign; _ is one character. */
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_LIKE, "%100\\% done"), NULL, 0,
				  -1, 0),
		  "2");
	CHECK_STR(select_insights(f, text_cmp(f, QI_CONTENT, QOP_LIKE, "%10\\%%"), NULL, 0, -1, 0),
		  "");
	CHECK_STR(select_insights(f, text_cmp(f, QI_TITLE, QOP_LIKE, "Backups teste_"), NULL, 0,
				  -1, 0),
		  "3");

	/* Comparisons, IN and IS NULL. */
	CHECK_STR(select_insights(f, text_cmp(f, QI_PRIORITY, QOP_EQ, "high"), NULL, 0, -1, 0),
		  "0,4");
	CHECK_STR(select_insights(f, text_cmp(f, QI_PRIORITY, QOP_NEQ, "high"), NULL, 0, -1, 0),
		  "1,2,3");
	CHECK_STR(select_insights(f, text_cmp(f, QI_PRIORITY, QOP_GT, "high"), NULL, 0, -1, 0),
		  "1,3");
	struct q_value in[] = { { .type = QTY_TEXT, .s = "low" }, { .type = QTY_TEXT, .s = "critical" } };
	struct q_expr e_in = { .kind = QX_CMP, .column = QI_PRIORITY, .op = QOP_IN, .values = in,
			       .nvalues = 2 };
	CHECK_STR(select_insights(f, &e_in, NULL, 0, -1, 0), "1,2");
	e_in.op = QOP_NIN;
	CHECK_STR(select_insights(f, &e_in, NULL, 0, -1, 0), "0,3,4");
	e_in.nvalues = 0;
	CHECK_STR(select_insights(f, &e_in, NULL, 0, -1, 0), "0,1,2,3,4");
	e_in.op = QOP_IN;
	CHECK_STR(select_insights(f, &e_in, NULL, 0, -1, 0), "");
	struct q_expr nul = { .kind = QX_CMP, .column = QI_CATEGORY_ID, .op = QOP_IS_NULL,
			      .is_null = true };
	CHECK_STR(select_insights(f, &nul, NULL, 0, -1, 0), "2");
	nul.is_null = false;
	CHECK_STR(select_insights(f, &nul, NULL, 0, -1, 0), "0,1,3,4");
	struct q_value id = { .type = QTY_INT, .i = f->ins[3] };
	struct q_expr e_id = { .kind = QX_CMP, .column = QI_ID, .op = QOP_GTE, .values = &id,
			       .nvalues = 1 };
	CHECK_STR(select_insights(f, &e_id, NULL, 0, -1, 0), "3,4");
	/* Timestamps compare as instants. */
	struct q_value ts = { .type = QTY_TIMESTAMP, .s = "2000-01-01T00:00:00Z" };
	struct q_expr e_ts = { .kind = QX_CMP, .column = QI_CREATED_AT, .op = QOP_GT, .values = &ts,
			       .nvalues = 1 };
	CHECK_STR(select_insights(f, &e_ts, NULL, 0, -1, 0), "0,1,2,3,4");
	e_ts.op = QOP_LT;
	CHECK_STR(select_insights(f, &e_ts, NULL, 0, -1, 0), "");

	/* Relationships: object, array ("at least one"), any and none. */
	struct q_expr *tech = text_cmp(f, QC_NAME, QOP_EQ, name(f, "Technical"));
	CHECK_STR(select_insights(f, rel(f, QR_INSIGHT_CATEGORY, tech), NULL, 0, -1, 0), "1,3");
	CHECK_STR(select_insights(f, rel(f, QR_INSIGHT_CATEGORY,
					 rel(f, QR_CATEGORY_PARENT, tech)), NULL, 0, -1, 0),
		  "0,4");
	struct q_expr *sec = text_cmp(f, QG_SLUG, QOP_EQ, name(f, "security"));
	CHECK_STR(select_insights(f, rel(f, QR_INSIGHT_TAGS, sec), NULL, 0, -1, 0), "0,1,4");
	CHECK_STR(select_insights(f, rel(f, QR_INSIGHT_TAGS, NULL), NULL, 0, -1, 0), "0,1,4");
	CHECK_STR(select_insights(f, not(f, rel(f, QR_INSIGHT_TAGS, NULL)), NULL, 0, -1, 0), "2,3");
	struct q_expr t = { .kind = QX_TRUE }, fl = { .kind = QX_FALSE };
	CHECK_STR(select_insights(f, &t, NULL, 0, -1, 0), "0,1,2,3,4");
	CHECK_STR(select_insights(f, &fl, NULL, 0, -1, 0), "");
	struct q_expr or0 = { .kind = QX_OR }, and0 = { .kind = QX_AND };
	CHECK_STR(select_insights(f, &or0, NULL, 0, -1, 0), "");
	CHECK_STR(select_insights(f, &and0, NULL, 0, -1, 0), "0,1,2,3,4");
}

static void check_orders(struct fx *f)
{
	/* Ties broken by id, in the first key's direction; nulls placed as asked. */
	struct q_order prio = { .kind = QO_COLUMN, .column = QI_PRIORITY };
	CHECK_STR(select_insights(f, NULL, &prio, 1, -1, 0), "2,0,4,1,3");
	prio.desc = true;
	CHECK_STR(select_insights(f, NULL, &prio, 1, -1, 0), "3,1,4,0,2"); /* ties: id descending too */
	CHECK_STR(select_insights(f, NULL, &prio, 1, 2, 1), "1,4");
	CHECK_STR(select_insights(f, NULL, &prio, 1, 10, 4), "2");
	struct q_order cat = { .kind = QO_COLUMN, .column = QI_CATEGORY_ID, .nulls_first = true };
	CHECK_STR(select_insights(f, NULL, &cat, 1, 1, 0), "2");
	cat.nulls_first = false;
	cat.desc = true;
	CHECK_STR(select_insights(f, NULL, &cat, 1, -1, 0), "4,0,3,1,2");
	/* By the category's name (Databases < Technical < none), by the number of tags. */
	struct q_order by_name = { .kind = QO_REL_COLUMN, .rel = QR_INSIGHT_CATEGORY,
				   .column = QC_NAME };
	CHECK_STR(select_insights(f, NULL, &by_name, 1, -1, 0), "0,4,1,3,2");
	struct q_order ntags[] = { { .kind = QO_REL_COUNT, .rel = QR_INSIGHT_TAGS, .desc = true,
				     .nulls_first = true },
				   { .kind = QO_COLUMN, .column = QI_ID, .desc = true } };
	CHECK_STR(select_insights(f, NULL, ntags, 2, -1, 0), "0,4,1,3,2");
}

/* U+212A KELVIN SIGN folds to an ASCII k: ILIKE "%kelvin%" holds for it, on both backends. */
static void check_folding_to_ascii(struct fx *f)
{
	char author[48];
	snprintf(author, sizeof(author), "%s-k", f->run);
	struct insight_input in = { .title = str("\xe2\x84\xaa" "ELVIN scale"), .description = str("d"),
				    .author = str(author) };
	struct insight out;
	struct error e = ERROR_INIT;
	CHECK(svc_insight_create(&f->svc, &f->a, &in, &out, &e) == OK);
	struct q_expr *by_author = text_cmp(f, QI_AUTHOR, QOP_EQ, author);
	struct q_select q = { .table = QT_INSIGHTS, .columns = 1, .limit = -1,
			      .where = both(f, by_author, text_cmp(f, QI_TITLE, QOP_ILIKE, "%kelvin%")) };
	struct q_rows rows;
	CHECK(svc_select(&f->svc, &f->a, &q, &rows, &e) == OK && rows.n == 1);
	q.where = both(f, by_author, text_cmp(f, QI_TITLE, QOP_LIKE, "%kelvin%"));
	CHECK(svc_select(&f->svc, &f->a, &q, &rows, &e) == OK && rows.n == 0);
	CHECK(svc_insight_delete(&f->svc, out.id, &e) == OK);
}

/* Rows under parents, a page per parent; distinct_on. */
static void check_relationship_pages(struct fx *f)
{
	struct error e = ERROR_INIT;
	int64_t parents[] = { f->ins[0], f->ins[1], f->ins[2] };
	struct q_order by_id_desc = { .kind = QO_COLUMN, .column = QG_ID, .desc = true };
	struct q_select tags = { .table = QT_TAGS, .columns = ~0ull, .has_via = true,
				 .via = QR_INSIGHT_TAGS, .parents = parents, .nparents = 3,
				 .limit = -1 };
	struct q_rows rows;
	CHECK(svc_select(&f->svc, &f->a, &tags, &rows, &e) == OK);
	CHECK(rows.n == 3);
	if (rows.n == 3) {
		CHECK(rows.rows[0].parent == f->ins[0] && rows.rows[1].parent == f->ins[0]);
		CHECK(rows.rows[0].u.tag.id < rows.rows[1].u.tag.id);
		CHECK(rows.rows[2].parent == f->ins[1] && rows.rows[2].u.tag.id == f->tag_sec);
		CHECK_STR(rows.rows[2].u.tag.name, name(f, "security"));
		CHECK(rows.rows[2].u.tag.usage_count == 3);
	}
	tags.limit = 1;
	tags.order = &by_id_desc;
	tags.norder = 1;
	CHECK(svc_select(&f->svc, &f->a, &tags, &rows, &e) == OK);
	CHECK(rows.n == 2);
	if (rows.n == 2) {
		int64_t top = f->tag_sec > f->tag_perf ? f->tag_sec : f->tag_perf;
		CHECK(rows.rows[0].parent == f->ins[0] && rows.rows[0].u.tag.id == top);
		CHECK(rows.rows[1].parent == f->ins[1] && rows.rows[1].u.tag.id == f->tag_sec);
	}
	/* A category's insights, with its insight_count; its children. */
	int64_t cats[] = { f->cat_tech < f->cat_db ? f->cat_tech : f->cat_db,
			   f->cat_tech < f->cat_db ? f->cat_db : f->cat_tech };
	struct q_select ins = { .table = QT_INSIGHTS, .columns = 1ull << QI_PRIORITY,
				.has_via = true, .via = QR_CATEGORY_INSIGHTS, .parents = cats,
				.nparents = 2, .limit = -1 };
	CHECK(svc_select(&f->svc, &f->a, &ins, &rows, &e) == OK);
	CHECK(rows.n == 4);
	int distinct_on[] = { QI_PRIORITY };
	ins.distinct_on = distinct_on;
	ins.ndistinct = 1;
	CHECK(svc_select(&f->svc, &f->a, &ins, &rows, &e) == OK);
	CHECK(rows.n == 3); /* Databases: high; Technical: low, medium */
	struct q_select children = { .table = QT_CATEGORIES, .columns = ~0ull, .has_via = true,
				     .via = QR_CATEGORY_CHILDREN, .parents = cats, .nparents = 2,
				     .limit = -1 };
	CHECK(svc_select(&f->svc, &f->a, &children, &rows, &e) == OK);
	CHECK(rows.n == 1 && rows.rows[0].parent == f->cat_tech &&
	      rows.rows[0].u.category.id == f->cat_db && rows.rows[0].u.category.insight_count == 2);
	/* No parents: no rows, and no error. */
	children.nparents = 0;
	CHECK(svc_select(&f->svc, &f->a, &children, &rows, &e) == OK && rows.n == 0);
}

static void check_aggregates(struct fx *f)
{
	struct error e = ERROR_INIT;
	struct q_agg aggs[] = { { .fn = QA_COUNT }, { .fn = QA_MAX, .column = QI_TITLE },
				{ .fn = QA_COUNT_DISTINCT, .column = QI_CATEGORY_ID },
				{ .fn = QA_COUNT_COLUMN, .column = QI_CATEGORY_ID },
				{ .fn = QA_MIN, .column = QI_CREATED_AT } };
	struct q_aggregate agg = { .select = { .table = QT_INSIGHTS, .where = mine(f), .limit = -1 },
				   .aggs = aggs, .naggs = 5 };
	struct q_agg_rows out;
	CHECK(svc_aggregate(&f->svc, &f->a, &agg, &out, &e) == OK);
	CHECK(out.n == 1);
	if (out.n == 1) {
		CHECK(out.rows[0].values[0].i == 5);
		CHECK_STR(out.rows[0].values[1].s, "性能の改善"); /* code point order */
		CHECK(out.rows[0].values[2].i == 2 && out.rows[0].values[3].i == 4);
		CHECK(!out.rows[0].values[4].null && strlen(out.rows[0].values[4].s) == 20);
	}
	/* Grouped: one row per priority, in order. */
	int group[] = { QI_PRIORITY };
	agg.group_by = group;
	agg.ngroup = 1;
	agg.naggs = 1;
	CHECK(svc_aggregate(&f->svc, &f->a, &agg, &out, &e) == OK);
	CHECK(out.n == 4);
	if (out.n == 4) {
		CHECK_STR(out.rows[0].keys[0].s, "critical");
		CHECK_STR(out.rows[1].keys[0].s, "high");
		CHECK(out.rows[1].values[0].i == 2);
	}
	/* A page first, then the aggregate; nothing matched: count 0, max null. */
	agg.ngroup = 0;
	agg.naggs = 2;
	agg.select.limit = 2;
	agg.select.offset = 4;
	CHECK(svc_aggregate(&f->svc, &f->a, &agg, &out, &e) == OK);
	CHECK(out.n == 1 && out.rows[0].values[0].i == 1);
	agg.select.offset = 5;
	CHECK(svc_aggregate(&f->svc, &f->a, &agg, &out, &e) == OK);
	CHECK(out.n == 1 && out.rows[0].values[0].i == 0 && out.rows[0].values[1].null);
	/* Per parent: tags' usage sums, averages. */
	int64_t parents[] = { f->ins[0], f->ins[2] };
	struct q_agg sums[] = { { .fn = QA_COUNT }, { .fn = QA_SUM, .column = QG_USAGE_COUNT },
				{ .fn = QA_AVG, .column = QG_USAGE_COUNT } };
	struct q_aggregate per = { .select = { .table = QT_TAGS, .has_via = true,
					       .via = QR_INSIGHT_TAGS, .parents = parents,
					       .nparents = 2, .limit = -1 },
				   .aggs = sums, .naggs = 3 };
	CHECK(svc_aggregate(&f->svc, &f->a, &per, &out, &e) == OK);
	CHECK(out.n == 1);
	if (out.n == 1) {
		CHECK(out.rows[0].parent == f->ins[0] && out.rows[0].values[0].i == 2);
		CHECK(out.rows[0].values[1].i == 4); /* security 3 + performance 1 */
		CHECK(out.rows[0].values[2].f == 2.0);
	}
}

static void check_search(struct fx *f)
{
	struct error e = ERROR_INIT;
	struct q_select q = { .table = QT_INSIGHTS, .columns = ~0ull, .where = mine(f),
			      .search = "performance", .limit = -1 };
	struct q_rows rows;
	CHECK(svc_select(&f->svc, &f->a, &q, &rows, &e) == OK);
	CHECK(rows.n == 1 && rows.rows[0].u.insight.id == f->ins[0]);
	q.search = "";
	CHECK(svc_select(&f->svc, &f->a, &q, &rows, &e) == OK);
	CHECK(rows.n == 0);
	q.search = "\" OR * NEAR(";
	CHECK(svc_select(&f->svc, &f->a, &q, &rows, &e) == OK);
}

/* A batch is one transaction: undone, nothing stays; its data version moves at its end. */
static void check_batches(struct fx *f)
{
	struct error e = ERROR_INIT;
	uint64_t v0 = svc_data_version(&f->svc);
	struct category cat;
	CHECK(svc_category_get(&f->svc, &f->a, f->cat_tech, &cat, &e) == OK);
	int64_t counted = cat.insight_count;
	CHECK(svc_batch_begin(&f->svc, &e) == OK);
	int64_t a = insight(f, "Batch one", "x", f->cat_tech, PRIORITY_LOW, NULL, 0);
	/* Counters follow the batch's writes within it (PostgreSQL defers them to COMMIT). */
	CHECK(svc_category_get(&f->svc, &f->a, f->cat_tech, &cat, &e) == OK);
	CHECK(cat.insight_count == counted + 1);
	int64_t tags[] = { f->tag_none };
	struct insight_input upd = { .tag_ids_set = true, .tag_ids = tags, .ntag_ids = 1 };
	struct insight out;
	CHECK(svc_insight_update(&f->svc, &f->a, f->ins[3], &upd, &out, &e) == OK);
	/* The batch reads its own writes. */
	CHECK_STR(select_insights(f, text_cmp(f, QI_TITLE, QOP_EQ, "Batch one"), NULL, 0, -1, 0),
		  "-1");
	struct tag t;
	CHECK(svc_tag_get(&f->svc, &f->a, f->tag_none, &t, &e) == OK && t.usage_count == 1);
	CHECK(svc_data_version(&f->svc) == v0);
	CHECK(svc_batch_end(&f->svc, false, &e) == OK);
	CHECK(svc_data_version(&f->svc) == v0);
	CHECK(svc_insight_get(&f->svc, &f->a, a, &out, &e) == E_NOTFOUND);
	CHECK(svc_tag_get(&f->svc, &f->a, f->tag_none, &t, &e) == OK && t.usage_count == 0);
	CHECK(svc_insight_get(&f->svc, &f->a, f->ins[3], &out, &e) == OK && out.ntags == 0);
	CHECK(svc_category_get(&f->svc, &f->a, f->cat_tech, &cat, &e) == OK);
	CHECK(cat.insight_count == counted);

	/* A failed write inside a batch leaves the others in it. */
	CHECK(svc_batch_begin(&f->svc, &e) == OK);
	int64_t b = insight(f, "Batch two", "y", 0, PRIORITY_LOW, NULL, 0);
	struct tag_input dup = { .name = str(name(f, "security")), .slug = str("another") };
	error_clear(&e);
	CHECK(svc_tag_create(&f->svc, &f->a, &dup, &t, &e) == E_CONFLICT);
	CHECK(svc_batch_end(&f->svc, true, &e) == OK);
	CHECK(svc_data_version(&f->svc) == v0 + 1);
	CHECK(svc_insight_get(&f->svc, &f->a, b, &out, &e) == OK);
	CHECK(svc_insight_delete(&f->svc, b, &e) == OK);
}

/* Each select and aggregate is one store call, however many rows it reads. */
static void check_calls(struct fx *f)
{
	struct error e = ERROR_INIT;
	int64_t parents[] = { f->ins[0], f->ins[1], f->ins[2], f->ins[3], f->ins[4] };
	struct q_select q = { .table = QT_TAGS, .columns = ~0ull, .has_via = true,
			      .via = QR_INSIGHT_TAGS, .parents = parents, .nparents = 5,
			      .limit = -1 };
	struct q_rows rows;
	uint64_t before = store_calls();
	CHECK(svc_select(&f->svc, &f->a, &q, &rows, &e) == OK);
	CHECK(store_calls() == before + 1 && rows.n == 4);
}

static void run_query_suite(const char *url)
{
	struct fx f = { 0 };
	struct store_config cfg = { .pool_size = 4, .busy_timeout_ms = 1000,
				    .query_timeout_ms = 5000 };
	struct error e = ERROR_INIT;
	if (!strncmp(url, "sqlite:////tmp/", 15))
		snprintf(f.path, sizeof(f.path), "%s", url + 10);
	if (store_open(url, &cfg, &f.st, &e)) {
		CHECK(!"store opens");
		return;
	}
	int applied;
	CHECK(store_migrate(f.st, &applied, &e) == OK);
	service_init(&f.svc, f.st);
	f.a = (struct arena)ARENA_INIT;
	snprintf(f.run, sizeof(f.run), "q%d-%ld", (int)getpid(), (long)time(NULL));
	seed(&f);
	check_filters(&f);
	check_folding_to_ascii(&f);
	check_orders(&f);
	check_relationship_pages(&f);
	check_aggregates(&f);
	check_search(&f);
	check_batches(&f);
	check_calls(&f);
	arena_release(&f.a);
	service_release(&f.svc);
	store_close(f.st);
	if (f.path[0])
		t_remove_sqlite(f.path);
}

TEST(store_query_sqlite)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-q%d.db", (int)getpid());
	run_query_suite(url);
}

TEST(store_query_postgresql)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_query_suite(url);
}

/*
 * The trigram index serves selective substrings only: with some rows taken
 * out of the index behind the store's back, a selective pattern misses them
 * (the index was read) and a common one still finds them all (the rows
 * were read in order).
 */
TEST(store_query_sqlite_trigram)
{
	char url[96], path[64];
	snprintf(path, sizeof(path), "/tmp/insights-unit-t%d.db", (int)getpid());
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	struct fx f = { 0 };
	struct store_config cfg = { .pool_size = 2, .busy_timeout_ms = 1000, .query_timeout_ms = 5000 };
	struct error e = ERROR_INIT;
	int applied;
	if (store_open(url, &cfg, &f.st, &e) || store_migrate(f.st, &applied, &e)) {
		CHECK(!"store opens");
		return;
	}
	service_init(&f.svc, f.st);
	f.a = (struct arena)ARENA_INIT;
	snprintf(f.run, sizeof(f.run), "trgm");
	enum { N = 1500 };
	struct insight_input *in = calloc(N, sizeof(*in));
	for (int i = 0; i < N; i++)
		in[i] = (struct insight_input){ .title = str(i % 500 ? "common words here" : "Xylophone tuning"),
						.description = str("d"), .author = str("trgm") };
	CHECK(svc_insight_create_many(&f.svc, in, N, &e) == OK);
	free(in);
	const char *rare = "%XYLOPHONE%", *common = "%common%";
	CHECK(strlen(select_insights(&f, text_cmp(&f, QI_TITLE, QOP_ILIKE, rare), NULL, 0, -1, 0)) > 0);
	struct q_select q = { .table = QT_INSIGHTS, .columns = 1, .limit = -1,
			      .where = text_cmp(&f, QI_TITLE, QOP_ILIKE, rare) };
	struct q_rows rows;
	CHECK(svc_select(&f.svc, &f.a, &q, &rows, &e) == OK && rows.n == 3);
	q.where = text_cmp(&f, QI_TITLE, QOP_ILIKE, common);
	CHECK(svc_select(&f.svc, &f.a, &q, &rows, &e) == OK && rows.n == N - 3);

	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	/* Out of the index: the first rare row (id 1) and the common rows 2 to 101. */
	CHECK(sqlite3_exec(db, "INSERT INTO insights_trgm (insights_trgm, rowid, title, description, content)"
			       " SELECT 'delete', id, title, description, content FROM insights"
			       " WHERE id <= 101", NULL, NULL, NULL) == SQLITE_OK);
	q.where = text_cmp(&f, QI_TITLE, QOP_ILIKE, rare);
	CHECK(svc_select(&f.svc, &f.a, &q, &rows, &e) == OK && rows.n == 2);
	q.where = text_cmp(&f, QI_TITLE, QOP_ILIKE, common);
	CHECK(svc_select(&f.svc, &f.a, &q, &rows, &e) == OK && rows.n == N - 3);
	CHECK(sqlite3_exec(db, "INSERT INTO insights_trgm (insights_trgm) VALUES ('rebuild')", NULL,
			   NULL, NULL) == SQLITE_OK);
	q.where = text_cmp(&f, QI_TITLE, QOP_ILIKE, rare);
	CHECK(svc_select(&f.svc, &f.a, &q, &rows, &e) == OK && rows.n == 3);
	sqlite3_close(db);

	arena_release(&f.a);
	service_release(&f.svc);
	store_close(f.st);
	t_remove_sqlite(path);
}
