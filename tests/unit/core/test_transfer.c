/*
 * test_transfer.c: the quoting of exports (core/transfer.c) and the
 * progress bar's text (lib/progress.c).
 */
#include "t.h"

#include <string.h>

#include "core/transfer.h"
#include "lib/buf.h"
#include "lib/progress.h"

static const char *csv(struct buf *b, const char *s)
{
	buf_reset(b);
	csv_field(b, s);
	return buf_cstr(b);
}

TEST(transfer_csv_field_quotes_as_rfc4180_says)
{
	struct buf b = BUF_INIT;
	CHECK(!strcmp(csv(&b, "plain"), "plain"));
	CHECK(!strcmp(csv(&b, NULL), ""));
	CHECK(!strcmp(csv(&b, "a,b"), "\"a,b\""));
	CHECK(!strcmp(csv(&b, "say \"hi\""), "\"say \"\"hi\"\"\""));
	CHECK(!strcmp(csv(&b, "two\nlines"), "\"two\nlines\""));
	CHECK(!strcmp(csv(&b, "cr\r"), "\"cr\r\""));
	CHECK(!strcmp(csv(&b, " padded"), "\" padded\""));
	buf_release(&b);
}

TEST(transfer_yaml_quoted_escapes_what_yaml_needs)
{
	struct buf b = BUF_INIT;
	yaml_quoted(&b, "a \"b\" \\ c\nd\te: f # g");
	CHECK(!strcmp(buf_cstr(&b), "\"a \\\"b\\\" \\\\ c\\nd\\te: f # g\""));
	buf_reset(&b);
	yaml_quoted(&b, "ünï ✓");
	CHECK(!strcmp(buf_cstr(&b), "\"ünï ✓\""));
	buf_release(&b);
}

TEST(transfer_slug_is_safe_for_file_names)
{
	struct buf b = BUF_INIT;
	transfer_slug(&b, "Hello, World: ../../etc/passwd");
	CHECK(!strcmp(buf_cstr(&b), "hello-world-etc-passwd"));
	buf_reset(&b);
	transfer_slug(&b, "¿¡!");
	CHECK(!strcmp(buf_cstr(&b), "insight"));
	buf_release(&b);
}

TEST(transfer_format_and_conflict_names)
{
	enum transfer_format f;
	enum transfer_conflict c;
	CHECK(transfer_format_parse("markdown", &f) == 0 && f == TRANSFER_MARKDOWN);
	CHECK(transfer_format_parse("xml", &f) == -1);
	CHECK(transfer_conflict_parse("update", &c) == 0 && c == CONFLICT_UPDATE);
	CHECK(transfer_conflict_parse("", &c) == -1);
}

TEST(progress_format_shows_rate_and_time_left)
{
	char line[256];
	progress_format(line, sizeof(line), "exported", "insights", 250, 1000, 5.0);
	CHECK(strstr(line, "[######..................]") != NULL);
	CHECK(strstr(line, " 25% 250/1000 insights") != NULL);
	CHECK(strstr(line, "50 insights/s") != NULL);
	CHECK(strstr(line, "ETA 0:15") != NULL);
	progress_format(line, sizeof(line), "imported", "records", 10, 0, 1.0);
	CHECK(!strcmp(line, "imported 10 records  10 records/s"));
}
