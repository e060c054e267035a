/*
 * t_loc.c: t_loc() of t.h.
 */
#include "t.h"

#include <inttypes.h>

#include "lib/error.h"

const char *t_loc(const struct problem *p)
{
	static char out[256];
	size_t n = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < p->nloc && n < sizeof(out); i++) {
		const struct loc_segment *s = &p->loc[i];
		int w = s->name[0] ? snprintf(out + n, sizeof(out) - n, "%s%s", i ? "." : "", s->name)
				   : snprintf(out + n, sizeof(out) - n, "%s%" PRId64, i ? "." : "",
					      s->index);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return out;
}
