"""POST/GET/PUT/DELETE /insights/{id}: fields, defaults, validation, lifecycle."""
import datetime
import time

import pytest

from conftest import assert_422, assert_422_at, assert_detail, uid, utc_today


def base(**fields):
    return {"title": f"title {uid()}", "description": "desc", "author": f"author {uid()}", **fields}


def tag_counts(api, tags):
    return {t["id"]: api.tag(t["id"])["usage_count"] for t in tags}


def test_create_minimal_defaults(api):
    body = base()
    ins = api.create_insight(**body)
    assert ins["title"] == body["title"]
    assert ins["description"] == "desc"
    assert ins["author"] == body["author"]
    assert ins["content"] is None and ins["source"] is None
    assert ins["category_id"] is None and ins["category"] is None
    assert ins["priority"] == "medium"
    assert ins["status"] == "draft"
    assert ins["published_at"] is None
    assert ins["tags"] == []
    assert ins["created_at"] == ins["updated_at"]
    assert api.insight(ins["id"]) == ins


def test_create_full(api):
    cat = api.create_category(description="d", color="#00ff00", icon="bulb")
    t1, t2 = api.create_tag(), api.create_tag()
    ins = api.create_insight(**base(content="long content", source="https://example.com/x",
                                    category_id=cat["id"], priority="critical",
                                    status="published", tag_ids=[t2["id"], t1["id"]],
                                    description=""))
    assert ins["content"] == "long content"
    assert ins["source"] == "https://example.com/x"
    assert ins["description"] == ""
    assert ins["priority"] == "critical" and ins["status"] == "published"
    assert ins["published_at"] is not None
    assert ins["category_id"] == cat["id"]
    expected_cat = {k: v for k, v in cat.items() if k != "insight_count"}
    assert ins["category"] == expected_cat
    assert [t["id"] for t in ins["tags"]] == sorted([t1["id"], t2["id"]])
    assert all(t["usage_count"] == 1 for t in ins["tags"])
    assert api.insight(ins["id"]) == ins


def test_many_tags_ordered_by_id(api):
    tags = [api.create_tag()["id"] for _ in range(30)]
    shuffled = tags[1::2] + tags[::2]
    ins = api.create_insight(tag_ids=shuffled)
    assert [t["id"] for t in ins["tags"]] == sorted(tags)
    out = api.call("PUT", f"/insights/{ins['id']}", json={"tag_ids": list(reversed(tags[:10]))})
    assert [t["id"] for t in out["tags"]] == sorted(tags[:10])
    assert [api.tag(t)["usage_count"] for t in tags] == [1] * 10 + [0] * 20


def assert_stamps_are_utc_now(api):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ins = api.create_insight(status="published")
    after = datetime.datetime.now(datetime.timezone.utc)
    for key in ("created_at", "updated_at", "published_at"):
        stamp = datetime.datetime.strptime(ins[key], "%Y-%m-%dT%H:%M:%SZ")
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
        slack = datetime.timedelta(seconds=1)  # the server may round rather than truncate
        assert before - slack <= stamp <= after + slack, (key, ins[key])


def test_timestamps_are_utc_now(api):
    assert_stamps_are_utc_now(api)


def test_timestamps_are_utc_whatever_the_server_time_zone(servers):
    for tz in ("XXX-14", "YYY+11"):  # POSIX zones: UTC+14, UTC-11
        api = servers.start(env={"TZ": tz}).api
        assert_stamps_are_utc_now(api)
        before = utc_today().isoformat()
        trends = api.call("GET", "/statistics/trends", params={"days": 2})["trends"]
        after = utc_today().isoformat()
        assert trends[-1]["date"] in (before, after)
        assert trends[-1]["total"] == 1


def test_ids_increase(api):
    a, b = api.create_insight(), api.create_insight()
    assert b["id"] > a["id"]


def test_duplicate_tag_ids_collapse(api):
    t = api.create_tag()
    ins = api.create_insight(tag_ids=[t["id"], t["id"], str(t["id"])])
    assert [x["id"] for x in ins["tags"]] == [t["id"]]
    assert api.tag(t["id"])["usage_count"] == 1


@pytest.mark.parametrize("status", ["draft", "published", "archived"])
@pytest.mark.parametrize("priority", ["low", "medium", "high", "critical"])
def test_every_enum_value_accepted(api, status, priority):
    ins = api.create_insight(status=status, priority=priority)
    assert (ins["status"], ins["priority"]) == (status, priority)
    assert (ins["published_at"] is not None) == (status == "published")


def test_lax_integers_accepted(api):
    cat = api.create_category()
    t1, t2 = api.create_tag(), api.create_tag()
    ins = api.create_insight(category_id=str(cat["id"]), tag_ids=[str(t1["id"]), float(t2["id"])])
    assert ins["category_id"] == cat["id"]
    assert [t["id"] for t in ins["tags"]] == [t1["id"], t2["id"]]
    ins = api.create_insight(category_id=float(cat["id"]))
    assert ins["category_id"] == cat["id"]


def test_unknown_fields_ignored(api):
    ins = api.create_insight(id=999999999, created_at="2000-01-01T00:00:00Z", usage_count=5,
                             published_at="2000-01-01T00:00:00Z", tags=[{"id": 1}], bogus=True)
    assert ins["id"] != 999999999
    assert ins["created_at"] != "2000-01-01T00:00:00Z"
    assert ins["published_at"] is None and ins["tags"] == []


def test_get_unknown_is_404(api):
    ins = api.create_insight()
    for bad in (ins["id"] + 100000, 0, -1):
        assert_detail(api.get(f"/insights/{bad}"), 404, "Insight not found")
        assert_detail(api.put(f"/insights/{bad}", json={"title": "x"}), 404, "Insight not found")
        assert_detail(api.delete(f"/insights/{bad}"), 404, "Insight not found")


@pytest.mark.parametrize("raw", ["abc", "1.5", "1e3", "0x10", "1%20OR%201=1", "%20", "one",
                                 "%091", "%0A1", "%2B1"])
def test_non_integer_id_is_422(api, raw):
    for method in ("GET", "PUT", "DELETE"):
        resp = api.request(method, f"/insights/{raw}", json={"title": "x"})
        assert_422(resp, ("int_parsing", ["path", "insight_id"]))


# -- validation ------------------------------------------------------------------

def test_missing_required_fields(api):
    assert_422(api.post("/insights", json={}),
               ("missing", ["body", "title"]), ("missing", ["body", "description"]),
               ("missing", ["body", "author"]))


def test_several_problems_reported_together(api):
    resp = api.post("/insights", json={"title": "x", "description": "", "priority": "urgent"})
    assert_422(resp, ("enum", ["body", "priority"]), ("missing", ["body", "author"]))
    resp = api.post("/insights", json={"title": "", "description": 5, "author": "a" * 256,
                                       "status": "gone", "tag_ids": "x"})
    assert_422(resp, ("string_too_short", ["body", "title"]), ("string_type", ["body", "description"]),
               ("string_too_long", ["body", "author"]), ("enum", ["body", "status"]),
               ("list_type", ["body", "tag_ids"]))


@pytest.mark.parametrize("field,value,error", [
    ("title", "", "string_too_short"),
    ("title", "x" * 501, "string_too_long"),
    ("title", 5, "string_type"),
    ("title", ["x"], "string_type"),
    ("title", {"a": 1}, "string_type"),
    ("title", True, "string_type"),
    ("description", 1.5, "string_type"),
    ("content", 5, "string_type"),
    ("source", "s" * 256, "string_too_long"),
    ("source", [], "string_type"),
    ("author", "", "string_too_short"),
    ("author", "a" * 256, "string_too_long"),
    ("priority", "urgent", "enum"),
    ("priority", "HIGH", "enum"),
    ("priority", "", "enum"),
    ("status", "PUBLISHED", "enum"),
    ("status", "deleted", "enum"),
    ("category_id", 1.5, "int_from_float"),
    ("category_id", True, "int_type"),
    ("category_id", "abc", "int_parsing"),
    ("category_id", [1], "int_type"),
    ("tag_ids", "1", "list_type"),
    ("tag_ids", 1, "list_type"),
    ("tag_ids", {"a": 1}, "list_type"),
])
def test_field_validation(api, field, value, error):
    resp = api.post("/insights", json=base(**{field: value}))
    assert_422(resp, (error, ["body", field]))


@pytest.mark.parametrize("field", ["title", "description", "author"])
def test_null_required_field_is_422(api, field):
    items = assert_422_at(api.post("/insights", json=base(**{field: None})), ["body", field])
    assert len(items) == 1


def test_max_lengths_accepted(api):
    ins = api.create_insight(title="t" * 500, author="a" * 255, source="s" * 255, description="d" * 5000,
                             content="c" * 65536)
    assert len(ins["title"]) == 500 and len(ins["author"]) == 255 and len(ins["source"]) == 255
    assert ins["content"] == "c" * 65536


def test_content_is_bounded(api):
    """At most 65,536 characters (256 KiB of UTF-8): what bounds a page's memory."""
    assert_422(api.post("/insights", json=base(content="c" * 65537)),
               ("string_too_long", ["body", "content"]))
    # Characters, not bytes: 65,536 four-byte characters pass.
    ins = api.create_insight(content="\U0001F600" * 65536)
    assert len(ins["content"]) == 65536
    assert_422(api.put(f"/insights/{ins['id']}", json={"content": "é" * 65537}),
               ("string_too_long", ["body", "content"]))


def test_nullable_fields_accept_null(api):
    ins = api.create_insight(content=None, source=None, category_id=None)
    assert ins["content"] is None and ins["source"] is None and ins["category"] is None


def test_tag_id_items_validated(api):
    t = api.create_tag()
    assert_422(api.post("/insights", json=base(tag_ids=[t["id"], "x"])),
               ("int_parsing", ["body", "tag_ids", 1]))
    assert_422(api.post("/insights", json=base(tag_ids=[1.5])), ("int_from_float", ["body", "tag_ids", 0]))
    assert_422(api.post("/insights", json=base(tag_ids=[t["id"], t["id"], True])),
               ("int_type", ["body", "tag_ids", 2]))
    assert_422(api.post("/insights", json=base(tag_ids=[None])), ("int_type", ["body", "tag_ids", 0]))


def test_nonexistent_references_are_value_errors(api):
    t = api.create_tag()
    assert_422_at(api.post("/insights", json=base(category_id=10 ** 9)),
                  ["body", "category_id"], "value_error")
    assert_422_at(api.post("/insights", json=base(tag_ids=[t["id"], 10 ** 9])),
                  ["body", "tag_ids"], "value_error")
    # Ids below 1 are 422 too (as a value error, or as a range error).
    assert_422_at(api.post("/insights", json=base(category_id=0)), ["body", "category_id"])
    assert_422_at(api.post("/insights", json=base(category_id=-1)), ["body", "category_id"])
    assert_422_at(api.post("/insights", json=base(tag_ids=[t["id"], -1])), ["body", "tag_ids"])


def test_huge_integer_reference_is_422(api):
    assert_422_at(api.post("/insights", json=base(category_id=10 ** 30)), ["body", "category_id"])
    assert_422_at(api.post("/insights", json=base(tag_ids=[10 ** 30])), ["body", "tag_ids"])


def test_rejected_create_changes_nothing(api):
    tags = [api.create_tag() for _ in range(3)]
    api.create_insight(tag_ids=[tags[0]["id"]])
    total = api.list_insights()["total"]
    counts = tag_counts(api, tags)
    author = f"rejected-{uid()}"
    ids = [t["id"] for t in tags]
    for body in (base(author=author, tag_ids=ids + [10 ** 9]),
                 base(author=author, tag_ids=ids, category_id=10 ** 9),
                 base(author=author, tag_ids=ids, priority="nope")):
        assert_422_at(api.post("/insights", json=body), ["body"])
    assert api.list_insights()["total"] == total
    assert api.list_insights(author=author)["total"] == 0
    assert tag_counts(api, tags) == counts


# -- update -------------------------------------------------------------------------

def test_partial_update_keeps_absent_fields(api):
    cat = api.create_category()
    t1, t2, t3 = api.create_tag(), api.create_tag(), api.create_tag()
    ins = api.create_insight(content="c", source="s", category_id=cat["id"], priority="high",
                             tag_ids=[t1["id"], t2["id"]])
    out = api.call("PUT", f"/insights/{ins['id']}", json={"title": "new title"})
    assert out["title"] == "new title"
    for key in ("description", "content", "source", "author", "category_id", "category",
                "priority", "status", "created_at", "published_at", "tags"):
        assert out[key] == ins[key], key
    assert api.insight(ins["id"]) == out

    out = api.call("PUT", f"/insights/{ins['id']}", json={"tag_ids": [t3["id"], t1["id"]]})
    assert [t["id"] for t in out["tags"]] == sorted([t1["id"], t3["id"]])
    assert out["title"] == "new title"
    assert tag_counts(api, [t1, t2, t3]) == {t1["id"]: 1, t2["id"]: 0, t3["id"]: 1}

    out = api.call("PUT", f"/insights/{ins['id']}", json={"tag_ids": []})
    assert out["tags"] == []
    assert tag_counts(api, [t1, t2, t3]) == {t1["id"]: 0, t2["id"]: 0, t3["id"]: 0}

    out = api.call("PUT", f"/insights/{ins['id']}", json={})
    assert {k: v for k, v in out.items() if k != "updated_at"} == \
        {k: v for k, v in api.insight(ins["id"]).items() if k != "updated_at"}


def test_update_every_field(api):
    cat1, cat2 = api.create_category(), api.create_category()
    ins = api.create_insight(category_id=cat1["id"])
    body = {"title": "T2", "description": "D2", "content": "C2", "source": "S2", "author": "A2",
            "category_id": cat2["id"], "priority": "low", "status": "archived"}
    out = api.call("PUT", f"/insights/{ins['id']}", json=body)
    for key, value in body.items():
        assert out[key] == value
    assert out["category"]["id"] == cat2["id"] and out["category"]["name"] == cat2["name"]
    assert api.category(cat1["id"])["insight_count"] == 0
    assert api.category(cat2["id"])["insight_count"] == 1


def test_update_null_clears_nullable_fields(api):
    cat = api.create_category()
    ins = api.create_insight(content="c", source="s", category_id=cat["id"])
    out = api.call("PUT", f"/insights/{ins['id']}", json={"content": None, "source": None,
                                                          "category_id": None})
    assert out["content"] is None and out["source"] is None
    assert out["category_id"] is None and out["category"] is None
    assert api.category(cat["id"])["insight_count"] == 0


@pytest.mark.parametrize("field,value,error", [
    ("title", "", "string_too_short"),
    ("title", "x" * 501, "string_too_long"),
    ("author", "", "string_too_short"),
    ("priority", "urgent", "enum"),
    ("status", "live", "enum"),
    ("category_id", 2.5, "int_from_float"),
    ("tag_ids", "x", "list_type"),
    ("source", "s" * 256, "string_too_long"),
])
def test_update_validation(api, field, value, error):
    ins = api.create_insight()
    assert_422(api.put(f"/insights/{ins['id']}", json={field: value}), (error, ["body", field]))
    assert api.insight(ins["id"]) == ins


def test_rejected_update_changes_nothing(api):
    cat = api.create_category()
    tags = [api.create_tag() for _ in range(3)]
    ins = api.create_insight(tag_ids=[tags[0]["id"], tags[1]["id"]], category_id=cat["id"])
    counts = tag_counts(api, tags)
    for body in ({"title": "changed", "tag_ids": [tags[2]["id"], 10 ** 9]},
                 {"title": "changed", "tag_ids": [tags[2]["id"]], "category_id": 10 ** 9},
                 {"title": "changed", "tag_ids": [tags[2]["id"]], "status": "bogus"}):
        assert_422_at(api.put(f"/insights/{ins['id']}", json=body), ["body"])
        assert api.insight(ins["id"]) == ins
        assert tag_counts(api, tags) == counts
        assert api.category(cat["id"])["insight_count"] == 1


def test_update_moves_updated_at_and_publication_lifecycle(api):
    tag = api.create_tag()
    ins = api.create_insight(status="published")
    published = ins["published_at"]
    assert published is not None
    time.sleep(1.1)

    out = api.call("PUT", f"/insights/{ins['id']}", json={"tag_ids": [tag["id"]]})
    assert out["updated_at"] > ins["updated_at"], "changing only the tags moves updated_at too"
    out = api.call("PUT", f"/insights/{ins['id']}", json={"title": "edited"})
    assert out["updated_at"] > ins["updated_at"]
    assert api.insight(ins["id"])["updated_at"] == out["updated_at"]
    assert out["created_at"] == ins["created_at"]
    assert out["published_at"] == published, "editing a published insight keeps published_at"

    out = api.call("PUT", f"/insights/{ins['id']}", json={"status": "published"})
    assert out["published_at"] == published, "publishing a published insight keeps published_at"

    out = api.call("PUT", f"/insights/{ins['id']}", json={"status": "archived"})
    assert out["status"] == "archived"
    assert out["published_at"] == published, "archiving keeps published_at"

    out = api.call("PUT", f"/insights/{ins['id']}", json={"status": "published"})
    assert out["published_at"] is not None and out["published_at"] > published, \
        "re-publishing an archived insight sets a new published_at"

    out = api.call("PUT", f"/insights/{ins['id']}", json={"status": "draft"})
    assert out["published_at"] is None, "returning to draft clears published_at"
    assert api.insight(ins["id"])["published_at"] is None

    out = api.call("PUT", f"/insights/{ins['id']}", json={"status": "published"})
    assert out["published_at"] is not None
    assert out["created_at"] == ins["created_at"]


def test_draft_to_archived_has_no_published_at(api):
    ins = api.create_insight()
    out = api.call("PUT", f"/insights/{ins['id']}", json={"status": "archived"})
    assert out["published_at"] is None
    out = api.call("PUT", f"/insights/{ins['id']}", json={"status": "published"})
    assert out["published_at"] is not None


def test_embedded_category_follows_category_changes(api):
    cat = api.create_category()
    ins = api.create_insight(category_id=cat["id"])
    api.call("PUT", f"/categories/{cat['id']}", json={"name": f"renamed {uid()}", "color": "#123456"})
    cat = api.category(cat["id"])
    got = api.insight(ins["id"])
    assert got["category"] == {k: v for k, v in cat.items() if k != "insight_count"}


# -- delete ---------------------------------------------------------------------------

def test_delete(api):
    t1, t2 = api.create_tag(), api.create_tag()
    cat = api.create_category()
    keep = api.create_insight(tag_ids=[t1["id"]])
    ins = api.create_insight(tag_ids=[t1["id"], t2["id"]], category_id=cat["id"])
    assert tag_counts(api, [t1, t2]) == {t1["id"]: 2, t2["id"]: 1}
    total = api.list_insights()["total"]

    assert api.call("DELETE", f"/insights/{ins['id']}", 204) is None
    assert_detail(api.get(f"/insights/{ins['id']}"), 404, "Insight not found")
    assert_detail(api.delete(f"/insights/{ins['id']}"), 404, "Insight not found")
    assert_detail(api.put(f"/insights/{ins['id']}", json={"title": "x"}), 404, "Insight not found")
    assert tag_counts(api, [t1, t2]) == {t1["id"]: 1, t2["id"]: 0}
    assert api.category(cat["id"])["insight_count"] == 0
    assert api.list_insights()["total"] == total - 1
    assert [t["id"] for t in api.insight(keep["id"])["tags"]] == [t1["id"]]
