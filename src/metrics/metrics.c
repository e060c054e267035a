/*
 * metrics.c: the request metrics and text rendering of metrics.h.
 */
#include "metrics/metrics.h"

#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "lib/banned.h"

#define NMETHODS 8
#define NSTATUS 16

/* Upper bounds of the duration buckets, in seconds: 0.5 ms to 10 s. */
static const double bucket_le[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				    0.1,    0.25,  0.5,    1,     2.5,  5,     10 };
#define NBUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

static const char *const method_names[NMETHODS] = { "GET",  "POST", "PUT",     "DELETE",
						    "PATCH", "HEAD", "OPTIONS", "OTHER" };

/* One (route, method): its status counts and its duration histogram. */
struct series {
	atomic_uint status[NSTATUS];          /* 0: a free slot */
	atomic_uint_fast64_t count[NSTATUS];
	atomic_uint_fast64_t bucket[NBUCKETS + 1]; /* not cumulative; the last is +Inf */
	atomic_uint_fast64_t sum_ns;
};

static struct {
	const struct http_route *routes;
	size_t nroutes;
	struct series *series; /* (nroutes + 1) * NMETHODS; the last route is "unmatched" */
} m;

void metrics_init(const struct http_route *routes, size_t nroutes)
{
	m.routes = routes;
	m.nroutes = nroutes;
	m.series = xcalloc((nroutes + 1) * NMETHODS, sizeof(struct series));
}

void metrics_release(void)
{
	free(m.series);
	memset(&m, 0, sizeof(m));
}

static unsigned method_index(enum http_method method)
{
	for (unsigned i = 0; i < NMETHODS; i++)
		if ((unsigned)method == 1u << i)
			return i;
	return NMETHODS - 1;
}

void metrics_observe(const struct http_route *route, enum http_method method, unsigned status,
		     uint64_t ns)
{
	if (!m.series)
		return;
	size_t r = route ? (size_t)(route - m.routes) : m.nroutes;
	assert(r <= m.nroutes);
	struct series *s = &m.series[r * NMETHODS + method_index(method)];

	/* Find or claim the slot of this status. */
	for (unsigned i = 0; i < NSTATUS; i++) {
		unsigned cur = atomic_load(&s->status[i]);
		if (cur == 0) {
			unsigned expected = 0;
			if (atomic_compare_exchange_strong(&s->status[i], &expected, status))
				cur = status;
			else
				cur = expected;
		}
		if (cur == status) {
			atomic_fetch_add(&s->count[i], 1);
			break;
		}
	}

	double secs = (double)ns / 1e9;
	size_t b = 0;
	while (b < NBUCKETS && secs > bucket_le[b])
		b++;
	atomic_fetch_add(&s->bucket[b], 1);
	atomic_fetch_add(&s->sum_ns, ns);
}

void metrics_family(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void add_value(struct buf *out, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		buf_addf(out, " %.0f\n", v);
	else if (fabs(v) >= 1e6)
		buf_addf(out, " %.3f\n", v); /* timestamps: keep the milliseconds */
	else
		buf_addf(out, " %.9g\n", v);
}

void metrics_sample(struct buf *out, const char *name, const char *labels, double value)
{
	buf_adds(out, name);
	if (labels && *labels)
		buf_addf(out, "{%s}", labels);
	add_value(out, value);
}

void metrics_render_one(struct buf *out, const char *name, const char *type, const char *help,
			double value)
{
	metrics_family(out, name, type, help);
	metrics_sample(out, name, NULL, value);
}

static const char *endpoint_of(size_t r)
{
	return r < m.nroutes ? m.routes[r].pattern : "unmatched";
}

void metrics_render_requests(struct buf *out)
{
	if (!m.series)
		return;
	size_t nseries = (m.nroutes + 1) * NMETHODS;
	char labels[256];

	metrics_family(out, "api_requests_total", "counter",
		       "API requests by method, endpoint (route template) and status.");
	for (size_t i = 0; i < nseries; i++) {
		struct series *s = &m.series[i];
		for (unsigned k = 0; k < NSTATUS; k++) {
			unsigned status = atomic_load(&s->status[k]);
			if (!status)
				break;
			snprintf(labels, sizeof(labels), "method=\"%s\",endpoint=\"%s\",status=\"%u\"",
				 method_names[i % NMETHODS], endpoint_of(i / NMETHODS), status);
			metrics_sample(out, "api_requests_total", labels,
				       (double)atomic_load(&s->count[k]));
		}
	}

	metrics_family(out, "request_duration_seconds", "histogram",
		       "Time from a request's headers to its response, by method and endpoint.");
	for (size_t i = 0; i < nseries; i++) {
		struct series *s = &m.series[i];
		uint64_t counts[NBUCKETS + 1], total = 0;
		for (size_t b = 0; b <= NBUCKETS; b++) {
			counts[b] = atomic_load(&s->bucket[b]);
			total += counts[b];
		}
		if (!total)
			continue;
		const char *method = method_names[i % NMETHODS];
		const char *endpoint = endpoint_of(i / NMETHODS);
		uint64_t cumulative = 0;
		for (size_t b = 0; b <= NBUCKETS; b++) {
			cumulative += counts[b];
			if (b < NBUCKETS)
				snprintf(labels, sizeof(labels), "method=\"%s\",endpoint=\"%s\",le=\"%g\"",
					 method, endpoint, bucket_le[b]);
			else
				snprintf(labels, sizeof(labels), "method=\"%s\",endpoint=\"%s\",le=\"+Inf\"",
					 method, endpoint);
			metrics_sample(out, "request_duration_seconds_bucket", labels, (double)cumulative);
		}
		snprintf(labels, sizeof(labels), "method=\"%s\",endpoint=\"%s\"", method, endpoint);
		metrics_sample(out, "request_duration_seconds_sum", labels,
			       (double)atomic_load(&s->sum_ns) / 1e9);
		metrics_sample(out, "request_duration_seconds_count", labels, (double)total);
	}
}
