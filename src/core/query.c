/*
 * query.c: the tables, columns and relationships of query.h, which the
 * GraphQL schema and the store drivers both read: one list, so that the
 * names a client sees and the columns a driver selects cannot drift apart.
 */
#include "core/query.h"

#include <string.h>

#include "lib/banned.h"

static const struct q_column insight_columns[QI__COUNT] = {
	[QI_ID] = { "id", QTY_INT, false },
	[QI_TITLE] = { "title", QTY_TEXT, false },
	[QI_DESCRIPTION] = { "description", QTY_TEXT, false },
	[QI_CONTENT] = { "content", QTY_TEXT, true },
	[QI_SOURCE] = { "source", QTY_TEXT, true },
	[QI_AUTHOR] = { "author", QTY_TEXT, false },
	[QI_CATEGORY_ID] = { "category_id", QTY_INT, true },
	[QI_PRIORITY] = { "priority", QTY_TEXT, false },
	[QI_STATUS] = { "status", QTY_TEXT, false },
	[QI_CREATED_AT] = { "created_at", QTY_TIMESTAMP, false },
	[QI_UPDATED_AT] = { "updated_at", QTY_TIMESTAMP, false },
	[QI_PUBLISHED_AT] = { "published_at", QTY_TIMESTAMP, true },
	[QI_REVISION] = { "revision", QTY_INT, false },
	[QI_REVIEW_BY] = { "review_by", QTY_TEXT, true },   /* a date: YYYY-MM-DD */
	[QI_OWNER] = { "owner", QTY_TEXT, true },
	[QI_REVIEWED_AT] = { "reviewed_at", QTY_TIMESTAMP, true },
};

static const struct q_column tag_columns[QG__COUNT] = {
	[QG_ID] = { "id", QTY_INT, false },
	[QG_NAME] = { "name", QTY_TEXT, false },
	[QG_SLUG] = { "slug", QTY_TEXT, false },
	[QG_DESCRIPTION] = { "description", QTY_TEXT, true },
	[QG_COLOR] = { "color", QTY_TEXT, true },
	[QG_CREATED_AT] = { "created_at", QTY_TIMESTAMP, false },
	[QG_USAGE_COUNT] = { "usage_count", QTY_INT, false },
};

static const struct q_column category_columns[QC__COUNT] = {
	[QC_ID] = { "id", QTY_INT, false },
	[QC_NAME] = { "name", QTY_TEXT, false },
	[QC_SLUG] = { "slug", QTY_TEXT, false },
	[QC_DESCRIPTION] = { "description", QTY_TEXT, true },
	[QC_PARENT_ID] = { "parent_id", QTY_INT, true },
	[QC_COLOR] = { "color", QTY_TEXT, true },
	[QC_ICON] = { "icon", QTY_TEXT, true },
	[QC_CREATED_AT] = { "created_at", QTY_TIMESTAMP, false },
	[QC_UPDATED_AT] = { "updated_at", QTY_TIMESTAMP, false },
	[QC_INSIGHT_COUNT] = { "insight_count", QTY_INT, false },
};

const struct q_column *const q_columns[QT__COUNT] = {
	[QT_INSIGHTS] = insight_columns,
	[QT_TAGS] = tag_columns,
	[QT_CATEGORIES] = category_columns,
};

const size_t q_ncolumns[QT__COUNT] = {
	[QT_INSIGHTS] = QI__COUNT,
	[QT_TAGS] = QG__COUNT,
	[QT_CATEGORIES] = QC__COUNT,
};

const char *const q_table_names[QT__COUNT] = {
	[QT_INSIGHTS] = "insights",
	[QT_TAGS] = "tags",
	[QT_CATEGORIES] = "categories",
};

const struct q_rel_info q_rels[QR__COUNT] = {
	[QR_INSIGHT_CATEGORY] = { "category", QT_INSIGHTS, QT_CATEGORIES, false, QI_CATEGORY_ID },
	[QR_INSIGHT_TAGS] = { "tags", QT_INSIGHTS, QT_TAGS, true, -1 },
	[QR_TAG_INSIGHTS] = { "insights", QT_TAGS, QT_INSIGHTS, true, -1 },
	[QR_CATEGORY_PARENT] = { "parent", QT_CATEGORIES, QT_CATEGORIES, false, QC_PARENT_ID },
	[QR_CATEGORY_CHILDREN] = { "children", QT_CATEGORIES, QT_CATEGORIES, true, -1 },
	[QR_CATEGORY_INSIGHTS] = { "insights", QT_CATEGORIES, QT_INSIGHTS, true, -1 },
};

int q_column_find(enum q_table table, const char *name)
{
	for (size_t i = 0; i < q_ncolumns[table]; i++)
		if (!strcmp(q_columns[table][i].name, name))
			return (int)i;
	return -1;
}
