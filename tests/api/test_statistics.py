"""/statistics, /statistics/trends, /statistics/authors (each on its own database)."""
import datetime

import pytest

from conftest import DATE_RE, assert_422, utc_today

STATS_KEYS = {"total_insights", "insights_by_status", "insights_by_priority", "insights_by_category",
              "total_tags", "total_categories", "stale_insights", "recent_insights"}


def test_empty_database(fresh_api):
    stats = fresh_api.call("GET", "/statistics")
    assert stats == {
        "total_insights": 0,
        "insights_by_status": {"draft": 0, "published": 0, "archived": 0},
        "insights_by_priority": {"low": 0, "medium": 0, "high": 0, "critical": 0},
        "insights_by_category": {},
        "total_tags": 0,
        "total_categories": 0,
        "stale_insights": 0,
        "recent_insights": [],
    }


def test_statistics(fresh_api):
    api = fresh_api
    a, b = api.create_category(name="Alpha"), api.create_category(name="Beta")
    c = api.create_category(name="Gamma", parent_id=a["id"])
    tags = [api.create_tag() for _ in range(3)]
    created = [
        api.create_insight(category_id=a["id"], status="draft", priority="high", tag_ids=[tags[0]["id"]]),
        api.create_insight(category_id=a["id"], status="published", priority="low"),
        api.create_insight(category_id=b["id"], status="archived", priority="critical"),
        api.create_insight(status="draft"),
        api.create_insight(status="published", tag_ids=[tags[1]["id"], tags[2]["id"]]),
        api.create_insight(category_id=c["id"], status="published", priority="high"),
    ]
    stats = api.call("GET", "/statistics")
    assert set(stats) == STATS_KEYS
    assert stats["total_insights"] == 6
    assert stats["insights_by_status"] == {"draft": 2, "published": 3, "archived": 1}
    assert stats["insights_by_priority"] == {"low": 1, "medium": 2, "high": 2, "critical": 1}
    assert stats["insights_by_category"] == {"Alpha": 2, "Beta": 1, "Gamma": 1, "Uncategorized": 2}
    assert stats["total_tags"] == 3
    assert stats["total_categories"] == 3
    recent = [api.insight(i["id"]) for i in reversed(created[-5:])]
    assert stats["recent_insights"] == recent

    # Categories without insights still appear; "Uncategorized" only while needed.
    api.create_category(name="Empty")
    for ins in created:
        if ins["category_id"] is None:
            api.call("PUT", f"/insights/{ins['id']}", json={"category_id": b["id"]})
    stats = api.call("GET", "/statistics")
    assert stats["insights_by_category"] == {"Alpha": 2, "Beta": 3, "Gamma": 1, "Empty": 0}
    assert stats["total_categories"] == 4

    # Updates and deletions are reflected.
    api.call("PUT", f"/insights/{created[0]['id']}", json={"status": "archived", "priority": "critical"})
    api.call("DELETE", f"/insights/{created[1]['id']}", 204)
    api.call("DELETE", f"/tags/{tags[0]['id']}", 204)
    stats = api.call("GET", "/statistics")
    assert stats["total_insights"] == 5
    assert stats["insights_by_status"] == {"draft": 1, "published": 2, "archived": 2}
    assert stats["insights_by_priority"] == {"low": 0, "medium": 2, "high": 1, "critical": 2}
    assert stats["insights_by_category"] == {"Alpha": 1, "Beta": 3, "Gamma": 1, "Empty": 0}
    assert stats["total_tags"] == 2
    remaining = [i["id"] for i in reversed(created) if i is not created[1]]
    assert [i["id"] for i in stats["recent_insights"]] == remaining


def test_recent_insights_are_the_five_newest(fresh_api):
    api = fresh_api
    cat = api.create_category()
    tag = api.create_tag()
    created = [api.create_insight(category_id=cat["id"], tag_ids=[tag["id"]]) for _ in range(8)]
    recent = api.call("GET", "/statistics")["recent_insights"]
    assert recent == [api.insight(i["id"]) for i in reversed(created[-5:])]
    assert recent == api.list_insights(page_size=5)["insights"]


def test_trends(fresh_api):
    api = fresh_api
    for status in ("draft", "draft", "published", "archived"):
        api.create_insight(status=status)
    published_then_drafted = api.create_insight(status="published")
    api.call("PUT", f"/insights/{published_then_drafted['id']}", json={"status": "draft"})

    before = utc_today()
    body = api.call("GET", "/statistics/trends")
    after = utc_today()
    assert set(body) == {"days", "trends"}
    assert body["days"] == 30
    trends = body["trends"]
    assert len(trends) == 30
    for entry in trends:
        assert set(entry) == {"date", "draft", "published", "archived", "total"}
        assert DATE_RE.match(entry["date"])
    dates = [datetime.date.fromisoformat(e["date"]) for e in trends]
    assert dates == [dates[-1] - datetime.timedelta(days=29 - i) for i in range(30)], \
        "consecutive dates, oldest first"
    assert dates[-1] in (before, after), "the last entry is today (UTC)"
    last = trends[-1]
    assert (last["draft"], last["published"], last["archived"], last["total"]) == (3, 1, 1, 5)
    for entry in trends[:-1]:
        assert (entry["draft"], entry["published"], entry["archived"], entry["total"]) == (0, 0, 0, 0)


@pytest.mark.parametrize("days", [1, 7, 366])
def test_trends_days(api, days):
    before = utc_today()
    body = api.call("GET", "/statistics/trends", params={"days": days})
    after = utc_today()
    assert body["days"] == days and len(body["trends"]) == days
    assert datetime.date.fromisoformat(body["trends"][-1]["date"]) in (before, after)
    assert datetime.date.fromisoformat(body["trends"][0]["date"]) == \
        datetime.date.fromisoformat(body["trends"][-1]["date"]) - datetime.timedelta(days=days - 1)
    for entry in body["trends"]:
        assert entry["total"] == entry["draft"] + entry["published"] + entry["archived"]


@pytest.mark.parametrize("params,error", [
    ({"days": 0}, "greater_than_equal"),
    ({"days": -1}, "greater_than_equal"),
    ({"days": 367}, "less_than_equal"),
    ({"days": "week"}, "int_parsing"),
])
def test_trends_validation(api, params, error):
    assert_422(api.get("/statistics/trends", params=params), (error, ["query", "days"]))


def test_authors(fresh_api):
    api = fresh_api
    for _ in range(3):
        api.create_insight(author="Ada", status="published")
    api.create_insight(author="Bob", status="published")
    api.create_insight(author="Bob", status="draft")
    api.create_insight(author="Bob", status="archived")
    api.create_insight(author="Cy", status="draft")
    for _ in range(2):
        api.create_insight(author="Dee", status="published")
    body = api.call("GET", "/statistics/authors")
    assert body == {"authors": [{"author": "Ada", "insight_count": 3},
                                {"author": "Dee", "insight_count": 2},
                                {"author": "Bob", "insight_count": 1}]}
    assert api.call("GET", "/statistics/authors", params={"limit": 2})["authors"] == \
        body["authors"][:2]
    assert api.call("GET", "/statistics/authors", params={"limit": 1})["authors"] == \
        [{"author": "Ada", "insight_count": 3}]
    assert api.call("GET", "/statistics/authors", params={"limit": 100}) == body


def test_authors_limit_default_is_ten(fresh_api):
    api = fresh_api
    for n in range(12):
        for _ in range(n + 1):
            api.create_insight(author=f"author {n:02d}", status="published")
    authors = api.call("GET", "/statistics/authors")["authors"]
    assert [a["author"] for a in authors] == [f"author {n:02d}" for n in range(11, 1, -1)]
    assert [a["insight_count"] for a in authors] == list(range(12, 2, -1))


def test_authors_empty(fresh_api):
    fresh_api.create_insight(status="draft")
    assert fresh_api.call("GET", "/statistics/authors") == {"authors": []}


@pytest.mark.parametrize("params,error", [
    ({"limit": 0}, "greater_than_equal"),
    ({"limit": 101}, "less_than_equal"),
    ({"limit": "x"}, "int_parsing"),
])
def test_authors_validation(api, params, error):
    assert_422(api.get("/statistics/authors", params=params), (error, ["query", "limit"]))
