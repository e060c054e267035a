/*
 * web_assets.h: the dashboard's files (web/ and the npm packages it loads),
 * turned into C arrays at build time by tools/embed (mk/web.mk lists them),
 * in two tables of the same length and order: the files as they are, and
 * each compressed with gzip -9 -n. Nothing is read from disk at run time:
 * the dashboard works offline.
 */
#ifndef INSIGHTS_WEB_ASSETS_H
#define INSIGHTS_WEB_ASSETS_H

#include "lib/asset.h"

extern const struct asset web_assets[];
extern const size_t web_assets_count;
/* web_assets_gz[i] is web_assets[i] compressed (same path and type). */
extern const struct asset web_assets_gz[];
extern const size_t web_assets_gz_count;

#endif
