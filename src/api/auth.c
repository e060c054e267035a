/*
 * auth.c: the gate of auth.h: who a request is, whether it may go on, and
 * the actor its handler runs as; the cache of API tokens; the thread that
 * records tokens' last use and prunes the audit trail, deleted insights'
 * revisions and the idempotency keys.
 */
#include "api/auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api.h"
#include "auth/jwt.h"
#include "auth/token.h"
#include "http/ratelimit.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/banned.h"

/* A token read from the database, trusted for AUTH_CACHE_TTL_S (direct-mapped by hash). */
struct cached_token {
	char hash[AUTH_HASH_HEX];
	int64_t id;
	char name[TOKEN_NAME_MAX + 1];
	enum role role;
	char expires_at[TS_SIZE];
	uint64_t fetched_ns;   /* 0: empty slot */
	bool used;             /* since the last flush of last_used_at */
};

#define CACHE_SLOTS 256
/* How often tokens' last use is written, and the audit trail and revisions pruned. */
#define TOUCH_EVERY_S 60
#define PRUNE_EVERY_S 3600

struct api_auth {
	struct api_auth_config cfg;
	struct jwt_verifier *jwt;            /* NULL: JWTs are not accepted */
	struct ratelimit *limit;             /* NULL: no limit */
	struct ratelimit *failures;          /* failed authentications per address */
	pthread_mutex_t lock;                /* the cache */
	struct cached_token cache[CACHE_SLOTS];
	struct app *app;
	pthread_t thread;
	bool running;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stopping;
};

static unsigned slot_of(const char *hash)
{
	unsigned v = 0;
	for (int i = 0; i < 8; i++)
		v = v * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
	return v % CACHE_SLOTS;
}

/*
 * The token `secret` names, from the cache or the database: OK with its
 * name and role in *who, or a failure (E_NOTFOUND: no such token, revoked
 * or expired; E_UNAVAILABLE: the database could not say).
 */
static enum status token_identify(struct app *app, struct arena *a, const char *secret,
				  struct actor *who, struct error *err)
{
	struct api_auth *au = app->auth;
	if (!auth_token_well_formed(secret))
		return error_set(err, E_NOTFOUND, "malformed token");
	char hash[AUTH_HASH_HEX];
	auth_hash_hex(secret, strlen(secret), hash);
	char now[TS_SIZE];
	clock_timestamp(now);
	uint64_t mono = clock_mono_ns();
	unsigned slot = slot_of(hash);
	pthread_mutex_lock(&au->lock);
	struct cached_token *c = &au->cache[slot];
	if (c->fetched_ns && mono - c->fetched_ns < AUTH_CACHE_TTL_S * 1000000000ull &&
	    auth_equal(c->hash, hash, AUTH_HASH_HEX - 1) &&
	    (!c->expires_at[0] || strcmp(c->expires_at, now) > 0)) {
		c->used = true;
		actor_fill(who, c->name, c->role, true, NULL);
		pthread_mutex_unlock(&au->lock);
		return OK;
	}
	pthread_mutex_unlock(&au->lock);

	struct token t;
	enum status rc = svc_token_check(&app->svc, a, secret, now, &t, err);
	if (rc)
		return rc;
	actor_fill(who, t.name, t.role, true, NULL);
	pthread_mutex_lock(&au->lock);
	c = &au->cache[slot];
	memset(c, 0, sizeof(*c));
	memcpy(c->hash, hash, AUTH_HASH_HEX);
	c->id = t.id;
	snprintf(c->name, sizeof(c->name), "%s", t.name);
	c->role = t.role;
	memcpy(c->expires_at, t.expires_at, TS_SIZE);
	c->fetched_ns = mono;
	c->used = true;
	pthread_mutex_unlock(&au->lock);
	return OK;
}

void api_auth_forget(struct app *app)
{
	struct api_auth *au = app->auth;
	if (!au)
		return;
	pthread_mutex_lock(&au->lock);
	memset(au->cache, 0, sizeof(au->cache));
	pthread_mutex_unlock(&au->lock);
}

/* ---- answers ---------------------------------------------------------------------- */

static void answer(struct http_request *req, unsigned status, const char *detail)
{
	struct api_out o;
	api_begin(&o);
	jsonw_object_open(&o.w);
	jsonw_kstr(&o.w, "detail", detail);
	jsonw_object_close(&o.w);
	api_end(req, &o, status);
}

static void log_refusal(struct http_request *req, const char *what, const char *who,
			const char *why)
{
	const char *fields[] = { "event", what, "client", http_client_addr(req),
				 "method", http_method_name(req), "path", http_path(req),
				 "actor", who ? who : "", "reason", why ? why : "",
				 "request_id", http_request_id(req), NULL };
	log_fields(LOG_WARN, what, fields);
}

static void unauthenticated(struct http_request *req)
{
	http_add_header(req, "WWW-Authenticate", "Bearer");
	answer(req, 401, "Not authenticated");
}

/* Takes a token from `rl` for `key`: false when refused (answered 429). */
static bool within(struct http_request *req, struct ratelimit *rl, const char *name,
		   const char *key)
{
	if (!rl)
		return true;
	struct ratelimit_verdict v;
	ratelimit_take(rl, key, clock_mono_ns(), &v);
	struct ratelimit_policy p = ratelimit_policy(rl);
	ratelimit_add_headers(req, &p, name, &v);
	if (v.allowed)
		return true;
	answer(req, 429, "Too many requests");
	return false;
}

/* ---- the gate --------------------------------------------------------------------- */

/* The credential of `Authorization: Bearer <credential>`, or NULL. */
static const char *bearer(struct http_request *req)
{
	const char *h = http_header(req, "Authorization");
	if (!h)
		return NULL;
	while (*h == ' ')
		h++;
	if (strncasecmp(h, "Bearer", 6) || (h[6] != ' ' && h[6] != '\t'))
		return "";
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	return h;
}

/* Who `credential` is: OK, or a failure with a reason for the log. */
static enum status identify(struct app *app, struct http_request *req, const char *credential,
			    struct actor *who, struct error *err)
{
	struct api_auth *au = app->auth;
	if (!strncmp(credential, AUTH_TOKEN_PREFIX, strlen(AUTH_TOKEN_PREFIX)))
		return token_identify(app, http_arena(req), credential, who, err);
	if (au->jwt && jwt_looks_like(credential)) {
		struct jwt_identity id;
		enum status rc = jwt_verify(au->jwt, credential, (int64_t)time(NULL), &id, err);
		if (rc)
			return rc;
		enum role role;
		if (role_parse(id.role, &role))
			role = ROLE_NONE; /* a valid credential whose role allows nothing: 403 */
		actor_fill(who, id.name[0] ? id.name : "jwt", role, true, NULL);
		return OK;
	}
	return error_set(err, E_NOTFOUND, "not a credential this server accepts");
}

static bool gate_admit(void *appv, struct http_request *req)
{
	struct app *app = appv;
	struct api_auth *au = app->auth;
	struct actor *who = ARENA_NEW(http_arena(req), struct actor);
	http_set_principal(req, who);
	if (!au || !au->cfg.on) {
		actor_fill(who, "anonymous", ROLE_ANONYMOUS, false, http_request_id(req));
		return true;
	}
	enum access need = api_route_access(http_matched_route(req), http_method(req));
	if (need == ACCESS_METRICS && au->cfg.metrics_public)
		need = ACCESS_OPEN;
	const char *addr = http_client_addr(req);
	char key[160];
	if (need == ACCESS_OPEN) {
		/* Probes and documentation: no credential looked at, none needed. */
		actor_fill(who, "anonymous", ROLE_NONE, false, http_request_id(req));
		if (!strcmp(http_path(req), "/health"))
			return true;
		snprintf(key, sizeof(key), "a:%s", addr);
		return within(req, au->limit, "default", key);
	}
	const char *credential = bearer(req);
	if (!credential) {
		/* No attempt to authenticate: limited as anonymous, not as a failure. */
		snprintf(key, sizeof(key), "a:%s", addr);
		if (within(req, au->limit, "default", key))
			unauthenticated(req);
		return false;
	}
	struct error err = ERROR_INIT;
	enum status rc = *credential ? identify(app, req, credential, who, &err)
				     : error_set(&err, E_NOTFOUND, "not a Bearer credential");
	if (rc == E_UNAVAILABLE) {
		api_fail(req, &err);
		return false;
	}
	if (rc) {
		log_refusal(req, "authentication failed", NULL, err.detail);
		snprintf(key, sizeof(key), "f:%s", addr);
		if (within(req, au->failures, "auth-failures", key))
			unauthenticated(req);
		return false;
	}
	who->request_id = http_request_id(req);
	snprintf(key, sizeof(key), "c:%s", who->name);
	if (!within(req, au->limit, "default", key))
		return false;
	if (!role_allows(who->role, need)) {
		log_refusal(req, "permission denied", who->name, access_name(need));
		answer(req, 403, "Not enough permissions");
		return false;
	}
	return true;
}

static void gate_enter(void *app, struct http_request *req)
{
	(void)app;
	actor_set(http_principal(req));
}

static void gate_leave(void *app, struct http_request *req)
{
	(void)app;
	(void)req;
	actor_set(NULL);
}

const struct http_gate api_gate = { gate_admit, gate_enter, gate_leave };

bool api_graphql_allowed(const char *op, const char *field)
{
	return role_allows(actor_current()->role, api_field_access(op, field));
}

const struct actor *api_actor(struct http_request *req)
{
	const struct actor *who = http_principal(req);
	return who ? who : actor_current();
}

/* ---- upkeep ----------------------------------------------------------------------- */

/* Writes last_used_at of the tokens used since the last call. */
static void touch_used(struct api_auth *au)
{
	int64_t ids[CACHE_SLOTS];
	size_t n = 0;
	pthread_mutex_lock(&au->lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		if (au->cache[i].fetched_ns && au->cache[i].used) {
			ids[n++] = au->cache[i].id;
			au->cache[i].used = false;
		}
	}
	pthread_mutex_unlock(&au->lock);
	if (!n)
		return;
	char now[TS_SIZE];
	clock_timestamp(now);
	struct error err = ERROR_INIT;
	if (svc_token_touch(&au->app->svc, ids, n, now, &err))
		log_warn("could not record tokens' last use: %s", err.detail);
}

static void prune_audit(struct api_auth *au)
{
	if (!au->cfg.audit_retention_days)
		return;
	char before[TS_SIZE];
	clock_format(time(NULL) - (time_t)au->cfg.audit_retention_days * 86400, before);
	struct error err = ERROR_INIT;
	int64_t deleted = 0;
	if (svc_audit_prune(&au->app->svc, before, &deleted, &err))
		log_warn("could not prune the audit trail: %s", err.detail);
	else if (deleted)
		log_info("pruned %lld audit entries older than %s", (long long)deleted, before);
}

/* Forgets the revisions of insights deleted longer ago than the retention. */
static void prune_revisions(struct api_auth *au)
{
	if (!au->cfg.revision_retention_days)
		return;
	char before[TS_SIZE];
	clock_format(time(NULL) - (time_t)au->cfg.revision_retention_days * 86400, before);
	struct error err = ERROR_INIT;
	int64_t deleted = 0;
	if (svc_revision_prune(&au->app->svc, before, &deleted, &err))
		log_warn("could not prune deleted insights' revisions: %s", err.detail);
	else if (deleted)
		log_info("pruned %lld revisions of insights deleted before %s", (long long)deleted,
			 before);
}

/* Deletes idempotency keys too old to replay (svc_idem_prune). */
static void prune_idempotency(struct api_auth *au)
{
	struct error err = ERROR_INIT;
	int64_t deleted = 0;
	if (svc_idem_prune(&au->app->svc, &deleted, &err))
		log_warn("could not prune idempotency keys: %s", err.detail);
	else if (deleted)
		log_debug("pruned %lld idempotency keys", (long long)deleted);
}

#define NS_PER_S 1000000000ull

static void *upkeep_main(void *arg)
{
	struct api_auth *au = arg;
	/* Keys are pruned as often as they expire, at most hourly. */
	int64_t ttl = au->app->svc.idem_ttl_s;
	uint64_t keys_every = (uint64_t)(ttl > 0 && ttl < PRUNE_EVERY_S ? ttl : PRUNE_EVERY_S) * NS_PER_S;
	uint64_t start = clock_mono_ns();
	uint64_t next_touch = start + TOUCH_EVERY_S * NS_PER_S, next_prune = next_touch;
	uint64_t next_keys = start + keys_every;
	pthread_mutex_lock(&au->stop_lock);
	while (!au->stopping) {
		uint64_t wake = next_touch < next_keys ? next_touch : next_keys;
		uint64_t mono = clock_mono_ns();
		uint64_t wait = wake > mono ? wake - mono : 0;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)(wait / NS_PER_S);
		until.tv_nsec += (long)(wait % NS_PER_S);
		if (until.tv_nsec >= (long)NS_PER_S) {
			until.tv_sec++;
			until.tv_nsec -= (long)NS_PER_S;
		}
		pthread_cond_timedwait(&au->stop_cond, &au->stop_lock, &until);
		bool stop = au->stopping;
		pthread_mutex_unlock(&au->stop_lock);
		uint64_t now = clock_mono_ns();
		if (stop || now >= next_touch) {
			touch_used(au);
			next_touch = now + TOUCH_EVERY_S * NS_PER_S;
		}
		if (!stop && now >= next_prune) {
			prune_audit(au);
			prune_revisions(au);
			next_prune = now + PRUNE_EVERY_S * NS_PER_S;
		}
		if (!stop && now >= next_keys) {
			prune_idempotency(au);
			next_keys = now + keys_every;
		}
		pthread_mutex_lock(&au->stop_lock);
	}
	pthread_mutex_unlock(&au->stop_lock);
	return NULL;
}

static struct ratelimit *limiter(const char *rate, double burst, const char *what, char *why,
				 size_t whylen, bool *bad)
{
	double per_s = 0;
	if (!rate || !*rate || !strcmp(rate, "0"))
		return NULL;
	if (ratelimit_parse_rate(rate, &per_s) || per_s <= 0) {
		snprintf(why, whylen, "%s: '%s' is not a rate such as 50/s or 10/m", what, rate);
		*bad = true;
		return NULL;
	}
	/* Without a burst, the count of the rate's own window: 10/m lets 10 through at once. */
	if (burst < 1)
		burst = strtod(rate, NULL);
	if (burst < 1)
		burst = 1;
	return ratelimit_new((struct ratelimit_policy){ .rate = per_s, .burst = burst },
			     RATELIMIT_DEFAULT_KEYS);
}

int api_auth_start(struct app *app, const struct api_auth_config *cfg, char *why, size_t whylen)
{
	struct api_auth *au = calloc(1, sizeof(*au));
	if (!au) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	au->cfg = *cfg;
	au->app = app;
	pthread_mutex_init(&au->lock, NULL);
	pthread_mutex_init(&au->stop_lock, NULL);
	pthread_cond_init(&au->stop_cond, NULL);
	app->auth = au;
	bool bad = false;
	if (cfg->on) {
		au->limit = limiter(cfg->rate_limit, cfg->rate_burst, "--rate-limit", why, whylen, &bad);
		if (!bad)
			au->failures = limiter(cfg->fail_limit, 0, "--auth-fail-limit", why, whylen, &bad);
	}
	if (!bad && (cfg->jwt_secret_file || cfg->jwt_jwks_file || cfg->jwt_public_key_file)) {
		struct jwt_config jc = {
			.secret_file = cfg->jwt_secret_file,
			.jwks_file = cfg->jwt_jwks_file,
			.public_key_file = cfg->jwt_public_key_file,
			.issuer = cfg->jwt_issuer,
			.audience = cfg->jwt_audience,
			.role_claim = cfg->jwt_role_claim,
			.name_claim = cfg->jwt_name_claim,
			.skew_s = JWT_SKEW_DEFAULT,
		};
		struct error err = ERROR_INIT;
		if (jwt_verifier_new(&jc, &au->jwt, &err)) {
			snprintf(why, whylen, "JWT: %s", err.detail);
			bad = true;
		}
	}
	if (bad) {
		api_auth_stop(app);
		return -1;
	}
	au->running = pthread_create(&au->thread, NULL, upkeep_main, au) == 0;
	return 0;
}

void api_auth_stop(struct app *app)
{
	struct api_auth *au = app->auth;
	if (!au)
		return;
	if (au->running) {
		pthread_mutex_lock(&au->stop_lock);
		au->stopping = true;
		pthread_cond_signal(&au->stop_cond);
		pthread_mutex_unlock(&au->stop_lock);
		pthread_join(au->thread, NULL);
	}
	jwt_verifier_free(au->jwt);
	ratelimit_free(au->limit);
	ratelimit_free(au->failures);
	pthread_mutex_destroy(&au->lock);
	pthread_mutex_destroy(&au->stop_lock);
	pthread_cond_destroy(&au->stop_cond);
	free(au);
	app->auth = NULL;
}
