/*
 * idempotency.h: the record of a request sent with an Idempotency-Key
 * (draft-ietf-httpapi-idempotency-key-header): what the store keeps so that
 * a retry is answered with the first answer instead of writing again.
 *
 * A row is keyed by (actor, key): keys are scoped to whoever sent them. It
 * is first a claim (status 0, no body), committed on its own so that other
 * requests with the key see that one is in flight; the write it stands for
 * then stores its answer on the row whose token is its claimer's, in the
 * write's own transaction (svc_idem_finish). The rules (lifetimes, what
 * counts as the same request) are core/service.c's.
 */
#ifndef INSIGHTS_IDEMPOTENCY_H
#define INSIGHTS_IDEMPOTENCY_H

#include <stddef.h>
#include <stdint.h>

/* The longest key accepted, in bytes (the draft sets none; common practice is 255). */
#define IDEM_KEY_MAX 255
/* A claim's token: 32 hex digits (128 random bits) and a NUL. */
#define IDEM_TOKEN_SIZE 33

struct idem_row {
	const char *actor;
	const char *key;
	const char *target;       /* "POST /insights": what the key was first used for */
	const char *fingerprint;  /* SHA-256 hex of the rest of the request (query, body) */
	const char *token;        /* the claimer's */
	int64_t created_at;       /* Unix seconds, when it was claimed */
	int status;               /* the answer's HTTP status; 0: still in flight */
	const char *body;         /* the answer's body (JSON); NULL while in flight */
	size_t body_len;
};

#endif
