/*
 * t_file.c: t_remove_sqlite() of t.h.
 */
#include "t.h"

#include <unistd.h>

void t_remove_sqlite(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (int i = 0; i < 3; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
}
