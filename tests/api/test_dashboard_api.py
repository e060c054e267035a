"""What the dashboard reads beyond the plain resources, on every backend:
GET /insights/{id}/related (ranking, limits, errors), content rendered as
safe HTML (GET /insights/{id}?format=html and POST /render, with an XSS
corpus), and the dashboard's files (/ and /web/{file}): security headers,
gzip negotiation, ETags and 304s."""
import gzip
import hashlib
import re

import pytest
import requests

from conftest import HTTP_TIMEOUT, assert_422, assert_detail, assert_insight, uid


# ---------------------------------------------------------------------------
# Related insights

def set_created(server, ids_to_times):
    for insight_id, ts in ids_to_times.items():
        server.db.execute(f"UPDATE insights SET created_at = '{ts}' WHERE id = {insight_id}")


def related(api, insight_id, **params):
    body = api.call("GET", f"/insights/{insight_id}/related", params=params)
    assert isinstance(body, list)
    for ins in body:
        assert_insight(ins)
    return [i["id"] for i in body]


def test_related_ranking(fresh_server):
    api = fresh_server.api
    cat, other = api.create_category(), api.create_category()
    t = [api.create_tag()["id"] for _ in range(4)]
    me = api.create_insight(category_id=cat["id"], tag_ids=t[:3])["id"]
    # Shared tags first (most first), then the same category, then newest.
    three = api.create_insight(category_id=other["id"], tag_ids=t[:3])["id"]
    two_same = api.create_insight(category_id=cat["id"], tag_ids=t[:2])["id"]
    two_other = api.create_insight(category_id=other["id"], tag_ids=[t[0], t[2], t[3]])["id"]
    one_old = api.create_insight(tag_ids=[t[1]])["id"]
    one_same = api.create_insight(category_id=cat["id"], tag_ids=[t[0]])["id"]
    one_new = api.create_insight(tag_ids=[t[2]])["id"]
    same_old = api.create_insight(category_id=cat["id"])["id"]
    same_new = api.create_insight(category_id=cat["id"], tag_ids=[t[3]])["id"]
    unrelated = api.create_insight(category_id=other["id"], tag_ids=[t[3]])["id"]
    # created_at decides "newest", not the id: the older ids get the newer times.
    set_created(fresh_server, {
        one_old: "2024-01-01T00:00:00Z", one_new: "2024-06-01T00:00:00Z",
        same_old: "2024-03-01T00:00:00Z", same_new: "2024-02-01T00:00:00Z",
        two_same: "2023-01-01T00:00:00Z", two_other: "2025-01-01T00:00:00Z",
        one_same: "2022-01-01T00:00:00Z",
    })
    # (One without a category never counts as "same category", on any backend.)
    want = [three, two_same, two_other, one_same, one_new, one_old, same_old, same_new]
    assert related(api, me, limit=50) == want
    assert unrelated not in want and me not in want
    assert related(api, me) == want[:5], "the default limit is 5"
    assert related(api, me, limit=1) == [three]
    # Ties on shared tags and category: newest first, then the highest id.
    set_created(fresh_server, {one_old: "2024-06-01T00:00:00Z"})
    assert related(api, me, limit=50)[4:6] == sorted([one_old, one_new], reverse=True)


def test_related_without_tags_or_category(fresh_api):
    api = fresh_api
    lonely = api.create_insight()["id"]
    api.create_insight()  # no category either: having none relates nothing
    assert related(api, lonely) == []
    cat = api.create_category()
    a = api.create_insight(category_id=cat["id"])["id"]
    b = api.create_insight(category_id=cat["id"])["id"]
    assert related(api, a) == [b]
    assert related(api, b) == [a]


def test_related_follows_writes(fresh_api):
    api = fresh_api
    tag = api.create_tag()["id"]
    a = api.create_insight(tag_ids=[tag])["id"]
    assert related(api, a) == []
    b = api.create_insight(tag_ids=[tag])["id"]
    assert related(api, a) == [b], "a cached answer outlived a write"
    api.call("PUT", f"/insights/{b}", json={"tag_ids": []})
    assert related(api, a) == []
    api.call("DELETE", f"/insights/{a}", expect=204)
    assert_detail(api.get(f"/insights/{a}/related"), 404, "Insight not found")


def test_related_errors(api):
    ins = api.create_insight()["id"]
    assert_detail(api.get("/insights/99999999/related"), 404, "Insight not found")
    assert_detail(api.get("/insights/0/related"), 404, "Insight not found")
    assert_422(api.get("/insights/abc/related"), ("int_parsing", ["path", "insight_id"]))
    for bad, kind in (("0", "greater_than_equal"), ("51", "less_than_equal"), ("x", "int_parsing")):
        assert_422(api.get(f"/insights/{ins}/related", params={"limit": bad}), (kind, ["query", "limit"]))
    assert api.call("GET", f"/insights/{ins}/related", params={"limit": 50}) == []
    assert api.request("POST", f"/insights/{ins}/related").status_code == 405


# ---------------------------------------------------------------------------
# Rendering

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"><svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=\"https://example.org\"></iframe>",
    "<div onclick=\"alert(1)\">x</div>",
    "[a](javascript:alert(1))",
    "[a](JAVASCRIPT:alert(1))",
    "[a](javascript&#58;alert(1))",
    "[a]( javascript:alert(1))",
    "[a](<javascript:alert(1)>)",
    "[a](vbscript:msgbox(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![i](data:image/png;base64,iVBORw0KGgo=)",
    "![i](javascript:alert(1))",
    "[a](file:///etc/passwd)",
    "<javascript:alert(1)>",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "`<script>alert(1)</script>`",
    "<!-- <script>alert(1)</script> -->",
    "<style>body{display:none}</style>",
    "<textarea><script>alert(1)</script></textarea>",
]

# What must never appear in the HTML: a tag the source spelled, an event
# handler, a dangerous address.
UNSAFE = re.compile(r"<\s*(script|img[^>]*\bonerror|svg|iframe|style|textarea|div)\b|\son\w+\s*=|"
                    r"(href|src)\s*=\s*\"\s*(javascript|vbscript|data|file)", re.I)


def render(api, content):
    body = api.call("POST", "/render", json={"content": content})
    assert set(body) == {"html"}
    return body["html"]


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_render_xss_corpus_is_inert(api, source):
    html = render(api, source)
    assert not UNSAFE.search(html), html
    # The insight's own rendering is the same.
    ins = api.create_insight(content=source)
    got = api.call("GET", f"/insights/{ins['id']}", params={"format": "html"})
    assert got["content_html"] == html
    assert got["content"] == source


@pytest.mark.parametrize("source", [
    "[a](<java\tscript:alert(1)>)", "[a](<java script:alert(1)>)", "[a](ftp://example.org/x)",
    "[a](foo:bar)", "[a](1http://example.org)", "[a](:x)", "<ftp://example.org/x>", "![i](<java\tscript:x>)",
])
def test_render_blanks_every_other_scheme(api, source):
    """Only relative addresses and http:, https:, mailto: are kept (an
    allowlist, not cmark's list of dangerous schemes)."""
    html = render(api, source)
    assert re.search(r'(href|src)=""', html), html
    assert not re.search(r'(href|src)="[^"]', html), html


def test_render_keeps_safe_markdown(api):
    html = render(api, "## Context\n\nSome *emphasis*, `code` & <b>bold</b>.\n\n"
                       "- [docs](https://example.org/a?b=1&c=2)\n- [rel](/insights/3) [frag](#x)\n"
                       "- <mailto:team@example.org> ![img](https://example.org/i.png)\n")
    assert "<h2>Context</h2>" in html
    assert "<em>emphasis</em>" in html and "<code>code</code>" in html
    assert "&amp;" in html and "<b>" not in html
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html
    assert 'href="/insights/3"' in html and 'href="#x"' in html
    assert 'href="mailto:team@example.org"' in html
    assert 'src="https://example.org/i.png"' in html


def test_format_html_and_json(api):
    ins = api.create_insight(content="# Title\n\ntext")
    plain = api.call("GET", f"/insights/{ins['id']}")
    assert "content_html" not in plain
    assert api.call("GET", f"/insights/{ins['id']}", params={"format": "json"}) == plain
    rendered = api.call("GET", f"/insights/{ins['id']}", params={"format": "html"})
    assert rendered["content_html"] == "<h1>Title</h1>\n<p>text</p>\n"
    assert {k: v for k, v in rendered.items() if k != "content_html"} == plain
    empty = api.create_insight()
    assert api.call("GET", f"/insights/{empty['id']}", params={"format": "html"})["content_html"] == ""
    assert_422(api.get(f"/insights/{ins['id']}", params={"format": "xml"}), ("literal_error", ["query", "format"]))
    assert_detail(api.get("/insights/99999999", params={"format": "html"}), 404, "Insight not found")


def test_render_input_errors(api):
    assert_422(api.post("/render", json={}), ("missing", ["body", "content"]))
    assert_422(api.post("/render", json={"content": 5}), ("string_type", ["body", "content"]))
    assert_422(api.post("/render", json={"content": None}), ("string_type", ["body", "content"]))
    assert_422(api.post("/render", json={"content": "é" * 65537}), ("string_too_long", ["body", "content"]))
    assert render(api, "é" * 65536).startswith("<p>é")
    assert_422(api.post("/render", data=b"not json", headers={"Content-Type": "application/json"}), exact=False)
    assert render(api, "") == ""


# ---------------------------------------------------------------------------
# The dashboard's files

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def raw(server, path, **headers):
    """The bytes as sent (requests would decompress them)."""
    resp = requests.get(server.url + path, headers=headers, timeout=HTTP_TIMEOUT, stream=True)
    body = resp.raw.read(decode_content=False)
    resp.close()
    return resp, body


def page_files(server):
    _, page = raw(server, "/", **{"Accept-Encoding": "identity"})
    return re.findall(r'(?:src|href)="(/web/[^"]+)"', page.decode())


def test_dashboard_page_headers(server):
    resp, body = raw(server, "/", **{"Accept-Encoding": "identity"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert resp.headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert resp.headers["ETag"] == '"%s"' % hashlib.sha256(body).hexdigest()
    text = body.decode()
    assert "<script>" not in text and not re.search(r"<script(?![^>]*\bsrc=)", text), "inline script"
    assert not re.search(r"\son\w+=", text) and "style=" not in text and "<style" not in text
    assert not re.search(r"(src|href)=\"(https?:)?//", text), "the page loads from another origin"


def test_dashboard_files_load_nothing_external(server):
    files = page_files(server)
    assert "/web/app.js" in files and "/web/chart.umd.min.js" in files and "/web/style.css" in files
    for path in files + ["/web/preact-htm.js", "/web/overview.js"]:
        resp, body = raw(server, path, **{"Accept-Encoding": "identity"})
        assert resp.status_code == 200, path
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in resp.headers
        assert not re.search(rb"https?://(?!www\.w3\.org/)[a-z0-9.-]+\.[a-z]{2,}/[^\s\"')]*\.(js|css|woff2?|png|svg)", body), path
        assert b"sourceMappingURL" not in body, path


@pytest.mark.parametrize("accept,gz", [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True), ("GZIP", True),
    ("x-gzip", True), ("*", True), ("identity", False), ("", False), (None, False), ("br", False),
    ("gzip;q=0", False), ("gzip; q=0.000", False), ("*;q=0", False), ("gzip;q=0, *", False),
    ("deflate, *;q=0.5", True), ("gzip;q=0.001", True), ("gzipx", False),
])
def test_gzip_negotiation(server, accept, gz):
    headers = {} if accept is None else {"Accept-Encoding": accept}
    if accept is None:
        resp = requests.get(server.url + "/web/app.js", timeout=HTTP_TIMEOUT, stream=True,
                            headers={"Accept-Encoding": None})
        body = resp.raw.read(decode_content=False)
        resp.close()
    else:
        resp, body = raw(server, "/web/app.js", **headers)
    _, plain = raw(server, "/web/app.js", **{"Accept-Encoding": "identity"})
    assert resp.status_code == 200
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert resp.headers["ETag"] == '"%s"' % hashlib.sha256(body).hexdigest()
    if gz:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == plain and len(body) < len(plain)
    else:
        assert "Content-Encoding" not in resp.headers
        assert body == plain


def test_gzip_variants_of_every_file(server):
    for path in ["/"] + page_files(server):
        _, plain = raw(server, path, **{"Accept-Encoding": "identity"})
        resp, body = raw(server, path, **{"Accept-Encoding": "gzip"})
        if resp.headers.get("Content-Encoding") == "gzip":
            assert gzip.decompress(body) == plain, path
        else:  # a file that gzip would not make smaller is sent as it is
            assert body == plain and len(gzip.compress(plain)) >= len(plain) - 32, path


def test_conditional_requests(server):
    for enc in ("identity", "gzip"):
        resp, body = raw(server, "/web/chart.umd.min.js", **{"Accept-Encoding": enc})
        etag = resp.headers["ETag"]
        again, nothing = raw(server, "/web/chart.umd.min.js", **{"Accept-Encoding": enc, "If-None-Match": etag})
        assert again.status_code == 304 and nothing == b""
        assert again.headers["ETag"] == etag
    plain = raw(server, "/web/app.js", **{"Accept-Encoding": "identity"})[0].headers["ETag"]
    packed = raw(server, "/web/app.js", **{"Accept-Encoding": "gzip"})[0].headers["ETag"]
    assert plain != packed, "two representations share an ETag"
    stale, _ = raw(server, "/web/app.js", **{"Accept-Encoding": "gzip", "If-None-Match": plain})
    assert stale.status_code == 200


def test_unknown_dashboard_files(server):
    for path in ("/web/nope.js", "/web/app.js.map", "/web/..%2Fopenapi.json", "/web/", "/index.html"):
        resp = requests.get(server.url + path, timeout=HTTP_TIMEOUT)
        assert resp.status_code == 404, path
        assert resp.json() == {"detail": "Not Found"}
    resp = requests.get(server.url + "/web/a/b", timeout=HTTP_TIMEOUT)
    assert resp.status_code == 404
    assert requests.post(server.url + "/", timeout=HTTP_TIMEOUT).status_code == 405
