/*
 * test_access.c: the access table (api/access.c) against the route table
 * (api/routes.c), and what each role may do.
 */
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "t.h"

static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
static const unsigned bits[] = { HTTP_GET, HTTP_POST, HTTP_PUT, HTTP_DELETE };

TEST(access_every_route_has_one_rule_and_every_rule_a_route)
{
	for (size_t r = 0; r < api_nroutes; r++) {
		for (size_t m = 0; m < 4; m++) {
			if (!(api_routes[r].methods & bits[m]))
				continue;
			int found = 0;
			for (size_t i = 0; i < api_access_nrules; i++)
				found += !strcmp(api_access_rules[i].method, methods[m]) &&
					 !strcmp(api_access_rules[i].pattern, api_routes[r].pattern);
			if (found != 1)
				fprintf(stderr, "  %s %s: %d rules\n", methods[m], api_routes[r].pattern, found);
			CHECK(found == 1);
		}
	}
	for (size_t i = 0; i < api_access_nrules; i++) {
		const struct api_access_rule *rule = &api_access_rules[i];
		if (!strcmp(rule->method, "query") || !strcmp(rule->method, "mutation"))
			continue;
		bool found = false;
		for (size_t r = 0; r < api_nroutes; r++)
			for (size_t m = 0; m < 4; m++)
				found |= (api_routes[r].methods & bits[m]) &&
					 !strcmp(rule->method, methods[m]) &&
					 !strcmp(rule->pattern, api_routes[r].pattern);
		if (!found)
			fprintf(stderr, "  %s %s: no route\n", rule->method, rule->pattern);
		CHECK(found);
	}
}

TEST(access_roles_allow_what_they_should)
{
	CHECK(role_allows(ROLE_READER, ACCESS_READ));
	CHECK(!role_allows(ROLE_READER, ACCESS_WRITE));
	CHECK(role_allows(ROLE_EDITOR, ACCESS_WRITE));
	CHECK(!role_allows(ROLE_EDITOR, ACCESS_ADMIN));
	CHECK(!role_allows(ROLE_EDITOR, ACCESS_METRICS));
	CHECK(role_allows(ROLE_ADMIN, ACCESS_ADMIN));
	CHECK(role_allows(ROLE_ADMIN, ACCESS_METRICS));
	CHECK(role_allows(ROLE_METRICS, ACCESS_METRICS));
	CHECK(!role_allows(ROLE_METRICS, ACCESS_READ));
	CHECK(!role_allows(ROLE_NONE, ACCESS_READ));
	CHECK(role_allows(ROLE_NONE, ACCESS_OPEN));
	CHECK(role_allows(ROLE_ANONYMOUS, ACCESS_ADMIN));
	/* An access nobody set is nobody's. */
	CHECK(!role_allows(ROLE_ADMIN, (enum access)0));
	enum role r;
	CHECK(role_parse("anonymous", &r) != 0);
	CHECK(role_parse("none", &r) != 0);
	CHECK(role_parse("editor", &r) == 0 && r == ROLE_EDITOR);
}

TEST(access_graphql_fields_by_operation)
{
	CHECK(api_field_access("query", "insights") == ACCESS_READ);
	CHECK(api_field_access("mutation", "delete_insights") == ACCESS_WRITE);
	CHECK(api_field_access("subscription", "x") == ACCESS_ADMIN);
}
