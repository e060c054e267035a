/*
 * gqlcheck.c: the GraphQL parser and validator from the command line, for
 * tests/graphql/oracle.mjs (mk/graphql.mk builds it with the test build).
 *
 *   gqlcheck --sdl
 *       prints the schema in SDL (gql_schema_sdl), which graphql-js reads
 *   gqlcheck --meta
 *       prints, in SDL, what graphql-js builds in itself: the introspection
 *       types (__Schema, __Type, ...) and the directives, so that the oracle
 *       can check that graphql-js's match them
 *   gqlcheck [--max-depth N] [--max-fields N] FILE...
 *       parses and validates each file and prints one JSON object per line:
 *       {"file", "verdict": "valid" | "invalid" | "parse-error",
 *        "code", "path", "message", "line", "column"}
 *       (the limits default to none)
 *
 * Exits 0 when every file could be read, whatever the verdicts; 2 on bad
 * usage or an unreadable file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphql/parser.h"
#include "graphql/schema.h"
#include "graphql/validate.h"
#include "lib/buf.h"
#include "lib/jsonw.h"
#include "lib/banned.h"

static int read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	int bad = ferror(f);
	fclose(f);
	return bad ? -1 : 0;
}

static void print_args(const struct gql_input_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct buf b = BUF_INIT;
		gql_type_write(&b, v[i].type);
		printf("%s%s: %s", i ? ", " : "(", v[i].name, b.data);
		if (v[i].default_value)
			printf(" = %s", v[i].default_value);
		buf_release(&b);
	}
	if (n)
		putchar(')');
}

/* The introspection types and the directives, in SDL. */
static void print_meta(const struct gql_schema *s)
{
	for (size_t i = 0; i < s->ntypes; i++) {
		const struct gql_type *t = s->types[i];
		if (strncmp(t->name, "__", 2))
			continue;
		if (t->kind == GK_ENUM) {
			printf("enum %s {\n", t->name);
			for (size_t k = 0; k < t->nvalues; k++)
				printf("  %s\n", t->values[k].name);
			printf("}\n\n");
			continue;
		}
		printf("type %s {\n", t->name);
		for (size_t k = 0; k < t->nfields; k++) {
			struct buf b = BUF_INIT;
			gql_type_write(&b, t->fields[k].type);
			printf("  %s", t->fields[k].name);
			print_args(t->fields[k].args, t->fields[k].nargs);
			printf(": %s\n", b.data);
			buf_release(&b);
		}
		printf("}\n\n");
	}
	for (size_t i = 0; i < s->ndirectives; i++) {
		const struct gql_directive_def *d = &s->directives[i];
		printf("directive @%s", d->name);
		print_args(d->args, d->nargs);
		printf("%s on", d->repeatable ? " repeatable" : "");
		const char *sep = " ";
		for (int k = 0; k < GD__COUNT; k++)
			if (d->locations & (1u << k)) {
				printf("%s%s", sep, gql_directive_loc_names[k]);
				sep = " | ";
			}
		printf("\n");
	}
}

static void check(const char *path, const struct buf *text, const struct gql_validate_limits *lim)
{
	struct arena a = ARENA_INIT;
	struct error err = ERROR_INIT;
	struct gql_document doc;
	struct gql_pos epos;
	struct buf out = BUF_INIT;
	struct jsonw w;
	jsonw_init(&w, &out);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "file", path);
	if (gql_parse(text->data ? text->data : "", text->len, NULL, &a, &doc, &epos, &err) != OK) {
		jsonw_kstr(&w, "verdict", "parse-error");
		jsonw_kstr(&w, "code", "parse-failed");
		jsonw_kstr(&w, "path", "$.query");
		jsonw_kstr(&w, "message", err.nproblems ? err.problems[0].msg : err.detail);
		jsonw_kint(&w, "line", epos.line);
		jsonw_kint(&w, "column", epos.column);
	} else {
		struct gql_invalid inv;
		if (gql_validate(gql_schema(), &doc, lim, &a, &inv) == OK) {
			jsonw_kstr(&w, "verdict", "valid");
		} else {
			jsonw_kstr(&w, "verdict", "invalid");
			jsonw_kstr(&w, "code", inv.code);
			jsonw_kstr(&w, "path", inv.path);
			jsonw_kstr(&w, "message", inv.message);
			jsonw_kint(&w, "line", inv.pos.line);
			jsonw_kint(&w, "column", inv.pos.column);
		}
	}
	jsonw_object_close(&w);
	puts(out.data);
	buf_release(&out);
	arena_release(&a);
}

int main(int argc, char **argv)
{
	struct gql_validate_limits lim = { 0, 0 };
	int i = 1;
	if (argc == 2 && !strcmp(argv[1], "--sdl")) {
		struct buf b = BUF_INIT;
		gql_schema_sdl(gql_schema(), &b);
		fputs(buf_cstr(&b), stdout);
		buf_release(&b);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--meta")) {
		print_meta(gql_schema());
		return 0;
	}
	for (; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--max-depth"))
			lim.max_depth = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--max-fields"))
			lim.max_fields = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: gqlcheck --sdl | --meta\n"
				"       gqlcheck [--max-depth N] [--max-fields N] FILE...\n");
		return 2;
	}
	for (; i < argc; i++) {
		struct buf text = BUF_INIT;
		if (read_file(argv[i], &text)) {
			fprintf(stderr, "gqlcheck: %s: %s\n", argv[i], strerror(errno));
			buf_release(&text);
			return 2;
		}
		check(argv[i], &text, &lim);
		buf_release(&text);
	}
	return 0;
}
