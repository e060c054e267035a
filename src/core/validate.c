/*
 * validate.c: the input rules of validate.h. Messages and types follow the
 * wording FastAPI (pydantic 2) clients already handle.
 */
#include "core/validate.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/banned.h"

struct text_rule {
	const char *field;
	bool required;   /* must be given on create */
	bool nullable;   /* may be given as null */
	size_t min, max; /* in characters; max 0: unlimited */
};

static void check_text(struct error *err, const struct text_rule *r,
		       const struct opt_str *v, bool create)
{
	const char *loc = r->field;
	if (error_has(err, loc))
		return; /* the decoder already found this field wrong */
	if (!v->set) {
		if (create && r->required)
			error_invalid(err, loc, "missing", "Field required");
		return;
	}
	if (!v->v) {
		if (!r->nullable)
			error_invalid(err, loc, "string_type", "Input should be a valid string");
		return;
	}
	size_t n = utf8_count(v->v, strlen(v->v));
	if (n < r->min)
		error_invalid(err, loc, "string_too_short",
			      "String should have at least %zu character%s", r->min,
			      r->min == 1 ? "" : "s");
	else if (r->max && n > r->max)
		error_invalid(err, loc, "string_too_long",
			      "String should have at most %zu character%s", r->max,
			      r->max == 1 ? "" : "s");
}

bool color_valid(const char *s)
{
	if (strlen(s) != 7 || s[0] != '#')
		return false;
	for (int i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static void check_color(struct error *err, const struct opt_str *v)
{
	if (v->set && v->v && !color_valid(v->v) && !error_has(err, "color"))
		error_invalid(err, "color", "string_pattern_mismatch",
			      "String should match pattern '^#[0-9A-Fa-f]{6}$'");
}

bool date_valid(const char *s)
{
	static const int days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

static void check_date(struct error *err, const char *field, const struct opt_str *v)
{
	if (v->set && v->v && !date_valid(v->v) && !error_has(err, field))
		error_invalid(err, field, "date_parsing",
			      "Input should be a valid date in the format YYYY-MM-DD");
}

enum status insight_input_check(const struct insight_input *in, bool create, struct error *err)
{
	static const struct text_rule title = { "title", true, false, 1, TITLE_MAX };
	static const struct text_rule description = { "description", true, false, 0, 0 };
	static const struct text_rule content = { "content", false, true, 0, CONTENT_MAX };
	static const struct text_rule source = { "source", false, true, 0, SOURCE_MAX };
	static const struct text_rule author = { "author", true, false, 1, AUTHOR_MAX };
	check_text(err, &title, &in->title, create);
	check_text(err, &description, &in->description, create);
	check_text(err, &content, &in->content, create);
	check_text(err, &source, &in->source, create);
	check_text(err, &author, &in->author, create);
	static const struct text_rule owner = { "owner", false, true, 1, OWNER_MAX };
	check_text(err, &owner, &in->owner, create);
	check_date(err, "review_by", &in->review_by);
	return err->status;
}

enum status tag_input_check(const struct tag_input *in, bool create, struct error *err)
{
	static const struct text_rule name = { "name", true, false, 1, TAG_NAME_MAX };
	static const struct text_rule slug = { "slug", true, false, 1, TAG_NAME_MAX };
	static const struct text_rule description = { "description", false, true, 0, 0 };
	check_text(err, &name, &in->name, create);
	check_text(err, &slug, &in->slug, create);
	check_text(err, &description, &in->description, create);
	check_color(err, &in->color);
	return err->status;
}

enum status category_input_check(const struct category_input *in, bool create, struct error *err)
{
	static const struct text_rule name = { "name", true, false, 1, CATEGORY_NAME_MAX };
	static const struct text_rule slug = { "slug", true, false, 1, CATEGORY_NAME_MAX };
	static const struct text_rule description = { "description", false, true, 0, 0 };
	static const struct text_rule icon = { "icon", false, true, 0, ICON_MAX };
	check_text(err, &name, &in->name, create);
	check_text(err, &slug, &in->slug, create);
	check_text(err, &description, &in->description, create);
	check_color(err, &in->color);
	check_text(err, &icon, &in->icon, create);
	return err->status;
}
