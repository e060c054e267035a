/*
 * test_exec.c: the GraphQL executor on a real store (SQLite): reads batch
 * per nesting level (no N+1), counted with store_calls(); a mutation that
 * fails undoes the others of its request.
 */
#include "t.h"

#include <json-c/json.h>
#include <stdio.h>
#include <unistd.h>

#include "core/service.h"
#include "graphql/graphql.h"
#include "store/store.h"

struct fx {
	struct store *st;
	struct service svc;
	char path[64];
};

static struct opt_str str(const char *v)
{
	return (struct opt_str){ .set = true, .v = v };
}

static bool open_fx(struct fx *f)
{
	snprintf(f->path, sizeof(f->path), "/tmp/insights-unit-gx%d.db", (int)getpid());
	char url[80];
	snprintf(url, sizeof(url), "sqlite:///%s", f->path);
	struct store_config cfg = { .pool_size = 2, .busy_timeout_ms = 1000, .query_timeout_ms = 5000 };
	struct error e = ERROR_INIT;
	int applied;
	if (store_open(url, &cfg, &f->st, &e) || store_migrate(f->st, &applied, &e))
		return false;
	service_init(&f->svc, f->st);
	return true;
}

static void close_fx(struct fx *f)
{
	service_release(&f->svc);
	store_close(f->st);
	t_remove_sqlite(f->path);
}

/* Runs `query`; returns the answer as JSON (owned by the caller) and the store calls it made. */
static json_object *run(struct fx *f, const char *query, uint64_t *calls)
{
	struct gql_config cfg = { .max_depth = 12, .max_fields = 1000, .max_limit = 1000 };
	struct gql_request rq = { .query = query, .query_len = strlen(query) };
	struct arena a = ARENA_INIT;
	struct buf out = BUF_INIT;
	struct gql_outcome oc;
	uint64_t before = store_calls();
	gql_execute(&f->svc, &cfg, &rq, &a, &out, &oc);
	if (calls)
		*calls = store_calls() - before;
	json_object *j = json_tokener_parse(out.data);
	buf_release(&out);
	arena_release(&a);
	return j;
}

static json_object *path(json_object *o, const char *key)
{
	json_object *v = NULL;
	json_object_object_get_ex(o, key, &v);
	return v;
}

TEST(graphql_exec_no_n_plus_one)
{
	struct fx f;
	if (!open_fx(&f)) {
		CHECK(!"store opens");
		return;
	}
	struct arena a = ARENA_INIT;
	struct error e = ERROR_INIT;
	int64_t cats[4], tags[6];
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cat%d", i);
		struct category_input in = { .name = str(name), .slug = str(name) };
		struct category c;
		CHECK(svc_category_create(&f.svc, &a, &in, &c, &e) == OK);
		cats[i] = c.id;
	}
	for (int i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof(name), "tag%d", i);
		struct tag_input in = { .name = str(name), .slug = str(name) };
		struct tag t;
		CHECK(svc_tag_create(&f.svc, &a, &in, &t, &e) == OK);
		tags[i] = t.id;
	}
	for (int i = 0; i < 120; i++) {
		int64_t two[] = { tags[i % 3], tags[3 + i % 3] };
		struct insight_input in = { .title = str("t"), .description = str("d"), .author = str("a"),
					    .category_id = { true, i % 5 ? cats[i % 4] : 0 },
					    .tag_ids_set = true, .tag_ids = two, .ntag_ids = 2 };
		struct insight out;
		error_clear(&e);
		CHECK(svc_insight_create(&f.svc, &a, &in, &out, &e) == OK);
		arena_release(&a);
	}
	uint64_t calls;
	json_object *j = run(&f, "{ insights(limit: 100) { id category { name } tags { name } } }",
			     &calls);
	json_object *rows = path(path(j, "data"), "insights");
	CHECK(rows && json_object_array_length(rows) == 100);
	CHECK(calls == 3); /* the insights, their categories, their tags */
	json_object_put(j);

	/* One statement per relationship field, at any depth; an aggregate per parent is one too. */
	j = run(&f, "{ insights(limit: 100) { id category { name children { id } } "
		    "tags { insights_aggregate { aggregate { count } } } } }", &calls);
	CHECK(calls == 5); /* insights, categories, their children, tags, the tags' aggregates */
	rows = path(path(j, "data"), "insights");
	CHECK(rows && json_object_array_length(rows) == 100);
	json_object_put(j);
	j = run(&f, "{ categories { name insights(limit: 2) { tags { name } } } }", &calls);
	CHECK(calls == 3);
	json_object_put(j);
	close_fx(&f);
}

TEST(graphql_exec_failed_mutation_writes_nothing)
{
	struct fx f;
	if (!open_fx(&f)) {
		CHECK(!"store opens");
		return;
	}
	uint64_t v0 = svc_data_version(&f.svc);
	json_object *j = run(&f, "mutation { a: insert_tags_one(object: {name: \"x\", slug: \"x\"}) { id } "
				 "b: insert_tags_one(object: {name: \"x\", slug: \"y\"}) { id } }", NULL);
	json_object *err = json_object_array_get_idx(path(j, "errors"), 0);
	CHECK(err && !path(j, "data"));
	CHECK_STR(json_object_get_string(path(path(err, "extensions"), "code")), "constraint-violation");
	json_object_put(j);
	CHECK(svc_data_version(&f.svc) == v0); /* nothing committed: caches stay valid */
	j = run(&f, "{ tags_aggregate { aggregate { count } } }", NULL);
	CHECK(json_object_get_int(path(path(path(path(j, "data"), "tags_aggregate"), "aggregate"), "count")) == 0);
	json_object_put(j);
	j = run(&f, "mutation { insert_tags_one(object: {name: \"x\", slug: \"x\"}) { id } }", NULL);
	CHECK(path(j, "data") != NULL);
	json_object_put(j);
	CHECK(svc_data_version(&f.svc) == v0 + 1);
	close_fx(&f);
}
