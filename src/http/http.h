/*
 * http.h: the HTTP server, the only module that knows libmicrohttpd.
 *
 * The application hands the server a route table; the server receives
 * requests, enforces the limits (body size, connections, idle time),
 * answers what needs no handler (unknown path 404, wrong method 405 with
 * Allow, too large 413, CORS preflight) and calls the matching handler once
 * per request with the whole body in memory.
 *
 * Threads: one libmicrohttpd daemon per thread, all listening on the same
 * port (SO_REUSEPORT spreads connections evenly between them), each running
 * its own epoll loop. Handlers run on those loops, except routes flagged
 * HTTP_ROUTE_OFFLOAD (ranked searches, aggregates) which run on a worker
 * pool while their connection is suspended, so that a slow query never
 * stalls the other connections of its loop.
 *
 * Memory: everything a request owns (its body, its arena, its response
 * until it is handed to libmicrohttpd) dies in one place, when the request
 * completes.
 */
#ifndef INSIGHTS_HTTP_H
#define INSIGHTS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_POST = 1 << 1,
	HTTP_PUT = 1 << 2,
	HTTP_DELETE = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_HEAD = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
	HTTP_OTHER = 1 << 7,
};

struct http_request;

typedef void (*http_handler)(struct http_request *req);

/* Run the handler on the worker pool, not on the connection's loop. */
#define HTTP_ROUTE_OFFLOAD 1u
/* The route's 200 answers may come from the response cache (see http_config). */
#define HTTP_ROUTE_CACHE 2u

struct http_route {
	unsigned methods;         /* a mask of enum http_method */
	const char *pattern;      /* "/insights/{insight_id}": literal segments and {params} */
	http_handler handler;
	unsigned flags;
	const void *data;         /* for the handler: what it serves (see http_route_data) */
};

/* Called once per completed request, from the thread that completed it. */
typedef void (*http_observer)(void *app, const struct http_request *req);

/*
 * A response cache for HTTP_ROUTE_CACHE routes. `lookup` runs on the event
 * loop once the body is complete, before the handler (and before an
 * offloaded route leaves the loop): it answers the request from the cache
 * and returns true, or returns false and sets *tag. After the handler,
 * `store` gets the request (with its response) and that tag.
 */
struct http_cache_hooks {
	bool (*lookup)(void *app, struct http_request *req, uint64_t *tag);
	void (*store)(void *app, struct http_request *req, uint64_t tag);
};

/*
 * Admission: authentication, rate limits and roles, for an application
 * that wants them. `admit` runs on the event loop once the body is complete
 * and a route matched, before the response cache: it returns true to go
 * on, or answers the request itself (401, 403, 429) and returns false; it
 * may add headers and set the request's principal. `enter` and `leave` run
 * on the thread that runs the handler, just before and after it (either
 * may be NULL).
 */
struct http_gate {
	bool (*admit)(void *app, struct http_request *req);
	void (*enter)(void *app, struct http_request *req);
	void (*leave)(void *app, struct http_request *req);
};

struct http_config {
	const char *host;
	unsigned port;              /* 0: any free port (see http_server_port) */
	unsigned threads;           /* event loops; 0: one per CPU */
	unsigned workers;           /* worker pool for offloaded routes; 0: eight per CPU */
	size_t max_body;            /* bytes; larger bodies get 413 */
	unsigned max_connections;   /* across all loops */
	unsigned idle_timeout_s;    /* a connection idle this long is closed */
	unsigned head_timeout_s;    /* a request's line and headers must arrive within this (408) */
	unsigned body_timeout_s;    /* its body within this once the headers are in (408) */
	/*
	 * Bytes of responses held for clients still reading them, across all
	 * connections: an answer larger than 64 KiB that would pass it gets
	 * 503 instead. 0: no bound.
	 */
	size_t response_memory;
	/* Bytes of request bodies still arriving, across connections (503 past it). 0: no bound. */
	size_t body_memory;
	/*
	 * "*" or a comma-separated list of origins; "": no CORS; NULL (not
	 * configured): "*" without credentials, no CORS with them (cors.h).
	 */
	const char *cors_origins;
	/*
	 * Requests carry credentials (authentication is on): CORS allows only
	 * listed origins (an explicit "*" fails http_server_start), answers
	 * them with Access-Control-Allow-Credentials, and preflights allow the
	 * Authorization, Idempotency-Key and If-Match headers.
	 */
	bool credentials;
	/*
	 * Peers whose X-Forwarded-For is believed (http_client_addr): addresses
	 * and CIDR ranges, IPv4 or IPv6, comma-separated; NULL or "": none.
	 * A bad item fails http_server_start.
	 */
	const char *trusted_proxies;
	/*
	 * PEM files of the certificate (chain) and private key: serve HTTPS
	 * only, with Strict-Transport-Security on every answer. Both or neither
	 * (NULL or ""); read once by http_server_start, which fails, naming
	 * the file, when one cannot be read or used.
	 */
	const char *tls_cert_file;
	const char *tls_key_file;
	const struct http_route *routes;
	size_t nroutes;
	void *app;                  /* handed back by http_app() */
	http_observer observe;      /* may be NULL */
	const struct http_cache_hooks *cache; /* may be NULL */
	const struct http_gate *gate;         /* may be NULL: every request is admitted */
};

struct http_server;

/*
 * Binds and starts serving. Returns 0, or -1 with a reason in `why` (the
 * address is in use, the host does not resolve, ...).
 */
int http_server_start(const struct http_config *cfg, struct http_server **out,
		      char *why, size_t whylen);
/* The port actually bound (useful when the configuration asked for 0). */
unsigned http_server_port(const struct http_server *srv);
/* True when the server speaks HTTPS (http_config's tls_cert_file). */
bool http_server_tls(const struct http_server *srv);
/*
 * Stops accepting connections, waits up to `grace_ms` for requests in
 * flight to complete, then closes every connection and frees the server.
 */
void http_server_stop(struct http_server *srv, unsigned grace_ms);

/*
 * True when the entity-tag list `list` (an If-None-Match or If-Match value)
 * names the tag whose opaque part is `tag`: "*", or any of its
 * comma-separated entity tags, compared weakly as RFC 9110 (13.1.2) says
 * (W/"x" matches "x"). Malformed members are skipped.
 */
bool http_etag_listed(const char *list, const char *tag);

/* ---- the request, as handlers see it --------------------------------- */

enum http_method http_method(const struct http_request *req);
const char *http_method_name(const struct http_request *req);
/* The decoded path, without the query string. */
const char *http_path(const struct http_request *req);
/* The matched route, or NULL when none matched. */
const struct http_route *http_matched_route(const struct http_request *req);
/*
 * The route that names the request's endpoint: the matched route, or for a
 * wrong method (405) the first route whose pattern matched the path; NULL
 * for an unknown path.
 */
const struct http_route *http_endpoint_route(const struct http_request *req);

#define HTTP_REQUEST_ID_MAX 64
/*
 * The request's id: the client's X-Request-ID (sanitised: letters, digits
 * and -_.:/+= only, at most HTTP_REQUEST_ID_MAX) or a generated one. It is
 * sent back in the X-Request-ID response header.
 */
const char *http_request_id(const struct http_request *req);
/* The matched route's `data`. */
const void *http_route_data(const struct http_request *req);
/* What the gate admitted the request as (request memory; NULL: not set). */
void http_set_principal(struct http_request *req, void *p);
void *http_principal(const struct http_request *req);
/*
 * On a route with HTTP_ROUTE_CACHE: this answer, even a 200, is not to be
 * stored (a GraphQL mutation, or errors answered 200).
 */
void http_no_store(struct http_request *req);
/* The value of path parameter `i` of the route (in pattern order) and its name. */
const char *http_param(const struct http_request *req, unsigned i, const char **name);
/* The first value of a query-string argument, decoded; NULL when absent. */
const char *http_query(struct http_request *req, const char *key);
/* A request header (case-insensitive name); NULL when absent. */
const char *http_header(struct http_request *req, const char *name);
/*
 * The client's IP address as text (IPv4 dotted, IPv6 in its canonical
 * form; an IPv4 client of a dual-stack socket as IPv4): the peer's, or,
 * when the peer is one of http_config's trusted_proxies, the right-most
 * X-Forwarded-For address that is not itself a trusted proxy (cidr.h says
 * how malformed members are read). Worked out at the first call, kept in
 * the request's arena.
 */
const char *http_client_addr(struct http_request *req);
/* The body received (possibly empty); `len` receives its length. */
const char *http_body(const struct http_request *req, size_t *len);
/* The request's arena: memory that lives until the request completes. */
struct arena *http_arena(struct http_request *req);
void *http_app(const struct http_request *req);

/*
 * Appends the query string's arguments, decoded, in the order the client
 * sent them (repeated ones included), each as its length and bytes so that
 * no two different query strings give the same text: a cache key.
 */
void http_query_key(struct http_request *req, struct buf *out);
/* The response body set by http_respond() (not yet sent) and its type. */
const char *http_response_body(const struct http_request *req, size_t *len);
const char *http_response_type(const struct http_request *req);

/* Response status and size, once http_respond() was called (for observers). */
unsigned http_response_status(const struct http_request *req);
size_t http_response_size(const struct http_request *req);
/* Nanoseconds since the request's headers arrived. */
uint64_t http_elapsed_ns(const struct http_request *req);

/*
 * Adds a response header (both strings are copied). Call before
 * http_respond().
 */
void http_add_header(struct http_request *req, const char *name, const char *value);
/*
 * Sets the response: `body` is taken (left empty) and may be NULL for no
 * body; `content_type` is borrowed and must be static. Call exactly once.
 */
void http_respond(struct http_request *req, unsigned status, struct buf *body,
		  const char *content_type);
/*
 * Like http_respond(), for a body in memory that outlives the response
 * (string literals, the embedded assets): handed to libmicrohttpd without a
 * copy. For a 304, pass the representation the client holds: its length is
 * announced, its bytes are not sent.
 */
void http_respond_static(struct http_request *req, unsigned status, const void *data, size_t len,
			 const char *content_type);

/*
 * A streamed body (chunked transfer encoding): libmicrohttpd asks for more
 * whenever the client has read what it had, from the connection's event
 * loop; `next` appends the next part to `out` (the buffer is emptied
 * between calls) and returns 1 while there is more, 0 once complete
 * (with or without bytes), -1 to give up (the connection is closed: a
 * client sees a truncated body). `done` runs once when the response is
 * freed, whatever happened. Memory: what `next` holds, not the body.
 */
typedef int (*http_stream_next)(void *arg, struct buf *out);
void http_respond_stream(struct http_request *req, unsigned status, const char *content_type,
			 http_stream_next next, void (*done)(void *arg), void *arg);

#endif
