"""Deep pages of GET /insights: keyset pagination (`cursor` in a full
page, `after=` to go on) and the anchors that let `page` skip through a long
list without walking it, which must answer exactly what OFFSET answered,
and nothing older than a write this instance acknowledged."""
import pytest

from conftest import assert_422_at

# The service keeps an anchor about every 256 insights of a list's order
# (core/service.c, "Deep pages"): more than that reaches them at page_size 1.
ROWS = 300


def bulk(api, n, **fields):
    """n insights in one GraphQL mutation: one transaction, so they share
    created_at and only their ids order them (ties: highest id first)."""
    extra = "".join(f', {k}: "{v}"' for k, v in fields.items())
    objects = ", ".join(f'{{title: "deep {i}", description: "d", author: "deep"{extra}}}'
                        for i in range(n))
    body = api.call("POST", "/v1/graphql",
                    json={"query": f"mutation {{ insert_insights(objects: [{objects}]) {{ affected_rows }} }}"})
    assert body == {"data": {"insert_insights": {"affected_rows": n}}}, body


def walk(api, page_size, **params):
    """Every insight of the list, following the cursors."""
    out, after = [], None
    while True:
        q = dict(params, page_size=page_size)
        if after:
            q["after"] = after
        body = api.list_insights(**q)
        assert body["page"] == 1
        out.extend(i["id"] for i in body["insights"])
        assert len(out) <= body["total"], "the cursor went back"
        if len(body["insights"]) < page_size:
            assert "cursor" not in body
            return out, body["total"]
        after = body["cursor"]


def ids(api, **params):
    return [i["id"] for i in api.list_insights(**params)["insights"]]


def test_cursor_walks_what_pages_list(fresh_api):
    api = fresh_api
    bulk(api, 12)
    bulk(api, 9, status="published")
    for _ in range(3):
        api.create_insight(status="published")
    everything = [i["id"] for i in api.all_insights()]
    assert len(everything) == 24
    for size in (1, 5, 7, 24, 100):
        got, total = walk(api, size)
        assert got == everything and total == 24
    published = [i["id"] for i in api.all_insights(status="published")]
    got, total = walk(api, 4, status="published")
    assert got == published and total == 12
    # `page` counts from the cursor.
    first = api.list_insights(page_size=5)
    assert ids(api, page_size=5, page=2, after=first["cursor"]) == everything[10:15]
    # A page that is not full has no cursor; past the end, nothing.
    last = api.list_insights(page_size=5, page=5)
    assert len(last["insights"]) == 4 and "cursor" not in last
    assert ids(api, page_size=5, after=api.list_insights(page_size=24)["cursor"]) == []


def test_cursor_is_not_shifted_by_new_insights(fresh_api):
    api = fresh_api
    bulk(api, 10)
    first = api.list_insights(page_size=4)
    before = ids(api, page_size=4, after=first["cursor"])
    new = api.create_insight()
    assert ids(api, page_size=4, after=first["cursor"]) == before
    assert ids(api, page_size=4)[0] == new["id"]
    # The cursor's own insight gone: the list still goes on after its key.
    api.delete(f"/insights/{first['insights'][-1]['id']}")
    assert ids(api, page_size=4, after=first["cursor"]) == before


@pytest.mark.parametrize("after", ["abc", "20251222101500", "20251222101500.", "20251322101500.4",
                                   "20251222101500.0", "2025122210150x.4", "20251222101500.4x",
                                   "20251222101500.1234567890123456789"])
def test_after_that_is_no_cursor_is_422(api, after):
    resp = api.get("/insights", params={"after": after})
    assert_422_at(resp, ["query", "after"], "value_error")


def test_deep_pages_answer_what_offset_answers_and_follow_writes(fresh_api):
    api = fresh_api
    bulk(api, ROWS // 2)
    bulk(api, ROWS // 2, status="published")
    order, _ = walk(api, 100)
    published, _ = walk(api, 100, status="published")
    assert len(order) == ROWS
    pages = (1, 2, 256, 257, 258, 280, ROWS, ROWS + 1, 10**12)
    for _ in range(2):  # the second time through anchors read the first time
        for p in pages:
            assert ids(api, page_size=1, page=p) == order[p - 1:p], p
        for p in (1, 23, 26, 30, 31):
            assert ids(api, page_size=10, page=p) == order[(p - 1) * 10:p * 10], p
        assert ids(api, page_size=1, page=260, status="published") == []
        assert ids(api, page_size=1, page=150, status="published") == published[149:150]
    # A write moves every position by one: no deep page may answer from
    # before it.
    new = api.create_insight()
    order.insert(0, new["id"])
    for p in (257, 258, 280, ROWS + 1):
        assert ids(api, page_size=1, page=p) == order[p - 1:p], p
    gone = order.pop(100)
    api.delete(f"/insights/{gone}")
    for p in (257, 258, 280, ROWS):
        assert ids(api, page_size=1, page=p) == order[p - 1:p], p
    assert api.list_insights(page_size=1, page=280)["total"] == ROWS
