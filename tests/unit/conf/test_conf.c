/*
 * test_conf.c: the configuration layers: defaults, environment, flags (conf/conf.c).
 */
#include "t.h"

#include <stdlib.h>

#include "conf/conf.h"
#include "conf/dburl.h"

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
