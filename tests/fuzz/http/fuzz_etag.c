/*
 * fuzz_etag.c: entity-tag lists of If-None-Match and If-Match
 * (http/etag.c), in two modes chosen by the first byte of the input.
 *
 * Raw: the rest is a tag, a newline, then a list, any bytes (up to a NUL).
 * Whatever the list, a match needs a "*" or the tag quoted somewhere in it,
 * and a list of the tag alone, quoted, weak or strong, always matches.
 *
 * Well-formed: the bytes build a tag and a list as RFC 9110 writes them
 * ("*", or entity tags [W/]"etagc*" separated by commas and optional
 * whitespace, empty members allowed); the answer must then be exactly the
 * weak comparison's: some member is "*" or has the tag's opaque part.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "http/http.h"
#include "lib/buf.h"
#include "lib/banned.h"

/* A byte as an etagc character: %x21 / %x23-7E / obs-text (%x80-FF). */
static char etagc(uint8_t b)
{
	return b == '"' || b <= 0x20 || b == 0x7F ? (char)('a' + b % 26) : (char)b;
}

static void fuzz_raw(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	char *nl = strchr(in, '\n');
	const char *tag = in, *list = "";
	if (nl) {
		*nl = '\0';
		list = nl + 1;
	}
	struct buf quoted = BUF_INIT;
	buf_addf(&quoted, "\"%s\"", tag);
	if (http_etag_listed(list, tag))
		FUZZ_CHECK(strchr(list, '*') || strstr(list, buf_cstr(&quoted)));
	if (!strchr(tag, '"')) {
		FUZZ_CHECK(http_etag_listed(buf_cstr(&quoted), tag));
		buf_reset(&quoted);
		buf_addf(&quoted, " W/\"%s\" ", tag);
		FUZZ_CHECK(http_etag_listed(buf_cstr(&quoted), tag));
	}
	buf_release(&quoted);
	free(in);
}

/* Reads the next byte of the input, 0 past its end. */
struct reader {
	const uint8_t *data;
	size_t size, at;
};

static uint8_t next(struct reader *r)
{
	return r->at < r->size ? r->data[r->at++] : 0;
}

static void fuzz_wellformed(const uint8_t *data, size_t size)
{
	struct reader r = { data, size, 0 };
	char tag[16];
	size_t taglen = next(&r) % sizeof(tag);
	for (size_t i = 0; i < taglen; i++)
		tag[i] = etagc(next(&r));
	tag[taglen] = '\0';
	if (taglen == sizeof(tag) - 1)
		tag[--taglen] = '\0';

	struct buf list = BUF_INIT;
	bool want = false;
	while (r.at < r.size) {
		uint8_t c = next(&r);
		/* Leading whitespace, then the member (or none: an empty one). */
		for (unsigned i = 0; i < (c >> 6); i++)
			buf_addch(&list, i % 2 ? '\t' : ' ');
		switch (c % 8) {
		case 0:
			buf_addch(&list, '*');
			want = true;
			break;
		case 1:
			break;
		case 2:
		case 3:
			/* The tag itself, strong or weak. */
			buf_adds(&list, c % 8 == 3 ? "W/\"" : "\"");
			buf_adds(&list, tag);
			buf_addch(&list, '"');
			want = true;
			break;
		default: {
			/* Another tag: the tag's prefix with arbitrary characters. */
			size_t keep = (c >> 3) % 8 < taglen ? (c >> 3) % 8 : taglen;
			size_t extra = next(&r) % 6;
			buf_adds(&list, c % 2 ? "W/\"" : "\"");
			buf_add(&list, tag, keep);
			struct buf opaque = BUF_INIT;
			buf_add(&opaque, tag, keep);
			for (size_t i = 0; i < extra; i++) {
				char e = etagc(next(&r));
				buf_addch(&list, e);
				buf_addch(&opaque, e);
			}
			buf_addch(&list, '"');
			want |= !strcmp(buf_cstr(&opaque), tag);
			buf_release(&opaque);
			break;
		}
		}
		if (c & 0x20)
			buf_addch(&list, ' ');
		if (r.at < r.size)
			buf_addch(&list, ',');
	}
	bool got = http_etag_listed(buf_cstr(&list), tag);
	if (got != want)
		fprintf(stderr, "fuzz: tag \"%s\", list %s: %d, want %d\n", tag,
			buf_cstr(&list), got, want);
	FUZZ_CHECK(got == want);
	buf_release(&list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_wellformed(data + 1, size - 1);
	else
		fuzz_raw(data + 1, size - 1);
	return 0;
}
