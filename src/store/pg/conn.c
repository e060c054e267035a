/*
 * conn.c: the PostgreSQL driver's connections and their two pools (the
 * primary, and the replica when read_url is set) of at most pool_size libpq
 * connections each, opened on demand. A caller that finds its pool
 * exhausted waits, at most the query timeout, for a connection to come
 * back.
 *
 * Outages: a connection that failed is never reused; an idle one is checked
 * (without a round trip) before it is handed out, so a restarted server's
 * closed connections are noticed and replaced. While the server is down,
 * each call fails in one connection attempt with E_UNAVAILABLE; when it
 * comes back, the next call connects again.
 */
#include "store/pg/pg.h"

#include <assert.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

/* At most one "cannot connect" line per pool in this many seconds. */
#define CONNECT_LOG_EVERY_S 5

/* Server notices and warnings (client_min_messages is warning) go to the log. */
static void pg_on_notice(void *arg, const PGresult *r)
{
	const struct pg_pool *pool = arg;
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	log_warn("postgresql (%s): %s", pool->role, msg ? msg : "notice");
}

void pg_conn_free(struct pg_conn *c)
{
	if (!c)
		return;
	PQfinish(c->db);
	for (unsigned i = 0; i < c->nbuilt; i++)
		free(c->built[i]);
	free(c);
}

/* Logs a failure to connect, at most once per CONNECT_LOG_EVERY_S per pool. */
static void pg_log_connect_failure(struct pg_pool *pool, const char *why)
{
	uint64_t now = clock_mono_ns();
	pthread_mutex_lock(&pool->lock);
	bool say = !pool->last_log_ns ||
		   now - pool->last_log_ns >= (uint64_t)CONNECT_LOG_EVERY_S * 1000000000u;
	unsigned more = pool->unlogged;
	if (say) {
		pool->last_log_ns = now;
		pool->unlogged = 0;
	} else {
		pool->unlogged++;
	}
	pthread_mutex_unlock(&pool->lock);
	if (say && more)
		log_error("postgresql (%s): cannot connect to %s: %s (and %u more failures)", pool->role,
			  pool->redacted, why, more);
	else if (say)
		log_error("postgresql (%s): cannot connect to %s: %s", pool->role, pool->redacted, why);
}

/*
 * Opens a connection and sets up its session: statement_timeout is the
 * query timeout, timestamps are UTC in ISO format, and a transaction left
 * idle (a stalled process) is ended by the server after twice the query
 * timeout, so it cannot hold row locks for ever. Defaults come before the
 * URL among libpq's parameters, so the URL can override them.
 */
enum status pg_conn_open(struct pg_pool *pool, uint64_t deadline_ns, struct pg_conn **out,
			 struct error *err)
{
	static const char *const keys[] = {
		"keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
		"fallback_application_name", "client_encoding", "dbname", NULL
	};
	const char *vals[] = { "1", "15", "5", "3", "insights", "UTF8", pool->conninfo, NULL };
	uint64_t now = clock_mono_ns();
	uint64_t connect_by = now + (uint64_t)pool->connect_timeout_ms * 1000000u;
	if (deadline_ns && deadline_ns < connect_by)
		connect_by = deadline_ns;

	struct pg_conn *c = xcalloc(1, sizeof(*c));
	c->pool = pool;
	c->db = PQconnectStartParams(keys, vals, 1);
	if (!c->db) {
		free(c);
		log_error("postgresql (%s): out of memory while connecting", pool->role);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	const char *why = NULL;
	if (PQstatus(c->db) == CONNECTION_BAD)
		ps = PGRES_POLLING_FAILED;
	while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
		int w = pg_wait_socket(c->db, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, connect_by);
		if (w == 0) {
			why = "timed out";
			break;
		}
		if (w < 0) {
			ps = PGRES_POLLING_FAILED;
			break;
		}
		ps = PQconnectPoll(c->db);
	}
	if (ps != PGRES_POLLING_OK) {
		char msg[300];
		pg_describe(c, NULL, msg, sizeof(msg));
		pg_log_connect_failure(pool, why ? why : msg);
		/*
		 * The server answered and said no: that lasts until someone
		 * changes the credentials, the database or pg_hba.conf. Anything
		 * else (refused, unreachable, starting up) may pass by itself.
		 */
		static const char *const refusals[] = {
			"authentication failed", "no password supplied", "does not exist",
			"not permitted to log in", "no pg_hba.conf entry", "permission denied",
		};
		bool refused = false;
		for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
			refused = refused || (!why && strstr(msg, refusals[i]));
		pg_conn_free(c);
		error_set(err, E_UNAVAILABLE, "The database is unavailable");
		err->transient = !refused;
		return E_UNAVAILABLE;
	}
	/* All I/O is polled against deadlines: libpq must never block. */
	if (PQsetnonblocking(c->db, 1) != 0) {
		log_error("postgresql (%s): cannot make the connection non-blocking", pool->role);
		pg_conn_free(c);
		return error_set(err, E_UNAVAILABLE, "The database is unavailable");
	}
	PQsetNoticeReceiver(c->db, pg_on_notice, pool);

	char timeout[24], idle[24];
	unsigned qt = pool->cfg->query_timeout_ms;
	snprintf(timeout, sizeof(timeout), "%u", qt);
	snprintf(idle, sizeof(idle), "%llu", 2ull * qt);
	struct pg_params p = { 0 };
	pg_p_text(&p, timeout);
	pg_p_text(&p, idle);
	c->deadline_ns = connect_by;
	enum status rc = pg_q_built(c,
				 "SELECT set_config('statement_timeout', $1, false),"
				 " set_config('idle_in_transaction_session_timeout', $2, false),"
				 " set_config('TimeZone', 'UTC', false),"
				 " set_config('DateStyle', 'ISO, YMD', false),"
				 " set_config('IntervalStyle', 'postgres', false),"
				 " set_config('client_min_messages', 'warning', false)",
				 &p, NULL, err);
	if (rc) {
		pg_conn_free(c);
		return rc;
	}
	c->deadline_ns = 0;
	*out = c;
	return OK;
}

enum status pg_conn_open_unbounded(struct pg_pool *pool, struct pg_conn **out, struct error *err)
{
	enum status rc = pg_conn_open(pool, 0, out, err);
	if (rc)
		return rc;
	struct pg_params none = { 0 };
	rc = pg_q_built(*out, "SELECT set_config('statement_timeout', '0', false),"
			" set_config('idle_in_transaction_session_timeout', '0', false)", &none, NULL, err);
	if (rc) {
		pg_conn_free(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * True when an idle connection can still be used. Without a round trip: an
 * idle connection has nothing to say, so anything readable on its socket is
 * a server that shut down, restarted or ended the session (a FATAL message,
 * then end of file).
 */
static bool pg_conn_alive(struct pg_conn *c)
{
	if (c->broken || PQstatus(c->db) != CONNECTION_OK ||
	    PQtransactionStatus(c->db) != PQTRANS_IDLE)
		return false;
	struct pollfd p = { .fd = PQsocket(c->db), .events = POLLIN };
	return p.fd >= 0 && poll(&p, 1, 0) == 0;
}

static void pg_timespec_at(uint64_t mono_ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(mono_ns / 1000000000u);
	ts->tv_nsec = (long)(mono_ns % 1000000000u);
}

/*
 * Takes an idle connection, or opens one while the pool has room, or waits
 * for one to come back until `wait_until` (0: no limit).
 */
enum status pg_conn_take(struct pg_pool *pool, uint64_t wait_until, uint64_t deadline_ns,
			 struct pg_conn **out, struct error *err)
{
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct pg_conn *c = pool->idle;
		if (c) {
			pool->idle = c->next;
			pool->nidle--;
			pthread_mutex_unlock(&pool->lock);
			c->next = NULL;
			if (pg_conn_alive(c)) {
				*out = c;
				return OK;
			}
			log_info("postgresql (%s): dropping a connection the server closed", pool->role);
			pg_conn_free(c);
			pthread_mutex_lock(&pool->lock);
			pool->open--;
			continue;
		}
		if (pool->open < pool->size) {
			pool->open++;
			pthread_mutex_unlock(&pool->lock);
			enum status rc = pg_conn_open(pool, deadline_ns, out, err);
			if (rc) {
				pthread_mutex_lock(&pool->lock);
				pool->open--;
				pthread_cond_signal(&pool->returned);
				pthread_mutex_unlock(&pool->lock);
			}
			return rc;
		}
		if (wait_until && clock_mono_ns() >= wait_until)
			break;
		if (wait_until) {
			struct timespec ts;
			pg_timespec_at(wait_until, &ts);
			pthread_cond_timedwait(&pool->returned, &pool->lock, &ts);
		} else {
			pthread_cond_wait(&pool->returned, &pool->lock);
		}
	}
	pthread_mutex_unlock(&pool->lock);
	log_warn("postgresql (%s): every connection of the pool (%u) stayed busy for the query timeout",
		 pool->role, pool->size);
	return error_set(err, E_UNAVAILABLE, "The database is busy; try again");
}

/* Returns a connection to its pool, or closes it when it cannot be trusted. */
void pg_conn_give(struct pg_conn *c)
{
	struct pg_pool *pool = c->pool;
	bool keep = !c->broken && PQstatus(c->db) == CONNECTION_OK &&
		    PQtransactionStatus(c->db) == PQTRANS_IDLE;
	c->deadline_ns = 0;
	c->timed_out = c->committing = false;
	c->sqlstate[0] = c->constraint[0] = '\0';
	if (!keep)
		pg_conn_free(c);
	pthread_mutex_lock(&pool->lock);
	if (keep) {
		c->next = pool->idle;
		pool->idle = c;
		pool->nidle++;
	} else {
		pool->open--;
	}
	pthread_cond_signal(&pool->returned);
	pthread_mutex_unlock(&pool->lock);
}

void pg_pool_init(struct pg_pool *pool, const char *role, const struct dburl *u,
		  unsigned connect_timeout_ms, const struct store_config *cfg)
{
	memset(pool, 0, sizeof(*pool));
	pool->role = role;
	pool->conninfo = xstrdup(u->conninfo);
	pool->redacted = xstrdup(u->redacted);
	pool->size = cfg->pool_size ? cfg->pool_size : PG_POOL_SIZE_DEFAULT;
	pool->connect_timeout_ms = connect_timeout_ms;
	pool->cfg = cfg;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->returned, &attr);
	pthread_condattr_destroy(&attr);
}

void pg_pool_release(struct pg_pool *pool)
{
	struct pg_conn *c = pool->idle;
	while (c) {
		struct pg_conn *next = c->next;
		pg_conn_free(c);
		pool->open--;
		pool->nidle--;
		c = next;
	}
	assert(pool->open == 0);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->returned);
	free(pool->conninfo);
	free(pool->redacted);
}

/*
 * Checks that libpq can parse a connection URI (without echoing it: a
 * parse error may quote the password) and reads its connect_timeout.
 */
enum status pg_check_conninfo(const struct dburl *u, unsigned *connect_timeout_ms,
			      struct error *err)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(u->conninfo, &why);
	if (!opts) {
		PQfreemem(why);
		log_error("postgresql: libpq cannot parse %s", u->redacted);
		return error_set(err, E_INVALID, "libpq cannot parse the database URL");
	}
	*connect_timeout_ms = PG_CONNECT_TIMEOUT_MS_DEFAULT;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!strcmp(o->keyword, "connect_timeout") && o->val && *o->val) {
			long v = strtol(o->val, NULL, 10);
			if (v > 0)
				*connect_timeout_ms = (unsigned)(v < 2 ? 2000 : v * 1000);
		}
	}
	PQconninfoFree(opts);
	return OK;
}
