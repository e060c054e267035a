/*
 * conf.h: the service's configuration, filled from one declarative table
 * (conf.c) in three layers: defaults, then environment variables, then
 * command-line flags. The same table prints the help text.
 */
#ifndef INSIGHTS_CONF_H
#define INSIGHTS_CONF_H

#include <stddef.h>
#include <stdio.h>

struct config {
	const char *host;
	unsigned port;
	const char *database_url;
	const char *read_database_url;
	unsigned pool_size;
	unsigned threads;
	unsigned workers;
	size_t max_body;
	unsigned max_connections;
	unsigned idle_timeout_s;
	unsigned head_timeout_s;
	unsigned body_timeout_s;
	size_t response_memory;
	size_t body_memory;
	unsigned query_timeout_ms;
	unsigned busy_timeout_ms;
	unsigned shutdown_grace_s;
	unsigned startup_timeout_s;
	const char *cors_origins;   /* NULL: not set (see http_config) */
	const char *trusted_proxies;
	const char *tls_cert;
	const char *tls_key;
	const char *auth;
	unsigned metrics_public;
	const char *jwt_secret_file;
	const char *jwt_jwks_file;
	const char *jwt_public_key_file;
	const char *jwt_issuer;
	const char *jwt_audience;
	const char *jwt_role_claim;
	const char *jwt_name_claim;
	const char *rate_limit;
	unsigned rate_burst;
	const char *auth_fail_limit;
	unsigned audit_retention_days;
	unsigned revision_retention_days;
	unsigned idempotency_ttl_s;
	const char *token_name;
	const char *token_role;
	const char *token_expires_in;
	unsigned response_cache;
	unsigned search_window;
	double duplicate_threshold;
	unsigned long long stale_after_s;
	unsigned graphql_max_depth;
	unsigned graphql_max_fields;
	unsigned graphql_max_limit;
	const char *log_level;
	const char *log_format;
	unsigned long long seed_count;
	unsigned long long seed_random;
	unsigned long long seed_until;
	const char *export_format;
	const char *export_output;
	const char *import_conflict;
	const char *health_url;
	unsigned health_timeout_s;
};

/* Which commands an option applies to. */
#define CONF_SERVE 1u
#define CONF_DB 2u /* every command that opens the database */
#define CONF_SEED 4u
#define CONF_TOKEN 8u /* insights token ... */
#define CONF_EXPORT 16u
#define CONF_IMPORT 32u
#define CONF_HEALTH 256u /* insights healthcheck */

/*
 * Fills `cfg` for a command whose options are `scope`: defaults, then the
 * environment, then `argv` (the arguments after the command name; flags as
 * "--name value" or "--name=value"). Returns 0, or -1 with a message in
 * `why` naming the bad flag or variable. Strings point into the table, the
 * environment or argv: they live as long as the process.
 */
int conf_load(struct config *cfg, unsigned scope, int argc, char **argv, char *why, size_t whylen);

/* Prints the options of `scope`, one per line, with their variable and default. */
void conf_print_help(FILE *out, unsigned scope);

#endif
