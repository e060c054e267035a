/*
 * probe.h: the client side of a health check. One GET of a URL with
 * libcurl (no redirect followed, no body kept) and its status code; what
 * `insights healthcheck` runs, in a container's HEALTHCHECK for instance.
 * Only probe.c includes libcurl.
 */
#ifndef INSIGHTS_PROBE_H
#define INSIGHTS_PROBE_H

#include <stddef.h>

enum probe_result {
	PROBE_ANSWERED, /* an HTTP response came back: its status is in *status */
	PROBE_FAILED,   /* no response: refused, unreachable, timed out, not HTTP */
	PROBE_BAD_URL,  /* the URL does not parse, or is not http:// or https:// */
};

/*
 * GETs `url` within `timeout_ms` (connecting included) and stores the
 * response's status code in *status (0 when there is none). Redirects are
 * answers, not followed. On PROBE_FAILED and PROBE_BAD_URL, `why` holds a
 * sentence saying what went wrong. Not thread-safe: each call sets up and
 * releases libcurl's global state (it serves a one-shot command).
 */
enum probe_result probe_get(const char *url, unsigned timeout_ms, long *status, char *why,
			    size_t whylen);

#endif
