/*
 * fuzz_front_matter.c: the Markdown files an import reads
 * (core/transfer.c's transfer_front_matter), on arbitrary bytes.
 *
 * Invariants: a file is accepted only when it begins with "---\n" and has
 * a closing "---" line; then the record is an object whose "type" is
 * "insight" and whose "content" is exactly the bytes after that line (and
 * its newline), or null when there are none; every other member is null,
 * an integer, a string or a list. Refused files give a reason.
 */
#include "fuzz.h"

#include <json-c/json.h>

#include "core/transfer.h"
#include "lib/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	json_object *o = NULL;
	char why[200] = "";
	int rc = transfer_front_matter(text, size, &o, why, sizeof(why));
	if (rc) {
		FUZZ_CHECK(o == NULL && why[0]);
		return 0;
	}
	FUZZ_CHECK(size >= 4 && !memcmp(text, "---\n", 4));
	FUZZ_CHECK(json_object_is_type(o, json_type_object));
	json_object *v;
	FUZZ_CHECK(json_object_object_get_ex(o, "type", &v) &&
		   !strcmp(json_object_get_string(v), "insight"));
	FUZZ_CHECK(json_object_object_get_ex(o, "content", &v));
	if (v) {
		size_t n = (size_t)json_object_get_string_len(v);
		FUZZ_CHECK(n > 0 && n <= size - 7);
		FUZZ_CHECK(!memcmp(json_object_get_string(v), text + size - n, n));
		/* The body follows a "---" line. */
		const char *before = text + size - n;
		FUZZ_CHECK(before[-1] == '\n' && !memcmp(before - 4, "---", 3));
	}
	json_object_object_foreach(o, key, val) {
		(void)key;
		json_type t = val ? json_object_get_type(val) : json_type_null;
		FUZZ_CHECK(t == json_type_null || t == json_type_int || t == json_type_string ||
			   t == json_type_array);
	}
	json_object_put(o);
	return 0;
}
