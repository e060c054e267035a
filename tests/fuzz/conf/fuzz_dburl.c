/*
 * fuzz_dburl.c: DATABASE_URL parsing (conf/dburl.c), whose `redacted` form
 * is what the service logs and whose reasons it prints.
 *
 * The secrets are found the way libpq reads a URI (fe-connect.c,
 * conninfo_uri_parse_options): the user information ends at the first '@'
 * before any '/' (not at '?' or '#'), the password follows its first ':';
 * query parameters follow the first '?' after that, separated by '&', and
 * their names are percent-decoded ("pass%77ord" is "password"); the
 * secrets there are `password` and `sslpassword`. To tell a
 * leak from the same characters elsewhere in the URL, the target puts a
 * marker found nowhere in the input at both ends of every secret (markers
 * are letters and digits: they change no parse) and parses that URL again.
 *
 * Invariants: on success `redacted` holds no marker (`conninfo` keeps
 * them: libpq needs the password), on failure `why` holds none. A success
 * has a kind and a path (SQLite) or a conninfo starting with
 * "postgresql://" (PostgreSQL); a failure gives a reason and nothing else.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "conf/dburl.h"
#include "lib/buf.h"
#include "lib/banned.h"

#define MAX_MARKS 16

/* A place to put a marker: before byte `at` of the input. */
struct mark {
	size_t at;
	char text[24];
};

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Whether s[0..n) percent-decodes to `want`. */
static bool decodes_to(const char *s, size_t n, const char *want)
{
	size_t k = 0, wlen = strlen(want);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (k >= wlen || c != want[k++])
			return false;
	}
	return k == wlen;
}

/* A query parameter holding a secret: the password, or the SSL key's passphrase. */
static bool is_password_key(const char *s, size_t n)
{
	return decodes_to(s, n, "password") || decodes_to(s, n, "sslpassword");
}

/* Adds the spans of the secrets of `url` (both ends of each) to `marks`. */
static size_t find_secrets(const char *url, struct mark *marks)
{
	size_t n = 0;
	const char *auth = strstr(url, "://");
	if (!auth)
		return 0;
	auth += 3;
	const char *rest = auth;
	size_t span = strcspn(auth, "@/");
	if (auth[span] == '@') {
		const char *colon = memchr(auth, ':', span);
		if (colon) {
			marks[n++].at = (size_t)(colon + 1 - url);
			marks[n++].at = (size_t)(auth + span - url);
		}
		rest = auth + span + 1;
	}
	const char *q = strchr(rest, '?');
	if (!q)
		return n;
	for (const char *p = q + 1; *p && n + 2 <= MAX_MARKS;) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		if (eq && is_password_key(p, (size_t)(eq - p))) {
			marks[n++].at = (size_t)(eq + 1 - url);
			marks[n++].at = (size_t)(p + len - url);
		}
		p += len;
		if (*p)
			p++;
	}
	return n;
}

static int cmp_mark(const void *a, const void *b)
{
	size_t x = ((const struct mark *)a)->at, y = ((const struct mark *)b)->at;
	return (x > y) - (x < y);
}

static void check_parse(const char *url, struct dburl *u, char *why, size_t whylen, int *rc)
{
	why[0] = '\0';
	*rc = dburl_parse(url, u, why, whylen);
	if (*rc == 0) {
		FUZZ_CHECK(u->redacted);
		if (u->kind == DB_SQLITE)
			FUZZ_CHECK(u->path && *u->path && !u->conninfo);
		else
			FUZZ_CHECK(u->kind == DB_POSTGRESQL && u->conninfo && !u->path &&
				   !strncmp(u->conninfo, "postgresql://", 13));
	} else {
		FUZZ_CHECK(*rc == -1 && why[0] && strlen(why) < whylen);
		FUZZ_CHECK(!u->path && !u->conninfo && !u->redacted);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = fuzz_cstr(data, size);
	char why[256];
	struct dburl u;
	int rc;
	check_parse(url, &u, why, sizeof(why), &rc);
	dburl_release(&u);

	struct mark marks[MAX_MARKS];
	size_t n = find_secrets(url, marks);
	if (n) {
		/* Markers: "Qz" and a number, found nowhere in the URL. */
		unsigned serial = 0;
		for (size_t i = 0; i < n; i++) {
			do
				snprintf(marks[i].text, sizeof(marks[i].text), "Qz%uZq", serial++);
			while (strstr(url, marks[i].text));
		}
		qsort(marks, n, sizeof(marks[0]), cmp_mark);
		struct buf b = BUF_INIT;
		size_t from = 0;
		for (size_t i = 0; i < n; i++) {
			buf_add(&b, url + from, marks[i].at - from);
			buf_adds(&b, marks[i].text);
			from = marks[i].at;
		}
		buf_adds(&b, url + from);
		check_parse(buf_cstr(&b), &u, why, sizeof(why), &rc);
		const char *shown = rc == 0 ? u.redacted : why;
		for (size_t i = 0; i < n; i++) {
			if (strstr(shown, marks[i].text)) {
				fprintf(stderr, "fuzz: a secret shows in %s: %s\n",
					rc == 0 ? "redacted" : "why", shown);
				FUZZ_CHECK(!"a secret is shown");
			}
		}
		dburl_release(&u);
		buf_release(&b);
	}
	free(url);
	return 0;
}
