"""POST /insights/search: full text, filters, ranking, hostile query text."""
import pytest

from conftest import ids, assert_422, assert_page, uid, word


def test_matches_title_description_and_content_case_insensitively(api):
    w = word()
    in_title = api.create_insight(title=f"About {w.upper()} things")
    in_desc = api.create_insight(description=f"the {w} is here")
    in_content = api.create_insight(content=f"Deep down: {w.capitalize()}.")
    api.create_insight(title=f"About {w[:-1]} only")  # a different word
    expected = {in_title["id"], in_desc["id"], in_content["id"]}
    for q in (w, w.upper(), w.capitalize(), f"  {w}  "):
        page = api.search(query=q)
        assert_page(page, page=1, page_size=20, total=3)
        assert set(ids(page)) == expected, q


def test_author_and_source_are_not_full_text(api):
    w = word()
    api.create_insight(author=f"{w} writer", source=f"{w} source")
    assert api.search(query=w)["total"] == 0


def test_every_word_must_match(api):
    w1, w2, w3 = word(), word(), word()
    both = api.create_insight(title=f"{w1} and {w2}")
    split = api.create_insight(title=w1, content=w2)
    one = api.create_insight(description=w1)
    assert set(ids(api.search(query=f"{w1} {w2}"))) == {both["id"], split["id"]}
    assert set(ids(api.search(query=f"{w2} {w1}"))) == {both["id"], split["id"]}
    assert set(ids(api.search(query=w1))) == {both["id"], split["id"], one["id"]}
    assert api.search(query=f"{w1} {w2} {w3}")["total"] == 0


def test_whole_words_not_prefixes(api):
    w = word()
    api.create_insight(title=f"{w}suffix")
    assert api.search(query=w)["total"] == 0
    assert api.search(query=f"{w}*")["total"] == 0, "* must not act as a prefix operator"


def test_title_match_ranks_above_content_match(api):
    w = word()
    in_title = api.create_insight(title=f"{w} headline", content="nothing relevant here at all")
    in_content = api.create_insight(title="unrelated headline",
                                    content=f"a long body that mentions {w} once among many other words")
    assert ids(api.search(query=w)) == [in_title["id"], in_content["id"]]


def test_without_query_newest_first(api):
    author = f"search-order-{uid()}"
    created = [api.create_insight(author=author)["id"] for _ in range(4)]
    for query in (None, "", "   ", "\t\n"):
        body = {"author": author}
        if query is not None:
            body["query"] = query
        page = api.search(**body)
        assert_page(page, total=4)
        assert ids(page) == created[::-1], repr(query)


def test_empty_body_lists_everything(api):
    api.create_insight()
    page = api.search()
    assert_page(page, page=1, page_size=20)
    assert page["total"] == api.list_insights()["total"]
    assert ids(page) == ids(api.list_insights())


def test_nulls_mean_absent(api):
    author = f"nulls-{uid()}"
    ins = api.create_insight(author=author)
    page = api.search(author=author, query=None, category_id=None, tag_ids=None, status=None,
                      priority=None, page=None, page_size=None)
    assert_page(page, page=1, page_size=20, total=1)
    assert ids(page) == [ins["id"]]


def test_filters(api):
    w = word()
    cat = api.create_category()
    t1, t2, t3 = api.create_tag(), api.create_tag(), api.create_tag()
    key = uid()
    a = api.create_insight(title=w, category_id=cat["id"], status="published", priority="high",
                           author=f"Ann {key}", tag_ids=[t1["id"], t2["id"]])
    b = api.create_insight(title=w, status="draft", priority="high", author=f"Ben {key}",
                           tag_ids=[t1["id"]])
    c = api.create_insight(content=w, category_id=cat["id"], status="archived", priority="low",
                           author=f"ann {key}", tag_ids=[t2["id"], t3["id"]])

    def found(**filters):
        page = api.search(query=w, **filters)
        assert page["total"] == len(page["insights"])
        return set(ids(page))

    assert found() == {a["id"], b["id"], c["id"]}
    assert found(category_id=cat["id"]) == {a["id"], c["id"]}
    assert found(status="published") == {a["id"]}
    assert found(priority="high") == {a["id"], b["id"]}
    assert found(priority="high", status="draft") == {b["id"]}
    assert found(author="ANN") == {a["id"], c["id"]}
    assert found(author=f"ben {key}") == {b["id"]}
    assert found(tag_ids=[t1["id"]]) == {a["id"], b["id"]}
    assert found(tag_ids=[t1["id"], t2["id"]]) == {a["id"]}, "tag_ids must combine with AND"
    assert found(tag_ids=[t2["id"], t1["id"], t2["id"]]) == {a["id"]}
    assert found(tag_ids=[t2["id"]], category_id=cat["id"], status="archived") == {c["id"]}
    assert found(tag_ids=[t1["id"], t3["id"]]) == set()
    assert found(tag_ids=[t1["id"], 10 ** 9]) == set()
    assert found(tag_ids=[10 ** 9]) == set()
    assert found(category_id=10 ** 9) == set()

    # Without a query the filters alone select.
    page = api.search(tag_ids=[t2["id"], t3["id"]])
    assert ids(page) == [c["id"]]


def test_pagination(api):
    w = word()
    created = [api.create_insight(title=f"{w} number {n}")["id"] for n in range(5)]
    first = api.search(query=w, page_size=2)
    assert_page(first, page=1, page_size=2, total=5)
    walked = ids(first) + ids(api.search(query=w, page_size=2, page=2)) + \
        ids(api.search(query=w, page_size=2, page=3))
    assert sorted(walked) == sorted(created)
    past = api.search(query=w, page_size=2, page=4)
    assert_page(past, page=4, page_size=2, total=5)
    assert past["insights"] == []
    assert len(api.search(query=w, page_size=1)["insights"]) == 1
    assert api.search(query=w, page_size=100)["total"] == 5


@pytest.mark.parametrize("body,errors", [
    ({"page": 0}, [("greater_than_equal", ["body", "page"])]),
    ({"page_size": 0}, [("greater_than_equal", ["body", "page_size"])]),
    ({"page_size": 101}, [("less_than_equal", ["body", "page_size"])]),
    ({"page": "x"}, [("int_parsing", ["body", "page"])]),
    ({"page": 1.5}, [("int_from_float", ["body", "page"])]),
    ({"query": 5}, [("string_type", ["body", "query"])]),
    ({"query": ["a"]}, [("string_type", ["body", "query"])]),
    ({"status": "live"}, [("enum", ["body", "status"])]),
    ({"priority": "urgent"}, [("enum", ["body", "priority"])]),
    ({"category_id": "x"}, [("int_parsing", ["body", "category_id"])]),
    ({"tag_ids": "1"}, [("list_type", ["body", "tag_ids"])]),
    ({"tag_ids": [1, "x"]}, [("int_parsing", ["body", "tag_ids", 1])]),
    ({"author": 7}, [("string_type", ["body", "author"])]),
    ({"page": 0, "status": "x", "query": 1},
     [("greater_than_equal", ["body", "page"]), ("enum", ["body", "status"]),
      ("string_type", ["body", "query"])]),
])
def test_validation(api, body, errors):
    assert_422(api.post("/insights/search", json=body), *errors)


def test_lax_integers(api):
    author = f"lax-{uid()}"
    t = api.create_tag()
    ins = api.create_insight(author=author, tag_ids=[t["id"]])
    page = api.search(author=author, page="1", page_size=5.0, tag_ids=[str(t["id"])])
    assert_page(page, page=1, page_size=5, total=1)
    assert ids(page) == [ins["id"]]


# User text is never query syntax. Each case: the insight's description (words
# joined by punctuation in the query stand side by side in it, so that both a
# phrase and an AND of the words find it), the query, and whether the insight
# must be found.
@pytest.mark.parametrize("text,query,found", [
    ("{w} said foo\"bar", "{w} foo\"bar", True),
    ("notes on the title {w}", "title:{w}", True),
    ("{w} minus", "-{w}", True),
    ("{w} plus", "+{w}", True),
    ("near {w}", "NEAR({w}", True),
    ("{w} paren", "({w}", True),
    ("{w} quote", "\"{w}", True),
    ("{w} caret", "^{w}", True),
    ("{w} colon", "{w}:", True),
    ("{w} brace", "{{{w}}}", True),
    ("{w} apostrophe", "'{w}'", True),
    ("{w} amp", "{w} & |", True),
    ("{w} only", "{w} OR {v}", False),
    ("{w} only", "{w} NOT {v}", False),
    ("{w} only", "{w} AND {v}", False),
    ("{w} only", "{w} | {v}", False),
])
def test_query_text_is_not_syntax(api, text, query, found):
    w, v = word(), word()
    ins = api.create_insight(title="unrelated", description=text.format(w=w))
    page = api.search(query=query.format(w=w, v=v))
    assert ids(page) == ([ins["id"]] if found else [])


@pytest.mark.parametrize("query", ['"', "'", "%", "_", "*", "(", ")", "NEAR(", "NEAR", "a OR b",
                                   "AND", "OR", "NOT", "-x", "title:foo", "foo\"bar", "\\",
                                   "'; DROP TABLE insights; --", "\" OR \"\"=\"", "^", ":", "{}",
                                   "[", "<->", "!", "&", "|", "😀", "' OR 1=1 --"])
def test_hostile_queries_answer_a_page(api, query):
    page = api.search(query=query)
    assert_page(page, page=1, page_size=20)
    assert page["total"] >= len(page["insights"])


@pytest.mark.parametrize("query", ['"', "%", "_", "*", "(", ")", "\\", ":", "-", "^", "'", "!",
                                   "*)(\"", "%_%", "''", "\"\"", "...", " ; ", "-- --"])
def test_punctuation_only_query_matches_nothing(api, query):
    api.create_insight(title="% _ * ( ) \" - ^ ' ! : ; .", description="%_%", content="\\")
    page = api.search(query=query)
    assert_page(page, page=1, page_size=20, total=0)
    assert page["insights"] == []


def test_index_follows_updates_and_deletes(api):
    old, new = word(), word()
    ins = api.create_insight(title=f"{old} title")
    assert ids(api.search(query=old)) == [ins["id"]]
    api.call("PUT", f"/insights/{ins['id']}", json={"title": f"{new} title"})
    assert api.search(query=old)["total"] == 0
    assert ids(api.search(query=new)) == [ins["id"]]
    api.call("PUT", f"/insights/{ins['id']}", json={"content": f"now {old} in the content"})
    assert ids(api.search(query=old)) == [ins["id"]]
    api.call("PUT", f"/insights/{ins['id']}", json={"content": None})
    assert api.search(query=old)["total"] == 0
    api.call("DELETE", f"/insights/{ins['id']}", 204)
    assert api.search(query=new)["total"] == 0


def test_search_results_are_full_insights(api):
    w = word()
    cat = api.create_category()
    t = api.create_tag()
    ins = api.create_insight(title=w, category_id=cat["id"], tag_ids=[t["id"]])
    page = api.search(query=w)
    assert page["insights"] == [api.insight(ins["id"])]


def test_long_queries(api):
    """Queries of up to 1,000 characters work; longer ones may be refused (422 at
    body.query), never fail otherwise."""
    w = word()
    ins = api.create_insight(title=w)
    assert ids(api.search(query=" ".join([w] * 76))) == [ins["id"]]
    assert api.search(query=" ".join(word(8) for _ in range(110)))["total"] == 0
    assert api.search(query="x" * 1000)["total"] == 0
    assert ids(api.search(query='"' * 980 + w)) == [ins["id"]]
    resp = api.post("/insights/search", json={"query": "x" * 100000})
    if resp.status_code != 200:
        assert_422(resp, ("string_too_long", ["body", "query"]))


def test_ranking_window_bounds_very_common_searches(servers):
    """With --search-window N, a query matching more than N insights ranks the
    N newest matches first, then the older ones: total still counts them all,
    and every page comes from that one order."""
    api = servers.start(args=["--search-window", "3"]).api
    w = word()
    oldest = api.create_insight(title=f"{w} in the title", description="d")  # best match
    newer = [api.create_insight(title=f"other {uid()}", description="d", content=f"mentions {w}")
             for _ in range(4)]
    page = api.search(query=w, page_size=3)
    assert page["total"] == 5
    assert set(ids(page)) == {i["id"] for i in newer[1:]}  # the window: the 3 newest
    # Past the window: the older matches, ranked (the title match first).
    page = api.search(query=w, page_size=5)
    assert set(ids(page)[:3]) == {i["id"] for i in newer[1:]}
    assert ids(page)[3:] == [oldest["id"], newer[0]["id"]]
    # Pages of any size are disjoint and together hold every match.
    for size in (1, 2, 3, 4):
        seen = []
        for n in range(1, 6):
            seen += ids(api.search(query=w, page=n, page_size=size))
        assert sorted(seen) == sorted([oldest["id"]] + [i["id"] for i in newer]), size


def test_ranking_window_zero_ranks_everything(servers):
    api = servers.start(args=["--search-window", "0"]).api
    w = word()
    oldest = api.create_insight(title=f"{w} in the title", description="d")
    for _ in range(4):
        api.create_insight(title=f"other {uid()}", description="d", content=f"mentions {w}")
    assert ids(api.search(query=w, page_size=3))[0] == oldest["id"]
