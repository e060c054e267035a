/*
 * test_conf.c: DATABASE_URL parsing and the configuration layers.
 */
#include "t.h"

#include <stdlib.h>

#include "conf/conf.h"
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
	/* An '@' inside the password: the last '@' of the authority ends it. */
	CHECK(parse("postgresql://u:p@ss@h/d", &u) == 0);
	CHECK_STR(u.redacted, "postgresql://u:***@h/d");
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

TEST(conf_layers_defaults_env_flags)
{
	struct config c;
	char why[300];
	unsetenv("INSIGHTS_PORT");
	unsetenv("DATABASE_URL");
	CHECK(conf_load(&c, CONF_SERVE, 0, NULL, why, sizeof(why)) == 0);
	CHECK(c.port == 8000);
	CHECK_STR(c.host, "127.0.0.1");
	CHECK_STR(c.database_url, "sqlite:///insights.db");
	CHECK(c.max_body == 1024 * 1024);

	setenv("INSIGHTS_PORT", "9000", 1);
	CHECK(conf_load(&c, CONF_SERVE, 0, NULL, why, sizeof(why)) == 0);
	CHECK(c.port == 9000);

	char *argv[] = { "--port", "9100", "--max-body=4K", "--host=0.0.0.0" };
	CHECK(conf_load(&c, CONF_SERVE, 4, argv, why, sizeof(why)) == 0);
	CHECK(c.port == 9100);
	CHECK(c.max_body == 4096);
	CHECK_STR(c.host, "0.0.0.0");

	setenv("INSIGHTS_PORT", "eighty", 1);
	CHECK(conf_load(&c, CONF_SERVE, 0, NULL, why, sizeof(why)) == -1);
	CHECK(strstr(why, "INSIGHTS_PORT") != NULL);
	unsetenv("INSIGHTS_PORT");

	char *bad[] = { "--port", "70000" };
	CHECK(conf_load(&c, CONF_SERVE, 2, bad, why, sizeof(why)) == -1);
	char *unknown[] = { "--bogus" };
	CHECK(conf_load(&c, CONF_SERVE, 1, unknown, why, sizeof(why)) == -1);
	char *missing[] = { "--port" };
	CHECK(conf_load(&c, CONF_SERVE, 1, missing, why, sizeof(why)) == -1);
	/* migrate takes no --port. */
	char *port[] = { "--port", "1" };
	CHECK(conf_load(&c, CONF_DB, 2, port, why, sizeof(why)) == -1);
	char *url[] = { "--database", "ftp://x" };
	CHECK(conf_load(&c, CONF_DB, 2, url, why, sizeof(why)) == -1);
}
