/*
 * test_store.c: the storage drivers, through the service layer. Every check
 * runs on a fresh SQLite file, and on PostgreSQL too when TEST_PG_STORE_URL
 * names a database the test may wipe.
 */
#include "t.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/service.h"
#include "store/store.h"

struct fixture {
	struct store *st;
	struct service svc;
	struct arena a;
	char path[64];
};

static int open_fresh(struct fixture *f, const char *url)
{
	struct store_config cfg = { .pool_size = 4, .busy_timeout_ms = 1000, .query_timeout_ms = 5000 };
	struct error e = ERROR_INIT;
	if (store_open(url, &cfg, &f->st, &e)) {
		fprintf(stderr, "cannot open %s: %s\n", url, e.detail);
		return -1;
	}
	int applied = 0;
	error_clear(&e);
	CHECK(store_migrate(f->st, &applied, &e) == OK);
	service_init(&f->svc, f->st);
	f->a = (struct arena)ARENA_INIT;
	return 0;
}

/* open_fresh for a suite; a SQLite file under /tmp is removed at close. */
static int open_suite(struct fixture *f, const char *url)
{
	if (!strncmp(url, "sqlite:////tmp/", 15))
		snprintf(f->path, sizeof(f->path), "%s", url + 10);
	if (open_fresh(f, url)) {
		CHECK(!"store opens");
		return -1;
	}
	return 0;
}

static void close_fixture(struct fixture *f)
{
	arena_release(&f->a);
	service_release(&f->svc);
	store_close(f->st);
	if (f->path[0])
		t_remove_sqlite(f->path);
}

static struct opt_str str(const char *v)
{
	return (struct opt_str){ .set = true, .v = v };
}

static int64_t make_tag(struct fixture *f, const char *name)
{
	struct tag_input in = { .name = str(name), .slug = str(name) };
	struct tag t;
	struct error e = ERROR_INIT;
	CHECK(svc_tag_create(&f->svc, &f->a, &in, &t, &e) == OK);
	return t.id;
}

static int64_t make_insight(struct fixture *f, const char *title, int64_t *tags, size_t n)
{
	struct insight_input in = { .title = str(title), .description = str("about " ), .author = str("Team-A"),
				    .tag_ids_set = n > 0, .tag_ids = tags, .ntag_ids = n };
	struct insight out;
	struct error e = ERROR_INIT;
	CHECK(svc_insight_create(&f->svc, &f->a, &in, &out, &e) == OK);
	CHECK(out.ntags == n);
	return out.id;
}

static int64_t usage(struct fixture *f, int64_t tag)
{
	struct tag t;
	struct error e = ERROR_INIT;
	CHECK(svc_tag_get(&f->svc, &f->a, tag, &t, &e) == OK);
	return t.usage_count;
}

static void run_store_suite(const char *url)
{
	struct fixture f = { 0 };
	if (open_suite(&f, url))
		return;
	struct error e = ERROR_INIT;

	/* Tags and usage counts follow associations. */
	int64_t t1 = make_tag(&f, "alpha"), t2 = make_tag(&f, "beta"), t3 = make_tag(&f, "gamma");
	int64_t both[] = { t1, t2 };
	int64_t i1 = make_insight(&f, "Composite indexes speed up queries", both, 2);
	int64_t i2 = make_insight(&f, "Retrospective notes", both, 1);
	CHECK(usage(&f, t1) == 2 && usage(&f, t2) == 1 && usage(&f, t3) == 0);

	int64_t retag[] = { t2, t3 };
	struct insight_input upd = { .tag_ids_set = true, .tag_ids = retag, .ntag_ids = 2 };
	struct insight out;
	error_clear(&e);
	CHECK(svc_insight_update(&f.svc, &f.a, i1, &upd, &out, &e) == OK);
	CHECK(out.ntags == 2 && out.tags[0].id == t2 && out.tags[1].id == t3);
	CHECK(usage(&f, t1) == 1 && usage(&f, t2) == 1 && usage(&f, t3) == 1);

	/* Several insights' tags at once: by insight, then tag, each once. */
	int64_t asked[] = { i2, i1, i2 };
	struct tag_link *links;
	size_t nlinks = 0;
	CHECK(store_insight_tags(f.st, &f.a, asked, 3, &links, &nlinks, &e) == OK);
	CHECK(nlinks == 3);
	if (nlinks == 3)
		CHECK(links[0].insight_id == i1 && links[0].tag.id == t2 &&
		      links[1].insight_id == i1 && links[1].tag.id == t3 &&
		      links[2].insight_id == i2 && links[2].tag.id == t1 &&
		      !strcmp(links[2].tag.name, "alpha"));

	/* A reference to a missing tag is E_INVALID and changes nothing. */
	int64_t missing[] = { t1, 999 };
	struct insight_input bad = { .tag_ids_set = true, .tag_ids = missing, .ntag_ids = 2 };
	error_clear(&e);
	CHECK(svc_insight_update(&f.svc, &f.a, i1, &bad, &out, &e) == E_INVALID);
	CHECK(e.nproblems == 1);
	CHECK_LOC(&e.problems[0], "tag_ids");
	CHECK(usage(&f, t1) == 1 && usage(&f, t3) == 1);

	/* Search: every word must match; syntax in user text is just text. */
	struct insight_filter q = { .text = "COMPOSITE queries", .status = -1, .priority = -1,
				    .page = 1, .page_size = 20 };
	struct insight_page page;
	CHECK(svc_insight_find(&f.svc, &f.a, &q, &page, &e) == OK);
	CHECK(page.total == 1 && page.n == 1 && page.items[0].id == i1);
	q.text = "composite retrospective";
	CHECK(svc_insight_find(&f.svc, &f.a, &q, &page, &e) == OK);
	CHECK(page.total == 0);
	const char *nasty[] = { "\"", "NEAR(", "a OR b", "*", "title:x", "(", "'; DROP TABLE insights; --" };
	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		q.text = nasty[i];
		CHECK(svc_insight_find(&f.svc, &f.a, &q, &page, &e) == OK);
	}

	/* Filters, totals and pages. */
	struct insight_filter list = { .status = LIFECYCLE_DRAFT, .priority = -1, .page = 1, .page_size = 1 };
	CHECK(svc_insight_find(&f.svc, &f.a, &list, &page, &e) == OK);
	CHECK(page.total == 2 && page.n == 1 && page.items[0].id == i2); /* newest first */
	list.page = 3;
	CHECK(svc_insight_find(&f.svc, &f.a, &list, &page, &e) == OK);
	CHECK(page.total == 2 && page.n == 0);
	list.page = 1;
	list.author = "team-a";
	list.page_size = 10;
	CHECK(svc_insight_find(&f.svc, &f.a, &list, &page, &e) == OK);
	CHECK(page.total == 2);
	list.author = "%";
	CHECK(svc_insight_find(&f.svc, &f.a, &list, &page, &e) == OK);
	CHECK(page.total == 0);

	/* Categories: cycles, conflicts, delete rules. */
	struct category_input root = { .name = str("Technical"), .slug = str("technical") };
	struct category c1, c2, c2x;
	error_clear(&e);
	CHECK(svc_category_create(&f.svc, &f.a, &root, &c1, &e) == OK);
	struct category_input child = { .name = str("Databases"), .slug = str("databases"),
					.parent_id = { true, c1.id } };
	error_clear(&e);
	CHECK(svc_category_create(&f.svc, &f.a, &child, &c2, &e) == OK);
	struct category_input loop = { .parent_id = { true, c2.id } };
	error_clear(&e);
	CHECK(svc_category_update(&f.svc, &f.a, c1.id, &loop, &c2x, &e) == E_INVALID);
	error_clear(&e);
	struct category dup = { .id = 42 };
	CHECK(svc_category_create(&f.svc, &f.a, &root, &dup, &e) == E_CONFLICT);
	CHECK(dup.id == 0 && dup.name == NULL); /* out-parameters are zeroed on failure */
	CHECK(svc_category_delete(&f.svc, c1.id, &e) == E_CONFLICT); /* has a subcategory */
	struct insight_input move = { .category_id = { true, c2.id } };
	error_clear(&e);
	CHECK(svc_insight_update(&f.svc, &f.a, i2, &move, &out, &e) == OK);
	CHECK(out.category && out.category->id == c2.id);
	CHECK(svc_category_delete(&f.svc, c2.id, &e) == E_CONFLICT);
	CHECK(strstr(e.detail, "Cannot delete category with 1 insights") != NULL);

	/* Statistics come from counters that follow every change. */
	struct statistics s;
	CHECK(svc_statistics(&f.svc, &f.a, &s, &e) == OK);
	CHECK(s.total_insights == 2 && s.by_status[LIFECYCLE_DRAFT] == 2);
	CHECK(s.by_priority[PRIORITY_MEDIUM] == 2 && s.total_tags == 3 && s.total_categories == 2);
	CHECK(s.nrecent == 2 && s.recent[0].id == i2);
	int64_t uncategorized = -1, databases = -1;
	for (size_t i = 0; i < s.ncategories_counted; i++) {
		if (!strcmp(s.by_category[i].name, "Uncategorized"))
			uncategorized = s.by_category[i].count;
		if (!strcmp(s.by_category[i].name, "Databases"))
			databases = s.by_category[i].count;
	}
	CHECK(uncategorized == 1 && databases == 1);

	/* Deleting a tag unlinks it; deleting an insight releases its tags. */
	CHECK(svc_tag_delete(&f.svc, t2, &e) == OK);
	CHECK(svc_insight_get(&f.svc, &f.a, i1, &out, &e) == OK);
	CHECK(out.ntags == 1 && out.tags[0].id == t3);
	CHECK(svc_insight_delete(&f.svc, i1, &e) == OK);
	CHECK(usage(&f, t3) == 0);
	CHECK(svc_insight_delete(&f.svc, i1, &e) == E_NOTFOUND);
	CHECK(svc_tag_get(&f.svc, &f.a, t2, &(struct tag){ 0 }, &e) == E_NOTFOUND);

	/* Nothing drifted. */
	struct tag_fix *fixes;
	size_t nfix = 99;
	CHECK(svc_recount_tags(&f.svc, &f.a, &fixes, &nfix, &e) == OK);
	CHECK(nfix == 0);
	close_fixture(&f);
}

/*
 * Concurrent writers: creates (some rejected), updates and deletes from
 * several threads, so that writes share commit groups. Afterwards, search
 * must find each insight by exactly its current words.
 */
#define WRITERS 8
#define ROUNDS 24

struct writer {
	struct service *svc;
	int no;
	int64_t ids[ROUNDS]; /* 0: rejected or deleted */
	bool renamed[ROUNDS];
	int failures;
};

static void *write_some(void *arg)
{
	struct writer *w = arg;
	struct arena a = ARENA_INIT;
	for (int i = 0; i < ROUNDS; i++) {
		char title[32], renamed[32];
		snprintf(title, sizeof(title), "qx%dy%d common", w->no, i);
		snprintf(renamed, sizeof(renamed), "qz%dy%d common", w->no, i);
		int64_t missing[] = { 424242 };
		struct insight_input in = { .title = str(title), .description = str("d"),
					    .author = str("a"), .tag_ids_set = i % 3 == 2,
					    .tag_ids = missing, .ntag_ids = 1 };
		struct insight out;
		struct error e = ERROR_INIT;
		enum status rc = svc_insight_create(w->svc, &a, &in, &out, &e);
		if (rc != (i % 3 == 2 ? E_INVALID : OK))
			w->failures++;
		if (rc != OK)
			continue;
		w->ids[i] = out.id;
		if (i % 2 == 0) {
			struct insight_input upd = { .title = str(renamed) };
			error_clear(&e);
			if (svc_insight_update(w->svc, &a, out.id, &upd, &out, &e) != OK)
				w->failures++;
			w->renamed[i] = true;
		}
		if (i % 4 == 1) {
			if (svc_insight_delete(w->svc, out.id, &e) != OK)
				w->failures++;
			w->ids[i] = 0;
		}
		arena_release(&a);
	}
	arena_release(&a);
	return NULL;
}

static int64_t hits(struct fixture *f, const char *text, int64_t *first)
{
	struct insight_filter q = { .text = text, .status = -1, .priority = -1,
				    .page = 1, .page_size = 20 };
	struct insight_page page;
	struct error e = ERROR_INIT;
	if (svc_insight_find(&f->svc, &f->a, &q, &page, &e) != OK)
		return -1;
	*first = page.n ? page.items[0].id : 0;
	return page.total;
}

static void run_concurrent_suite(const char *url)
{
	struct fixture f = { 0 };
	if (open_suite(&f, url))
		return;
	struct writer w[WRITERS] = { 0 };
	pthread_t th[WRITERS];
	for (int t = 0; t < WRITERS; t++) {
		w[t].svc = &f.svc;
		w[t].no = t;
		CHECK(pthread_create(&th[t], NULL, write_some, &w[t]) == 0);
	}
	int64_t live = 0;
	for (int t = 0; t < WRITERS; t++) {
		pthread_join(th[t], NULL);
		CHECK(w[t].failures == 0);
		for (int i = 0; i < ROUNDS; i++) {
			char old[32], renamed[32];
			snprintf(old, sizeof(old), "qx%dy%d", t, i);
			snprintf(renamed, sizeof(renamed), "qz%dy%d", t, i);
			int64_t id = w[t].ids[i], first = 0;
			bool now_renamed = id && w[t].renamed[i];
			CHECK(hits(&f, old, &first) == (id && !now_renamed ? 1 : 0));
			CHECK(first == (id && !now_renamed ? id : 0));
			CHECK(hits(&f, renamed, &first) == (now_renamed ? 1 : 0));
			CHECK(first == (now_renamed ? id : 0));
			live += id != 0;
		}
	}
	int64_t first;
	CHECK(hits(&f, "common", &first) == live);
	/* Leave a shared database (PostgreSQL) as empty as it was. */
	for (int t = 0; t < WRITERS; t++)
		for (int i = 0; i < ROUNDS; i++) {
			struct error e = ERROR_INIT;
			if (w[t].ids[i])
				CHECK(svc_insight_delete(&f.svc, w[t].ids[i], &e) == OK);
		}
	if (f.path[0]) {
		/* FTS5's own check that the index matches the rows. */
		sqlite3 *db;
		CHECK(sqlite3_open(f.path, &db) == SQLITE_OK);
		CHECK(sqlite3_exec(db, "INSERT INTO insights_fts (insights_fts, rank)"
				       " VALUES ('integrity-check', 1)", NULL, NULL, NULL) == SQLITE_OK);
		sqlite3_close(db);
	}
	close_fixture(&f);
}

TEST(store_sqlite)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-%d.db", (int)getpid());
	run_store_suite(url);
}

TEST(store_sqlite_concurrent_writes)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-c%d.db", (int)getpid());
	run_concurrent_suite(url);
}

TEST(store_postgresql)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_store_suite(url);
}

TEST(store_postgresql_concurrent_writes)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_concurrent_suite(url);
}

/*
 * Tokens and the audit trail: create, find by hash only, expiry, list,
 * touch, revoke; audit entries written with their writes only, filtered,
 * paged and pruned.
 */
static void run_access_suite(const char *url)
{
	struct fixture f = { 0 };
	if (open_suite(&f, url))
		return;
	struct error e = ERROR_INIT;
	char name[40], secret[TOKEN_SECRET_SIZE];
	snprintf(name, sizeof(name), "unit-%d", (int)getpid());
	struct token_input in = { .name = name, .role = "editor", .expires_in = "1d" };
	struct token t;
	CHECK(svc_token_create(&f.svc, &f.a, &in, secret, &t, &e) == OK);
	CHECK(t.id > 0 && t.role == ROLE_EDITOR && t.expires_at[0] && !t.last_used_at[0]);
	CHECK(!strcmp(t.last4, secret + strlen(secret) - 4));
	CHECK(strcmp(t.hash, secret) != 0 && strlen(t.hash) == 64);
	/* The same name again: a conflict, and nothing written. */
	char other[TOKEN_SECRET_SIZE];
	CHECK(svc_token_create(&f.svc, &f.a, &in, other, &t, &e) == E_CONFLICT && !other[0]);
	/* Bad input: every problem at its field. */
	struct token_input bad = { .name = "a b", .role = "owner", .expires_in = "0d" };
	error_clear(&e);
	CHECK(svc_token_create(&f.svc, &f.a, &bad, other, &t, &e) == E_INVALID);
	CHECK(e.nproblems == 3);

	char now[TS_SIZE];
	clock_timestamp(now);
	struct token found;
	CHECK(svc_token_check(&f.svc, &f.a, secret, now, &found, &e) == OK);
	CHECK(!strcmp(found.name, name) && found.role == ROLE_EDITOR);
	/* Its hash is no token; past its expiry it is no token either. */
	CHECK(svc_token_check(&f.svc, &f.a, found.hash, now, &found, &e) == E_NOTFOUND);
	CHECK(svc_token_check(&f.svc, &f.a, secret, "2999-01-01T00:00:00Z", &found, &e) == E_NOTFOUND);
	CHECK(svc_token_check(&f.svc, &f.a, secret, now, &found, &e) == OK);
	CHECK(svc_token_touch(&f.svc, &found.id, 1, now, &e) == OK);
	struct token *list;
	size_t n;
	CHECK(svc_token_list(&f.svc, &f.a, &list, &n, &e) == OK);
	bool listed = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			listed = !strcmp(list[i].last_used_at, now);
	CHECK(listed);

	/* Audit: the token's creation, then a tag's life; a rejected write adds nothing. */
	struct audit_filter all = { .page = 1, .page_size = 100, .resource = "token" };
	struct audit_page p;
	CHECK(svc_audit_find(&f.svc, &f.a, &all, &p, &e) == OK);
	int64_t tokens_before = p.total;
	CHECK(p.n >= 1 && !strcmp(p.items[0].action, "create") && p.items[0].resource_id == found.id);
	CHECK(!strcmp(p.items[0].actor, "cli") && !strcmp(p.items[0].role, "admin"));
	int64_t tag = make_tag(&f, name);
	struct tag_input dup = { .name = str(name), .slug = str("another-slug") };
	struct tag row;
	error_clear(&e);
	CHECK(svc_tag_create(&f.svc, &f.a, &dup, &row, &e) == E_CONFLICT);
	CHECK(svc_tag_delete(&f.svc, tag, &e) == OK);
	struct audit_filter tags = { .page = 1, .page_size = 10, .resource = "tag",
				     .resource_id_set = true, .resource_id = tag };
	CHECK(svc_audit_find(&f.svc, &f.a, &tags, &p, &e) == OK);
	CHECK(p.total == 2 && p.n == 2);
	CHECK(!strcmp(p.items[0].action, "delete") && !strcmp(p.items[1].action, "create"));
	CHECK(strstr(p.items[1].changes, "\"name\":{\"old\":null,\"new\":") != NULL);

	/* Revoked: gone, and recorded. */
	CHECK(svc_token_revoke(&f.svc, name, &e) == OK);
	CHECK(svc_token_check(&f.svc, &f.a, secret, now, &found, &e) == E_NOTFOUND);
	CHECK(svc_token_revoke(&f.svc, name, &e) == E_NOTFOUND);
	CHECK(svc_audit_find(&f.svc, &f.a, &all, &p, &e) == OK);
	CHECK(p.total == tokens_before + 1 && !strcmp(p.items[0].action, "delete"));

	/* Pruning: nothing is older than the epoch; everything is older than the far future. */
	int64_t deleted = -1;
	CHECK(svc_audit_prune(&f.svc, "1970-01-01T00:00:00Z", &deleted, &e) == OK && deleted == 0);
	CHECK(svc_audit_prune(&f.svc, "2999-01-01T00:00:00Z", &deleted, &e) == OK && deleted >= 3);
	struct audit_filter any = { .page = 1, .page_size = 1 };
	CHECK(svc_audit_find(&f.svc, &f.a, &any, &p, &e) == OK && p.total == 0);
	close_fixture(&f);
}

TEST(store_sqlite_tokens_and_audit)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-a%d.db", (int)getpid());
	run_access_suite(url);
}

TEST(store_postgresql_tokens_and_audit)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_access_suite(url);
}

/*
 * Revisions: kept by every change with the revision number moving, the
 * conditional write refused at a stale revision, a deleted insight's kept
 * and brought back, and pruned only once deleted before the cut-off.
 */
static void run_revision_suite(const char *url)
{
	struct fixture f = { 0 };
	if (open_suite(&f, url))
		return;
	struct error e = ERROR_INIT;
	char name[40];
	snprintf(name, sizeof(name), "rev-%d", (int)getpid());
	/* A shared database (PostgreSQL) keeps what the other suites deleted: forget it first. */
	int64_t gone = 0;
	CHECK(svc_revision_prune(&f.svc, "2999-01-01T00:00:00Z", &gone, &e) == OK);
	int64_t tag = make_tag(&f, name);
	int64_t id = make_insight(&f, "first", &tag, 1);
	struct insight_input in = { .title = str("second") };
	struct insight out;
	CHECK(svc_insight_update_if(&f.svc, &f.a, id, 2, &in, &out, &e) == E_PRECONDITION);
	CHECK(!strcmp(e.detail, "Insight was modified"));
	error_clear(&e); /* an update's input check adds to what `e` holds */
	CHECK(svc_insight_update_if(&f.svc, &f.a, id, 1, &in, &out, &e) == OK && out.revision == 2);
	struct revision_page p;
	CHECK(svc_revision_list(&f.svc, &f.a, id, 1, 10, &p, &e) == OK && p.total == 2 && p.n == 2);
	CHECK(p.items[0].v.revision == 2 && !strcmp(p.items[0].v.title, "second"));
	CHECK(p.items[1].v.revision == 1 && !strcmp(p.items[1].v.title, "first"));
	CHECK(p.items[1].ntag_ids == 1 && p.items[1].tag_ids[0] == tag);
	CHECK(!strcmp(p.items[1].actor, "cli") && !p.items[1].deleted_at[0]);
	int64_t v = 0;
	CHECK(svc_version(&f.svc, QT_TAGS, tag, &v, &e) == OK && v == 1);
	CHECK(svc_tag_delete_if(&f.svc, tag, 2, &e) == E_PRECONDITION && usage(&f, tag) == 1);

	/* Deleted: kept, marked, not pruned before its time, back under its id. */
	CHECK(svc_insight_delete_if(&f.svc, id, 2, &e) == OK);
	CHECK(svc_revision_list(&f.svc, &f.a, id, 1, 10, &p, &e) == OK && p.total == 2);
	CHECK(p.items[0].deleted_at[0] != '\0');
	int64_t deleted = -1;
	CHECK(svc_revision_prune(&f.svc, "1970-01-01T00:00:00Z", &deleted, &e) == OK && deleted == 0);
	CHECK(svc_insight_restore(&f.svc, &f.a, id, &out, &e) == OK);
	CHECK(out.id == id && out.revision == 3 && !strcmp(out.title, "second") && out.ntags == 1);
	CHECK(usage(&f, tag) == 1);
	/* Alive: never pruned, whatever the cut-off. */
	CHECK(svc_revision_prune(&f.svc, "2999-01-01T00:00:00Z", &deleted, &e) == OK && deleted == 0);
	CHECK(svc_insight_delete(&f.svc, id, &e) == OK);
	CHECK(svc_revision_prune(&f.svc, "2999-01-01T00:00:00Z", &deleted, &e) == OK && deleted == 3);
	CHECK(svc_insight_restore(&f.svc, &f.a, id, &out, &e) == E_NOTFOUND);
	CHECK(svc_tag_delete(&f.svc, tag, &e) == OK); /* the other suites count what they make */
	close_fixture(&f);
}

TEST(store_sqlite_revisions)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-r%d.db", (int)getpid());
	run_revision_suite(url);
}

TEST(store_postgresql_revisions)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_revision_suite(url);
}

/*
 * Idempotency keys through the service: a claim, a second request while it
 * is in flight, another request under the key, the answer stored in a
 * batch, a rolled-back batch that leaves the claim, a release, a stale
 * claim taken over (its late answer then refused), and pruning.
 */
static void run_idem_suite(const char *url)
{
	struct fixture f = { 0 };
	if (open_suite(&f, url))
		return;
	struct error e = ERROR_INIT;
	struct idem_request rq = { .key = "k1", .target = "POST /tags", .rest = "{}", .rest_len = 2 };
	struct idem_claim c, d;
	CHECK(svc_idem_claim(&f.svc, &f.a, &rq, &c, &e) == OK && c.outcome == IDEM_PROCEED);
	CHECK(svc_idem_claim(&f.svc, &f.a, &rq, &d, &e) == OK && d.outcome == IDEM_BUSY);
	struct idem_request body = rq, route = rq;
	body.rest = "{ }";
	body.rest_len = 3;
	route.target = "POST /categories";
	CHECK(svc_idem_claim(&f.svc, &f.a, &body, &d, &e) == OK && d.outcome == IDEM_MISMATCH);
	CHECK(d.same_target);
	CHECK(svc_idem_claim(&f.svc, &f.a, &route, &d, &e) == OK && d.outcome == IDEM_MISMATCH);
	CHECK(!d.same_target && !strcmp(d.first_target, "POST /tags"));
	/* A claim is not written inside a batch; its answer is, and commits with it. */
	CHECK(svc_batch_begin(&f.svc, &e) == OK);
	CHECK(svc_idem_finish(&f.svc, &c, 201, "{\"id\":1}", 8, &e) == OK);
	CHECK(svc_batch_end(&f.svc, true, &e) == OK);
	CHECK(svc_idem_claim(&f.svc, &f.a, &rq, &d, &e) == OK && d.outcome == IDEM_REPLAY);
	CHECK(d.row.status == 201 && d.row.body_len == 8 && !memcmp(d.row.body, "{\"id\":1}", 8));

	/* An answer rolled back with its write leaves the claim in flight; a release frees it. */
	rq.key = "k2";
	CHECK(svc_idem_claim(&f.svc, &f.a, &rq, &c, &e) == OK && c.outcome == IDEM_PROCEED);
	CHECK(svc_batch_begin(&f.svc, &e) == OK);
	CHECK(svc_idem_finish(&f.svc, &c, 201, "{}", 2, &e) == OK);
	CHECK(svc_batch_end(&f.svc, false, &e) == OK);
	CHECK(svc_idem_claim(&f.svc, &f.a, &rq, &d, &e) == OK && d.outcome == IDEM_BUSY);
	CHECK(svc_idem_release(&f.svc, &c, &e) == OK);
	CHECK(svc_idem_claim(&f.svc, &f.a, &rq, &c, &e) == OK && c.outcome == IDEM_PROCEED);

	/* A stale claim is taken over; the late answer of its request is refused. */
	f.svc.idem_claim_s = 0;
	CHECK(svc_idem_claim(&f.svc, &f.a, &rq, &d, &e) == OK && d.outcome == IDEM_PROCEED);
	CHECK(strcmp(c.row.token, d.row.token) != 0);
	CHECK(svc_batch_begin(&f.svc, &e) == OK);
	CHECK(svc_idem_finish(&f.svc, &c, 201, "{}", 2, &e) == E_CONFLICT);
	CHECK(svc_batch_end(&f.svc, false, &e) == OK);
	CHECK(svc_batch_begin(&f.svc, &e) == OK);
	CHECK(svc_idem_finish(&f.svc, &d, 201, "{}", 2, &e) == OK);
	CHECK(svc_batch_end(&f.svc, true, &e) == OK);

	/* Pruning: nothing is older than an hour; everything is older than the future. */
	int64_t deleted = -1;
	f.svc.idem_ttl_s = 3600;
	CHECK(svc_idem_prune(&f.svc, &deleted, &e) == OK && deleted == 0);
	f.svc.idem_ttl_s = f.svc.idem_claim_s = -10;
	CHECK(svc_idem_prune(&f.svc, &deleted, &e) == OK && deleted == 2);
	close_fixture(&f);
}

TEST(store_sqlite_idempotency_keys)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-i%d.db", (int)getpid());
	run_idem_suite(url);
}

TEST(store_postgresql_idempotency_keys)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_idem_suite(url);
}

/*
 * Duplicate candidates: frequencies (capped), the total, the candidates
 * found by the rarest words in store_similar_top's order, with tags.
 */
static void run_similar_suite(const char *url)
{
	struct fixture f = { 0 };
	if (open_suite(&f, url))
		return;
	struct error e = ERROR_INIT;
	char rare[32], mid[32], title[128];
	snprintf(rare, sizeof(rare), "rqx%dsim", (int)getpid());
	snprintf(mid, sizeof(mid), "mqx%dsim", (int)getpid());
	int64_t tag = make_tag(&f, rare);
	int64_t ids[4];
	for (int i = 0; i < 4; i++) {
		/* The rare word in insight 0 only; the other in all four. */
		snprintf(title, sizeof(title), "%s %s", i == 0 ? rare : "plain", mid);
		int64_t tag_ids[1] = { tag };
		struct insight_input in = { .title = str(title), .description = str("d"),
					    .author = str("a"), .tag_ids_set = i == 0,
					    .tag_ids = tag_ids, .ntag_ids = i == 0 };
		struct insight out;
		CHECK(svc_insight_create(&f.svc, &f.a, &in, &out, &e) == OK);
		ids[i] = out.id;
	}
	const char *words[] = { mid, rare, "nowhereqq" };
	int64_t df[3];
	struct store_similar q = { .words = words, .nwords = 3, .limit = 2, .df = df };
	CHECK(store_insight_similar(f.st, &f.a, &q, &e) == OK);
	CHECK(df[0] == 4 && df[1] == 1 && df[2] == 0);
	CHECK(q.total >= 4);
	/* Both words find: the one holding both first, then the newest. */
	CHECK(q.n == 2);
	if (q.n == 2) {
		CHECK(q.items[0].id == ids[0] && q.items[1].id == ids[3]);
		CHECK(q.items[0].ntags == 1 && q.items[0].tags[0].id == tag);
	}
	/* No word: no candidate, the total still. */
	struct store_similar none = { .limit = 5, .df = df };
	CHECK(store_insight_similar(f.st, &f.a, &none, &e) == OK && none.n == 0 && none.total >= 4);
	for (int i = 0; i < 4; i++)
		CHECK(svc_insight_delete(&f.svc, ids[i], &e) == OK);
	CHECK(svc_tag_delete(&f.svc, tag, &e) == OK);
	close_fixture(&f);
}

TEST(store_sqlite_similar)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-s%d.db", (int)getpid());
	run_similar_suite(url);
}

TEST(store_postgresql_similar)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_similar_suite(url);
}

/*
 * Issue 15: rows created with the ids and times an import keeps (tags,
 * categories, insights), the id sequences moved past them, the check of a
 * consistent database, and (SQLite) a backup that refuses to overwrite.
 */
static void run_transfer_suite(const char *url, bool sqlite)
{
	struct fixture f = { 0 };
	if (open_suite(&f, url))
		return;
	struct error e = ERROR_INIT;
	int64_t big = 900000 + (int64_t)getpid() % 50000;
	char name[40];
	snprintf(name, sizeof(name), "imp-%d", (int)getpid());
	CHECK(svc_batch_begin(&f.svc, &e) == OK);
	struct tag_input ti = { .name = str(name), .slug = str(name), .id = big,
				.created_at = "2020-01-02T03:04:05Z" };
	struct tag t;
	CHECK(svc_import_tag(&f.svc, &f.a, 0, &ti, &t, &e) == OK);
	CHECK(t.id == big && !strcmp(t.created_at, "2020-01-02T03:04:05Z"));
	struct category_input ci = { .name = str(name), .slug = str(name), .id = big + 1,
				     .created_at = "2020-01-02T03:04:05Z",
				     .updated_at = "2021-01-02T03:04:05Z" };
	struct category c;
	CHECK(svc_import_category(&f.svc, &f.a, 0, &ci, &c, &e) == OK);
	CHECK(c.id == big + 1 && !strcmp(c.created_at, "2020-01-02T03:04:05Z") &&
	      !strcmp(c.updated_at, "2021-01-02T03:04:05Z"));
	struct insight_input ii = { .title = str("kept"), .description = str("d"), .author = str("a"),
				    .status_set = true, .status = LIFECYCLE_ARCHIVED,
				    .category_id = { true, c.id }, .tag_ids_set = true,
				    .tag_ids = &t.id, .ntag_ids = 1, .id = big + 2, .revision = 7,
				    .created_at = "2020-01-02T03:04:05Z",
				    .updated_at = "2022-01-02T03:04:05Z",
				    .published_at = "2021-06-01T00:00:00Z" };
	struct insight out;
	CHECK(svc_import_insight(&f.svc, &f.a, 0, &ii, &out, &e) == OK);
	CHECK(svc_import_audit(&f.svc, "{}", &e) == OK);
	CHECK(svc_batch_end(&f.svc, true, &e) == OK);
	CHECK(svc_insight_get(&f.svc, &f.a, big + 2, &out, &e) == OK);
	CHECK(out.revision == 7 && out.category_id == c.id && out.ntags == 1 &&
	      out.status == LIFECYCLE_ARCHIVED);
	CHECK(!strcmp(out.created_at, "2020-01-02T03:04:05Z") &&
	      !strcmp(out.updated_at, "2022-01-02T03:04:05Z") &&
	      !strcmp(out.published_at, "2021-06-01T00:00:00Z"));
	CHECK(usage(&f, t.id) == 1);
	/* New rows are numbered after the imported ones. */
	snprintf(name, sizeof(name), "imq-%d", (int)getpid());
	int64_t after = make_tag(&f, name);
	CHECK(after > big);
	struct store_check chk;
	CHECK(svc_check(&f.svc, &f.a, &chk, &e) == OK);
	CHECK(chk.n == 0 && chk.insights >= 1 && chk.tags >= 2 && chk.categories >= 1);
	CHECK(svc_can_backup(&f.svc) == sqlite);
	if (sqlite) {
		char copy[80];
		snprintf(copy, sizeof(copy), "/tmp/insights-unit-b%d.copy", (int)getpid());
		unlink(copy);
		CHECK(svc_backup(&f.svc, copy, NULL, NULL, &e) == OK);
		CHECK(access(copy, F_OK) == 0);
		CHECK(svc_backup(&f.svc, copy, NULL, NULL, &e) == E_CONFLICT);
		unlink(copy);
	}
	CHECK(svc_insight_delete(&f.svc, big + 2, &e) == OK);
	CHECK(svc_category_delete(&f.svc, c.id, &e) == OK);
	CHECK(svc_tag_delete(&f.svc, t.id, &e) == OK);
	CHECK(svc_tag_delete(&f.svc, after, &e) == OK);
	close_fixture(&f);
}

TEST(store_sqlite_transfer)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-x%d.db", (int)getpid());
	run_transfer_suite(url, true);
}

TEST(store_postgresql_transfer)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_transfer_suite(url, false);
}

/* The count of transitions (from, to) in lifecycle figures; 0 when none. */
static int64_t transitions(const struct lifecycle_figures *f, int from, int to)
{
	for (size_t i = 0; i < f->ncounts; i++)
		if (f->counts[i].from == from && f->counts[i].to == to)
			return f->counts[i].count;
	return 0;
}

/*
 * Lifecycle (issue 14): a create and a status change each record their
 * transition, a write that changes no status none, a rolled-back batch
 * none, a transition alone (outside a batch) is refused; stale counts
 * follow the cut-off; review_by and owner are stored and read back.
 */
static void run_lifecycle_suite(const char *url)
{
	struct fixture f = { 0 };
	if (open_suite(&f, url))
		return;
	struct error e = ERROR_INIT;
	struct lifecycle_figures was, now;
	CHECK(svc_lifecycle(&f.svc, &f.a, 1, &was, &e) == OK);
	int64_t id = make_insight(&f, "life", NULL, 0);
	struct insight out;
	struct insight_input pub = { .status_set = true, .status = LIFECYCLE_PUBLISHED,
				     .review_by = str("2030-01-31"), .owner = str("ops") };
	CHECK(svc_insight_update(&f.svc, &f.a, id, &pub, &out, &e) == OK);
	CHECK(!strcmp(out.review_by, "2030-01-31") && !strcmp(out.owner, "ops"));
	struct insight_input retitle = { .title = str("life again") };
	CHECK(svc_insight_update(&f.svc, &f.a, id, &retitle, &out, &e) == OK);
	CHECK(svc_batch_begin(&f.svc, &e) == OK);
	struct insight_input arch = { .status_set = true, .status = LIFECYCLE_ARCHIVED };
	CHECK(svc_insight_update(&f.svc, &f.a, id, &arch, &out, &e) == OK);
	CHECK(svc_batch_end(&f.svc, false, &e) == OK);
	struct transition t = { .insight_id = id, .from = -1, .to = LIFECYCLE_DRAFT,
				.at = "2030-01-01T00:00:00Z" };
	CHECK(store_transition_add(f.st, &t, &e) == E_INTERNAL);
	error_clear(&e);
	CHECK(svc_lifecycle(&f.svc, &f.a, 1, &now, &e) == OK);
	CHECK(transitions(&now, -1, LIFECYCLE_DRAFT) == transitions(&was, -1, LIFECYCLE_DRAFT) + 1);
	CHECK(transitions(&now, LIFECYCLE_DRAFT, LIFECYCLE_PUBLISHED) ==
	      transitions(&was, LIFECYCLE_DRAFT, LIFECYCLE_PUBLISHED) + 1);
	CHECK(transitions(&now, LIFECYCLE_PUBLISHED, LIFECYCLE_ARCHIVED) ==
	      transitions(&was, LIFECYCLE_PUBLISHED, LIFECYCLE_ARCHIVED));
	CHECK(now.overall.count == was.overall.count + 1);
	int64_t n = -1;
	CHECK(store_stale_count(f.st, "1970-01-01T00:00:00Z", &n, &e) == OK && n == 0);
	CHECK(store_stale_count(f.st, "2999-01-01T00:00:00Z", &n, &e) == OK && n >= 1);
	int64_t before_review = n;
	CHECK(svc_insight_review(&f.svc, &f.a, id, 0, NULL, &out, &e) == OK);
	CHECK(out.reviewed_at[0] && !strcmp(out.review_by, "2030-01-31"));
	CHECK(store_stale_count(f.st, out.reviewed_at, &n, &e) == OK && n == before_review - 1);
	CHECK(svc_insight_delete(&f.svc, id, &e) == OK);
	close_fixture(&f);
}

TEST(store_sqlite_lifecycle)
{
	char url[64];
	snprintf(url, sizeof(url), "sqlite:////tmp/insights-unit-l%d.db", (int)getpid());
	run_lifecycle_suite(url);
}

TEST(store_postgresql_lifecycle)
{
	const char *url = getenv("TEST_PG_STORE_URL");
	if (url)
		run_lifecycle_suite(url);
}
