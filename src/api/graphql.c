/*
 * graphql.c: the GraphQL API's HTTP transport, at Hasura's path
 * /v1/graphql and its alias /graphql. A POST carries {"query",
 * "variables", "operationName"} as JSON, or an array of them (a batch,
 * answered with an array); a GET carries the same three as query
 * parameters, for queries only. Everything else is graphql/graphql.h's.
 *
 * Transport errors get HTTP statuses (400 for a body that is not a GraphQL
 * request, 405 for a mutation by GET, 413 for a body too large, 415 for a
 * body that is not JSON); GraphQL errors are answered 200, as Hasura
 * answers them, with 503 when the database could not answer.
 *
 * The response cache (api/cache.c) keeps the answers of queries that
 * succeeded, one request at a time, under the same rules as the REST
 * reads' (a data version, read before the query ran); mutations, errors
 * and batches are never stored (http_no_store).
 */
#include "api/api.h"

#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "api/handlers.h"
#include "metrics/metrics.h"
#include "lib/banned.h"

/* The most requests in one batch. */
#define BATCH_MAX 100

/* graphql_operations_total{type, status}. */
static atomic_uint_fast64_t operations[4][2];

void api_graphql_metrics(struct buf *out)
{
	metrics_family(out, "graphql_operations_total", "counter",
		       "GraphQL operations run, by type (none: the request failed before one was "
		       "chosen) and status.");
	static const enum gql_op_type types[] = { GQL_OP_QUERY, GQL_OP_MUTATION, GQL_OP_SUBSCRIPTION,
						  GQL_OP_NONE };
	for (size_t t = 0; t < 4; t++)
		for (int ok = 1; ok >= 0; ok--) {
			char labels[64];
			snprintf(labels, sizeof(labels), "type=\"%s\",status=\"%s\"",
				 gql_op_type_name(types[t]), ok ? "ok" : "error");
			metrics_sample(out, "graphql_operations_total", labels,
				       (double)atomic_load(&operations[types[t]][ok]));
		}
}

/* Whether an operation's answer may be cached: a query answered with data and no error. */
static bool storable(const struct gql_outcome *o)
{
	return o->type == GQL_OP_QUERY && o->ok;
}

/* Answers a transport error: {"errors": [...]} with an HTTP status. */
static void transport_error(struct http_request *req, unsigned status, const char *code,
			    const char *message)
{
	struct buf out = BUF_INIT;
	gql_error_answer(&out, code, "$", message);
	atomic_fetch_add(&operations[GQL_OP_NONE][0], 1);
	api_json(req, status, &out);
}

/*
 * Runs one request object (or answers why it is not one) into `out`;
 * returns its HTTP status. *stored: whether the answer may be cached
 * (storable).
 */
static int run_one(struct http_request *req, json_object *o, bool read_only, struct buf *out,
		   bool *stored)
{
	*stored = false;
	struct app *app = api_app(req);
	if (!o || !json_object_is_type(o, json_type_object)) {
		gql_error_answer(out, "bad-request", "$",
				 "a GraphQL request is an object with \"query\", \"variables\" and "
				 "\"operationName\"");
		atomic_fetch_add(&operations[GQL_OP_NONE][0], 1);
		return 400;
	}
	struct gql_request rq = { .read_only = read_only };
	json_object *q, *v, *n;
	const char *bad = NULL;
	if (!json_object_object_get_ex(o, "query", &q) || !json_object_is_type(q, json_type_string))
		bad = "the request has no \"query\" string";
	else if (json_object_object_get_ex(o, "variables", &v) && v &&
		 !json_object_is_type(v, json_type_object))
		bad = "\"variables\" must be an object";
	else if (json_object_object_get_ex(o, "operationName", &n) && n &&
		 !json_object_is_type(n, json_type_string))
		bad = "\"operationName\" must be a string";
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		if (!bad && strcmp(key, "query") && strcmp(key, "variables") &&
		    strcmp(key, "operationName") && strcmp(key, "extensions"))
			bad = "a GraphQL request has only \"query\", \"variables\", \"operationName\" "
			      "and \"extensions\"";
	}
	if (bad) {
		gql_error_answer(out, "bad-request", "$", bad);
		atomic_fetch_add(&operations[GQL_OP_NONE][0], 1);
		return 400;
	}
	rq.query = json_object_get_string(q);
	rq.query_len = (size_t)json_object_get_string_len(q);
	if (json_object_object_get_ex(o, "variables", &v) && v)
		rq.variables = v;
	if (json_object_object_get_ex(o, "operationName", &n) && n)
		rq.operation_name = json_object_get_string(n);
	struct gql_outcome outcome;
	gql_execute(&app->svc, &app->graphql, &rq, http_arena(req), out, &outcome);
	atomic_fetch_add(&operations[outcome.type][outcome.ok], 1);
	*stored = storable(&outcome);
	return outcome.http_status;
}

/* Whether the Content-Type says JSON (or says nothing). */
static bool json_content(struct http_request *req)
{
	const char *ct = http_header(req, "Content-Type");
	if (!ct)
		return true;
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return (n == 16 && !strncasecmp(ct, "application/json", 16)) ||
	       (n == 29 && !strncasecmp(ct, "application/graphql-response+json", 29));
}

static void post(struct http_request *req)
{
	if (!json_content(req)) {
		transport_error(req, 415, "invalid-headers",
				"the body must be JSON: send Content-Type: application/json");
		return;
	}
	size_t len;
	const char *body = http_body(req, &len);
	struct error err = ERROR_INIT;
	json_object *doc;
	if (!api_json_value(body, len, &doc, &err)) {
		transport_error(req, 400, "invalid-json",
				err.nproblems ? err.problems[0].msg : "the body is not JSON");
		return;
	}
	struct buf out = BUF_INIT;
	int status = 200;
	bool stored = false;
	if (json_object_is_type(doc, json_type_array)) {
		size_t n = json_object_array_length(doc);
		if (!n || n > BATCH_MAX) {
			json_object_put(doc);
			transport_error(req, 400, "bad-request",
					n ? "a batch holds at most 100 requests" : "the batch is empty");
			return;
		}
		buf_addch(&out, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addch(&out, ',');
			bool one;
			int s = run_one(req, json_object_array_get_idx(doc, i), false, &out, &one);
			/* One answer for the batch: the database's unavailability wins. */
			if (s == 503 || (s != 200 && status == 200))
				status = s == 400 ? 200 : s;
		}
		buf_addch(&out, ']');
	} else {
		status = run_one(req, doc, false, &out, &stored);
	}
	json_object_put(doc);
	if (!stored)
		http_no_store(req);
	if (status == 503)
		http_add_header(req, "Retry-After", "1");
	api_json(req, (unsigned)status, &out);
}

static void get(struct http_request *req)
{
	const char *query = http_query(req, "query");
	const char *vars = http_query(req, "variables");
	const char *name = http_query(req, "operationName");
	if (!query) {
		transport_error(req, 400, "bad-request", "the request has no \"query\" parameter");
		return;
	}
	json_object *v = NULL;
	if (vars && *vars) {
		struct error err = ERROR_INIT;
		if (!api_json_value(vars, strlen(vars), &v, &err) || !v ||
		    !json_object_is_type(v, json_type_object)) {
			json_object_put(v);
			transport_error(req, 400, "invalid-json",
					"the \"variables\" parameter must be a JSON object");
			return;
		}
	}
	struct app *app = api_app(req);
	struct gql_request rq = { .query = query, .query_len = strlen(query), .variables = v,
				  .operation_name = name && *name ? name : NULL, .read_only = true };
	struct gql_outcome outcome;
	struct buf out = BUF_INIT;
	gql_execute(&app->svc, &app->graphql, &rq, http_arena(req), &out, &outcome);
	atomic_fetch_add(&operations[outcome.type][outcome.ok], 1);
	if (!storable(&outcome))
		http_no_store(req);
	json_object_put(v);
	if (outcome.http_status == 405)
		http_add_header(req, "Allow", "POST");
	if (outcome.http_status == 503)
		http_add_header(req, "Retry-After", "1");
	api_json(req, (unsigned)outcome.http_status, &out);
}

void api_graphql(struct http_request *req)
{
	if (http_method(req) == HTTP_GET)
		get(req);
	else
		post(req);
}
