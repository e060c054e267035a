/*
 * similar.h: duplicate warnings, backend-neutral. Which words of a draft
 * to ask the store about (similar_words), and how alike a draft and an
 * insight are (similar_rank): a score in [0, 1] and the reasons behind it,
 * computed here from the texts and the words' document frequencies alone,
 * so that every store answers the same scores for the same data.
 *
 * The score. Texts are split into words as the full-text index splits them
 * (letters and digits; ASCII lowercased; punctuation separates), common
 * English function words dropped. A word's weight is an inverse document
 * frequency, ln((N + 1) / (df + 0.5)) for a word found in df of N
 * insights; words whose frequency was not asked (the insight's words that
 * the draft lacks) weigh as words found nowhere. Each field compares the
 * two sets of words by weighted Dice, 2 W(shared) / (W(draft) + W(insight)),
 * where a word of one side that is one edit (insert, delete, substitute,
 * swap) from an unmatched word of the other side counts as shared (typos).
 * The score is the mean of the fields' similarities weighted title 3,
 * description 2, content 1, over the fields the draft has (content only
 * when both have it).
 */
#ifndef INSIGHTS_SIMILAR_H
#define INSIGHTS_SIMILAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "lib/arena.h"

/* At most this many insights are answered. */
#define SIMILAR_MAX 5
/* At most this many words of a draft are asked about. */
#define SIMILAR_WORDS_MAX 32
/* Reasons per match, at most. */
#define SIMILAR_REASONS_MAX 4

/* A draft: title required, the others may be NULL or empty. */
struct similar_text {
	const char *title;
	const char *description;
	const char *content;
	const char *source;
};

/* What the store knows of the draft's words: df[i] for words[i], among `total` insights. */
struct similar_stats {
	const char *const *words;
	const int64_t *df;
	size_t n;
	int64_t total;
};

struct similar_match {
	const struct insight *insight;
	double score;                    /* in [0, 1], rounded to 4 decimals */
	const char *reasons[SIMILAR_REASONS_MAX];
	size_t nreasons;
};

/*
 * The distinct words of the draft worth asking the store about, title
 * first, then description, then content, in order of appearance, at most
 * SIMILAR_WORDS_MAX, in `a`. Returns how many; *out gets the array.
 */
size_t similar_words(struct arena *a, const struct similar_text *t, const char ***out);

/*
 * Scores each of the `n` candidates against the draft and keeps the best
 * `max` (at most SIMILAR_MAX) with a score above 0, best first (ties: the
 * highest id first). `out` has room for `max`. Returns how many it kept.
 * Reasons and their texts live in `a`.
 */
size_t similar_rank(struct arena *a, const struct similar_text *t,
		    const struct similar_stats *st, const struct insight *cands, size_t n,
		    struct similar_match *out, size_t max);

/* The score of one insight against the draft (what similar_rank computes, unrounded). */
double similar_score(struct arena *a, const struct similar_text *t,
		     const struct similar_stats *st, const struct insight *in);

#endif
