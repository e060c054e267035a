"""/categories: CRUD, validation, hierarchy and cycles, deletion rules."""
import pytest

from conftest import assert_422, assert_422_at, assert_category, assert_detail, uid


def test_create_and_get(api):
    name, slug = f"Category {uid()}", f"cat-{uid()}"
    cat = api.create_category(name=name, slug=slug, description="d", color="#abcdef", icon="💡")
    assert cat["name"] == name and cat["slug"] == slug
    assert cat["description"] == "d" and cat["color"] == "#abcdef" and cat["icon"] == "💡"
    assert cat["parent_id"] is None and cat["insight_count"] == 0
    assert cat["created_at"] == cat["updated_at"]
    assert api.category(cat["id"]) == cat


def test_optional_fields_default_to_null(api):
    cat = api.create_category()
    for key in ("description", "color", "icon", "parent_id"):
        assert cat[key] is None


def test_unknown_category_is_404(api):
    cat = api.create_category()
    for bad in (cat["id"] + 100000, 0, -1):
        assert_detail(api.get(f"/categories/{bad}"), 404, "Category not found")
        assert_detail(api.put(f"/categories/{bad}", json={"name": f"n{uid()}"}), 404, "Category not found")
        assert_detail(api.delete(f"/categories/{bad}"), 404, "Category not found")


def test_non_integer_category_id_is_422(api):
    for method in ("GET", "PUT", "DELETE"):
        assert_422(api.request(method, "/categories/abc", json={}), ("int_parsing", ["path", "category_id"]))


@pytest.mark.parametrize("field,value,error", [
    ("name", "", "string_too_short"),
    ("name", "n" * 101, "string_too_long"),
    ("name", 1, "string_type"),
    ("slug", "", "string_too_short"),
    ("slug", "s" * 101, "string_too_long"),
    ("icon", "i" * 51, "string_too_long"),
    ("icon", 3, "string_type"),
    ("color", "#abc", "string_pattern_mismatch"),
    ("color", "abcdef", "string_pattern_mismatch"),
    ("color", "#abcdeg", "string_pattern_mismatch"),
    ("description", [], "string_type"),
    ("parent_id", "x", "int_parsing"),
    ("parent_id", 1.5, "int_from_float"),
    ("parent_id", False, "int_type"),
    ("parent_id", 10 ** 9, "value_error"),
])
def test_create_validation(api, field, value, error):
    body = {"name": f"n{uid()}", "slug": f"s{uid()}", field: value}
    assert_422(api.post("/categories", json=body), (error, ["body", field]))


def test_missing_fields(api):
    assert_422(api.post("/categories", json={"description": "x"}),
               ("missing", ["body", "name"]), ("missing", ["body", "slug"]))


def test_max_lengths(api):
    key = uid()
    cat = api.create_category(name=(key + "n" * 100)[:100], slug=(key + "s" * 100)[:100], icon="i" * 50)
    assert len(cat["name"]) == 100 and len(cat["slug"]) == 100 and len(cat["icon"]) == 50


def test_duplicates_conflict(api):
    """409 with the message naming the clash, the name first when both clash."""
    cat = api.create_category()
    name_taken = f"Category with name '{cat['name']}' already exists"
    slug_taken = f"Category with slug '{cat['slug']}' already exists"
    assert_detail(api.post("/categories", json={"name": cat["name"], "slug": f"s{uid()}"}), 409, name_taken)
    assert_detail(api.post("/categories", json={"name": f"n{uid()}", "slug": cat["slug"]}), 409, slug_taken)
    assert_detail(api.post("/categories", json={"name": cat["name"], "slug": cat["slug"]}), 409, name_taken)
    other = api.create_category()
    assert_detail(api.put(f"/categories/{other['id']}", json={"name": cat["name"], "icon": "x"}), 409,
                  name_taken)
    assert_detail(api.put(f"/categories/{other['id']}",
                          json={"slug": cat["slug"], "parent_id": cat["id"]}), 409, slug_taken)
    assert api.category(other["id"]) == other
    same = api.call("PUT", f"/categories/{cat['id']}", json={"name": cat["name"], "slug": cat["slug"]})
    assert same["name"] == cat["name"]


def test_update(api):
    parent = api.create_category()
    cat = api.create_category(description="old", icon="x")
    out = api.call("PUT", f"/categories/{cat['id']}", json={"description": "new", "parent_id": parent["id"]})
    assert out["description"] == "new" and out["parent_id"] == parent["id"]
    assert out["icon"] == "x" and out["name"] == cat["name"] and out["slug"] == cat["slug"]
    assert out["created_at"] == cat["created_at"] and out["updated_at"] >= cat["updated_at"]
    out = api.call("PUT", f"/categories/{cat['id']}", json={"parent_id": None, "icon": None})
    assert out["parent_id"] is None and out["icon"] is None and out["description"] == "new"
    assert api.category(cat["id"]) == out


@pytest.mark.parametrize("body,error,loc", [
    ({"name": ""}, "string_too_short", ["body", "name"]),
    ({"icon": "i" * 51}, "string_too_long", ["body", "icon"]),
    ({"color": "#12"}, "string_pattern_mismatch", ["body", "color"]),
    ({"parent_id": 10 ** 9}, "value_error", ["body", "parent_id"]),
])
def test_update_validation(api, body, error, loc):
    cat = api.create_category()
    assert_422(api.put(f"/categories/{cat['id']}", json=body), (error, loc))
    assert api.category(cat["id"]) == cat


def chain(api, depth):
    """Categories c0 <- c1 <- ... (each the parent of the next)."""
    cats = [api.create_category()]
    for _ in range(depth - 1):
        cats.append(api.create_category(parent_id=cats[-1]["id"]))
    return cats


def test_unlimited_nesting(api):
    cats = chain(api, 25)
    for parent, child in zip(cats, cats[1:]):
        assert api.category(child["id"])["parent_id"] == parent["id"]


def test_cycles_rejected_at_any_depth(api):
    cats = chain(api, 12)
    root = cats[0]
    for target in (root, cats[1], cats[5], cats[-1]):
        resp = api.put(f"/categories/{root['id']}", json={"parent_id": target["id"], "name": f"x{uid()}"})
        assert_422_at(resp, ["body", "parent_id"])
    middle = cats[6]
    for target in (middle, cats[7], cats[-1]):
        assert_422_at(api.put(f"/categories/{middle['id']}", json={"parent_id": target["id"]}),
                      ["body", "parent_id"])
    # Nothing changed.
    for cat in cats:
        assert api.category(cat["id"]) == cat
    # Moves that create no cycle are fine: a node under one of its ancestors, a
    # subtree under an unrelated category, the root under a former leaf's sibling.
    api.call("PUT", f"/categories/{cats[-1]['id']}", json={"parent_id": root["id"]})
    other = api.create_category()
    api.call("PUT", f"/categories/{middle['id']}", json={"parent_id": other["id"]})
    api.call("PUT", f"/categories/{other['id']}", json={"parent_id": cats[2]["id"]})
    # Now root <- c1 <- c2 <- other <- middle <- c7 ...: closing it fails again.
    assert_422_at(api.put(f"/categories/{root['id']}", json={"parent_id": cats[8]["id"]}),
                  ["body", "parent_id"])


def test_self_parent_rejected(api):
    cat = api.create_category()
    assert_422_at(api.put(f"/categories/{cat['id']}", json={"parent_id": cat["id"]}), ["body", "parent_id"])
    assert api.category(cat["id"])["parent_id"] is None


def test_insight_count_counts_direct_insights(api):
    parent = api.create_category()
    child = api.create_category(parent_id=parent["id"])
    api.create_insight(category_id=child["id"])
    api.create_insight(category_id=child["id"], status="archived")
    api.create_insight(category_id=parent["id"])
    assert api.category(child["id"])["insight_count"] == 2
    assert api.category(parent["id"])["insight_count"] == 1
    listed = {c["id"]: c["insight_count"] for c in api.all_categories()}
    assert listed[child["id"]] == 2 and listed[parent["id"]] == 1


def test_delete_rules(api):
    parent = api.create_category()
    child = api.create_category(parent_id=parent["id"])
    detail = assert_detail(api.delete(f"/categories/{parent['id']}"), 409)
    assert "subcategor" in detail.lower()

    ins = [api.create_insight(category_id=child["id"]) for _ in range(2)]
    assert_detail(api.delete(f"/categories/{child['id']}"), 409,
                  "Cannot delete category with 2 insights. Remove insights first.")
    api.call("DELETE", f"/insights/{ins[0]['id']}", 204)
    assert_detail(api.delete(f"/categories/{child['id']}"), 409,
                  "Cannot delete category with 1 insights. Remove insights first.")
    assert api.category(child["id"])["insight_count"] == 1
    assert api.insight(ins[1]["id"])["category_id"] == child["id"]

    api.call("PUT", f"/insights/{ins[1]['id']}", json={"category_id": None})
    assert api.call("DELETE", f"/categories/{child['id']}", 204) is None
    assert_detail(api.get(f"/categories/{child['id']}"), 404, "Category not found")
    assert_detail(api.delete(f"/categories/{child['id']}"), 404, "Category not found")
    assert api.call("DELETE", f"/categories/{parent['id']}", 204) is None
    assert child["id"] not in {c["id"] for c in api.all_categories()}
    # Its name is free again, and it can no longer be referenced.
    api.create_category(name=parent["name"], slug=parent["slug"])
    assert_422_at(api.post("/insights", json={"title": "t", "description": "", "author": "a",
                                              "category_id": child["id"]}), ["body", "category_id"])


def test_list_order_and_paging(fresh_api):
    api = fresh_api
    names = ["beta", "Alpha", "alpha", "Ωmega", "_under", "Zeta", "1st"]
    for n in names:
        api.create_category(name=n)
    expected = sorted(names, key=lambda s: s.encode("utf-8"))
    every = api.call("GET", "/categories")
    for cat in every:
        assert_category(cat)
    assert [c["name"] for c in every] == expected
    def names(**params):
        return [c["name"] for c in api.call("GET", "/categories", params=params)]

    assert names(skip=2, limit=3) == expected[2:5]
    assert names(limit=1) == expected[:1]
    assert api.call("GET", "/categories", params={"skip": 7}) == []
    assert len(api.call("GET", "/categories", params={"limit": 100})) == 7
