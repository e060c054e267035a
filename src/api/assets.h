/*
 * assets.h: the files the binary serves as they are (the OpenAPI document,
 * the Swagger UI and ReDoc pages and the scripts and styles they load),
 * turned into C arrays at build time by tools/embed into
 * $(BUILD)/gen/assets.c (see mk/assets.mk for the list). Nothing here is
 * read from disk at run time: the documentation works offline.
 */
#ifndef INSIGHTS_ASSETS_H
#define INSIGHTS_ASSETS_H

#include <stddef.h>

struct asset {
	const char *path;                /* the URL path it is served at: "/docs/swagger-ui.css" */
	const char *content_type;        /* the Content-Type header, e.g. "text/css; charset=utf-8" */
	const unsigned char *data;       /* the file's bytes (not NUL-terminated) */
	size_t len;
	const char *sha256;              /* 64 lower-case hex digits: the strong ETag */
};

/* Every embedded file, in the order mk/assets.mk lists them. */
extern const struct asset assets[];
extern const size_t nassets;

#endif
