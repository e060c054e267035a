"""Revisions and safe concurrent edits (issue 14): every change of an insight keeps
a revision; any revision can be restored, a deleted insight brought back; ETag,
If-None-Match (304) and If-Match (412) on insights, tags and categories, the check
atomic with the write; GraphQL's _expected_revision."""
import threading
import time

import requests

from conftest import assert_detail, uid
from test_guards import Faults, needs_faults

CONTENT_KEYS = ("id", "title", "description", "content", "source", "author", "category_id",
                "priority", "status", "created_at", "published_at")


def without(ins, *keys):
    return {k: v for k, v in ins.items() if k not in keys}


def as_revision(ins):
    """The fields a revision of `ins` holds."""
    out = {k: ins[k] for k in CONTENT_KEYS + ("updated_at", "revision", "review_by", "owner",
                                               "reviewed_at")}
    out["tag_ids"] = [t["id"] for t in ins["tags"]]
    return out


def etag(resp):
    return resp.headers["ETag"]


def usage(api, tag):
    return api.tag(tag["id"])["usage_count"]


def searched(api, text):
    return [i["id"] for i in api.search(query=text)["insights"]]


def counts(api):
    """/statistics without its recent insights (whose revision moves)."""
    return without(api.call("GET", "/statistics"), "recent_insights")


def gql(api, query):
    resp = api.post("/v1/graphql", json={"query": query})
    assert resp.status_code == 200, resp.text
    return resp.json()


# ---------------------------------------------------------------------------
# Revisions

def test_revisions_and_restore_round_trip_byte_exact(api):
    t1, t2 = api.create_tag(), api.create_tag()
    cat = api.create_category()
    word = f"orig{uid()}"
    first = api.create_insight(title=f"{word} first", content="# body\n\ntext", source="src",
                               status="published", priority="high", category_id=cat["id"],
                               tag_ids=[t1["id"]])
    v1 = api.insight(first["id"])
    assert v1["revision"] == 1
    stats_before = counts(api)
    new_word = f"changed{uid()}"
    v2 = api.call("PUT", f"/insights/{v1['id']}", json={
        "title": f"{new_word} second", "content": None, "source": None, "status": "draft",
        "priority": "low", "category_id": None, "tag_ids": [t2["id"]]})
    assert v2["revision"] == 2 and v2["published_at"] is None
    assert usage(api, t1) == 0 and usage(api, t2) == 1

    page = api.call("GET", f"/insights/{v1['id']}/revisions")
    assert page["total"] == 2 and page["page"] == 1 and page["page_size"] == 20
    assert [r["revision"] for r in page["revisions"]] == [2, 1]
    assert page["revisions"][0] == {**as_revision(v2), "actor": "anonymous", "deleted_at": None}
    one = api.call("GET", f"/insights/{v1['id']}/revisions/1")
    # The revision is the insight as it was, to the byte.
    assert one == {**as_revision(v1), "actor": "anonymous", "deleted_at": None}

    time.sleep(1.1)  # a new second: what the restore sets anew (not published_at) shows
    restored = api.call("POST", f"/insights/{v1['id']}/revisions/1/restore")
    assert restored["revision"] == 3
    now = api.insight(v1["id"])
    assert now == restored
    # Everything but the revision and the time of the change is revision 1's,
    # published_at included (the lifecycle rule would have made it now).
    assert without(now, "revision", "updated_at") == without(v1, "revision", "updated_at")
    assert now["updated_at"] > v1["updated_at"]
    # Counts and the search index follow.
    assert usage(api, t1) == 1 and usage(api, t2) == 0
    assert counts(api) == stats_before
    assert v1["id"] in searched(api, word)
    assert v1["id"] not in searched(api, new_word)
    # The restore is a revision too.
    page = api.call("GET", f"/insights/{v1['id']}/revisions", params={"page_size": 2})
    assert page["total"] == 3 and [r["revision"] for r in page["revisions"]] == [3, 2]
    page2 = api.call("GET", f"/insights/{v1['id']}/revisions", params={"page": 2, "page_size": 2})
    assert [r["revision"] for r in page2["revisions"]] == [1]
    assert without(page["revisions"][0], "revision", "updated_at") == \
        without(one, "revision", "updated_at")


def test_revisions_not_found(api):
    ins = api.create_insight()
    assert_detail(api.get("/insights/999999999/revisions"), 404, "Insight not found")
    assert_detail(api.get(f"/insights/{ins['id']}/revisions/2"), 404, "Revision not found")
    assert_detail(api.get(f"/insights/{ins['id']}/revisions/0"), 404, "Revision not found")
    assert api.get(f"/insights/{ins['id']}/revisions/x").status_code == 422
    assert_detail(api.post(f"/insights/{ins['id']}/revisions/5/restore"), 404, "Revision not found")
    assert_detail(api.post("/insights/999999999/revisions/1/restore"), 404, "Insight not found")


def test_an_insight_from_before_revisions_has_one(fresh_server):
    api = fresh_server.api
    ins = api.create_insight(title="old one")
    # As a database migrated from before revisions were kept (or a bulk load) has it.
    fresh_server.db.execute("DELETE FROM insight_revisions")
    page = api.call("GET", f"/insights/{ins['id']}/revisions")
    assert page["total"] == 1
    assert page["revisions"][0] == {**as_revision(ins), "actor": None, "deleted_at": None}
    assert api.call("GET", f"/insights/{ins['id']}/revisions/1")["title"] == "old one"
    api.call("PUT", f"/insights/{ins['id']}", json={"title": "new one"})
    page = api.call("GET", f"/insights/{ins['id']}/revisions")
    assert [(r["revision"], r["title"], r["actor"]) for r in page["revisions"]] == \
        [(2, "new one", "anonymous"), (1, "old one", None)]


def test_a_deleted_insight_comes_back_with_its_id_tags_and_category(api):
    tag = api.create_tag()
    cat = api.create_category()
    word = f"gone{uid()}"
    ins = api.create_insight(title=f"{word} x", status="published", category_id=cat["id"],
                             tag_ids=[tag["id"]])
    api.call("PUT", f"/insights/{ins['id']}", json={"priority": "critical"})
    before = api.insight(ins["id"])
    stats = counts(api)
    api.call("DELETE", f"/insights/{ins['id']}", 204)
    api.call("GET", f"/insights/{ins['id']}", 404)
    assert usage(api, tag) == 0 and ins["id"] not in searched(api, word)
    kept = api.call("GET", f"/insights/{ins['id']}/revisions")
    assert kept["total"] == 2 and all(r["deleted_at"] for r in kept["revisions"])

    back = api.call("POST", f"/insights/{ins['id']}/restore", 201)
    assert back["revision"] == 3
    assert without(api.insight(ins["id"]), "revision", "updated_at") == \
        without(before, "revision", "updated_at")
    assert usage(api, tag) == 1 and ins["id"] in searched(api, word)
    assert counts(api) == stats
    assert all(r["deleted_at"] is None
               for r in api.call("GET", f"/insights/{ins['id']}/revisions")["revisions"])
    assert_detail(api.post(f"/insights/{ins['id']}/restore"), 409,
                  f"Insight {ins['id']} is not deleted")
    assert_detail(api.post("/insights/999999999/restore"), 404, "No deleted insight 999999999 is kept")


def test_restore_is_refused_when_a_tag_or_category_is_gone(api):
    tag, keep = api.create_tag(), api.create_tag()
    ins = api.create_insight(tag_ids=[keep["id"], tag["id"]])
    api.call("PUT", f"/insights/{ins['id']}", json={"tag_ids": [keep["id"]]})
    api.call("DELETE", f"/tags/{tag['id']}", 204)
    resp = api.post(f"/insights/{ins['id']}/revisions/1/restore")
    assert_detail(resp, 409, f"Cannot restore revision 1: tag {tag['id']} does not exist")
    assert api.insight(ins["id"])["revision"] == 2  # nothing written

    cat = api.create_category()
    gone = api.create_insight(category_id=cat["id"])
    api.call("DELETE", f"/insights/{gone['id']}", 204)
    api.call("DELETE", f"/categories/{cat['id']}", 204)
    assert_detail(api.post(f"/insights/{gone['id']}/restore"), 409,
                  f"Cannot restore the insight: category {cat['id']} does not exist")
    api.call("GET", f"/insights/{gone['id']}", 404)


# ---------------------------------------------------------------------------
# Conditional requests

def test_insight_etag_304_and_412(api):
    ins = api.create_insight(title="etag")
    resp = api.get(f"/insights/{ins['id']}")
    assert etag(resp) == '"1"'
    resp = api.get(f"/insights/{ins['id']}", headers={"If-None-Match": '"1"'})
    assert resp.status_code == 304 and resp.content == b"" and etag(resp) == '"1"'
    assert api.get(f"/insights/{ins['id']}", headers={"If-None-Match": '"2"'}).status_code == 200
    resp = api.put(f"/insights/{ins['id']}", json={"title": "one"}, headers={"If-Match": '"1"'})
    assert resp.status_code == 200 and etag(resp) == '"2"' and resp.json()["revision"] == 2
    # A stale tag: 412 with the current one, nothing written.
    resp = api.put(f"/insights/{ins['id']}", json={"title": "two"}, headers={"If-Match": '"1"'})
    assert_detail(resp, 412, "Insight was modified")
    assert etag(resp) == '"2"'
    assert api.insight(ins["id"])["title"] == "one"
    assert api.get(f"/insights/{ins['id']}", headers={"If-None-Match": '"1"'}).status_code == 200
    resp = api.delete(f"/insights/{ins['id']}", headers={"If-Match": '"1"'})
    assert_detail(resp, 412, "Insight was modified")
    assert api.put(f"/insights/{ins['id']}", json={"title": "x"},
                   headers={"If-Match": '"7", "2"'}).status_code == 200
    assert api.put(f"/insights/{ins['id']}", json={"title": "y"},
                   headers={"If-Match": "*"}).status_code == 200
    assert api.delete(f"/insights/{ins['id']}", headers={"If-Match": '"4"'}).status_code == 204
    assert_detail(api.delete(f"/insights/{ins['id']}", headers={"If-Match": '"4"'}), 404)
    # Without If-Match nothing changes: the specification's clients.
    other = api.create_insight()
    api.call("PUT", f"/insights/{other['id']}", json={"title": "free"})
    api.call("DELETE", f"/insights/{other['id']}", 204)


def test_tag_and_category_versions(api):
    for kind, make, body in (("tags", api.create_tag, lambda: {"description": uid()}),
                             ("categories", api.create_category, lambda: {"description": uid()})):
        row = make()
        what = "Tag" if kind == "tags" else "Category"
        resp = api.get(f"/{kind}/{row['id']}")
        assert etag(resp) == '"1"' and set(resp.json()) == set(row)
        assert api.get(f"/{kind}/{row['id']}", headers={"If-None-Match": '"1"'}).status_code == 304
        resp = api.put(f"/{kind}/{row['id']}", json=body(), headers={"If-Match": '"1"'})
        assert resp.status_code == 200
        assert etag(api.get(f"/{kind}/{row['id']}")) == '"2"'
        resp = api.put(f"/{kind}/{row['id']}", json=body(), headers={"If-Match": '"1"'})
        assert_detail(resp, 412, f"{what} was modified")
        assert etag(resp) == '"2"'
        api.call("PUT", f"/{kind}/{row['id']}", json=body())  # unconditional: version 3
        assert etag(api.get(f"/{kind}/{row['id']}")) == '"3"'
        assert_detail(api.delete(f"/{kind}/{row['id']}", headers={"If-Match": '"2"'}), 412,
                      f"{what} was modified")
        assert api.delete(f"/{kind}/{row['id']}", headers={"If-Match": '"3"'}).status_code == 204


def race(server, ins):
    """16 clients PUT the insight at once with If-Match "1": their statuses, and the winner."""
    url = server.url
    results = []
    barrier = threading.Barrier(16)

    def client(i):
        s = requests.Session()
        barrier.wait()
        r = s.put(f"{url}/insights/{ins['id']}", json={"title": f"racer {i}",
                  "tag_ids": ins["race_tags"]}, headers={"If-Match": '"1"'}, timeout=30)
        results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [412] * 15, codes
    (winner,) = [body for code, body in results if code == 200]
    assert all(body == {"detail": "Insight was modified"} for code, body in results if code == 412)
    return winner


def check_race(server):
    api = server.api
    tag = api.create_tag()
    ins = api.create_insight(title="race")
    winner = race(server, {**ins, "race_tags": [tag["id"]]})
    assert winner["revision"] == 2
    assert api.insight(ins["id"])["title"] == winner["title"]
    assert api.call("GET", f"/insights/{ins['id']}/revisions")["total"] == 2
    assert usage(api, tag) == 1


def test_racing_clients_with_the_same_etag_one_wins(server):
    check_race(server)


@needs_faults
def test_racing_clients_one_wins_with_a_slow_write(servers, tmp_path):
    """The same race, each write held 200 ms between its check and its update:
    the check must keep the row (locked) until the write commits."""
    faults = Faults(tmp_path)
    srv = servers.start(env=faults.env)
    faults.arm("store.insight_update.before_ms 200")
    check_race(srv)


def test_graphql_expected_revision(api):
    ins = api.create_insight(title="gql")
    tag = api.create_tag()
    got = gql(api, f'mutation {{ update_insights_by_pk(pk_columns: {{id: {ins["id"]}}}, '
                   f'_set: {{title: "g2"}}, _expected_revision: 1) {{ title revision }} }}')
    assert got == {"data": {"update_insights_by_pk": {"title": "g2", "revision": 2}}}
    got = gql(api, f'mutation {{ update_insights_by_pk(pk_columns: {{id: {ins["id"]}}}, '
                   f'_set: {{title: "g3"}}, _expected_revision: 1) {{ title }} }}')
    (err,) = got["errors"]
    assert err["message"] == "Insight was modified"
    assert err["extensions"]["code"] == "constraint-violation"
    assert err["extensions"]["path"] == \
        "$.selectionSet.update_insights_by_pk.args._expected_revision"
    assert api.insight(ins["id"])["title"] == "g2"
    got = gql(api, f'mutation {{ delete_insights_by_pk(id: {ins["id"]}, _expected_revision: 1) '
                   f'{{ id }} }}')
    assert got["errors"][0]["extensions"]["code"] == "constraint-violation"
    got = gql(api, f'{{ insights_by_pk(id: {ins["id"]}) {{ revision }} }}')
    assert got == {"data": {"insights_by_pk": {"revision": 2}}}
    got = gql(api, f'mutation {{ delete_tags_by_pk(id: {tag["id"]}, _expected_revision: 2) '
                   f'{{ id }} }}')
    assert got["errors"][0]["message"] == "Tag was modified"
    got = gql(api, f'mutation {{ update_tags_by_pk(pk_columns: {{id: {tag["id"]}}}, '
                   f'_set: {{color: "#123456"}}, _expected_revision: 1) {{ id }} }}')
    assert "errors" not in got, got
    got = gql(api, f'mutation {{ delete_insights_by_pk(id: {ins["id"]}, _expected_revision: 2) '
                   f'{{ id }} }}')
    assert got == {"data": {"delete_insights_by_pk": {"id": ins["id"]}}}
