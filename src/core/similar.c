/*
 * similar.c: duplicate warnings, backend-neutral (similar.h says how the
 * score is computed). Everything here works on sorted arrays of distinct
 * words in the caller's arena: a field's words are collected, sorted and
 * deduplicated once, then two fields compare by one merge.
 */
#include "core/similar.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/banned.h"

/* Words read from one field, at most: bounds the work on a long content. */
#define FIELD_WORDS_MAX 2000
/* Typos are looked for among at most this many unmatched words a side. */
#define FUZZY_MAX 64
/* A typo is looked for only in words this long or longer. */
#define FUZZY_MIN_LEN 4

/* English function words: they say nothing about what a text is about. Sorted. */
static const char *const stopwords[] = {
	"a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
	"at", "be", "because", "been", "before", "being", "between", "both", "but", "by",
	"can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
	"from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him",
	"his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me",
	"more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only",
	"or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so",
	"some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there",
	"these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
	"us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
	"whom", "why", "will", "with", "would", "you", "your", "yours",
};
#define NSTOP (sizeof(stopwords) / sizeof(stopwords[0]))

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool is_stopword(const char *w)
{
	return bsearch(&w, stopwords, NSTOP, sizeof(*stopwords), cmp_str) != NULL;
}

/*
 * The length of the separator at `p` (0: a word character). Separators
 * are what the full-text index splits on: ASCII other than letters and
 * digits, Latin-1's punctuation and symbols (U+0080 to U+00BF, U+00D7,
 * U+00F7), general punctuation (U+2000 to U+206F) and CJK punctuation
 * (U+3000 to U+303F). Other non-ASCII characters are word characters.
 */
static size_t separator_len(const unsigned char *p)
{
	if (*p < 0x80)
		return (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
			       (*p >= 'A' && *p <= 'Z') ? 0 : 1;
	if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0xBF)
		return 2;
	if (*p == 0xC3 && (p[1] == 0x97 || p[1] == 0xB7))
		return 2;
	if (*p == 0xE2 && (p[1] == 0x80 || p[1] == 0x81) && p[2] >= 0x80 && p[2] <= 0xBF)
		return 3;
	if (*p == 0xE3 && p[1] == 0x80 && p[2] >= 0x80 && p[2] <= 0xBF)
		return 3;
	return 0;
}

/* The next word of `*p`, lowercased (ASCII) into `a`; NULL at the end. */
static const char *next_word(struct arena *a, const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	size_t n;
	while (*s && (n = separator_len(s)) > 0)
		s += n;
	if (!*s) {
		*p = (const char *)s;
		return NULL;
	}
	const unsigned char *start = s;
	while (*s && separator_len(s) == 0)
		s++;
	char *w = arena_strndup(a, (const char *)start, (size_t)(s - start));
	for (char *c = w; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	*p = (const char *)s;
	return w;
}

/* A field's distinct words without stopwords, sorted. */
struct wordset {
	const char **w;
	size_t n;
};

static void wordset_read(struct arena *a, const char *text, struct wordset *out)
{
	out->w = NULL;
	out->n = 0;
	if (!text || !*text)
		return;
	size_t cap = 32, n = 0;
	const char **w = arena_alloc(a, cap * sizeof(*w));
	const char *p = text, *word;
	for (size_t read = 0; read < FIELD_WORDS_MAX && (word = next_word(a, &p)); read++) {
		if (is_stopword(word))
			continue;
		if (n == cap) {
			const char **more = arena_alloc(a, 2 * cap * sizeof(*w));
			memcpy(more, w, n * sizeof(*w));
			w = more;
			cap *= 2;
		}
		w[n++] = word;
	}
	if (n)
		qsort(w, n, sizeof(*w), cmp_str);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || strcmp(w[k - 1], w[i]))
			w[k++] = w[i];
	out->w = w;
	out->n = k;
}

static bool wordset_has(const struct wordset *s, const char *w)
{
	return s->n && bsearch(&w, s->w, s->n, sizeof(*s->w), cmp_str) != NULL;
}

size_t similar_words(struct arena *a, const struct similar_text *t, const char ***out)
{
	const char **words = arena_alloc(a, SIMILAR_WORDS_MAX * sizeof(*words));
	size_t n = 0;
	const char *fields[3] = { t->title, t->description, t->content };
	for (int f = 0; f < 3 && n < SIMILAR_WORDS_MAX; f++) {
		const char *p = fields[f] ? fields[f] : "", *w;
		for (size_t read = 0; read < FIELD_WORDS_MAX && n < SIMILAR_WORDS_MAX &&
				      (w = next_word(a, &p)); read++) {
			if (is_stopword(w))
				continue;
			bool seen = false;
			for (size_t i = 0; i < n && !seen; i++)
				seen = !strcmp(words[i], w);
			if (!seen)
				words[n++] = w;
		}
	}
	*out = words;
	return n;
}

/* ---- weights --------------------------------------------------------------- */

struct dfentry {
	const char *w;
	int64_t df;
};

static int cmp_dfentry(const void *a, const void *b)
{
	return strcmp(((const struct dfentry *)a)->w, ((const struct dfentry *)b)->w);
}

/* The draft's known frequencies, sorted by word, and N. */
struct weights {
	struct dfentry *e;
	size_t n;
	int64_t total;
};

static void weights_init(struct arena *a, const struct similar_stats *st, struct weights *w)
{
	w->total = st->total > 0 ? st->total : 0;
	w->n = st->n;
	w->e = arena_alloc(a, (st->n ? st->n : 1) * sizeof(*w->e));
	for (size_t i = 0; i < st->n; i++)
		w->e[i] = (struct dfentry){ st->words[i], st->df[i] > 0 ? st->df[i] : 0 };
	if (st->n)
		qsort(w->e, st->n, sizeof(*w->e), cmp_dfentry);
}

static double idf(const struct weights *w, int64_t df)
{
	return log(((double)w->total + 1.0) / ((double)df + 0.5));
}

/* A word's weight: as found nowhere when its frequency is unknown. */
static double weight(const struct weights *w, const char *word)
{
	struct dfentry key = { word, 0 };
	const struct dfentry *e = w->n ? bsearch(&key, w->e, w->n, sizeof(*w->e), cmp_dfentry) : NULL;
	double v = idf(w, e ? e->df : 0);
	return v > 0.01 ? v : 0.01;
}

/* ---- comparing fields ------------------------------------------------------------ */

/* Whether a and b are at most one edit apart (insert, delete, substitute, swap). */
static bool one_edit(const char *a, size_t la, const char *b, size_t lb)
{
	if (la > lb) {
		const char *t = a;
		a = b;
		b = t;
		size_t tl = la;
		la = lb;
		lb = tl;
	}
	if (lb - la > 1)
		return false;
	size_t i = 0;
	while (i < la && a[i] == b[i])
		i++;
	if (i == la)
		return true; /* equal, or b has one more character at the end */
	if (la == lb) {
		if (!strcmp(a + i + 1, b + i + 1))
			return true; /* substitute */
		return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		       !strcmp(a + i + 2, b + i + 2); /* swap */
	}
	return !strcmp(a + i, b + i + 1); /* insert */
}

/* Weighted Dice of two fields' words, typos counted as shared. */
static double field_similarity(const struct weights *wt, const struct wordset *x,
			       const struct wordset *y)
{
	double shared = 0, total = 0;
	const char *ux[FUZZY_MAX], *uy[FUZZY_MAX];
	size_t nux = 0, nuy = 0;
	bool fuzzy = true;
	size_t i = 0, j = 0;
	while (i < x->n || j < y->n) {
		int c = i == x->n ? 1 : j == y->n ? -1 : strcmp(x->w[i], y->w[j]);
		if (c == 0) {
			double v = weight(wt, x->w[i]);
			shared += 2 * v;
			total += 2 * v;
			i++;
			j++;
		} else if (c < 0) {
			total += weight(wt, x->w[i]);
			if (nux < FUZZY_MAX)
				ux[nux++] = x->w[i];
			else
				fuzzy = false;
			i++;
		} else {
			total += weight(wt, y->w[j]);
			if (nuy < FUZZY_MAX)
				uy[nuy++] = y->w[j];
			else
				fuzzy = false;
			j++;
		}
	}
	if (fuzzy) {
		bool used[FUZZY_MAX] = { false };
		for (size_t a = 0; a < nux; a++) {
			size_t la = strlen(ux[a]);
			if (la < FUZZY_MIN_LEN)
				continue;
			for (size_t b = 0; b < nuy; b++) {
				size_t lb = strlen(uy[b]);
				if (used[b] || lb < FUZZY_MIN_LEN || !one_edit(ux[a], la, uy[b], lb))
					continue;
				used[b] = true;
				shared += weight(wt, ux[a]) + weight(wt, uy[b]);
				break;
			}
		}
	}
	return total > 0 ? shared / total : 0;
}

/* ---- scoring ----------------------------------------------------------------------- */

struct draft {
	struct wordset title, description, content;
	bool has_description, has_content;
};

static void draft_read(struct arena *a, const struct similar_text *t, struct draft *d)
{
	wordset_read(a, t->title, &d->title);
	wordset_read(a, t->description, &d->description);
	wordset_read(a, t->content, &d->content);
	d->has_description = t->description && *t->description;
	d->has_content = t->content && *t->content;
}

struct fields {
	double title, description, content;
	struct wordset words[3];
};

static double score_of(struct arena *a, const struct draft *d, const struct weights *wt,
		       const struct insight *in, struct fields *f)
{
	wordset_read(a, in->title, &f->words[0]);
	wordset_read(a, in->description, &f->words[1]);
	/* An insight's content counts only against a draft's: not read otherwise. */
	wordset_read(a, d->has_content ? in->content : NULL, &f->words[2]);
	f->title = field_similarity(wt, &d->title, &f->words[0]);
	double sum = 3 * f->title, weights = 3;
	f->description = f->content = 0;
	if (d->has_description) {
		f->description = field_similarity(wt, &d->description, &f->words[1]);
		sum += 2 * f->description;
		weights += 2;
	}
	if (d->has_content && in->content && *in->content) {
		f->content = field_similarity(wt, &d->content, &f->words[2]);
		sum += f->content;
		weights += 1;
	}
	double s = sum / weights;
	return s < 0 ? 0 : s > 1 ? 1 : s;
}

double similar_score(struct arena *a, const struct similar_text *t,
		     const struct similar_stats *st, const struct insight *in)
{
	struct draft d;
	struct weights wt;
	struct fields f;
	draft_read(a, t, &d);
	weights_init(a, st, &wt);
	return score_of(a, &d, &wt, in, &f);
}

/* Case-insensitive equality of two sources, ignoring surrounding blanks. */
static bool same_source(const char *x, const char *y)
{
	if (!x || !y)
		return false;
	while (*x == ' ' || *x == '\t')
		x++;
	while (*y == ' ' || *y == '\t')
		y++;
	size_t lx = strlen(x), ly = strlen(y);
	while (lx && (x[lx - 1] == ' ' || x[lx - 1] == '\t'))
		lx--;
	while (ly && (y[ly - 1] == ' ' || y[ly - 1] == '\t'))
		ly--;
	if (!lx || lx != ly)
		return false;
	for (size_t i = 0; i < lx; i++) {
		char a = x[i], b = y[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/*
 * "shared rare words: a, b, c": up to three of the draft's words found in
 * at most one insight in twenty (at least the one) that the insight holds,
 * rarest first. NULL when there is none.
 */
static const char *rare_words_reason(struct arena *a, const struct similar_stats *st,
				     const struct fields *f)
{
	int64_t rare = st->total / 20 > 1 ? st->total / 20 : 1;
	size_t pick[3], npick = 0;
	for (size_t i = 0; i < st->n; i++) {
		if (st->df[i] < 1 || st->df[i] > rare)
			continue;
		if (!wordset_has(&f->words[0], st->words[i]) && !wordset_has(&f->words[1], st->words[i]) &&
		    !wordset_has(&f->words[2], st->words[i]))
			continue;
		/* Insert by df (stable: the draft's order among equals), keep three. */
		size_t at = npick;
		while (at > 0 && st->df[pick[at - 1]] > st->df[i])
			at--;
		if (at >= 3)
			continue;
		size_t last = npick < 3 ? npick : 2;
		for (size_t k = last; k > at; k--)
			pick[k] = pick[k - 1];
		pick[at] = i;
		if (npick < 3)
			npick++;
	}
	if (!npick)
		return NULL;
	struct buf b = BUF_INIT;
	buf_adds(&b, "shared rare words: ");
	for (size_t k = 0; k < npick; k++)
		buf_addf(&b, "%s%s", k ? ", " : "", st->words[pick[k]]);
	const char *s = arena_strndup(a, b.data, b.len);
	buf_release(&b);
	return s;
}

/* A candidate scored, with its fields' similarities for the reasons. */
struct scored {
	const struct insight *insight;
	double score;
	struct fields f;
};

static int cmp_scored(const void *x, const void *y)
{
	const struct scored *a = x, *b = y;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->insight->id > b->insight->id ? -1 : a->insight->id < b->insight->id;
}

size_t similar_rank(struct arena *a, const struct similar_text *t,
		    const struct similar_stats *st, const struct insight *cands, size_t n,
		    struct similar_match *out, size_t max)
{
	if (max > SIMILAR_MAX)
		max = SIMILAR_MAX;
	struct draft d;
	struct weights wt;
	draft_read(a, t, &d);
	weights_init(a, st, &wt);
	struct scored *all = arena_alloc(a, (n ? n : 1) * sizeof(*all));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct scored *c = &all[k];
		c->insight = &cands[i];
		c->score = round(score_of(a, &d, &wt, &cands[i], &c->f) * 10000) / 10000;
		if (c->score > 0)
			k++;
	}
	qsort(all, k, sizeof(*all), cmp_scored);
	size_t m = k < max ? k : max;
	for (size_t i = 0; i < m; i++) {
		struct similar_match *r = &out[i];
		const struct fields *f = &all[i].f;
		*r = (struct similar_match){ .insight = all[i].insight, .score = all[i].score };
		if (f->title >= 0.9)
			r->reasons[r->nreasons++] = "near-identical title";
		if (d.has_description && f->description >= 0.8)
			r->reasons[r->nreasons++] = "similar description";
		if (same_source(t->source, r->insight->source))
			r->reasons[r->nreasons++] = "same source";
		const char *rare = rare_words_reason(a, st, f);
		if (rare)
			r->reasons[r->nreasons++] = rare;
	}
	return m;
}
