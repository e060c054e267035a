/*
 * fuzz_idem_key.c: Idempotency-Key header values (api/idempotency.c's
 * api_idem_key_parse) on arbitrary NUL-free strings, as libmicrohttpd hands
 * header values over.
 *
 * Invariants, against a reference written from the draft and RFC 8941: a
 * value (spaces and tabs around it aside) is accepted exactly when it is an
 * sf-string ("..." of printable ASCII with \" and \\ as the only escapes,
 * nothing after the closing quote) or a plain run of visible ASCII without
 * '"', '\', ',' or ';', of 1 to 255 characters once unquoted; the key is
 * then the unquoted text. Otherwise exactly one problem is reported, at
 * ["header", "idempotency-key"]. A key accepted, written back as an
 * sf-string, reads back as itself.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "api/api.h"
#include "lib/buf.h"
#include "lib/banned.h"

/* The reference: the key `v` stands for, into out; false when malformed. */
static bool ref_key(const char *v, char *out, size_t *n)
{
	size_t len = strlen(v), i = 0;
	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	while (len > i && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	*n = 0;
	if (i < len && v[i] == '"') {
		if (len - i < 2 || v[len - 1] != '"')
			return false;
		for (size_t k = i + 1; k < len - 1; k++) {
			unsigned char c = (unsigned char)v[k];
			if (c == '\\') {
				if (k + 1 >= len - 1 || (v[k + 1] != '"' && v[k + 1] != '\\'))
					return false;
				c = (unsigned char)v[++k];
			} else if (c == '"' || c < 0x20 || c > 0x7e) {
				return false;
			}
			if (*n == IDEM_KEY_MAX)
				return false;
			out[(*n)++] = (char)c;
		}
	} else {
		for (size_t k = i; k < len; k++) {
			unsigned char c = (unsigned char)v[k];
			if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',' || c == ';')
				return false;
			if (*n == IDEM_KEY_MAX)
				return false;
			out[(*n)++] = (char)c;
		}
	}
	out[*n] = '\0';
	return *n > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	char key[IDEM_KEY_MAX + 1], want[IDEM_KEY_MAX + 1];
	size_t n;
	struct error err = ERROR_INIT;
	bool ok = api_idem_key_parse(in, key, &err);
	bool ref = ref_key(in, want, &n);
	FUZZ_CHECK(ok == ref);
	if (ok) {
		FUZZ_CHECK(err.status == OK && !strcmp(key, want));
		struct buf sf = BUF_INIT;
		buf_addch(&sf, '"');
		for (const char *p = key; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addch(&sf, '\\');
			buf_addch(&sf, *p);
		}
		buf_addch(&sf, '"');
		char again[IDEM_KEY_MAX + 1];
		struct error e2 = ERROR_INIT;
		FUZZ_CHECK(api_idem_key_parse(buf_cstr(&sf), again, &e2) && !strcmp(again, key));
		buf_release(&sf);
	} else {
		FUZZ_CHECK(err.status == E_INVALID && err.nproblems == 1);
		const struct problem *p = &err.problems[0];
		FUZZ_CHECK(p->nloc == 2 && !strcmp(p->loc[0].name, "header") &&
			   !strcmp(p->loc[1].name, "idempotency-key"));
	}
	free(in);
	return 0;
}
