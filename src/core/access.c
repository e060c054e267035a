/*
 * access.c: roles, what they allow, and the calling thread's actor.
 */
#include "core/access.h"

#include <stdio.h>
#include <string.h>

#include "lib/banned.h"

static const char *const role_names[] = {
	[ROLE_NONE] = "none",
	[ROLE_METRICS] = "metrics",
	[ROLE_READER] = "reader",
	[ROLE_EDITOR] = "editor",
	[ROLE_ADMIN] = "admin",
	[ROLE_ANONYMOUS] = "anonymous",
};

const char *role_name(enum role r)
{
	return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : "none";
}

int role_parse(const char *s, enum role *out)
{
	for (enum role r = ROLE_METRICS; r <= ROLE_ADMIN; r++) {
		if (s && !strcmp(s, role_names[r])) {
			*out = r;
			return 0;
		}
	}
	return -1;
}

const char *access_name(enum access a)
{
	switch (a) {
	case ACCESS_OPEN: return "open";
	case ACCESS_READ: return "reader";
	case ACCESS_WRITE: return "editor";
	case ACCESS_ADMIN: return "admin";
	case ACCESS_METRICS: return "metrics";
	}
	return "admin";
}

bool role_allows(enum role r, enum access need)
{
	if (r == ROLE_ANONYMOUS || need == ACCESS_OPEN)
		return true;
	switch (need) {
	case ACCESS_READ: return r == ROLE_READER || r == ROLE_EDITOR || r == ROLE_ADMIN;
	case ACCESS_WRITE: return r == ROLE_EDITOR || r == ROLE_ADMIN;
	case ACCESS_METRICS: return r == ROLE_METRICS || r == ROLE_ADMIN;
	case ACCESS_ADMIN: return r == ROLE_ADMIN;
	case ACCESS_OPEN: return true;
	}
	return false; /* an unset access: nobody */
}

static const struct actor cli_actor = { .name = "cli", .role = ROLE_ADMIN };
static _Thread_local const struct actor *current;

const struct actor *actor_current(void)
{
	return current ? current : &cli_actor;
}

void actor_set(const struct actor *a)
{
	current = a;
}

void actor_fill(struct actor *a, const char *name, enum role role, bool authenticated,
		const char *request_id)
{
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	a->role = role;
	a->authenticated = authenticated;
	a->request_id = request_id;
}
