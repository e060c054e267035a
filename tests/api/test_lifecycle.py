"""Lifecycle statistics (issue 14): status transitions, GET /statistics/lifecycle,
review dates and owners, stale insights (/statistics' stale_insights and
GET /insights?stale=true), POST /insights/{id}/review, the migration's backfill.

Histories are scripted with the test build's frozen clock (lib/fault.h:
"clock.at_s N" makes every time the server writes or computes from exactly N),
so that every figure is exact to the second. Percentiles are nearest-rank:
the value of rank ceil(p * n / 100) of the n sorted durations.
"""
import datetime
import os

import pytest

from conftest import (BACKEND, BIN, Client, assert_422, assert_detail, assert_insight, uid)
from test_auth import Caller, make_token

DAY = 86400


def _has_faults():
    with open(BIN, "rb") as f:
        return b"INSIGHTS_FAULTS_FILE" in f.read()


needs_faults = pytest.mark.skipif(not _has_faults(),
                                  reason="the binary was built without FAULTS=1 (lib/fault.h)")


class Clock:
    """The server's frozen clock: a fault file holding "clock.at_s N"."""

    def __init__(self, directory):
        self.path = os.path.join(str(directory), f"clock-{uid()}")
        self.set(None)

    @property
    def env(self):
        return {"INSIGHTS_FAULTS_FILE": self.path}

    def set(self, at):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("" if at is None else f"clock.at_s {int(at)}\n")
        os.replace(tmp, self.path)


def ts(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def date(t):
    return ts(t)[:10]


def base_time():
    """A round hour of the real time: the scripted 'now'."""
    return int(datetime.datetime.now(datetime.timezone.utc).timestamp()) // 3600 * 3600


def lifecycle(api, **params):
    return api.call("GET", "/statistics/lifecycle", params=params)


def durations(count, median, p90, **name):
    return {**name, "count": count, "median_seconds": median, "p90_seconds": p90}


# ---------------------------------------------------------------------------
# The scripted history: two authors, two categories, days of edits


@needs_faults
def test_lifecycle_figures_exact_on_a_scripted_history(servers):
    clock = Clock(servers.directory)
    db = servers.database()
    alice_token = make_token(db.url, "alice", "editor")
    bob_token = make_token(db.url, "bob", "editor")
    srv = servers.start(db, args=["--auth", "on", "--rate-limit", "0"], env=clock.env)
    alice, bob = Caller(srv.url, alice_token), Caller(srv.url, bob_token)
    n = base_time()

    def at(t, who, method, path, expect=200, **kw):
        clock.set(t)
        return who.call(method, path, expect, **kw)

    ops = alice.call("POST", "/categories", 201, json={"name": f"Ops-{uid()}", "slug": uid()})
    dev = alice.call("POST", "/categories", 201, json={"name": f"Dev-{uid()}", "slug": uid()})

    def create(t, who, **fields):
        ins = at(t, who, "POST", "/insights", 201,
                 json={"title": f"t {uid()}", "description": "d", **fields})
        assert ins["created_at"] == ts(t)
        return ins["id"]

    def status(t, who, iid, s):
        ins = at(t, who, "PUT", f"/insights/{iid}", json={"status": s})
        assert ins["status"] == s and ins["updated_at"] == ts(t)

    a = create(n - 10 * DAY, alice, category_id=ops["id"])
    b = create(n - 10 * DAY, alice, category_id=ops["id"])
    c = create(n - 5 * DAY, bob, category_id=dev["id"])
    create(n - 2 * DAY, bob, status="published")                      # d: published at once
    e = create(n - 200 * DAY, alice, category_id=ops["id"])
    f = create(n - 3 * DAY, alice, category_id=dev["id"])
    create(n - DAY, bob)                                                # g: never published
    status(n - 9 * DAY, alice, a, "published")                         # a: 1 day
    status(n - 7 * DAY, bob, b, "published")                           # b: 3 days
    status(n - 5 * DAY + 3600, bob, c, "published")                    # c: 1 hour
    status(n - 100 * DAY, alice, e, "published")                       # e: 100 days, long ago
    status(n - 2 * DAY, alice, f, "published")                         # f: 1 day ...
    status(n - DAY, alice, f, "draft")                                 # ... back to draft
    status(n - DAY // 2, alice, f, "published")                        # ... published again
    status(n - DAY, alice, a, "archived")
    # A write that changes no status records no transition.
    at(n - DAY, alice, "PUT", f"/insights/{b}", json={"title": "renamed"})

    clock.set(n)
    got = lifecycle(alice)  # days=90 by default
    assert got["days"] == 90 and got["since"] == ts(n - 90 * DAY)
    assert got["transitions"] == [
        {"from": None, "to": "draft", "count": 5},
        {"from": None, "to": "published", "count": 1},
        {"from": "draft", "to": "published", "count": 5},
        {"from": "published", "to": "draft", "count": 1},
        {"from": "published", "to": "archived", "count": 1},
    ]
    # First publications in the window: d 0, c 3600, a 86400, f 86400 (its first), b 259200.
    assert got["time_to_publish"] == {
        "overall": durations(5, 86400, 259200),
        "by_category": [durations(2, 3600, 86400, category=dev["name"]),
                        durations(2, 86400, 259200, category=ops["name"]),
                        durations(1, 0, 0, category="Uncategorized")],
        # The author is who created the insight (the token's name), not who published it.
        "by_author": [durations(3, 86400, 259200, author="alice"),
                      durations(2, 0, 3600, author="bob")],
    }

    # A year: e's creation and publication join, 100 days becomes the 90th percentile.
    got = lifecycle(alice, days=365)
    assert got["transitions"][0] == {"from": None, "to": "draft", "count": 6}
    assert got["transitions"][2] == {"from": "draft", "to": "published", "count": 6}
    assert got["time_to_publish"]["overall"] == durations(6, 86400, 100 * DAY)

    # One day: f's second publication is not a first one: nothing first published.
    got = lifecycle(alice, days=1)
    assert got["since"] == ts(n - DAY)
    assert got["transitions"] == [
        {"from": None, "to": "draft", "count": 1},
        {"from": "draft", "to": "published", "count": 1},
        {"from": "published", "to": "draft", "count": 1},
        {"from": "published", "to": "archived", "count": 1},
    ]
    assert got["time_to_publish"] == {"overall": durations(0, None, None),
                                      "by_category": [], "by_author": []}

    # A write moves the cached answer on (the response cache's freshness rule).
    before = lifecycle(alice)
    assert lifecycle(alice) == before
    g2 = create(n, bob, status="published")
    after = lifecycle(alice)
    assert after["transitions"][1] == {"from": None, "to": "published", "count": 2}
    # [0, 0, 3600, 86400, 86400, 259200]: the median is of rank 3
    assert after["time_to_publish"]["overall"] == durations(6, 3600, 259200)
    # A deleted insight leaves the durations (they are of stored insights), not the counts.
    at(n, alice, "DELETE", f"/insights/{g2}", 204)
    assert lifecycle(alice)["time_to_publish"] == before["time_to_publish"]
    assert lifecycle(alice)["transitions"] == after["transitions"]
    # A reader may read the figures; the insight's restore is a transition from null.
    reader = Caller(srv.url, make_token(db.url, "carol", "reader"))
    assert lifecycle(reader)["days"] == 90
    at(n, alice, "POST", f"/insights/{g2}/restore", 201)
    assert lifecycle(alice)["transitions"][1] == {"from": None, "to": "published", "count": 3}


def test_lifecycle_days_validated(api):
    for bad, kind in (("0", "greater_than_equal"), ("3651", "less_than_equal"),
                      ("abc", "int_parsing"), ("-5", "greater_than_equal")):
        assert_422(api.get("/statistics/lifecycle", params={"days": bad}), (kind, ("query", "days")))
    assert lifecycle(api, days=3650)["days"] == 3650
    assert lifecycle(api, days=1)["days"] == 1


def test_transitions_without_auth_are_anonymous_and_figures_by_the_author_field(servers):
    db = servers.database()
    api = servers.start(db).api
    ins = api.create_insight(status="published", author="Dana Ops")
    api.call("PUT", f"/insights/{ins['id']}", json={"status": "archived"})
    got = lifecycle(api)
    assert got["transitions"] == [{"from": None, "to": "published", "count": 1},
                                  {"from": "published", "to": "archived", "count": 1}]
    # Figures by the insight's author field; each transition keeps its actor.
    assert got["time_to_publish"]["by_author"] == [durations(1, 0, 0, author="Dana Ops")]
    assert db.query("SELECT DISTINCT actor FROM insight_transitions") == [("anonymous",)]


# ---------------------------------------------------------------------------
# review_by, owner, reviews


def test_review_by_and_owner_round_trip(api):
    ins = api.create_insight()
    assert ins["review_by"] is None and ins["owner"] is None and ins["reviewed_at"] is None
    ins = api.create_insight(review_by="2027-02-28", owner="platform-team")
    assert ins["review_by"] == "2027-02-28" and ins["owner"] == "platform-team"
    iid = ins["id"]
    # Absent keeps, a value replaces, null clears.
    got = api.call("PUT", f"/insights/{iid}", json={"title": "x"})
    assert got["review_by"] == "2027-02-28" and got["owner"] == "platform-team"
    got = api.call("PUT", f"/insights/{iid}", json={"review_by": "2028-02-29", "owner": "sre"})
    assert got["review_by"] == "2028-02-29" and got["owner"] == "sre"
    got = api.call("PUT", f"/insights/{iid}", json={"review_by": None, "owner": None})
    assert got["review_by"] is None and got["owner"] is None
    # Revisions keep them, and a restore brings them back.
    rev = api.call("GET", f"/insights/{iid}/revisions/2")
    assert rev["review_by"] == "2027-02-28" and rev["owner"] == "platform-team"
    got = api.call("POST", f"/insights/{iid}/revisions/3/restore")
    assert got["review_by"] == "2028-02-29" and got["owner"] == "sre"
    assert api.insight(iid) == got


def test_review_fields_validated(api):
    long_owner = "é" * 256
    cases = [
        ({"review_by": "2026-02-29"}, ("date_parsing", ("body", "review_by"))),
        ({"review_by": "2026-13-01"}, ("date_parsing", ("body", "review_by"))),
        ({"review_by": "2026-01-01T00:00:00Z"}, ("date_parsing", ("body", "review_by"))),
        ({"review_by": 20260101}, ("string_type", ("body", "review_by"))),
        ({"owner": long_owner}, ("string_too_long", ("body", "owner"))),
        ({"owner": ""}, ("string_too_short", ("body", "owner"))),
        ({"owner": 7}, ("string_type", ("body", "owner"))),
    ]
    ins = api.create_insight()
    for body, problem in cases:
        full = {"title": "t", "description": "d", "author": "a", **body}
        assert_422(api.post("/insights", json=full), problem)
        assert_422(api.put(f"/insights/{ins['id']}", json=body), problem)
    assert api.create_insight(owner="é" * 255)["owner"] == "é" * 255


@needs_faults
def test_review_endpoint(servers):
    clock = Clock(servers.directory)
    srv = servers.start(env=clock.env)
    api = srv.api
    n = base_time()
    clock.set(n - 10 * DAY)
    ins = api.create_insight(status="published", owner="ops")
    iid = ins["id"]
    clock.set(n)
    resp = api.post(f"/insights/{iid}/review")
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert_insight(got)
    # reviewed now, not updated; a new revision (ETag) that keeps the rest
    assert got["reviewed_at"] == ts(n) and got["updated_at"] == ts(n - 10 * DAY)
    assert got["revision"] == 2 and resp.headers["ETag"] == '"2"'
    assert got["review_by"] is None and got["owner"] == "ops"
    # with a next review date; null clears it
    got = api.call("POST", f"/insights/{iid}/review", json={"review_by": "2027-06-30"})
    assert got["review_by"] == "2027-06-30" and got["revision"] == 3
    assert api.call("POST", f"/insights/{iid}/review", json={})["review_by"] == "2027-06-30"
    assert api.call("POST", f"/insights/{iid}/review", json={"review_by": None})["review_by"] is None
    # If-Match: a stale tag is refused, the current one passes
    resp = api.post(f"/insights/{iid}/review", headers={"If-Match": '"2"'})
    assert_detail(resp, 412, "Insight was modified")
    assert resp.headers["ETag"] == '"5"'
    assert api.call("POST", f"/insights/{iid}/review", headers={"If-Match": '"5"'})["revision"] == 6
    # 404, 422
    assert_detail(api.post("/insights/999999/review"), 404, "Insight not found")
    assert_422(api.post(f"/insights/{iid}/review", json={"review_by": "2027-02-30"}),
               ("date_parsing", ("body", "review_by")))
    assert_422(api.post(f"/insights/{iid}/review", json={"review_by": 5}),
               ("string_type", ("body", "review_by")))
    assert api.insight(iid)["revision"] == 6
    # The revision of a review is kept with reviewed_at; no transition is recorded.
    rev = api.call("GET", f"/insights/{iid}/revisions/2")
    assert rev["reviewed_at"] == ts(n) and rev["updated_at"] == ts(n - 10 * DAY)
    assert lifecycle(api)["transitions"] == [{"from": None, "to": "published", "count": 1}]


# ---------------------------------------------------------------------------
# Stale insights


@needs_faults
def test_stale_listing_and_count(servers):
    clock = Clock(servers.directory)
    srv = servers.start(args=["--stale-after", "30d"], env=clock.env)
    api = srv.api
    n = base_time()

    def make(t, **fields):
        clock.set(t)
        return api.create_insight(**fields)["id"]

    p1 = make(n - 40 * DAY, status="published")                          # stale: untouched
    p2 = make(n - 40 * DAY, status="published")                          # reviewed since
    p3 = make(n - 40 * DAY, status="published")                          # updated since
    p4 = make(n - 40 * DAY, review_by=date(n - DAY))                      # draft past its date
    make(n - 40 * DAY, status="archived", review_by=date(n - DAY))        # archived: never
    p6 = make(n - DAY, status="published", review_by=date(n))            # due today: not past
    p7 = make(n - DAY, status="published", review_by=date(n - 2 * DAY))   # past its date
    p8 = make(n - 30 * DAY, status="published")                          # exactly 30 days: not
    clock.set(n - 10 * DAY)
    api.call("POST", f"/insights/{p2}/review")
    clock.set(n - 5 * DAY)
    api.call("PUT", f"/insights/{p3}", json={"title": "touched"})
    clock.set(n)

    stats = api.call("GET", "/statistics")
    assert stats["stale_insights"] == 1   # p1: stale_insights counts age only
    listed = api.all_insights(stale="true")
    assert sorted(i["id"] for i in listed) == sorted([p1, p4, p7])
    assert {i["id"] for i in api.all_insights(stale="true", status="published")} == {p1, p7}
    assert {i["id"] for i in api.all_insights(stale="true", status="draft")} == {p4}
    assert len(api.all_insights(stale="false")) == 8 and len(api.all_insights()) == 8
    # Pages: newest first, as every list.
    first = api.list_insights(stale="true", page=1, page_size=2)
    second = api.list_insights(stale="true", page=2, page_size=2)
    assert first["total"] == second["total"] == 3
    assert [i["id"] for i in first["insights"] + second["insights"]] == [p7, p4, p1]
    assert_422(api.get("/insights", params={"stale": "maybe"}), ("bool_parsing", ("query", "stale")))

    # A day later p8 is past 30 days and p6 past its date; a review takes p1 out.
    clock.set(n + DAY)
    api.call("POST", f"/insights/{p1}/review")
    assert api.call("GET", "/statistics")["stale_insights"] == 1   # p8
    assert {i["id"] for i in api.all_insights(stale="true")} == {p4, p6, p7, p8}


def test_stale_after_option_checked(tmp_path):
    from conftest import run_cli
    for bad in ("0", "30x", "-1d", "3651d", "d"):
        proc = run_cli("serve", "--stale-after", bad, "--port", "0",
                       "--database", "sqlite:///" + str(tmp_path / "x.db"), timeout=30)
        assert proc.returncode == 2, (bad, proc.stderr)
        assert "--stale-after" in proc.stderr


# ---------------------------------------------------------------------------
# GraphQL


def test_graphql_review_fields(api):
    def gql(query):
        answer = api.call("POST", "/v1/graphql", json={"query": query})
        assert "errors" not in answer, answer
        return answer["data"]

    got = gql('mutation { insert_insights_one(object: {title: "g", description: "d", author: "a",'
              ' owner: "team-g", review_by: "2027-01-31"}) { id owner review_by reviewed_at } }')
    one = got["insert_insights_one"]
    assert one["owner"] == "team-g" and one["review_by"] == "2027-01-31"
    assert one["reviewed_at"] is None
    assert api.insight(one["id"])["owner"] == "team-g"
    got = gql(f'{{ insights(where: {{owner: {{_eq: "team-g"}}, id: {{_eq: {one["id"]}}}}}) {{ id review_by }} }}')
    assert got["insights"] == [{"id": one["id"], "review_by": "2027-01-31"}]
    answer = api.call("POST", "/v1/graphql", json={"query":
        f'mutation {{ update_insights_by_pk(pk_columns: {{id: {one["id"]}}}, _set: {{review_by: "2027-02-30"}}) {{ id }} }}'})
    assert answer.get("errors"), answer
    assert api.insight(one["id"])["review_by"] == "2027-01-31"


# ---------------------------------------------------------------------------
# The migration's backfill


def test_migration_backfills_transitions(servers):
    """A database as it was before migration 0008 gets the history its columns tell."""
    db = servers.database()
    srv = servers.start(db)
    api = srv.api
    draft = api.create_insight()["id"]
    direct = api.create_insight(status="published")["id"]
    later = api.create_insight()["id"]
    api.call("PUT", f"/insights/{later}", json={"status": "published"})
    archived = api.create_insight(status="published")["id"]
    api.call("PUT", f"/insights/{archived}", json={"status": "archived"})
    never = api.create_insight()["id"]
    api.call("PUT", f"/insights/{never}", json={"status": "archived"})
    srv.stop_and_check()
    # Back to before 0008: its table, indexes and columns gone, its row forgotten.
    db.execute("DROP TABLE insight_transitions")
    for index in ("ix_insights_fresh", "ix_insights_review_by"):
        db.execute(f"DROP INDEX {index}")
    for column in ("review_by", "owner", "reviewed_at"):
        db.execute(f"ALTER TABLE insights DROP COLUMN {column}")
        db.execute(f"ALTER TABLE insight_revisions DROP COLUMN {column}")
    db.execute("DELETE FROM schema_migrations WHERE version = 8")
    # Make "later" published a second after its creation, as the live write may
    # have done within the same second.
    if BACKEND == "sqlite":
        db.execute(f"UPDATE insights SET published_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+1 second') WHERE id = {later}")
    else:
        db.execute(f"UPDATE insights SET published_at = created_at + interval '1 second' WHERE id = {later}")
    srv = servers.start(db)
    rows = db.query("SELECT insight_id, coalesce(from_status, '-'), to_status, coalesce(actor, '-')"
                    " FROM insight_transitions ORDER BY insight_id, id")
    assert [r[:3] for r in rows] == [
        (str(draft), "-", "draft"),
        (str(direct), "-", "published"),
        (str(later), "-", "draft"), (str(later), "draft", "published"),
        (str(archived), "-", "published"), (str(archived), "published", "archived"),
        (str(never), "-", "draft"), (str(never), "draft", "archived"),
    ]
    assert {r[3] for r in rows} == {"-"}
    got = lifecycle(srv.api)
    assert got["time_to_publish"]["overall"] == durations(3, 0, 1)
    # The insight's author stands for the unknown actor of backfilled history.
    authors = {a["author"] for a in got["time_to_publish"]["by_author"]}
    assert authors == {srv.api.insight(i)["author"] for i in (direct, later, archived)}
    assert srv.api.insight(draft)["review_by"] is None
