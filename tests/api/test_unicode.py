"""Unicode round-trips in every text field; lengths count characters, not bytes."""
import json

import pytest

from conftest import assert_422, assert_insight, ids, uid, word

SAMPLES = {
    "emoji": "🚀 launch ✨ 👩🏽‍💻 family 👨‍👩‍👧‍👦 flag 🇫🇷",
    "cjk": "洞察力のテスト 数据分析 한국어",
    "rtl": "مرحبا بالعالم — שלום עולם",
    "combining": "e\u0301 a\u0308 n\u0303 Z\u0335\u0321\u0358a\u0336lgo",
    "mixed": "Ünïcödé ßtraße ΑΒΓ Ǆ ﬁ \u00a0nbsp \u200bzwsp",
    "escapes": "quote \" backslash \\ slash / tab \t newline \n cr \r",
    "controls": "bell \u0007 esc \u001b del \u007f",
    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝄞 𐍈 🀄",
}


def send(api, method, path, body, ascii_json):
    """Sends JSON either with \\u escapes (surrogate pairs for astral characters)
    or as raw UTF-8."""
    data = json.dumps(body, ensure_ascii=ascii_json).encode("utf-8")
    return api.request(method, path, data=data, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("ascii_json", [True, False], ids=["escaped", "raw-utf8"])
@pytest.mark.parametrize("sample", list(SAMPLES))
def test_insight_fields_round_trip(api, sample, ascii_json):
    text = SAMPLES[sample]
    body = {"title": f"{text} {uid()}", "description": text, "content": text * 3,
            "source": text, "author": f"{text} {uid()}"}
    resp = send(api, "POST", "/insights", body, ascii_json)
    assert resp.status_code == 201, resp.text
    ins = resp.json()
    assert_insight(ins)
    for key, value in body.items():
        assert ins[key] == value, key
    assert api.insight(ins["id"]) == ins
    listed = api.list_insights(author=body["author"])
    assert ids(listed) == [ins["id"]]

    update = {"title": text[::-1], "description": f"{text}!"}
    resp = send(api, "PUT", f"/insights/{ins['id']}", update, ascii_json)
    assert resp.status_code == 200, resp.text
    assert resp.json()["title"] == text[::-1] and resp.json()["description"] == f"{text}!"


@pytest.mark.parametrize("ascii_json", [True, False], ids=["escaped", "raw-utf8"])
@pytest.mark.parametrize("sample", list(SAMPLES))
def test_tag_and_category_fields_round_trip(api, sample, ascii_json):
    text = SAMPLES[sample]
    tag_body = {"name": f"{text[:30]} {uid()}", "slug": f"{text[:30]} {uid()}", "description": text}
    resp = send(api, "POST", "/tags", tag_body, ascii_json)
    assert resp.status_code == 201, resp.text
    tag = resp.json()
    for key, value in tag_body.items():
        assert tag[key] == value, key
    assert api.tag(tag["id"]) == tag

    cat_body = {"name": f"{text} {uid()}"[:100], "slug": f"{uid()} {text}"[:100], "description": text,
                "icon": text[:50]}
    resp = send(api, "POST", "/categories", cat_body, ascii_json)
    assert resp.status_code == 201, resp.text
    cat = resp.json()
    for key, value in cat_body.items():
        assert cat[key] == value, key
    assert api.category(cat["id"]) == cat

    ins = api.create_insight(category_id=cat["id"], tag_ids=[tag["id"]])
    assert ins["category"]["name"] == cat_body["name"]
    assert ins["tags"][0]["name"] == tag_body["name"]


# (field, maximum length, endpoint): a value of exactly the maximum number of
# multi-byte characters is accepted, one more character is rejected.
LIMITS = [
    ("/insights", "title", 500), ("/insights", "author", 255), ("/insights", "source", 255),
    ("/tags", "name", 50), ("/tags", "slug", 50),
    ("/categories", "name", 100), ("/categories", "slug", 100), ("/categories", "icon", 50),
]
FILLERS = {"2-byte": "é", "3-byte": "漢", "4-byte": "😀", "combining": "e\u0301"}


def body_for(path, field, value):
    if path == "/insights":
        body = {"title": "t", "description": "", "author": "a"}
    else:
        body = {"name": f"n{uid()}", "slug": f"s{uid()}"}
    body[field] = value
    return body


def exactly(filler, n):
    """A string of exactly n characters (code points) built from the filler."""
    return (filler * n)[:n]


@pytest.mark.parametrize("filler", list(FILLERS))
@pytest.mark.parametrize("path,field,limit", LIMITS)
def test_length_limits_count_characters(api, path, field, limit, filler):
    def value_of(n):  # n characters; names and slugs must be unique: end them with a uid
        tail = uid() if field in ("name", "slug") else ""
        value = exactly(FILLERS[filler], n - len(tail)) + tail
        assert len(value) == n
        return value

    for ascii_json in (True, False):
        value = value_of(limit)
        resp = send(api, "POST", path, body_for(path, field, value), ascii_json)
        assert resp.status_code == 201, resp.text
        assert resp.json()[field] == value
        assert_422(send(api, "POST", path, body_for(path, field, value_of(limit + 1)), ascii_json),
                   ("string_too_long", ["body", field]))


def test_search_finds_non_ascii_words(api):
    cyr = "".join(chr(0x430 + i % 32) for i in map(ord, word(10)))  # a random Cyrillic word
    greek = "λόγος" + word(4)
    ins = api.create_insight(title=f"Заметка {cyr}", description=f"περί {greek}",
                             content="東京タワー 😀 café")
    assert ids(api.search(query=cyr)) == [ins["id"]]
    assert ids(api.search(query=greek)) == [ins["id"]]
    assert ids(api.search(query=f"{cyr} {greek}")) == [ins["id"]]
    assert api.search(query=f"{cyr} {word()}")["total"] == 0


def test_non_ascii_author_filter(api):
    key = uid()
    ins = api.create_insight(author=f"Zoë Ñúñez {key} 山田")
    for needle in (f"Zoë Ñúñez {key}", "山田", f"{key} 山"):
        page = api.list_insights(author=needle)
        assert ins["id"] in ids(page)
        assert all(needle in i["author"] for i in page["insights"])
