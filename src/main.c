/*
 * main.c: the command line, and the ordered start-up and shutdown of the
 * service.
 *
 *   insights serve [options]       migrate, then serve the API
 *   insights migrate [options]     apply pending schema migrations
 *   insights recount-tags          repair tags.usage_count drift
 *   insights export|import|backup|check   your data, in and out (core/transfer.h)
 *   insights healthcheck [--url U] GET the health URL: exit 0 on 200, 1 otherwise
 *
 * Exit status: 0 on success, 1 when the work failed (the database is
 * unreachable, the port is taken), 2 for a usage or configuration error.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/cache.h"
#include "conf/conf.h"
#include "conf/dburl.h"
#include "core/seed.h"
#include "core/service.h"
#include "core/transfer.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/probe.h"
#include "lib/clock.h"
#include "lib/cpus.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "lib/banned.h"

#ifndef INSIGHTS_VERSION
#define INSIGHTS_VERSION "0.0.0-dev"
#endif

struct command {
	const char *name;
	int (*run)(const struct config *cfg);
	unsigned scope;
	const char *summary;
};

static int cmd_serve(const struct config *cfg);
static int cmd_migrate(const struct config *cfg);
static int cmd_recount_tags(const struct config *cfg);
static int cmd_seed(const struct config *cfg);
static int cmd_token(const struct config *cfg);
static int cmd_export(const struct config *cfg);
static int cmd_import(const struct config *cfg);
static int cmd_backup(const struct config *cfg);
static int cmd_check(const struct config *cfg);
static int cmd_healthcheck(const struct config *cfg);

static const struct command commands[] = {
	{ "serve", cmd_serve, CONF_SERVE, "apply pending migrations, then serve the API" },
	{ "migrate", cmd_migrate, CONF_DB, "apply pending schema migrations and exit" },
	{ "recount-tags", cmd_recount_tags, CONF_DB,
	  "set every tag's usage_count to its real number of insights, printing each fix" },
	{ "seed", cmd_seed, CONF_DB | CONF_SEED,
	  "fill the database with a deterministic, realistic demo dataset" },
	{ "token", cmd_token, CONF_DB | CONF_TOKEN,
	  "API tokens: token create --name NAME --role ROLE [--expires-in 90d] | token list | "
	  "token revoke NAME" },
	{ "export", cmd_export, CONF_DB | CONF_EXPORT,
	  "write every category, tag and insight: export [--format jsonl|csv|markdown] "
	  "[--output PATH] [--quiet]" },
	{ "import", cmd_import, CONF_DB | CONF_IMPORT,
	  "read a JSON Lines export back, all or nothing: import FILE "
	  "[--on-conflict fail|skip|update] [--quiet]" },
	{ "backup", cmd_backup, CONF_DB,
	  "copy a SQLite database while it serves, then check the copy: backup PATH [--quiet]" },
	{ "check", cmd_check, CONF_DB,
	  "check the database, its search index and every counter; exit 1 on any drift" },
	{ "healthcheck", cmd_healthcheck, CONF_HEALTH,
	  "GET the service's health URL: exit 0 when it answers 200, 1 otherwise (for HEALTHCHECK)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: insights <command> [options]\n"
		     "       insights --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'insights <command> --help' for the options of a command.\n");
}

static void command_usage(FILE *out, const struct command *c)
{
	fprintf(out, "usage: insights %s [options]\n  %s\n\noptions (flag, then environment variable):\n",
		c->name, c->summary);
	conf_print_help(out, c->scope);
}

static void apply_logging(const struct config *cfg)
{
	enum log_level level = LOG_INFO;
	enum log_format format = LOG_FORMAT_JSON;
	log_level_parse(cfg->log_level, &level);
	log_format_parse(cfg->log_format, &format);
	log_setup(level, format);
}

/*
 * Opens the store a configuration names (`serving`: for `serve`); exits the
 * process's way on failure.
 */
static int open_store(const struct config *cfg, bool serving, struct store **out)
{
	struct store_config sc = {
		.pool_size = cfg->pool_size,
		.busy_timeout_ms = cfg->busy_timeout_ms,
		.query_timeout_ms = cfg->query_timeout_ms,
		.read_url = cfg->read_database_url,
		.search_window = cfg->search_window,
		.serving = serving,
	};
	struct error err = ERROR_INIT;
	enum status rc = store_open(cfg->database_url, &sc, out, &err);
	if (rc == OK)
		return 0;
	log_error("cannot open the database: %s", err.detail);
	return rc == E_INVALID ? 2 : 1;
}

static int migrate(struct store *st)
{
	struct error err = ERROR_INIT;
	int applied = 0;
	if (store_migrate(st, &applied, &err)) {
		log_error("migration failed: %s", err.detail);
		return 1;
	}
	if (applied)
		log_info("database schema migrated (%d migration%s applied)", applied, applied == 1 ? "" : "s");
	return 0;
}

/*
 * `serve` on a remote database (PostgreSQL) waits for it: in a cluster the
 * database often starts after the service. The first connection (the
 * migration's) is tried again with a growing pause, up to timeout_s; a
 * stop signal (in `stop`, blocked) ends the wait. Returns an exit status.
 */
static int migrate_when_reachable(struct store *st, unsigned timeout_s, const sigset_t *stop)
{
	uint64_t until = clock_mono_ns() + (uint64_t)timeout_s * 1000000000u;
	unsigned pause_ms = 250, attempt = 1;
	for (;;) {
		struct error err = ERROR_INIT;
		int applied = 0;
		enum status rc = store_migrate(st, &applied, &err);
		if (rc == OK) {
			if (applied)
				log_info("database schema migrated (%d migration%s applied)", applied,
					 applied == 1 ? "" : "s");
			return 0;
		}
		if (rc != E_UNAVAILABLE || !err.transient ||
		    clock_mono_ns() + pause_ms * 1000000ull >= until) {
			log_error("migration failed: %s", err.detail);
			return 1;
		}
		log_warn("the database is not reachable yet (attempt %u): trying again in %u ms",
			 attempt++, pause_ms);
		struct timespec ts = { .tv_sec = pause_ms / 1000, .tv_nsec = (pause_ms % 1000) * 1000000L };
		if (sigtimedwait(stop, NULL, &ts) > 0) {
			log_info("stopped while waiting for the database");
			return 1;
		}
		pause_ms = pause_ms * 2 > 5000 ? 5000 : pause_ms * 2;
	}
}

/* Opens the store and brings its schema up to date; returns an exit status. */
static int open_migrated(const struct config *cfg, bool serving, struct store **out)
{
	int rc = open_store(cfg, serving, out);
	if (rc)
		return rc;
	rc = migrate(*out);
	if (rc)
		store_close(*out);
	return rc;
}

static int cmd_migrate(const struct config *cfg)
{
	struct store *st;
	int rc = open_migrated(cfg, false, &st);
	if (rc)
		return rc;
	log_info("database schema is up to date");
	store_close(st);
	return 0;
}

static int cmd_recount_tags(const struct config *cfg)
{
	struct store *st;
	int rc = open_migrated(cfg, false, &st);
	if (rc)
		return rc;
	struct service svc;
	service_init(&svc, st);
	struct arena a = ARENA_INIT;
	struct tag_fix *fixes;
	size_t n;
	struct error err = ERROR_INIT;
	if (svc_recount_tags(&svc, &a, &fixes, &n, &err)) {
		log_error("recount failed: %s", err.detail);
		rc = 1;
	} else {
		for (size_t i = 0; i < n; i++)
			printf("tag %lld (%s): usage_count %lld -> %lld\n", (long long)fixes[i].id,
			       fixes[i].name, (long long)fixes[i].was, (long long)fixes[i].now);
		if (n)
			printf("repaired %zu tag%s\n", n, n == 1 ? "" : "s");
		else
			printf("every tag's usage_count matches its insights\n");
	}
	arena_release(&a);
	service_release(&svc);
	store_close(st);
	return rc;
}

/* An option's value, or NULL for an empty (unset) one. */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* `insights token VERB [NAME]`: the verb and name, read before the options. */
static const char *token_verb;
static const char *token_arg;

static int cmd_token(const struct config *cfg)
{
	struct store *st;
	int rc = open_migrated(cfg, false, &st);
	if (rc)
		return rc;
	struct service svc;
	service_init(&svc, st);
	struct arena a = ARENA_INIT;
	struct error err = ERROR_INIT;
	if (!strcmp(token_verb, "create")) {
		struct token_input in = { .name = nonempty(cfg->token_name),
					  .role = nonempty(cfg->token_role),
					  .expires_in = nonempty(cfg->token_expires_in) };
		char secret[TOKEN_SECRET_SIZE];
		struct token t;
		if (svc_token_create(&svc, &a, &in, secret, &t, &err)) {
			fprintf(stderr, "insights token create: %s\n",
				err.nproblems ? err.problems[0].msg : err.detail);
			rc = err.status == E_INVALID ? 2 : 1;
		} else {
			/* The secret on stdout alone, so that scripts can capture it; the rest on stderr. */
			printf("%s\n", secret);
			fprintf(stderr, "token '%s' (%s) created%s%s; it is shown only this once\n",
				t.name, role_name(t.role), t.expires_at[0] ? ", expires " : "",
				t.expires_at);
			memset(secret, 0, sizeof(secret));
		}
	} else if (!strcmp(token_verb, "list")) {
		struct token *t;
		size_t n;
		if (svc_token_list(&svc, &a, &t, &n, &err)) {
			log_error("cannot list tokens: %s", err.detail);
			rc = 1;
		}
		for (size_t i = 0; rc == 0 && i < n; i++)
			printf("%-24s %-8s ...%s created %s expires %s last used %s\n", t[i].name,
			       role_name(t[i].role), t[i].last4, t[i].created_at,
			       t[i].expires_at[0] ? t[i].expires_at : "never",
			       t[i].last_used_at[0] ? t[i].last_used_at : "never");
	} else {
		if (svc_token_revoke(&svc, token_arg, &err)) {
			fprintf(stderr, "insights token revoke: %s\n", err.detail);
			rc = 1;
		} else {
			fprintf(stderr, "token '%s' revoked\n", token_arg);
		}
	}
	arena_release(&a);
	service_release(&svc);
	store_close(st);
	return rc;
}

/* --quiet, taken out of the arguments before the options are read. */
static bool quiet;
/* The FILE or PATH argument of import and backup. */
static const char *path_arg;

struct seed_progress {
	struct progress bar;
	uint64_t total;
};

static void seed_progress(void *arg, uint64_t done)
{
	struct seed_progress *sp = arg;
	progress_update(&sp->bar, done, sp->total);
}

static int cmd_seed(const struct config *cfg)
{
	struct store *st;
	int rc = open_migrated(cfg, false, &st);
	if (rc)
		return rc;
	struct service svc;
	service_init(&svc, st);
	uint64_t count = cfg->seed_count;
	struct seed_progress sp = { .total = count };
	progress_init(&sp.bar, stderr, "seeded", "insights", quiet);
	struct seed_options opt = {
		.count = count,
		.random_seed = cfg->seed_random,
		/* A fixed day keeps the data identical from one run to the next. */
		.until = (time_t)cfg->seed_until,
		.progress = seed_progress,
		.progress_arg = &sp,
		.progress_every = count >= 100 ? count / 100 : 1,
	};
	struct seed_report report;
	struct error err = ERROR_INIT;
	uint64_t t0 = clock_mono_ns();
	if (seed_run(&svc, &opt, &report, &err)) {
		log_error("seed failed after %llu insights: %s", (unsigned long long)report.created,
			  err.nproblems ? err.problems[0].msg : err.detail);
		rc = 1;
	}
	sp.bar.done = report.created;
	progress_finish(&sp.bar);
	double secs = (double)(clock_mono_ns() - t0) / 1e9;
	printf("seeded %llu insights, %u tags, %u categories in %.2f s (%.0f insights/s)\n",
	       (unsigned long long)report.created, report.tags, report.categories, secs,
	       secs > 0 ? (double)report.created / secs : 0.0);
	service_release(&svc);
	store_close(st);
	return rc;
}

/* ---- your data, in and out ------------------------------------------------------------ */

static void bar_update(void *arg, uint64_t done, uint64_t total)
{
	progress_update(arg, done, total);
}

/* Writes a Markdown export into the folder `dir` (created if needed). */
static int export_markdown(struct export_cursor *c, const char *dir, struct progress *bar)
{
	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "insights export: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	struct buf name = BUF_INIT, text = BUF_INIT, file = BUF_INIT;
	int rc = 0;
	/* First the categories and tags, as JSON Lines. */
	buf_addf(&file, "%s/%s", dir, TRANSFER_TAXONOMY);
	FILE *tax = fopen(buf_cstr(&file), "w");
	for (bool more = tax != NULL; rc == 0 && more;) {
		struct error err = ERROR_INIT;
		buf_reset(&text);
		if (export_next(c, &text, &more, &err)) {
			fprintf(stderr, "insights export: %s\n", err.detail);
			rc = 1;
		} else if (text.len && fwrite(text.data, 1, text.len, tax) != text.len) {
			rc = 1;
		}
	}
	if (!tax || fclose(tax)) {
		fprintf(stderr, "insights export: cannot write %s: %s\n", buf_cstr(&file), strerror(errno));
		rc = 1;
	}
	for (; rc == 0;) {
		bool more;
		struct error err = ERROR_INIT;
		buf_reset(&name);
		buf_reset(&text);
		if (export_next_file(c, &name, &text, &more, &err)) {
			fprintf(stderr, "insights export: %s\n", err.detail);
			rc = 1;
			break;
		}
		if (!more)
			break;
		buf_reset(&file);
		buf_addf(&file, "%s/%s", dir, buf_cstr(&name));
		FILE *f = fopen(buf_cstr(&file), "w");
		if (!f || fwrite(text.data, 1, text.len, f) != text.len || fclose(f)) {
			fprintf(stderr, "insights export: cannot write %s: %s\n", buf_cstr(&file),
				strerror(errno));
			rc = 1;
			break;
		}
		progress_update(bar, export_done(c), export_total(c));
	}
	buf_release(&name);
	buf_release(&text);
	buf_release(&file);
	return rc;
}

static int cmd_export(const struct config *cfg)
{
	enum transfer_format format;
	if (transfer_format_parse(cfg->export_format, &format)) {
		fprintf(stderr, "insights export: --format must be jsonl, csv or markdown, not '%s'\n",
			cfg->export_format);
		return 2;
	}
	bool to_stdout = !strcmp(cfg->export_output, "-");
	if (format == TRANSFER_MARKDOWN && to_stdout) {
		fprintf(stderr, "insights export: --format markdown writes a folder: name it with --output\n");
		return 2;
	}
	struct store *st;
	int rc = open_migrated(cfg, false, &st);
	if (rc)
		return rc;
	struct service svc;
	service_init(&svc, st);
	struct export_cursor *c = NULL;
	struct error err = ERROR_INIT;
	struct progress bar;
	progress_init(&bar, stderr, "exported", "insights", quiet);
	if (export_open(&svc, format, &c, &err)) {
		fprintf(stderr, "insights export: %s\n", err.detail);
		rc = 1;
	} else if (format == TRANSFER_MARKDOWN) {
		rc = export_markdown(c, cfg->export_output, &bar);
	} else {
		FILE *out = to_stdout ? stdout : fopen(cfg->export_output, "w");
		if (!out) {
			fprintf(stderr, "insights export: cannot write %s: %s\n", cfg->export_output,
				strerror(errno));
			rc = 1;
		}
		struct buf chunk = BUF_INIT;
		for (bool more = true; rc == 0 && more;) {
			buf_reset(&chunk);
			if (export_next(c, &chunk, &more, &err)) {
				fprintf(stderr, "insights export: %s\n", err.detail);
				rc = 1;
			} else if (chunk.len && fwrite(chunk.data, 1, chunk.len, out) != chunk.len) {
				fprintf(stderr, "insights export: cannot write: %s\n", strerror(errno));
				rc = 1;
			}
			progress_update(&bar, export_done(c), export_total(c));
		}
		buf_release(&chunk);
		if (out && (to_stdout ? fflush(out) : fclose(out)) && rc == 0) {
			fprintf(stderr, "insights export: cannot write: %s\n", strerror(errno));
			rc = 1;
		}
	}
	if (rc == 0) {
		bar.done = export_done(c);
		progress_finish(&bar);
	}
	export_close(c);
	service_release(&svc);
	store_close(st);
	return rc;
}

static int cmd_import(const struct config *cfg)
{
	enum transfer_conflict conflict;
	if (transfer_conflict_parse(cfg->import_conflict, &conflict)) {
		fprintf(stderr, "insights import: --on-conflict must be fail, skip or update, not '%s'\n",
			cfg->import_conflict);
		return 2;
	}
	struct store *st;
	int rc = open_migrated(cfg, false, &st);
	if (rc)
		return rc;
	struct service svc;
	service_init(&svc, st);
	struct progress bar;
	progress_init(&bar, stderr, "imported", "bytes", quiet);
	struct import_report report;
	struct error err = ERROR_INIT;
	if (import_run(&svc, path_arg, conflict, bar_update, &bar, &report, &err)) {
		for (size_t i = 0; i < report.nproblems; i++)
			fprintf(stderr, "%s: %s\n", path_arg, report.problems[i]);
		fprintf(stderr, "insights import: %s\n", err.detail);
		rc = 1;
	} else {
		bar.unit = "records";
		bar.done = report.records;
		progress_finish(&bar);
		static const char *const kinds[] = { "categories", "tags", "insights" };
		for (int k = 0; k < 3; k++)
			printf("%s: %llu created, %llu updated, %llu skipped\n", kinds[k],
			       (unsigned long long)report.created[k], (unsigned long long)report.updated[k],
			       (unsigned long long)report.skipped[k]);
	}
	import_report_release(&report);
	service_release(&svc);
	store_close(st);
	return rc;
}

static int cmd_backup(const struct config *cfg)
{
	struct store *st;
	int rc = open_migrated(cfg, false, &st);
	if (rc)
		return rc;
	struct service svc;
	service_init(&svc, st);
	if (!svc_can_backup(&svc)) {
		fprintf(stderr, "insights backup: a %s database is backed up with its own tools: use "
				"pg_dump (for example pg_dump --format=custom \"$DATABASE_URL\" > insights.dump)\n",
			store_name(st));
		rc = 2;
	} else {
		struct progress bar;
		progress_init(&bar, stderr, "backed up", "pages", quiet);
		struct error err = ERROR_INIT;
		if (svc_backup(&svc, path_arg, bar_update, &bar, &err)) {
			fprintf(stderr, "insights backup: %s\n", err.detail);
			rc = 1;
		} else {
			progress_finish(&bar);
			printf("backed up to %s: integrity check ok\n", path_arg);
		}
	}
	service_release(&svc);
	store_close(st);
	return rc;
}

static int cmd_check(const struct config *cfg)
{
	struct store *st;
	int rc = open_migrated(cfg, false, &st);
	if (rc)
		return rc;
	struct service svc;
	service_init(&svc, st);
	struct arena a = ARENA_INIT;
	struct store_check out;
	struct error err = ERROR_INIT;
	if (svc_check(&svc, &a, &out, &err)) {
		fprintf(stderr, "insights check: %s\n", err.detail);
		rc = 1;
	} else {
		for (size_t i = 0; i < out.n; i++)
			printf("drift: %s\n", out.problems[i]);
		printf("checked %lld insights, %lld tags, %lld categories: %s\n",
		       (long long)out.insights, (long long)out.tags, (long long)out.categories,
		       out.n ? "problems found" : "consistent");
		rc = out.n ? 1 : 0;
	}
	arena_release(&a);
	service_release(&svc);
	store_close(st);
	return rc;
}

/*
 * `insights healthcheck`: what a container's HEALTHCHECK runs (the image
 * has no curl). Exit 0 when the URL answers 200 in time, 1 on any other
 * answer or none, 2 when the URL is not an http(s) URL. One line on stdout
 * when healthy, on stderr otherwise.
 */
static int cmd_healthcheck(const struct config *cfg)
{
	char url[300];
	if (*cfg->health_url)
		snprintf(url, sizeof(url), "%s", cfg->health_url);
	else
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/health", cfg->port);
	long status = 0;
	char why[300];
	uint64_t t0 = clock_mono_ns();
	enum probe_result r = probe_get(url, cfg->health_timeout_s * 1000u, &status, why, sizeof(why));
	unsigned ms = (unsigned)((clock_mono_ns() - t0) / 1000000u);
	if (r == PROBE_BAD_URL) {
		fprintf(stderr, "insights healthcheck: %s\n", why);
		return 2;
	}
	if (r == PROBE_FAILED) {
		fprintf(stderr, "unhealthy: %s: %s\n", url, why);
		return 1;
	}
	if (status != 200) {
		fprintf(stderr, "unhealthy: %s answered %ld in %u ms\n", url, status, ms);
		return 1;
	}
	printf("healthy: %s answered 200 in %u ms\n", url, ms);
	return 0;
}

/*
 * Event loops when --threads is 0. Reads run on the loops: one per CPU
 * suffices when the store answers from memory in microseconds (SQLite);
 * a remote store (PostgreSQL) keeps a loop waiting for a round trip, so
 * four loops per CPU keep queries in flight (measured with the service on
 * one core: 11.4k point reads per second with eight loops, 7.5k with one).
 */
static unsigned default_loops(const struct store *st)
{
	unsigned cpus = cpu_count();
	return store_flags(st) & STORE_REMOTE ? 4 * cpus : cpus;
}

/*
 * Large buffers (pages of insights, bodies) are mapped and unmapped on
 * their own rather than carved from the heaps, where glibc's moving
 * threshold would let a burst of them keep the memory after they are
 * freed. Below this size, the heaps serve (and http/server.c trims them
 * after a peak).
 */
#define MMAP_THRESHOLD (128 * 1024)
/*
 * Free memory at the top of a heap is kept up to this size instead of
 * glibc's 128 KB: a page of 20 insights (70 KB) freed at the top gave its
 * pages back, and the next page faulted them in again (4 faults and
 * 170 us of system time per list request; 0.3 and 90 us with 8 MB). The
 * trim after a peak (http/server.c) still gives back everything.
 */
#define TRIM_THRESHOLD (8 << 20)

/* Whether `host` only ever reaches this machine (127.0.0.0/8, ::1, localhost). */
static bool loopback_host(const char *host)
{
	struct in_addr v4;
	struct in6_addr v6;
	if (!strcmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6);
	return false;
}

/*
 * --auth: as given, or on unless every listening address is loopback.
 * Returns 0 and sets *on, or -1 for a value that is neither.
 */
static int auth_mode(const struct config *cfg, bool *on)
{
	bool local = loopback_host(cfg->host);
	if (!*cfg->auth)
		*on = !local;
	else if (!strcmp(cfg->auth, "on"))
		*on = true;
	else if (!strcmp(cfg->auth, "off"))
		*on = false;
	else
		return -1;
	if (!*on && !local)
		log_warn("authentication is off on %s, which is not a loopback address: anyone who "
			 "reaches the port can read and change everything", cfg->host);
	return 0;
}

static int cmd_serve(const struct config *cfg)
{
	bool auth_on;
	if (auth_mode(cfg, &auth_on)) {
		log_error("--auth must be off or on, not '%s'", cfg->auth);
		return 2;
	}
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
	/*
	 * glibc gives busy threads heaps of their own, up to eight per CPU,
	 * each keeping what its peak needed: under the soak's mixed load on
	 * SQLite, 15 of them held 160 to 250 MB. Two per CPU keep the threads
	 * from queueing for a heap and the memory at a third (measured with
	 * MALLOC_ARENA_MAX: 75 to 81 MB).
	 */
	mallopt(M_ARENA_MAX, (int)(2 * cpu_count()));
	/*
	 * Block the stop signals before any thread starts, so that every thread
	 * inherits the mask and only sigwait() below receives them.
	 */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct store *st;
	int rc = open_store(cfg, true, &st);
	if (rc)
		return rc;
	rc = store_flags(st) & STORE_REMOTE ? migrate_when_reachable(st, cfg->startup_timeout_s, &stop)
					    : migrate(st);
	if (rc) {
		store_close(st);
		return rc;
	}

	struct app app;
	service_init(&app.svc, st);
	app.svc.search_wait_ms = cfg->query_timeout_ms;
	app.svc.idem_ttl_s = cfg->idempotency_ttl_s;
	/*
	 * A claim outlives any request that still runs: its statements are
	 * bounded by the query timeout, and a claim taken over from a request
	 * that outlived it anyway only costs that request its write (see
	 * svc_idem_finish), never a second one.
	 */
	app.svc.idem_claim_s = 3 * (((int64_t)cfg->query_timeout_ms + 999) / 1000);
	app.svc.duplicate_threshold = cfg->duplicate_threshold;
	app.svc.stale_after_s = (int64_t)cfg->stale_after_s;
	app.version = INSIGHTS_VERSION;
	app.graphql = (struct gql_config){ .max_depth = cfg->graphql_max_depth,
					   .max_fields = cfg->graphql_max_fields,
					   .max_limit = cfg->graphql_max_limit,
					   .allowed = api_graphql_allowed };
	/* Other instances' writes invalidate the cache only if the store reports them. */
	bool shared = store_flags(st) & STORE_SHARED;
	app.cache = cfg->response_cache && (!shared || store_can_watch(st)) ? cache_new(CACHE_TTL_MS)
									    : NULL;
	if (app.cache && shared) {
		struct error err = ERROR_INIT;
		if (svc_watch(&app.svc, &err) != OK)
			log_info("responses are not cached: %s", err.detail);
	}
	struct http_config hc = {
		.host = cfg->host,
		.port = cfg->port,
		.threads = cfg->threads ? cfg->threads : default_loops(st),
		.workers = cfg->workers,
		.max_body = cfg->max_body,
		.max_connections = cfg->max_connections,
		.idle_timeout_s = cfg->idle_timeout_s,
		.head_timeout_s = cfg->head_timeout_s,
		.body_timeout_s = cfg->body_timeout_s,
		.response_memory = cfg->response_memory,
		.body_memory = cfg->body_memory,
		.cors_origins = cfg->cors_origins,
		.trusted_proxies = cfg->trusted_proxies,
		.tls_cert_file = cfg->tls_cert,
		.tls_key_file = cfg->tls_key,
		.routes = api_routes,
		.nroutes = api_nroutes,
		.app = &app,
		.observe = api_observe,
		.cache = &api_cache_hooks,
		.gate = &api_gate,
		.credentials = auth_on,
	};
	struct api_auth_config ac = {
		.on = auth_on,
		.metrics_public = cfg->metrics_public,
		.jwt_secret_file = nonempty(cfg->jwt_secret_file),
		.jwt_jwks_file = nonempty(cfg->jwt_jwks_file),
		.jwt_public_key_file = nonempty(cfg->jwt_public_key_file),
		.jwt_issuer = nonempty(cfg->jwt_issuer),
		.jwt_audience = nonempty(cfg->jwt_audience),
		.jwt_role_claim = nonempty(cfg->jwt_role_claim),
		.jwt_name_claim = nonempty(cfg->jwt_name_claim),
		.rate_limit = cfg->rate_limit,
		.rate_burst = cfg->rate_burst,
		.fail_limit = cfg->auth_fail_limit,
		.audit_retention_days = cfg->audit_retention_days,
		.revision_retention_days = cfg->revision_retention_days,
	};
	app.auth = NULL;
	char why_auth[300];
	if (api_auth_start(&app, &ac, why_auth, sizeof(why_auth))) {
		log_error("cannot start authentication: %s", why_auth);
		cache_free(app.cache);
		service_release(&app.svc);
		store_close(st);
		return 2;
	}
	metrics_init(api_routes, api_nroutes);
	struct http_server *srv;
	char why[256];
	if (http_server_start(&hc, &srv, why, sizeof(why))) {
		log_error("cannot start the HTTP server: %s", why);
		api_auth_stop(&app);
		cache_free(app.cache);
		metrics_release();
		service_release(&app.svc);
		store_close(st);
		return 1;
	}

	/* The URL parsed when the store opened: it parses again (and is logged redacted only). */
	struct dburl u;
	char why_url[256];
	bool parsed = dburl_parse(cfg->database_url, &u, why_url, sizeof(why_url)) == 0;
	char port[16];
	snprintf(port, sizeof(port), "%u", http_server_port(srv));
	char url[300];
	bool v6 = strchr(cfg->host, ':') != NULL;
	snprintf(url, sizeof(url), "%s://%s%s%s:%s", http_server_tls(srv) ? "https" : "http",
		 v6 ? "[" : "", cfg->host, v6 ? "]" : "", port);
	const char *fields[] = { "version", INSIGHTS_VERSION, "url", url, "host", cfg->host, "port", port,
				 "auth", auth_on ? "on" : "off", "database", store_name(st), "database_url",
				 parsed ? u.redacted : "(unparsable)", NULL };
	log_fields(LOG_INFO, "insights started", fields);
	if (parsed)
		dburl_release(&u);

	int sig = 0;
	sigwait(&stop, &sig);
	log_info("received %s: finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_server_stop(srv, cfg->shutdown_grace_s * 1000u);
	api_auth_stop(&app);
	cache_free(app.cache);
	metrics_release();
	service_release(&app.svc);
	store_close(st);
	log_info("insights stopped");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("insights %s\n", INSIGHTS_VERSION);
		return 0;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "insights: unknown command '%s'\n\n", name);
		usage(stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			command_usage(stdout, cmd);
			return 0;
		}
	}
	int skip = 2;
	/* --quiet takes no value: taken out before the options are read. */
	int kept = 2;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--quiet") && strcmp(argv[i], "-q"))
			argv[kept++] = argv[i];
		else
			quiet = true;
	argc = kept;
	if (cmd->run == cmd_import || cmd->run == cmd_backup) {
		if (argc < 3 || !strncmp(argv[2], "--", 2)) {
			fprintf(stderr, "usage: insights %s %s [options]\n", cmd->name,
				cmd->run == cmd_import ? "FILE" : "PATH");
			return 2;
		}
		path_arg = argv[2];
		skip = 3;
	}
	if (cmd->run == cmd_token) {
		token_verb = argc > 2 ? argv[2] : "";
		if (!strcmp(token_verb, "revoke") && argc > 3 && strncmp(argv[3], "--", 2)) {
			token_arg = argv[3];
			skip = 4;
		} else if (!strcmp(token_verb, "create") || !strcmp(token_verb, "list")) {
			skip = 3;
		} else {
			fprintf(stderr, "usage: insights token create --name NAME --role ROLE "
					"[--expires-in 90d]\n       insights token list\n"
					"       insights token revoke NAME\n");
			return 2;
		}
	}
	struct config cfg;
	char why[300];
	if (conf_load(&cfg, cmd->scope, argc - skip, argv + skip, why, sizeof(why))) {
		fprintf(stderr, "insights %s: %s\nusage: insights %s [options]\n"
				"Run 'insights %s --help' for the options.\n",
			cmd->name, why, cmd->name, cmd->name);
		return 2;
	}
	apply_logging(&cfg);
	return cmd->run(&cfg);
}
