"""SQL-injection text in every input: stored verbatim, matched literally, harmless."""
import pytest

from conftest import assert_422, ids, uid

INJECTIONS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "'; DROP TABLE insights; --",
    "1; DELETE FROM tags",
    "Robert'); DROP TABLE categories;--",
    "' UNION SELECT id, name, slug FROM tags --",
    "%' OR author LIKE '%",
    "\\'; SELECT pg_sleep(5); --",
    "'||(SELECT sqlite_version())||'",
    "$$; DROP TABLE insights; $$",
    "*/ OR 1=1 /*",
    "%00' OR 1=1",
    "`id`",
]


@pytest.fixture(scope="module")
def bystanders(api):
    """Data that must survive every injection attempt in this module."""
    cat = api.create_category()
    tag = api.create_tag()
    ins = api.create_insight(category_id=cat["id"], tag_ids=[tag["id"]], status="published")
    return {"category": cat, "tag": tag, "insight": ins}


def assert_intact(api, bystanders):
    got = api.insight(bystanders["insight"]["id"])
    want = bystanders["insight"]
    assert {k: got[k] for k in ("title", "author", "status", "category_id")} == \
        {k: want[k] for k in ("title", "author", "status", "category_id")}
    assert [t["id"] for t in got["tags"]] == [bystanders["tag"]["id"]]
    assert api.tag(bystanders["tag"]["id"])["usage_count"] == 1
    assert api.category(bystanders["category"]["id"])["name"] == bystanders["category"]["name"]
    stats = api.call("GET", "/statistics")
    assert stats["total_insights"] == api.list_insights()["total"] >= 1
    assert stats["total_tags"] == len(api.all_tags()) >= 1
    assert stats["total_categories"] == len(api.all_categories()) >= 1


@pytest.mark.parametrize("text", INJECTIONS)
def test_text_fields_store_exact_text(api, bystanders, text):
    key = uid()
    ins = api.create_insight(title=f"{text} {key}", description=text, content=text, source=text,
                             author=f"{text} {key}")
    for field in ("description", "content", "source"):
        assert ins[field] == text
    assert ins["title"] == f"{text} {key}" and ins["author"] == f"{text} {key}"
    tag = api.create_tag(name=f"{key} {text}"[:50], slug=f"{key}-{text}"[:50], description=text)
    assert tag["description"] == text
    cat = api.create_category(name=f"{text} {key}", slug=f"{key} {text}", description=text, icon=text[:50])
    assert cat["description"] == text and cat["icon"] == text[:50]
    out = api.call("PUT", f"/insights/{ins['id']}", json={"title": text, "tag_ids": [tag["id"]],
                                                          "category_id": cat["id"]})
    assert out["title"] == text
    assert api.insight(ins["id"]) == out
    assert_intact(api, bystanders)


@pytest.mark.parametrize("text", INJECTIONS)
def test_author_filter_matches_literally(api, bystanders, text):
    key = uid()
    match = api.create_insight(author=f"x{text} {key}")
    api.create_insight(author=f"x {key}")
    page = api.list_insights(author=f"{text} {key}")
    assert ids(page) == [match["id"]] and page["total"] == 1
    assert api.list_insights(author=f"{key}{text}")["total"] == 0
    page = api.list_insights(author=text)
    assert all(text.lower() in i["author"].lower() for i in page["insights"])
    assert api.search(author=f"{text} {key}")["total"] == 1
    assert_intact(api, bystanders)


@pytest.mark.parametrize("text", INJECTIONS)
def test_search_query(api, bystanders, text):
    api.search(query=text)
    api.search(query=text, author=text, status="published", priority="low")
    assert_intact(api, bystanders)


@pytest.mark.parametrize("text", INJECTIONS)
def test_enum_and_integer_filters_reject_injection(api, bystanders, text):
    assert_422(api.get("/insights", params={"status": text}), ("enum", ["query", "status"]))
    assert_422(api.get("/insights", params={"priority": text}), ("enum", ["query", "priority"]))
    assert_422(api.get("/insights", params={"category_id": text}), ("int_parsing", ["query", "category_id"]))
    assert_422(api.get("/insights", params={"page": text}), ("int_parsing", ["query", "page"]))
    assert_422(api.get("/tags", params={"skip": text}), ("int_parsing", ["query", "skip"]))
    assert_422(api.get("/statistics/trends", params={"days": text}), ("int_parsing", ["query", "days"]))
    assert_422(api.post("/insights/search", json={"status": text}), ("enum", ["body", "status"]))
    assert_422(api.post("/insights/search", json={"tag_ids": [text]}),
               ("int_parsing", ["body", "tag_ids", 0]))
    assert_422(api.post("/insights", json={"title": "t", "description": "", "author": "a", "priority": text}),
               ("enum", ["body", "priority"]))
    assert_intact(api, bystanders)


@pytest.mark.parametrize("path", ["/insights/1 OR 1=1", "/tags/1;DROP TABLE tags", "/categories/1'--",
                                  "/insights/1 UNION SELECT 1"])
def test_path_ids_reject_injection(api, bystanders, path):
    for method in ("GET", "PUT", "DELETE"):
        resp = api.request(method, path, json={"name": "x"})
        assert resp.status_code == 422, resp.text
        assert resp.json()["detail"][0]["loc"][0] == "path"
    assert_intact(api, bystanders)
