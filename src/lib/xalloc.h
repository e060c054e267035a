/*
 * xalloc.h: allocation that cannot fail. A service that runs out of memory
 * cannot answer anything sensibly, so these abort with a message instead of
 * returning NULL; callers never check.
 */
#ifndef INSIGHTS_XALLOC_H
#define INSIGHTS_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
