/*
 * check.c: the SQLite driver's consistency check and online backup
 * (store.h's check and backup, issue 15).
 *
 * The check runs in one write transaction, which gives it one snapshot and
 * lets it run FTS5's 'integrity-check' command (an INSERT): SQLite's own
 * integrity_check and foreign_key_check, both full-text indexes against
 * the insights they index, then the counters the triggers keep against a
 * recount. It changes nothing, but holds the write lock while it runs.
 *
 * The backup copies pages with SQLite's online backup API from a read
 * transaction held open on the source connection for the whole copy:
 * every step reads the same snapshot, so writers of this or any other
 * process (WAL mode: readers never block them) neither wait for the copy
 * nor make it restart. The copy is written to PATH.partial, checked with
 * integrity_check, then renamed to PATH.
 */
#include "store/sqlite/sqlite.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/banned.h"

/* Problems are collected here, then copied to the caller's arena. */
struct sq_problems {
	struct arena *a;
	const char **v;
	size_t n, cap;
};

static void sq_problem(struct sq_problems *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sq_problem(struct sq_problems *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		const char **grown = ARENA_NEW_ARRAY(p->a, const char *, p->cap);
		if (p->n)
			memcpy(grown, p->v, p->n * sizeof(*grown));
		p->v = grown;
	}
	p->v[p->n++] = arena_strdup(p->a, line);
}

/* Runs a PRAGMA whose rows are problems unless the only one is "ok". */
static enum status sq_check_pragma(struct sq_conn *c, const char *sql, const char *what,
				   struct sq_problems *p, struct error *err)
{
	sqlite3_stmt *s = sq_dyn_stmt(c, sql, err);
	if (!s)
		return err->status;
	int rc;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		int ncols = sqlite3_column_count(s);
		const char *first = (const char *)sqlite3_column_text(s, 0);
		if (ncols == 1 && first && !strcmp(first, "ok"))
			continue;
		char row[384] = "";
		size_t len = 0;
		for (int i = 0; i < ncols && len < sizeof(row) - 1; i++) {
			const char *v = (const char *)sqlite3_column_text(s, i);
			int k = snprintf(row + len, sizeof(row) - len, "%s%s", i ? " " : "",
					 v ? v : "NULL");
			len = k < 0 ? len : (size_t)k + len >= sizeof(row) ? sizeof(row) - 1 : len + (size_t)k;
		}
		sq_problem(p, "%s: %s", what, row);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? OK : sq_fail(c, rc, err);
}

/* FTS5's check of index `table` against the insights table it indexes. */
static enum status sq_check_fts(struct sq_conn *c, const char *table, struct sq_problems *p,
				struct error *err)
{
	char sql[160];
	/* rank 1: the index against the table it indexes, not only against itself. */
	snprintf(sql, sizeof(sql), "INSERT INTO %s (%s, rank) VALUES ('integrity-check', 1)", table,
		 table);
	int rc = sq_exec(c, sql);
	if (rc == SQLITE_OK)
		return OK;
	if ((rc & 0xff) == SQLITE_CORRUPT) {
		sq_problem(p, "search index %s does not match the insights: %s", table,
			   sqlite3_errmsg(c->db));
		return OK;
	}
	return sq_fail(c, rc, err);
}

/* Every tag whose usage_count differs from its number of insights. */
static const char sq_tag_drift[] =
	"SELECT t.id, t.slug, t.usage_count, (SELECT count(*) FROM insight_tags it"
	" WHERE it.tag_id = t.id) AS n FROM tags t WHERE t.usage_count <>"
	" (SELECT count(*) FROM insight_tags it WHERE it.tag_id = t.id) ORDER BY t.id";

/*
 * Every (status, priority, category) whose kept insight count differs from
 * a recount: kept rows without their recount and recounts without their
 * kept row, with both numbers (a missing side counts 0).
 */
static const char sq_count_drift[] =
	"WITH kept AS (SELECT status, priority, category_id, n FROM insight_counts WHERE n <> 0),"
	" real AS (SELECT status, priority, coalesce(category_id, 0) AS category_id,"
	" count(*) AS n FROM insights GROUP BY 1, 2, 3),"
	" bad AS (SELECT status, priority, category_id FROM (SELECT * FROM kept EXCEPT"
	" SELECT * FROM real) AS gone UNION SELECT status, priority, category_id FROM"
	" (SELECT * FROM real EXCEPT SELECT * FROM kept) AS came)"
	" SELECT DISTINCT b.status, b.priority, b.category_id,"
	" coalesce((SELECT n FROM kept k WHERE k.status = b.status AND k.priority = b.priority"
	" AND k.category_id = b.category_id), 0),"
	" coalesce((SELECT n FROM real r WHERE r.status = b.status AND r.priority = b.priority"
	" AND r.category_id = b.category_id), 0)"
	" FROM bad b ORDER BY 1, 2, 3";

static enum status sq_check_counters(struct sq_conn *c, struct sq_problems *p, struct error *err)
{
	sqlite3_stmt *s = sq_dyn_stmt(c, sq_tag_drift, err);
	if (!s)
		return err->status;
	int rc;
	while ((rc = sq_step(s)) == SQLITE_ROW)
		sq_problem(p, "tag %" PRId64 " (%s): usage_count is %" PRId64 ", it has %" PRId64
			   " insights", (int64_t)sqlite3_column_int64(s, 0),
			   (const char *)sqlite3_column_text(s, 1), (int64_t)sqlite3_column_int64(s, 2),
			   (int64_t)sqlite3_column_int64(s, 3));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return sq_fail(c, rc, err);
	s = sq_dyn_stmt(c, sq_count_drift, err);
	if (!s)
		return err->status;
	while ((rc = sq_step(s)) == SQLITE_ROW)
		sq_problem(p, "insight count (status %s, priority %s, category %" PRId64
			   "): kept %" PRId64 ", recounted %" PRId64,
			   (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
			   (int64_t)sqlite3_column_int64(s, 2), (int64_t)sqlite3_column_int64(s, 3),
			   (int64_t)sqlite3_column_int64(s, 4));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? OK : sq_fail(c, rc, err);
}

static enum status sq_check_sizes(struct sq_conn *c, struct store_check *out, struct error *err)
{
	sqlite3_stmt *s = sq_dyn_stmt(c, "SELECT (SELECT count(*) FROM insights),"
				      " (SELECT count(*) FROM tags), (SELECT count(*) FROM categories)",
				      err);
	if (!s)
		return err->status;
	int rc = sq_step(s);
	if (rc == SQLITE_ROW) {
		out->insights = sqlite3_column_int64(s, 0);
		out->tags = sqlite3_column_int64(s, 1);
		out->categories = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? OK : sq_fail(c, rc, err);
}

enum status sq_check(struct store *st, struct arena *a, struct store_check *out, struct error *err)
{
	struct sq_txn t;
	enum status rc = sq_txn_begin(sq_of(st), SQ_WRITE, &t, err);
	if (rc)
		return rc;
	struct sq_problems p = { .a = a };
	rc = sq_check_pragma(t.c, "PRAGMA integrity_check", "integrity_check", &p, err);
	if (rc == OK)
		rc = sq_check_pragma(t.c, "PRAGMA foreign_key_check", "foreign_key_check", &p, err);
	if (rc == OK)
		rc = sq_check_fts(t.c, "insights_fts", &p, err);
	if (rc == OK)
		rc = sq_check_fts(t.c, "insights_trgm", &p, err);
	if (rc == OK)
		rc = sq_check_counters(t.c, &p, err);
	if (rc == OK)
		rc = sq_check_sizes(t.c, out, err);
	/* Nothing to keep: undo, whatever the FTS commands may have touched. */
	struct error undone = ERROR_INIT;
	sq_txn_end(&t, rc ? rc : E_INTERNAL, &undone);
	if (rc == OK) {
		out->problems = p.v;
		out->n = p.n;
	}
	return rc;
}

/* ---- backup ---------------------------------------------------------------------- */

/* Pages copied per step: a progress report every 4 MiB of 4 KiB pages. */
#define SQ_BACKUP_STEP 1024

/* Checks the copy at `path`: integrity_check must answer "ok" alone. */
static enum status sq_backup_verify(const char *path, struct error *err)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_stmt *s = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL);
	bool ok = false;
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		const char *v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
		ok = v && !strcmp(v, "ok") && sqlite3_step(s) == SQLITE_DONE;
		if (!ok)
			log_error("sqlite: the backup fails its integrity check: %s",
				  v ? v : sqlite3_errmsg(db));
	} else {
		log_error("sqlite: cannot check the backup: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return ok ? OK : error_set(err, E_INTERNAL, "The backup failed its integrity check");
}

/* Copies every page of connection `c`'s database to `dst`, from one snapshot. */
static enum status sq_backup_copy(struct sq_conn *c, sqlite3 *dst, store_progress_fn progress,
				  void *arg, struct error *err)
{
	/* The snapshot: a read transaction that every step of the copy shares. */
	int rc = sq_exec(c, "BEGIN");
	if (rc == SQLITE_OK)
		rc = sq_exec(c, "SELECT count(*) FROM sqlite_schema");
	if (rc != SQLITE_OK) {
		sq_exec(c, "ROLLBACK");
		return sq_fail(c, rc, err);
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
	enum status st = OK;
	if (!b) {
		log_error("sqlite: cannot start the backup: %s", sqlite3_errmsg(dst));
		st = error_set(err, E_UNAVAILABLE, "Cannot write the backup");
	}
	while (b) {
		rc = sqlite3_backup_step(b, SQ_BACKUP_STEP);
		uint64_t total = (uint64_t)sqlite3_backup_pagecount(b);
		if (progress)
			progress(arg, total - (uint64_t)sqlite3_backup_remaining(b), total);
		if (rc == SQLITE_DONE)
			break;
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			struct timespec pause = { 0, 10 * 1000000L };
			nanosleep(&pause, NULL);
			continue;
		}
		if (rc != SQLITE_OK) {
			log_error("sqlite: the backup failed: %s", sqlite3_errstr(rc));
			st = error_set(err, E_UNAVAILABLE, "The backup failed");
			break;
		}
	}
	if (b && sqlite3_backup_finish(b) != SQLITE_OK && st == OK) {
		log_error("sqlite: the backup failed: %s", sqlite3_errmsg(dst));
		st = error_set(err, E_UNAVAILABLE, "The backup failed");
	}
	sq_exec(c, "ROLLBACK");
	return st;
}

enum status sq_backup(struct store *st, const char *path, store_progress_fn progress, void *arg,
		      struct error *err)
{
	if (access(path, F_OK) == 0)
		return error_set(err, E_CONFLICT, "The backup file already exists");
	char partial[4096];
	if ((size_t)snprintf(partial, sizeof(partial), "%s.partial", path) >= sizeof(partial))
		return error_set(err, E_INVALID, "The backup path is too long");
	unlink(partial);
	sqlite3 *dst = NULL;
	if (sqlite3_open_v2(partial, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		log_error("sqlite: cannot create the backup file: %s", sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return error_set(err, E_UNAVAILABLE, "Cannot create the backup file");
	}
	struct sq_conn *c;
	enum status rc = sq_conn_take(sq_of(st), &c, err);
	if (rc == OK) {
		c->deadline_ns = 0; /* a copy takes as long as it takes */
		rc = sq_backup_copy(c, dst, progress, arg, err);
		sq_conn_give(sq_of(st), c);
	}
	if (sqlite3_close(dst) != SQLITE_OK && rc == OK)
		rc = error_set(err, E_UNAVAILABLE, "Cannot write the backup");
	if (rc == OK)
		rc = sq_backup_verify(partial, err);
	if (rc == OK && rename(partial, path)) {
		log_error("sqlite: cannot rename the backup: %s", strerror(errno));
		rc = error_set(err, E_UNAVAILABLE, "Cannot write the backup");
	}
	if (rc)
		unlink(partial);
	return rc;
}
