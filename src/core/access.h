/*
 * access.h: who is acting, what each role may do, and the records that
 * authentication and the audit trail keep (API tokens, audit entries).
 *
 * Roles form a ladder for the data (reader < editor < admin) beside one
 * role for scrapers (metrics, which reads /metrics only). What an endpoint
 * or a GraphQL root field needs is an enum access; role_allows() is the one
 * place the two meet. With authentication off every request acts as the
 * anonymous actor, which is allowed everything.
 *
 * The acting actor is per thread: a front end sets it around the use case
 * it runs (actor_set), and the use cases read it for authorship and the
 * audit trail. The CLI acts as "cli" with the admin role.
 */
#ifndef INSIGHTS_ACCESS_H
#define INSIGHTS_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/clock.h"

enum role {
	ROLE_NONE = 0,    /* no valid credential */
	ROLE_METRICS,
	ROLE_READER,
	ROLE_EDITOR,
	ROLE_ADMIN,
	ROLE_ANONYMOUS,   /* authentication is off: allowed everything */
};

/* What a route or a GraphQL root field needs. 0 is left unused on purpose: a missing entry is a bug. */
enum access {
	ACCESS_OPEN = 1,  /* anyone, even without a credential */
	ACCESS_READ,      /* reader, editor, admin */
	ACCESS_WRITE,     /* editor, admin */
	ACCESS_ADMIN,     /* admin */
	ACCESS_METRICS,   /* metrics, admin */
};

/* "reader", ...; role_parse accepts the four a credential may carry. */
const char *role_name(enum role r);
int role_parse(const char *s, enum role *out);
const char *access_name(enum access a);
bool role_allows(enum role r, enum access need);

#define ACTOR_NAME_MAX 128

struct actor {
	char name[ACTOR_NAME_MAX];  /* token name, JWT subject, "anonymous", "cli" */
	enum role role;
	bool authenticated;         /* by a credential (not anonymous, not the CLI) */
	const char *request_id;     /* NULL outside a request */
};

/*
 * The calling thread's actor: what actor_set() gave it (borrowed: it must
 * outlive its use), or the CLI's actor when none was set. Never NULL.
 */
const struct actor *actor_current(void);
void actor_set(const struct actor *a);
void actor_fill(struct actor *a, const char *name, enum role role, bool authenticated,
		const char *request_id);

/* ---- API tokens --------------------------------------------------------- */

#define TOKEN_NAME_MAX 64

struct token {
	int64_t id;
	const char *name;
	enum role role;
	const char *hash;             /* SHA-256 hex of the token; never the token itself */
	const char *last4;            /* its last four characters, for display */
	char created_at[TS_SIZE];
	char expires_at[TS_SIZE];     /* "" : never */
	char last_used_at[TS_SIZE];   /* "" : never used (kept coarsely) */
};

/* ---- the audit trail ---------------------------------------------------- */

struct audit_entry {
	int64_t id;
	char time[TS_SIZE];
	const char *actor;
	const char *role;
	const char *action;       /* "create", "update", "delete", "restore", ... */
	const char *resource;     /* "insight", "tag", "category", "token" */
	int64_t resource_id;
	const char *request_id;   /* NULL outside a request */
	const char *changes;      /* JSON object text: {"field": {"old": v, "new": v}} */
};

struct audit_filter {
	const char *resource;     /* NULL: any */
	bool resource_id_set;
	int64_t resource_id;
	const char *actor;        /* exact; NULL: any */
	const char *since;        /* timestamps in the API's format; NULL: open */
	const char *until;
	int64_t page;             /* >= 1 */
	int64_t page_size;        /* 1..PAGE_SIZE_MAX */
};

struct audit_page {
	int64_t total;
	struct audit_entry *items;   /* newest first */
	size_t n;
};

#endif
