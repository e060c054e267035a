"""The API documentation as the binary serves it: /openapi.json, /docs
(Swagger UI), /redoc (ReDoc) and the files under /docs/.

Checks that the document served is the committed src/api/openapi.json and
lists exactly the routes of src/api/routes.c, that both pages and every file
they load are served (right type, strong ETag = SHA-256 of the bytes, 304 on
If-None-Match), that nothing served makes a browser fetch from the internet,
that real answers of the API match the document, and, when /usr/bin/chromium
exists, that Swagger UI and ReDoc render the operations in a real browser.

The binary is $INSIGHTS_BIN (default build/insights); one server on a fresh
SQLite database (tests/harness.py starts it) serves the whole module and must
exit 0 on SIGTERM with no sanitizer report.
"""
import hashlib
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
import requests

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
import harness  # noqa: E402
from openapi_check import SPEC_PATH, validate_response  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
HTTP_TIMEOUT = 30

with open(SPEC_PATH, "rb") as _f:
    SPEC_BYTES = _f.read()
SPEC = json.loads(SPEC_BYTES)

TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".txt": "text/plain",
         ".svg": "image/svg+xml"}
# The HTML pages the binary serves, and the paths their embedded files are under.
PAGES = ("/docs", "/redoc", "/graphiql")
ASSET_PREFIXES = ("docs", "graphiql")


# ---------------------------------------------------------------------------
# The server

class Server(harness.Server):
    def __init__(self, directory):
        super().__init__("sqlite:///" + os.path.join(directory, "docs.db"),
                         os.path.join(directory, "server.log"))

    def get(self, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return requests.get(self.url + path, **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return requests.request(method, self.url + path, **kw)


@pytest.fixture(scope="module")
def server():
    directory = tempfile.mkdtemp(prefix="insights-docs-")
    try:
        srv = Server(directory).start()
        try:
            yield srv
        finally:
            srv.stop_and_check()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def checked(resp, body=None):
    """Validates a response against the document and returns it."""
    ctype = resp.headers.get("Content-Type")
    if body is None:
        if resp.content == b"":
            body = None
        elif ctype and ctype.startswith("application/json"):
            body = resp.json()
        else:
            body = resp.content
    validate_response(resp.request.method, resp.request.path_url, resp.status_code, body,
                      content_type=ctype if body is not None else None, headers=resp.headers)
    return resp


# ---------------------------------------------------------------------------
# The document

def route_table():
    """(METHOD, pattern) pairs of src/api/routes.c."""
    with open(os.path.join(REPO, "src", "api", "routes.c"), encoding="utf-8") as f:
        text = f.read()
    routes = set()
    for methods, pattern in re.findall(r'\{\s*(HTTP_[A-Z_|\s]+?)\s*,\s*"([^"]+)"', text):
        for m in methods.split("|"):
            routes.add((m.strip()[len("HTTP_"):], pattern))
    assert routes, "no route found in src/api/routes.c"
    return routes


def test_document_lists_exactly_the_routes():
    documented = {(m.upper(), path) for path, item in SPEC["paths"].items() for m in item
                  if m in ("get", "put", "post", "delete", "patch")}
    routes = route_table()
    assert documented - routes == set(), "documented operations without a route"
    assert routes - documented == set(), "routes missing from src/api/openapi.json"


def test_document_basics():
    assert SPEC["openapi"].startswith("3.1.")
    assert SPEC["servers"] == [{"url": "/", "description": SPEC["servers"][0]["description"]}]
    ids = [op["operationId"] for item in SPEC["paths"].values() for m, op in item.items()
           if m != "parameters"]
    assert len(ids) == len(set(ids))
    with open(os.path.join(REPO, "Makefile"), encoding="utf-8") as f:
        version = re.search(r"^VERSION := (\S+)", f.read(), re.M).group(1)
    assert SPEC["info"]["version"] == version, "info.version must follow the Makefile's VERSION"


def test_embedded_category_matches_category():
    schemas = SPEC["components"]["schemas"]
    full, embedded = schemas["Category"], schemas["InsightCategory"]
    assert set(full["properties"]) - set(embedded["properties"]) == {"insight_count"}
    for name, prop in embedded["properties"].items():
        assert full["properties"][name] == prop, name


def test_openapi_json_is_the_committed_file(server):
    resp = checked(server.get("/openapi.json"))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.content == SPEC_BYTES, "the binary serves a stale src/api/openapi.json: rebuild"
    assert resp.headers["ETag"] == '"%s"' % hashlib.sha256(SPEC_BYTES).hexdigest()
    assert resp.headers["Cache-Control"] == "no-cache"


def test_health_version_matches_document(server):
    assert checked(server.get("/health")).json()["version"] == SPEC["info"]["version"]


# ---------------------------------------------------------------------------
# Pages and files

class Refs(html.parser.HTMLParser):
    """The URLs a page makes the browser load or link to."""

    def __init__(self):
        super().__init__()
        self.urls = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "action", "spec-url", "data", "poster", "srcset"):
            if attrs.get(name):
                self.urls.append((tag, name, attrs[name]))
        self._in_script = tag == "script" and not attrs.get("src")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


def page_refs(server, path):
    resp = checked(server.get(path))
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    parser = Refs()
    parser.feed(resp.text)
    return resp, parser


@pytest.mark.parametrize("page", PAGES)
def test_page_is_strictly_offline(server, page):
    resp, refs = page_refs(server, page)
    assert not re.search(r"https?://", resp.text, re.I), "a page must name no absolute URL"
    for tag, attr, url in refs.urls:
        assert url.startswith("/") and not url.startswith("//"), \
            f"<{tag} {attr}={url!r}>: only this server's paths"
    assert refs.inline_scripts == 0, "the CSP forbids inline scripts: use a file under /docs/"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "http" not in csp and "*" not in csp
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def served_files(server):
    """Every URL the two pages reference, plus the assets the document lists."""
    urls = set()
    for page in PAGES:
        _, refs = page_refs(server, page)
        urls.update(url for _, _, url in refs.urls)
    for prefix in ASSET_PREFIXES:
        enum = SPEC["paths"][f"/{prefix}/{{asset}}"]["get"]["parameters"][0]["schema"]["enum"]
        urls.update(f"/{prefix}/" + name for name in enum)
    return sorted(urls)


def test_every_referenced_file_loads_and_revalidates(server):
    urls = served_files(server)
    assert "/docs/swagger-ui-bundle.js" in urls and "/docs/redoc.standalone.js" in urls
    assert "/graphiql/graphiql.min.js" in urls and "/graphiql/graphiql-init.js" in urls
    for url in urls:
        resp = checked(server.get(url))
        assert resp.status_code == 200, url
        etag = '"%s"' % hashlib.sha256(resp.content).hexdigest()
        assert resp.headers["ETag"] == etag, f"{url}: the ETag must be the SHA-256 of the bytes"
        if url.startswith(("/docs/", "/graphiql/")):
            ext = os.path.splitext(url)[1]
            assert resp.headers["Content-Type"].split(";")[0] == TYPES[ext], url
            assert resp.headers["Cache-Control"] == "public, max-age=3600", url
        not_modified = checked(server.get(url, headers={"If-None-Match": etag}))
        assert not_modified.status_code == 304, url
        assert not_modified.content == b""
        assert not_modified.headers["ETag"] == etag


@pytest.mark.parametrize("prefix", ASSET_PREFIXES)
def test_document_lists_the_served_files(server, prefix):
    enum = set(SPEC["paths"][f"/{prefix}/{{asset}}"]["get"]["parameters"][0]["schema"]["enum"])
    with open(os.path.join(REPO, "mk", "assets.mk"), encoding="utf-8") as f:
        embedded = set(re.findall(rf"^\t/{prefix}/(\S+) ", f.read(), re.M))
    assert embedded == enum, "the asset enum of openapi.json must list the files of mk/assets.mk"
    for page in PAGES:
        _, refs = page_refs(server, page)
        for _, _, url in refs.urls:
            if url.startswith(f"/{prefix}/"):
                assert url[len(prefix) + 2:] in enum, f"{url} is served but not in the asset enum"


@pytest.mark.parametrize("header,expect", [
    ('"{tag}"', 304),
    ('W/"{tag}"', 304),
    ('"0000", "{tag}"', 304),
    ('*', 304),
    ('"{tag}x"', 200),
    ('"{short}"', 200),
    ('{tag}', 200),
    ('', 200),
])
def test_if_none_match_forms(server, header, expect):
    tag = hashlib.sha256(server.get("/docs/swagger-init.js").content).hexdigest()
    resp = checked(server.get("/docs/swagger-init.js",
                              headers={"If-None-Match": header.format(tag=tag, short=tag[:-1])}))
    assert resp.status_code == expect


def test_head_and_unknown_asset(server):
    head = checked(server.request("HEAD", "/docs/swagger-ui.css"))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == server.get("/docs/swagger-ui.css").headers["ETag"]
    for path in ("/docs/nope.js", "/docs/swagger-ui.css.map", "/docs/..%2Fopenapi.json"):
        resp = checked(server.get(path))
        assert resp.status_code == 404 and resp.json() == {"detail": "Not Found"}, path
    resp = checked(server.get("/docs/a/b"))
    assert resp.status_code == 404
    resp = checked(server.request("POST", "/docs", data=b"{}"))
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]


# Patterns in scripts and styles that make a browser fetch from elsewhere.
# The bundles are full of URLs in comments, licences and error messages;
# these are the forms that load something.
EXTERNAL_LOADS = [
    r"@import",
    r"url\(\s*['\"]?\s*(https?:)?//",
    r"fonts\.googleapis",
    r"fonts\.gstatic",
    r"\bcdn\.",
    r"unpkg\.com",
    r"jsdelivr",
    r"cdnjs",
]
# Text that names a CDN without loading from it: GraphiQL's warning to
# pages that pair it with an old React.
NOT_LOADS = ["If you are using a CDN source (jsdelivr, unpkg, etc), follow this example:"]


def test_scripts_and_styles_load_nothing_external(server):
    for url in served_files(server):
        ext = os.path.splitext(url)[1]
        if ext not in (".js", ".css"):
            continue
        text = server.get(url).text
        for harmless in NOT_LOADS:
            text = text.replace(harmless, "")
        for pattern in EXTERNAL_LOADS:
            m = re.search(pattern, text)
            assert not m, f"{url}: {text[max(0, m.start() - 80):m.end() + 80]!r}"
        if ext == ".css":
            for m in re.finditer(r"url\(\s*['\"]?([^'\")]*)", text):
                assert m.group(1).startswith("data:"), f"{url}: url({m.group(1)[:80]})"
    init = server.get("/docs/swagger-init.js").text
    assert re.search(r"validatorUrl:\s*null", init), \
        "Swagger UI would show a badge from an online validator"
    assert 'url: "/openapi.json"' in init


# ---------------------------------------------------------------------------
# Real answers against the document (a sample; the black-box suite checks all)

def test_real_answers_match_the_document(server):
    s = server
    tag = checked(s.request("POST", "/tags", json={"name": "Best Practice", "slug": "best-practice",
                                                   "color": "#3B82F6"})).json()
    checked(s.request("POST", "/tags", json={"name": "Best Practice", "slug": "other"}))
    parent = checked(s.request("POST", "/categories", json={"name": "Technical", "slug": "technical",
                                                            "icon": "code"})).json()
    child = checked(s.request("POST", "/categories", json={"name": "Databases", "slug": "databases",
                                                           "parent_id": parent["id"]})).json()
    example = SPEC["components"]["schemas"]["InsightCreate"]["example"]
    body = {**example, "category_id": child["id"], "tag_ids": [tag["id"]]}
    ins = checked(s.request("POST", "/insights", json=body))
    assert ins.status_code == 201, ins.text
    ins = ins.json()
    checked(s.request("POST", "/insights", json={"title": "t", "description": "", "author": "a"}))
    for method, path, kw in [
        ("GET", f"/insights/{ins['id']}", {}),
        ("GET", "/insights?page=1&page_size=5&status=published&author=ENGINEERING", {}),
        ("GET", "/insights?page=0&page_size=101&status=nope", {}),
        ("POST", "/insights/search", {"json": {"query": "composite indexes", "tag_ids": [tag["id"]]}}),
        ("POST", "/insights/search", {"json": {}}),
        ("POST", "/insights/search", {"data": b"{oops"}),
        ("PUT", f"/insights/{ins['id']}", {"json": {"status": "archived", "source": None}}),
        ("PUT", f"/insights/{ins['id']}", {"json": {"title": None, "tag_ids": [999]}}),
        ("GET", "/insights/999999", {}),
        ("GET", "/insights/search", {}),
        ("GET", "/tags?skip=0&limit=10", {}),
        ("GET", f"/tags/{tag['id']}", {}),
        ("PUT", f"/tags/{tag['id']}", {"json": {"description": "Recommended", "color": None}}),
        ("GET", "/categories", {}),
        ("GET", f"/categories/{parent['id']}", {}),
        ("PUT", f"/categories/{parent['id']}", {"json": {"parent_id": child["id"]}}),
        ("DELETE", f"/categories/{parent['id']}", {}),
        ("GET", "/statistics", {}),
        ("GET", "/statistics/trends?days=3", {}),
        ("GET", "/statistics/trends?days=367", {}),
        ("GET", "/statistics/authors?limit=5", {}),
        ("GET", "/metrics", {}),
        ("GET", "/health", {}),
        ("PATCH", "/insights", {}),
        ("GET", "/nowhere", {}),
        ("POST", "/tags", {"data": b"x" * (2 << 20)}),
        ("OPTIONS", "/insights", {"headers": {"Origin": "http://example.test",
                                              "Access-Control-Request-Method": "POST"}}),
        ("DELETE", f"/insights/{ins['id']}", {}),
        ("DELETE", f"/tags/{tag['id']}", {}),
    ]:
        resp = s.request(method, path, **kw)
        checked(resp)
    statuses = {checked(s.get("/insights/abc")).status_code, checked(s.get("/tags/999")).status_code}
    assert statuses == {422, 404}


# ---------------------------------------------------------------------------
# In a browser

def chromium_dom(url, budget_ms=8000):
    profile = tempfile.mkdtemp(prefix="insights-chromium-")
    try:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


needs_chromium = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                    reason="no /usr/bin/chromium (install Debian's chromium)")


def operations():
    return [(m, path) for path, item in SPEC["paths"].items() for m in item if m != "parameters"]


@needs_chromium
def test_swagger_ui_renders_the_operations(server):
    before = len(server.log())
    dom = chromium_dom(server.url + "/docs")
    blocks = re.findall(r'class="opblock opblock-(get|post|put|delete)', dom)
    paths = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert {"/insights", "/tags", "/insights/{insight_id}", "/statistics/trends"} <= paths, \
        dom[-3000:]
    assert len(blocks) == len(operations()), f"{len(blocks)} operations rendered"
    assert not re.search(r"<(img|script|link|iframe)[^>]+(src|href)=\"(https?:)?//", dom), \
        "the rendered page loads something from elsewhere"
    requested = re.findall(r"\b(?:GET|HEAD) (\S+) ", server.log()[before:])
    assert "/openapi.json" in requested, requested


@needs_chromium
def test_redoc_renders_the_operations(server):
    dom = chromium_dom(server.url + "/redoc")
    for op in SPEC["paths"]["/insights"].values():
        assert op["summary"] in dom, op["summary"]
    assert "cdn.redoc.ly" not in dom
    assert 'alt="redocly logo"' not in dom
