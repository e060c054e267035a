/*
 * metrics.h: Prometheus metrics of the HTTP service, in the text
 * exposition format (version 0.0.4).
 *
 * Request series are keyed by route (the route template is the `endpoint`
 * label, so cardinality is bounded by the route table; requests that match
 * no route share the label "unmatched"), method and status. Every counter is
 * an atomic, updated without locks: exact under any concurrency.
 */
#ifndef INSIGHTS_METRICS_H
#define INSIGHTS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "lib/buf.h"

/* Prepares the series for a route table; call once before serving. */
void metrics_init(const struct http_route *routes, size_t nroutes);
void metrics_release(void);

/*
 * Records one completed request. `route` is the route whose pattern matched
 * (NULL when none did), `ns` its duration.
 */
void metrics_observe(const struct http_route *route, enum http_method method, unsigned status,
		     uint64_t ns);

/* Appends api_requests_total and request_duration_seconds. */
void metrics_render_requests(struct buf *out);
/* Appends the standard process_* metrics (Linux /proc). */
void metrics_render_process(struct buf *out);

/* Appends one metric family with a single unlabelled sample. */
void metrics_render_one(struct buf *out, const char *name, const char *type, const char *help,
			double value);
/* Appends a family header; samples follow with metrics_sample(). */
void metrics_family(struct buf *out, const char *name, const char *type, const char *help);
void metrics_sample(struct buf *out, const char *name, const char *labels, double value);

#endif
