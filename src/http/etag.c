/*
 * etag.c: entity-tag lists of conditional requests (http.h).
 */
#include "http/http.h"

#include <string.h>

#include "lib/banned.h"

bool http_etag_listed(const char *list, const char *tag)
{
	size_t taglen = strlen(tag);
	const char *p = list;
	for (;;) {
		p += strspn(p, " \t,");
		if (!*p)
			return false;
		if (*p == '*')
			return true;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p == '"') {
			const char *end = strchr(p + 1, '"');
			if (!end)
				return false;
			if ((size_t)(end - p - 1) == taglen && !memcmp(p + 1, tag, taglen))
				return true;
			p = end + 1;
		}
		p += strcspn(p, ","); /* skip anything malformed up to the next tag */
	}
}
