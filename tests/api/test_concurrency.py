"""Concurrent writers: no request fails and usage_count stays exact."""
import random
import threading
from collections import Counter

from conftest import Client

THREADS = 16
REQUESTS_PER_THREAD = 40
RETAGGERS = 12  # the other threads create and delete insights


def run_threads(target, count):
    """Runs target(n, results) in `count` threads started together; returns the
    list they appended to (with any exception a thread raised)."""
    results = []
    barrier = threading.Barrier(count)

    def run(n):
        try:
            barrier.wait(timeout=30)
            target(n, results)
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            results.append(f"thread {n}: {exc!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive(), "a client thread hung"
    return results


def test_concurrent_retagging_keeps_usage_count_exact(fresh_server):
    api = fresh_server.api
    tags = [api.create_tag()["id"] for _ in range(8)]
    shared = [api.create_insight(tag_ids=random.sample(tags, 3))["id"] for _ in range(8)]

    def work(n, errors):
        client = Client(fresh_server.url)
        rng = random.Random(n)
        mine = []
        for i in range(REQUESTS_PER_THREAD):
            if n < RETAGGERS:
                target = rng.choice(shared)
                resp = client.put(f"/insights/{target}", json={"tag_ids": rng.sample(tags, 6)})
            elif i % 3 == 2 and mine:
                resp = client.delete(f"/insights/{mine.pop(rng.randrange(len(mine)))}")
            else:
                resp = client.post("/insights", json={"title": f"c{n}-{i}", "description": "",
                                                      "author": f"thread {n}",
                                                      "tag_ids": rng.sample(tags, rng.randint(1, 6))})
                if resp.status_code == 201:
                    mine.append(resp.json()["id"])
            if not 200 <= resp.status_code < 300:
                errors.append(f"thread {n} {resp.request.method} {resp.request.path_url}: "
                              f"{resp.status_code} {resp.text[:300]}")

    errors = run_threads(work, THREADS)
    assert not errors, f"{len(errors)} failed requests, e.g.:\n" + "\n".join(errors[:10])

    insights = api.all_insights()
    carried = Counter(t["id"] for ins in insights for t in ins["tags"])
    counts = {t["id"]: t["usage_count"] for t in api.all_tags()}
    assert counts == {t: carried.get(t, 0) for t in tags}
    for ins in insights:
        if ins["id"] in shared:
            assert len(ins["tags"]) == 6, ins
    # The per-insight view agrees with the list.
    for insight_id in shared:
        assert api.insight(insight_id)["tags"] == next(i for i in insights if i["id"] == insight_id)["tags"]
    stats = api.call("GET", "/statistics")
    assert stats["total_insights"] == len(insights)


def test_concurrent_duplicate_names_conflict_cleanly(fresh_server):
    name = "same-name"

    def work(n, answers):
        resp = Client(fresh_server.url).post("/tags", json={"name": name, "slug": f"slug-{n}"})
        answers.append((resp.status_code, resp.json()))

    answers = run_threads(work, 8)
    assert sorted(status for status, _ in answers) == [201] + [409] * 7, answers
    conflict = {"detail": f"Tag with name '{name}' already exists"}
    assert [body for status, body in answers if status == 409] == [conflict] * 7, answers
    assert [t["name"] for t in fresh_server.api.all_tags()] == [name]


def test_concurrent_deletes_and_references_stay_consistent(fresh_server):
    """Insights created with a tag and a category while that tag and category are
    being deleted: each request either wins or fails cleanly (409/422), and no
    insight is left pointing at something gone."""
    api = fresh_server.api
    pairs = [(api.create_tag()["id"], api.create_category()["id"]) for _ in range(12)]

    def work(n, results):
        client = Client(fresh_server.url)
        tag_id, cat_id = pairs[n // 2]
        if n % 2:
            for path in (f"/tags/{tag_id}", f"/categories/{cat_id}"):
                results.append((n, client.delete(path)))
        else:
            for _ in range(2):
                results.append((n, client.post("/insights", json={
                    "title": "race", "description": "", "author": "racer",
                    "tag_ids": [tag_id], "category_id": cat_id})))

    results = run_threads(work, 2 * len(pairs))
    failures = [r for r in results if isinstance(r, str)]
    assert not failures, failures
    bad = [f"{r.request.method} {r.request.path_url}: {r.status_code} {r.text[:200]}"
           for _, r in results if r.status_code not in (201, 204, 409, 422)]
    assert not bad, bad

    tags = {t["id"]: t["usage_count"] for t in api.all_tags()}
    cats = {c["id"]: c["insight_count"] for c in api.all_categories()}
    insights = api.all_insights()
    for ins in insights:
        assert ins["category_id"] in cats, ins
        assert all(t["id"] in tags for t in ins["tags"]), ins
    assert tags == {t: sum(t in [x["id"] for x in i["tags"]] for i in insights) for t in tags}
    assert cats == {c: sum(i["category_id"] == c for i in insights) for c in cats}


def test_refused_deletes_amid_creates_leave_every_create_committed_and_searchable(fresh_server):
    """Deletes refused (409: insights still use the category) while creates
    wait in the same commit group: each refused delete is undone alone, and
    every create commits and is found by a search. A refused delete once
    left the group's list of insights to index malformed, and every write of
    the group failed (503); undone with its savepoint, the indexing it had
    done for the others must be done again."""
    api = fresh_server.api
    used = [api.create_category()["id"] for _ in range(4)]
    for cat in used:
        api.create_insight(category_id=cat)
    word = "zq" + "".join(random.choice("bcdfghjkmnpqrstvwxz") for _ in range(10))
    per_thread = 25

    def work(n, results):
        client = Client(fresh_server.url)
        for i in range(per_thread):
            if n % 2:
                results.append(("delete", client.delete(f"/categories/{used[(n + i) % len(used)]}")))
            else:
                results.append(("create", client.post("/insights", json={
                    "title": f"{word} {n} {i}", "description": "", "author": "racer"})))

    results = run_threads(work, 8)
    failures = [r for r in results if isinstance(r, str)]
    assert not failures, failures
    bad = [f"{kind}: {r.status_code} {r.text[:200]}" for kind, r in results
           if r.status_code != {"create": 201, "delete": 409}[kind]]
    assert not bad, bad[:5]
    found = api.call("POST", "/insights/search", json={"query": word, "page_size": 100})
    assert found["total"] == 4 * per_thread
