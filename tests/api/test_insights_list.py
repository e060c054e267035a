"""GET /insights: pagination, filters, order, query-parameter validation."""
import pytest

from conftest import ids, assert_422, assert_page, uid, word


def assert_newest_first(insights):
    keys = [(i["created_at"], i["id"]) for i in insights]
    assert keys == sorted(keys, reverse=True), "order must be created_at desc, then id desc"


def test_empty_database(fresh_api):
    assert_page(fresh_api.list_insights(), page=1, page_size=20, total=0)
    assert fresh_api.list_insights()["insights"] == []
    assert fresh_api.list_insights(page=3, page_size=7) == {"total": 0, "page": 3, "page_size": 7,
                                                            "insights": []}


def test_pages_carry_each_insights_tags_and_category(api):
    """A page's insights carry the very tags (by id) and category that GET
    of each gives: pages read them for all their rows at once, in an order
    of their own."""
    tags = [api.create_tag()["id"] for _ in range(5)]
    cats = [api.create_category()["id"] for _ in range(2)]
    author, text = f"tagged-{uid()}", word()
    made = []
    for i in range(7):
        mine = [tags[(i + k) % 5] for k in range(i % 4)]  # 0 to 3 tags, in no order
        made.append(api.create_insight(author=author, title=f"{text} {i}", tag_ids=mine[::-1],
                                       category_id=cats[i % 2] if i % 3 else None)["id"])
    expected = {i: api.call("GET", f"/insights/{i}") for i in made}
    assert any(len(e["tags"]) > 1 for e in expected.values())
    listed = api.call("GET", "/insights", params={"author": author, "page_size": 10})["insights"]
    found = api.call("POST", "/insights/search", json={"query": text, "page_size": 10})["insights"]
    for page in (listed, found):
        assert sorted(ids({"insights": page})) == sorted(made)
        for got in page:
            want = expected[got["id"]]
            assert [t["id"] for t in got["tags"]] == sorted(t["id"] for t in want["tags"])
            assert got["tags"] == want["tags"] and got["category"] == want["category"]


def test_pagination(fresh_api):
    api = fresh_api
    created = [api.create_insight()["id"] for _ in range(25)]
    newest_first = created[::-1]

    first = api.list_insights()
    assert_page(first, page=1, page_size=20, total=25)
    assert ids(first) == newest_first[:20]
    assert_newest_first(first["insights"])
    second = api.list_insights(page=2)
    assert_page(second, page=2, page_size=20, total=25)
    assert ids(second) == newest_first[20:]
    past = api.list_insights(page=3)
    assert_page(past, page=3, page_size=20, total=25)
    assert past["insights"] == []
    assert api.list_insights(page=1000)["insights"] == []

    one = api.list_insights(page_size=1)
    assert_page(one, page=1, page_size=1, total=25)
    assert ids(one) == newest_first[:1]
    assert ids(api.list_insights(page_size=1, page=25)) == newest_first[24:]
    assert api.list_insights(page_size=1, page=26)["insights"] == []

    hundred = api.list_insights(page_size=100)
    assert_page(hundred, page=1, page_size=100, total=25)
    assert ids(hundred) == newest_first

    walked = []
    for page in range(1, 5):
        walked += ids(api.list_insights(page=page, page_size=7))
    assert walked == newest_first


def test_page_size_100_is_the_maximum(fresh_api):
    api = fresh_api
    created = [api.create_insight()["id"] for _ in range(101)]
    page = api.list_insights(page_size=100)
    assert len(page["insights"]) == 100 and page["total"] == 101
    assert ids(page) == created[::-1][:100]
    assert ids(api.list_insights(page_size=100, page=2)) == [created[0]]


def test_huge_page_numbers_are_past_the_end(api):
    api.create_insight()
    total = api.list_insights()["total"]
    for page in (10 ** 6, 10 ** 12, 2 ** 62, 2 ** 63 - 1):
        body = api.list_insights(page=page, page_size=100)
        assert body == {"total": total, "page": page, "page_size": 100, "insights": []}
        assert api.search(page=page, page_size=100) == body


@pytest.mark.parametrize("params,errors", [
    ({"page_size": 101}, [("less_than_equal", ["query", "page_size"])]),
    ({"page_size": 0}, [("greater_than_equal", ["query", "page_size"])]),
    ({"page_size": -5}, [("greater_than_equal", ["query", "page_size"])]),
    ({"page": 0}, [("greater_than_equal", ["query", "page"])]),
    ({"page": -1}, [("greater_than_equal", ["query", "page"])]),
    ({"page": "abc"}, [("int_parsing", ["query", "page"])]),
    ({"page": "1.5"}, [("int_parsing", ["query", "page"])]),
    ({"page_size": ""}, [("int_parsing", ["query", "page_size"])]),
    # Whitespace strtoll would skip (found by tests/fuzz/api/fuzz_query.c).
    ({"page": "\t2"}, [("int_parsing", ["query", "page"])]),
    ({"page_size": "\n5"}, [("int_parsing", ["query", "page_size"])]),
    ({"page": " 2"}, [("int_parsing", ["query", "page"])]),
    ({"page": "+2"}, [("int_parsing", ["query", "page"])]),
    ({"category_id": "x"}, [("int_parsing", ["query", "category_id"])]),
    ({"status": "live"}, [("enum", ["query", "status"])]),
    ({"status": "Draft"}, [("enum", ["query", "status"])]),
    ({"priority": "urgent"}, [("enum", ["query", "priority"])]),
    ({"page": 0, "page_size": 101, "status": "x", "priority": "y"},
     [("greater_than_equal", ["query", "page"]), ("less_than_equal", ["query", "page_size"]),
      ("enum", ["query", "status"]), ("enum", ["query", "priority"])]),
])
def test_query_validation(api, params, errors):
    assert_422(api.get("/insights", params=params), *errors)


def test_unknown_query_parameters_ignored(api):
    assert api.call("GET", "/insights", params={"bogus": "1", "page_size": 2})["page_size"] == 2


def test_filters(api):
    cat = api.create_category()
    other = api.create_category()
    c = cat["id"]
    a = api.create_insight(category_id=c, status="draft", priority="low", author=f"Ada {uid()}")
    b = api.create_insight(category_id=c, status="published", priority="high", author=f"Bob {uid()}")
    d = api.create_insight(category_id=c, status="published", priority="low", author=f"Ada Byron {uid()}")
    api.create_insight(category_id=other["id"], status="published", priority="low")

    def listed(**params):
        page = api.list_insights(category_id=c, **params)
        assert page["total"] == len(page["insights"])
        return ids(page)

    assert listed() == [d["id"], b["id"], a["id"]]
    assert listed(status="published") == [d["id"], b["id"]]
    assert listed(status="draft") == [a["id"]]
    assert listed(status="archived") == []
    assert listed(priority="low") == [d["id"], a["id"]]
    assert listed(priority="low", status="published") == [d["id"]]
    assert listed(priority="critical") == []
    assert listed(author="ada") == [d["id"], a["id"]]
    assert listed(author="ADA BYRON") == [d["id"]]
    assert listed(author="bob", status="draft") == []
    assert api.list_insights(category_id=10 ** 9) == {"total": 0, "page": 1, "page_size": 20,
                                                      "insights": []}
    every = api.list_insights(category_id=other["id"])
    assert every["total"] == 1 and every["insights"][0]["category_id"] == other["id"]


def test_author_filter_is_substring_and_case_insensitive(api):
    key = uid()
    ins = api.create_insight(author=f"Grace Hopper-{key}-Navy")
    for needle in (f"grace hopper-{key}-navy", f"{key}".upper(), f"PER-{key}-N", f"-{key}-"):
        page = api.list_insights(author=needle)
        assert ids(page) == [ins["id"]], needle
    assert api.list_insights(author=f"{key}x")["total"] == 0


@pytest.mark.parametrize("special", ["%", "_", "\\", "%%", "_%", "[a]", "*", "?", "'", '"', "\\%"])
def test_author_filter_treats_wildcards_literally(api, special):
    key = uid()
    literal = api.create_insight(author=f"{key} a{special}b")
    api.create_insight(author=f"{key} aXb")
    api.create_insight(author=f"{key} ab")
    api.create_insight(author=f"{key} aXYZb")
    assert ids(api.list_insights(author=f"{key} a{special}b")) == [literal["id"]]
    assert ids(api.list_insights(author=f"{key} A{special}")) == [literal["id"]]


def test_author_filter_percent_alone(api):
    cat = api.create_category()
    pct = api.create_insight(category_id=cat["id"], author="100% sure")
    api.create_insight(category_id=cat["id"], author="quite sure")
    under = api.create_insight(category_id=cat["id"], author="snake_case")
    assert ids(api.list_insights(category_id=cat["id"], author="%")) == [pct["id"]]
    assert ids(api.list_insights(category_id=cat["id"], author="_")) == [under["id"]]
    assert api.list_insights(category_id=cat["id"], author="")["total"] == 3
