/*
 * seed.c: a deterministic, realistic demo dataset, written through the
 * service layer (so it exercises the same validation and write path as the
 * API, on any store).
 *
 * Same count and seed, same data: the generator is a seeded xoshiro256**
 * and nothing depends on the clock except the dates, which are spread over
 * the two years before a fixed reference day chosen by the caller.
 *
 * Words follow a Zipf-like distribution (weight 1/rank over a fixed
 * vocabulary), so that searches meet realistic frequencies: the first words
 * occur in most insights, words ranked past a few hundred in a few percent.
 */
#include "core/seed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

static const char *const vocabulary[] = {
	"the", "and", "to", "of", "a", "in", "we", "for", "is", "on", "that", "with", "it",
	"was", "this", "as", "team", "service", "when", "by", "from", "after", "data", "be",
	"our", "not", "query", "are", "time", "system", "requests", "database", "change",
	"load", "users", "performance", "deploy", "production", "latency", "issue", "review",
	"process", "test", "cache", "error", "release", "traffic", "index", "monitoring", "api",
	"incident", "memory", "configuration", "pipeline", "connection", "pool", "alerts",
	"customer", "metrics", "response", "failure", "cluster", "capacity", "schema", "rollback",
	"timeout", "queue", "storage", "network", "security", "access", "tokens", "logging",
	"dashboard", "sprint", "retrospective", "planning", "estimate", "ownership", "handoff",
	"onboarding", "documentation", "runbook", "postmortem", "escalation", "oncall", "pager",
	"threshold", "budget", "reliability", "availability", "throughput", "regression",
	"migration", "replica", "backup", "restore", "failover", "partition", "shard", "tenant",
	"container", "kubernetes", "node", "scheduler", "autoscaling", "limits", "quota",
	"rate", "retry", "backoff", "circuit", "breaker", "idempotent", "transaction", "lock",
	"deadlock", "contention", "vacuum", "bloat", "statistics", "planner", "explain",
	"composite", "covering", "btree", "hash", "join", "subquery", "pagination", "cursor",
	"batch", "stream", "event", "consumer", "producer", "topic", "offset", "lag",
	"checkpoint", "snapshot", "compaction", "replication", "consensus", "leader", "quorum",
	"certificate", "rotation", "secret", "vault", "permission", "role", "audit", "compliance",
	"encryption", "firewall", "ingress", "gateway", "proxy", "balancer", "dns", "cdn",
	"frontend", "backend", "mobile", "browser", "bundle", "accessibility", "design", "feedback",
	"interview", "hiring", "mentoring", "pairing", "standup", "roadmap", "priority", "scope",
	"deadline", "stakeholder", "communication", "meeting", "decision", "tradeoff", "risk",
	"experiment", "hypothesis", "measurement", "baseline", "benchmark", "profiling", "flame",
	"graph", "allocation", "garbage", "collector", "heap", "stack", "thread", "coroutine",
	"async", "blocking", "syscall", "kernel", "disk", "iops", "fsync", "journal", "wal",
	"compression", "serialization", "protobuf", "json", "schema", "contract", "versioning",
	"deprecation", "feature", "flag", "canary", "blue", "green", "staging", "environment",
	"terraform", "ansible", "helm", "chart", "manifest", "image", "registry", "scanner",
	"vulnerability", "patch", "upgrade", "dependency", "library", "framework", "linter",
	"formatter", "coverage", "flaky", "integration", "unit", "contract", "fuzzing", "chaos",
	"gameday", "drill", "simulation", "forecast", "cost", "invoice", "savings", "reserved",
	"spot", "instance", "region", "zone", "latency", "jitter", "packet", "loss", "mtu",
	"keepalive", "handshake", "tls", "cipher", "entropy", "random", "clock", "skew", "ntp",
	"cron", "job", "worker", "lease", "heartbeat", "watchdog", "supervisor", "restart",
	"crash", "core", "dump", "symbol", "debugger", "tracing", "span", "sampling", "exemplar",
	"histogram", "percentile", "quantile", "slo", "sli", "burn", "error", "budget", "toil",
	"automation", "script", "template", "checklist", "playbook", "triage", "severity",
	"impact", "root", "cause", "contributing", "factor", "timeline", "detection", "mitigation",
	"remediation", "followup", "owner", "action", "item", "lesson", "learned", "practice",
	"guideline", "standard", "policy", "exception", "approval", "signoff", "gate", "merge",
	"branch", "trunk", "rebase", "conflict", "bisect", "blame", "commit", "hook", "ci",
	"runner", "artifact", "cache", "warmup", "coldstart", "lambda", "function", "edge",
	"websocket", "polling", "webhook", "callback", "signature", "nonce", "replay", "csrf",
	"xss", "injection", "sanitizer", "validation", "escaping", "encoding", "unicode",
	"locale", "timezone", "calendar", "holiday", "weekend", "overtime", "burnout", "morale",
	"recognition", "celebration", "kudos", "newsletter", "wiki", "glossary", "diagram",
	"whiteboard", "workshop", "training", "certification", "conference", "talk", "blog",
};
#define NREAL (sizeof(vocabulary) / sizeof(vocabulary[0]))
/*
 * Behind the real words comes a long tail of made-up three-syllable words
 * ("kalomi"), so that some words occur in a few percent of the insights and
 * others in one in a hundred, as in real text.
 */
static const char syllables[16][3] = { "ka", "lo", "mi", "ra", "te", "su", "vo", "ne",
				       "pa", "di", "zu", "fe", "gi", "ho", "ju", "be" };
#define NTAIL 4096
#define NWORDS (NREAL + NTAIL)

static const char *const tag_names[] = {
	"Best Practice", "Lesson Learned", "Performance", "Incident", "Quick Win", "Documentation",
	"Security", "Improvement", "Deployment", "Monitoring", "Testing", "Architecture", "Cost",
	"Reliability", "Scalability", "Onboarding", "Tooling", "Automation", "Database", "Caching",
	"Networking", "Observability", "Process", "Communication", "Hiring", "Postmortem",
	"Tech Debt", "Compliance", "Accessibility", "User Experience",
};
#define NTAGS (sizeof(tag_names) / sizeof(tag_names[0]))

/* Twelve categories, three levels deep; parents come before children. */
static const struct {
	const char *name;
	int parent; /* index in this table, -1 for a root */
	const char *color;
	const char *icon;
} category_defs[] = {
	{ "Technical", -1, "#3B82F6", "code" },   { "Process", -1, "#10B981", "workflow" },
	{ "People", -1, "#F59E0B", "users" },     { "Databases", 0, "#6366F1", "database" },
	{ "Infrastructure", 0, "#8B5CF6", "server" }, { "Security", 0, "#EF4444", "shield" },
	{ "Delivery", 1, "#14B8A6", "rocket" },   { "Planning", 1, "#22C55E", "calendar" },
	{ "Collaboration", 2, "#F97316", "chat" }, { "PostgreSQL", 3, "#336791", "elephant" },
	{ "Kubernetes", 4, "#326CE5", "ship" },   { "Incident Response", 6, "#DC2626", "siren" },
};
#define NCATEGORIES (sizeof(category_defs) / sizeof(category_defs[0]))

static const char *const teams[] = { "sre-team", "platform-team", "security-team",
				     "data-team", "mobile-team", "web-team", "payments-team",
				     "search-team", "infra-team", "qa-team" };
static const char *const first_names[] = { "alice", "bob", "carol", "dave", "erin", "frank",
					   "grace", "heidi", "ivan", "judy", "mallory", "niaj",
					   "olivia", "peggy", "rupert", "sybil", "trent", "victor",
					   "walter", "yara" };
static const char *const last_names[] = { "martin", "okafor", "nguyen", "kowalski", "silva",
					  "haddad", "tanaka", "schmidt" };
#define NAUTHORS 40
/* Insights written per transaction. */
#define SEED_BATCH 500

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [lo, hi]. */
static uint64_t rng_between(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

struct gen {
	struct rng rng;
	double cdf[NWORDS]; /* cumulative Zipf weights, normalised */
	char tail[NTAIL][8];
	char authors[NAUTHORS][48];
};

static const char *word(struct gen *g)
{
	double u = rng_unit(&g->rng);
	size_t lo = 0, hi = NWORDS - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (g->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < NREAL ? vocabulary[lo] : g->tail[lo - NREAL];
}

static void words(struct gen *g, struct buf *b, unsigned n, bool capital)
{
	for (unsigned i = 0; i < n; i++) {
		const char *w = word(g);
		if (i)
			buf_addch(b, ' ');
		if (i == 0 && capital) {
			buf_addch(b, (char)(w[0] >= 'a' && w[0] <= 'z' ? w[0] - 32 : w[0]));
			buf_adds(b, w + 1);
		} else {
			buf_adds(b, w);
		}
	}
}

/* A sentence of 6 to 16 words; returns the number of words written. */
static unsigned sentence(struct gen *g, struct buf *b)
{
	unsigned n = (unsigned)rng_between(&g->rng, 6, 16);
	words(g, b, n, true);
	buf_addch(b, '.');
	return n;
}

/* Markdown content of about `target` words in the specification's template. */
static void content(struct gen *g, struct buf *b, unsigned target, uint64_t count)
{
	static const char *const prose[] = { "Context", "Insight", "Impact" };
	unsigned written = 0;
	unsigned per_section = target / 5 + 1;
	for (size_t s = 0; s < 3; s++) {
		buf_addf(b, "%s## %s\n\n", s ? "\n\n" : "", prose[s]);
		unsigned here = 0;
		while (here < per_section) {
			if (here)
				buf_addch(b, ' ');
			here += sentence(g, b);
		}
		written += here;
	}
	buf_adds(b, "\n\n## Action Items\n");
	while (written < target) {
		buf_adds(b, "\n- ");
		written += sentence(g, b);
	}
	buf_addf(b, "\n\n## References\n\n- Incident #%u\n- PR #%u\n",
		 (unsigned)rng_between(&g->rng, 100, 9999), (unsigned)rng_between(&g->rng, 1000, 99999));
	buf_addf(b, "\n## Related\n\n- Insight #%llu\n",
		 (unsigned long long)rng_between(&g->rng, 1, count ? count : 1));
}

static void gen_init(struct gen *g, uint64_t seed)
{
	rng_seed(&g->rng, seed);
	double total = 0;
	for (size_t i = 0; i < NWORDS; i++)
		total += 1.0 / (double)(i + 1);
	double acc = 0;
	for (size_t i = 0; i < NWORDS; i++) {
		acc += 1.0 / (double)(i + 1) / total;
		g->cdf[i] = acc;
	}
	g->cdf[NWORDS - 1] = 1.0;
	for (size_t i = 0; i < NTAIL; i++)
		snprintf(g->tail[i], sizeof(g->tail[i]), "%.2s%.2s%.2s", syllables[i % 16],
			 syllables[(i / 16) % 16], syllables[(i / 256) % 16]);
	for (int i = 0; i < NAUTHORS; i++) {
		if (i < 10)
			snprintf(g->authors[i], sizeof(g->authors[i]), "%s", teams[i]);
		else
			snprintf(g->authors[i], sizeof(g->authors[i]), "%s.%s", first_names[(i - 10) % 20],
				 last_names[(i - 10) % 8]);
	}
}

static struct opt_str str(const char *v)
{
	return (struct opt_str){ .set = true, .v = v };
}

/* "Best Practice" -> "best-practice" */
static void slugify(const char *name, char *out, size_t n)
{
	size_t k = 0;
	for (const char *p = name; *p && k + 1 < n; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		out[k++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '-';
	}
	out[k] = '\0';
}

/* The id of the tag named `name`, creating it when missing. */
static enum status ensure_tag(struct service *svc, struct arena *a, const char *name,
			      int64_t *id, struct error *err)
{
	char slug[64];
	slugify(name, slug, sizeof(slug));
	struct tag_input in = { .name = str(name), .slug = str(slug) };
	struct tag t;
	error_clear(err);
	enum status rc = svc_tag_create(svc, a, &in, &t, err);
	if (rc == OK) {
		*id = t.id;
		return OK;
	}
	if (rc != E_CONFLICT)
		return rc;
	/* Seeded before: find it (tags are few). */
	for (int64_t skip = 0;; skip += LIST_LIMIT_MAX) {
		struct tag *list;
		size_t n;
		rc = svc_tag_list(svc, a, (struct range){ skip, LIST_LIMIT_MAX }, &list, &n, err);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(list[i].name, name)) {
				*id = list[i].id;
				return OK;
			}
		}
		if (n < LIST_LIMIT_MAX)
			return error_set(err, E_CONFLICT, "tag slug '%s' is taken by another tag", slug);
	}
}

static enum status ensure_category(struct service *svc, struct arena *a, size_t i,
				   const int64_t *ids, int64_t *id, struct error *err)
{
	char slug[64];
	slugify(category_defs[i].name, slug, sizeof(slug));
	struct category_input in = { .name = str(category_defs[i].name), .slug = str(slug),
				     .color = str(category_defs[i].color),
				     .icon = str(category_defs[i].icon) };
	if (category_defs[i].parent >= 0)
		in.parent_id = (struct opt_id){ true, ids[category_defs[i].parent] };
	struct category c;
	error_clear(err);
	enum status rc = svc_category_create(svc, a, &in, &c, err);
	if (rc == OK) {
		*id = c.id;
		return OK;
	}
	if (rc != E_CONFLICT)
		return rc;
	for (int64_t skip = 0;; skip += LIST_LIMIT_MAX) {
		struct category *list;
		size_t n;
		rc = svc_category_list(svc, a, (struct range){ skip, LIST_LIMIT_MAX }, &list, &n, err);
		if (rc)
			return rc;
		for (size_t k = 0; k < n; k++) {
			if (!strcmp(list[k].name, category_defs[i].name)) {
				*id = list[k].id;
				return OK;
			}
		}
		if (n < LIST_LIMIT_MAX)
			return error_set(err, E_CONFLICT, "category slug '%s' is taken", slug);
	}
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

enum status seed_run(struct service *svc, const struct seed_options *opt,
		     struct seed_report *report, struct error *err)
{
	struct gen *g = xcalloc(1, sizeof(*g));
	gen_init(g, opt->random_seed);
	memset(report, 0, sizeof(*report));
	struct arena a = ARENA_INIT;
	enum status rc = OK;

	int64_t tags[NTAGS], cats[NCATEGORIES];
	for (size_t i = 0; rc == OK && i < NTAGS; i++)
		rc = ensure_tag(svc, &a, tag_names[i], &tags[i], err);
	for (size_t i = 0; rc == OK && i < NCATEGORIES; i++)
		rc = ensure_category(svc, &a, i, cats, &cats[i], err);
	arena_release(&a);

	/* Creation times: evenly spread over two years, with jitter, oldest first. */
	const time_t span = 730 * 86400;
	time_t start = opt->until - span;
	struct buf title = BUF_INIT, desc = BUF_INIT, body = BUF_INIT;
	struct insight_input *batch = xcalloc(SEED_BATCH, sizeof(*batch));
	for (uint64_t i = 0; rc == OK && i < opt->count;) {
		size_t n = 0;
		for (; n < SEED_BATCH && i < opt->count; n++, i++) {
			buf_reset(&title);
			buf_reset(&desc);
			buf_reset(&body);
			words(g, &title, (unsigned)rng_between(&g->rng, 5, 12), true);
			sentence(g, &desc);
			if (rng_between(&g->rng, 0, 1)) {
				buf_addch(&desc, ' ');
				sentence(g, &desc);
			}
			content(g, &body, (unsigned)rng_between(&g->rng, 150, 600), opt->count);

			struct insight_input *in = &batch[n];
			memset(in, 0, sizeof(*in));
			in->title = str(arena_strdup(&a, title.data));
			in->description = str(arena_strdup(&a, desc.data));
			in->content = str(arena_strdup(&a, body.data));
			in->author = str(g->authors[rng_between(&g->rng, 0, NAUTHORS - 1)]);
			char source[64];
			snprintf(source, sizeof(source), "%s #%u",
				 rng_between(&g->rng, 0, 2) ? "Incident" : "Retrospective",
				 (unsigned)rng_between(&g->rng, 1, 5000));
			in->source = str(arena_strdup(&a, source));
			if (rng_between(&g->rng, 0, 9)) /* one in ten uncategorized */
				in->category_id = (struct opt_id){ true, cats[rng_between(&g->rng, 0, NCATEGORIES - 1)] };
			uint64_t p = rng_between(&g->rng, 0, 99);
			in->priority_set = true;
			in->priority = p < 25 ? PRIORITY_LOW : p < 70 ? PRIORITY_MEDIUM
				: p < 92 ? PRIORITY_HIGH : PRIORITY_CRITICAL;
			uint64_t st = rng_between(&g->rng, 0, 99);
			in->status_set = true;
			in->status = st < 70 ? LIFECYCLE_PUBLISHED : st < 90 ? LIFECYCLE_DRAFT
				: LIFECYCLE_ARCHIVED;

			int64_t *chosen = ARENA_NEW_ARRAY(&a, int64_t, 5);
			size_t ntags = (size_t)rng_between(&g->rng, 0, 5), k = 0;
			for (size_t t = 0; t < ntags; t++) {
				int64_t tag = tags[rng_between(&g->rng, 0, NTAGS - 1)];
				bool dup = false;
				for (size_t j = 0; j < k; j++)
					dup |= chosen[j] == tag;
				if (!dup)
					chosen[k++] = tag;
			}
			qsort(chosen, k, sizeof(chosen[0]), cmp_i64);
			in->tag_ids_set = k > 0;
			in->tag_ids = chosen;
			in->ntag_ids = k;

			time_t at = start + (time_t)((double)span * ((double)i + rng_unit(&g->rng)) /
						     (double)(opt->count ? opt->count : 1));
			char *ts = arena_alloc(&a, TS_SIZE);
			clock_format(at, ts);
			in->created_at = ts;
		}
		rc = svc_insight_create_many(svc, batch, n, err);
		arena_release(&a);
		if (rc == OK) {
			uint64_t before = report->created;
			report->created += n;
			if (opt->progress && report->created / opt->progress_every != before / opt->progress_every)
				opt->progress(opt->progress_arg, report->created);
		}
	}
	free(batch);
	if (rc == OK && report->created)
		rc = svc_optimize(svc, err);
	buf_release(&title);
	buf_release(&desc);
	buf_release(&body);
	free(g);
	report->tags = NTAGS;
	report->categories = NCATEGORIES;
	return rc;
}
