/*
 * t.h: a minimal unit-test harness. A test is a function registered with
 * TEST(); CHECK() records a failure with its location and carries on, so
 * one run reports every broken expectation.
 */
#ifndef INSIGHTS_T_H
#define INSIGHTS_T_H

#include <stdio.h>
#include <string.h>

extern int t_failures;
extern int t_checks;

#define CHECK(cond)                                                               \
	do {                                                                      \
		t_checks++;                                                       \
		if (!(cond)) {                                                    \
			t_failures++;                                             \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                 \
		}                                                                 \
	} while (0)

#define CHECK_STR(a, b)                                                           \
	do {                                                                      \
		const char *t_a = (a), *t_b = (b);                                \
		t_checks++;                                                       \
		if (!t_a || !t_b || strcmp(t_a, t_b)) {                           \
			t_failures++;                                             \
			fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s\n"     \
				"    got:    %s\n    wanted: %s\n", __FILE__,         \
				__LINE__, #a, #b, t_a ? t_a : "(null)",           \
				t_b ? t_b : "(null)");                            \
		}                                                                 \
	} while (0)

/*
 * A validation problem's path written with dots ("tag_ids.2"), for
 * CHECK_LOC; the buffer lives until the next call.
 */
struct problem;
const char *t_loc(const struct problem *p);
#define CHECK_LOC(p, want) CHECK_STR(t_loc(p), (want))

/* Removes a test's SQLite file with its WAL and shared-memory files, if there. */
void t_remove_sqlite(const char *path);

struct t_case {
	const char *name;
	void (*fn)(void);
	struct t_case *next;
};

void t_register(struct t_case *c);

#define TEST(name)                                                                \
	static void name(void);                                                   \
	static struct t_case t_case_##name = { #name, name, NULL };               \
	__attribute__((constructor)) static void t_reg_##name(void)               \
	{                                                                         \
		t_register(&t_case_##name);                                       \
	}                                                                         \
	static void name(void)

#endif
