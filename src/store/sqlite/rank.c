/*
 * rank.c: insights_rank_gate(insights_fts, threshold[, k[, matches]]), an FTS5
 * auxiliary function that ranks a search like bm25(insights_fts,
 * SQ_BM25_WEIGHTS) but skips most of bm25's cost for rows that cannot
 * reach `threshold`, or cannot be among the k best rows.
 *
 * Most of bm25's cost is the row's length (xColumnSize, a lookup in the
 * %_docsize table per row). The score only grows as the row gets shorter,
 * and a row holds at least as many tokens as it has distinct positions
 * where the query's phrases start, which xInst gives for free. So the
 * score at that length is a bound: when even the bound is worse than the
 * threshold the row gets SQ_RANK_SENTINEL (sorted after every real score)
 * without its length being read; otherwise it gets bm25's exact value.
 *
 * With k, the gate keeps the k best exact scores it has given so far: once
 * it has k of them, the worst of them is a threshold too, since the query's
 * k best rows are at least as good. It tightens as the scan goes on; a row
 * dropped against it is worse than k rows already seen, so it is not among
 * the k best (the page's rows when k is the page's end). Without k, the
 * caller gives a threshold that the page's rows are known to reach.
 * Either way, ordering by the gate gives the page bm25 would. For that the
 * exact value must be bm25's to the last bit: the same statistics, the same
 * expression evaluated in the same order (fts5Bm25Function in SQLite's
 * fts5_aux.c), and no fused multiply-adds (-ffp-contract=off in the
 * Makefile and the pragma below).
 *
 * `matches`, when the query is one phrase, is how many rows it matches (the
 * caller has counted them): bm25's idf needs that count, which otherwise
 * costs a pass over the phrase's rows before the first row is scored.
 */
#include "store/sqlite/sqlite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* bm25's constants (fts5_aux.c). */
#define SQ_BM25_K1 1.2
#define SQ_BM25_B 0.75

/* A threshold's relative slack: a bound this close to it still passes. */
#define SQ_RANK_SLACK 1e-9

static const double sq_weights[] = { SQ_BM25_WEIGHTS };
#define SQ_NWEIGHTS ((int)(sizeof(sq_weights) / sizeof(sq_weights[0])))

/* What a statement computes once (fts5Bm25GetData): the average length and each phrase's idf. */
struct sq_rank_data {
	int nphrase;
	double avgdl;
	double *idf;
	double *freq;  /* the current row's weighted hits per phrase */
	int k;         /* how many best scores `top` keeps (0: none) */
	int ntop;
	double *top;   /* the k best exact scores so far, a heap with the worst on top */
};

static int sq_count_cb(const Fts5ExtensionApi *api, Fts5Context *fts, void *arg)
{
	(void)api;
	(void)fts;
	(*(sqlite3_int64 *)arg)++;
	return SQLITE_OK;
}

/* The statement's statistics, computed at its first row; an SQLite result code. */
static int sq_rank_data(const Fts5ExtensionApi *api, Fts5Context *fts, int k,
			sqlite3_int64 matches, struct sq_rank_data **out)
{
	struct sq_rank_data *d = api->xGetAuxdata(fts, 0);
	if (d) {
		*out = d;
		return SQLITE_OK;
	}
	int nphrase = api->xPhraseCount(fts);
	size_t size = sizeof(*d) + ((size_t)nphrase * 2 + (size_t)k) * sizeof(double);
	d = sqlite3_malloc64(size);
	if (!d)
		return SQLITE_NOMEM;
	memset(d, 0, size);
	d->nphrase = nphrase;
	d->idf = (double *)&d[1];
	d->freq = &d->idf[nphrase];
	d->k = k;
	d->top = &d->freq[nphrase];
	sqlite3_int64 nrow = 0, ntoken = 0;
	int rc = api->xRowCount(fts, &nrow);
	if (rc == SQLITE_OK)
		rc = api->xColumnTotalSize(fts, -1, &ntoken);
	if (rc == SQLITE_OK)
		d->avgdl = (double)ntoken / (double)nrow;
	for (int i = 0; rc == SQLITE_OK && i < nphrase; i++) {
		/* A query of one phrase: its matches are the phrase's, when the caller knows them. */
		sqlite3_int64 nhit = matches;
		if (nphrase > 1 || matches < 0) {
			nhit = 0;
			rc = api->xQueryPhrase(fts, i, &nhit, sq_count_cb);
		}
		if (rc == SQLITE_OK) {
			/* bm25's idf, floored at 1e-6 for phrases in over half the rows. */
			double idf = log((nrow - nhit + 0.5) / (nhit + 0.5));
			if (idf <= 0.0)
				idf = 1e-6;
			d->idf[i] = idf;
		}
	}
	if (rc != SQLITE_OK) {
		sqlite3_free(d);
		return rc;
	}
	rc = api->xSetAuxdata(fts, d, sqlite3_free); /* frees d when it fails */
	if (rc == SQLITE_OK)
		*out = d;
	return rc;
}

/* bm25's sum (positive: the result is its negation) for a row of `len` tokens. */
static double sq_bm25_sum(const struct sq_rank_data *d, double len)
{
	const double k1 = SQ_BM25_K1;
	const double b = SQ_BM25_B;
	double score = 0.0;
	for (int i = 0; i < d->nphrase; i++)
		score += d->idf[i] * ((d->freq[i] * (k1 + 1.0)) /
				      (d->freq[i] + k1 * (1 - b + b * len / d->avgdl)));
	return score;
}

/* Notes a row's exact score among the k best so far (a max-heap of k). */
static void sq_rank_keep(struct sq_rank_data *d, double score)
{
	double *h = d->top;
	int i;
	if (d->ntop < d->k) {
		/* Up from the new leaf. */
		for (i = d->ntop++; i > 0 && h[(i - 1) / 2] < score; i = (i - 1) / 2)
			h[i] = h[(i - 1) / 2];
		h[i] = score;
		return;
	}
	if (d->k == 0 || !(score < h[0]))
		return;
	/* Replaces the worst, then down to its place. */
	for (i = 0;;) {
		int c = 2 * i + 1;
		if (c >= d->k)
			break;
		if (c + 1 < d->k && h[c + 1] > h[c])
			c++;
		if (!(h[c] > score))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = score;
}

/* The most best scores the gate keeps: a page's end deeper than this is not gated. */
#define SQ_RANK_MAX_K 100000

static void sq_rank_gate(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
			 int nval, sqlite3_value **val)
{
	if (nval < 1 || nval > 3) {
		sqlite3_result_error(ctx, "insights_rank_gate: wants a threshold, k and the matches", -1);
		return;
	}
	double threshold = sqlite3_value_double(val[0]);
	sqlite3_int64 k = nval >= 2 ? sqlite3_value_int64(val[1]) : 0;
	sqlite3_int64 matches = nval >= 3 ? sqlite3_value_int64(val[2]) : -1;
	if (k < 0 || k > SQ_RANK_MAX_K) {
		sqlite3_result_error(ctx, "insights_rank_gate: k is out of range", -1);
		return;
	}
	struct sq_rank_data *d = NULL;
	int ninst = 0;
	int rc = sq_rank_data(api, fts, (int)k, matches, &d);
	if (rc == SQLITE_OK && d->k && d->ntop == d->k && d->top[0] < threshold)
		threshold = d->top[0];
	if (rc == SQLITE_OK) {
		memset(d->freq, 0, (size_t)d->nphrase * sizeof(double));
		rc = api->xInstCount(fts, &ninst);
	}
	/*
	 * FTS5 lists a row's instances by position (column, then offset), so
	 * the distinct positions are counted as they change. Should the order
	 * ever be another, the bound falls back to an empty row's.
	 */
	sqlite3_int64 last = -1;
	int hits = 0;
	bool ordered = true;
	for (int i = 0; rc == SQLITE_OK && i < ninst; i++) {
		int ip, ic, io;
		rc = api->xInst(fts, i, &ip, &ic, &io);
		if (rc != SQLITE_OK)
			break;
		d->freq[ip] += SQ_NWEIGHTS > ic ? sq_weights[ic] : 1.0;
		sqlite3_int64 pos = (sqlite3_int64)ic << 32 | (sqlite3_int64)(unsigned)io;
		if (pos > last)
			hits++;
		else if (pos < last)
			ordered = false;
		last = pos;
	}
	if (rc != SQLITE_OK) {
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	if (-1.0 * sq_bm25_sum(d, ordered ? (double)hits : 0.0) >
	    threshold + SQ_RANK_SLACK * fabs(threshold)) {
		sqlite3_result_double(ctx, SQ_RANK_SENTINEL);
		return;
	}
	int ntok;
	rc = api->xColumnSize(fts, -1, &ntok);
	if (rc != SQLITE_OK) {
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	double score = -1.0 * sq_bm25_sum(d, (double)ntok);
	sq_rank_keep(d, score);
	sqlite3_result_double(ctx, score);
}

int sq_rank_register(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_pointer(s, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(s);
	rc = sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		return rc;
	if (!api)
		return SQLITE_ERROR;
	return api->xCreateFunction(api, "insights_rank_gate", NULL, sq_rank_gate, NULL);
}
