/*
 * dburl.c: the DATABASE_URL parser of dburl.h.
 */
#include "conf/dburl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/*
 * Replaces the password of a URI's userinfo (between the first ':' after the
 * scheme and the '@' that ends the authority, of which dburl_parse admits
 * one) with "***".
 */
static char *redact(const char *url)
{
	const char *auth = strstr(url, "://");
	if (!auth)
		return xstrdup(url);
	auth += 3;
	size_t authlen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < auth + authlen; p++)
		if (*p == '@')
			at = p; /* the last '@' ends the userinfo */
	struct buf b = BUF_INIT;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			buf_add(&b, url, (size_t)(colon + 1 - url));
			buf_adds(&b, "***");
			buf_adds(&b, at);
			goto query;
		}
	}
	buf_adds(&b, url);
query:;
	/* A password may also travel as a query parameter. */
	char *pw = strstr(b.data, "password=");
	if (pw) {
		struct buf c = BUF_INIT;
		buf_add(&c, b.data, (size_t)(pw - b.data) + 9);
		buf_adds(&c, "***");
		buf_adds(&c, pw + 9 + strcspn(pw + 9, "&#"));
		buf_release(&b);
		return buf_detach(&c, NULL);
	}
	return buf_detach(&b, NULL);
}

int dburl_parse(const char *url, struct dburl *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (!url || !*url) {
		snprintf(why, whylen, "the database URL is empty");
		return -1;
	}
	if (starts_with(url, "sqlite:")) {
		if (!starts_with(url, "sqlite:///")) {
			snprintf(why, whylen,
				 "an SQLite URL has the form sqlite:///relative/path.db or sqlite:////absolute/path.db");
			return -1;
		}
		const char *path = url + strlen("sqlite:///");
		size_t n = strcspn(path, "?#");
		if (n == 0 || (n == 1 && path[0] == '/')) {
			snprintf(why, whylen, "the SQLite URL names no file");
			return -1;
		}
		if (path[n] != '\0') {
			snprintf(why, whylen, "an SQLite URL takes no query parameters");
			return -1;
		}
		out->kind = DB_SQLITE;
		out->path = xstrndup(path, n);
		out->redacted = xstrdup(url);
		return 0;
	}
	static const char *const pg_schemes[] = { "postgresql+psycopg2://", "postgresql+psycopg://",
						  "postgresql://", "postgres://" };
	for (size_t i = 0; i < sizeof(pg_schemes) / sizeof(pg_schemes[0]); i++) {
		if (!starts_with(url, pg_schemes[i]))
			continue;
		/*
		 * libpq ends the user information at the first '@' of the
		 * authority; a second one belongs to a password (or user name)
		 * that was not percent-encoded, and the rest of it would be read
		 * as the host, and end up in error messages and logs.
		 */
		const char *auth = url + strlen(pg_schemes[i]);
		size_t authlen = strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', authlen);
		if (at && memchr(at + 1, '@', authlen - (size_t)(at + 1 - auth))) {
			snprintf(why, whylen,
				 "the database URL has more than one '@' before the host: "
				 "percent-encode '@' in the user name or password as %%40");
			return -1;
		}
		struct buf b = BUF_INIT;
		buf_adds(&b, "postgresql://");
		buf_adds(&b, url + strlen(pg_schemes[i]));
		out->kind = DB_POSTGRESQL;
		out->conninfo = buf_detach(&b, NULL);
		out->redacted = redact(out->conninfo);
		return 0;
	}
	size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyz0123456789+.-");
	if (url[scheme] != ':' || scheme == 0 || scheme > 32) {
		/* Not even a scheme: do not echo it, it may be a secret. */
		snprintf(why, whylen,
			 "the database URL has no scheme: use sqlite:///path.db or postgresql://user:pass@host:port/db");
		return -1;
	}
	snprintf(why, whylen,
		 "unsupported database URL scheme '%.*s': use sqlite:///path.db or postgresql://user:pass@host:port/db",
		 (int)scheme, url);
	return -1;
}

void dburl_release(struct dburl *u)
{
	free(u->path);
	free(u->conninfo);
	free(u->redacted);
	memset(u, 0, sizeof(*u));
}
