/*
 * assets.h: the files the binary serves as they are (the OpenAPI document,
 * the Swagger UI and ReDoc pages and the scripts and styles they load),
 * turned into C arrays at build time by tools/embed into
 * $(BUILD)/gen/assets.c (see mk/assets.mk for the list). Nothing here is
 * read from disk at run time: the documentation works offline.
 */
#ifndef INSIGHTS_ASSETS_H
#define INSIGHTS_ASSETS_H

#include "lib/asset.h"

/* Every embedded file, in the order mk/assets.mk lists them. */
extern const struct asset assets[];
extern const size_t assets_count;

#endif
