/*
 * test_dburl.c: the DATABASE_URL parser (conf/dburl.c).
 */
#include "t.h"

#include <string.h>

#include "conf/dburl.h"

static int parse(const char *url, struct dburl *u)
{
	char why[256];
	return dburl_parse(url, u, why, sizeof(why));
}

TEST(dburl_sqlite_forms)
{
	struct dburl u;
	CHECK(parse("sqlite:///insights.db", &u) == 0);
	CHECK(u.kind == DB_SQLITE);
	CHECK_STR(u.path, "insights.db");
	dburl_release(&u);
	CHECK(parse("sqlite:///data/dir/x.db", &u) == 0);
	CHECK_STR(u.path, "data/dir/x.db");
	dburl_release(&u);
	CHECK(parse("sqlite:////var/lib/insights/x.db", &u) == 0);
	CHECK_STR(u.path, "/var/lib/insights/x.db");
	dburl_release(&u);
	CHECK(parse("sqlite://", &u) == -1);
	CHECK(parse("sqlite:///", &u) == -1);
	CHECK(parse("sqlite:////", &u) == -1);
	CHECK(parse("sqlite://host/x.db", &u) == -1);
	CHECK(parse("sqlite:///x.db?mode=ro", &u) == -1);
}

TEST(dburl_postgresql_forms)
{
	struct dburl u;
	CHECK(parse("postgresql://app:s3cret@db:5432/insights?sslmode=require", &u) == 0);
	CHECK(u.kind == DB_POSTGRESQL);
	CHECK_STR(u.conninfo, "postgresql://app:s3cret@db:5432/insights?sslmode=require");
	CHECK_STR(u.redacted, "postgresql://app:***@db:5432/insights?sslmode=require");
	dburl_release(&u);
	CHECK(parse("postgresql+psycopg2://app:pw@db/insights", &u) == 0);
	CHECK_STR(u.conninfo, "postgresql://app:pw@db/insights");
	CHECK(!strstr(u.redacted, "pw"));
	dburl_release(&u);
	CHECK(parse("postgres:///insights?host=/run/postgresql&password=hunter2", &u) == 0);
	CHECK_STR(u.conninfo, "postgresql:///insights?host=/run/postgresql&password=hunter2");
	CHECK(!strstr(u.redacted, "hunter2"));
	dburl_release(&u);
	/* An '@' in the password must be percent-encoded: libpq would read the rest as the host. */
	char why[256];
	CHECK(dburl_parse("postgresql://u:pa@zq9secret@h/d", &u, why, sizeof(why)) == -1);
	CHECK(strstr(why, "%40") != NULL);
	CHECK(strstr(why, "zq9secret") == NULL && strstr(why, "pa@") == NULL);
	CHECK(parse("postgresql://u:p%40ss@h/d", &u) == 0);
	CHECK_STR(u.redacted, "postgresql://u:***@h/d");
	dburl_release(&u);
	/* A '/' in the password must be percent-encoded too: the log would show the rest. */
	CHECK(dburl_parse("postgresql://u:pa/zq9secret@h/d", &u, why, sizeof(why)) == -1);
	CHECK(strstr(why, "%2F") != NULL && !strstr(why, "zq9secret"));
	CHECK(parse("postgresql://u:pa%2Fss@h/d", &u) == 0);
	CHECK_STR(u.redacted, "postgresql://u:***@h/d");
	dburl_release(&u);
	/* An '@' in the query string is not in the authority. */
	CHECK(parse("postgresql://u@h/d?application_name=a@b", &u) == 0);
	dburl_release(&u);
}

TEST(dburl_rejects_the_rest_without_echoing_secrets)
{
	struct dburl u;
	char why[256];
	CHECK(dburl_parse("mysql://u:p@h/d", &u, why, sizeof(why)) == -1);
	CHECK(strstr(why, "mysql") != NULL);
	CHECK(dburl_parse("hunter2", &u, why, sizeof(why)) == -1);
	CHECK(strstr(why, "hunter2") == NULL);
	CHECK(dburl_parse("", &u, why, sizeof(why)) == -1);
}


/* `url` parses, and its redacted form is `want`. */
static void check_redacted(const char *url, const char *want)
{
	struct dburl u;
	CHECK(parse(url, &u) == 0);
	CHECK_STR(u.redacted, want);
	dburl_release(&u);
}

/*
 * Secrets are hidden where libpq reads them (found by fuzz_dburl): the user
 * information ends at the first '@' before any '/', not at '?' or '#';
 * every password parameter counts, its name percent-decoded, up to '&'.
 */
TEST(dburl_redacts_what_libpq_reads)
{
	check_redacted("postgresql://u:pa?ss@h/db", "postgresql://u:***@h/db");
	check_redacted("postgresql://u:pa#ss@h/db", "postgresql://u:***@h/db");
	check_redacted("postgres://user?:pass@h/d", "postgresql://user?:***@h/d");
	check_redacted("postgresql://h/d?password=a&password=b",
		       "postgresql://h/d?password=***&password=***");
	check_redacted("postgresql://h/d?pass%77ord=x&sslmode=require",
		       "postgresql://h/d?pass%77ord=***&sslmode=require");
	check_redacted("postgresql://h/d?sslpassword=k", "postgresql://h/d?sslpassword=***");
	check_redacted("postgresql://h/d?password=sec#ret", "postgresql://h/d?password=***");
	check_redacted("postgresql://u@h/d?application_name=p&user=x",
		       "postgresql://u@h/d?application_name=p&user=x");
	/* Two '@' before the host, one of them after a '?' of the password. */
	struct dburl u;
	char why[256];
	CHECK(dburl_parse("postgresql://u:a?zq9@c@h/d", &u, why, sizeof(why)) == -1);
	CHECK(strstr(why, "zq9") == NULL && strstr(why, "c@h") == NULL);
}
