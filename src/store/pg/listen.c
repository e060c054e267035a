/*
 * listen.c: hearing other instances' writes. An instance that watches
 * (pg_watch) listens on a connection of its own to the channel every write
 * notifies (run.c), and tells the service, which bumps its data version;
 * while it cannot listen, it says so, and the service caches nothing.
 */
#include "store/pg/pg.h"

#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/banned.h"

/* How often the listener looks at its stop flag, and retries connecting. */
#define WATCH_POLL_MS 200
#define WATCH_RETRY_MS 1000

/* Sleeps `ms`, in WATCH_POLL_MS steps; false when told to stop meanwhile. */
static bool pg_watch_nap(struct pg_store *s, unsigned ms)
{
	for (unsigned slept = 0; slept < ms; slept += WATCH_POLL_MS) {
		if (atomic_load(&s->stop_watching))
			return false;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = WATCH_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return !atomic_load(&s->stop_watching);
}

/* A connection that LISTENs, or NULL; *version: the last data version taken. */
static struct pg_conn *pg_watch_connect(struct pg_store *s, uint64_t *version)
{
	struct pg_conn *c = NULL;
	struct error err = ERROR_INIT;
	if (fault_armed("pg.listen", NULL))
		return NULL;
	if (pg_conn_open(&s->primary, 0, &c, &err) != OK)
		return NULL;
	struct pg_params none = { 0 };
	c->deadline_ns = clock_mono_ns() + (uint64_t)s->primary.connect_timeout_ms * 1000000u;
	if (pg_q_built(c, "LISTEN " PG_CHANNEL, &none, NULL, &err) != OK) {
		pg_conn_free(c);
		return NULL;
	}
	/*
	 * Versions are taken after their write committed: one taken before
	 * this point belongs to data that the reads to come will see.
	 */
	PGresult *r = NULL;
	*version = 0;
	if (pg_q_built(c, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
			  " FROM insights_data_version", &none, &r, &err) != OK) {
		pg_conn_free(c);
		return NULL;
	}
	*version = (uint64_t)pg_col_int(r, 0, 0);
	PQclear(r);
	c->deadline_ns = 0;
	return c;
}

/*
 * The listener's thread: reports every notification, and the times when it
 * cannot hear them (no connection), to the watcher's callback.
 */
static void *pg_watch_main(void *arg)
{
	struct pg_store *s = arg;
	struct pg_conn *c = NULL;
	while (!atomic_load(&s->stop_watching)) {
		if (!c) {
			uint64_t version;
			c = pg_watch_connect(s, &version);
			if (!c) {
				pg_watch_nap(s, WATCH_RETRY_MS);
				continue;
			}
			/* Whatever happened while nobody listened counts as a change. */
			s->changed(s->changed_arg, true, version);
		}
		int w = pg_wait_socket(c->db, POLLIN, clock_mono_ns() + WATCH_POLL_MS * 1000000ull);
		bool lost = w < 0 || (w > 0 && !PQconsumeInput(c->db)) ||
			    PQstatus(c->db) != CONNECTION_OK;
		bool heard = false;
		uint64_t version = 0;
		PGnotify *n;
		while ((n = PQnotifies(c->db))) {
			heard = true;
			uint64_t v = n->extra ? strtoull(n->extra, NULL, 10) : 0;
			if (v > version)
				version = v;
			PQfreemem(n);
		}
		if (heard)
			s->changed(s->changed_arg, true, version);
		if (lost) {
			log_warn("postgresql: lost the connection that listens to other instances");
			s->changed(s->changed_arg, false, 0);
			pg_conn_free(c);
			c = NULL;
		}
	}
	pg_conn_free(c);
	return NULL;
}

enum status pg_watch(struct store *st, store_changed_fn changed, void *arg,
		     struct error *err)
{
	struct pg_store *s = pg_of(st);
	if (s->watching)
		return error_set(err, E_INTERNAL, "already watching");
	/*
	 * A replica may not have replayed a write yet when its notification
	 * arrives: what is read then would stay cached after it has.
	 */
	if (s->replica)
		return error_set(err, E_INTERNAL, "reads come from a replica, which may lag behind");
	s->changed = changed;
	s->changed_arg = arg;
	atomic_store(&s->stop_watching, false);
	if (pthread_create(&s->watcher, NULL, pg_watch_main, s))
		return error_set(err, E_INTERNAL, "cannot start the listening thread");
	s->watching = true;
	return OK;
}

void pg_watch_stop(struct pg_store *s)
{
	if (!s->watching)
		return;
	atomic_store(&s->stop_watching, true);
	pthread_join(s->watcher, NULL);
	s->watching = false;
}
