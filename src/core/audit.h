/*
 * audit.h: what an audit entry says changed. A row is seen as a short list
 * of named field values (the fields a person edits: no timestamps kept by
 * the system, no counters), and two versions of it give the changes
 * {"field": {"old": ..., "new": ...}}: every field set on a create (old
 * null), every field held on a delete (new null), the fields that differ
 * on an update.
 */
#ifndef INSIGHTS_AUDIT_H
#define INSIGHTS_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/access.h"
#include "core/model.h"
#include "lib/arena.h"

enum audit_kind { AF_STR, AF_ID, AF_IDS };

struct audit_field {
	const char *name;
	enum audit_kind kind;
	const char *s;           /* AF_STR; NULL: null */
	int64_t id;              /* AF_ID; 0: null */
	const int64_t *ids;      /* AF_IDS, ascending */
	size_t nids;
};

#define AUDIT_FIELDS_MAX 16

struct audit_fields {
	size_t n;
	struct audit_field f[AUDIT_FIELDS_MAX];
};

void audit_fields_insight(struct audit_fields *out, struct arena *a, const struct insight *r);
void audit_fields_tag(struct audit_fields *out, const struct tag *r);
void audit_fields_category(struct audit_fields *out, const struct category *r);
void audit_fields_token(struct audit_fields *out, const struct token *r);

/*
 * The changes from `old` to `new` (either may be NULL: a create, a delete;
 * both describe the same kind of row) as JSON object text in `a`; "{}"
 * when nothing differs.
 */
const char *audit_changes(struct arena *a, const struct audit_fields *old,
			  const struct audit_fields *new);

#endif
