/*
 * test_similar.c: core/similar.c: the words asked about, the score (weighted
 * Dice per field, typos, field weights, rarity), the ranking and reasons.
 */
#include "t.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/similar.h"

static struct insight row(int64_t id, const char *title, const char *description,
			  const char *content)
{
	struct insight in;
	memset(&in, 0, sizeof(in));
	in.id = id;
	in.title = (char *)title;
	in.description = (char *)description;
	in.content = (char *)content;
	return in;
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

TEST(similar_words_split_like_the_index_and_skip_common_words)
{
	struct arena a = ARENA_INIT;
	struct similar_text t = { .title = "The Cache-Warmup of the API\xe2\x80\x94timeouts",
				  .description = "cache misses; TIMEOUTS and caf\xc3\xa9" };
	const char **w;
	size_t n = similar_words(&a, &t, &w);
	CHECK(n == 6);
	if (n == 6) {
		CHECK_STR(w[0], "cache");
		CHECK_STR(w[1], "warmup");
		CHECK_STR(w[2], "api");
		CHECK_STR(w[3], "timeouts"); /* an em dash separates */
		CHECK_STR(w[4], "misses");
		CHECK_STR(w[5], "caf\xc3\xa9"); /* letters beyond ASCII are word characters */
	}
	arena_release(&a);
}

TEST(similar_words_stop_at_the_maximum)
{
	struct arena a = ARENA_INIT;
	char text[4096] = "";
	for (int i = 0; i < 100; i++) {
		char word[16];
		snprintf(word, sizeof(word), "w%d ", i);
		strcat(text, word);
	}
	struct similar_text t = { .title = text };
	const char **w;
	CHECK(similar_words(&a, &t, &w) == SIMILAR_WORDS_MAX);
	arena_release(&a);
}

TEST(similar_score_is_weighted_dice_per_field)
{
	struct arena a = ARENA_INIT;
	/* No frequencies known: every word weighs the same (found nowhere). */
	struct similar_stats none = { .total = 10 };
	struct similar_text t = { .title = "alpha beta gamma delta" };
	struct insight same = row(1, "Delta, gamma; BETA alpha!", "whatever", NULL);
	CHECK(near(similar_score(&a, &t, &none, &same), 1.0));
	/* Two of four shared on each side: 2*2 / (4 + 4). */
	struct insight half = row(2, "alpha beta epsilon zeta", "", NULL);
	CHECK(near(similar_score(&a, &t, &none, &half), 0.5));
	/* Nothing shared. */
	struct insight other = row(3, "one two three", "", NULL);
	CHECK(near(similar_score(&a, &t, &none, &other), 0.0));
	/* Common English words count for nothing. */
	struct similar_text st = { .title = "the alpha and the beta" };
	struct insight ab = row(4, "alpha beta", "", NULL);
	CHECK(near(similar_score(&a, &st, &none, &ab), 1.0));
	arena_release(&a);
}

TEST(similar_score_counts_one_typo_as_shared)
{
	struct arena a = ARENA_INIT;
	struct similar_stats none = { .total = 10 };
	struct similar_text t = { .title = "replication lagging badly" };
	/* swap, drop, double: each word one edit away. */
	struct insight typos = row(1, "repilcation laging baddly", "", NULL);
	CHECK(near(similar_score(&a, &t, &none, &typos), 1.0));
	/* Two edits away, or short words: not the same word. */
	struct insight far = row(2, "repilcatoin lagging badly", "", NULL);
	CHECK(near(similar_score(&a, &t, &none, &far), 2.0 / 3.0));
	struct similar_text s = { .title = "cat dog" };
	struct insight shortw = row(3, "cut dog", "", NULL);
	CHECK(near(similar_score(&a, &s, &none, &shortw), 0.5));
	arena_release(&a);
}

TEST(similar_score_weighs_title_description_content_3_2_1)
{
	struct arena a = ARENA_INIT;
	struct similar_stats none = { .total = 10 };
	struct similar_text t = { .title = "alpha", .description = "beta", .content = "gamma" };
	/* Title only alike: 3 / 6. Description only: 2 / 6. Content only: 1 / 6. */
	struct insight ti = row(1, "alpha", "zzz", "yyy");
	struct insight de = row(2, "zzz", "beta", "yyy");
	struct insight co = row(3, "zzz", "yyy", "gamma");
	CHECK(near(similar_score(&a, &t, &none, &ti), 0.5));
	CHECK(near(similar_score(&a, &t, &none, &de), 2.0 / 6));
	CHECK(near(similar_score(&a, &t, &none, &co), 1.0 / 6));
	/* Content is compared only when both have it; description only when the draft has one. */
	struct insight nocontent = row(4, "alpha", "beta", NULL);
	CHECK(near(similar_score(&a, &t, &none, &nocontent), 1.0));
	struct similar_text title_only = { .title = "alpha", .description = "" };
	CHECK(near(similar_score(&a, &title_only, &none, &de), 0.0));
	CHECK(near(similar_score(&a, &title_only, &none, &ti), 1.0));
	arena_release(&a);
}

TEST(similar_score_weighs_rare_words_above_common_ones)
{
	struct arena a = ARENA_INIT;
	const char *words[] = { "rare", "common" };
	int64_t df[] = { 1, 900 };
	struct similar_stats st = { words, df, 2, 1000 };
	struct similar_text t = { .title = "rare common" };
	struct insight shares_rare = row(1, "rare", "", NULL);
	struct insight shares_common = row(2, "common", "", NULL);
	double r = similar_score(&a, &t, &st, &shares_rare);
	double c = similar_score(&a, &t, &st, &shares_common);
	double wr = log(1001.0 / 1.5), wc = log(1001.0 / 900.5);
	CHECK(near(r, 2 * wr / (wr + wc + wr)));
	CHECK(near(c, 2 * wc / (wr + wc + wc)));
	CHECK(r > 0.9 && c < 0.2);
	arena_release(&a);
}

TEST(similar_rank_orders_keeps_five_and_gives_reasons)
{
	struct arena a = ARENA_INIT;
	const char *words[] = { "kalomi", "latency", "spike" };
	int64_t df[] = { 2, 500, 40 };
	struct similar_stats st = { words, df, 3, 1000 };
	struct similar_text t = { .title = "Kalomi latency spike", .description = "It spiked.",
				  .source = " Incident #7 " };
	struct insight c[7];
	c[0] = row(10, "unrelated words here", "nothing", NULL);
	c[1] = row(11, "kalomi latency spike", "It spiked.", NULL);
	c[1].source = "incident #7";
	c[2] = row(12, "kalomi latency", "other", NULL);
	c[3] = row(13, "latency", "x", NULL);
	c[4] = row(14, "spike", "x", NULL);
	c[5] = row(15, "latency spike", "x", NULL);
	c[6] = row(16, "kalomi latency spike", "It spiked.", NULL); /* ties with 11: higher id first */
	struct similar_match m[SIMILAR_MAX];
	size_t n = similar_rank(&a, &t, &st, c, 7, m, 9);
	CHECK(n == 5); /* at most five; the unrelated one (score 0) never */
	CHECK(m[0].insight->id == 16 && m[1].insight->id == 11);
	CHECK(m[0].score == 1.0 && m[1].score == 1.0);
	for (size_t i = 1; i < n; i++)
		CHECK(m[i - 1].score >= m[i].score);
	for (size_t i = 0; i < n; i++)
		CHECK(m[i].insight->id != 10);
	/* Scores carry four decimals. */
	for (size_t i = 0; i < n; i++)
		CHECK(near(m[i].score * 10000, round(m[i].score * 10000)));
	CHECK(m[1].nreasons == 4);
	CHECK_STR(m[1].reasons[0], "near-identical title");
	CHECK_STR(m[1].reasons[1], "similar description");
	CHECK_STR(m[1].reasons[2], "same source");
	/* Rare: in at most one insight in twenty (50 of 1000), rarest first. */
	CHECK_STR(m[1].reasons[3], "shared rare words: kalomi, spike");
	CHECK(m[0].nreasons == 3); /* no source */
	arena_release(&a);
}
