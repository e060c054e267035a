/*
 * validate.c: the validation rules of the October 2021 specification
 * (graphql-js 16.15's specifiedRules) and the document limits, over a
 * whole parsed document (validate.h).
 *
 * The passes, each linear in the document unless said otherwise:
 *   1. count the fields (the max_fields limit);
 *   2. index the fragments by name, collect every definition's spreads,
 *      and find where operations first reach each fragment (the base of
 *      the paths of errors inside it): operations in order, each
 *      fragment's body walked once, from a queue (never recursively);
 *   3. find fragment cycles (an iterative depth-first search), which also
 *      orders the fragments so that each comes after those it spreads;
 *   4. in that order, each fragment's depth and introspection list depth,
 *      memoised: the max_depth limit per operation;
 *   5. every definition's rules, walking it once with its types (as
 *      graphql-js's TypeInfo does), recording variable usages; at each
 *      selection set, the field-merging check (OverlappingFieldsCanBeMerged,
 *      graphql-js's algorithm with its memoisation: fields are collected per
 *      selection set, fragments are compared by name, pairs once);
 *   6. the document's rules: operation and fragment names, unused
 *      fragments, and per operation the variables of every fragment it
 *      reaches (defined, used, allowed in position).
 * Only the first error in document order is kept: a candidate is formatted
 * only when it comes before the best so far.
 *
 * Recursion follows the nesting of selection sets and values, which the
 * parser caps at GQL_DEPTH_CAP; chains of fragments are followed with
 * explicit stacks. The comparisons of fields to merge spend a budget (as
 * graphql-js does); running out refuses the document.
 */
#include "graphql/validate.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graphql/parser.h"
#include "lib/buf.h"
#include "lib/banned.h"

#define CODE "validation-failed"

/* Work units the field-merging check and the variable checks may spend. */
#define WORK_BUDGET 2000000
/* The deepest nesting of field comparisons followed through fragments. */
#define CONFLICT_DEPTH_CAP (2 * GQL_DEPTH_CAP)
/* graphql-js's MaxIntrospectionDepthRule: nested introspection lists allowed. */
#define MAX_INTROSPECTION_LISTS 3

/* ---- small containers, in the scratch arena ------------------------------------------ */

/* Appends `item` (`size` bytes) to an array that doubles in the arena. */
static void *push(struct arena *a, void *items, size_t *n, size_t *cap, size_t size,
		  const void *item)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *grown = arena_alloc(a, ncap * size);
		if (items)
			memcpy(grown, items, *n * size);
		items = grown;
		*cap = ncap;
	}
	memcpy((char *)items + *n * size, item, size);
	(*n)++;
	return items;
}

#define PUSH(a, arr, n, cap, item) ((arr) = push((a), (arr), &(n), &(cap), sizeof(*(arr)), &(item)))

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Strings to ints (open addressing); keys are borrowed. */
struct strmap {
	struct strmap_entry {
		const char *key; /* NULL: free */
		int val;
	} *e;
	size_t cap, n;
};

static int strmap_get(const struct strmap *m, const char *k)
{
	if (!m->cap)
		return -1;
	for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->e[i].key)
			return -1;
		if (!strcmp(m->e[i].key, k))
			return m->e[i].val;
	}
}

/* Adds k -> v unless k is there; returns the value k has afterwards. */
static int strmap_add(struct arena *a, struct strmap *m, const char *k, int v)
{
	if (2 * (m->n + 1) > m->cap) {
		struct strmap g = { .cap = m->cap ? m->cap * 2 : 16 };
		g.e = ARENA_NEW_ARRAY(a, struct strmap_entry, g.cap);
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].key)
				strmap_add(a, &g, m->e[i].key, m->e[i].val);
		*m = g;
	}
	size_t i = hash_str(k) & (m->cap - 1);
	for (; m->e[i].key; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->e[i].key, k))
			return m->e[i].val;
	m->e[i] = (struct strmap_entry){ k, v };
	m->n++;
	return v;
}

/* Non-zero 64-bit keys to ints. */
struct u64map {
	struct u64map_entry {
		uint64_t key; /* 0: free */
		int val;
	} *e;
	size_t cap, n;
};

static int *u64map_find(const struct u64map *m, uint64_t k)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix64(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->e[i].key)
			return NULL;
		if (m->e[i].key == k)
			return &m->e[i].val;
	}
}

static void u64map_set(struct arena *a, struct u64map *m, uint64_t k, int v)
{
	assert(k);
	int *found = u64map_find(m, k);
	if (found) {
		*found = v;
		return;
	}
	if (2 * (m->n + 1) > m->cap) {
		struct u64map g = { .cap = m->cap ? m->cap * 2 : 64 };
		g.e = ARENA_NEW_ARRAY(a, struct u64map_entry, g.cap);
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].key)
				u64map_set(a, &g, m->e[i].key, m->e[i].val);
		*m = g;
	}
	size_t i = mix64(k) & (m->cap - 1);
	while (m->e[i].key)
		i = (i + 1) & (m->cap - 1);
	m->e[i] = (struct u64map_entry){ k, v };
	m->n++;
}

/*
 * The index of the first of `n` items (`stride` bytes apart, a name at
 * `off`) whose name an earlier item has, or -1.
 */
static long first_dup(struct arena *a, const void *items, size_t n, size_t stride, size_t off)
{
#define NAME(i) (*(const char *const *)((const char *)items + (i) * stride + off))
	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(NAME(i), NAME(j)))
					return (long)i;
		return -1;
	}
	struct strmap m = { 0 };
	for (size_t i = 0; i < n; i++)
		if (strmap_add(a, &m, NAME(i), (int)i) != (int)i)
			return (long)i;
	return -1;
#undef NAME
}

/* ---- paths -------------------------------------------------------------------------- */

/*
 * One step of a JSONPath, linked to the step before it. Steps live on the
 * stack while a definition is walked; those an error or a variable usage
 * must outlive the walk are copied to the scratch arena (`kept`), each at
 * most once (`copy`).
 */
enum seg_kind {
	SEG_FIELD, /* .selectionSet.<name> */
	SEG_KEY,   /* .<name> */
	SEG_INDEX, /* [<index>] */
};

struct seg {
	struct seg *up;
	enum seg_kind kind;
	const char *name;
	size_t index;
	struct seg *copy;
	bool kept;
};

#define SEG(up_, kind_, name_) ((struct seg){ .up = (up_), .kind = (kind_), .name = (name_) })

/* ---- the state ---------------------------------------------------------------------- */

struct spread {
	int frag; /* -1: no such fragment */
	struct gql_pos pos;
};

struct usage {
	const char *name;
	const struct gql_type *type; /* of the position; NULL when unknown */
	bool location_default;       /* the argument or input field has a default */
	struct gql_pos pos;
	struct seg *path;            /* kept */
};

/* What the passes learn about one operation or fragment. */
struct def_info {
	struct spread *spreads;
	size_t nspreads, capspreads;
	struct usage *usages;
	size_t nusages, capusages;
	/* fragments */
	const struct gql_type *type; /* the type condition, when an object type */
	bool reached;                /* some operation spreads it */
	struct seg *base;            /* kept: where an operation first spreads it ("$" when NULL) */
	int color;                   /* 0 new, 1 on the search's stack, 2 done, 3 extent known */
	unsigned deep;               /* levels of fields below its set, spreads expanded */
	unsigned lists;              /* introspection lists nested in it, at most the limit */
	/* operations: the types of its variables (NULL when unknown) */
	const struct gql_type **var_types;
};

/* graphql-js's field details: a field of a collected selection set. */
struct fdetail {
	/* The type it is selected on; may be NULL, or not an object. */
	const struct gql_type *parent;
	const struct gql_selection *node;
	/* NULL: unknown, or a meta field (graphql-js's getFields() has none). */
	const struct gql_field *def;
};

struct group {
	const char *key; /* the response key */
	struct fdetail *items;
	size_t n, cap;
};

/* The fields of a selection set by response key, inline fragments flattened, and its spreads. */
struct collected {
	unsigned id;
	const struct gql_type *parent;
	struct group *groups;
	size_t ngroups, capgroups;
	struct strmap by_key;
	int *frags; /* distinct fragments spread, known ones only, in order */
	size_t nfrags, capfrags;
};

enum conflict_kind { CF_NAMES, CF_ARGS, CF_TYPES, CF_SUBFIELDS };

/* Why two fields under one response key cannot merge (innermost via `sub`). */
struct conflict {
	enum conflict_kind kind;
	const char *key;
	const struct gql_selection *n1, *n2;
	const struct gql_type *t1, *t2;
	const struct conflict *sub;
};

struct ctx {
	const struct gql_schema *s;
	const struct gql_document *doc;
	struct arena *out;      /* the caller's: the error's strings */
	struct arena *a;        /* scratch */
	struct strmap frag_by_name;
	struct def_info *ops, *frags;
	struct def_info *cur;   /* the definition being walked */
	bool flat;              /* walking a fragment no operation uses: paths are "$" */
	/* the first error so far */
	bool failed;
	struct gql_pos pos;
	const char *path, *message;
	/* field merging */
	struct u64map collected_by_set;
	struct collected **collected;
	size_t ncollected, capcollected;
	/* (collected id, fragment): 0 spread there, 1 compared, 2 compared as mutually exclusive */
	struct u64map compared_frags;
	/* (fragment, fragment): 1 compared, 2 compared as mutually exclusive */
	struct u64map compared_pairs;
	unsigned conflict_depth;
	long work;
	bool too_complex;
};

/* ---- errors ------------------------------------------------------------------------- */

static bool before(struct gql_pos a, struct gql_pos b)
{
	return a.line < b.line || (a.line == b.line && a.column < b.column);
}

static bool better(const struct ctx *c, struct gql_pos pos)
{
	return !c->failed || before(pos, c->pos);
}

/* The path of `s`, in the caller's arena. */
static const char *path_text(struct ctx *c, const struct seg *s)
{
	if (c->flat || !s)
		return arena_strdup(c->out, "$");
	size_t n = 0;
	for (const struct seg *p = s; p; p = p->up)
		n++;
	const struct seg **steps = ARENA_NEW_ARRAY(c->a, const struct seg *, n);
	size_t i = n;
	for (const struct seg *p = s; p; p = p->up)
		steps[--i] = p;
	struct buf b = BUF_INIT;
	buf_addch(&b, '$');
	for (i = 0; i < n; i++) {
		switch (steps[i]->kind) {
		case SEG_FIELD:
			buf_addf(&b, ".selectionSet.%s", steps[i]->name);
			break;
		case SEG_KEY:
			buf_addf(&b, ".%s", steps[i]->name);
			break;
		case SEG_INDEX:
			buf_addf(&b, "[%zu]", steps[i]->index);
			break;
		}
	}
	const char *text = arena_strndup(c->out, b.data, b.len);
	buf_release(&b);
	return text;
}

static void fail(struct ctx *c, struct gql_pos pos, const struct seg *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A candidate error at `pos`: kept when it is the first in document order so far. */
static void fail(struct ctx *c, struct gql_pos pos, const struct seg *path, const char *fmt, ...)
{
	if (!better(c, pos))
		return;
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	c->failed = true;
	c->pos = pos;
	c->message = arena_strndup(c->out, b.data, b.len);
	c->path = path_text(c, path);
	buf_release(&b);
}

/* Copies the steps of `s` that are on the stack to the scratch arena. */
static struct seg *keep(struct ctx *c, struct seg *s)
{
	if (!s || s->kept)
		return s;
	if (!s->copy) {
		struct seg *k = ARENA_NEW(c->a, struct seg);
		*k = *s;
		k->kept = true;
		k->copy = NULL;
		k->up = keep(c, s->up);
		s->copy = k;
	}
	return s->copy;
}

/* Spends `units` of the budget; false once it is spent. */
static bool spend(struct ctx *c, long units)
{
	c->work += units;
	if (c->work > WORK_BUDGET)
		c->too_complex = true;
	return !c->too_complex;
}

/* ---- types -------------------------------------------------------------------------- */

static const char *type_text(struct ctx *c, const struct gql_type *t)
{
	struct buf b = BUF_INIT;
	gql_type_write(&b, t);
	const char *text = arena_strndup(c->a, b.data, b.len);
	buf_release(&b);
	return text;
}

static void type_ref_write(struct buf *b, const struct gql_type_ref *r)
{
	switch (r->kind) {
	case GQL_TYPE_NAMED:
		buf_adds(b, r->name);
		return;
	case GQL_TYPE_LIST:
		buf_addch(b, '[');
		type_ref_write(b, r->of);
		buf_addch(b, ']');
		return;
	case GQL_TYPE_NON_NULL:
		type_ref_write(b, r->of);
		buf_addch(b, '!');
		return;
	}
}

static const struct gql_type_ref *type_ref_named(const struct gql_type_ref *r)
{
	while (r->kind != GQL_TYPE_NAMED)
		r = r->of;
	return r;
}

/* The schema type a variable's type names (wrappers made in the scratch arena), or NULL. */
static const struct gql_type *type_from_ref(struct ctx *c, const struct gql_type_ref *r)
{
	if (r->kind == GQL_TYPE_NAMED)
		return gql_type_find(c->s, r->name);
	const struct gql_type *of = type_from_ref(c, r->of);
	if (!of)
		return NULL;
	struct gql_type *t = ARENA_NEW(c->a, struct gql_type);
	t->kind = r->kind == GQL_TYPE_LIST ? GK_LIST : GK_NON_NULL;
	t->of = of;
	return t;
}

static bool composite(const struct gql_type *t)
{
	return t && (t->kind == GK_OBJECT || t->kind == GK_INTERFACE || t->kind == GK_UNION);
}

static bool same_type(const struct gql_type *a, const struct gql_type *b)
{
	while (a->kind == b->kind && (a->kind == GK_LIST || a->kind == GK_NON_NULL)) {
		a = a->of;
		b = b->of;
	}
	return a == b;
}

/* graphql-js's isTypeSubTypeOf, for a schema without abstract types. */
static bool subtype(const struct gql_type *sub, const struct gql_type *super)
{
	if (same_type(sub, super))
		return true;
	if (super->kind == GK_NON_NULL)
		return sub->kind == GK_NON_NULL && subtype(sub->of, super->of);
	if (sub->kind == GK_NON_NULL)
		return subtype(sub->of, super);
	if (super->kind == GK_LIST)
		return sub->kind == GK_LIST && subtype(sub->of, super->of);
	return false;
}

/* VariablesInAllowedPosition: a variable of `var` (with `var_default`) where `loc` goes. */
static bool allowed_usage(const struct gql_type *var, const struct gql_value *var_default,
			  const struct gql_type *loc, bool loc_default)
{
	if (loc->kind == GK_NON_NULL && var->kind != GK_NON_NULL) {
		bool var_has_default = var_default && var_default->kind != GQL_NULL;
		if (!var_has_default && !loc_default)
			return false;
		return subtype(var, loc->of);
	}
	return subtype(var, loc);
}

static bool is_meta_name(const char *name)
{
	return !strcmp(name, "__typename") || !strcmp(name, "__schema") || !strcmp(name, "__type");
}

static bool is_introspection_root(const char *name)
{
	return !strcmp(name, "__schema") || !strcmp(name, "__type");
}

/* The fields whose nesting graphql-js's MaxIntrospectionDepthRule counts. */
static bool is_introspection_list(const char *name)
{
	return !strcmp(name, "fields") || !strcmp(name, "interfaces") ||
	       !strcmp(name, "possibleTypes") || !strcmp(name, "inputFields");
}

static const char *response_key(const struct gql_selection *f)
{
	return f->alias ? f->alias : f->name;
}

/* A field's segment of an error's path: its name, not its alias, as Hasura writes paths. */
static const char *path_name(const struct gql_selection *f)
{
	return f->name;
}

/* ---- 1. the number of fields ----------------------------------------------------------- */

/* Counts the fields of `set` into *n; stops past `max`, leaving the field there in *at. */
static void count_fields(const struct gql_selection_set *set, unsigned long *n, unsigned long max,
			 struct gql_pos *at)
{
	for (size_t i = 0; i < set->n && *n <= max; i++) {
		const struct gql_selection *sel = &set->items[i];
		if (sel->kind == GQL_FIELD && ++*n > max) {
			*at = sel->pos;
			return;
		}
		if (sel->set)
			count_fields(sel->set, n, max, at);
	}
}

/* The field limit: the fields in document order, stopping at the first one too many. */
static bool check_fields(struct ctx *c, unsigned max)
{
	const struct gql_document *d = c->doc;
	unsigned long n = 0;
	struct gql_pos at = { 0, 0 };
	size_t i = 0, j = 0;
	while ((i < d->nops || j < d->nfrags) && n <= max) {
		bool op = j == d->nfrags || (i < d->nops && before(d->ops[i].pos, d->frags[j].pos));
		count_fields(op ? d->ops[i++].set : d->frags[j++].set, &n, max, &at);
	}
	if (n <= max)
		return true;
	/* All of them, to say how many there are. */
	struct gql_pos unused;
	n = 0;
	for (i = 0; i < d->nops; i++)
		count_fields(d->ops[i].set, &n, ULONG_MAX, &unused);
	for (j = 0; j < d->nfrags; j++)
		count_fields(d->frags[j].set, &n, ULONG_MAX, &unused);
	fail(c, at, NULL, "the document has %lu fields; the limit is %u (--graphql-max-fields)", n,
	     max);
	return false;
}

/* ---- 2. spreads and where operations reach fragments ------------------------------------- */

/*
 * Records the spreads under `set` in `d`. With `reach`, also marks the
 * fragments they name as reached, at the path `at`, queueing the new ones.
 */
static void collect_spreads(struct ctx *c, struct def_info *d, const struct gql_selection_set *set,
			    struct seg *at, bool reach, int **queue, size_t *nq, size_t *capq)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct gql_selection *sel = &set->items[i];
		switch (sel->kind) {
		case GQL_FIELD:
			if (sel->set) {
				struct seg f = SEG(at, SEG_FIELD, path_name(sel));
				collect_spreads(c, d, sel->set, &f, reach, queue, nq, capq);
			}
			break;
		case GQL_INLINE_FRAGMENT:
			collect_spreads(c, d, sel->set, at, reach, queue, nq, capq);
			break;
		case GQL_FRAGMENT_SPREAD: {
			struct spread sp = { strmap_get(&c->frag_by_name, sel->name), sel->pos };
			PUSH(c->a, d->spreads, d->nspreads, d->capspreads, sp);
			if (reach && sp.frag >= 0 && !c->frags[sp.frag].reached) {
				c->frags[sp.frag].reached = true;
				c->frags[sp.frag].base = keep(c, at);
				PUSH(c->a, *queue, *nq, *capq, sp.frag);
			}
			break;
		}
		}
	}
}

static void index_definitions(struct ctx *c)
{
	const struct gql_document *d = c->doc;
	c->ops = ARENA_NEW_ARRAY(c->a, struct def_info, d->nops ? d->nops : 1);
	c->frags = ARENA_NEW_ARRAY(c->a, struct def_info, d->nfrags ? d->nfrags : 1);
	for (size_t i = 0; i < d->nfrags; i++) {
		strmap_add(c->a, &c->frag_by_name, d->frags[i].name, (int)i);
		const struct gql_type *t = gql_type_find(c->s, d->frags[i].type_condition);
		c->frags[i].type = composite(t) ? t : NULL;
	}
	/* Operations in order, each followed by the fragments it reaches first. */
	int *queue = NULL;
	size_t nq = 0, capq = 0;
	for (size_t i = 0; i < d->nops; i++) {
		nq = 0;
		collect_spreads(c, &c->ops[i], d->ops[i].set, NULL, true, &queue, &nq, &capq);
		for (size_t k = 0; k < nq; k++) {
			int f = queue[k];
			collect_spreads(c, &c->frags[f], d->frags[f].set, c->frags[f].base, true,
					&queue, &nq, &capq);
		}
	}
	for (size_t f = 0; f < d->nfrags; f++)
		if (!c->frags[f].reached)
			collect_spreads(c, &c->frags[f], d->frags[f].set, NULL, false, &queue, &nq,
					&capq);
}

/* ---- 3. fragment cycles ------------------------------------------------------------------ */

/* Hasura's message for a cycle: the fragments from stack[from] to the top. */
static void fail_cycle(struct ctx *c, const int *stack, size_t from, size_t top, struct gql_pos pos)
{
	if (!better(c, pos))
		return;
	struct buf b = BUF_INIT;
	size_t n = top - from;
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(&b, n == 2 ? " and " : i + 1 == n ? ", and " : ", ");
		buf_addf(&b, "\"%s\"", c->doc->frags[stack[from + i]].name);
	}
	fail(c, pos, NULL, "the fragment definition(s) %s form a cycle", b.data);
	buf_release(&b);
}

/*
 * NoFragmentCycles, by a depth-first search with an explicit stack. Fills
 * `order` with every fragment after those it spreads (a back edge, which
 * only a cycle makes, is ignored). Returns whether there is a cycle.
 */
static bool find_cycles(struct ctx *c, int *order)
{
	size_t nf = c->doc->nfrags, norder = 0;
	int *stack = ARENA_NEW_ARRAY(c->a, int, nf ? nf : 1);
	size_t *next = ARENA_NEW_ARRAY(c->a, size_t, nf ? nf : 1);
	bool cycle = false;
	for (size_t r = 0; r < nf; r++) {
		if (c->frags[r].color)
			continue;
		size_t top = 0;
		stack[top++] = (int)r;
		next[r] = 0;
		c->frags[r].color = 1;
		while (top) {
			int f = stack[top - 1];
			struct def_info *d = &c->frags[f];
			if (next[f] == d->nspreads) {
				d->color = 2;
				order[norder++] = f;
				top--;
				continue;
			}
			const struct spread *sp = &d->spreads[next[f]++];
			if (sp->frag < 0)
				continue;
			struct def_info *t = &c->frags[sp->frag];
			if (!t->color) {
				t->color = 1;
				next[sp->frag] = 0;
				stack[top++] = sp->frag;
			} else if (t->color == 1) {
				size_t from = top;
				while (stack[from - 1] != sp->frag)
					from--;
				fail_cycle(c, stack, from - 1, top, sp->pos);
				cycle = true;
			}
		}
	}
	return cycle;
}

/* ---- 4. depth ------------------------------------------------------------------------------ */

struct extent {
	unsigned deep;  /* levels of fields with selection sets below, introspection excluded */
	unsigned lists; /* introspection lists nested, at most MAX_INTROSPECTION_LISTS */
};

static unsigned sat_add(unsigned a, unsigned b, unsigned cap)
{
	return a > cap - b ? cap : a + b;
}

/* The extent of `set`, fragments read from their memo (in progress: 0). */
static struct extent extent_of(struct ctx *c, const struct gql_selection_set *set)
{
	struct extent e = { 0, 0 };
	for (size_t i = 0; i < set->n; i++) {
		const struct gql_selection *sel = &set->items[i];
		struct extent x = { 0, 0 };
		if (sel->kind == GQL_FIELD) {
			if (sel->set) {
				x = extent_of(c, sel->set);
				x.deep = is_introspection_root(sel->name)
						 ? 0
						 : sat_add(x.deep, 1, UINT_MAX / 2);
			}
			if (is_introspection_list(sel->name))
				x.lists = sat_add(x.lists, 1, MAX_INTROSPECTION_LISTS);
		} else if (sel->kind == GQL_INLINE_FRAGMENT) {
			x = extent_of(c, sel->set);
		} else {
			int f = strmap_get(&c->frag_by_name, sel->name);
			if (f >= 0 && c->frags[f].color == 3)
				x = (struct extent){ c->frags[f].deep, c->frags[f].lists };
		}
		if (x.deep > e.deep)
			e.deep = x.deep;
		if (x.lists > e.lists)
			e.lists = x.lists;
	}
	return e;
}

/* Each fragment's extent, in `order` (a fragment after those it spreads). */
static void fragment_extents(struct ctx *c, const int *order)
{
	for (size_t i = 0; i < c->doc->nfrags; i++) {
		struct def_info *d = &c->frags[order[i]];
		struct extent e = extent_of(c, c->doc->frags[order[i]].set);
		d->deep = e.deep;
		d->lists = e.lists;
		d->color = 3; /* its extent is known */
	}
}

static const char *op_word(enum gql_op_kind k)
{
	return k == GQL_MUTATION ? "mutation" : k == GQL_SUBSCRIPTION ? "subscription" : "query";
}

/*
 * The depth limit for operation `op`, `deep` levels below its own set:
 * finds the first field whose selection set is too deep by following, from
 * the top, a selection that reaches the greatest depth (spreads and inline
 * fragments in place), so the error points at it. Needs an acyclic
 * document, where this walk ends.
 */
static void fail_depth(struct ctx *c, const struct gql_operation *op, unsigned deep, unsigned max)
{
	const struct gql_selection_set *set = op->set;
	unsigned level = 1, want = deep;
	struct seg *at = NULL;
	for (;;) {
		const struct gql_selection *pick = NULL;
		struct extent e = { 0, 0 };
		for (size_t i = 0; i < set->n && !pick; i++) {
			const struct gql_selection *sel = &set->items[i];
			if (sel->kind == GQL_FIELD) {
				if (sel->set && !is_introspection_root(sel->name) &&
				    extent_of(c, sel->set).deep + 1 == want)
					pick = sel;
			} else if (sel->kind == GQL_INLINE_FRAGMENT) {
				e = extent_of(c, sel->set);
				if (e.deep == want)
					pick = sel;
			} else {
				int f = strmap_get(&c->frag_by_name, sel->name);
				if (f >= 0 && c->frags[f].deep == want)
					pick = sel;
			}
		}
		assert(pick);
		if (!pick)
			return;
		if (pick->kind == GQL_FRAGMENT_SPREAD) {
			set = c->doc->frags[strmap_get(&c->frag_by_name, pick->name)].set;
			continue;
		}
		if (pick->kind == GQL_INLINE_FRAGMENT) {
			set = pick->set;
			continue;
		}
		struct seg *f = ARENA_NEW(c->a, struct seg);
		*f = SEG(at, SEG_FIELD, path_name(pick));
		f->kept = true;
		at = f;
		if (level == max) {
			fail(c, pick->pos, at,
			     "the %s is nested %u deep; the limit is %u (--graphql-max-depth)",
			     op_word(op->kind), deep + 1, max);
			return;
		}
		level++;
		want--;
		set = pick->set;
	}
}

/* ---- 5. the rules of one definition ------------------------------------------------------ */

static const char *describe(const struct gql_value *v)
{
	switch (v->kind) {
	case GQL_VARIABLE:
		return "a variable";
	case GQL_INT:
		return "an integer";
	case GQL_FLOAT:
		return "a float";
	case GQL_STRING:
		return "a string";
	case GQL_BOOLEAN:
		return "a boolean";
	case GQL_NULL:
		return "null";
	case GQL_ENUM:
		return "an enum value";
	case GQL_LIST:
		return "a list";
	case GQL_OBJECT:
		return "an object";
	}
	return "a value";
}

/* What Hasura says a value of named type `t` must be: "a 32-bit integer". */
static const char *expectation(const struct gql_type *t)
{
	if (t->kind == GK_INPUT_OBJECT)
		return "an object";
	if (t->kind == GK_ENUM)
		return "an enum value";
	switch (t->scalar) {
	case GS_INT:
		return "a 32-bit integer";
	case GS_FLOAT:
		return "a float";
	case GS_BOOLEAN:
		return "a boolean";
	case GS_ID:
		return "a String or a 32-bit integer";
	case GS_STRING:
	case GS_TIMESTAMP:
	case GS_NONE:
		break;
	}
	return "a string";
}

/* Hasura's type mismatch: a value that cannot be of type `t` (any wrappers). */
static void fail_mismatch(struct ctx *c, const struct gql_value *v, const struct gql_type *t,
			  struct seg *at)
{
	if (!better(c, v->pos))
		return;
	const struct gql_type *inner = t->kind == GK_NON_NULL ? t->of : t;
	if (v->kind == GQL_NULL && inner->kind == GK_LIST) {
		fail(c, v->pos, at, "expected a list, but found null");
		return;
	}
	const struct gql_type *n = gql_named(t);
	fail(c, v->pos, at, "expected %s for type '%s', but found %s", expectation(n), n->name,
	     describe(v));
}

/* Whether the Int literal `text` fits in 32 bits. */
static bool int32_literal(const char *text)
{
	const char *p = text;
	bool neg = *p == '-';
	if (neg)
		p++;
	long long v = 0;
	for (; *p; p++) {
		v = v * 10 + (*p - '0');
		if (v > 2147483648LL)
			return false;
	}
	return neg ? v <= 2147483648LL : v <= 2147483647LL;
}

/* ValuesOfCorrectType for a literal of a leaf (`t` is its position's type, known). */
static void check_leaf(struct ctx *c, const struct gql_value *v, const struct gql_type *t,
		       struct seg *at)
{
	const struct gql_type *n = gql_named(t);
	bool ok = false;
	if (n->kind == GK_ENUM) {
		if (v->kind == GQL_ENUM && gql_enum_find(n, v->text))
			return;
		if (v->kind != GQL_ENUM || !better(c, v->pos)) {
			fail_mismatch(c, v, t, at);
			return;
		}
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < n->nvalues; i++)
			buf_addf(&b, "%s'%s'", i ? ", " : "", n->values[i].name);
		fail(c, v->pos, at, "expected one of the values [%s] for type '%s', but found '%s'",
		     buf_cstr(&b), n->name, v->text);
		buf_release(&b);
		return;
	}
	if (n->kind != GK_SCALAR) {
		fail_mismatch(c, v, t, at);
		return;
	}
	switch (n->scalar) {
	case GS_INT:
		if (v->kind == GQL_INT && !int32_literal(v->text)) {
			fail(c, v->pos, at,
			     "The value %s lies outside the bounds or is not an integer. "
			     "Maybe it is a float, or is there integer overflow?",
			     v->text);
			return;
		}
		ok = v->kind == GQL_INT;
		break;
	case GS_FLOAT:
		ok = v->kind == GQL_INT || v->kind == GQL_FLOAT;
		break;
	case GS_STRING:
		ok = v->kind == GQL_STRING;
		break;
	case GS_BOOLEAN:
		ok = v->kind == GQL_BOOLEAN;
		break;
	case GS_ID:
		ok = v->kind == GQL_STRING || v->kind == GQL_INT;
		break;
	case GS_TIMESTAMP:
		if (v->kind == GQL_STRING && !gql_timestamp_valid(v->text)) {
			fail(c, v->pos, at,
			     "expected an ISO 8601 date, or date and time, for type '%s', "
			     "but found '%s'",
			     n->name, v->text);
			return;
		}
		ok = v->kind == GQL_STRING;
		break;
	case GS_NONE:
		ok = true;
		break;
	}
	if (!ok)
		fail_mismatch(c, v, t, at);
}

/*
 * The value `v` at a position of type `t` (NULL: unknown, where only the
 * rules that need no type apply), whose argument or input field has a
 * default when `has_default`: ValuesOfCorrectType, UniqueInputFieldNames,
 * and the variable usages for the operation-wide rules.
 */
static void visit_value(struct ctx *c, const struct gql_value *v, const struct gql_type *t,
			bool has_default, struct seg *at)
{
	switch (v->kind) {
	case GQL_VARIABLE: {
		struct usage u = { v->text, t, has_default, v->pos, keep(c, at) };
		PUSH(c->a, c->cur->usages, c->cur->nusages, c->cur->capusages, u);
		return;
	}
	case GQL_NULL:
		if (t && t->kind == GK_NON_NULL)
			fail_mismatch(c, v, t, at);
		return;
	case GQL_LIST: {
		const struct gql_type *nt = t && t->kind == GK_NON_NULL ? t->of : t;
		const struct gql_type *item = nt && nt->kind == GK_LIST ? nt->of : nt;
		if (nt && nt->kind != GK_LIST)
			fail_mismatch(c, v, t, at);
		for (size_t i = 0; i < v->nitems; i++) {
			struct seg s = SEG(at, SEG_INDEX, NULL);
			s.index = i;
			visit_value(c, v->items[i], item, false, &s);
		}
		return;
	}
	case GQL_OBJECT: {
		const struct gql_type *n = t ? gql_named(t) : NULL;
		long dup = first_dup(c->a, v->fields, v->nfields, sizeof(*v->fields),
				     offsetof(struct gql_object_field, name));
		if (dup >= 0) {
			struct seg s = SEG(at, SEG_KEY, v->fields[dup].name);
			fail(c, v->fields[dup].pos, &s, "the field '%s' is given more than once",
			     v->fields[dup].name);
		}
		if (n && n->kind != GK_INPUT_OBJECT) {
			fail_mismatch(c, v, t, at);
			n = NULL;
		}
		for (size_t i = 0; i < v->nfields; i++) {
			const struct gql_object_field *f = &v->fields[i];
			struct seg s = SEG(at, SEG_KEY, f->name);
			const struct gql_input_value *d =
				n ? gql_input_find(n->inputs, n->ninputs, f->name) : NULL;
			if (n && !d)
				fail(c, f->pos, &s, "field '%s' not found in type: '%s'", f->name,
				     n->name);
			visit_value(c, f->value, d ? d->type : NULL, d && d->default_value, &s);
		}
		if (!n)
			return;
		for (size_t k = 0; k < n->ninputs; k++) {
			const struct gql_input_value *d = &n->inputs[k];
			if (d->type->kind != GK_NON_NULL || d->default_value)
				continue;
			bool given = false;
			for (size_t i = 0; i < v->nfields && !given; i++)
				given = !strcmp(v->fields[i].name, d->name);
			if (!given) {
				struct seg s = SEG(at, SEG_KEY, d->name);
				fail(c, v->pos, &s, "missing required field '%s'", d->name);
			}
		}
		return;
	}
	case GQL_INT:
	case GQL_FLOAT:
	case GQL_STRING:
	case GQL_BOOLEAN:
	case GQL_ENUM:
		if (t)
			check_leaf(c, v, t, at);
		return;
	}
}

/*
 * The arguments of a field or directive whose definitions are `defs` (when
 * `known`): KnownArgumentNames, UniqueArgumentNames, ProvidedRequiredArguments
 * and their values. `owner` names it in messages; `at` is its path.
 */
static void visit_args(struct ctx *c, const struct gql_input_value *defs, size_t ndefs, bool known,
		       const char *owner, struct gql_pos owner_pos, const struct gql_argument *args,
		       size_t nargs, struct seg *at)
{
	struct seg args_seg = SEG(at, SEG_KEY, "args");
	long dup = first_dup(c->a, args, nargs, sizeof(*args), offsetof(struct gql_argument, name));
	if (dup >= 0) {
		struct seg s = SEG(&args_seg, SEG_KEY, args[dup].name);
		fail(c, args[dup].pos, &s, "the argument '%s' is given more than once",
		     args[dup].name);
	}
	for (size_t i = 0; i < nargs; i++) {
		struct seg s = SEG(&args_seg, SEG_KEY, args[i].name);
		const struct gql_input_value *d =
			known ? gql_input_find(defs, ndefs, args[i].name) : NULL;
		if (known && !d)
			fail(c, args[i].pos, at, "'%s' has no argument named '%s'", owner,
			     args[i].name);
		visit_value(c, args[i].value, d ? d->type : NULL, d && d->default_value, &s);
	}
	if (!known)
		return;
	for (size_t k = 0; k < ndefs; k++) {
		if (defs[k].type->kind != GK_NON_NULL || defs[k].default_value)
			continue;
		bool given = false;
		for (size_t i = 0; i < nargs && !given; i++)
			given = !strcmp(args[i].name, defs[k].name);
		if (!given) {
			struct seg s = SEG(&args_seg, SEG_KEY, defs[k].name);
			fail(c, owner_pos, &s, "missing required field '%s'", defs[k].name);
		}
	}
}

static const char *location_words(unsigned loc)
{
	switch (loc) {
	case GD_QUERY:
		return "a query";
	case GD_MUTATION:
		return "a mutation";
	case GD_SUBSCRIPTION:
		return "a subscription";
	case GD_FIELD:
		return "a field";
	case GD_FRAGMENT_DEFINITION:
		return "a fragment definition";
	case GD_FRAGMENT_SPREAD:
		return "a fragment spread";
	case GD_INLINE_FRAGMENT:
		return "an inline fragment";
	case GD_VARIABLE_DEFINITION:
		return "a variable definition";
	default:
		return "this location";
	}
}

/* KnownDirectives, UniqueDirectivesPerLocation and their arguments, at location `loc`. */
static void visit_directives(struct ctx *c, const struct gql_directive *dirs, size_t n,
			     unsigned loc, struct seg *at)
{
	if (!n)
		return;
	/* Only known directives that are not repeatable must be unique. */
	const char **names = ARENA_NEW_ARRAY(c->a, const char *, n);
	size_t *which = ARENA_NEW_ARRAY(c->a, size_t, n);
	size_t nknown = 0;
	for (size_t i = 0; i < n; i++) {
		const struct gql_directive_def *def = gql_directive_find(c->s, dirs[i].name);
		if (def && !def->repeatable) {
			names[nknown] = dirs[i].name;
			which[nknown++] = i;
		}
	}
	long dup = first_dup(c->a, names, nknown, sizeof(*names), 0);
	if (dup >= 0) {
		const struct gql_directive *d = &dirs[which[dup]];
		struct seg s = SEG(at, SEG_KEY, d->name);
		fail(c, d->pos, &s, "the following directives are used more than once: ['%s']",
		     d->name);
	}
	for (size_t i = 0; i < n; i++) {
		const struct gql_directive *d = &dirs[i];
		const struct gql_directive_def *def = gql_directive_find(c->s, d->name);
		struct seg s = SEG(at, SEG_KEY, d->name);
		if (!def)
			fail(c, d->pos, &s, "directive '%s' is not defined in the schema", d->name);
		else if (!(def->locations & loc))
			fail(c, d->pos, &s, "directive '%s' is not allowed on %s", d->name,
			     location_words(loc));
		visit_args(c, def ? def->args : NULL, def ? def->nargs : 0, def != NULL, d->name,
			   d->pos, d->args, d->nargs, &s);
	}
}

static const struct conflict *conflicts_within(struct ctx *c, const struct gql_type *parent,
					       const struct gql_selection_set *set);

/* The path of a conflict from `at` down to its innermost fields, and its message. */
static void fail_conflict(struct ctx *c, const struct conflict *cf, struct seg *at)
{
	struct seg *p = at;
	for (;;) {
		struct seg *s = ARENA_NEW(c->a, struct seg);
		*s = SEG(p, SEG_FIELD, cf->key);
		s->kept = true;
		p = s;
		if (cf->kind != CF_SUBFIELDS)
			break;
		cf = cf->sub;
	}
	struct gql_pos pos = before(cf->n1->pos, cf->n2->pos) ? cf->n2->pos : cf->n1->pos;
	switch (cf->kind) {
	case CF_NAMES:
		fail(c, pos, p,
		     "selection of both '%s' and '%s' specify the same response name, '%s'",
		     cf->n1->name, cf->n2->name, cf->key);
		break;
	case CF_ARGS:
		fail(c, pos, p, "inconsistent arguments between multiple selections of field '%s'",
		     cf->n1->name);
		break;
	case CF_TYPES:
		if (better(c, pos))
			fail(c, pos, p,
			     "the fields selected as '%s' return conflicting types '%s' and '%s'",
			     cf->key, type_text(c, cf->t1), type_text(c, cf->t2));
		break;
	case CF_SUBFIELDS:
		break;
	}
}

static void visit_set(struct ctx *c, const struct gql_type *parent,
		      const struct gql_selection_set *set, struct seg *at, bool inline_set);

/* MaxIntrospectionDepth at a `__schema` or `__type` field. */
static void check_introspection(struct ctx *c, const struct gql_selection *f, struct seg *at)
{
	if (f->set && extent_of(c, f->set).lists >= MAX_INTROSPECTION_LISTS)
		fail(c, f->pos, at,
		     "the introspection query nests 'fields', 'inputFields', 'interfaces' and "
		     "'possibleTypes' %u deep under '%s'; the limit is %u",
		     MAX_INTROSPECTION_LISTS, f->name, MAX_INTROSPECTION_LISTS - 1);
}

static void visit_field(struct ctx *c, const struct gql_type *parent, const struct gql_selection *f,
			struct seg *set_at, struct seg *at)
{
	struct seg fs = SEG(at, SEG_FIELD, path_name(f));
	const struct gql_field *def = parent ? gql_field_find(c->s, parent, f->name) : NULL;
	if (parent && !def)
		fail(c, f->pos, &fs, "field '%s' not found in type: '%s'", f->name, parent->name);
	visit_args(c, def ? def->args : NULL, def ? def->nargs : 0, def != NULL, f->name, f->pos,
		   f->args, f->nargs, &fs);
	visit_directives(c, f->directives, f->ndirectives, GD_FIELD, set_at);
	if (def) {
		if (gql_is_leaf(def->type)) {
			if (f->set)
				fail(c, f->pos, &fs,
				     "unexpected subselection set for non-object field");
		} else if (!f->set) {
			struct seg s = SEG(&fs, SEG_KEY, "selectionSet");
			fail(c, f->pos, &s, "missing selection set for '%s'",
			     gql_named(def->type)->name);
		}
	}
	if (is_introspection_root(f->name))
		check_introspection(c, f, &fs);
	if (f->set) {
		const struct gql_type *sub = def ? gql_named(def->type) : NULL;
		visit_set(c, composite(sub) ? sub : NULL, f->set, &fs, false);
	}
}

/*
 * The selections of `set`, on `parent` (NULL when unknown); `at` is the
 * path of the field that owns it (NULL: the operation). `inline_set`: the
 * set of an inline fragment, whose fields its parent's check compares.
 */
static void visit_set(struct ctx *c, const struct gql_type *parent,
		      const struct gql_selection_set *set, struct seg *at, bool inline_set)
{
	struct seg set_at = SEG(at, SEG_KEY, "selectionSet");
	for (size_t i = 0; i < set->n && !c->too_complex; i++) {
		const struct gql_selection *sel = &set->items[i];
		switch (sel->kind) {
		case GQL_FIELD:
			visit_field(c, parent, sel, &set_at, at);
			break;
		case GQL_INLINE_FRAGMENT: {
			const struct gql_type *t = parent;
			if (sel->type_condition) {
				t = gql_type_find(c->s, sel->type_condition);
				if (!t) {
					fail(c, sel->pos, &set_at, "unknown type '%s'",
					     sel->type_condition);
				} else if (!composite(t)) {
					fail(c, sel->pos, &set_at,
					     "an inline fragment cannot condition on the "
					     "non-object type '%s'",
					     t->name);
					t = NULL;
				} else if (parent && t != parent) {
					fail(c, sel->pos, &set_at,
					     "an inline fragment on '%s' can never apply to "
					     "objects of type '%s'",
					     t->name, parent->name);
				}
			}
			visit_directives(c, sel->directives, sel->ndirectives, GD_INLINE_FRAGMENT,
					 &set_at);
			visit_set(c, t, sel->set, at, true);
			break;
		}
		case GQL_FRAGMENT_SPREAD: {
			int fi = strmap_get(&c->frag_by_name, sel->name);
			if (fi < 0) {
				fail(c, sel->pos, &set_at, "reference to undefined fragment '%s'",
				     sel->name);
			} else if (parent && c->frags[fi].type && c->frags[fi].type != parent) {
				fail(c, sel->pos, &set_at,
				     "fragment '%s' cannot be spread here: objects of type '%s' "
				     "can never be of type '%s'",
				     sel->name, parent->name, c->frags[fi].type->name);
			}
			visit_directives(c, sel->directives, sel->ndirectives, GD_FRAGMENT_SPREAD,
					 &set_at);
			break;
		}
		}
	}
	/* graphql-js checks every set but an inline fragment's and a lone field or spread. */
	if (c->too_complex || inline_set || !set->n ||
	    (set->n == 1 && set->items[0].kind != GQL_INLINE_FRAGMENT))
		return;
	c->conflict_depth = 0;
	const struct conflict *cf = conflicts_within(c, parent, set);
	if (cf && !c->too_complex)
		fail_conflict(c, cf, at);
}

static void visit_operation(struct ctx *c, size_t i)
{
	const struct gql_operation *op = &c->doc->ops[i];
	struct def_info *d = &c->ops[i];
	c->cur = d;
	c->flat = false;
	const struct gql_type *root = op->kind == GQL_QUERY	   ? c->s->query
				      : op->kind == GQL_MUTATION ? c->s->mutation
								 : NULL;
	if (!root)
		fail(c, op->pos, NULL, "the schema has no %s root: %ss are not supported",
		     op_word(op->kind), op_word(op->kind));
	long dup = first_dup(c->a, op->vars, op->nvars, sizeof(*op->vars),
			     offsetof(struct gql_variable_def, name));
	if (dup >= 0)
		fail(c, op->vars[dup].pos, NULL, "multiple definitions for variable '%s'",
		     op->vars[dup].name);
	d->var_types = ARENA_NEW_ARRAY(c->a, const struct gql_type *, op->nvars ? op->nvars : 1);
	struct seg defs = SEG(NULL, SEG_KEY, "variableDefinitions");
	for (size_t k = 0; k < op->nvars; k++) {
		const struct gql_variable_def *v = &op->vars[k];
		const struct gql_type_ref *named = type_ref_named(v->type);
		const struct gql_type *t = type_from_ref(c, v->type);
		struct seg var = SEG(&defs, SEG_KEY, v->name);
		if (!t) {
			fail(c, named->pos, NULL, "unknown type '%s'", named->name);
		} else if (!gql_is_input(t)) {
			struct buf b = BUF_INIT;
			type_ref_write(&b, v->type);
			fail(c, v->pos, NULL, "variable '%s' cannot be of the non-input type '%s'",
			     v->name, b.data);
			buf_release(&b);
		}
		d->var_types[k] = t;
		if (v->default_value) {
			struct seg def = SEG(&var, SEG_KEY, "defaultValue");
			visit_value(c, v->default_value, t && gql_is_input(t) ? t : NULL, false,
				    &def);
		}
		visit_directives(c, v->directives, v->ndirectives, GD_VARIABLE_DEFINITION, NULL);
	}
	unsigned loc = op->kind == GQL_QUERY	  ? GD_QUERY
		       : op->kind == GQL_MUTATION ? GD_MUTATION
						  : GD_SUBSCRIPTION;
	visit_directives(c, op->directives, op->ndirectives, loc, NULL);
	visit_set(c, root, op->set, NULL, false);
}

static void visit_fragment(struct ctx *c, size_t i)
{
	const struct gql_fragment *f = &c->doc->frags[i];
	struct def_info *d = &c->frags[i];
	c->cur = d;
	c->flat = !d->reached;
	if (strmap_get(&c->frag_by_name, f->name) != (int)i)
		fail(c, f->pos, NULL, "multiple definitions for fragment '%s'", f->name);
	const struct gql_type *t = gql_type_find(c->s, f->type_condition);
	if (!t)
		fail(c, f->pos, NULL, "unknown type '%s'", f->type_condition);
	else if (!composite(t))
		fail(c, f->pos, NULL, "fragment '%s' cannot condition on the non-object type '%s'",
		     f->name, t->name);
	struct seg set_at = SEG(d->base, SEG_KEY, "selectionSet");
	visit_directives(c, f->directives, f->ndirectives, GD_FRAGMENT_DEFINITION, &set_at);
	visit_set(c, d->type, f->set, d->base, false);
}

/* ---- OverlappingFieldsCanBeMerged ------------------------------------------------------ */

static void collect_into(struct ctx *c, struct collected *r, const struct gql_type *parent,
			 const struct gql_selection_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct gql_selection *sel = &set->items[i];
		spend(c, 1);
		switch (sel->kind) {
		case GQL_FIELD: {
			struct fdetail fd = { parent, sel, NULL };
			if (parent && parent->kind == GK_OBJECT && !is_meta_name(sel->name))
				fd.def = gql_field_find(c->s, parent, sel->name);
			const char *key = response_key(sel);
			int g = strmap_add(c->a, &r->by_key, key, (int)r->ngroups);
			if (g == (int)r->ngroups) {
				struct group ng = { .key = key };
				PUSH(c->a, r->groups, r->ngroups, r->capgroups, ng);
			}
			struct group *gr = &r->groups[g];
			PUSH(c->a, gr->items, gr->n, gr->cap, fd);
			break;
		}
		case GQL_FRAGMENT_SPREAD: {
			int f = strmap_get(&c->frag_by_name, sel->name);
			uint64_t key = ((uint64_t)r->id << 32) | (uint32_t)(f + 1);
			if (f >= 0 && !u64map_find(&c->compared_frags, key)) {
				/* Listed: state 0, spread here but not compared yet. */
				u64map_set(c->a, &c->compared_frags, key, 0);
				PUSH(c->a, r->frags, r->nfrags, r->capfrags, f);
			}
			break;
		}
		case GQL_INLINE_FRAGMENT: {
			const struct gql_type *t = parent;
			if (sel->type_condition)
				t = gql_type_find(c->s, sel->type_condition);
			collect_into(c, r, t, sel->set);
			break;
		}
		}
	}
}

/* graphql-js's collectFields, memoised per selection set. */
static struct collected *collect(struct ctx *c, const struct gql_type *parent,
				 const struct gql_selection_set *set)
{
	int *cached = u64map_find(&c->collected_by_set, (uint64_t)(uintptr_t)set);
	if (cached && c->collected[*cached]->parent == parent)
		return c->collected[*cached];
	struct collected *r = ARENA_NEW(c->a, struct collected);
	r->id = (unsigned)c->ncollected + 1;
	r->parent = parent;
	/* Distinct fragments are found through compared_frags, keyed by this id. */
	collect_into(c, r, parent, set);
	if (!cached)
		u64map_set(c->a, &c->collected_by_set, (uint64_t)(uintptr_t)set,
			   (int)c->ncollected);
	PUSH(c->a, c->collected, c->ncollected, c->capcollected, r);
	return r;
}

static struct collected *collect_fragment(struct ctx *c, int f)
{
	return collect(c, c->frags[f].type ? c->frags[f].type
					   : gql_type_find(c->s, c->doc->frags[f].type_condition),
		       c->doc->frags[f].set);
}

/* graphql-js's stringifyValue comparison: structure, object fields in name order. */
static bool same_value(struct ctx *c, const struct gql_value *a, const struct gql_value *b);

static int by_field_name(const void *x, const void *y)
{
	const struct gql_object_field *const *a = x, *const *b = y;
	int r = strcmp((*a)->name, (*b)->name);
	/* Stable: equal names keep their order (the fields are one array). */
	return r ? r : (*a < *b ? -1 : *a > *b);
}

static const struct gql_object_field **sorted_fields(struct ctx *c, const struct gql_value *v)
{
	const struct gql_object_field **f =
		ARENA_NEW_ARRAY(c->a, const struct gql_object_field *, v->nfields ? v->nfields : 1);
	for (size_t i = 0; i < v->nfields; i++)
		f[i] = &v->fields[i];
	qsort(f, v->nfields, sizeof(*f), by_field_name);
	return f;
}

static bool same_value(struct ctx *c, const struct gql_value *a, const struct gql_value *b)
{
	spend(c, 1);
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case GQL_VARIABLE:
	case GQL_INT:
	case GQL_FLOAT:
	case GQL_ENUM:
		return !strcmp(a->text, b->text);
	case GQL_STRING:
		return a->block == b->block && !strcmp(a->text, b->text);
	case GQL_BOOLEAN:
		return a->boolean == b->boolean;
	case GQL_NULL:
		return true;
	case GQL_LIST:
		if (a->nitems != b->nitems)
			return false;
		for (size_t i = 0; i < a->nitems; i++)
			if (!same_value(c, a->items[i], b->items[i]))
				return false;
		return true;
	case GQL_OBJECT: {
		if (a->nfields != b->nfields || !spend(c, (long)a->nfields))
			return false;
		const struct gql_object_field **fa = sorted_fields(c, a),
					      **fb = sorted_fields(c, b);
		for (size_t i = 0; i < a->nfields; i++)
			if (strcmp(fa[i]->name, fb[i]->name) ||
			    !same_value(c, fa[i]->value, fb[i]->value))
				return false;
		return true;
	}
	}
	return false;
}

/* graphql-js's sameArguments: as many arguments, each with an equal one of the same name. */
static bool same_arguments(struct ctx *c, const struct gql_selection *f1,
			   const struct gql_selection *f2)
{
	if (!f1->nargs)
		return !f2->nargs;
	if (f1->nargs != f2->nargs)
		return false;
	for (size_t i = 0; i < f1->nargs; i++) {
		const struct gql_value *v2 = NULL;
		for (size_t k = f2->nargs; k-- > 0 && !v2;) /* the last of a name, as a Map keeps */
			if (!strcmp(f2->args[k].name, f1->args[i].name))
				v2 = f2->args[k].value;
		if (!v2 || !same_value(c, f1->args[i].value, v2))
			return false;
	}
	return true;
}

/* graphql-js's doTypesConflict. */
static bool types_conflict(const struct gql_type *t1, const struct gql_type *t2)
{
	if (t1->kind == GK_LIST)
		return t2->kind == GK_LIST ? types_conflict(t1->of, t2->of) : true;
	if (t2->kind == GK_LIST)
		return true;
	if (t1->kind == GK_NON_NULL)
		return t2->kind == GK_NON_NULL ? types_conflict(t1->of, t2->of) : true;
	if (t2->kind == GK_NON_NULL)
		return true;
	if (gql_is_leaf(t1) || gql_is_leaf(t2))
		return t1 != t2;
	return false;
}

static const struct conflict *conflicts_between_sets(struct ctx *c, bool exclusive,
						     const struct gql_type *p1,
						     const struct gql_selection_set *s1,
						     const struct gql_type *p2,
						     const struct gql_selection_set *s2);

static struct conflict *new_conflict(struct ctx *c, enum conflict_kind kind, const char *key,
				     const struct fdetail *f1, const struct fdetail *f2)
{
	struct conflict *cf = ARENA_NEW(c->a, struct conflict);
	*cf = (struct conflict){ kind, key, f1->node, f2->node, NULL, NULL, NULL };
	return cf;
}

/* graphql-js's findConflict: whether two fields under response key `key` cannot merge. */
static const struct conflict *find_conflict(struct ctx *c, bool parents_exclusive, const char *key,
					    const struct fdetail *f1, const struct fdetail *f2)
{
	if (!spend(c, 2))
		return NULL;
	bool exclusive = parents_exclusive ||
			 (f1->parent != f2->parent && f1->parent && f2->parent &&
			  f1->parent->kind == GK_OBJECT && f2->parent->kind == GK_OBJECT);
	if (!exclusive) {
		if (strcmp(f1->node->name, f2->node->name))
			return new_conflict(c, CF_NAMES, key, f1, f2);
		if (!same_arguments(c, f1->node, f2->node))
			return new_conflict(c, CF_ARGS, key, f1, f2);
	}
	const struct gql_type *t1 = f1->def ? f1->def->type : NULL;
	const struct gql_type *t2 = f2->def ? f2->def->type : NULL;
	if (t1 && t2 && types_conflict(t1, t2)) {
		struct conflict *cf = new_conflict(c, CF_TYPES, key, f1, f2);
		cf->t1 = t1;
		cf->t2 = t2;
		return cf;
	}
	if (!f1->node->set || !f2->node->set)
		return NULL;
	if (c->conflict_depth >= CONFLICT_DEPTH_CAP) {
		c->too_complex = true;
		return NULL;
	}
	c->conflict_depth++;
	const struct conflict *sub = conflicts_between_sets(
		c, exclusive, t1 ? gql_named(t1) : NULL, f1->node->set, t2 ? gql_named(t2) : NULL,
		f2->node->set);
	c->conflict_depth--;
	if (!sub)
		return NULL;
	struct conflict *cf = new_conflict(c, CF_SUBFIELDS, key, f1, f2);
	cf->sub = sub;
	return cf;
}

/* graphql-js's collectConflictsBetween: the fields of r1 against those of r2 with the same key. */
static const struct conflict *conflicts_between(struct ctx *c, bool exclusive,
						const struct collected *r1,
						const struct collected *r2)
{
	if (!r1->ngroups || !r2->ngroups)
		return NULL;
	for (size_t g = 0; g < r1->ngroups; g++) {
		if (!spend(c, 1))
			return NULL;
		int h = strmap_get(&r2->by_key, r1->groups[g].key);
		if (h < 0)
			continue;
		const struct group *a = &r1->groups[g], *b = &r2->groups[h];
		for (size_t i = 0; i < a->n; i++)
			for (size_t k = 0; k < b->n; k++) {
				const struct fdetail *f1 = &a->items[i], *f2 = &b->items[k];
				const struct conflict *cf =
					find_conflict(c, exclusive, a->key, f1, f2);
				if (cf || c->too_complex)
					return cf;
			}
	}
	return NULL;
}

/*
 * graphql-js's collectConflictsBetweenFieldsAndFragment: the fields of `r`
 * against fragment `frag` and those it spreads, each at most once per `r`
 * (by an explicit stack rather than recursion).
 */
static const struct conflict *conflicts_with_fragment(struct ctx *c, bool exclusive,
						      struct collected *r, int frag)
{
	if (!r->ngroups)
		return NULL;
	int *stack = NULL;
	size_t n = 0, cap = 0;
	PUSH(c->a, stack, n, cap, frag);
	while (n && spend(c, 1)) {
		int f = stack[--n];
		uint64_t key = ((uint64_t)r->id << 32) | (uint32_t)(f + 1);
		int *state = u64map_find(&c->compared_frags, key);
		int done = state ? *state : 0;
		if (done == 1 || (exclusive && done == 2))
			continue;
		u64map_set(c->a, &c->compared_frags, key, exclusive ? 2 : 1);
		struct collected *r2 = collect_fragment(c, f);
		if (r2 == r)
			continue;
		const struct conflict *cf = conflicts_between(c, exclusive, r, r2);
		if (cf)
			return cf;
		for (size_t i = r2->nfrags; i-- > 0;)
			PUSH(c->a, stack, n, cap, r2->frags[i]);
	}
	return NULL;
}

/*
 * graphql-js's collectConflictsBetweenFragments: fragment a against b, and
 * each against those the other spreads, each pair at most once (by an
 * explicit stack).
 */
static const struct conflict *conflicts_between_fragments(struct ctx *c, bool exclusive, int a,
							  int b)
{
	int *stack = NULL;
	size_t n = 0, cap = 0;
	PUSH(c->a, stack, n, cap, a);
	PUSH(c->a, stack, n, cap, b);
	while (n && spend(c, 2)) {
		int y = stack[--n], x = stack[--n];
		if (x == y)
			continue;
		int lo = x < y ? x : y, hi = x < y ? y : x;
		uint64_t key = ((uint64_t)(uint32_t)(lo + 1) << 32) | (uint32_t)(hi + 1);
		int *state = u64map_find(&c->compared_pairs, key);
		if (state && (exclusive || *state == 1))
			continue;
		u64map_set(c->a, &c->compared_pairs, key, exclusive ? 2 : 1);
		struct collected *rx = collect_fragment(c, x), *ry = collect_fragment(c, y);
		const struct conflict *cf = conflicts_between(c, exclusive, rx, ry);
		if (cf)
			return cf;
		for (size_t i = rx->nfrags; i-- > 0;) {
			PUSH(c->a, stack, n, cap, rx->frags[i]);
			PUSH(c->a, stack, n, cap, y);
		}
		for (size_t i = ry->nfrags; i-- > 0;) {
			PUSH(c->a, stack, n, cap, x);
			PUSH(c->a, stack, n, cap, ry->frags[i]);
		}
	}
	return NULL;
}

/* graphql-js's findConflictsBetweenSubSelectionSets. */
static const struct conflict *conflicts_between_sets(struct ctx *c, bool exclusive,
						     const struct gql_type *p1,
						     const struct gql_selection_set *s1,
						     const struct gql_type *p2,
						     const struct gql_selection_set *s2)
{
	struct collected *r1 = collect(c, p1, s1), *r2 = collect(c, p2, s2);
	const struct conflict *cf = conflicts_between(c, exclusive, r1, r2);
	for (size_t i = 0; !cf && i < r2->nfrags && !c->too_complex; i++)
		cf = conflicts_with_fragment(c, exclusive, r1, r2->frags[i]);
	for (size_t i = 0; !cf && i < r1->nfrags && !c->too_complex; i++)
		cf = conflicts_with_fragment(c, exclusive, r2, r1->frags[i]);
	for (size_t i = 0; !cf && i < r1->nfrags && !c->too_complex; i++)
		for (size_t k = 0; !cf && k < r2->nfrags && !c->too_complex; k++)
			cf = conflicts_between_fragments(c, exclusive, r1->frags[i], r2->frags[k]);
	return cf;
}

/* graphql-js's findConflictsWithinSelectionSet: the first conflict in `set`, or NULL. */
static const struct conflict *conflicts_within(struct ctx *c, const struct gql_type *parent,
					       const struct gql_selection_set *set)
{
	struct collected *r = collect(c, parent, set);
	for (size_t g = 0; g < r->ngroups; g++) {
		const struct group *gr = &r->groups[g];
		for (size_t i = 0; i < gr->n; i++)
			for (size_t k = i + 1; k < gr->n; k++) {
				const struct fdetail *f1 = &gr->items[i], *f2 = &gr->items[k];
				const struct conflict *cf =
					find_conflict(c, false, gr->key, f1, f2);
				if (cf || c->too_complex)
					return cf;
			}
	}
	if (!r->nfrags || (!r->ngroups && r->nfrags < 2))
		return NULL;
	for (size_t i = 0; i < r->nfrags; i++) {
		const struct conflict *cf = conflicts_with_fragment(c, false, r, r->frags[i]);
		for (size_t k = i + 1; !cf && k < r->nfrags && !c->too_complex; k++)
			cf = conflicts_between_fragments(c, false, r->frags[i], r->frags[k]);
		if (cf || c->too_complex)
			return cf;
	}
	return NULL;
}

/* ---- 6. the document's rules --------------------------------------------------------------- */

static void check_names(struct ctx *c)
{
	const struct gql_document *d = c->doc;
	struct strmap names = { 0 };
	for (size_t i = 0; i < d->nops; i++) {
		const struct gql_operation *op = &d->ops[i];
		if (!op->name) {
			if (d->nops > 1)
				fail(c, op->pos, NULL,
				     "an anonymous operation must be the only operation in the "
				     "document");
		} else if (strmap_add(c->a, &names, op->name, (int)i) != (int)i) {
			fail(c, op->pos, NULL, "multiple definitions for operation '%s'", op->name);
		}
	}
	struct buf unused = BUF_INIT;
	struct gql_pos first = { 0, 0 };
	for (size_t f = 0; f < d->nfrags; f++) {
		if (c->frags[f].reached)
			continue;
		if (!unused.len)
			first = d->frags[f].pos;
		buf_addf(&unused, "%s%s", unused.len ? ", " : "", d->frags[f].name);
	}
	if (unused.len)
		fail(c, first, NULL,
		     "following fragment(s) have been defined, but have not been used in the "
		     "query - %s",
		     unused.data);
	buf_release(&unused);
}

/*
 * NoUndefinedVariables, NoUnusedVariables and VariablesInAllowedPosition for
 * operation `i`: its own usages and those of every fragment it reaches.
 */
static void check_variables(struct ctx *c, size_t i, int *stamp)
{
	const struct gql_operation *op = &c->doc->ops[i];
	struct def_info *d = &c->ops[i];
	struct strmap vars = { 0 };
	for (size_t k = 0; k < op->nvars; k++)
		strmap_add(c->a, &vars, op->vars[k].name, (int)k);
	bool *used = ARENA_NEW_ARRAY(c->a, bool, op->nvars ? op->nvars : 1);
	int *stack = NULL;
	size_t n = 0, cap = 0;
	const struct def_info *def = d;
	for (;;) {
		for (size_t u = 0; u < def->nusages && spend(c, 1); u++) {
			const struct usage *us = &def->usages[u];
			int k = strmap_get(&vars, us->name);
			if (k < 0) {
				fail(c, us->pos, us->path, "unbound variable '%s'", us->name);
				continue;
			}
			used[k] = true;
			const struct gql_type *vt = d->var_types[k];
			if (!vt || !us->type || !better(c, us->pos) ||
			    allowed_usage(vt, op->vars[k].default_value, us->type,
					  us->location_default))
				continue;
			struct buf b = BUF_INIT;
			gql_type_write(&b, vt);
			fail(c, us->pos, us->path,
			     "variable '%s' is declared as '%s', but used where '%s' is expected",
			     us->name, b.data, type_text(c, us->type));
			buf_release(&b);
		}
		for (size_t s = 0; s < def->nspreads; s++) {
			int f = def->spreads[s].frag;
			if (f >= 0 && stamp[f] != (int)i + 1) {
				stamp[f] = (int)i + 1;
				PUSH(c->a, stack, n, cap, f);
			}
		}
		if (!n || c->too_complex)
			break;
		def = &c->frags[stack[--n]];
	}
	struct buf unused = BUF_INIT;
	struct gql_pos first = { 0, 0 };
	for (size_t k = 0; k < op->nvars; k++) {
		if (used[k] || strmap_get(&vars, op->vars[k].name) != (int)k)
			continue;
		if (!unused.len)
			first = op->vars[k].pos;
		buf_addf(&unused, "%s%s", unused.len ? ", " : "", op->vars[k].name);
	}
	if (unused.len && !c->too_complex)
		fail(c, first, NULL,
		     "following variable(s) have been defined, but have not been used in the "
		     "query - %s",
		     unused.data);
	buf_release(&unused);
}

/* ---- the entry point --------------------------------------------------------------------- */

static void run(struct ctx *c, const struct gql_validate_limits *limits)
{
	const struct gql_document *d = c->doc;
	if (limits && limits->max_fields && !check_fields(c, limits->max_fields))
		return;
	index_definitions(c);
	int *order = ARENA_NEW_ARRAY(c->a, int, d->nfrags ? d->nfrags : 1);
	bool cycle = find_cycles(c, order);
	fragment_extents(c, order);
	if (limits && limits->max_depth && !cycle) {
		for (size_t i = 0; i < d->nops; i++) {
			unsigned deep = extent_of(c, d->ops[i].set).deep;
			if (deep + 1 > limits->max_depth) {
				c->failed = false; /* the limit, not a rule found on the way */
				fail_depth(c, &d->ops[i], deep, limits->max_depth);
				return;
			}
		}
	}
	for (size_t i = 0; i < d->nops && !c->too_complex; i++)
		visit_operation(c, i);
	for (size_t i = 0; i < d->nfrags && !c->too_complex; i++)
		visit_fragment(c, i);
	c->flat = false;
	check_names(c);
	int *stamp = ARENA_NEW_ARRAY(c->a, int, d->nfrags ? d->nfrags : 1);
	for (size_t i = 0; i < d->nops && !c->too_complex; i++)
		check_variables(c, i, stamp);
	if (c->too_complex && !c->failed)
		fail(c, (struct gql_pos){ 1, 1 }, NULL,
		     "the document is too complex to validate: it compares too many fields and "
		     "fragments that share response names");
}

enum status gql_validate(const struct gql_schema *s, const struct gql_document *doc,
			 const struct gql_validate_limits *limits, struct arena *a,
			 struct gql_invalid *out)
{
	struct arena scratch = ARENA_INIT;
	struct ctx c = { .s = s, .doc = doc, .out = a, .a = &scratch };
	run(&c, limits);
	arena_release(&scratch);
	if (!c.failed) {
		*out = (struct gql_invalid){ 0 };
		return OK;
	}
	*out = (struct gql_invalid){ CODE, c.path, c.message, c.pos };
	return E_INVALID;
}

/* ---- timestamps ----------------------------------------------------------------------------- */

/* Reads `n` digits at *p into *v; false if they are not all digits. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return false;
		*v = *v * 10 + (ch - '0');
	}
	*p += n;
	return true;
}

bool gql_timestamp_parse(const char *text, int64_t *when, bool *fraction)
{
	static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = text;
	int y, m, d, hh = 0, mm = 0, ss = 0, offset = 0;
	*fraction = false;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &m) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return false;
	if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return false;
		p++;
		if (!digits(&p, 2, &hh) || *p++ != ':' || !digits(&p, 2, &mm) || hh > 23 || mm > 59)
			return false;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &ss) || ss > 59)
				return false;
			if (*p == '.') {
				p++;
				int n = 0;
				while (*p >= '0' && *p <= '9' && n < 10) {
					*fraction |= *p != '0';
					p++;
					n++;
				}
				if (n < 1 || n > 9)
					return false;
			}
		}
		if ((*p == 'Z' || *p == 'z') && !p[1]) {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
			if (!digits(&p, 2, &oh) || oh > 23)
				return false;
			if (*p && (*p == ':' ? (p++, !digits(&p, 2, &om)) : !digits(&p, 2, &om)))
				return false;
			if (om > 59)
				return false;
			offset = sign * (oh * 3600 + om * 60);
		}
		if (*p)
			return false;
	}
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = hh,
			 .tm_min = mm, .tm_sec = ss };
	*when = (int64_t)timegm(&tm) - offset;
	return true;
}

bool gql_timestamp_valid(const char *text)
{
	int64_t when;
	bool fraction;
	return gql_timestamp_parse(text, &when, &fraction);
}
