/*
 * graphql.h: the GraphQL data API (Hasura v2's dialect) as one call: a
 * request's query, variables and operation name in, the JSON answer out.
 * The HTTP transport (api/graphql.c) decodes requests and encodes batches;
 * everything between the text of a document and the JSON of its answer
 * happens behind this call: parsing (parser.h), validation (validate.h),
 * planning the reads into core/query.h's form and running them through the
 * service layer, so that REST and GraphQL share every rule.
 */
#ifndef INSIGHTS_GRAPHQL_H
#define INSIGHTS_GRAPHQL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/service.h"
#include "lib/arena.h"
#include "lib/buf.h"

#define GQL_DEFAULT_MAX_DEPTH 12
#define GQL_DEFAULT_MAX_FIELDS 1000
#define GQL_DEFAULT_MAX_LIMIT 1000
/* The deepest selection a configuration may allow (the JSON writer's depth bounds it). */
#define GQL_MAX_DEPTH_CEILING 24

struct gql_config {
	unsigned max_depth;   /* nesting of selection sets */
	unsigned max_fields;  /* fields (aliases included) in a document, fragments counted once */
	int64_t max_limit;    /* the largest `limit`; rows of a list without one */
	/*
	 * Whether the calling thread's actor may run root field `field` of an
	 * operation of type `op` ("query", "mutation"); NULL: everyone may. A
	 * field refused fails the operation with a permission-error.
	 */
	bool (*allowed)(const char *op, const char *field);
};

struct gql_request {
	const char *query;              /* NULL: missing */
	size_t query_len;
	struct json_object *variables;  /* an object, or NULL */
	const char *operation_name;     /* NULL: none */
	bool read_only;                 /* a GET: mutations are refused */
};

enum gql_op_type { GQL_OP_NONE, GQL_OP_QUERY, GQL_OP_MUTATION, GQL_OP_SUBSCRIPTION };

/* What happened, for metrics and the HTTP status. */
struct gql_outcome {
	enum gql_op_type type;   /* the operation run (or that failed); NONE before one was chosen */
	bool ok;                 /* answered with data and no error */
	/*
	 * The HTTP status: 200, also for GraphQL errors, as Hasura answers;
	 * 503 when the database could not answer (the client may retry).
	 */
	int http_status;
};

/*
 * Runs one request and writes its answer, {"data": ...} or {"errors":
 * [...]}, to `out`. Every allocation lives in `a`.
 */
void gql_execute(struct service *svc, const struct gql_config *cfg,
		 const struct gql_request *rq, struct arena *a, struct buf *out,
		 struct gql_outcome *outcome);

/* Writes one error answer (for the transport's own errors: a batch item that is not an object). */
void gql_error_answer(struct buf *out, const char *code, const char *path, const char *message);

const char *gql_op_type_name(enum gql_op_type t);

#endif
