/*
 * dburl.h: parsing a DATABASE_URL.
 *
 * Accepted forms (those the specification's deployments use):
 *   sqlite:///relative/path.db      a path relative to the working directory
 *   sqlite:////absolute/path.db     an absolute path
 *   postgresql://user:pass@host:port/db?sslmode=...   (also postgres://,
 *   postgresql+psycopg2://): handed to libpq as a connection URI.
 * Anything else is rejected with a reason.
 */
#ifndef INSIGHTS_DBURL_H
#define INSIGHTS_DBURL_H

#include <stddef.h>

enum db_kind { DB_SQLITE, DB_POSTGRESQL };

struct dburl {
	enum db_kind kind;
	char *path;      /* SQLite: the file path */
	char *conninfo;  /* PostgreSQL: a URI libpq accepts */
	char *redacted;  /* the URL with any password replaced by "***": safe to log */
};

/*
 * Parses `url` into `out` (free with dburl_release). Returns 0, or -1 with
 * a reason (never containing the password) in `why`.
 */
int dburl_parse(const char *url, struct dburl *out, char *why, size_t whylen);
void dburl_release(struct dburl *u);

#endif
