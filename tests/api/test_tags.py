"""/tags: CRUD, validation, uniqueness, usage_count, order and paging."""
import pytest

from conftest import assert_422, assert_422_at, assert_detail, assert_tag, uid


def test_create_and_get(api):
    name, slug = f"Tag {uid()}", f"tag-{uid()}"
    tag = api.create_tag(name=name, slug=slug, description="about things", color="#A1b2C3")
    assert tag["name"] == name and tag["slug"] == slug
    assert tag["description"] == "about things" and tag["color"] == "#A1b2C3"
    assert tag["usage_count"] == 0
    assert api.tag(tag["id"]) == tag


def test_optional_fields_default_to_null(api):
    tag = api.create_tag()
    assert tag["description"] is None and tag["color"] is None
    tag = api.create_tag(description=None, color=None)
    assert tag["description"] is None and tag["color"] is None


def test_unknown_tag_is_404(api):
    tag = api.create_tag()
    for bad in (tag["id"] + 100000, 0, -3):
        assert_detail(api.get(f"/tags/{bad}"), 404, "Tag not found")
        assert_detail(api.put(f"/tags/{bad}", json={"name": f"n{uid()}"}), 404, "Tag not found")
        assert_detail(api.delete(f"/tags/{bad}"), 404, "Tag not found")


@pytest.mark.parametrize("raw", ["abc", "1.0", "1x", "%27"])
def test_non_integer_tag_id_is_422(api, raw):
    for method in ("GET", "PUT", "DELETE"):
        assert_422(api.request(method, f"/tags/{raw}", json={}), ("int_parsing", ["path", "tag_id"]))


@pytest.mark.parametrize("field,value,error", [
    ("name", "", "string_too_short"),
    ("name", "n" * 51, "string_too_long"),
    ("name", 5, "string_type"),
    ("name", None, "string_type"),
    ("slug", "", "string_too_short"),
    ("slug", "s" * 51, "string_too_long"),
    ("description", 5, "string_type"),
    ("color", "red", "string_pattern_mismatch"),
    ("color", "#12345", "string_pattern_mismatch"),
    ("color", "#1234567", "string_pattern_mismatch"),
    ("color", "#GGGGGG", "string_pattern_mismatch"),
    ("color", "123456", "string_pattern_mismatch"),
    ("color", "#12345G", "string_pattern_mismatch"),
    ("color", " #123456", "string_pattern_mismatch"),
    ("color", "#123456\n", "string_pattern_mismatch"),
    ("color", "", "string_pattern_mismatch"),
    ("color", 123456, "string_type"),
])
def test_create_validation(api, field, value, error):
    body = {"name": f"n{uid()}", "slug": f"s{uid()}", field: value}
    if value is None:  # a null required field: 422 at its loc, whatever the type
        assert_422_at(api.post("/tags", json=body), ["body", field])
    else:
        assert_422(api.post("/tags", json=body), (error, ["body", field]))


def test_missing_fields(api):
    assert_422(api.post("/tags", json={}), ("missing", ["body", "name"]), ("missing", ["body", "slug"]))
    assert_422(api.post("/tags", json={"name": "x" * 60, "color": "nope"}),
               ("string_too_long", ["body", "name"]), ("missing", ["body", "slug"]),
               ("string_pattern_mismatch", ["body", "color"]))


def test_max_lengths(api):
    key = uid()
    tag = api.create_tag(name=(key + "n" * 50)[:50], slug=(key + "s" * 50)[:50], description="d" * 2000)
    assert len(tag["name"]) == 50 and len(tag["slug"]) == 50


def test_duplicates_conflict(api):
    """409 with the message naming the clash, the name first when both clash."""
    tag = api.create_tag()
    name_taken = f"Tag with name '{tag['name']}' already exists"
    slug_taken = f"Tag with slug '{tag['slug']}' already exists"
    assert_detail(api.post("/tags", json={"name": tag["name"], "slug": f"s{uid()}"}), 409, name_taken)
    assert_detail(api.post("/tags", json={"name": f"n{uid()}", "slug": tag["slug"]}), 409, slug_taken)
    assert_detail(api.post("/tags", json={"name": tag["name"], "slug": tag["slug"]}), 409, name_taken)
    other = api.create_tag()
    assert_detail(api.put(f"/tags/{other['id']}", json={"name": tag["name"], "description": "x"}), 409,
                  name_taken)
    assert_detail(api.put(f"/tags/{other['id']}", json={"slug": tag["slug"], "color": "#000000"}), 409,
                  slug_taken)
    assert api.tag(other["id"]) == other
    assert len([t for t in api.all_tags() if t["name"] == tag["name"]]) == 1
    # Keeping one's own name or slug is no conflict.
    same = api.call("PUT", f"/tags/{tag['id']}", json={"name": tag["name"], "slug": tag["slug"]})
    assert same["name"] == tag["name"] and same["slug"] == tag["slug"]


def test_update(api):
    tag = api.create_tag(description="old", color="#000000")
    out = api.call("PUT", f"/tags/{tag['id']}", json={"description": "new"})
    assert out == {**tag, "description": "new"}
    name = f"renamed {uid()}"
    out = api.call("PUT", f"/tags/{tag['id']}", json={"name": name, "color": "#FFFFFF"})
    assert out == {**tag, "description": "new", "name": name, "color": "#FFFFFF"}
    out = api.call("PUT", f"/tags/{tag['id']}", json={"color": None, "description": None})
    assert out["color"] is None and out["description"] is None and out["name"] == name
    assert api.tag(tag["id"]) == out
    assert out["created_at"] == tag["created_at"]
    # Insights show the tag as it is now.
    ins = api.create_insight(tag_ids=[tag["id"]])
    api.call("PUT", f"/tags/{tag['id']}", json={"name": f"again {uid()}"})
    assert api.insight(ins["id"])["tags"] == [api.tag(tag["id"])]


@pytest.mark.parametrize("body,error,loc", [
    ({"name": ""}, "string_too_short", ["body", "name"]),
    ({"slug": "s" * 51}, "string_too_long", ["body", "slug"]),
    ({"color": "blue"}, "string_pattern_mismatch", ["body", "color"]),
])
def test_update_validation(api, body, error, loc):
    tag = api.create_tag()
    assert_422(api.put(f"/tags/{tag['id']}", json=body), (error, loc))
    assert api.tag(tag["id"]) == tag


def test_usage_count(api):
    t1, t2 = api.create_tag(), api.create_tag()
    a = api.create_insight(tag_ids=[t1["id"], t2["id"]])
    b = api.create_insight(tag_ids=[t1["id"]])
    assert api.tag(t1["id"])["usage_count"] == 2 and api.tag(t2["id"])["usage_count"] == 1
    listed = {t["id"]: t["usage_count"] for t in api.all_tags()}
    assert listed[t1["id"]] == 2 and listed[t2["id"]] == 1
    # The tags embedded in an insight carry the current count too.
    assert {t["id"]: t["usage_count"] for t in api.insight(a["id"])["tags"]} == {t1["id"]: 2, t2["id"]: 1}
    api.call("PUT", f"/insights/{b['id']}", json={"tag_ids": [t2["id"]]})
    assert api.tag(t1["id"])["usage_count"] == 1 and api.tag(t2["id"])["usage_count"] == 2
    api.call("PUT", f"/insights/{a['id']}", json={"tag_ids": [t2["id"], t1["id"]]})  # same set
    assert api.tag(t1["id"])["usage_count"] == 1 and api.tag(t2["id"])["usage_count"] == 2
    api.call("DELETE", f"/insights/{a['id']}", 204)
    assert api.tag(t1["id"])["usage_count"] == 0 and api.tag(t2["id"])["usage_count"] == 1


def test_delete_removes_tag_from_insights(api):
    t1, t2, t3 = api.create_tag(), api.create_tag(), api.create_tag()
    a = api.create_insight(tag_ids=[t1["id"], t2["id"], t3["id"]])
    b = api.create_insight(tag_ids=[t2["id"]])
    assert api.call("DELETE", f"/tags/{t2['id']}", 204) is None
    assert_detail(api.get(f"/tags/{t2['id']}"), 404, "Tag not found")
    assert_detail(api.delete(f"/tags/{t2['id']}"), 404, "Tag not found")
    assert [t["id"] for t in api.insight(a["id"])["tags"]] == [t1["id"], t3["id"]]
    assert api.insight(b["id"])["tags"] == []
    assert api.tag(t1["id"])["usage_count"] == 1 and api.tag(t3["id"])["usage_count"] == 1
    assert t2["id"] not in {t["id"] for t in api.all_tags()}
    assert api.search(tag_ids=[t2["id"]])["total"] == 0
    # The deleted tag can no longer be attached, and its name is free again.
    resp = api.put(f"/insights/{b['id']}", json={"tag_ids": [t2["id"]]})
    assert resp.status_code == 422
    api.create_tag(name=t2["name"], slug=t2["slug"])


def test_list_order_is_byte_order_of_names(api):
    key = uid()
    names = [f"{key} {suffix}" for suffix in ("b", "B", "a", "Z", "é", "1", "_", "漢")]
    for n in names:
        api.create_tag(name=n)
    every = api.all_tags()
    for t in every:
        assert_tag(t)
    all_names = [t["name"] for t in every]
    assert all_names == sorted(all_names, key=lambda s: s.encode("utf-8"))
    ours = [n for n in all_names if n.startswith(key)]
    assert ours == sorted(names, key=lambda s: s.encode("utf-8"))


def test_skip_and_limit(fresh_api):
    api = fresh_api
    names = [f"t{i:03d}" for i in range(101)]
    for n in reversed(names):
        api.create_tag(name=n)

    def listed(**params):
        return [t["name"] for t in api.call("GET", "/tags", params=params)]

    assert listed() == names[:100], "the default limit is 100"
    assert listed(limit=100) == names[:100]
    assert listed(skip=100) == names[100:]
    assert listed(limit=1) == names[:1]
    assert listed(skip=5, limit=3) == names[5:8]
    assert listed(skip=0, limit=2) == names[:2]
    assert listed(skip=99, limit=5) == names[99:]
    assert listed(skip=101) == []
    assert listed(skip=10 ** 6) == []


@pytest.mark.parametrize("params,error,loc", [
    ({"limit": 0}, "greater_than_equal", ["query", "limit"]),
    ({"limit": 101}, "less_than_equal", ["query", "limit"]),
    ({"skip": -1}, "greater_than_equal", ["query", "skip"]),
    ({"skip": "x"}, "int_parsing", ["query", "skip"]),
    ({"limit": "1.5"}, "int_parsing", ["query", "limit"]),
])
def test_list_validation(api, params, error, loc):
    assert_422(api.get("/tags", params=params), (error, loc))
    assert_422(api.get("/categories", params=params), (error, loc))
