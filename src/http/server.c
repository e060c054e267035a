/*
 * server.c: the HTTP server of http.h on libmicrohttpd.
 *
 * A request's life, as libmicrohttpd calls the access handler:
 *  1. First call, headers only: the request object is created, the route is
 *     matched and a declared Content-Length over the limit is answered 413
 *     at once (the body is never read). Nothing else is queued on this call:
 *     a response queued here would make libmicrohttpd close the connection,
 *     losing keep-alive.
 *  2. Calls with upload data: the body is appended, up to the limit (a
 *     chunked body that grows past it is answered 413).
 *  3. The final call: the handler runs, or, for an offloaded route, the
 *     connection is suspended and the request queued for the worker pool;
 *     the worker resumes the connection when the response is ready and the
 *     next call queues it.
 *  4. The completion callback observes and frees the request.
 *
 * Response memory: the body buffer is detached from the request and handed
 * to libmicrohttpd with free() as its release callback
 * (MHD_create_response_from_buffer_with_free_callback), so it is freed when
 * libmicrohttpd has sent it, not copied.
 *
 * Hostile clients: libmicrohttpd closes a connection that stays idle, but
 * its timeout starts over at every byte. Every connection therefore has a
 * record (struct conn_state) that a thread of the server, the guard, walks
 * four times a second: a request whose line and headers take longer than
 * head_timeout is answered 408 and closed; a body that takes longer than
 * body_timeout gets 408 at its next byte. What is held for clients is
 * bounded across connections: bodies still arriving (body_memory) and
 * answers still being read (response_memory), both answered 503 beyond.
 * What libmicrohttpd lets through and a proxy might read differently is
 * refused at the first call with a 400: a NUL (%00) in the path or query,
 * two different Content-Length headers, a Transfer-Encoding other than
 * chunked, an HTTP/1.1 request without Host. (A Content-Length that is not
 * a number never reaches us: libmicrohttpd 0.9.75 answers it 400 itself,
 * sending its response head twice, and closes the connection.)
 *
 * TLS: with a certificate and key, every daemon serves HTTPS through
 * libmicrohttpd's GnuTLS, all with the same credentials, and every answer
 * carries Strict-Transport-Security. The answers written straight to a
 * socket (408 and 503 above, 413 and 503 mid-body) would be plain text in
 * a TLS stream: over TLS the connection is only shut down.
 */
#include "http/http.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <malloc.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/cidr.h"
#include "http/cors.h"
#include "http/router.h"
#include "lib/clock.h"
#include "lib/cpus.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "lib/banned.h"

#define MAX_DAEMONS 64
#define QUEUE_MAX 4096
/* Bytes of an oversized chunked body read and dropped before hanging up. */
#define DISCARD_MAX (8u << 20)
/* Responses up to this size are never refused for the response memory bound. */
#define RESPONSE_SMALL (64u << 10)
/* How often the guard walks the connections. */
#define GUARD_EVERY_MS 250
/* After a peak of held memory above this, freed memory goes back to the system. */
#define TRIM_AFTER_PEAK (8u << 20)

enum req_state {
	REQ_RECEIVING, /* headers or body arriving */
	REQ_OFFLOADED, /* suspended, queued for or running on a worker */
	REQ_QUEUED,    /* the response is with libmicrohttpd */
};

struct header {
	const char *name;
	const char *value;
	struct header *next;
};

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	enum http_method method;
	const char *method_name;
	const char *path;
	const struct http_route *route;
	const struct http_route *path_route; /* first route whose pattern matched */
	char request_id[HTTP_REQUEST_ID_MAX + 1];
	const char *params[HTTP_MAX_PARAMS];
	const char *param_names[HTTP_MAX_PARAMS];
	unsigned allow; /* methods of the routes whose pattern matched */
	struct buf body;
	struct arena arena;
	enum req_state state;
	bool too_large;      /* the body passed the limit: being dropped */
	size_t discarded;    /* bytes of body dropped */
	bool responded;
	unsigned status;
	size_t resp_size;
	struct buf resp;
	const char *content_type;
	const void *static_body; /* http_respond_static(): borrowed, never freed */
	struct http_stream *stream; /* http_respond_stream(): handed to libmicrohttpd */
	size_t static_len;
	struct header *headers;
	uint64_t start_ns;
	bool cache_miss;     /* looked up in the cache and missed: store the answer */
	bool no_store;       /* http_no_store(): the handler says this answer is not for the cache */
	void *principal;     /* who the gate admitted (http_set_principal) */
	uint64_t cache_tag;
	uint64_t body_deadline_ns;
	size_t body_held;    /* bytes of body counted in the server's body_bytes */
	size_t resp_held;    /* bytes of response counted in resp_bytes */
	const char *client_addr; /* http_client_addr(), once asked */
	struct http_request *next_job;
};

/*
 * What the guard knows of a connection (see the header comment). Fields
 * other than `prev`/`next` and `fd` change under the server's conns_lock.
 */
struct conn_state {
	MHD_socket fd;
	uint64_t waiting_since;  /* accepted, or its last request completed */
	uint64_t request_since;  /* the current request's line arrived; 0: none yet */
	bool head_done;          /* the access handler has seen its headers */
	bool saw_nul;            /* a %00 in the path or query of the current request */
	bool closed;             /* the guard answered 408 and shut it down */
	bool tls;                /* nothing may be written to the socket but TLS records */
	struct conn_state *prev, *next;
};

struct http_server {
	struct http_config cfg;
	struct MHD_Daemon *daemons[MAX_DAEMONS];
	MHD_socket quiesced[MAX_DAEMONS];
	unsigned ndaemons;
	unsigned port;
	atomic_int inflight;

	struct http_cors cors;
	struct cidr_list trusted;  /* proxies whose X-Forwarded-For is believed */
	bool tls;
	char *tls_cert, *tls_key;  /* PEM, kept while the daemons live */

	pthread_t *workers;
	unsigned nworkers;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct http_request *qhead, *qtail;
	size_t qlen;
	bool stopping;

	/* Connections and their guard. */
	pthread_mutex_t conns_lock;
	struct conn_state *conns;
	unsigned nconns;             /* open, under conns_lock */
	pthread_t guard;
	bool guard_running;
	atomic_bool guard_stop;
	/* Memory held for clients (see http_config), and its peak since the last trim. */
	atomic_size_t body_bytes;
	atomic_size_t resp_bytes;
	atomic_size_t peak_bytes;
};

/* ---- request accessors ---------------------------------------------- */

enum http_method http_method(const struct http_request *req) { return req->method; }
const char *http_method_name(const struct http_request *req) { return req->method_name; }
const char *http_path(const struct http_request *req) { return req->path; }
const struct http_route *http_matched_route(const struct http_request *req) { return req->route; }
const struct http_route *http_endpoint_route(const struct http_request *req) { return req->path_route; }
const char *http_request_id(const struct http_request *req) { return req->request_id; }
const void *http_route_data(const struct http_request *req) { return req->route ? req->route->data : NULL; }
void http_set_principal(struct http_request *req, void *p) { req->principal = p; }
void *http_principal(const struct http_request *req) { return req->principal; }
void http_no_store(struct http_request *req) { req->no_store = true; }
struct arena *http_arena(struct http_request *req) { return &req->arena; }
void *http_app(const struct http_request *req) { return req->srv->cfg.app; }
unsigned http_response_status(const struct http_request *req) { return req->status; }
size_t http_response_size(const struct http_request *req) { return req->resp_size; }

uint64_t http_elapsed_ns(const struct http_request *req)
{
	return clock_mono_ns() - req->start_ns;
}

const char *http_param(const struct http_request *req, unsigned i, const char **name)
{
	if (i >= HTTP_MAX_PARAMS || !req->params[i])
		return NULL;
	if (name)
		*name = req->param_names[i];
	return req->params[i];
}

const char *http_query(struct http_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Joins every X-Forwarded-For field of the request, in order, with commas. */
static enum MHD_Result add_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	(void)kind;
	struct buf *b = cls;
	if (value && !strcasecmp(key, "X-Forwarded-For"))
		buf_addf(b, "%s%s", b->len ? "," : "", value);
	return MHD_YES;
}

const char *http_client_addr(struct http_request *req)
{
	if (req->client_addr)
		return req->client_addr;
	char peer[CIDR_ADDR_TEXT] = "unknown";
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, peer,
			  sizeof(peer));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, peer,
			  sizeof(peer));
	struct buf xff = BUF_INIT;
	if (req->srv->trusted.n) /* whether the peer is one, cidr_client_addr() decides */
		MHD_get_connection_values(req->conn, MHD_HEADER_KIND, add_forwarded, &xff);
	char out[CIDR_ADDR_TEXT];
	cidr_client_addr(&req->srv->trusted, peer, xff.len ? xff.data : NULL, out);
	buf_release(&xff);
	req->client_addr = arena_strdup(&req->arena, out);
	return req->client_addr;
}

/* One argument as "k<len>:<key>" then "v<len>:<value>", or "n" without a value. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	struct buf *out = cls;
	buf_addf(out, "k%zu:", key_size);
	buf_add(out, key, key_size);
	if (value) {
		buf_addf(out, "v%zu:", value_size);
		buf_add(out, value, value_size);
	} else {
		buf_addch(out, 'n');
	}
	return MHD_YES;
}

void http_query_key(struct http_request *req, struct buf *out)
{
	MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, add_arg, out);
}

const char *http_response_body(const struct http_request *req, size_t *len)
{
	if (req->static_body) {
		*len = req->static_len;
		return req->static_body;
	}
	*len = req->resp.len;
	return buf_cstr(&req->resp);
}

const char *http_response_type(const struct http_request *req)
{
	return req->content_type;
}

const char *http_body(const struct http_request *req, size_t *len)
{
	*len = req->body.len;
	return buf_cstr(&req->body);
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
	struct header *h = ARENA_NEW(&req->arena, struct header);
	h->name = arena_strdup(&req->arena, name);
	h->value = arena_strdup(&req->arena, value);
	h->next = req->headers;
	req->headers = h;
}

void http_respond(struct http_request *req, unsigned status, struct buf *body,
		  const char *content_type)
{
	assert(!req->responded);
	req->responded = true;
	req->status = status;
	req->content_type = content_type;
	if (body) {
		req->resp = *body;
		*body = (struct buf)BUF_INIT;
	}
	req->resp_size = req->resp.len;
}

void http_respond_static(struct http_request *req, unsigned status, const void *data, size_t len,
			 const char *content_type)
{
	http_respond(req, status, NULL, content_type);
	req->static_body = data;
	req->static_len = len;
	req->resp_size = status == 304 ? 0 : len;
}

/* A streamed response's state, owned by libmicrohttpd once queued. */
struct http_stream {
	http_stream_next next;
	void (*done)(void *arg);
	void *arg;
	struct buf pending;
	size_t sent;         /* bytes of `pending` already handed over */
	bool finished;       /* `next` said there is no more */
};

void http_respond_stream(struct http_request *req, unsigned status, const char *content_type,
			 http_stream_next next, void (*done)(void *arg), void *arg)
{
	http_respond(req, status, NULL, content_type);
	struct http_stream *s = xcalloc(1, sizeof(*s));
	s->next = next;
	s->done = done;
	s->arg = arg;
	req->stream = s;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct http_stream *s = cls;
	while (s->sent == s->pending.len) {
		if (s->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		buf_reset(&s->pending);
		s->sent = 0;
		int more = s->next(s->arg, &s->pending);
		if (more < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (more == 0)
			s->finished = true;
	}
	size_t n = s->pending.len - s->sent;
	if (n > max)
		n = max;
	memcpy(out, s->pending.data + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct http_stream *s = cls;
	if (s->done)
		s->done(s->arg);
	buf_release(&s->pending);
	free(s);
}

/* Answers {"detail": "..."}, the shape of every error the API sends. */
static void respond_detail(struct http_request *req, unsigned status, const char *detail)
{
	struct buf b = BUF_INIT;
	struct jsonw w;
	jsonw_init(&w, &b);
	jsonw_object_open(&w);
	jsonw_kstr(&w, "detail", detail);
	jsonw_object_close(&w);
	http_respond(req, status, &b, "application/json");
}

/* ---- routing -------------------------------------------------------- */

/* Finds the request's route (router.c) and keeps what it found. */
static void route(struct http_request *req)
{
	const struct http_config *cfg = &req->srv->cfg;
	struct http_match m;
	http_route_find(cfg->routes, cfg->nroutes, req->method, req->path, &req->arena, &m);
	req->route = m.route;
	req->path_route = m.path_route;
	req->allow = m.allow;
	memcpy(req->params, m.params, sizeof(req->params));
	memcpy(req->param_names, m.param_names, sizeof(req->param_names));
}

static void allow_header(struct http_request *req, unsigned methods)
{
	static const struct {
		enum http_method m;
		const char *name;
	} names[] = { { HTTP_GET, "GET" }, { HTTP_POST, "POST" }, { HTTP_PUT, "PUT" },
		      { HTTP_DELETE, "DELETE" }, { HTTP_PATCH, "PATCH" } };
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (methods & names[i].m)
			buf_addf(&b, "%s%s", b.len ? ", " : "", names[i].name);
	if (methods & HTTP_GET)
		buf_adds(&b, ", HEAD");
	buf_adds(&b, ", OPTIONS");
	http_add_header(req, "Allow", b.data);
	buf_release(&b);
}

/* ---- CORS ----------------------------------------------------------- */

static const char *allowed_origin(struct http_request *req)
{
	return http_cors_origin_allowed(&req->srv->cors, http_header(req, "Origin"));
}

/* Answers a CORS preflight request. */
static void preflight(struct http_request *req)
{
	const char *origin = allowed_origin(req);
	if (!origin) {
		respond_detail(req, 400, "Disallowed CORS origin");
		return;
	}
	http_add_header(req, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
	const char *asked = http_header(req, "Access-Control-Request-Headers");
	/* With credentials, the headers the API reads, not whatever a page asks for. */
	http_add_header(req, "Access-Control-Allow-Headers",
			asked && !req->srv->cors.credentials
				? asked
				: "Content-Type, Authorization, X-Request-ID, Idempotency-Key, If-Match, "
				  "If-None-Match");
	http_add_header(req, "Access-Control-Max-Age", "600");
	http_respond(req, 204, NULL, NULL);
}

/* ---- request ids ---------------------------------------------------- */

/*
 * Takes the client's X-Request-ID when it has one, keeping only characters
 * that are safe in a header and a log line, up to HTTP_REQUEST_ID_MAX;
 * otherwise makes a random one (128 bits, hex).
 */
static void set_request_id(struct http_request *req)
{
	const char *given = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-ID");
	size_t n = 0;
	for (const char *p = given; p && *p && n < HTTP_REQUEST_ID_MAX; p++) {
		char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=')
			req->request_id[n++] = c;
	}
	req->request_id[n] = '\0';
	if (n)
		return;
	static _Thread_local uint64_t state[2];
	if (!state[0] && !state[1]) {
		if (getrandom(state, sizeof(state), 0) != sizeof(state)) {
			state[0] = clock_mono_ns() | 1;
			state[1] = (uint64_t)(uintptr_t)&state;
		}
	}
	/* xorshift128+: ids need to be unique, not secret. */
	static const char hexd[] = "0123456789abcdef";
	for (int half = 0; half < 2; half++) {
		uint64_t s1 = state[0];
		const uint64_t s0 = state[1];
		state[0] = s0;
		s1 ^= s1 << 23;
		state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
		uint64_t v = state[1] + s0;
		for (int i = 0; i < 16; i++)
			req->request_id[half * 16 + i] = hexd[(v >> (60 - 4 * i)) & 15];
	}
	req->request_id[32] = '\0';
}

/* ---- connections and their guard ---------------------------------------- */

static struct conn_state *conn_state_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

/*
 * Writes a whole small answer to a connection's socket and shuts it down:
 * libmicrohttpd then reads the end of the stream and closes it. Only where
 * libmicrohttpd writes nothing meanwhile (no request has reached the access
 * handler). Holds conns_lock.
 */
static void write_and_shut(struct conn_state *cs, unsigned status, const char *reason,
			   const char *detail)
{
	if (cs->tls) {
		/* Plain text in a TLS stream: the client would only see a broken record. */
		shutdown(cs->fd, SHUT_RDWR);
		cs->closed = true;
		return;
	}
	char body[160], head[384];
	int blen = snprintf(body, sizeof(body), "{\"detail\":\"%s\"}", detail);
	int hlen = snprintf(head, sizeof(head),
			    "HTTP/1.1 %u %s\r\nConnection: close\r\n"
			    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			    status, reason, blen, body);
	if (hlen > 0 && (size_t)hlen < sizeof(head) &&
	    send(cs->fd, head, (size_t)hlen, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("http: could not send a %u: %s", status, strerror(errno));
	shutdown(cs->fd, SHUT_RDWR);
	cs->closed = true;
}

/* A connection over --max-connections: refused at once, not left waiting. */
static void refuse_connection(struct conn_state *cs)
{
	write_and_shut(cs, 503, "Service Unavailable",
		       "The server has as many connections as it may; try again");
}

/* libmicrohttpd tells of every connection accepted and closed. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn_state *cs = xcalloc(1, sizeof(*cs));
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		cs->fd = info ? info->connect_fd : MHD_INVALID_SOCKET;
		cs->tls = srv->tls;
		cs->waiting_since = clock_mono_ns();
		pthread_mutex_lock(&srv->conns_lock);
		cs->next = srv->conns;
		if (srv->conns)
			srv->conns->prev = cs;
		srv->conns = cs;
		bool over = ++srv->nconns > srv->cfg.max_connections;
		if (over && cs->fd != MHD_INVALID_SOCKET)
			refuse_connection(cs);
		pthread_mutex_unlock(&srv->conns_lock);
		if (over)
			log_warn("http: %u connections are open: refusing one more", srv->cfg.max_connections);
		*socket_context = cs;
		return;
	}
	/* Closed: libmicrohttpd closes the socket after telling, so the guard never
	 * touches a descriptor that is gone while it holds conns_lock. */
	struct conn_state *cs = *socket_context;
	if (!cs)
		return;
	pthread_mutex_lock(&srv->conns_lock);
	if (cs->prev)
		cs->prev->next = cs->next;
	else
		srv->conns = cs->next;
	if (cs->next)
		cs->next->prev = cs->prev;
	srv->nconns--;
	pthread_mutex_unlock(&srv->conns_lock);
	free(cs);
	*socket_context = NULL;
}

/* Called when a request line has arrived, before its headers. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *srv = cls;
	(void)uri;
	struct conn_state *cs = conn_state_of(conn);
	if (cs) {
		pthread_mutex_lock(&srv->conns_lock);
		cs->request_since = clock_mono_ns();
		cs->head_done = false;
		cs->saw_nul = false;
		pthread_mutex_unlock(&srv->conns_lock);
	}
	return NULL;
}

/*
 * Decodes %HH in the path and in query arguments, as libmicrohttpd would,
 * noting a %00: a NUL would cut the value short where C reads it.
 */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	struct http_server *srv = cls;
	if (strstr(s, "%00")) {
		struct conn_state *cs = conn_state_of(conn);
		if (cs) {
			pthread_mutex_lock(&srv->conns_lock);
			cs->saw_nul = true;
			pthread_mutex_unlock(&srv->conns_lock);
		}
	}
	return MHD_http_unescape(s);
}

/* Answers 408 on a connection whose request head is late, and shuts it down. Holds conns_lock. */
static void guard_close(struct conn_state *cs, unsigned head_timeout_s)
{
	char detail[96];
	snprintf(detail, sizeof(detail), "The request head took longer than %u s to arrive",
		 head_timeout_s);
	write_and_shut(cs, 408, "Request Timeout", detail);
}

/*
 * Gives memory back to the system once held memory has dropped after a
 * peak: large buffers are mapped and unmapped by themselves (main.c sets
 * the threshold), this returns what smaller ones left free in the heaps.
 */
static void guard_trim(struct http_server *srv)
{
	size_t now = atomic_load(&srv->body_bytes) + atomic_load(&srv->resp_bytes);
	if (atomic_load(&srv->peak_bytes) > TRIM_AFTER_PEAK && now < TRIM_AFTER_PEAK / 8) {
		atomic_store(&srv->peak_bytes, 0);
		malloc_trim(0);
	}
}

static void *guard_main(void *arg)
{
	struct http_server *srv = arg;
	const struct http_config *cfg = &srv->cfg;
	uint64_t head_ns = (uint64_t)cfg->head_timeout_s * 1000000000u;
	uint64_t idle_ns = (uint64_t)cfg->idle_timeout_s * 1000000000u;
	while (!atomic_load(&srv->guard_stop)) {
		struct timespec ts = { 0, GUARD_EVERY_MS * 1000000L };
		nanosleep(&ts, NULL);
		unsigned closed = 0;
		pthread_mutex_lock(&srv->conns_lock);
		/*
		 * Read under the lock that every writer of request_since and
		 * waiting_since holds: read before it, `now` could be older than
		 * a time set meanwhile, and now - since would wrap around to a
		 * huge age (a 408 on a connection that just sent a request).
		 */
		uint64_t now = clock_mono_ns();
		for (struct conn_state *cs = srv->conns; cs; cs = cs->next) {
			if (cs->closed || cs->head_done || cs->fd == MHD_INVALID_SOCKET)
				continue;
			/*
			 * Before its request line, a connection that stays silent is
			 * closed by the idle timeout; one still open after that and
			 * the head timeout has been trickling bytes.
			 */
			bool late = cs->request_since ? now - cs->request_since > head_ns
						      : now - cs->waiting_since > idle_ns + head_ns;
			if (late) {
				guard_close(cs, cfg->head_timeout_s);
				closed++;
			}
		}
		pthread_mutex_unlock(&srv->conns_lock);
		if (closed)
			log_warn("http: closed %u connection%s whose request head took longer than %u s",
				 closed, closed == 1 ? "" : "s", cfg->head_timeout_s);
		guard_trim(srv);
	}
	return NULL;
}

/* Counts `n` more bytes held for clients in `counter`, and the peak. */
static size_t hold_bytes(struct http_server *srv, atomic_size_t *counter, size_t n)
{
	size_t now = atomic_fetch_add(counter, n) + n;
	size_t total = atomic_load(&srv->body_bytes) + atomic_load(&srv->resp_bytes);
	size_t peak = atomic_load(&srv->peak_bytes);
	while (total > peak && !atomic_compare_exchange_weak(&srv->peak_bytes, &peak, total))
		;
	return now;
}

/*
 * What the first call of a request finds wrong with its head that
 * libmicrohttpd let through; NULL when nothing is.
 */
struct head_scan {
	bool host;
	unsigned content_lengths;
	const char *content_length;
	bool differ;
	const char *transfer_encoding;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	struct head_scan *h = cls;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		if (h->content_lengths++ && strcmp(h->content_length, value ? value : ""))
			h->differ = true;
		h->content_length = value ? value : "";
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		h->transfer_encoding = value ? value : "";
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_HOST)) {
		h->host = true;
	}
	return MHD_YES;
}

static const char *bad_head(struct http_request *req, const char *version, bool saw_nul)
{
	if (saw_nul)
		return "The request path or query string holds a NUL character (%00)";
	struct head_scan h = { 0 };
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, scan_header, &h);
	if (!h.host && version && !strcmp(version, MHD_HTTP_VERSION_1_1))
		return "An HTTP/1.1 request must have a Host header";
	if (h.differ)
		return "The request has several different Content-Length headers";
	if (h.transfer_encoding && strcasecmp(h.transfer_encoding, "chunked"))
		return "Transfer-Encoding is not supported: send the body with Content-Length "
		       "or chunked";
	if (h.transfer_encoding && h.content_lengths)
		return "The request has both Transfer-Encoding and Content-Length";
	return NULL;
}

/* ---- the request lifecycle ------------------------------------------ */

static struct http_request *request_new(struct http_server *srv, struct MHD_Connection *conn,
					const char *url, const char *method)
{
	struct http_request *req = xcalloc(1, sizeof(*req));
	req->srv = srv;
	req->conn = conn;
	req->start_ns = clock_mono_ns();
	req->method = http_method_parse(method);
	req->method_name = arena_strdup(&req->arena, method);
	set_request_id(req);
	size_t len = strlen(url);
	if (len > 1 && url[len - 1] == '/')
		len--; /* "/insights/" is "/insights" */
	req->path = arena_strndup(&req->arena, url, len);
	route(req);
	return req;
}

static void request_free(struct http_request *req)
{
	atomic_fetch_sub(&req->srv->body_bytes, req->body_held);
	atomic_fetch_sub(&req->srv->resp_bytes, req->resp_held);
	buf_release(&req->body);
	buf_release(&req->resp);
	if (req->stream) /* never queued */
		stream_free(req->stream);
	arena_release(&req->arena);
	free(req);
}

/*
 * Counts the response against the bound on memory held for clients, or
 * replaces it with a 503 when it is large and the bound is reached.
 */
static void hold_response(struct http_request *req)
{
	struct http_server *srv = req->srv;
	size_t len = req->resp.len, limit = srv->cfg.response_memory;
	if (limit && len > RESPONSE_SMALL && atomic_load(&srv->resp_bytes) + len > limit) {
		log_warn("http: %zu bytes of responses are held for clients: answering 503 to a "
			 "response of %zu bytes", atomic_load(&srv->resp_bytes), len);
		buf_release(&req->resp);
		struct jsonw w;
		jsonw_init(&w, &req->resp);
		jsonw_object_open(&w);
		jsonw_kstr(&w, "detail", "The server is busy sending other large answers; try again");
		jsonw_object_close(&w);
		req->status = 503;
		req->content_type = "application/json";
		http_add_header(req, "Retry-After", "1");
		len = req->resp.len;
	}
	req->resp_size = len;
	req->resp_held = len;
	hold_bytes(srv, &srv->resp_bytes, len);
}

/* Hands the response to libmicrohttpd. */
static enum MHD_Result queue(struct http_request *req)
{
	assert(req->responded);
	struct MHD_Response *r;
	if (req->stream) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read,
						      req->stream, stream_free);
		if (!r)
			stream_free(req->stream);
		req->stream = NULL;
	} else if (req->static_body) {
		/* MHD_RESPMEM_PERSISTENT: the bytes outlive the response, nothing to free. */
		r = MHD_create_response_from_buffer(req->static_len, (void *)req->static_body,
						    MHD_RESPMEM_PERSISTENT);
	} else if (req->resp.len) {
		hold_response(req);
		size_t len;
		char *data = buf_detach(&req->resp, &len);
		r = MHD_create_response_from_buffer_with_free_callback(len, data, &free);
	} else {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	if (req->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
	for (struct header *h = req->headers; h; h = h->next)
		MHD_add_response_header(r, h->name, h->value);
	MHD_add_response_header(r, "X-Request-ID", req->request_id);
	const char *origin = allowed_origin(req);
	if (origin) {
		MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
		MHD_add_response_header(r, "Access-Control-Expose-Headers",
					"X-Request-ID, X-Insights-Version, ETag, Idempotent-Replayed");
		if (strcmp(origin, "*"))
			MHD_add_response_header(r, "Vary", "Origin");
		if (req->srv->cors.credentials)
			MHD_add_response_header(r, "Access-Control-Allow-Credentials", "true");
	}
	if (req->srv->tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	enum MHD_Result ret = MHD_queue_response(req->conn, req->status, r);
	MHD_destroy_response(r);
	req->state = REQ_QUEUED;
	return ret;
}

static void run_handler(struct http_request *req)
{
	const struct http_gate *gate = req->srv->cfg.gate;
	if (gate && gate->enter)
		gate->enter(req->srv->cfg.app, req);
	req->route->handler(req);
	if (gate && gate->leave)
		gate->leave(req->srv->cfg.app, req);
	if (!req->responded) {
		log_error("handler for %s %s gave no response", req->method_name, req->route->pattern);
		respond_detail(req, 500, "Internal Server Error");
	}
	const struct http_config *cfg = &req->srv->cfg;
	if (req->cache_miss && req->status == 200 && !req->no_store)
		cfg->cache->store(cfg->app, req, req->cache_tag);
}

static void *worker_main(void *arg)
{
	struct http_server *srv = arg;
	for (;;) {
		pthread_mutex_lock(&srv->qlock);
		while (!srv->qhead && !srv->stopping)
			pthread_cond_wait(&srv->qcond, &srv->qlock);
		struct http_request *req = srv->qhead;
		if (req) {
			srv->qhead = req->next_job;
			if (!srv->qhead)
				srv->qtail = NULL;
			srv->qlen--;
		}
		pthread_mutex_unlock(&srv->qlock);
		if (!req)
			return NULL; /* stopping, queue empty */
		run_handler(req);
		MHD_resume_connection(req->conn);
	}
}

/* Queues an offloaded request; false when the queue is full or closed. */
static bool offload(struct http_request *req)
{
	struct http_server *srv = req->srv;
	pthread_mutex_lock(&srv->qlock);
	bool ok = !srv->stopping && srv->qlen < QUEUE_MAX;
	if (ok) {
		MHD_suspend_connection(req->conn);
		req->state = REQ_OFFLOADED;
		req->next_job = NULL;
		if (srv->qtail)
			srv->qtail->next_job = req;
		else
			srv->qhead = req;
		srv->qtail = req;
		srv->qlen++;
		pthread_cond_signal(&srv->qcond);
	}
	pthread_mutex_unlock(&srv->qlock);
	return ok;
}

/* The final call for a request whose body is complete. */
static void dispatch(struct http_request *req)
{
	if (req->method == HTTP_OPTIONS) {
		if (http_header(req, "Origin") && http_header(req, "Access-Control-Request-Method") &&
		    (req->route || req->allow)) {
			preflight(req);
		} else if (req->allow) {
			allow_header(req, req->allow);
			http_respond(req, 204, NULL, NULL);
		} else {
			respond_detail(req, 404, "Not Found");
		}
		return;
	}
	if (!req->route) {
		if (req->allow) {
			allow_header(req, req->allow);
			respond_detail(req, 405, "Method Not Allowed");
		} else {
			respond_detail(req, 404, "Not Found");
		}
		return;
	}
	const struct http_config *cfg = &req->srv->cfg;
	/* Before the cache: a cached answer is no answer for who may not read it. */
	if (cfg->gate && !cfg->gate->admit(cfg->app, req))
		return;
	if ((req->route->flags & HTTP_ROUTE_CACHE) && cfg->cache) {
		if (cfg->cache->lookup(cfg->app, req, &req->cache_tag))
			return; /* answered from the cache, on the loop */
		req->cache_miss = true;
	}
	if (req->route->flags & HTTP_ROUTE_OFFLOAD) {
		if (!offload(req)) {
			http_add_header(req, "Retry-After", "1");
			respond_detail(req, 503, "The server is overloaded; try again");
		}
		return;
	}
	run_handler(req);
}

/*
 * Answers while the body is still arriving, and closes the connection:
 * libmicrohttpd 0.9 refuses to queue a response then, so the answer is
 * written to the socket as it stands (nothing else writes to it while a
 * body arrives) and the access handler then reports failure, which makes
 * libmicrohttpd close. The request is observed as answered with `status`.
 */
static enum MHD_Result answer_mid_body(struct http_request *req, unsigned status,
				       const char *reason, const char *detail,
				       const char *retry_after)
{
	respond_detail(req, status, detail);
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (info && !req->srv->tls) { /* over TLS, only the hang-up */
		struct buf b = BUF_INIT;
		buf_addf(&b, "HTTP/1.1 %u %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
			     "X-Request-ID: %s\r\n%s%s%sContent-Length: %zu\r\n\r\n",
			 status, reason, req->request_id, retry_after ? "Retry-After: " : "",
			 retry_after ? retry_after : "", retry_after ? "\r\n" : "", req->resp.len);
		buf_add(&b, req->resp.data, req->resp.len);
		if (send(info->connect_fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("http: could not send a %u: %s", status, strerror(errno));
		buf_release(&b);
	}
	req->state = REQ_QUEUED;
	return MHD_NO;
}

static void too_large(struct http_request *req)
{
	char detail[96];
	snprintf(detail, sizeof(detail), "Request body exceeds the limit of %zu bytes",
		 req->srv->cfg.max_body);
	respond_detail(req, 413, detail);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	if (!req) {
		req = request_new(srv, conn, url, method);
		*con_cls = req;
		atomic_fetch_add(&srv->inflight, 1);
		bool saw_nul = false;
		struct conn_state *cs = conn_state_of(conn);
		if (cs) {
			pthread_mutex_lock(&srv->conns_lock);
			cs->head_done = true;
			saw_nul = cs->saw_nul;
			pthread_mutex_unlock(&srv->conns_lock);
		}
		req->body_deadline_ns = clock_mono_ns() + (uint64_t)srv->cfg.body_timeout_s * 1000000000u;
		const char *bad = bad_head(req, version, saw_nul);
		if (bad) {
			/* The head may say anything of its body: read none of it. */
			http_add_header(req, "Connection", "close");
			respond_detail(req, 400, bad);
			return queue(req);
		}
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || *end || n > srv->cfg.max_body) {
				too_large(req);
				return queue(req);
			}
		}
		return MHD_YES;
	}
	if (req->state == REQ_QUEUED) {
		*upload_size = 0; /* the answer is out (413): discard the rest */
		return MHD_YES;
	}
	if (*upload_size) {
		if (clock_mono_ns() > req->body_deadline_ns) {
			char detail[96];
			snprintf(detail, sizeof(detail),
				 "The request body took longer than %u s to arrive",
				 srv->cfg.body_timeout_s);
			*upload_size = 0;
			buf_release(&req->body);
			return answer_mid_body(req, 408, "Request Timeout", detail, NULL);
		}
		size_t limit = srv->cfg.body_memory;
		if (!req->too_large && limit &&
		    hold_bytes(srv, &srv->body_bytes, *upload_size) > limit) {
			atomic_fetch_sub(&srv->body_bytes, *upload_size);
			log_warn("http: bodies still arriving hold %zu bytes: answering 503",
				 atomic_load(&srv->body_bytes));
			*upload_size = 0;
			buf_release(&req->body);
			return answer_mid_body(req, 503, "Service Unavailable",
					       "The server is busy receiving other requests; try again",
					       "1");
		}
		if (!req->too_large && limit)
			req->body_held += *upload_size;
		if (req->too_large || req->body.len + *upload_size > srv->cfg.max_body) {
			/*
			 * A body without a Content-Length grew past the limit. Read
			 * and drop the rest, so the client, still writing, is not cut
			 * off before it can read the 413; but only up to a bound.
			 */
			req->too_large = true;
			req->discarded += *upload_size;
			*upload_size = 0;
			buf_release(&req->body);
			if (req->discarded > DISCARD_MAX) {
				char detail[96];
				snprintf(detail, sizeof(detail),
					 "Request body exceeds the limit of %zu bytes", srv->cfg.max_body);
				return answer_mid_body(req, 413, "Content Too Large", detail, NULL);
			}
			return MHD_YES;
		}
		buf_add(&req->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->too_large) {
		too_large(req);
		return queue(req);
	}
	if (req->state == REQ_OFFLOADED)
		return queue(req); /* resumed by the worker: the response is ready */
	dispatch(req);
	if (req->state == REQ_OFFLOADED)
		return MHD_YES;
	return queue(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	struct http_server *srv = cls;
	struct conn_state *cs = conn_state_of(conn);
	if (cs) {
		/* The connection now waits for its next request (keep-alive). */
		pthread_mutex_lock(&srv->conns_lock);
		cs->waiting_since = clock_mono_ns();
		cs->request_since = 0;
		cs->head_done = false;
		pthread_mutex_unlock(&srv->conns_lock);
	}
	struct http_request *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	if (srv->cfg.observe && req->responded)
		srv->cfg.observe(srv->cfg.app, req);
	request_free(req);
	atomic_fetch_sub(&srv->inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (!log_enabled(LOG_DEBUG))
		return;
	struct buf b = BUF_INIT;
	buf_vaddf(&b, fmt, ap);
	while (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	log_debug("libmicrohttpd: %s", b.data);
	buf_release(&b);
}

/* ---- start and stop ------------------------------------------------- */

/*
 * Fails when something else already listens on the address: with
 * SO_REUSEPORT our own daemons would otherwise silently share the port with
 * another process.
 */
static int probe_free(const struct sockaddr *sa, socklen_t len, char *why, size_t whylen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0; /* let the daemon report it */
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(fd, sa, len);
	int e = errno;
	close(fd);
	if (rc && e == EADDRINUSE) {
		snprintf(why, whylen, "the address is already in use");
		return -1;
	}
	return 0;
}

/*
 * Reads a PEM file of `what` (a certificate or private key) that must hold
 * `marker`, into a string. Messages name the file, never its bytes.
 */
static char *read_pem(const char *path, const char *what, const char *marker, char *why,
		      size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot read the TLS %s file '%s': %s", what, path,
			 strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "cannot read the TLS %s file '%s': not a regular file", what,
			 path);
		close(fd);
		return NULL;
	}
	if (st.st_size <= 0 || st.st_size > (1 << 20)) {
		snprintf(why, whylen, "the TLS %s file '%s' is %s", what, path,
			 st.st_size <= 0 ? "empty" : "larger than 1 MiB");
		close(fd);
		return NULL;
	}
	size_t len = (size_t)st.st_size, got = 0;
	char *pem = xmalloc(len + 1);
	while (got < len) {
		ssize_t n = read(fd, pem + got, len - got);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			snprintf(why, whylen, "cannot read the TLS %s file '%s': %s", what, path,
				 n < 0 ? strerror(errno) : "it shrank while read");
			close(fd);
			free(pem);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	pem[len] = '\0';
	if (!strstr(pem, marker)) {
		snprintf(why, whylen, "the TLS %s file '%s' holds no PEM %s", what, path, what);
		explicit_bzero(pem, len);
		free(pem);
		return NULL;
	}
	return pem;
}

/* Reads the certificate and key of cfg, when given; 0, or -1 with a reason. */
static int load_tls(struct http_server *srv, const struct http_config *cfg, char *why,
		    size_t whylen)
{
	bool cert = cfg->tls_cert_file && *cfg->tls_cert_file;
	bool key = cfg->tls_key_file && *cfg->tls_key_file;
	if (!cert && !key)
		return 0;
	if (!cert || !key) {
		snprintf(why, whylen, "TLS needs both a certificate and a key (--tls-cert and "
				      "--tls-key, INSIGHTS_TLS_CERT and INSIGHTS_TLS_KEY): %s is missing",
			 cert ? "the key" : "the certificate");
		return -1;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(why, whylen, "this libmicrohttpd was built without TLS support");
		return -1;
	}
	srv->tls_cert = read_pem(cfg->tls_cert_file, "certificate", "-----BEGIN CERTIFICATE-----",
				 why, whylen);
	if (!srv->tls_cert)
		return -1;
	srv->tls_key = read_pem(cfg->tls_key_file, "key", "PRIVATE KEY-----", why, whylen);
	if (!srv->tls_key)
		return -1;
	srv->tls = true;
	return 0;
}

static void free_server(struct http_server *srv)
{
	http_cors_release(&srv->cors);
	cidr_list_release(&srv->trusted);
	free(srv->tls_cert);
	if (srv->tls_key)
		explicit_bzero(srv->tls_key, strlen(srv->tls_key));
	free(srv->tls_key);
	free(srv->workers);
	pthread_mutex_destroy(&srv->qlock);
	pthread_cond_destroy(&srv->qcond);
	pthread_mutex_destroy(&srv->conns_lock);
	free(srv);
}

static void stop_guard(struct http_server *srv)
{
	if (!srv->guard_running)
		return;
	atomic_store(&srv->guard_stop, true);
	pthread_join(srv->guard, NULL);
	srv->guard_running = false;
}

static void stop_workers(struct http_server *srv)
{
	pthread_mutex_lock(&srv->qlock);
	srv->stopping = true;
	pthread_cond_broadcast(&srv->qcond);
	pthread_mutex_unlock(&srv->qlock);
	for (unsigned i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
	srv->nworkers = 0;
}

int http_server_start(const struct http_config *cfg, struct http_server **out,
		      char *why, size_t whylen)
{
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	srv->cfg = *cfg;
	pthread_mutex_init(&srv->qlock, NULL);
	pthread_cond_init(&srv->qcond, NULL);
	pthread_mutex_init(&srv->conns_lock, NULL);
	char reason[240];
	if (http_cors_init(&srv->cors, cfg->cors_origins, cfg->credentials, why, whylen)) {
		free_server(srv);
		return -1;
	}
	if (cidr_list_parse(cfg->trusted_proxies, &srv->trusted, reason, sizeof(reason))) {
		snprintf(why, whylen, "trusted proxies (--trusted-proxies, INSIGHTS_TRUSTED_PROXIES): %s",
			 reason);
		free_server(srv);
		return -1;
	}
	if (load_tls(srv, cfg, why, whylen)) {
		free_server(srv);
		return -1;
	}

	char port[16];
	snprintf(port, sizeof(port), "%u", cfg->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(cfg->host, port, &hints, &ai);
	if (gai) {
		snprintf(why, whylen, "cannot resolve host '%s': %s", cfg->host, gai_strerror(gai));
		free_server(srv);
		return -1;
	}
	struct sockaddr_storage addr;
	socklen_t addrlen = ai->ai_addrlen;
	memcpy(&addr, ai->ai_addr, addrlen);
	freeaddrinfo(ai);
	if (cfg->port && probe_free((struct sockaddr *)&addr, addrlen, why, whylen)) {
		free_server(srv);
		return -1;
	}

	unsigned threads = cfg->threads ? cfg->threads : cpu_count();
	if (threads > MAX_DAEMONS)
		threads = MAX_DAEMONS;
	/*
	 * The kernel spreads connections over the loops by hashing, unevenly:
	 * each loop may take the whole limit, and on_connection enforces it
	 * across them.
	 */
	unsigned per_daemon = cfg->max_connections;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The same credentials for every loop; an empty array without TLS. */
	struct MHD_OptionItem tls_opts[] = {
		{ srv->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (srv->tls)
		flags |= MHD_USE_TLS;

	for (unsigned i = 0; i < threads; i++) {
		struct MHD_Daemon *d = MHD_start_daemon(
			flags, (uint16_t)cfg->port, NULL, NULL, &on_request, srv,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
			MHD_OPTION_NOTIFY_COMPLETED, &on_completed, srv,
			MHD_OPTION_NOTIFY_CONNECTION, &on_connection, srv,
			MHD_OPTION_URI_LOG_CALLBACK, &on_request_line, srv,
			MHD_OPTION_UNESCAPE_CALLBACK, &on_unescape, srv,
			MHD_OPTION_CONNECTION_LIMIT, per_daemon,
			MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s,
			/* Per-connection buffer for headers and reads, cleared for every request. */
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
			MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, NULL,
			MHD_OPTION_ARRAY, tls_opts,
			MHD_OPTION_END);
		if (!d && srv->tls && i == 0) {
			snprintf(why, whylen, "cannot serve TLS with the certificate '%s' and the key "
					      "'%s': not a valid certificate and key, or not a pair",
				 cfg->tls_cert_file, cfg->tls_key_file);
			free_server(srv);
			return -1;
		}
		if (!d) {
			snprintf(why, whylen, "cannot listen on %s:%u: %s", cfg->host, srv->port ? srv->port : cfg->port,
				 errno ? strerror(errno) : "libmicrohttpd failed to start");
			for (unsigned k = 0; k < srv->ndaemons; k++)
				MHD_stop_daemon(srv->daemons[k]);
			free_server(srv);
			return -1;
		}
		srv->daemons[srv->ndaemons++] = d;
		if (i == 0) {
			const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
			srv->port = info ? info->port : cfg->port;
			/* With port 0, the other loops must join the port the first one got. */
			if (addr.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)srv->port);
			else
				((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)srv->port);
		}
	}

	unsigned workers = cfg->workers ? cfg->workers : 8 * cpu_count();
	srv->workers = xcalloc(workers, sizeof(pthread_t));
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&srv->workers[i], NULL, worker_main, srv)) {
			snprintf(why, whylen, "cannot start worker threads");
			stop_workers(srv);
			for (unsigned k = 0; k < srv->ndaemons; k++)
				MHD_stop_daemon(srv->daemons[k]);
			free_server(srv);
			return -1;
		}
		srv->nworkers++;
	}
	if (pthread_create(&srv->guard, NULL, guard_main, srv) == 0)
		srv->guard_running = true;
	else
		log_warn("http: no guard thread: slow request heads are bounded by the idle timeout only");
	*out = srv;
	return 0;
}

unsigned http_server_port(const struct http_server *srv)
{
	return srv->port;
}

bool http_server_tls(const struct http_server *srv)
{
	return srv->tls;
}

void http_server_stop(struct http_server *srv, unsigned grace_ms)
{
	for (unsigned i = 0; i < srv->ndaemons; i++)
		srv->quiesced[i] = MHD_quiesce_daemon(srv->daemons[i]);
	uint64_t until = clock_mono_ns() + (uint64_t)grace_ms * 1000000u;
	while (atomic_load(&srv->inflight) > 0 && clock_mono_ns() < until) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	/* Workers drain the queue before they exit: every suspended connection is resumed. */
	stop_workers(srv);
	assert(!srv->qhead);
	stop_guard(srv);
	for (unsigned i = 0; i < srv->ndaemons; i++) {
		MHD_stop_daemon(srv->daemons[i]);
		if (srv->quiesced[i] != MHD_INVALID_SOCKET)
			close(srv->quiesced[i]);
	}
	free_server(srv);
}
