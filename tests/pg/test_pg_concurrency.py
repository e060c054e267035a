"""Several instances writing to one database at once stay exact: usage counts,
uniqueness and the category delete rule hold across processes, and no request
fails with a 500 or a 503."""
import random
import subprocess
import threading
import time

import requests

from conftest import PSQL, uid

CLIENTS = 16
ROUNDS = 40


def run_threads(n, target):
    errors = []

    def wrapped(k):
        try:
            target(k)
        except Exception as exc:  # noqa: BLE001 - reported below, with the thread
            errors.append(f"client {k}: {exc!r}")

    threads = [threading.Thread(target=wrapped, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a client hung"
    return errors


def expect(resp, status):
    if resp.status_code != status:
        raise AssertionError(f"{resp.request.method} {resp.request.path_url}: "
                             f"{resp.status_code} {resp.text[:300]} (wanted {status})")
    return resp.json() if resp.content else None


def test_sixteen_clients_on_two_instances_keep_usage_counts_exact(servers, database):
    a = servers.start(database.url, "--pool-size", "4")
    b = servers.start(database.url, "--pool-size", "4")
    tags = [expect(requests.post(a.url + "/tags", json={"name": f"t{i}-{uid()}", "slug": f"t{i}-{uid()}"}),
                   201)["id"] for i in range(6)]
    final = {}  # insight id -> its tag ids, as each client left it
    lock = threading.Lock()

    def client(k):
        base = (a if k % 2 else b).url
        s = requests.Session()
        rnd = random.Random(k)
        mine = {}
        for _ in range(ROUNDS):
            op = rnd.random()
            want = sorted(rnd.sample(tags, rnd.randint(0, 4)))
            if op < 0.45 or not mine:
                body = {"title": f"c{k} {uid()}", "description": "concurrency", "author": f"client-{k}",
                        "tag_ids": want, "status": rnd.choice(["draft", "published"])}
                ins = expect(s.post(base + "/insights", json=body), 201)
                assert [t["id"] for t in ins["tags"]] == want
                mine[ins["id"]] = want
            elif op < 0.8:
                iid = rnd.choice(sorted(mine))
                ins = expect(s.put(f"{base}/insights/{iid}", json={"tag_ids": want}), 200)
                assert [t["id"] for t in ins["tags"]] == want
                mine[iid] = want
            else:
                iid = rnd.choice(sorted(mine))
                expect(s.delete(f"{base}/insights/{iid}"), 204)
                del mine[iid]
        with lock:
            final.update(mine)

    errors = run_threads(CLIENTS, client)
    assert not errors, "\n".join(errors)

    expected = {t: sum(t in tl for tl in final.values()) for t in tags}
    # Through the API, from both instances.
    for srv in (a, b):
        listed = {t["id"]: t["usage_count"] for t in expect(requests.get(srv.url + "/tags"), 200)}
        assert {t: listed[t] for t in tags} == expected
        for t in tags:
            page = expect(requests.post(srv.url + "/insights/search",
                                        json={"tag_ids": [t], "page_size": 1}), 200)
            assert page["total"] == expected[t]
        stats = expect(requests.get(srv.url + "/statistics"), 200)
        assert stats["total_insights"] == len(final)
    # Straight from the tables.
    rows = database.query("SELECT t.id, t.usage_count, count(it.tag_id) FROM tags t"
                          " LEFT JOIN insight_tags it ON it.tag_id = t.id GROUP BY t.id")
    assert rows and all(usage == real for _, usage, real in rows), rows
    assert {int(i): int(u) for i, u, _ in rows} == expected
    counts = database.query("SELECT (SELECT coalesce(sum(n), 0) FROM insight_counts),"
                            " (SELECT count(*) FROM insights)")
    assert counts[0][0] == counts[0][1] == str(len(final))


def test_uniqueness_races_across_instances_answer_409(servers, database):
    a = servers.start(database.url)
    b = servers.start(database.url)
    for path, what in (("/tags", "Tag"), ("/categories", "Category")):
        for clash in ("name", "slug"):
            key = f"race-{uid()}"
            barrier = threading.Barrier(CLIENTS)
            results = []

            def client(k):
                body = {"name": key if clash == "name" else f"{key}-{k}",
                        "slug": key if clash == "slug" else f"{key}-{k}"}
                barrier.wait()
                r = requests.post((a if k % 2 else b).url + path, json=body)
                results.append((r.status_code, r.json()))

            errors = run_threads(CLIENTS, client)
            assert not errors, "\n".join(errors)
            codes = sorted(code for code, _ in results)
            assert codes == [201] + [409] * (CLIENTS - 1), results
            for code, body in results:
                if code == 409:
                    assert body == {"detail": f"{what} with {clash} '{key}' already exists"}


def test_category_delete_races_with_new_references(servers, database):
    a = servers.start(database.url)
    b = servers.start(database.url)
    for _ in range(5):
        cat = expect(requests.post(a.url + "/categories", json={"name": f"c-{uid()}", "slug": f"c-{uid()}"}),
                     201)["id"]
        barrier = threading.Barrier(CLIENTS)
        results = {}

        def client(k):
            srv = a if k % 2 else b
            barrier.wait()
            if k == 0:
                r = requests.delete(f"{srv.url}/categories/{cat}")
            elif k == 1:
                r = requests.post(srv.url + "/categories",
                                  json={"name": f"sub-{uid()}", "slug": f"sub-{uid()}", "parent_id": cat})
            else:
                r = requests.post(srv.url + "/insights", json={"title": "ref", "description": "d",
                                                               "author": "x", "category_id": cat})
            results[k] = (r.status_code, r.json() if r.content else None)

        errors = run_threads(CLIENTS, client)
        assert not errors, "\n".join(errors)
        deleted = results[0][0] == 204
        made = sum(1 for k in range(1, CLIENTS) if results[k][0] == 201)
        for k in range(1, CLIENTS):
            assert results[k][0] in (201, 422), results[k]
            if results[k][0] == 422:
                assert "does not exist" in results[k][1]["detail"][0]["msg"]
        if deleted:
            assert made == 0, results
        else:
            assert results[0][0] == 409 and made > 0, results[0]
        refs = database.query(f"SELECT (SELECT count(*) FROM insights WHERE category_id = {cat}),"
                              f" (SELECT count(*) FROM categories WHERE parent_id = {cat}),"
                              f" (SELECT count(*) FROM categories WHERE id = {cat})")
        insights, children, exists = map(int, refs[0])
        assert exists == (0 if deleted else 1)
        assert insights + children == made


def test_opposite_status_flips_are_retried_not_failed(servers, database):
    """Insights moving between the same two statuses in opposite directions
    lock the same two counter rows in opposite orders: PostgreSQL breaks the
    deadlock and the loser is retried, so every request succeeds."""
    a = servers.start(database.url)
    b = servers.start(database.url)
    made = [expect(requests.post(a.url + "/insights", json={
        "title": f"flip {k}", "description": "d", "author": "x",
        "status": "draft" if k % 2 else "published"}), 201)["id"] for k in range(CLIENTS)]

    def client(k):
        srv = a if k % 2 else b
        s = requests.Session()
        for r in range(10):
            status = ("published", "draft")[(k + r) % 2]
            ins = expect(s.put(f"{srv.url}/insights/{made[k]}", json={"status": status}), 200)
            assert ins["status"] == status

    errors = run_threads(CLIENTS, client)
    assert not errors, "\n".join(errors)
    stats = expect(requests.get(a.url + "/statistics"), 200)
    real = dict(database.query("SELECT status, count(*) FROM insights GROUP BY status"))
    assert stats["insights_by_status"]["draft"] == int(real.get("draft", 0))
    assert stats["insights_by_status"]["published"] == int(real.get("published", 0))
    assert stats["total_insights"] == CLIENTS


def test_a_deadlock_is_retried_not_failed(servers, database):
    """Another client locks the insight's second tag, then the first one
    while the service waits for the second: PostgreSQL aborts the service's
    transaction (its own deadlock check runs first), which the service
    retries, and the request succeeds."""
    srv = servers.start(database.url, env={"INSIGHTS_LOG_LEVEL": "debug"})
    t1, t2 = (expect(requests.post(srv.url + "/tags", json={"name": f"d{k}-{uid()}", "slug": f"d{k}-{uid()}"}),
                     201)["id"] for k in range(2))
    ins = expect(requests.post(srv.url + "/insights", json={"title": "dl", "description": "d", "author": "x"}), 201)
    other = subprocess.Popen(
        [PSQL, database.url, "-X", "-q", "-v", "ON_ERROR_STOP=1",
         "-c", "SET deadlock_timeout = '20s'", "-c", "BEGIN",
         "-c", f"SELECT 1 FROM tags WHERE id = {t2} FOR UPDATE",
         "-c", "SELECT pg_sleep(0.5)",
         "-c", f"SELECT 1 FROM tags WHERE id = {t1} FOR UPDATE",
         "-c", "SELECT pg_sleep(0.2)", "-c", "COMMIT"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.2)
        r = requests.put(f"{srv.url}/insights/{ins['id']}", json={"tag_ids": [t1, t2]}, timeout=30)
        assert r.status_code == 200, r.text
        assert [t["id"] for t in r.json()["tags"]] == [t1, t2]
    finally:
        _, err = other.communicate(timeout=60)
    assert other.returncode == 0, err
    assert "deadlock detected" in srv.log() and "retrying a transaction" in srv.log()
    assert database.query(f"SELECT usage_count FROM tags WHERE id IN ({t1}, {t2})") == [("1",), ("1",)]
