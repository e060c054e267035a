/*
 * dburl.c: the DATABASE_URL parser of dburl.h.
 */
#include "conf/dburl.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Whether the query parameter name s[0..n) holds a secret: libpq
 * percent-decodes names, so "pass%77ord" is "password" (case is ignored:
 * hiding more than needed costs nothing).
 */
static bool secret_key(const char *s, size_t n)
{
	char name[16];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (k == sizeof(name) - 1)
			return false;
		name[k++] = c;
	}
	name[k] = '\0';
	return !strcasecmp(name, "password") || !strcasecmp(name, "sslpassword");
}

/*
 * Replaces the secrets of a connection URI with "***", where libpq finds
 * them (fe-connect.c, conninfo_uri_parse_options): the password of the
 * user information, which ends at the first '@' before any '/' (a '?' or
 * '#' before it belongs to the password, not to a query or fragment), and
 * the value of every "password" or "sslpassword" query parameter, up to
 * the next '&' (a '#' belongs to the value). Any '?' or '&' after the user
 * information is taken to start a parameter: a '?' inside a host in
 * brackets or a value only hides more.
 */
static char *redact(const char *url)
{
	struct buf b = BUF_INIT;
	const char *p = url;
	const char *auth = strstr(url, "://");
	if (auth) {
		auth += 3;
		size_t span = strcspn(auth, "@/");
		const char *colon = memchr(auth, ':', span);
		if (auth[span] == '@' && colon) {
			buf_add(&b, url, (size_t)(colon + 1 - url));
			buf_adds(&b, "***");
			p = auth + span;
		}
	}
	for (;;) {
		size_t n = strcspn(p, "?&");
		buf_add(&b, p, n);
		p += n;
		if (!*p)
			break;
		buf_addch(&b, *p++);
		size_t key = strcspn(p, "=?&");
		if (p[key] == '=' && secret_key(p, key)) {
			buf_add(&b, p, key + 1);
			buf_adds(&b, "***");
			p += key + 1;
			p += strcspn(p, "&");
		}
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
		 * libpq ends the user information at the first '@' before any
		 * '/' (a '?' or '#' does not end it); a second one belongs to a
		 * password (or user name) that was not percent-encoded, and the
		 * rest of it would be read as the host, and end up in error
		 * messages and logs.
		 */
		const char *auth = url + strlen(pg_schemes[i]);
		size_t authlen = strcspn(auth, "/");
		const char *at = memchr(auth, '@', authlen);
		if (at && memchr(at + 1, '@', authlen - (size_t)(at + 1 - auth))) {
			snprintf(why, whylen,
				 "the database URL has more than one '@' before the host: "
				 "percent-encode '@' in the user name or password as %%40");
			return -1;
		}
		/*
		 * An '@' after the first '/' (before the query): a '/' in a
		 * password that was not percent-encoded ended the user
		 * information early, and libpq would read the password as the
		 * host and the database name, and the log would show it.
		 */
		const char *rest = auth + authlen;
		size_t restlen = strcspn(rest, "?#");
		if (!at && memchr(rest, '@', restlen)) {
			snprintf(why, whylen,
				 "the database URL has an '@' after a '/': percent-encode '/' in the user "
				 "name or password as %%2F (and '@' in the database name as %%40)");
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
