/*
 * io.c: how the PostgreSQL driver talks to the server: every call's I/O is
 * non-blocking and polled against the connection's deadline, so that a
 * server that stops answering (a dead host, a partition) costs one query
 * timeout, not a TCP timeout; statements are prepared once per connection
 * (fixed ones by their enum, built ones by their text); reads of several
 * statements go pipelined in one round trip; and SQLSTATEs map to statuses
 * (pg_fail), the server's message going to the log, never to the client.
 */
#include "store/pg/pg.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

/* ---- errors ------------------------------------------------------------ */

/*
 * The server's message of a result, or the connection's, on one line (libpq
 * continues its messages on tab-indented lines) for the log.
 */
void pg_describe(struct pg_conn *c, const PGresult *r, char *out, size_t outlen)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!msg)
		msg = PQerrorMessage(c->db);
	if (!msg || !*msg)
		msg = "no message";
	size_t n = 0;
	for (const char *p = msg; *p && n + 1 < outlen; p++) {
		char ch = *p == '\n' || *p == '\t' ? ' ' : *p;
		if (ch != ' ' || (n && out[n - 1] != ' '))
			out[n++] = ch;
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

bool pg_state_is(const struct pg_conn *c, const char *state)
{
	return !strcmp(c->sqlstate, state);
}

/*
 * Maps a failed statement (r may be NULL: nothing came back) to a status.
 * The client sees a generic sentence; the server's message goes to the log.
 * Records the SQLSTATE and constraint name on the connection, and marks it
 * broken when it can no longer be trusted.
 */
enum status pg_fail(struct pg_conn *c, const PGresult *r, struct error *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
	snprintf(c->constraint, sizeof(c->constraint), "%s", cons ? cons : "");
	if (PQstatus(c->db) != CONNECTION_OK)
		c->broken = true;
	char msg[300];
	pg_describe(c, r, msg, sizeof(msg));
	const char *role = c->pool->role;

	if (c->timed_out) {
		log_warn("postgresql (%s): no answer within the query timeout; dropping the connection",
			 role);
		return error_set(err, E_UNAVAILABLE, "The request took longer than the query timeout");
	}
	if (c->broken || !state || !strncmp(state, "08", 2) || !strncmp(state, "57P", 3) ||
	    !strncmp(state, "53", 2)) {
		c->broken = true;
		log_error("postgresql (%s): database unavailable: %s", role, msg);
		error_set(err, E_UNAVAILABLE, "The database is unavailable");
		/* Broken before COMMIT was sent: nothing was written, a new connection may do. */
		err->transient = !c->committing;
		return E_UNAVAILABLE;
	}
	if (!strcmp(state, "57014")) {
		log_warn("postgresql (%s): statement exceeded the query timeout", role);
		return error_set(err, E_UNAVAILABLE, "The request took longer than the query timeout");
	}
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")) {
		log_warn("postgresql (%s): %s (%s)", role, msg, state);
		error_set(err, E_UNAVAILABLE, "The database is busy; try again");
		/* A deadlock or a serialization failure: the transaction, run again, may pass. */
		err->transient = strcmp(state, "55P03") != 0;
		return E_UNAVAILABLE;
	}
	/*
	 * A replica that has not yet replayed a migration the primary applied
	 * lacks a table, column or function for a moment: unavailable, not a bug.
	 */
	if (!strncmp(state, "42", 2) && !strcmp(role, "replica")) {
		log_warn("postgresql (replica): %s (%s): has it replayed the latest migration?", msg, state);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	if (!strcmp(state, "25006")) {
		log_error("postgresql (%s): %s", role, msg);
		return error_set(err, E_UNAVAILABLE, "The database is read-only");
	}
	if (!strcmp(state, "23505"))
		return error_set(err, E_CONFLICT, "A row with this name or slug already exists");
	if (!strncmp(state, "23", 2)) {
		log_error("postgresql (%s): constraint failed: %s (%s)", role, msg, state);
		return error_set(err, E_CONFLICT, "The change conflicts with existing data");
	}
	if (!strncmp(state, "54", 2)) {
		log_warn("postgresql (%s): %s (%s)", role, msg, state);
		return error_set(err, E_TOOLARGE, "The text is too large to store and index");
	}
	log_error("postgresql (%s): unexpected failure: %s (%s)", role, msg, state);
	return error_set(err, E_INTERNAL, "Internal Server Error");
}

/*
 * Words a uniqueness race the way the check before the write would have:
 * the unique index's name says which column clashed.
 */
enum status pg_conflict_words(struct pg_conn *c, enum status rc, const char *what,
			      const char *name, const char *slug, struct error *err)
{
	if (rc != E_CONFLICT || !pg_state_is(c, "23505"))
		return rc;
	log_debug("postgresql (%s): a concurrent write took the value first (%s)", c->pool->role,
		  c->constraint);
	if (strstr(c->constraint, "_name"))
		return error_set(err, E_CONFLICT, "%s with name '%s' already exists", what, name);
	if (strstr(c->constraint, "_slug"))
		return error_set(err, E_CONFLICT, "%s with slug '%s' already exists", what, slug);
	return rc;
}

/* ---- I/O against a deadline -------------------------------------------- */

/*
 * Waits until the connection's socket is ready for `events`. Returns the
 * events that occurred, 0 when the deadline (0: none) passed first, -1 on
 * failure.
 */
int pg_wait_socket(PGconn *db, short events, uint64_t deadline_ns)
{
	int fd = PQsocket(db);
	if (fd < 0)
		return -1;
	for (;;) {
		int ms = -1;
		if (deadline_ns) {
			uint64_t now = clock_mono_ns();
			if (now >= deadline_ns)
				return 0;
			uint64_t left = (deadline_ns - now + 999999) / 1000000;
			ms = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, ms);
		if (n > 0)
			return p.revents ? p.revents : events;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Sends what libpq has queued and collects the result of the one command
 * just sent. Returns it (the caller PQclears it), or NULL when the
 * connection failed or the deadline passed, the connection then marked
 * broken. Of several results, the first failure wins.
 */
static PGresult *pg_collect(struct pg_conn *c)
{
	PGconn *db = c->db;
	for (;;) {
		int f = PQflush(db);
		if (f < 0)
			goto lost;
		if (f == 0)
			break;
		int w = pg_wait_socket(db, POLLIN | POLLOUT, c->deadline_ns);
		if (w == 0)
			goto late;
		if (w < 0 || ((w & POLLIN) && !PQconsumeInput(db)))
			goto lost;
	}
	PGresult *res = NULL;
	for (;;) {
		while (PQisBusy(db)) {
			int w = pg_wait_socket(db, POLLIN, c->deadline_ns);
			if (w == 0) {
				PQclear(res);
				goto late;
			}
			if (w < 0 || !PQconsumeInput(db)) {
				/* libpq turns what it read into results: drain them. */
				if (PQstatus(db) == CONNECTION_OK) {
					PQclear(res);
					goto lost;
				}
				break;
			}
		}
		PGresult *r = PQgetResult(db);
		if (!r)
			break;
		ExecStatusType s = res ? PQresultStatus(res) : PGRES_COMMAND_OK;
		if (!res || s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
			PQclear(res);
			res = r;
		} else {
			PQclear(r);
		}
		if (PQstatus(db) != CONNECTION_OK)
			break;
	}
	if (PQstatus(db) != CONNECTION_OK)
		c->broken = true;
	return res;
late:
	c->timed_out = true;
lost:
	c->broken = true;
	return NULL;
}

static bool pg_result_ok(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);
	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/* Settles a command just sent: OK with *out (NULL: discarded), or a failure. */
enum status pg_finish(struct pg_conn *c, bool sent, PGresult **out, struct error *err)
{
	if (out)
		*out = NULL;
	PGresult *r = NULL;
	if (sent)
		r = pg_collect(c);
	else
		c->broken = PQstatus(c->db) != CONNECTION_OK || c->broken;
	if (!r || !pg_result_ok(r)) {
		enum status rc = pg_fail(c, r, err);
		PQclear(r);
		return rc;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return OK;
}

/* ---- parameters ------------------------------------------------------------ */

/* Each adder returns the parameter's number ($1 is 1). */
int pg_p_text(struct pg_params *p, const char *s)
{
	assert(p->n < PG_MAX_PARAMS);
	p->v[p->n++] = s;
	return p->n;
}

int pg_p_int(struct pg_params *p, int64_t v)
{
	assert(p->n < PG_MAX_PARAMS);
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
	p->v[p->n] = p->num[p->n];
	return ++p->n;
}

/* An id, or NULL for 0. */
int pg_p_id(struct pg_params *p, int64_t v)
{
	return v ? pg_p_int(p, v) : pg_p_text(p, NULL);
}

/* A nullable timestamp: "" stands for NULL. */
int pg_p_ts(struct pg_params *p, const char *ts)
{
	return pg_p_text(p, ts[0] ? ts : NULL);
}

/* ---- statements -------------------------------------------------------------- */

/* Prepares the fixed statement `which` on this connection unless it is. */
static enum status pg_prepare_fixed(struct pg_conn *c, enum pg_stmt which, struct error *err)
{
	if (c->prepared[which])
		return OK;
	char name[16];
	snprintf(name, sizeof(name), "s%d", (int)which);
	enum status rc = pg_finish(c, PQsendPrepare(c->db, name, pg_sql[which], 0, NULL), NULL, err);
	if (rc == OK)
		c->prepared[which] = true;
	return rc;
}

/* Runs the fixed statement `which`, preparing it on this connection first if needed. */
enum status pg_q_fixed(struct pg_conn *c, enum pg_stmt which, const struct pg_params *p,
		       PGresult **out, struct error *err)
{
	enum status rc = pg_prepare_fixed(c, which, err);
	if (rc)
		return rc;
	char name[16];
	snprintf(name, sizeof(name), "s%d", (int)which);
	return pg_finish(c, PQsendQueryPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0),
		      out, err);
}

/* Runs SQL built at run time: parsed and planned with these values. */
enum status pg_q_built(struct pg_conn *c, const char *sql, const struct pg_params *p,
		       PGresult **out, struct error *err)
{
	return pg_finish(c, PQsendQueryParams(c->db, sql, p->n, NULL, p->v, NULL, NULL, 0), out, err);
}

/*
 * Prepares SQL built from a filter (its text is its key: the same filter
 * shape gives the same text, the values travel as parameters), so that a
 * repeated shape is parsed and planned once per connection instead of per
 * call. Writes the statement's name into `name`, or "" when the cache is
 * full (the caller then sends the SQL unprepared).
 */
static enum status pg_prepare_built(struct pg_conn *c, const char *sql, char name[16],
				    struct error *err)
{
	for (unsigned i = 0; i < c->nbuilt; i++) {
		if (!strcmp(c->built[i], sql)) {
			snprintf(name, 16, "d%u", i);
			return OK;
		}
	}
	name[0] = '\0';
	if (c->nbuilt == PG_BUILT_CACHE)
		return OK;
	char want[16];
	snprintf(want, sizeof(want), "d%u", c->nbuilt);
	enum status rc = pg_finish(c, PQsendPrepare(c->db, want, sql, 0, NULL), NULL, err);
	if (rc)
		return rc;
	c->built[c->nbuilt++] = xstrdup(sql);
	memcpy(name, want, sizeof(want));
	return OK;
}

/*
 * Runs statements in one round trip (libpq's pipeline mode): every one is
 * sent, then one Sync, then the results are read in order. out[i] receives
 * statement i's result (the caller PQclears them) when every statement
 * succeeded; on failure the first failing statement decides the status and
 * no result is kept. Statements not yet prepared on this connection are
 * prepared first (once per connection). Statements up to the Sync form one
 * implicit transaction; a pipeline that starts with BEGIN and ends with
 * COMMIT is one explicit transaction, left open (failed) if a statement
 * failed, for the caller to roll back.
 */
enum status pg_q_pipeline(struct pg_conn *c, size_t n, const struct pg_pq *qs, PGresult **out,
			      struct error *err)
{
	assert(n <= PG_MAX_PIPELINE);
	char names[PG_MAX_PIPELINE][16];
	for (size_t i = 0; i < n; i++) {
		out[i] = NULL;
		enum status rc = OK;
		if (!qs[i].sql) {
			rc = pg_prepare_fixed(c, qs[i].which, err);
			snprintf(names[i], sizeof(names[i]), "s%d", (int)qs[i].which);
		} else if (qs[i].prepare) {
			rc = pg_prepare_built(c, qs[i].sql, names[i], err);
		} else {
			names[i][0] = '\0';
		}
		if (rc)
			return rc;
	}
	if (!PQenterPipelineMode(c->db))
		return pg_finish(c, false, NULL, err);
	bool sent = true;
	for (size_t i = 0; sent && i < n; i++) {
		const struct pg_params *p = qs[i].p;
		int np = p ? p->n : 0;
		const char *const *v = p ? p->v : NULL;
		if (names[i][0])
			sent = PQsendQueryPrepared(c->db, names[i], np, v, NULL, NULL, 0);
		else
			sent = PQsendQueryParams(c->db, qs[i].sql, np, NULL, v, NULL, NULL, 0);
	}
	if (!sent || !PQpipelineSync(c->db)) {
		c->broken = true;
		return pg_finish(c, false, NULL, err);
	}
	enum status rc = OK;
	for (size_t i = 0; i <= n; i++) {
		PGresult *r = pg_collect(c);
		if (!r) {
			/* Lost, or late: the connection is dropped, with its pipeline. */
			enum status lost = pg_fail(c, NULL, err);
			for (size_t k = 0; k < i && k < n; k++) {
				PQclear(out[k]);
				out[k] = NULL;
			}
			return rc ? rc : lost;
		}
		ExecStatusType s = PQresultStatus(r);
		if (i == n) {
			/* The Sync's result. */
			if (s != PGRES_PIPELINE_SYNC && rc == OK)
				rc = pg_fail(c, r, err);
			PQclear(r);
		} else if (s == PGRES_PIPELINE_ABORTED) {
			PQclear(r);
		} else if (!pg_result_ok(r)) {
			if (rc == OK)
				rc = pg_fail(c, r, err);
			PQclear(r);
		} else {
			out[i] = r;
		}
	}
	if (!PQexitPipelineMode(c->db))
		c->broken = true;
	if (rc == OK && c->broken)
		rc = pg_fail(c, NULL, err);
	if (rc)
		for (size_t i = 0; i < n; i++) {
			PQclear(out[i]);
			out[i] = NULL;
		}
	return rc;
}

/* Runs a fixed statement with one id; *changed receives the rows it touched. */
enum status pg_q_on_id(struct pg_conn *c, enum pg_stmt which, int64_t id, int64_t *changed,
			   struct error *err)
{
	struct pg_params p = { 0 };
	pg_p_int(&p, id);
	PGresult *r;
	enum status rc = pg_q_fixed(c, which, &p, &r, err);
	if (rc)
		return rc;
	if (changed)
		*changed = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r)
							       : strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return OK;
}
