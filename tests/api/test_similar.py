"""Duplicate warnings: POST /insights/similar and POST /insights?check_duplicates=true,
and the score's precision and recall on the test set of duplicates.py."""
import sqlite3

import pytest

from conftest import assert_422_at, assert_insight, run_cli, word
from duplicates import evaluate, pairs


def similar(api, **draft):
    resp = api.post("/insights/similar", json=draft)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"similar"}
    items = body["similar"]
    assert len(items) <= 5
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    for i in items:
        assert set(i) == {"insight", "score", "reasons"}
        assert 0 < i["score"] <= 1
        assert_insight(i["insight"])
    return items


def draft(w):
    return {
        "title": f"Connection pool {w[0]} exhaustion under {w[1]} traffic",
        "description": f"The {w[2]} workers held connections across {w[3]} calls.",
        "content": f"Pool size 10, {w[4]} workers 40. We capped workers and added {w[5]} timeouts.",
    }


def test_the_copy_comes_first_with_score_one_and_its_reasons(api):
    w = [word() for _ in range(6)]
    original = api.create_insight(**draft(w), source=f"Incident {w[0]}")
    other = api.create_insight(title=f"Unrelated {w[0]} note", description="Nothing alike here.")
    items = similar(api, **draft(w), source=f"incident {w[0]} ")
    assert items[0]["insight"] == api.insight(original["id"])  # the full insight, as GET has it
    assert items[0]["score"] == 1
    reasons = items[0]["reasons"]
    assert reasons[:3] == ["near-identical title", "similar description", "same source"]
    assert reasons[3].startswith("shared rare words: ")
    listed = reasons[3][len("shared rare words: "):].split(", ")
    assert 1 <= len(listed) <= 3
    assert all(x in " ".join(draft(w).values()).lower() for x in listed), listed
    # A short draft: both share its rarest word, the original more.
    short = similar(api, title=f"{w[0]} exhaustion")
    assert [i["insight"]["id"] for i in short] == [original["id"], other["id"]]
    assert short[0]["score"] > short[1]["score"] > 0


def test_a_reworded_draft_still_finds_its_original(api):
    w = [word() for _ in range(6)]
    original = api.create_insight(**draft(w))
    reworded = {
        "title": f"{w[1]} traffic exhausted the connection pool {w[0][:3] + w[0][4:]}",  # a typo
        "description": f"Workers of {w[2]} kept their connections during {w[3]} requests.",
    }
    items = similar(api, **reworded)
    assert items[0]["insight"]["id"] == original["id"]
    assert 0.5 <= items[0]["score"] < 1


def test_nothing_alike_answers_an_empty_list(api):
    assert similar(api, title=f"{word()} {word()} {word()}") == []
    # Words found in no insight, and only common English words: no candidate either.
    assert similar(api, title="the and of to it", description="") == []


def test_the_draft_is_validated(api):
    assert_422_at(api.post("/insights/similar", json={"description": "x"}), ["body", "title"], "missing")
    assert_422_at(api.post("/insights/similar", json={"title": "x" * 501}), ["body", "title"])
    assert_422_at(api.post("/insights/similar", json={"title": 5}), ["body", "title"], "string_type")
    assert_422_at(api.post("/insights/similar", json={"title": None}), ["body", "title"])
    assert_422_at(api.post("/insights/similar", json={"title": ""}), ["body", "title"])
    assert_422_at(api.post("/insights/similar", json={"title": "ok", "content": "x" * 65537}),
                  ["body", "content"])
    assert api.post("/insights/similar", json=[1]).status_code == 422
    assert api.post("/insights/similar", data=b"{oops").status_code == 422


def test_check_duplicates_refuses_a_duplicate_and_creates_nothing(api):
    w = [word() for _ in range(6)]
    original = api.create_insight(**draft(w))
    total = api.list_insights()["total"]
    resp = api.post("/insights", params={"check_duplicates": "true"},
                    json={**draft(w), "author": "someone"})
    assert resp.status_code == 409, resp.text
    body = resp.json()
    assert set(body) == {"detail", "duplicates"}
    assert body["detail"] == "Possible duplicates"
    assert body["duplicates"][0]["insight"]["id"] == original["id"]
    assert body["duplicates"] == similar(api, **draft(w))[:len(body["duplicates"])]
    assert all(d["score"] >= 0.8 for d in body["duplicates"])
    assert api.list_insights()["total"] == total
    # Without the parameter (or with false) creation is unchanged.
    for params in ({}, {"check_duplicates": "false"}):
        resp = api.post("/insights", params=params, json={**draft(w), "author": "someone"})
        assert resp.status_code == 201, resp.text
    # Something new passes the check.
    fresh = {"title": f"{word()} {word()}", "description": word(), "author": "someone"}
    resp = api.post("/insights", params={"check_duplicates": "1"}, json=fresh)
    assert resp.status_code == 201, resp.text
    assert resp.json()["title"] == fresh["title"]


def test_check_duplicates_validates_first(api):
    total = api.list_insights()["total"]
    assert_422_at(api.post("/insights", params={"check_duplicates": "maybe"}, json={}),
                  ["query", "check_duplicates"], "bool_parsing")
    assert_422_at(api.post("/insights", params={"check_duplicates": "true"},
                           json={"title": "t", "description": "d"}), ["body", "author"], "missing")
    assert api.list_insights()["total"] == total


def test_the_threshold_is_a_setting(servers):
    w = [word() for _ in range(6)]
    srv = servers.start(args=["--duplicate-threshold", "1"])
    srv.api.create_insight(**draft(w))
    near = {**draft(w), "content": None, "title": draft(w)["title"] + " revisited", "author": "a"}
    resp = srv.api.post("/insights", params={"check_duplicates": "true"}, json=near)
    assert resp.status_code == 201, resp.text  # alike, but not identical
    resp = srv.api.post("/insights", params={"check_duplicates": "true"},
                        json={**draft(w), "author": "a"})
    assert resp.status_code == 409  # identical: score 1


@pytest.mark.parametrize("value", ["1.5", "-0.1", "x", ""])
def test_a_bad_threshold_is_refused_at_start(value):
    proc = run_cli("serve", "--duplicate-threshold", value, "--database", "sqlite:///:memory:")
    assert proc.returncode != 0
    assert "duplicate-threshold" in proc.stderr


# ---- precision and recall ---------------------------------------------------------

# Measured on both backends: precision 1.000 and recall 1.000 at 0.5,
# precision 1.000 and recall 0.540 at 0.8 (the default, as the issue asks).
# Asserted with a margin.
EXPECTED = {0.5: (0.95, 0.95), 0.8: (0.95, 0.45)}


def test_precision_and_recall_on_the_test_set(servers, tmp_path):
    db = servers.database()
    run_cli("seed", "--count", "300", "--database", db.url).check_returncode()
    scratch = tmp_path / "unrelated.db"
    run_cli("seed", "--count", "200", "--random-seed", "7",
            "--database", f"sqlite:///{scratch}").check_returncode()
    con = sqlite3.connect(scratch)
    con.row_factory = sqlite3.Row
    unrelated = [dict(r) for r in con.execute(
        "SELECT id, title, description, content FROM insights ORDER BY id LIMIT 200")]
    con.close()
    srv = servers.start(db)
    rows = []
    for page in (1, 2):
        rows += srv.api.list_insights(page=page, page_size=100)["insights"]
    originals = rows[::4][:50]
    dups, others = pairs(originals, unrelated)
    assert len(dups) == 50 and len(others) == 200
    answers = {}

    def ask(d):
        key = (d["title"], d["description"], d.get("content"))
        if key not in answers:
            answers[key] = similar(srv.api, **d)
        return answers[key]
    for threshold, (min_precision, min_recall) in EXPECTED.items():
        precision, recall = evaluate(ask, dups, others, threshold)
        print(f"threshold {threshold}: precision {precision:.3f} recall {recall:.3f}")
        assert precision >= min_precision, (threshold, precision)
        assert recall >= min_recall, (threshold, recall)
    # The default threshold decides a create the same way.
    # The default threshold (0.8) decides a create the same way: a reworded
    # draft scoring at least 0.8 against its original is refused.
    original, d = next((o, d) for o, d in dups
                       if ask(d) and ask(d)[0]["insight"]["id"] == o and ask(d)[0]["score"] >= 0.8)
    resp = srv.api.post("/insights", params={"check_duplicates": "true"}, json={**d, "author": "a"})
    assert resp.status_code == 409
    assert resp.json()["duplicates"][0]["insight"]["id"] == original
