/*
 * parser.c: a recursive-descent parser for executable GraphQL documents,
 * building graphql/ast.h's tree in the caller's arena.
 *
 * The grammar is the executable subset of the October 2021 specification
 * (appendix B), lexed by graphql/lexer.c:
 *
 *   Document            : ExecutableDefinition+
 *   ExecutableDefinition: OperationDefinition | FragmentDefinition
 *   OperationDefinition : SelectionSet
 *                       | OperationType Name? VariableDefinitions? Directives? SelectionSet
 *   OperationType       : one of query mutation subscription
 *   SelectionSet        : { Selection+ }
 *   Selection           : Field | FragmentSpread | InlineFragment
 *   Field               : Alias? Name Arguments? Directives? SelectionSet?
 *   Alias               : Name :
 *   Arguments[Const]    : ( Argument[?Const]+ )
 *   Argument[Const]     : Name : Value[?Const]
 *   FragmentSpread      : ... FragmentName Directives?
 *   InlineFragment      : ... TypeCondition? Directives? SelectionSet
 *   FragmentDefinition  : fragment FragmentName TypeCondition Directives? SelectionSet
 *   FragmentName        : Name but not on
 *   TypeCondition       : on NamedType
 *   Value[Const]        : [~Const] Variable | IntValue | FloatValue | StringValue
 *                       | BooleanValue | NullValue | EnumValue
 *                       | ListValue[?Const] | ObjectValue[?Const]
 *   EnumValue           : Name but not true, false or null
 *   ListValue[Const]    : [ ] | [ Value[?Const]+ ]
 *   ObjectValue[Const]  : { } | { ObjectField[?Const]+ }
 *   ObjectField[Const]  : Name : Value[?Const]
 *   VariableDefinitions : ( VariableDefinition+ )
 *   VariableDefinition  : Variable : Type DefaultValue? Directives[Const]?
 *   Variable            : $ Name
 *   DefaultValue        : = Value[Const]
 *   Type                : NamedType | ListType | NonNullType
 *   ListType            : [ Type ]
 *   NonNullType         : NamedType ! | ListType !
 *   Directives[Const]   : Directive[?Const]+
 *   Directive[Const]    : @ Name Arguments[?Const]?
 *
 * A type system definition or extension (schema, scalar, type, interface,
 * union, enum, input, directive, extend, or a description before one) is
 * an error saying that only executable definitions are supported; so is a
 * description before an operation or a fragment, which the edition does not
 * allow. An empty document is an error ("Unexpected <EOF>.").
 *
 * Limits. Recursion is bounded so that no input can exhaust the stack:
 * selection sets nest at most max_depth deep, and so do list and object
 * values within one value and list types within one type, each counted on
 * its own; max_depth is never above GQL_DEPTH_CAP (256), which also
 * applies when it is 0. The number of tokens read is bounded by
 * max_tokens (0: no bound; the size of the text bounds it). Exceeding a
 * limit is a parse error naming it, at the token that exceeded it.
 *
 * Memory. Every node comes from the caller's arena; the arrays of a node
 * (selections, arguments, ...) are gathered on a scratch stack, itself in
 * the arena and shared by all nesting levels, and copied out at their exact
 * size when their closing token is read. Nothing is allocated with malloc,
 * so an error can return from anywhere.
 */
#include "graphql/parser.h"

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "graphql/lexer.h"
#include "lib/banned.h"

#define TRY(expr)                                                                 \
	do {                                                                      \
		enum status rc_ = (expr);                                         \
		if (rc_ != OK)                                                    \
			return rc_;                                               \
	} while (0)

struct parser {
	struct gql_lexer lx;
	struct gql_token tok;    /* the current token */
	struct arena *a;
	struct error *err;
	struct gql_pos *error_pos;
	unsigned max_depth;      /* in effect: 1 to GQL_DEPTH_CAP */
	unsigned max_tokens;     /* 0: none */
	size_t ntokens;          /* read so far */
	unsigned set_depth;      /* selection sets open */
	unsigned value_depth;    /* lists, objects, list types open in the current value or type */
	unsigned char *stack;    /* the scratch stack: [0, sp) in use, cap bytes */
	size_t sp, cap;
};

static enum status fail(struct parser *p, struct gql_pos at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum status fail(struct parser *p, struct gql_pos at, const char *fmt, ...)
{
	char msg[sizeof(((struct problem *)0)->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return gql_syntax_error(p->err, p->error_pos, at, "%s", msg);
}

/* "Unexpected Name \"foo\"." about token `t`. */
static enum status unexpected(struct parser *p, const struct gql_token *t)
{
	char desc[80];
	gql_tok_desc(t, desc, sizeof(desc));
	return fail(p, t->pos, "Unexpected %s.", desc);
}

static enum status expected(struct parser *p, enum gql_tok_kind kind)
{
	char desc[80];
	gql_tok_desc(&p->tok, desc, sizeof(desc));
	return fail(p, p->tok.pos, "Expected %s, found %s.", gql_tok_kind_desc(kind), desc);
}

static enum status advance(struct parser *p)
{
	TRY(gql_lex_next(&p->lx, &p->tok));
	if (p->tok.kind != GQL_TOK_EOF && ++p->ntokens > p->max_tokens && p->max_tokens)
		return fail(p, p->tok.pos, "Document contains more than %u tokens. Parsing aborted.",
			    p->max_tokens);
	return OK;
}

static bool at(const struct parser *p, enum gql_tok_kind kind)
{
	return p->tok.kind == kind;
}

static bool token_is(const struct gql_token *t, const char *word)
{
	size_t n = strlen(word);
	return t->kind == GQL_TOK_NAME && t->len == n && !memcmp(t->text, word, n);
}

static bool at_word(const struct parser *p, const char *word)
{
	return token_is(&p->tok, word);
}

static enum status expect(struct parser *p, enum gql_tok_kind kind)
{
	if (!at(p, kind))
		return expected(p, kind);
	return advance(p);
}

/* A Name: its copy in the arena and its position. */
static enum status name(struct parser *p, const char **out, struct gql_pos *pos)
{
	if (!at(p, GQL_TOK_NAME))
		return expected(p, GQL_TOK_NAME);
	*out = arena_strndup(p->a, p->tok.text, p->tok.len);
	if (pos)
		*pos = p->tok.pos;
	return advance(p);
}

/* Makes room for `size` more bytes on the scratch stack (the old copy stays in the arena). */
static void grow(struct parser *p, size_t size)
{
	size_t cap = p->cap ? p->cap * 2 : 2048;
	while (cap - p->sp < size)
		cap *= 2;
	unsigned char *stack = ARENA_NEW_ARRAY(p->a, unsigned char, cap);
	if (p->sp)
		memcpy(stack, p->stack, p->sp);
	p->stack = stack;
	p->cap = cap;
}

/* Inlined: `size` is a constant at every call, which makes the copy a few moves. */
static inline __attribute__((always_inline)) void push(struct parser *p, const void *item,
							size_t size)
{
	if (p->cap - p->sp < size)
		grow(p, size);
	memcpy(p->stack + p->sp, item, size);
	p->sp += size;
}

/* The items pushed since `mark`, copied into the arena (NULL when none), and popped. */
static void *pop(struct parser *p, size_t mark, size_t size, size_t *n)
{
	size_t bytes = p->sp - mark;
	*n = bytes / size;
	p->sp = mark;
	if (!bytes)
		return NULL;
	void *items = arena_alloc(p->a, bytes);
	memcpy(items, p->stack + mark, bytes);
	return items;
}

/* Opens one level of value or type nesting at the current "[" or "{". */
static enum status nest_value(struct parser *p, const char *what)
{
	if (p->value_depth >= p->max_depth)
		return fail(p, p->tok.pos, "%s exceeds the maximum depth of %u.", what, p->max_depth);
	p->value_depth++;
	return OK;
}

static enum status value(struct parser *p, bool is_const, struct gql_value **out);

/* ListValue or ObjectValue, at "[" or "{". */
static enum status compound_value(struct parser *p, bool is_const, struct gql_value *v)
{
	TRY(nest_value(p, "Value"));
	bool list = at(p, GQL_TOK_BRACKET_L);
	enum gql_tok_kind close = list ? GQL_TOK_BRACKET_R : GQL_TOK_BRACE_R;
	size_t mark = p->sp;
	TRY(advance(p));
	while (!at(p, close)) {
		if (list) {
			struct gql_value *item;
			TRY(value(p, is_const, &item));
			push(p, &item, sizeof(item));
		} else {
			struct gql_object_field f;
			TRY(name(p, &f.name, &f.pos));
			TRY(expect(p, GQL_TOK_COLON));
			TRY(value(p, is_const, &f.value));
			push(p, &f, sizeof(f));
		}
	}
	TRY(advance(p));
	if (list) {
		v->kind = GQL_LIST;
		v->items = pop(p, mark, sizeof(*v->items), &v->nitems);
	} else {
		v->kind = GQL_OBJECT;
		v->fields = pop(p, mark, sizeof(*v->fields), &v->nfields);
	}
	p->value_depth--;
	return OK;
}

/* Value[Const]: a constant value refuses variables (default values, directives of variables). */
static enum status value(struct parser *p, bool is_const, struct gql_value **out)
{
	struct gql_value *v = ARENA_NEW(p->a, struct gql_value);
	v->pos = p->tok.pos;
	*out = v;
	switch (p->tok.kind) {
	case GQL_TOK_BRACKET_L:
	case GQL_TOK_BRACE_L:
		return compound_value(p, is_const, v);
	case GQL_TOK_INT:
	case GQL_TOK_FLOAT:
		v->kind = at(p, GQL_TOK_INT) ? GQL_INT : GQL_FLOAT;
		v->text = arena_strndup(p->a, p->tok.text, p->tok.len);
		return advance(p);
	case GQL_TOK_STRING:
	case GQL_TOK_BLOCK_STRING:
		v->kind = GQL_STRING;
		v->text = p->tok.value;
		v->block = at(p, GQL_TOK_BLOCK_STRING);
		return advance(p);
	case GQL_TOK_NAME:
		if (at_word(p, "true") || at_word(p, "false")) {
			v->kind = GQL_BOOLEAN;
			v->boolean = at_word(p, "true");
		} else if (at_word(p, "null")) {
			v->kind = GQL_NULL;
		} else {
			v->kind = GQL_ENUM;
			v->text = arena_strndup(p->a, p->tok.text, p->tok.len);
		}
		return advance(p);
	case GQL_TOK_DOLLAR:
		if (is_const) {
			struct gql_token dollar = p->tok;
			TRY(advance(p));
			if (!at(p, GQL_TOK_NAME))
				return unexpected(p, &dollar);
			return fail(p, dollar.pos, "Unexpected variable \"$%.*s\" in constant value.",
				    (int)(p->tok.len > 40 ? 40 : p->tok.len), p->tok.text);
		}
		v->kind = GQL_VARIABLE;
		TRY(advance(p));
		return name(p, &v->text, NULL);
	default:
		return unexpected(p, &p->tok);
	}
}

/* Arguments[Const]?, at "(" or not. */
static enum status arguments(struct parser *p, bool is_const, struct gql_argument **args,
			     size_t *nargs)
{
	*args = NULL;
	*nargs = 0;
	if (!at(p, GQL_TOK_PAREN_L))
		return OK;
	size_t mark = p->sp;
	TRY(advance(p));
	do {
		struct gql_argument arg;
		TRY(name(p, &arg.name, &arg.pos));
		TRY(expect(p, GQL_TOK_COLON));
		TRY(value(p, is_const, &arg.value));
		push(p, &arg, sizeof(arg));
	} while (!at(p, GQL_TOK_PAREN_R));
	TRY(advance(p));
	*args = pop(p, mark, sizeof(**args), nargs);
	return OK;
}

/* Directives[Const]?, at "@" or not. */
static enum status directives(struct parser *p, bool is_const, struct gql_directive **dirs,
			      size_t *ndirs)
{
	size_t mark = p->sp;
	while (at(p, GQL_TOK_AT)) {
		struct gql_directive d;
		d.pos = p->tok.pos;
		TRY(advance(p));
		TRY(name(p, &d.name, NULL));
		TRY(arguments(p, is_const, &d.args, &d.nargs));
		push(p, &d, sizeof(d));
	}
	*dirs = pop(p, mark, sizeof(**dirs), ndirs);
	return OK;
}

/* Type: recursion only through "[", bounded like values. */
static enum status type_ref(struct parser *p, struct gql_type_ref **out)
{
	struct gql_type_ref *t = ARENA_NEW(p->a, struct gql_type_ref);
	t->pos = p->tok.pos;
	if (at(p, GQL_TOK_BRACKET_L)) {
		TRY(nest_value(p, "Type reference"));
		TRY(advance(p));
		t->kind = GQL_TYPE_LIST;
		TRY(type_ref(p, &t->of));
		TRY(expect(p, GQL_TOK_BRACKET_R));
		p->value_depth--;
	} else {
		t->kind = GQL_TYPE_NAMED;
		TRY(name(p, &t->name, NULL));
	}
	if (at(p, GQL_TOK_BANG)) {
		struct gql_type_ref *nn = ARENA_NEW(p->a, struct gql_type_ref);
		nn->kind = GQL_TYPE_NON_NULL;
		nn->pos = t->pos;
		nn->of = t;
		t = nn;
		TRY(advance(p));
	}
	*out = t;
	return OK;
}

static enum status selection_set(struct parser *p, struct gql_selection_set **out);

/* Selection: Field, FragmentSpread or InlineFragment. */
static enum status selection(struct parser *p, struct gql_selection *s)
{
	memset(s, 0, sizeof(*s));
	s->pos = p->tok.pos;
	if (at(p, GQL_TOK_SPREAD)) {
		TRY(advance(p));
		if (at_word(p, "on")) {
			TRY(advance(p));
			TRY(name(p, &s->type_condition, NULL));
		} else if (at(p, GQL_TOK_NAME)) {
			s->kind = GQL_FRAGMENT_SPREAD;
			TRY(name(p, &s->name, NULL));
			return directives(p, false, &s->directives, &s->ndirectives);
		}
		s->kind = GQL_INLINE_FRAGMENT;
		TRY(directives(p, false, &s->directives, &s->ndirectives));
		return selection_set(p, &s->set);
	}
	s->kind = GQL_FIELD;
	TRY(name(p, &s->name, NULL));
	if (at(p, GQL_TOK_COLON)) {
		TRY(advance(p));
		s->alias = s->name;
		TRY(name(p, &s->name, NULL));
	}
	TRY(arguments(p, false, &s->args, &s->nargs));
	TRY(directives(p, false, &s->directives, &s->ndirectives));
	if (at(p, GQL_TOK_BRACE_L))
		return selection_set(p, &s->set);
	return OK;
}

static enum status selection_set(struct parser *p, struct gql_selection_set **out)
{
	if (!at(p, GQL_TOK_BRACE_L))
		return expected(p, GQL_TOK_BRACE_L);
	if (p->set_depth >= p->max_depth)
		return fail(p, p->tok.pos, "Selection set exceeds the maximum depth of %u.",
			    p->max_depth);
	p->set_depth++;
	struct gql_selection_set *set = ARENA_NEW(p->a, struct gql_selection_set);
	set->pos = p->tok.pos;
	size_t mark = p->sp;
	TRY(advance(p));
	do {
		struct gql_selection s;
		TRY(selection(p, &s));
		push(p, &s, sizeof(s));
	} while (!at(p, GQL_TOK_BRACE_R));
	TRY(advance(p));
	set->items = pop(p, mark, sizeof(*set->items), &set->n);
	p->set_depth--;
	*out = set;
	return OK;
}

/* VariableDefinitions?, at "(" or not. */
static enum status variable_defs(struct parser *p, struct gql_variable_def **vars, size_t *nvars)
{
	*vars = NULL;
	*nvars = 0;
	if (!at(p, GQL_TOK_PAREN_L))
		return OK;
	size_t mark = p->sp;
	TRY(advance(p));
	do {
		struct gql_variable_def d = { .pos = p->tok.pos };
		TRY(expect(p, GQL_TOK_DOLLAR));
		TRY(name(p, &d.name, NULL));
		TRY(expect(p, GQL_TOK_COLON));
		TRY(type_ref(p, &d.type));
		if (at(p, GQL_TOK_EQUALS)) {
			TRY(advance(p));
			TRY(value(p, true, &d.default_value));
		}
		TRY(directives(p, true, &d.directives, &d.ndirectives));
		push(p, &d, sizeof(d));
	} while (!at(p, GQL_TOK_PAREN_R));
	TRY(advance(p));
	*vars = pop(p, mark, sizeof(**vars), nvars);
	return OK;
}

/* OperationDefinition, at "{" or at an OperationType. */
static enum status operation(struct parser *p, struct gql_operation *op)
{
	memset(op, 0, sizeof(*op));
	op->pos = p->tok.pos;
	op->kind = GQL_QUERY;
	if (at(p, GQL_TOK_BRACE_L))
		return selection_set(p, &op->set);
	if (at_word(p, "mutation"))
		op->kind = GQL_MUTATION;
	else if (at_word(p, "subscription"))
		op->kind = GQL_SUBSCRIPTION;
	TRY(advance(p));
	if (at(p, GQL_TOK_NAME))
		TRY(name(p, &op->name, NULL));
	TRY(variable_defs(p, &op->vars, &op->nvars));
	TRY(directives(p, false, &op->directives, &op->ndirectives));
	return selection_set(p, &op->set);
}

/* FragmentDefinition, at "fragment". */
static enum status fragment(struct parser *p, struct gql_fragment *f)
{
	memset(f, 0, sizeof(*f));
	f->pos = p->tok.pos;
	TRY(advance(p));
	if (at_word(p, "on"))
		return unexpected(p, &p->tok);
	TRY(name(p, &f->name, NULL));
	if (!at_word(p, "on")) {
		char desc[80];
		gql_tok_desc(&p->tok, desc, sizeof(desc));
		return fail(p, p->tok.pos, "Expected \"on\", found %s.", desc);
	}
	TRY(advance(p));
	TRY(name(p, &f->type_condition, NULL));
	TRY(directives(p, false, &f->directives, &f->ndirectives));
	return selection_set(p, &f->set);
}

static bool is_type_system_keyword(const struct gql_token *t)
{
	static const char *const words[] = {
		"schema", "scalar", "type", "interface", "union", "enum", "input", "directive", "extend",
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (token_is(t, words[i]))
			return true;
	return false;
}

static enum status type_system(struct parser *p, const struct gql_token *t)
{
	char desc[80];
	gql_tok_desc(t, desc, sizeof(desc));
	return fail(p, t->pos,
		    "Unexpected %s: only executable definitions (operations and fragments) are "
		    "supported.",
		    desc);
}

/* A definition: the record gathered on the scratch stack until the document ends. */
struct definition {
	bool is_op;
	union {
		struct gql_operation op;
		struct gql_fragment frag;
	} u;
};

static enum status definition(struct parser *p, struct definition *d)
{
	const struct gql_token *t = &p->tok;
	switch (t->kind) {
	case GQL_TOK_BRACE_L:
		d->is_op = true;
		return operation(p, &d->u.op);
	case GQL_TOK_NAME:
		if (at_word(p, "query") || at_word(p, "mutation") || at_word(p, "subscription")) {
			d->is_op = true;
			return operation(p, &d->u.op);
		}
		if (at_word(p, "fragment")) {
			d->is_op = false;
			return fragment(p, &d->u.frag);
		}
		if (is_type_system_keyword(t))
			return type_system(p, t);
		return unexpected(p, t);
	case GQL_TOK_STRING:
	case GQL_TOK_BLOCK_STRING: {
		/* A description: what follows says what it describes. */
		struct gql_lexer bookmark = p->lx;
		struct gql_token next;
		enum status rc = gql_lex_next(&p->lx, &next);
		p->lx = bookmark;
		if (rc != OK)
			return rc;
		if (is_type_system_keyword(&next))
			return type_system(p, &next);
		if (next.kind != GQL_TOK_NAME && next.kind != GQL_TOK_BRACE_L)
			return unexpected(p, &next);
		return fail(p, t->pos,
			    "Unexpected description, descriptions are supported only on type "
			    "definitions.");
	}
	default:
		return unexpected(p, t);
	}
}

static enum status document(struct parser *p, struct gql_document *doc)
{
	TRY(advance(p));
	if (at(p, GQL_TOK_EOF))
		return unexpected(p, &p->tok);
	size_t mark = p->sp;
	do {
		struct definition d = { 0 };
		TRY(definition(p, &d));
		push(p, &d, sizeof(d));
	} while (!at(p, GQL_TOK_EOF));

	/* The stack holds bytes, with no alignment promised: records are copied out. */
	size_t n = (p->sp - mark) / sizeof(struct definition), nops = 0;
	for (size_t i = 0; i < n; i++) {
		bool is_op;
		memcpy(&is_op, p->stack + mark + i * sizeof(struct definition) +
				       offsetof(struct definition, is_op),
		       sizeof(is_op));
		nops += is_op;
	}
	doc->nops = nops;
	doc->nfrags = n - nops;
	doc->ops = nops ? ARENA_NEW_ARRAY(p->a, struct gql_operation, nops) : NULL;
	doc->frags = n - nops ? ARENA_NEW_ARRAY(p->a, struct gql_fragment, n - nops) : NULL;
	size_t iop = 0, ifrag = 0;
	for (size_t i = 0; i < n; i++) {
		struct definition d;
		memcpy(&d, p->stack + mark + i * sizeof(d), sizeof(d));
		if (d.is_op) {
			assert(iop < nops);
			doc->ops[iop++] = d.u.op;
		} else {
			assert(ifrag < n - nops);
			doc->frags[ifrag++] = d.u.frag;
		}
	}
	p->sp = mark;
	return OK;
}

enum status gql_parse(const char *text, size_t len, const struct gql_limits *limits,
		      struct arena *a, struct gql_document *out, struct gql_pos *error_pos,
		      struct error *err)
{
	struct parser p = {
		.a = a,
		.err = err,
		.error_pos = error_pos,
		.max_depth = GQL_DEPTH_CAP,
	};
	if (limits) {
		if (limits->max_depth && limits->max_depth < GQL_DEPTH_CAP)
			p.max_depth = limits->max_depth;
		p.max_tokens = limits->max_tokens;
	}
	gql_lex_init(&p.lx, text, len, a, err, error_pos);
	memset(out, 0, sizeof(*out));
	if (error_pos)
		*error_pos = (struct gql_pos){ 0, 0 };

	struct gql_document doc = { 0 };
	enum status rc = document(&p, &doc);
	if (rc == OK)
		*out = doc;
	return rc;
}
