/*
 * export.c: GET /export?format=jsonl, the JSON Lines export of
 * core/transfer.h streamed to admins. The handler opens the export (it
 * reads the categories and counts the insights); the body then comes page
 * by page as the client reads it (http_respond_stream), so memory stays
 * that of one page of insights however many there are.
 */
#include "api/api.h"

#include <string.h>

#include "api/handlers.h"
#include "core/transfer.h"
#include "lib/log.h"
#include "lib/banned.h"

static int export_stream_next(void *arg, struct buf *out)
{
	struct export_cursor *c = arg;
	struct error err = ERROR_INIT;
	bool more;
	if (export_next(c, out, &more, &err)) {
		/* The status is sent: all a client can see is a truncated body. */
		log_error("GET /export stopped after %llu insights: %s",
			  (unsigned long long)export_done(c), err.detail);
		return -1;
	}
	return more ? 1 : 0;
}

static void export_stream_done(void *arg)
{
	export_close(arg);
}

void api_export(struct http_request *req)
{
	struct error err = ERROR_INIT;
	const char *format = http_query(req, "format");
	if (format && strcmp(format, "jsonl")) {
		error_invalid(&err, "format", "literal_error", "Input should be 'jsonl'");
		api_fail_input(req, &err, "query");
		return;
	}
	struct export_cursor *c;
	if (export_open(&api_app(req)->svc, TRANSFER_JSONL, &c, &err)) {
		api_fail(req, &err);
		return;
	}
	http_add_header(req, "Content-Disposition", "attachment; filename=\"insights.jsonl\"");
	http_respond_stream(req, 200, "application/x-ndjson", export_stream_next, export_stream_done,
			    c);
}
