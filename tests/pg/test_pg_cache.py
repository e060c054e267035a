"""The response cache on a database shared by several instances: an
instance answers repeated reads from its cache, and a write made through
another instance reaches it through PostgreSQL's notifications, well before
the entries would expire (2 s)."""
import re
import time

import requests

from conftest import uid


def cache_hits(base):
    text = requests.get(base + "/metrics").text
    return float(re.search(r"^insights_cache_hits_total (\S+)$", text, re.M).group(1))


def wait_until(predicate, limit):
    """Polls `predicate` until it holds; returns the seconds it took, or fails."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < limit, f"not within {limit} s"
        time.sleep(0.01)
    return time.monotonic() - start


def test_writes_through_one_instance_invalidate_the_others_cache(servers, database):
    writer = servers.start(database.url)
    reader = servers.start(database.url)
    # The reader listens once it has connected: its first cached answer proves it.
    word = f"cachetest{uid()}"
    search = {"query": word}

    def cached_search():
        before = cache_hits(reader.url)
        found = requests.post(reader.url + "/insights/search", json=search).json()
        return found if cache_hits(reader.url) > before else None

    wait_until(lambda: cached_search() is not None, 10)

    for round_ in range(3):
        born = time.monotonic()
        assert requests.post(reader.url + "/insights/search", json=search).json()["total"] == round_
        created = requests.post(writer.url + "/insights", json={
            "title": f"{word} round {round_}", "description": "d", "author": "cache"})
        assert created.status_code == 201
        wait_until(lambda: requests.post(reader.url + "/insights/search",
                                         json=search).json()["total"] == round_ + 1, 1.5)
        # Seen before the entry could have expired: the notification did it.
        assert time.monotonic() - born < 1.9
    # And the new answer is cached again.
    assert cached_search()["total"] == 3

    # Statistics too, and deletes as well as creates.
    total = requests.get(reader.url + "/statistics").json()["total_insights"]
    requests.get(reader.url + "/statistics")
    victim = created.json()["id"]
    assert requests.delete(f"{writer.url}/insights/{victim}").status_code == 204
    wait_until(lambda: requests.get(reader.url + "/statistics").json()["total_insights"] == total - 1, 1.5)
