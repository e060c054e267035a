/*
 * transfer.h: your data, in and out (issue 15): exports of the whole
 * database as JSON Lines (lossless), CSV (one row per insight, for
 * spreadsheets) or Markdown (one file per insight with YAML front matter),
 * and imports of JSON Lines and Markdown folders. docs/TRANSFER.md
 * describes the formats.
 *
 * Every field of an insight goes through one table (transfer.c's
 * insight_fields): a field added to the model is added there once and
 * then travels through every format, both ways.
 *
 * Exports read through the service in keyset pages (ids ascending), never
 * the whole insights table: memory stays constant however many insights
 * there are. They are not one snapshot: a write made while an export runs
 * may be in it or not.
 */
#ifndef INSIGHTS_TRANSFER_H
#define INSIGHTS_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/service.h"

struct json_object;
#include "lib/buf.h"
#include "lib/error.h"

enum transfer_format { TRANSFER_JSONL, TRANSFER_CSV, TRANSFER_MARKDOWN };
/* Parses "jsonl", "csv", "markdown"; 0, or -1 for another name. */
int transfer_format_parse(const char *s, enum transfer_format *out);

/* What an import does with a record whose row exists (same id, same slug). */
enum transfer_conflict { CONFLICT_FAIL, CONFLICT_SKIP, CONFLICT_UPDATE };
int transfer_conflict_parse(const char *s, enum transfer_conflict *out);

/* Progress of long work: `done` of `total` (0: unknown) units. */
typedef void (*transfer_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* ---- exports ------------------------------------------------------------------ */

struct export_cursor;

/*
 * Starts an export in `format` (JSONL or CSV: one stream; Markdown: see
 * export_next_file). Reads the categories (all of them: they are few and
 * ordered parents first) and counts the insights.
 */
enum status export_open(struct service *svc, enum transfer_format format,
			struct export_cursor **out, struct error *err);
/*
 * Appends the next part of a JSONL or CSV stream to `out` (some tens of
 * KiB at most, beyond one long insight). Returns OK with *more false once
 * the stream is complete.
 */
enum status export_next(struct export_cursor *c, struct buf *out, bool *more, struct error *err);
/*
 * A Markdown folder also holds its categories and tags, as JSON Lines in
 * this file (written from export_next, which stops before the insights).
 */
#define TRANSFER_TAXONOMY "_categories_and_tags.jsonl"

/*
 * Markdown: the next insight's file, its name ("<id>-<slug>.md") in
 * `name` and its text in `out`. *more false: none left.
 */
enum status export_next_file(struct export_cursor *c, struct buf *name, struct buf *out,
			     bool *more, struct error *err);
/* Insights written so far, and in all (as counted when the export began). */
uint64_t export_done(const struct export_cursor *c);
uint64_t export_total(const struct export_cursor *c);
void export_close(struct export_cursor *c);

/* ---- imports ------------------------------------------------------------------ */

/*
 * An import that wrote at least 1/IMPORT_BULK_SHARE of the insights the
 * database then holds is a bulk load: it ends with the store's optimize.
 */
#define IMPORT_BULK_SHARE 10

struct import_report {
	/* Problems, each "line N: field: message" (or "FILE: ..." for Markdown). */
	char **problems;
	size_t nproblems;
	uint64_t created[3], updated[3], skipped[3]; /* categories, tags, insights */
	uint64_t records;
};

/*
 * Imports a JSON Lines file, or (`path` a directory) a folder of Markdown
 * files (after its TRANSFER_TAXONOMY file, when there is one). First validates every record with the API's rules and the
 * references between records (slugs defined earlier in the file or in the
 * database), reporting every problem (E_INVALID; nothing written); then
 * writes every record in one transaction with one audit entry, all or
 * nothing. Ids and timestamps are kept when they do not clash; tags and
 * categories are matched by slug, insights by id; `conflict` says what an
 * existing match becomes. Usage counts are recounted by the store.
 */
enum status import_run(struct service *svc, const char *path, enum transfer_conflict conflict,
		       transfer_progress_fn progress, void *arg, struct import_report *report,
		       struct error *err);
void import_report_release(struct import_report *r);

/*
 * A Markdown file (`len` bytes) as the JSON object of an insight record:
 * its front matter (YAML, a mapping: plain scalars null, integers or text,
 * lists of them) with "type": "insight", and the body after the closing
 * '---' line as "content" (null when empty), byte for byte. 0, or -1 with
 * a sentence in `why`. (Exported for the fuzz target.)
 */
int transfer_front_matter(const char *text, size_t len, struct json_object **out, char *why,
			  size_t whylen);

/* ---- encoders (exported for the unit tests) ----------------------------------- */

/* `s` (NULL: an empty field) as an RFC 4180 CSV field: quoted when it must be. */
void csv_field(struct buf *out, const char *s);
/* `s` as a YAML double-quoted scalar that any YAML reader reads back as `s`. */
void yaml_quoted(struct buf *out, const char *s);
/* A filename-safe slug of `title`: lowercase ASCII letters and digits, '-' between, at most 60. */
void transfer_slug(struct buf *out, const char *title);

#endif
