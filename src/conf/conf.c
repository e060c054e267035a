/*
 * conf.c: the configuration table of conf.h, and its parser.
 */
#include "conf/conf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/dburl.h"
#include "lib/log.h"
#include "lib/banned.h"

enum conf_type { T_STR, T_UINT, T_U64, T_SIZE, T_DBURL, T_DBURL_OPT, T_LEVEL, T_FORMAT, T_RATIO,
		 T_DURATION };

struct conf_key {
	const char *flag;
	const char *env;
	const char *def;
	enum conf_type type;
	size_t offset;
	unsigned scope;
	unsigned long long min, max;
	const char *help;
};

#define AT(field) offsetof(struct config, field)

static const struct conf_key keys[] = {
	{ "host", "INSIGHTS_HOST", "127.0.0.1", T_STR, AT(host), CONF_SERVE, 0, 0,
	  "address to listen on" },
	{ "port", "INSIGHTS_PORT", "8000", T_UINT, AT(port), CONF_SERVE | CONF_HEALTH, 0, 65535,
	  "TCP port to listen on (0: any free port); healthcheck: the port to check" },
	{ "database", "DATABASE_URL", "sqlite:///insights.db", T_DBURL, AT(database_url),
	  CONF_SERVE | CONF_DB, 0, 0,
	  "sqlite:///relative.db, sqlite:////absolute.db or postgresql://user:pass@host:port/db" },
	{ "read-database", "DATABASE_READ_URL", "", T_DBURL_OPT, AT(read_database_url), CONF_SERVE,
	  0, 0, "a PostgreSQL read replica for read-only requests" },
	{ "pool-size", "INSIGHTS_POOL_SIZE", "10", T_UINT, AT(pool_size), CONF_SERVE | CONF_DB, 1,
	  1000, "database connections per instance (PostgreSQL)" },
	{ "threads", "INSIGHTS_THREADS", "0", T_UINT, AT(threads), CONF_SERVE, 0, 64,
	  "HTTP event loops (0: one per CPU, four per CPU on PostgreSQL)" },
	{ "workers", "INSIGHTS_WORKERS", "0", T_UINT, AT(workers), CONF_SERVE, 0, 256,
	  "worker threads for writes and slow reads such as searches (0: eight per CPU)" },
	{ "max-body", "INSIGHTS_MAX_BODY", "1M", T_SIZE, AT(max_body), CONF_SERVE, 1,
	  1024ul * 1024 * 1024, "largest request body accepted (bytes, or with K or M)" },
	{ "max-connections", "INSIGHTS_MAX_CONNECTIONS", "1024", T_UINT, AT(max_connections),
	  CONF_SERVE, 1, 1000000, "simultaneous client connections" },
	{ "idle-timeout", "INSIGHTS_IDLE_TIMEOUT", "30", T_UINT, AT(idle_timeout_s), CONF_SERVE, 1,
	  86400, "seconds a connection may stay idle or stalled before it is closed" },
	{ "head-timeout", "INSIGHTS_HEAD_TIMEOUT", "10", T_UINT, AT(head_timeout_s), CONF_SERVE, 1,
	  3600, "seconds a request's line and headers may take to arrive (then 408)" },
	{ "body-timeout", "INSIGHTS_BODY_TIMEOUT", "60", T_UINT, AT(body_timeout_s), CONF_SERVE, 1,
	  86400, "seconds a request body may take to arrive once its headers are in (then 408)" },
	{ "response-memory", "INSIGHTS_RESPONSE_MEMORY", "64M", T_SIZE, AT(response_memory),
	  CONF_SERVE, 0, 1024ul * 1024 * 1024 * 64,
	  "bytes of answers held for clients still reading them; a large answer past it gets 503 "
	  "(0: no bound)" },
	{ "body-memory", "INSIGHTS_BODY_MEMORY", "64M", T_SIZE, AT(body_memory), CONF_SERVE, 0,
	  1024ul * 1024 * 1024 * 64,
	  "bytes of request bodies still arriving, across connections; past it 503 (0: no bound)" },
	{ "query-timeout", "INSIGHTS_QUERY_TIMEOUT", "10000", T_UINT, AT(query_timeout_ms),
	  CONF_SERVE, 10, 3600000, "milliseconds a request may spend in the database" },
	{ "busy-timeout", "INSIGHTS_BUSY_TIMEOUT", "5000", T_UINT, AT(busy_timeout_ms),
	  CONF_SERVE | CONF_DB, 0, 3600000,
	  "milliseconds to wait for a lock held by another process (SQLite)" },
	{ "startup-timeout", "INSIGHTS_STARTUP_TIMEOUT", "60", T_UINT, AT(startup_timeout_s),
	  CONF_SERVE, 0, 86400,
	  "seconds serve waits for a PostgreSQL database that is not reachable yet (0: none)" },
	{ "shutdown-grace", "INSIGHTS_SHUTDOWN_GRACE", "10", T_UINT, AT(shutdown_grace_s), CONF_SERVE,
	  0, 3600, "seconds to let requests in flight finish on SIGTERM" },
	{ "cors-origins", "INSIGHTS_CORS_ORIGINS", NULL, T_STR, AT(cors_origins), CONF_SERVE, 0, 0,
	  "allowed CORS origins: * or a comma-separated list (empty: CORS off; unset: * without "
	  "authentication, none with it)" },
	{ "trusted-proxies", "INSIGHTS_TRUSTED_PROXIES", "", T_STR, AT(trusted_proxies), CONF_SERVE,
	  0, 0, "proxies whose X-Forwarded-For names the client: addresses and CIDR ranges, "
	  "comma-separated (10.0.0.0/8,::1)" },
	{ "tls-cert", "INSIGHTS_TLS_CERT", "", T_STR, AT(tls_cert), CONF_SERVE, 0, 0,
	  "PEM certificate (chain) file: serve HTTPS, with --tls-key" },
	{ "tls-key", "INSIGHTS_TLS_KEY", "", T_STR, AT(tls_key), CONF_SERVE, 0, 0,
	  "PEM private key file of --tls-cert" },
	{ "auth", "INSIGHTS_AUTH", "", T_STR, AT(auth), CONF_SERVE, 0, 0,
	  "off or on: require a credential (default: off when every listening address is "
	  "loopback, on otherwise)" },
	{ "metrics-public", "INSIGHTS_METRICS_PUBLIC", "0", T_UINT, AT(metrics_public), CONF_SERVE,
	  0, 1, "with auth on, serve /metrics without a credential (1) or only to metrics and admin "
	  "roles (0)" },
	{ "jwt-secret-file", "INSIGHTS_JWT_SECRET_FILE", "", T_STR, AT(jwt_secret_file), CONF_SERVE,
	  0, 0, "accept JWTs signed with HS256 by the secret in this file (at least 32 bytes)" },
	{ "jwt-jwks-file", "INSIGHTS_JWT_JWKS_FILE", "", T_STR, AT(jwt_jwks_file), CONF_SERVE, 0, 0,
	  "accept JWTs signed (RS256, ES256) by a key of this JWKS document" },
	{ "jwt-public-key-file", "INSIGHTS_JWT_PUBLIC_KEY_FILE", "", T_STR,
	  AT(jwt_public_key_file), CONF_SERVE, 0, 0,
	  "accept JWTs signed by this PEM public key (RSA: RS256, EC P-256: ES256)" },
	{ "jwt-issuer", "INSIGHTS_JWT_ISSUER", "", T_STR, AT(jwt_issuer), CONF_SERVE, 0, 0,
	  "the `iss` a JWT must carry (empty: not checked)" },
	{ "jwt-audience", "INSIGHTS_JWT_AUDIENCE", "", T_STR, AT(jwt_audience), CONF_SERVE, 0, 0,
	  "an `aud` a JWT must carry (empty: not checked)" },
	{ "jwt-role-claim", "INSIGHTS_JWT_ROLE_CLAIM", ".role", T_STR, AT(jwt_role_claim),
	  CONF_SERVE, 0, 0, "where a JWT holds its role, in PostgREST's syntax "
	  "(.\"https://hasura.io/jwt/claims\".\"x-hasura-default-role\")" },
	{ "jwt-name-claim", "INSIGHTS_JWT_NAME_CLAIM", ".sub", T_STR, AT(jwt_name_claim),
	  CONF_SERVE, 0, 0, "where a JWT holds the actor's name" },
	{ "rate-limit", "INSIGHTS_RATE_LIMIT", "50/s", T_STR, AT(rate_limit), CONF_SERVE, 0, 0,
	  "with auth on, requests per credential (per address when anonymous): 50/s, 600/m "
	  "(0: none)" },
	{ "rate-burst", "INSIGHTS_RATE_BURST", "100", T_UINT, AT(rate_burst), CONF_SERVE, 1,
	  1000000, "requests a credential may send at once before --rate-limit applies" },
	{ "auth-fail-limit", "INSIGHTS_AUTH_FAIL_LIMIT", "10/m", T_STR, AT(auth_fail_limit),
	  CONF_SERVE, 0, 0, "failed authentications per client address (then 429)" },
	{ "audit-retention", "INSIGHTS_AUDIT_RETENTION", "365", T_UINT, AT(audit_retention_days),
	  CONF_SERVE, 0, 36500, "days audit entries are kept (0: forever)" },
	{ "revision-retention", "INSIGHTS_REVISION_RETENTION", "30", T_UINT,
	  AT(revision_retention_days), CONF_SERVE, 0, 36500,
	  "days a deleted insight's revisions are kept for a restore (0: forever)" },
	{ "idempotency-ttl", "INSIGHTS_IDEMPOTENCY_TTL", "86400", T_UINT, AT(idempotency_ttl_s),
	  CONF_SERVE, 1, 2592000, "seconds a POST's Idempotency-Key replays its first answer" },
	{ "name", "INSIGHTS_TOKEN_NAME", "", T_STR, AT(token_name), CONF_TOKEN, 0, 0,
	  "token create: the token's name" },
	{ "role", "INSIGHTS_TOKEN_ROLE", "", T_STR, AT(token_role), CONF_TOKEN, 0, 0,
	  "token create: reader, editor, admin or metrics" },
	{ "expires-in", "INSIGHTS_TOKEN_EXPIRES_IN", "", T_STR, AT(token_expires_in), CONF_TOKEN,
	  0, 0, "token create: a lifetime such as 90d, 12h or 30m (empty: never expires)" },
	{ "search-window", "INSIGHTS_SEARCH_WINDOW", "10000", T_UINT, AT(search_window), CONF_SERVE,
	  0, 100000000, "rank only the newest N matches of a very common search (0: all)" },
	{ "duplicate-threshold", "INSIGHTS_DUPLICATE_THRESHOLD", "0.8", T_RATIO,
	  AT(duplicate_threshold), CONF_SERVE, 0, 1,
	  "POST /insights?check_duplicates=true refuses a draft this similar (0 to 1) to an insight" },
	{ "stale-after", "INSIGHTS_STALE_AFTER", "180d", T_DURATION, AT(stale_after_s), CONF_SERVE,
	  1, 3650ull * 86400,
	  "a published insight neither updated nor reviewed for this long is stale: 180d, 12h, "
	  "30m, 3600s (seconds without a unit)" },
	{ "response-cache", "INSIGHTS_RESPONSE_CACHE", "1", T_UINT, AT(response_cache), CONF_SERVE,
	  0, 1, "cache read responses until the next write (1) or not (0)" },
	{ "graphql-max-depth", "INSIGHTS_GRAPHQL_MAX_DEPTH", "12", T_UINT, AT(graphql_max_depth),
	  CONF_SERVE, 1, 24, "deepest nesting of a GraphQL query's selections (introspection not counted)" },
	{ "graphql-max-fields", "INSIGHTS_GRAPHQL_MAX_FIELDS", "1000", T_UINT, AT(graphql_max_fields),
	  CONF_SERVE, 1, 100000, "most fields (aliases included) in a GraphQL document" },
	{ "graphql-max-limit", "INSIGHTS_GRAPHQL_MAX_LIMIT", "1000", T_UINT, AT(graphql_max_limit),
	  CONF_SERVE, 1, 1000000,
	  "largest `limit` of a GraphQL list, and the rows a list without one answers at most" },
	{ "log-level", "INSIGHTS_LOG_LEVEL", "info", T_LEVEL, AT(log_level),
	  CONF_SERVE | CONF_DB, 0, 0, "debug, info, warn or error" },
	{ "log-format", "INSIGHTS_LOG_FORMAT", "json", T_FORMAT, AT(log_format),
	  CONF_SERVE | CONF_DB, 0, 0, "json (one object per line) or text" },
	{ "count", "INSIGHTS_SEED_COUNT", "1000", T_U64, AT(seed_count), CONF_SEED, 0,
	  100000000ull, "insights to create" },
	{ "random-seed", "INSIGHTS_SEED_RANDOM", "1", T_U64, AT(seed_random), CONF_SEED, 0,
	  ~0ull, "seed of the generator: same seed, same data" },
	{ "until", "INSIGHTS_SEED_UNTIL", "1767225600", T_U64, AT(seed_until), CONF_SEED, 0,
	  ~0ull, "creation dates fall in the two years before this Unix time (default 2026-01-01)" },
	{ "format", "INSIGHTS_EXPORT_FORMAT", "jsonl", T_STR, AT(export_format), CONF_EXPORT, 0, 0,
	  "jsonl (lossless), csv (one row per insight) or markdown (a folder, one file per insight)" },
	{ "output", "INSIGHTS_EXPORT_OUTPUT", "-", T_STR, AT(export_output), CONF_EXPORT, 0, 0,
	  "the file to write (-: standard output); for markdown, the folder" },
	{ "on-conflict", "INSIGHTS_IMPORT_ON_CONFLICT", "fail", T_STR, AT(import_conflict),
	  CONF_IMPORT, 0, 0,
	  "a record whose row exists (insight id, tag or category slug): fail, skip or update" },
	{ "url", "INSIGHTS_HEALTH_URL", "", T_STR, AT(health_url), CONF_HEALTH, 0, 0,
	  "the health URL to GET (empty: http://127.0.0.1:PORT/health with --port)" },
	{ "timeout", "INSIGHTS_HEALTH_TIMEOUT", "5", T_UINT, AT(health_timeout_s), CONF_HEALTH, 1,
	  300, "seconds to wait for the answer, connecting included" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int fail(char *why, size_t whylen, const char *fmt, const char *a, const char *b)
{
	snprintf(why, whylen, fmt, a, b);
	return -1;
}

/* Parses and stores one value; `src` names its origin for messages. */
static int set(struct config *cfg, const struct conf_key *k, const char *v, const char *src,
	       char *why, size_t whylen)
{
	void *field = (char *)cfg + k->offset;
	switch (k->type) {
	case T_STR:
		*(const char **)field = v;
		return 0;
	case T_DBURL:
	case T_DBURL_OPT: {
		if (!*v && k->type == T_DBURL_OPT) {
			*(const char **)field = NULL;
			return 0;
		}
		struct dburl u;
		char reason[200];
		if (dburl_parse(v, &u, reason, sizeof(reason)))
			return fail(why, whylen, "%s: %s", src, reason);
		if (k->type == T_DBURL_OPT && u.kind != DB_POSTGRESQL) {
			dburl_release(&u);
			return fail(why, whylen, "%s: %s", src, "a read replica must be a postgresql:// URL");
		}
		dburl_release(&u);
		*(const char **)field = v;
		return 0;
	}
	case T_LEVEL: {
		enum log_level l;
		if (log_level_parse(v, &l))
			return fail(why, whylen, "%s: '%s' is not one of debug, info, warn, error", src, v);
		*(const char **)field = v;
		return 0;
	}
	case T_FORMAT: {
		enum log_format f;
		if (log_format_parse(v, &f))
			return fail(why, whylen, "%s: '%s' is not one of json, text", src, v);
		*(const char **)field = v;
		return 0;
	}
	case T_RATIO: {
		if (!*v || *v == ' ')
			return fail(why, whylen, "%s: '%s' is not a number between 0 and 1", src, v);
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if (errno || *end || !(d >= (double)k->min && d <= (double)k->max))
			return fail(why, whylen, "%s: '%s' is not a number between 0 and 1", src, v);
		*(double *)field = d;
		return 0;
	}
	case T_DURATION: {
		/* A number of seconds, or with a unit: 180d, 12h, 30m, 3600s. */
		char *end;
		errno = 0;
		if (!*v || *v == '-' || *v == '+' || *v == ' ')
			return fail(why, whylen, "%s: '%s' is not a duration such as 180d, 12h or 3600s",
				    src, v);
		unsigned long long n = strtoull(v, &end, 10);
		unsigned long long unit = 1;
		if (end != v && (*end == 'd' || *end == 'h' || *end == 'm' || *end == 's') && !end[1]) {
			unit = *end == 'd' ? 86400 : *end == 'h' ? 3600 : *end == 'm' ? 60 : 1;
			end++;
		}
		if (errno || *end || end == v)
			return fail(why, whylen, "%s: '%s' is not a duration such as 180d, 12h or 3600s",
				    src, v);
		if (n > k->max / unit || n * unit < k->min) {
			char range[64];
			snprintf(range, sizeof(range), "between %llu s and %llu days", k->min,
				 k->max / 86400);
			return fail(why, whylen, "%s: must be %s", src, range);
		}
		*(unsigned long long *)field = n * unit;
		return 0;
	}
	case T_UINT:
	case T_U64:
	case T_SIZE: {
		char *end;
		errno = 0;
		if (!*v || *v == '-' || *v == '+' || *v == ' ')
			return fail(why, whylen, "%s: '%s' is not a number", src, v);
		unsigned long long n = strtoull(v, &end, 10);
		if (k->type == T_SIZE && (*end == 'K' || *end == 'k' || *end == 'M' || *end == 'm')) {
			n *= (*end == 'K' || *end == 'k') ? 1024ull : 1024ull * 1024;
			end++;
		}
		if (errno || *end)
			return fail(why, whylen, "%s: '%s' is not a number", src, v);
		if (n < k->min || n > k->max) {
			char range[64];
			snprintf(range, sizeof(range), "between %llu and %llu", k->min, k->max);
			return fail(why, whylen, "%s: must be %s", src, range);
		}
		if (k->type == T_SIZE)
			*(size_t *)field = (size_t)n;
		else if (k->type == T_U64)
			*(unsigned long long *)field = n;
		else
			*(unsigned *)field = (unsigned)n;
		return 0;
	}
	}
	return -1;
}

static const struct conf_key *find(const char *flag, size_t len, unsigned scope)
{
	for (size_t i = 0; i < NKEYS; i++)
		if ((keys[i].scope & scope) && strlen(keys[i].flag) == len &&
		    !strncmp(keys[i].flag, flag, len))
			return &keys[i];
	return NULL;
}

int conf_load(struct config *cfg, unsigned scope, int argc, char **argv, char *why, size_t whylen)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		char src[64];
		snprintf(src, sizeof(src), "default of --%s", keys[i].flag);
		if (set(cfg, &keys[i], keys[i].def, src, why, whylen))
			return -1;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		if (!(keys[i].scope & scope))
			continue;
		const char *v = getenv(keys[i].env);
		if (v && set(cfg, &keys[i], v, keys[i].env, why, whylen))
			return -1;
	}
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) || !arg[2])
			return fail(why, whylen, "unexpected argument '%s'%s", arg, "");
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct conf_key *k = find(name, len, scope);
		if (!k)
			return fail(why, whylen, "unknown option '%s'%s", arg, "");
		const char *v = eq ? eq + 1 : NULL;
		if (!v) {
			if (i + 1 >= argc)
				return fail(why, whylen, "option '--%s' needs a value%s", k->flag, "");
			v = argv[++i];
		}
		char src[64];
		snprintf(src, sizeof(src), "--%s", k->flag);
		if (set(cfg, k, v, src, why, whylen))
			return -1;
	}
	return 0;
}

void conf_print_help(FILE *out, unsigned scope)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &keys[i];
		if (!(k->scope & scope))
			continue;
		fprintf(out, "  --%-16s %s\n  %-18s env %s, default %s\n", k->flag, k->help, "",
			k->env, k->def && *k->def ? k->def : k->def ? "(none)" : "(unset)");
	}
}
