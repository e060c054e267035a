"""Data survives a SIGTERM and a new server on the same database."""
from conftest import ids


def snapshot(api):
    return {
        "insights": api.all_insights(),
        "tags": api.all_tags(),
        "categories": api.all_categories(),
        "statistics": api.call("GET", "/statistics"),
    }


def test_restart_keeps_everything(servers):
    db = servers.database()
    first = servers.start(db)
    api = first.api
    parent = api.create_category(name="Parent ✓", color="#112233", icon="📁")
    child = api.create_category(name="Child", parent_id=parent["id"])
    t1, t2 = api.create_tag(name="tag one", color="#ABCDEF"), api.create_tag(name="tag two")
    api.create_tag(name="unused")
    a = api.create_insight(title="first 🚀", content="body", source="src", category_id=child["id"],
                           tag_ids=[t1["id"], t2["id"]], status="published", priority="critical")
    b = api.create_insight(title="second", category_id=parent["id"], tag_ids=[t2["id"]])
    api.create_insight(title="third", status="archived")
    before = snapshot(api)
    assert before["statistics"]["total_insights"] == 3
    assert {t["name"]: t["usage_count"] for t in before["tags"]} == {"tag one": 1, "tag two": 2, "unused": 0}

    first.stop_and_check()

    second = servers.start(db)
    api = second.api
    assert snapshot(api) == before
    assert api.insight(a["id"]) == next(i for i in before["insights"] if i["id"] == a["id"])
    assert api.insight(b["id"])["category"]["name"] == "Parent ✓"
    assert api.category(child["id"])["parent_id"] == parent["id"]
    # The restarted server goes on writing where the first one stopped.
    c = api.create_insight(tag_ids=[t1["id"]])
    assert c["id"] > max(i["id"] for i in before["insights"])
    assert api.tag(t1["id"])["usage_count"] == 2
    assert ids(api.search(query="first")) == [a["id"]]


def test_acknowledged_writes_survive_kill_9(servers):
    """A write is acknowledged only once committed: SIGKILL loses none of them."""
    import signal
    import threading

    db = servers.database()
    first = servers.start(db)
    api = first.api
    tag = api.create_tag()
    acknowledged = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            try:
                resp = api.post("/insights", check=False, timeout=5,
                                json={"title": "durable", "description": "d", "author": "k9",
                                      "tag_ids": [tag["id"]]})
            except Exception:
                return  # the server is gone
            if resp.status_code == 201:
                with lock:
                    acknowledged.append(resp.json()["id"])

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    while len(acknowledged) < 200:
        pass
    first.proc.send_signal(signal.SIGKILL)  # no shutdown, no checkpoint
    first.proc.wait()
    servers.servers.remove(first)  # killed on purpose: no clean exit to check
    stop.set()
    for t in threads:
        t.join()

    second = servers.start(db)
    stored = {i["id"] for i in second.api.all_insights(author="k9")}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged insights lost: {sorted(missing)[:10]}"
    assert second.api.tag(tag["id"])["usage_count"] == len(stored)
