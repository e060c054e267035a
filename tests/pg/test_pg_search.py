"""Search text never reaches PostgreSQL's tsquery parser as syntax: its
operators (& | ! <-> :* weights, parentheses, quotes) are punctuation, and
words split on punctuation as on SQLite."""
import random
import string

import pytest
import requests

from conftest import Database, Servers


def word():
    return "".join(random.choice(string.ascii_lowercase) for _ in range(12))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """One server for the module, on a database of its own."""
    db = Database()
    servers = Servers(tmp_path_factory.mktemp("search"))
    try:
        yield servers.start(db.url).url
    finally:
        servers.close()
        db.close()


def search(base, query):
    r = requests.post(base + "/insights/search", json={"query": query})
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["insights"]]


def create(base, **fields):
    body = {"description": "d", "author": "a", **fields}
    r = requests.post(base + "/insights", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("template,found", [
    ("{w}:*", True),          # not a prefix search: still the word
    ("{p}:*", False),         # ... so a prefix finds nothing
    ("{w}:A", False),         # not a weight restriction: the phrase "w a"
    ("!{w}", True),           # not a negation
    ("{w} & !{v}", False),    # every word must match, 'v' included
    ("{w} | {v}", False),     # not an OR
    ("({w}", True),
    ("'{w}'", True),
    ("\"{w}\"", True),
    ("{w} <-> {v}", False),
    ("{w}<->", True),
    ("\\{w}", True),
])
def test_tsquery_operators_are_plain_text(api, template, found):
    w, v = word(), word()
    ins = create(api, title=f"{w} notes")
    query = template.format(w=w, v=v, p=w[:5])
    assert search(api, query) == ([ins] if found else [])


@pytest.mark.parametrize("query", ["!", "&", "|", ":*", "(", ")", "<->", "!!", "& | !", "'", "''", ":"])
def test_operators_alone_match_nothing(api, query):
    create(api, title="! & | :* ( ) <-> '")
    assert search(api, query) == []


def test_words_split_on_punctuation_as_on_sqlite(api):
    a, b, c = word(), word(), word()
    ins = create(api, title=f"{a}-{b} see {c}@example.com v1.2.3")
    assert search(api, a) == [ins]                 # inside a hyphenated word
    assert search(api, f"{a} {b}") == [ins]
    assert search(api, f"{a}-{b}") == [ins]        # the phrase of its parts
    assert search(api, f"{b}-{a}") == []           # in that order
    assert search(api, c) == [ins]                 # inside an e-mail address
    assert search(api, "example") != []
    assert search(api, f"{a.upper()}") == [ins]    # case-insensitive


def test_title_weighs_more_than_description_more_than_content(api):
    w = word()
    in_content = create(api, title="x", description="y", content=f"{w}")
    in_description = create(api, title="x", description=f"{w}", content="z")
    in_title = create(api, title=f"{w}", description="y", content="z")
    assert search(api, w) == [in_title, in_description, in_content]
