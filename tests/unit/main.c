/*
 * main.c: runs every registered unit test (or those whose name contains
 * argv[1]) and exits non-zero when a check failed. A name that matches no
 * test exits 2: a misspelt filter must not pass by running nothing.
 */
#include "t.h"

#include <stdlib.h>

int t_failures;
int t_checks;
static struct t_case *cases;

void t_register(struct t_case *c)
{
	c->next = cases;
	cases = c;
}

int main(int argc, char **argv)
{
	int run = 0;
	for (struct t_case *c = cases; c; c = c->next) {
		if (argc > 1 && !strstr(c->name, argv[1]))
			continue;
		int before = t_failures;
		c->fn();
		run++;
		if (t_failures != before)
			fprintf(stderr, "FAIL %s\n", c->name);
	}
	if (run == 0 && argc > 1) {
		fprintf(stderr, "unit tests: no test name contains '%s'\n", argv[1]);
		return 2;
	}
	printf("unit tests: %d run, %d checks, %d failed\n", run, t_checks, t_failures);
	return t_failures ? 1 : 0;
}
