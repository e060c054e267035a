/*
 * api.h: the REST API: its route table, the application the handlers
 * serve, and the helpers every handler uses to read a request and answer.
 *
 * A handler is parse -> service -> encode: it reads path, query and body
 * into domain types (answering 422 on the first layer of problems), calls
 * one use case of core/service.h, and encodes the result with codec.h. It
 * never sees SQL or libmicrohttpd.
 */
#ifndef INSIGHTS_API_H
#define INSIGHTS_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/service.h"
#include "graphql/graphql.h"
#include "http/http.h"
#include "lib/error.h"
#include "lib/jsonw.h"

struct response_cache;
struct api_auth;

struct app {
	struct service svc;
	const char *version;
	struct response_cache *cache; /* NULL: responses are never cached */
	struct gql_config graphql;    /* the GraphQL API's limits */
	struct api_auth *auth;        /* authentication (api/auth.h); NULL: off */
};

/* The response cache's hooks for the HTTP server (see http_cache_hooks). */
extern const struct http_cache_hooks api_cache_hooks;

extern const struct http_route api_routes[];
extern const size_t api_nroutes;

static inline struct app *api_app(struct http_request *req)
{
	return http_app(req);
}

/* ---- answering ------------------------------------------------------ */

/* The one mapping from a status to an HTTP status. */
unsigned api_http_status(enum status s);
/* Answers `err` with its HTTP status and FastAPI-shaped body. */
void api_fail(struct http_request *req, const struct error *err);
/*
 * The same for the problems of an input read from `where` ("body",
 * "query", "path"): their paths, relative to the input, are put under it.
 */
void api_fail_input(struct http_request *req, struct error *err, const char *where);
/* Answers with a JSON body (taken). */
void api_json(struct http_request *req, unsigned status, struct buf *body);
/*
 * Adds X-Insights-Version to the answer of a write the calling thread just
 * made: a client that sends it back as X-Insights-Min-Version on a read,
 * to any instance, is never served a cached answer older than that write.
 */
void api_version_header(struct http_request *req);

/*
 * A response being written: api_begin() starts a JSON writer on a fresh
 * buffer, api_end() sends it.
 */
struct api_out {
	struct buf buf;
	struct jsonw w;
};
void api_begin(struct api_out *o);
void api_end(struct http_request *req, struct api_out *o, unsigned status);

/* ---- conditional requests (revisions.c) ------------------------------------ */

/* Adds ETag: "<version>". */
void api_etag(struct http_request *req, int64_t version);
/* When If-None-Match lists "<version>": answers 304 with the ETag and returns true. */
bool api_not_modified(struct http_request *req, int64_t version);
/*
 * The version a write of row `id` of `table` must find (the use cases'
 * `expected`): 0 without If-Match; the row's version when If-Match lists it;
 * -1 (no version) when it does not. False after answering (404: no row).
 */
bool api_if_match(struct http_request *req, enum q_table table, int64_t id, int64_t *expected);
/*
 * Answers a failed write of row `id` (where: as api_fail_input, or NULL);
 * a 412 carries the row's current ETag.
 */
void api_fail_write(struct http_request *req, enum q_table table, int64_t id,
		    struct error *err, const char *where);

/* ---- reading -------------------------------------------------------- */

/*
 * Path parameter `i` as an integer id. A value that is not an integer is
 * answered 422 (false is returned); any integer is accepted, and one that
 * is not positive simply names no row (404 from the use case).
 */
bool api_path_id(struct http_request *req, unsigned i, int64_t *id);

/*
 * Query parameters: each adds a problem at ["query", key] when the value is
 * present but wrong, and leaves `*out` at `def` when absent.
 */
void api_query_int(struct http_request *req, const char *key, int64_t def, int64_t min,
		   int64_t max, int64_t *out, struct error *err);
void api_query_lifecycle(struct http_request *req, const char *key, int *out, struct error *err);
void api_query_priority(struct http_request *req, const char *key, int *out, struct error *err);
void api_query_str(struct http_request *req, const char *key, const char **out,
		   struct error *err);
/*
 * The same checks on a value already read (`value` NULL: absent): what the
 * functions above do once they have http_query(req, key). Pure, for callers
 * without a request (the fuzz targets, tests/fuzz/).
 */
void api_query_parse_int(const char *key, const char *value, int64_t def, int64_t min,
			 int64_t max, int64_t *out, struct error *err);
void api_query_parse_lifecycle(const char *key, const char *value, int *out, struct error *err);
void api_query_parse_priority(const char *key, const char *value, int *out, struct error *err);
void api_query_parse_str(const char *key, const char *value, const char **out,
			 struct error *err);

/*
 * Parses the request body as a JSON object. On failure answers 422 and
 * returns NULL. The caller owns the result (json_object_put).
 */
json_object *api_body_object(struct http_request *req);
/*
 * What api_body_object does with the body's text, without a request: parses
 * `len` bytes of `text` (followed by a NUL, as http_body's are) as one JSON
 * object under RFC 8259's rules (valid UTF-8, no raw control characters in
 * strings, escaped surrogates in pairs, numbers and literals as its grammar
 * writes them, double quotes only, only whitespace after the value).
 * Returns the object (the caller owns it: json_object_put), or NULL with
 * one problem in `err` at a path relative to the text: [] (empty, not an
 * object) or [offset] (the byte where the text goes wrong).
 */
json_object *api_json_parse(const char *text, size_t len, struct error *err);
/*
 * The same for any JSON value (the GraphQL API's batches are arrays):
 * into *out (the caller owns it; json-c's NULL for a JSON null). Returns
 * false with one problem in `err` at [] (empty) or [offset].
 */
bool api_json_value(const char *text, size_t len, json_object **out, struct error *err);

/* ---- Idempotency-Key (idempotency.c) ----------------------------------- */

/*
 * Reads an Idempotency-Key header's value into `out`: a Structured Field
 * String or a plain run of visible ASCII (see idempotency.c), 1 to
 * IDEM_KEY_MAX bytes once unquoted. False with one problem in `err` at
 * ["header", "idempotency-key"] otherwise. Pure, for the fuzz target.
 */
bool api_idem_key_parse(const char *value, char out[IDEM_KEY_MAX + 1], struct error *err);
/*
 * The request's Idempotency-Key, if any (*keyed), into `out`. False after
 * answering 422 when it is malformed.
 */
bool api_idem_key(struct http_request *req, char out[IDEM_KEY_MAX + 1], bool *keyed);
/*
 * Claims `key` for the request (svc_idem_claim). True when the handler is
 * to write: a batch is then open on the calling thread, and the handler
 * ends with api_idem_commit (its answer encoded) or api_idem_abandon (its
 * write failed). False when the request is answered already: the first
 * answer replayed, 409 (in flight, with Retry-After), 422 (the key names
 * another request) or the failure that kept it from being claimed.
 */
bool api_idem_begin(struct http_request *req, const char *key, struct idem_claim *c);
/*
 * Stores `o` as the answer with status `status` and commits the batch with
 * it. False after answering the failure (`o` released, the claim given
 * back); true when the caller is to send `o`.
 */
bool api_idem_commit(struct http_request *req, struct idem_claim *c, unsigned status,
		     struct api_out *o);
/* Undoes the batch and gives the key back (the write failed). */
void api_idem_abandon(struct http_request *req, struct idem_claim *c);

#endif
