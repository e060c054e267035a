/*
 * asset.h: files built into the binary. tools/embed turns files into C
 * arrays at build time, each table of them named after what it holds (the
 * API documentation's web assets, api/assets.h; each storage driver's SQL
 * migrations): nothing of these is read from disk at run time.
 */
#ifndef INSIGHTS_ASSET_H
#define INSIGHTS_ASSET_H

#include <stddef.h>

struct asset {
	const char *path;                /* the name it is known by: "/docs/swagger-ui.css" */
	const char *content_type;        /* e.g. "text/css; charset=utf-8" */
	/* The file's bytes, followed by one NUL byte not counted in `len`. */
	const unsigned char *data;
	size_t len;
	const char *sha256;              /* 64 lower-case hex digits: the strong ETag */
};

#endif
