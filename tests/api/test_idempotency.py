"""Idempotent capture (issue 14): POST /insights, /tags and /categories with an
Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), on every backend.

A retry with the same key, route and body is answered with the first answer
(status and body byte for byte, `Idempotent-Replayed: true`) without writing;
the same key with another request is a 422; a request still in flight with
the key is a 409. Keys belong to the credential that sends them, outlive a
restart, and are forgotten after --idempotency-ttl seconds.
"""
import os
import re
import threading
import time

import pytest
import requests

from conftest import BACKEND, BIN, Client, run_cli, uid

CALL_TIMEOUT = 30


def _has_faults():
    with open(BIN, "rb") as f:
        return b"INSIGHTS_FAULTS_FILE" in f.read()


needs_faults = pytest.mark.skipif(not _has_faults(),
                                  reason="the binary was built without FAULTS=1 (lib/fault.h)")


class Faults:
    """The fault file of one server (lib/fault.h)."""

    def __init__(self, directory):
        self.path = os.path.join(str(directory), f"faults-{uid()}")
        self.arm()

    @property
    def env(self):
        return {"INSIGHTS_FAULTS_FILE": self.path}

    def arm(self, *points):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(p + "\n" for p in points))
        os.replace(tmp, self.path)


def post(api, path, body, key=None, headers=None):
    h = dict(headers or {})
    if key is not None:
        h["Idempotency-Key"] = key
    return api.post(path, json=body, headers=h)


def bodies(kind):
    """A fresh body for `kind`, and the table its rows go to."""
    n = uid()
    if kind == "insights":
        return {"title": f"captured {n}", "description": "d", "author": "ann"}, "insights"
    if kind == "tags":
        return {"name": f"tag {n}", "slug": f"tag-{n}"}, "tags"
    return {"name": f"cat {n}", "slug": f"cat-{n}"}, "categories"


def count_rows(db, table, where):
    return int(db.query(f"SELECT count(*) FROM {table} WHERE {where}")[0][0])


def audit_total(api, resource, rid):
    return api.call("GET", "/audit", params={"resource": resource, "resource_id": rid})["total"]


def created_total(api):
    text = api.session.get(api.base_url + "/metrics", timeout=CALL_TIMEOUT).text
    return float(re.search(r"^insights_created_total (\S+)$", text, re.M).group(1))


def assert_reused(resp):
    assert resp.status_code == 422, resp.text
    [problem] = resp.json()["detail"]
    assert problem["loc"] == ["header", "idempotency-key"]
    assert problem["type"] == "idempotency_key_reused"
    return problem["msg"]


# ---------------------------------------------------------------------------
# Replay

@pytest.mark.parametrize("kind", ["insights", "tags", "categories"])
def test_replay_answers_the_first_answer_without_writing(fresh_server, kind):
    api, db = fresh_server.api, fresh_server.db
    body, table = bodies(kind)
    key = f'"{uid()}"'
    first = post(api, f"/{kind}", body, key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    rid = first.json()["id"]
    resource = {"insights": "insight", "tags": "tag", "categories": "category"}[kind]
    created = created_total(api)
    # The resource changes since: the replay is still the first answer, byte for byte.
    api.call("PUT", f"/{kind}/{rid}", json={"description": "changed since"})
    for _ in range(2):
        again = post(api, f"/{kind}", body, key)
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert count_rows(db, table, f"id = {rid}") == 1
    assert count_rows(db, table, "1 = 1") == 1
    # One create and one update in the audit trail: the replays wrote nothing.
    assert audit_total(api, resource, rid) == 2
    assert created_total(api) == created


def test_quoted_and_plain_spellings_are_one_key(api):
    body, _ = bodies("tags")
    k = uid()
    first = post(api, "/tags", body, f'"{k}"')
    assert first.status_code == 201
    again = post(api, "/tags", body, k)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.content == first.content
    # Escapes in a Structured Field String: \" and \\ stand for " and \.
    body2, _ = bodies("tags")
    esc = post(api, "/tags", body2, '"a\\"b\\\\c' + k + '"')
    assert esc.status_code == 201
    assert post(api, "/tags", body2, '"a\\"b\\\\c' + k + '"').content == esc.content
    long_key = "k" * 255
    body3, _ = bodies("tags")
    assert post(api, "/tags", body3, long_key).status_code in (201,)
    assert post(api, "/tags", body3, long_key).headers.get("Idempotent-Replayed") == "true"


@pytest.mark.parametrize("key,kind", [
    ('"unterminated', "string_pattern_mismatch"),
    ('"abc" ; x=1', "string_pattern_mismatch"),
    ('"a\\nb"', "string_pattern_mismatch"),
    ('"caf\u00e9"'.encode("utf-8"), "string_pattern_mismatch"),
    ("two words", "string_pattern_mismatch"),
    ("a,b", "string_pattern_mismatch"),
    ('""', "string_too_short"),
    ("k" * 256, "string_too_long"),
    ('"' + "k" * 256 + '"', "string_too_long"),
])
def test_malformed_keys_are_422_and_write_nothing(fresh_server, key, kind):
    api, db = fresh_server.api, fresh_server.db
    body, _ = bodies("tags")
    resp = post(api, "/tags", body, key)
    assert resp.status_code == 422, resp.text
    [problem] = resp.json()["detail"]
    assert problem["loc"] == ["header", "idempotency-key"] and problem["type"] == kind
    assert count_rows(db, "tags", "1 = 1") == 0
    assert count_rows(db, "idempotency_keys", "1 = 1") == 0


def test_same_key_with_another_request_is_422(fresh_server):
    api, db = fresh_server.api, fresh_server.db
    body, _ = bodies("tags")
    key = uid()
    first = post(api, "/tags", body, key)
    assert first.status_code == 201
    other, _ = bodies("tags")
    assert "different body" in assert_reused(post(api, "/tags", other, key))
    assert "different body or query" in assert_reused(api.post("/tags?x=1", json=body,
                                                               headers={"Idempotency-Key": key}))
    msg = assert_reused(post(api, "/categories", body, key))
    assert "POST /tags" in msg and "POST /categories" in msg
    assert count_rows(db, "tags", "1 = 1") == 1 and count_rows(db, "categories", "1 = 1") == 0
    # The key still replays its first answer.
    assert post(api, "/tags", body, key).content == first.content


def test_a_failed_write_leaves_the_key_free(fresh_server):
    api, db = fresh_server.api, fresh_server.db
    key = uid()
    bad = post(api, "/tags", {"slug": "no-name"}, key)
    assert bad.status_code == 422
    taken = api.create_tag()
    clash = post(api, "/tags", {"name": taken["name"], "slug": f"s-{uid()}"}, key)
    assert clash.status_code == 409 and "Idempotent-Replayed" not in clash.headers
    body, _ = bodies("tags")
    ok = post(api, "/tags", body, key)
    assert ok.status_code == 201 and "Idempotent-Replayed" not in ok.headers
    assert count_rows(db, "tags", "1 = 1") == 2
    assert count_rows(db, "idempotency_keys", "1 = 1") == 1


# ---------------------------------------------------------------------------
# Concurrency

CLIENTS = 16


def send_at_once(urls, path, body, key, n=CLIENTS):
    """n clients (round robin over `urls`) send the same request at once."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def one(i):
        api = Client(urls[i % len(urls)])
        barrier.wait()
        out[i] = post(api, path, body, key)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def check_one_write(answers, retry):
    """Exactly one answer wrote; every other is a 409 or that answer replayed."""
    writes = [r for r in answers if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    assert len(writes) == 1, [(r.status_code, dict(r.headers)) for r in answers]
    first = writes[0]
    for r in answers:
        if r is first:
            continue
        if r.status_code == 409:
            assert r.json() == {"detail": "A request with this Idempotency-Key is still in "
                                          "progress: retry it later"}
            assert r.headers["Retry-After"] == "1"
        else:
            assert r.status_code == 201 and r.headers["Idempotent-Replayed"] == "true", r.text
            assert r.content == first.content
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    return first


def test_sixteen_clients_with_one_key_make_one_write(fresh_server):
    api, db = fresh_server.api, fresh_server.db
    body, _ = bodies("insights")
    key = uid()
    answers = send_at_once([fresh_server.url], "/insights", body, key)
    first = check_one_write(answers, post(api, "/insights", body, key))
    assert count_rows(db, "insights", "1 = 1") == 1
    assert audit_total(api, "insight", first.json()["id"]) == 1
    assert created_total(api) == 1


@needs_faults
def test_requests_while_the_first_is_in_flight_are_409(servers, tmp_path):
    faults = Faults(tmp_path)
    srv = servers.start(env=faults.env)
    api, db = srv.api, srv.db
    body, _ = bodies("insights")
    key = uid()
    faults.arm("store.insight_create.before_ms 3000")
    result = {}
    t = threading.Thread(target=lambda: result.update(first=post(Client(srv.url), "/insights",
                                                                 body, key)))
    t.start()
    deadline = time.monotonic() + 10
    while count_rows(db, "idempotency_keys", "status = 0") == 0:
        assert time.monotonic() < deadline, "the first request never claimed its key"
        time.sleep(0.02)
    answers = send_at_once([srv.url], "/insights", body, key, n=CLIENTS - 1)
    t.join()
    faults.arm()
    assert [r.status_code for r in answers] == [409] * (CLIENTS - 1)
    first = result["first"]
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    check_one_write([first, *answers], post(api, "/insights", body, key))
    assert count_rows(db, "insights", "1 = 1") == 1


# ---------------------------------------------------------------------------
# Durability, scope, lifetime

def test_replay_survives_a_restart(servers):
    db = servers.database()
    one = servers.start(db)
    body, _ = bodies("categories")
    key = uid()
    first = post(one.api, "/categories", body, key)
    assert first.status_code == 201
    one.stop_and_check()
    two = servers.start(db)
    again = post(two.api, "/categories", body, key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert count_rows(db, "categories", "1 = 1") == 1


@needs_faults
def test_a_claim_left_by_a_crash_expires(servers, tmp_path):
    faults = Faults(tmp_path)
    db = servers.database()
    # Claims expire after three query timeouts: 9 s here.
    args = ["--query-timeout", "3000"]
    one = servers.start(db, args=args, env=faults.env)
    body, _ = bodies("insights")
    key = uid()
    faults.arm("store.insight_create.before_ms 30000")

    def doomed():
        try:
            post(Client(one.url), "/insights", body, key)
        except requests.RequestException:
            pass

    t = threading.Thread(target=doomed)
    t.start()
    deadline = time.monotonic() + 10
    while count_rows(db, "idempotency_keys", "status = 0") == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    claimed = time.time()
    one.kill()
    t.join()
    faults.arm()
    two = servers.start(db, args=args)
    busy = post(two.api, "/insights", body, key)
    assert time.time() - claimed < 8, "the restart took too long for this test"
    assert busy.status_code == 409
    time.sleep(max(0.0, claimed + 10.5 - time.time()))
    took = post(two.api, "/insights", body, key)
    assert took.status_code == 201 and "Idempotent-Replayed" not in took.headers
    assert count_rows(db, "insights", "1 = 1") == 1
    assert post(two.api, "/insights", body, key).content == took.content


def make_token(db_url, name, role):
    proc = run_cli("token", "create", "--name", name, "--role", role,
                   "--database", db_url, "--log-format", "text")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_keys_belong_to_their_actor(servers):
    db = servers.database()
    ta = make_token(db.url, f"a-{uid()}", "editor")
    tb = make_token(db.url, f"b-{uid()}", "editor")
    srv = servers.start(db, args=["--auth", "on", "--rate-limit", "0"])
    a, b = Client(srv.url), Client(srv.url)
    a.session.headers["Authorization"] = f"Bearer {ta}"
    b.session.headers["Authorization"] = f"Bearer {tb}"
    body, _ = bodies("insights")
    key = uid()
    first = post(a, "/insights", body, key)
    assert first.status_code == 201
    theirs = post(b, "/insights", body, key)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]
    # Each replays its own answer; another body under B's key is B's mismatch only.
    assert post(a, "/insights", body, key).content == first.content
    assert post(b, "/insights", body, key).content == theirs.content
    other, _ = bodies("insights")
    assert_reused(post(b, "/insights", other, key))
    assert count_rows(db, "insights", "1 = 1") == 2


def test_keys_are_forgotten_after_the_ttl_and_pruned(servers):
    # --query-timeout 1000: claims live 3 s, so pruning keeps rows max(2, 3) s.
    srv = servers.start(args=["--idempotency-ttl", "2", "--query-timeout", "1000"])
    api, db = srv.api, srv.db
    body, _ = bodies("insights")
    key = uid()
    first = post(api, "/insights", body, key)
    assert post(api, "/insights", body, key).headers.get("Idempotent-Replayed") == "true"
    time.sleep(3.2)
    again = post(api, "/insights", body, key)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert count_rows(db, "insights", "1 = 1") == 2
    deadline = time.monotonic() + 15
    while count_rows(db, "idempotency_keys", "1 = 1"):
        assert time.monotonic() < deadline, "the expired key was never pruned"
        time.sleep(0.2)
