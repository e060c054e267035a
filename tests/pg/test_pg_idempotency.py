"""Idempotency keys across instances (issue 14): two servers on one database
share the keys, so a retry sent to either is answered with the first answer,
and sixteen clients spread over both with one key make one write."""
import threading

import requests

from conftest import uid

CLIENTS = 16
TIMEOUT = 30


def post(url, body, key):
    return requests.post(url + "/insights", json=body, headers={"Idempotency-Key": key},
                         timeout=TIMEOUT)


def count(database, sql):
    return int(database.query(sql)[0][0])


def test_a_retry_on_another_instance_replays_the_first_answer(servers, database):
    a = servers.start(database.url)
    b = servers.start(database.url)
    body = {"title": f"shared {uid()}", "description": "d", "author": "ann"}
    key = f'"{uid()}"'
    first = post(a.url, body, key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = post(b.url, body, key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    other = post(b.url, {**body, "title": "another"}, key)
    assert other.status_code == 422
    assert other.json()["detail"][0]["type"] == "idempotency_key_reused"
    assert count(database, "SELECT count(*) FROM insights") == 1
    assert count(database, "SELECT count(*) FROM audit_log") == 1


def test_sixteen_clients_on_two_instances_make_one_write(servers, database):
    urls = [servers.start(database.url).url, servers.start(database.url).url]
    body = {"title": f"raced {uid()}", "description": "d", "author": "ann"}
    key = uid()
    barrier = threading.Barrier(CLIENTS)
    answers = [None] * CLIENTS

    def one(i):
        barrier.wait()
        answers[i] = post(urls[i % 2], body, key)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writes = [r for r in answers if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    assert len(writes) == 1, [(r.status_code, r.text) for r in answers]
    first = writes[0]
    for r in answers:
        if r is not first:
            assert r.status_code in (201, 409), r.text
            if r.status_code == 201:
                assert r.headers["Idempotent-Replayed"] == "true" and r.content == first.content
            else:
                assert r.headers["Retry-After"] == "1"
    for url in urls:
        retry = post(url, body, key)
        assert retry.headers["Idempotent-Replayed"] == "true" and retry.content == first.content
    assert count(database, "SELECT count(*) FROM insights") == 1
    assert count(database, "SELECT count(*) FROM audit_log") == 1
