"""The GraphQL API (POST/GET /v1/graphql), in Hasura v2's dialect, on every backend.

The reads run on one module-wide world seeded through REST, so that each
answer can be compared with what REST says of the same rows; mutations run
on fresh servers of their own.
"""
import json

import pytest
import requests

from conftest import BACKEND, HTTP_TIMEOUT, uid

# The specification's three example queries, verbatim ("GraphQL Integration").
SPEC_QUERY_FILTERS = """
query {
  insights(
    where: { status: { _eq: "published" }, priority: { _eq: "high" }, category: { name: { _eq: "Technical" } } }
    order_by: { created_at: desc }
    limit: 20
  ) {
    id
    title
    description
    priority
    status
    created_at
    author
    category {
      name
      color
      icon
    }
    tags {
      name
      color
    }
  }
}
"""

SPEC_QUERY_STATISTICS = """
query {
  insights_aggregate {
    aggregate {
      count
    }
  }
  insights_aggregate_by_status: insights_aggregate {
    nodes {
      status
    }
    aggregate {
      count
    }
  }
}
"""

SPEC_QUERY_SEARCH = """
query {
  insights(
    where: {
      _or: [
        { title: { _ilike: "%performance%" } }
        { description: { _ilike: "%performance%" } }
        { content: { _ilike: "%performance%" } }
      ]
    }
  ) {
    id
    title
    description
  }
}
"""


def post(api, query, variables=None, operation=None, path="/v1/graphql", status=200):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation is not None:
        body["operationName"] = operation
    resp = api.post(path, json=body)
    assert resp.status_code == status, resp.text[:2000]
    return resp.json()


def data(api, query, variables=None, operation=None):
    answer = post(api, query, variables, operation)
    assert "errors" not in answer, answer
    assert set(answer) == {"data"}
    return answer["data"]


def error(api, query, variables=None, operation=None, status=200):
    answer = post(api, query, variables, operation, status=status)
    assert set(answer) == {"errors"}, answer
    (err,) = answer["errors"]
    assert set(err) == {"message", "extensions"} and set(err["extensions"]) == {"path", "code"}
    return err


def ids_of(rows):
    return [r["id"] for r in rows]


@pytest.fixture(scope="module")
def world(api):
    """Categories, tags and insights whose every field a filter can tell apart."""
    w = {}
    w["tech"] = api.create_category(name="Technical", color="#3B82F6", icon="cpu")
    w["db"] = api.create_category(name="Databases", parent_id=w["tech"]["id"], color="#111111")
    w["proc"] = api.create_category(name="Process")
    w["security"] = api.create_tag(name="security", slug="security", color="#EF4444")
    w["perf"] = api.create_tag(name="performance", slug="performance")
    w["unused"] = api.create_tag(name="unused", slug="unused")
    specs = [
        dict(title="Composite indexes", description="Query PERFORMANCE doubled", priority="high",
             status="published", category_id=w["tech"]["id"], author="ada",
             tag_ids=[w["security"]["id"], w["perf"]["id"]], content="EXPLAIN ANALYZE first"),
        dict(title="École des données", description="Straße und ÉTÉ", priority="low", status="draft",
             category_id=w["db"]["id"], author="bob", tag_ids=[w["security"]["id"]]),
        dict(title="Retrospective", description="notes 100% done", priority="critical",
             status="published", author="ada"),
        dict(title="Backups tested", description="restore drill", priority="high",
             status="published", category_id=w["tech"]["id"], author="cy", source="runbook",
             content="the performance of restores matters"),
        dict(title="性能の改善", description="検索が速くなった", priority="medium", status="archived",
             category_id=w["proc"]["id"], author="bob", tag_ids=[w["perf"]["id"]]),
    ]
    w["ins"] = [api.create_insight(**s) for s in specs]
    return w


def q_ids(api, where, order="{id: asc}", extra=""):
    return ids_of(data(api, f"{{ insights(where: {where}, order_by: {order}{extra}) {{ id }} }}")["insights"])


def world_ids(world, *indexes):
    return [world["ins"][i]["id"] for i in indexes]


# ---------------------------------------------------------------------------
# The specification's queries, against REST

def test_spec_query_filters_matches_rest(api, world):
    got = data(api, SPEC_QUERY_FILTERS)["insights"]
    rest = [api.insight(i["id"]) for i in api.all_insights(status="published", priority="high")
            if i["category"] and i["category"]["name"] == "Technical"]
    rest.sort(key=lambda i: (i["created_at"], i["id"]), reverse=True)  # REST: newest first
    assert ids_of(got) == [i["id"] for i in rest]
    assert sorted(ids_of(got)) == world_ids(world, 0, 3)
    for g, r in zip(got, rest):
        assert list(g) == ["id", "title", "description", "priority", "status", "created_at",
                           "author", "category", "tags"]
        for key in ("id", "title", "description", "priority", "status", "created_at", "author"):
            assert g[key] == r[key]
        assert g["category"] == {k: r["category"][k] for k in ("name", "color", "icon")}
        assert g["tags"] == [{"name": t["name"], "color": t["color"]} for t in r["tags"]]


def test_spec_query_statistics_matches_rest(api, world):
    got = data(api, SPEC_QUERY_STATISTICS)
    stats = api.call("GET", "/statistics")
    assert got["insights_aggregate"] == {"aggregate": {"count": stats["total_insights"]}}
    by_status = got["insights_aggregate_by_status"]
    assert list(by_status) == ["nodes", "aggregate"]
    assert by_status["aggregate"]["count"] == stats["total_insights"]
    counted = {}
    for node in by_status["nodes"]:
        counted[node["status"]] = counted.get(node["status"], 0) + 1
    assert counted == {k: v for k, v in stats["insights_by_status"].items() if v}


def test_spec_query_search_matches_substrings(api, world):
    got = data(api, SPEC_QUERY_SEARCH)["insights"]
    expected = [i for i in api.all_insights()
                if any("performance" in (i[k] or "").lower() for k in ("title", "description", "content"))]
    assert sorted(ids_of(got)) == sorted(i["id"] for i in expected) == world_ids(world, 0, 3)
    assert all(list(g) == ["id", "title", "description"] for g in got)


# ---------------------------------------------------------------------------
# where

@pytest.mark.parametrize("where, expected", [
    ('{priority: {_eq: "high"}}', [0, 3]),
    ('{priority: {_neq: "high"}}', [1, 2, 4]),
    ('{priority: {_gt: "high"}}', [1, 4]),
    ('{priority: {_gte: "low"}}', [1, 4]),
    ('{priority: {_lt: "high"}}', [2]),
    ('{priority: {_lte: "high"}}', [0, 2, 3]),
    ('{priority: {_in: ["low", "critical"]}}', [1, 2]),
    ('{priority: {_nin: ["low", "critical"]}}', [0, 3, 4]),
    ('{priority: {_in: []}}', []),
    ('{priority: {_nin: []}}', [0, 1, 2, 3, 4]),
    ('{source: {_is_null: true}}', [0, 1, 2, 4]),
    ('{source: {_is_null: false}}', [3]),
    ('{category_id: {_is_null: true}}', [2]),
    ('{title: {_like: "%indexes"}}', [0]),
    ('{title: {_like: "%INDEXES"}}', []),
    ('{title: {_ilike: "%INDEXES"}}', [0]),
    ('{title: {_nlike: "%e%"}}', [4]),
    ('{title: {_nilike: "%E%"}}', [4]),
    ('{title: {_ilike: "%ÉCOLE%"}}', [1]),
    ('{description: {_ilike: "%été"}}', [1]),
    ('{description: {_like: "%ÉTÉ"}}', [1]),
    ('{description: {_like: "%速く%"}}', [4]),
    ('{title: {_like: "性能%"}}', [4]),
    ('{description: {_like: "%100\\\\% done"}}', [2]),
    ('{description: {_like: "%10\\\\%%"}}', []),
    ('{title: {_like: "Backups teste_"}}', [3]),
    ('{priority: {_eq: "high"}, status: {_eq: "published"}, author: {_eq: "cy"}}', [3]),
    ('{priority: {}}', [0, 1, 2, 3, 4]),
    ('{}', [0, 1, 2, 3, 4]),
    ('{_and: []}', [0, 1, 2, 3, 4]),
    ('{_or: []}', []),
    ('{_and: [{author: {_eq: "ada"}}, {priority: {_eq: "high"}}]}', [0]),
    ('{_or: [{author: {_eq: "cy"}}, {priority: {_eq: "low"}}]}', [1, 3]),
    ('{_not: {author: {_eq: "ada"}}}', [1, 3, 4]),
    ('{_and: {author: {_eq: "bob"}}}', [1, 4]),
    ('{_not: {_or: [{author: {_eq: "ada"}}, {author: {_eq: "bob"}}]}}', [3]),
    ('{category: {name: {_eq: "Technical"}}}', [0, 3]),
    ('{category: {parent: {name: {_eq: "Technical"}}}}', [1]),
    ('{category: {}}', [0, 1, 3, 4]),
    ('{_not: {category: {}}}', [2]),
    ('{tags: {slug: {_eq: "security"}}}', [0, 1]),
    ('{tags: {}}', [0, 1, 4]),
    ('{_not: {tags: {}}}', [2, 3]),
    ('{tags: {slug: {_eq: "unused"}}}', []),
    ('{_and: [{tags: {slug: {_eq: "security"}}}, {tags: {slug: {_eq: "performance"}}}]}', [0]),
    ('{created_at: {_gt: "2000-01-01T00:00:00Z"}}', [0, 1, 2, 3, 4]),
    ('{created_at: {_lt: "2000-01-01"}}', []),
    ('{published_at: {_is_null: true}}', [1, 4]),  # created archived: never published
])
def test_where(api, world, where, expected):
    assert q_ids(api, where) == world_ids(world, *expected)


def test_where_on_ids_and_timestamps_compares_values(api, world):
    first, last = world["ins"][0], world["ins"][-1]
    assert q_ids(api, f"{{id: {{_gte: {world['ins'][3]['id']}}}}}") == world_ids(world, 3, 4)
    assert q_ids(api, f"{{id: {{_in: [{first['id']}, {last['id']}, 999999]}}}}") == world_ids(world, 0, 4)
    created = first["created_at"]
    assert created.endswith("Z")
    # The same instant written with an offset, and with a fraction of a second.
    assert first["id"] in q_ids(api, f'{{created_at: {{_eq: "{created}"}}}}')
    shifted = created[:-1] + "+00:00"
    assert first["id"] in q_ids(api, f'{{created_at: {{_eq: "{shifted}"}}}}')
    half = created[:-1] + ".5Z"
    assert q_ids(api, f'{{created_at: {{_eq: "{half}"}}}}') == []
    assert first["id"] in q_ids(api, f'{{created_at: {{_lt: "{half}"}}}}')
    assert first["id"] not in q_ids(api, f'{{created_at: {{_gte: "{half}"}}}}')


def test_where_on_other_tables(api, world):
    cats = data(api, '{ categories(where: {children: {}}, order_by: {id: asc}) { name insight_count } }')
    assert cats["categories"] == [{"name": "Technical", "insight_count": 2}]
    tags = data(api, '{ tags(where: {insights: {author: {_eq: "bob"}}}, order_by: {name: asc}) { name usage_count } }')
    assert tags["tags"] == [{"name": "performance", "usage_count": 2}, {"name": "security", "usage_count": 2}]


# ---------------------------------------------------------------------------
# order_by, limit, offset, distinct_on

@pytest.mark.parametrize("order, expected", [
    ("{priority: asc}", [2, 0, 3, 1, 4]),
    ("{priority: desc}", [4, 1, 3, 0, 2]),  # ties: id in the first key's direction
    ("[{priority: desc}, {id: desc}]", [4, 1, 3, 0, 2]),
    ("{category_id: asc}", [0, 3, 1, 4, 2]),
    ("{category_id: asc_nulls_first}", [2, 0, 3, 1, 4]),
    ("{category_id: desc}", [2, 4, 1, 3, 0]),
    ("{category_id: desc_nulls_last}", [4, 1, 3, 0, 2]),
    ("{category: {name: asc}}", [1, 4, 0, 3, 2]),
    ("{category: {name: desc_nulls_last}}", [3, 0, 4, 1, 2]),
    ("{tags_aggregate: {count: desc}}", [0, 4, 1, 3, 2]),
    ("[{author: asc}, {title: desc}]", [2, 0, 4, 1, 3]),
])
def test_order_by(api, world, order, expected):
    assert q_ids(api, "{}", order) == world_ids(world, *expected)


def test_pages(api, world):
    assert q_ids(api, "{}", "{id: asc}", ", limit: 2") == world_ids(world, 0, 1)
    assert q_ids(api, "{}", "{id: asc}", ", limit: 2, offset: 2") == world_ids(world, 2, 3)
    assert q_ids(api, "{}", "{id: asc}", ", offset: 4") == world_ids(world, 4)
    assert q_ids(api, "{}", "{id: asc}", ", limit: 0") == []
    rows = data(api, "{ insights(distinct_on: [author], order_by: [{author: asc}, {id: desc}]) { author id } }")
    assert rows["insights"] == [{"author": "ada", "id": world["ins"][2]["id"]},
                                {"author": "bob", "id": world["ins"][4]["id"]},
                                {"author": "cy", "id": world["ins"][3]["id"]}]


def test_limit_ceiling(api, world, servers):
    err = error(api, "{ insights(limit: 1001) { id } }")
    assert err["extensions"] == {"path": "$.selectionSet.insights.args.limit", "code": "validation-failed"}
    assert "1000" in err["message"] and "--graphql-max-limit" in err["message"]
    err = error(api, "{ insights(offset: -1) { id } }")
    assert err["extensions"]["path"] == "$.selectionSet.insights.args.offset"
    # Without a limit, a list answers at most the ceiling.
    small = servers.start(args=("--graphql-max-limit", "2"))
    for _ in range(3):
        small.api.create_insight()
    assert len(data(small.api, "{ insights { id } }")["insights"]) == 2
    assert data(small.api, "{ insights_aggregate { aggregate { count } } }") == \
        {"insights_aggregate": {"aggregate": {"count": 3}}}


# ---------------------------------------------------------------------------
# Relationships, aggregates, groups

def test_relationships_both_ways(api, world):
    got = data(api, """{ categories(order_by: {name: asc}) {
        name parent { name } children { name } insights(order_by: {id: asc}) { id }
        insights_aggregate { aggregate { count } } } }""")["categories"]
    by = {c["name"]: c for c in got}
    assert by["Databases"]["parent"] == {"name": "Technical"}
    assert by["Technical"]["parent"] is None
    assert by["Technical"]["children"] == [{"name": "Databases"}]
    assert ids_of(by["Technical"]["insights"]) == world_ids(world, 0, 3)
    assert by["Process"]["insights_aggregate"] == {"aggregate": {"count": 1}}
    tag = data(api, f'{{ tags_by_pk(id: {world["security"]["id"]}) {{ insights(order_by: {{id: desc}}, limit: 1) {{ id tags {{ slug }} }} }} }}')
    assert tag["tags_by_pk"]["insights"] == [{"id": world["ins"][1]["id"], "tags": [{"slug": "security"}]}]


def test_nested_pages_are_per_parent(api, world):
    got = data(api, """{ insights(order_by: {id: asc}) {
        id tags(order_by: {name: desc}, limit: 1) { name }
        tags_aggregate { aggregate { count } nodes { slug } } } }""")["insights"]
    assert [g["tags"] for g in got] == [[{"name": "security"}], [{"name": "security"}], [],
                                        [], [{"name": "performance"}]]
    assert [g["tags_aggregate"]["aggregate"]["count"] for g in got] == [2, 1, 0, 0, 1]
    assert got[2]["tags_aggregate"]["nodes"] == []


def test_aggregates(api, world):
    got = data(api, """{ insights_aggregate(where: {author: {_eq: "bob"}}) { aggregate {
        count distinct: count(columns: [author], distinct: true) cats: count(columns: [category_id])
        max { title created_at } min { priority } sum { id } avg { id } } } }""")
    agg = got["insights_aggregate"]["aggregate"]
    b1, b4 = world["ins"][1], world["ins"][4]
    assert agg["count"] == 2 and agg["distinct"] == 1 and agg["cats"] == 2
    assert agg["max"] == {"title": "性能の改善", "created_at": max(b1["created_at"], b4["created_at"])}
    assert agg["min"] == {"priority": "low"}
    assert agg["sum"] == {"id": b1["id"] + b4["id"]}
    assert agg["avg"] == {"id": (b1["id"] + b4["id"]) / 2}
    none = data(api, '{ tags_aggregate(where: {name: {_eq: "nope"}}) { aggregate { count max { name } sum { usage_count } } } }')
    assert none["tags_aggregate"]["aggregate"] == {"count": 0, "max": {"name": None}, "sum": {"usage_count": None}}


def test_groups_match_statistics(api, world):
    got = data(api, """{ by_status: insights_groups(group_by: [status]) { keys { status } aggregate { count } }
        by_category: insights_groups(group_by: [category_id]) { keys { category_id category { name } } aggregate { count } } }""")
    stats = api.call("GET", "/statistics")
    assert {g["keys"]["status"]: g["aggregate"]["count"] for g in got["by_status"]} == \
        {k: v for k, v in stats["insights_by_status"].items() if v}
    names = {(g["keys"]["category"] or {"name": "Uncategorized"})["name"]: g["aggregate"]["count"]
             for g in got["by_category"]}
    assert names == {k: v for k, v in stats["insights_by_category"].items() if v}
    assert got["by_category"][0]["keys"] == {"category_id": None, "category": None}  # nulls first


def test_by_pk_missing_is_null(api, world):
    assert data(api, "{ insights_by_pk(id: 999999) { id } tags_by_pk(id: 0) { id } }") == \
        {"insights_by_pk": None, "tags_by_pk": None}


def test_search_insights_ranks_like_rest_and_composes(api, world):
    rest = api.search(query="performance")
    got = data(api, '{ search_insights(args: {query: "performance"}) { id } }')["search_insights"]
    assert ids_of(got) == [i["id"] for i in rest["insights"]]
    assert sorted(ids_of(got)) == world_ids(world, 0, 3)
    only_ada = data(api, '{ search_insights(args: {query: "performance"}, where: {author: {_eq: "ada"}}) { id } }')
    assert ids_of(only_ada["search_insights"]) == [i["id"] for i in rest["insights"] if i["author"] == "ada"]
    agg = data(api, '{ search_insights_aggregate(args: {query: "performance"}) { aggregate { count } } }')
    assert agg["search_insights_aggregate"]["aggregate"]["count"] == rest["total"]


# ---------------------------------------------------------------------------
# The language

def test_variables_fragments_directives_typename(api, world):
    query = """
    query Q($author: String!, $withTags: Boolean = true, $skipCat: Boolean!, $limit: Int = 5) {
      insights(where: {author: {_eq: $author}}, order_by: {id: asc}, limit: $limit) {
        ...Basic
        __typename
        tags @include(if: $withTags) { slug __typename }
        category @skip(if: $skipCat) { name }
        ... on insights { alias: title }
      }
      __typename
      insights_aggregate { __typename aggregate { __typename count max { __typename id } } }
    }
    fragment Basic on insights { id title }
    """
    got = data(api, query, {"author": "bob", "skipCat": True})
    rows = got["insights"]
    assert [list(r) for r in rows] == [["id", "title", "__typename", "tags", "alias"]] * 2
    assert rows[0]["__typename"] == "insights" and rows[0]["tags"][0]["__typename"] == "tags"
    assert rows[0]["alias"] == rows[0]["title"]
    assert got["__typename"] == "query_root"
    agg = got["insights_aggregate"]
    assert agg["__typename"] == "insights_aggregate"
    assert agg["aggregate"]["__typename"] == "insights_aggregate_fields"
    assert agg["aggregate"]["max"]["__typename"] == "insights_max_fields"
    got = data(api, query, {"author": "bob", "skipCat": False, "withTags": False, "limit": 1})
    assert list(got["insights"][0]) == ["id", "title", "__typename", "category", "alias"]


def test_operation_name_chooses(api, world):
    doc = "query A { tags(limit: 1) { id } } query B { categories(limit: 1) { id } }"
    assert list(data(api, doc, operation="B")) == ["categories"]
    err = error(api, doc)
    assert "operationName" in err["message"]
    err = error(api, doc, operation="C")
    assert err["extensions"]["code"] == "validation-failed"


def test_same_field_twice_merges(api, world):
    got = data(api, "{ insights(limit: 1, order_by: {id: asc}) { id } insights(limit: 1, order_by: {id: asc}) { title } }")
    assert list(got["insights"][0]) == ["id", "title"]


# ---------------------------------------------------------------------------
# Errors in Hasura's shape

def test_parse_error(api):
    err = error(api, "{ insights { id }")
    assert err["extensions"] == {"path": "$.query", "code": "parse-failed"}
    assert "line 1" in err["message"]


def test_unknown_field(api):
    err = error(api, "{ insights { id foo } }")
    assert err["extensions"] == {"path": "$.selectionSet.insights.selectionSet.foo",
                                 "code": "validation-failed"}
    assert err["message"] == "field 'foo' not found in type: 'insights'"


def test_null_operand_is_an_error(api, world):
    err = error(api, "{ insights(where: {id: {_eq: null}}) { id } }")
    assert err["extensions"] == {"path": "$.selectionSet.insights.args.where.id._eq",
                                 "code": "validation-failed"}
    assert "null" in err["message"] and "_is_null" in err["message"]
    # Not even inside a relationship, or next to a condition that holds.
    err = error(api, '{ insights(where: {priority: {_eq: "high"}, category: {name: {_neq: null}}}) { id } }')
    assert err["extensions"]["path"] == "$.selectionSet.insights.args.where.category.name._neq"
    assert "_is_null" in err["message"]
    assert data(api, "{ insights(where: {id: {_is_null: false}}, limit: 1) { id } }")["insights"]
    err = error(api, "query($id: Int) { insights(where: {id: {_eq: $id}}) { id } }", {"id": None})
    assert err["extensions"]["code"] == "validation-failed"


def test_variable_errors(api):
    err = error(api, "query($n: Int!) { insights(limit: $n) { id } }", {})
    assert err["message"] == 'expecting a value for non-nullable variable: "n"'
    err = error(api, "query($n: Int!) { insights(limit: $n) { id } }", {"n": "five"})
    assert err["message"] == "expected a 32-bit integer for type 'Int', but found a string"
    assert err["extensions"]["path"] == "$.variableValues.n"
    err = error(api, "query($n: Int!) { insights(limit: $n) { id } }", {"n": 1, "extra": 2})
    assert err["message"] == "unexpected variables in variableValues: extra"
    err = error(api, 'query($w: insights_bool_exp) { insights(where: $w) { id } }', {"w": {"nope": {}}})
    assert err["message"] == "field 'nope' not found in type: 'insights_bool_exp'"


def test_transport_errors(api, server):
    url = server.url + "/v1/graphql"
    r = requests.post(url, data="{", headers={"Content-Type": "application/json"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "invalid-json"
    r = requests.post(url, data='{"query": "{ tags { id } }"}', headers={"Content-Type": "text/plain"},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 415
    r = requests.post(url, json={"variables": {}}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 400 and r.json()["errors"][0]["extensions"]["code"] == "bad-request"
    r = requests.post(url, json=[], timeout=HTTP_TIMEOUT)
    assert r.status_code == 400
    r = requests.put(url, json={"query": "{ tags { id } }"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 405
    r = requests.get(url, params={"query": "mutation { delete_tags(where: {}) { affected_rows } }"},
                     timeout=HTTP_TIMEOUT)
    assert r.status_code == 405 and "POST" in r.json()["errors"][0]["message"]
    assert data(api, "{ tags_aggregate { aggregate { count } } }")["tags_aggregate"]["aggregate"]["count"] >= 3


def test_get_and_alias_and_batch(api, server, world):
    r = requests.get(server.url + "/graphql", timeout=HTTP_TIMEOUT, params={
        "query": "query($s: String!) { tags(where: {slug: {_eq: $s}}) { name } }",
        "variables": json.dumps({"s": "security"})})
    assert r.status_code == 200 and r.json() == {"data": {"tags": [{"name": "security"}]}}
    r = requests.post(server.url + "/v1/graphql", timeout=HTTP_TIMEOUT, json=[
        {"query": '{ tags(where: {slug: {_eq: "perf"}}) { id } }'},
        {"query": "{ nope }"},
        {"query": '{ categories(where: {name: {_eq: "Process"}}) { name } }'}])
    assert r.status_code == 200
    a, b, c = r.json()
    assert a == {"data": {"tags": []}}
    assert b["errors"][0]["extensions"]["code"] == "validation-failed"
    assert c == {"data": {"categories": [{"name": "Process"}]}}


def test_metrics_count_operations(api, server):
    def counts():
        text = requests.get(server.url + "/metrics", timeout=HTTP_TIMEOUT).text
        out = {}
        for line in text.splitlines():
            if line.startswith("graphql_operations_total{"):
                labels, value = line.split("} ")
                out[labels.split("{")[1]] = float(value)
        return out
    before = counts()
    data(api, "{ tags(limit: 1) { id } }")
    error(api, "{ nope }")
    after = counts()
    assert after['type="query",status="ok"'] == before['type="query",status="ok"'] + 1
    assert after['type="query",status="error"'] == before['type="query",status="error"'] + 1
    text = requests.get(server.url + "/metrics", timeout=HTTP_TIMEOUT).text
    assert 'endpoint="/v1/graphql"' in text


def cache_hits(server):
    text = requests.get(server.url + "/metrics", timeout=HTTP_TIMEOUT).text
    return next(float(line.split()[1]) for line in text.splitlines()
                if line.startswith("insights_cache_hits_total "))


@pytest.mark.skipif(BACKEND != "sqlite", reason="a shared store (PostgreSQL) caches only "
                    "while listening: tests/pg covers it")
def test_query_answers_are_cached_until_a_write(fresh_server):
    """A query's answer is stored the second time it is asked for and served
    the third; a write moves the data version on, and the next answer counts
    it."""
    server, api = fresh_server, fresh_server.api
    author = f"gqlcache-{uid()}"
    query = f'{{ insights(where: {{author: {{_eq: "{author}"}}}}) {{ id title }} }}'
    api.create_insight(author=author, title="first")
    hits, answers = [cache_hits(server)], []
    for _ in range(3):
        answers.append(data(api, query))
        hits.append(cache_hits(server))
    assert answers[0] == answers[1] == answers[2] and len(answers[0]["insights"]) == 1
    assert [h - hits[0] for h in hits[1:]] == [0, 0, 1], hits
    api.create_insight(author=author, title="second")
    assert len(data(api, query)["insights"]) == 2
    # The same bytes declared as something else than JSON are refused, not served.
    resp = api.post("/v1/graphql", data=json.dumps({"query": query}),
                    headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415, resp.text[:300]


@pytest.mark.skipif(BACKEND != "sqlite", reason="a shared store (PostgreSQL) caches only "
                    "while listening: tests/pg covers it")
def test_mutations_errors_and_batches_are_never_cached(fresh_server):
    server, api = fresh_server, fresh_server.api
    before = cache_hits(server)
    mutation = ('mutation { insert_insights(objects: [{title: "m", description: "d", '
                'author: "gqlcache"}]) { returning { id } } }')
    made = [data(api, mutation)["insert_insights"]["returning"][0]["id"] for _ in range(3)]
    assert len(set(made)) == 3
    for _ in range(3):
        error(api, "{ nope }")
    batch = [{"query": "{ tags(limit: 1) { id } }"}]
    for _ in range(3):
        assert requests.post(server.url + "/v1/graphql", json=batch,
                             timeout=HTTP_TIMEOUT).status_code == 200
    assert cache_hits(server) == before


# ---------------------------------------------------------------------------
# Mutations: the REST rules, all or nothing

def test_mutations_follow_rest_rules(fresh_api):
    api = fresh_api
    t1, t2 = api.create_tag(), api.create_tag()
    cat = api.create_category()
    got = data(api, f"""mutation {{ insert_insights(objects: [
        {{title: "one", description: "d", author: "gq", category_id: {cat['id']}, tag_ids: [{t1['id']}, {t2['id']}]}},
        {{title: "two", description: "d", author: "gq", status: "published"}}]) {{
        affected_rows returning {{ id title status published_at tags {{ id usage_count }} category {{ insight_count }} }} }} }}""")
    res = got["insert_insights"]
    assert res["affected_rows"] == 2
    one, two = res["returning"]
    assert [t["usage_count"] for t in one["tags"]] == [1, 1]
    assert one["category"] == {"insight_count": 1} and one["published_at"] is None
    assert two["status"] == "published" and two["published_at"] is not None
    rest_one = api.insight(one["id"])
    assert rest_one["title"] == "one" and [t["id"] for t in rest_one["tags"]] == [t1["id"], t2["id"]]

    # tag_ids replaces the set, usage counts follow.
    got = data(api, f'mutation {{ update_insights_by_pk(pk_columns: {{id: {one["id"]}}}, _set: {{tag_ids: [{t2["id"]}], priority: "critical"}}) {{ priority tags {{ id }} }} }}')
    assert got["update_insights_by_pk"] == {"priority": "critical", "tags": [{"id": t2["id"]}]}
    assert api.tag(t1["id"])["usage_count"] == 0 and api.tag(t2["id"])["usage_count"] == 1

    got = data(api, 'mutation { update_insights(where: {author: {_eq: "gq"}}, _set: {status: "archived"}) { affected_rows } }')
    assert got["update_insights"]["affected_rows"] == 2
    stats = api.call("GET", "/statistics")
    assert stats["insights_by_status"]["archived"] == 2

    got = data(api, f'mutation {{ delete_insights_by_pk(id: {two["id"]}) {{ id title }} nope: delete_insights_by_pk(id: 999999) {{ id }} }}')
    assert got == {"delete_insights_by_pk": {"id": two["id"], "title": "two"}, "nope": None}
    api.call("GET", f"/insights/{two['id']}", 404)

    # A category with an insight cannot be deleted: REST's 409, as a constraint violation.
    err = error(api, f'mutation {{ delete_categories(where: {{id: {{_eq: {cat["id"]}}}}}) {{ affected_rows }} }}')
    assert err["extensions"] == {"path": "$.selectionSet.delete_categories", "code": "constraint-violation"}
    assert err["message"].startswith("Cannot delete category with 1 insights")
    api.category(cat["id"])


def test_rejected_mutation_writes_nothing(fresh_api):
    api = fresh_api
    tag = api.create_tag(name="taken")
    before = api.call("GET", "/statistics")
    err = error(api, f"""mutation {{
        a: insert_insights_one(object: {{title: "kept?", description: "d", author: "x", tag_ids: [{tag['id']}]}}) {{ id }}
        b: insert_tags_one(object: {{name: "new-one", slug: "new-one"}}) {{ id }}
        c: insert_tags_one(object: {{name: "taken", slug: "other"}}) {{ id }} }}""")
    # Hasura's paths name the field, not its alias.
    assert err["extensions"] == {"path": "$.selectionSet.insert_tags_one.args.object",
                                 "code": "constraint-violation"}
    assert err["message"] == "Tag with name 'taken' already exists"
    assert api.call("GET", "/statistics") == before
    assert api.tag(tag["id"])["usage_count"] == 0
    assert [t["name"] for t in api.all_tags()] == ["taken"]

    err = error(api, 'mutation { insert_insights(objects: [{title: "ok", description: "d", author: "a"}, {title: "", description: "d", author: "a"}]) { affected_rows } }')
    assert err["extensions"] == {"path": "$.selectionSet.insert_insights.args.objects[1].title",
                                 "code": "validation-failed"}
    err = error(api, 'mutation { insert_insights_one(object: {title: "t", description: "d", author: "a", priority: "urgent"}) { id } }')
    assert err["extensions"]["path"] == "$.selectionSet.insert_insights_one.args.object.priority"
    err = error(api, 'mutation { insert_insights_one(object: {title: "t", description: "d", author: "a", tag_ids: [424242]}) { id } }')
    assert err["extensions"]["path"].startswith("$.selectionSet.insert_insights_one.args.object.tag_ids")
    assert api.call("GET", "/statistics") == before


# ---------------------------------------------------------------------------
# Limits: a hostile document gets a precise error, never a crash or a hang

def test_depth_limit(api, world):
    def nested(levels):
        # insights { category { children { children { ... { id } } } } }
        inner = "id"
        for _ in range(levels - 2):
            inner = f"children {{ {inner} }}"
        return f"{{ categories {{ {inner} }} }}"
    assert "categories" in data(api, nested(12))
    err = error(api, nested(13))
    assert err["extensions"]["code"] == "validation-failed"
    assert "12" in err["message"] and "--graphql-max-depth" in err["message"]
    # Through fragments too.
    frags = "".join(f"fragment F{i} on categories {{ children {{ ...F{i + 1} }} }} " for i in range(14))
    err = error(api, "{ categories { ...F0 } } " + frags + "fragment F14 on categories { id }")
    assert "--graphql-max-depth" in err["message"]


def test_field_limit(api, world):
    fields = " ".join(f"a{i}: id" for i in range(999))
    assert len(data(api, f"{{ tags(limit: 1) {{ {fields} }} }}")["tags"][0]) == 999
    fields = " ".join(f"a{i}: id" for i in range(1000))
    err = error(api, f"{{ tags(limit: 1) {{ {fields} }} }}")
    assert "--graphql-max-fields" in err["message"]


def test_hostile_documents(api, world, server):
    # Introspection nested deeper than any client asks: refused, the server lives on.
    deep = "{ __schema { types { " + "ofType { " * 60 + "name" + " }" * 60 + " } } }"
    err = error(api, deep)
    assert err["extensions"]["code"] in ("validation-failed", "parse-failed")
    # A fragment fan-out that a naive expansion would take forever on.
    frags = "".join(f"fragment G{i} on tags {{ ...G{i + 1} ...G{i + 1} }} " for i in range(40))
    answer = post(api, "{ tags(limit: 1) { ...G0 } } " + frags + "fragment G40 on tags { id }")
    assert "data" in answer or answer["errors"][0]["extensions"]["code"] == "validation-failed"
    # A large document: parsed, refused or answered, never a 500.
    big = "{ " + " ".join(f"f{i}: tags(limit: 1) {{ id }}" for i in range(3000)) + " }"
    err = error(api, big)
    assert err["extensions"]["code"] in ("validation-failed", "parse-failed")
    r = requests.post(server.url + "/v1/graphql", data=b'{"query": "{ tags { id \\u0000 } }"}',
                      headers={"Content-Type": "application/json"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.json()["errors"][0]["extensions"]["code"] == "parse-failed"
    assert requests.get(server.url + "/health", timeout=HTTP_TIMEOUT).status_code == 200


def test_schema_answers_are_kept_by_request(api):
    """Introspection answers are kept by the request's text: the same query
    with other variables is another answer."""
    q = "query($n: String!) { __type(name: $n) { name kind fields { name } } }"
    a = data(api, q, {"n": "tags"})
    assert a == data(api, q, {"n": "tags"})
    assert a["__type"]["name"] == "tags" and a["__type"]["kind"] == "OBJECT"
    b = data(api, q, {"n": "order_by"})
    assert b == {"__type": {"name": "order_by", "kind": "ENUM", "fields": None}}
    assert data(api, q, {"n": "nope"}) == {"__type": None}
    assert data(api, "{ __schema { queryType { name } } }") == {"__schema": {"queryType": {"name": "query_root"}}}
    assert data(api, '{ __type(name: "tags") { name } }') == {"__type": {"name": "tags"}}
    # A query that reads data is never kept, even beside introspection.
    both = '{ __typename tags_aggregate { aggregate { count } } }'
    first = data(api, both)["tags_aggregate"]["aggregate"]["count"]
    api.create_tag(name=f"kept-{uid()}")
    assert data(api, both)["tags_aggregate"]["aggregate"]["count"] == first + 1
    name = f"kept-{uid()}"
    before = data(api, "{ tags_aggregate { aggregate { count } } }")
    api.create_tag(name=name)
    after = data(api, "{ tags_aggregate { aggregate { count } } }")
    assert after["tags_aggregate"]["aggregate"]["count"] == before["tags_aggregate"]["aggregate"]["count"] + 1
