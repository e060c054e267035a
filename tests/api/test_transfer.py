"""Your data, in and out (issue 15): export, import, backup, check, GET /export
and the progress output of long commands. Every test runs on both backends;
the CLI is driven as a subprocess on the test's own databases."""
import csv
import http.client
import io
import json
import os
import pty
import subprocess
import threading
import time
import urllib.parse

import pytest
import yaml

from conftest import BACKEND, run_cli, uid
import harness

TABLES = {
    "categories": "id, name, slug, description, parent_id, color, icon, created_at, updated_at",
    "tags": "id, name, slug, description, color, created_at, usage_count",
    "insights": "id, title, description, content, source, author, category_id, priority, status,"
                " created_at, updated_at, published_at, revision, owner, review_by, reviewed_at",
    "insight_tags": "insight_id, tag_id",
}


def rows(db):
    return {t: db.query(f"SELECT {cols} FROM {t} ORDER BY 1, 2") for t, cols in TABLES.items()}


def cli(*args, ok=True, **kw):
    proc = run_cli(*args, "--log-level", "warn", **kw)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def export(db, *args):
    return cli("export", "--database", db.url, "--quiet", *args).stdout


def tricky_world(servers, count=60):
    """A seeded database plus what seed does not make: a subcategory, strings
    that need quoting everywhere, an update and a review (revision 3), the fields of issue 14, a deleted tag."""
    db = servers.database()
    cli("seed", "--database", db.url, "--count", str(count), "--quiet")
    srv = servers.start(db)
    api = srv.api
    u = uid()
    # The child is made first, then moved under a parent made after it:
    # in id order the child comes first, and an export must still list the parent first.
    child = api.call("POST", "/categories", json={"name": f"Child {u}", "slug": f"child-{u}",
                                                  "description": 'a "quoted", comma'}, expect=201)
    parent = api.call("POST", "/categories", json={"name": f"Parent {u}", "slug": f"parent-{u}"},
                      expect=201)
    api.call("PUT", f"/categories/{child['id']}", json={"parent_id": parent["id"]})
    tag = api.call("POST", "/tags", json={"name": f"odd,tag \"{u}\"", "slug": f"odd-tag-{u}"},
                   expect=201)
    gone = api.call("POST", "/tags", json={"name": f"gone {u}", "slug": f"gone-{u}"}, expect=201)
    ins = api.call("POST", "/insights", json={
        "title": 'Quotes " commas, and\nnewlines: --- yes',
        "description": "ünïcödé ✓ \\ backslash \t tab",
        "content": "---\nnot: front matter\n---\nbody, \"quoted\"\r\n",
        "author": "Zoë", "category_id": child["id"], "tag_ids": [tag["id"], gone["id"]],
        "status": "published", "priority": "critical"}, expect=201)
    api.call("PUT", f"/insights/{ins['id']}", json={"priority": "low", "owner": "Team, \"Ops\"",
                                                    "review_by": "2031-02-28"})
    api.call("POST", f"/insights/{ins['id']}/review", expect=200)
    api.call("DELETE", f"/tags/{gone['id']}", expect=204)
    srv.stop()
    return db


def test_round_trip_is_byte_identical_and_keeps_every_row(servers, tmp_path):
    """export -> import into an empty database -> export: the same bytes, the
    same rows in every table (ids, timestamps, revisions, parents, tag links,
    recounted usage counts), a consistent database, and new rows get new ids."""
    src = tricky_world(servers)
    first = export(src)
    path = tmp_path / "export.jsonl"
    path.write_text(first, encoding="utf-8")
    dst = servers.database()
    out = cli("import", str(path), "--database", dst.url, "--quiet").stdout
    assert "insights: 61 created, 0 updated, 0 skipped" in out, out
    assert export(dst) == first
    assert rows(dst) == rows(src)
    assert cli("check", "--database", dst.url).returncode == 0
    # The id sequences moved past the imported ids.
    api = servers.start(dst).api
    # The imported insights bring their status history by migration 8's
    # backfill rule: lifecycle figures cover them.
    ins = [r for r in map(json.loads, first.splitlines()) if r["type"] == "insight"]
    born = sum(1 for r in ins if r["published_at"] == r["created_at"])
    later = sum(1 for r in ins if r["published_at"] and r["published_at"] != r["created_at"])
    archived = sum(1 for r in ins if r["status"] == "archived")
    want = {(None, "published"): born, (None, "draft"): len(ins) - born,
            ("draft", "published"): later}
    life = api.call("GET", "/statistics/lifecycle", params={"days": 3650})
    got = {(t["from"], t["to"]): t["count"] for t in life["transitions"]}
    assert {k: got.get(k, 0) for k in want} == want
    assert sum(n for (_, to), n in got.items() if to == "archived") == archived
    assert life["time_to_publish"]["overall"]["count"] == born + later
    top = int(dst.query("SELECT max(id) FROM insights")[0][0])
    made = api.call("POST", "/insights", json={"title": "after", "description": "d",
                                               "author": "a"}, expect=201)
    assert made["id"] > top
    u = uid()
    cat = api.call("POST", "/categories", json={"name": f"New {u}", "slug": f"new-{u}"}, expect=201)
    assert cat["id"] > int(dst.query("SELECT max(id) FROM categories WHERE id <> %d" % cat["id"])[0][0])
    # One audit entry for the whole import, by the command line.
    entries = api.call("GET", "/audit", params={"resource": "database"})["entries"]
    assert [(e["action"], e["actor"]) for e in entries] == [("import", "cli")]
    assert entries[0]["changes"]["insights"]["new"]["created"] == 61


def test_jsonl_format(servers):
    db = tricky_world(servers, count=5)
    lines = [json.loads(line) for line in export(db).splitlines()]
    assert lines[0] == {"type": "export", "format": "insights", "version": 1}
    types = [r["type"] for r in lines[1:]]
    assert types == sorted(types, key=["category", "tag", "insight"].index)
    seen = set()
    for r in lines:
        if r["type"] == "category":
            assert r["parent"] is None or r["parent"] in seen  # parents first
            seen.add(r["slug"])
    ins = [r for r in lines if r["type"] == "insight"]
    assert [r["id"] for r in ins] == sorted(r["id"] for r in ins)
    odd = ins[-1]
    assert odd["revision"] == 3 and odd["priority"] == "low" and len(odd["tags"]) == 1
    assert odd["owner"] == 'Team, "Ops"' and odd["review_by"] == "2031-02-28" and odd["reviewed_at"]
    assert ins[0]["owner"] is None and ins[0]["review_by"] is None and ins[0]["reviewed_at"] is None
    assert odd["published_at"] and odd["category"].startswith("child-")


def test_import_rejects_bad_records_whole_listing_every_problem(servers, tmp_path):
    db = servers.database()
    good = {"type": "insight", "title": "ok", "description": "d", "author": "a"}
    records = [
        json.dumps({"type": "tag", "name": "fine", "slug": "fine"}),
        json.dumps(good),
        "{not json",                                                        # line 3
        json.dumps({**good, "title": ""}),                                  # line 4
        json.dumps({**good, "tags": ["fine", "nowhere"]}),                  # line 5
        json.dumps({**good, "created_at": "yesterday"}),                    # line 6
        json.dumps({"type": "comment"}),                                    # line 7
        json.dumps({**good, "priority": "urgent", "category": "missing"}),  # line 8
        json.dumps({"type": "tag", "name": "fine", "slug": "other"}),       # line 9
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(records) + "\n")
    proc = cli("import", str(path), "--database", db.url, ok=False)
    assert proc.returncode == 1
    err = proc.stderr
    for line, words in [(3, "JSON"), (4, "title"), (5, "nowhere"), (6, "created_at"),
                        (7, "comment"), (8, "priority"), (8, "missing"),
                        (9, "already used on line 1")]:
        assert any(f"line {line}:" in x and words in x for x in err.splitlines()), (line, err)
    assert "line 1:" not in err and "line 2:" not in err
    assert "nothing was imported" in err
    assert db.query("SELECT count(*) FROM insights") == [("0",)]
    assert db.query("SELECT count(*) FROM tags") == [("0",)]
    # A name another tag of the database has is found before anything is written.
    api = servers.start(db).api
    api.call("POST", "/tags", json={"name": "taken", "slug": "taken"}, expect=201)
    path.write_text(json.dumps({"type": "tag", "name": "taken", "slug": "fresh"}) + "\n" +
                    json.dumps({"type": "tag", "name": "new", "slug": "taken"}) + "\n")
    err = cli("import", str(path), "--database", db.url, "--on-conflict", "update", ok=False).stderr
    assert "line 1: name: tag name 'taken' is taken by another tag" in err, err
    assert "line 2:" not in err, err  # an update of the tag 'taken' itself: renamed


def test_on_conflict(servers, tmp_path):
    src = servers.database()
    cli("seed", "--database", src.url, "--count", "20", "--quiet")
    path = tmp_path / "e.jsonl"
    path.write_text(export(src))
    dst = servers.database()
    cli("import", str(path), "--database", dst.url, "--quiet")
    proc = cli("import", str(path), "--database", dst.url, ok=False)
    assert proc.returncode == 1 and "already exists" in proc.stderr
    out = cli("import", str(path), "--database", dst.url, "--on-conflict", "skip", "--quiet").stdout
    assert "insights: 0 created, 0 updated, 20 skipped" in out
    # update: a changed title comes back; the id stays.
    edited = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if r["type"] == "insight" and r["id"] == 3:
            r["title"] = "edited title"
        edited.append(json.dumps(r))
    path.write_text("\n".join(edited) + "\n")
    out = cli("import", str(path), "--database", dst.url, "--on-conflict", "update", "--quiet").stdout
    assert "insights: 0 created, 20 updated, 0 skipped" in out
    assert dst.query("SELECT title FROM insights WHERE id = 3") == [("edited title",)]
    assert dst.query("SELECT count(*) FROM insights") == [("20",)]
    assert cli("check", "--database", dst.url).returncode == 0


def test_check_reports_every_drift(servers):
    db = servers.database()
    cli("seed", "--database", db.url, "--count", "30", "--quiet")
    assert "consistent" in cli("check", "--database", db.url).stdout
    tag = db.query("SELECT id, usage_count FROM tags WHERE usage_count > 0 ORDER BY id LIMIT 1")[0]
    db.execute(f"UPDATE tags SET usage_count = usage_count + 7 WHERE id = {tag[0]}")
    db.execute("UPDATE insight_counts SET n = n + 2 WHERE status = 'published' AND n > 0"
               " AND category_id = (SELECT min(category_id) FROM insight_counts"
               " WHERE status = 'published' AND n > 0)")
    proc = cli("check", "--database", db.url, ok=False)
    assert proc.returncode == 1, proc.stdout
    drift = [x for x in proc.stdout.splitlines() if x.startswith("drift:")]
    assert any(f"tag {tag[0]} " in x and f"usage_count is {int(tag[1]) + 7}" in x for x in drift), drift
    assert any("insight count (status published" in x for x in drift), drift
    assert "problems found" in proc.stdout


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's search index")
def test_check_reports_a_search_index_out_of_step(servers):
    db = servers.database()
    cli("seed", "--database", db.url, "--count", "10", "--quiet")
    db.execute("DROP TRIGGER insights_fts_change")
    db.execute("UPDATE insights SET title = 'changed behind the index' WHERE id = 1")
    proc = cli("check", "--database", db.url, ok=False)
    assert proc.returncode == 1 and "search index insights_fts" in proc.stdout, proc.stdout


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's VACUUM and statistics")
def test_seed_ends_with_vacuum_and_analyze(servers):
    """A bulk load leaves every page of the new rows marked all-visible (the
    index-only scans of lists and counts skip the heap) and fresh planner
    statistics: VACUUM (ANALYZE) after it, not a wait for autovacuum."""
    db = servers.database()
    cli("seed", "--database", db.url, "--count", "300", "--quiet")
    rows = db.query("SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL"
                    " FROM pg_stat_user_tables WHERE relname IN ('insights', 'insight_tags')"
                    " ORDER BY relname")
    # (Not relallvisible: the test cluster commits asynchronously, and
    # VACUUM cannot mark rows all-visible before their commits are flushed.)
    assert rows == [("insight_tags", "t", "t"), ("insights", "t", "t")], rows


def seeded_dump_and_empty_database(servers, tmp_path):
    """An export of 300 seeded insights, and a new migrated database to import it into."""
    src = servers.database()
    cli("seed", "--database", src.url, "--count", "300", "--quiet")
    dump = tmp_path / "all.jsonl"
    dump.write_text(export(src))
    db = servers.database()
    cli("migrate", "--database", db.url)
    return db, dump


def test_import_leaves_planner_statistics(servers, tmp_path):
    """An import is a bulk load too: into an empty database it ends, as a seed
    does, with the store's tidy-up (SQLite: planner statistics and merged
    search indexes; PostgreSQL: VACUUM (ANALYZE)). Without it the planner of
    an imported database had no statistics and took the wrong index."""
    db, dump = seeded_dump_and_empty_database(servers, tmp_path)
    cli("import", str(dump), "--database", db.url, "--quiet")
    if BACKEND == "sqlite":
        rows = db.query("SELECT stat FROM sqlite_stat1 WHERE tbl = 'insights'"
                        " AND idx = 'ix_insights_created_at'")
        assert rows and rows[0][0].split()[0] == "300", rows
    else:
        rows = db.query("SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL"
                        " FROM pg_stat_user_tables WHERE relname IN ('insights', 'insight_tags')"
                        " ORDER BY relname")
        assert rows == [("insight_tags", "t", "t"), ("insights", "t", "t")], rows


@pytest.mark.skipif(BACKEND != "postgresql", reason="VACUUM's visibility map is PostgreSQL's")
def test_the_tidy_up_waits_for_an_older_snapshot_to_mark_the_new_rows(servers, tmp_path):
    """VACUUM cannot mark the pages of rows that a snapshot open elsewhere
    may not see (autovacuum's ANALYZE of the new rows often holds one), and
    unmarked pages make every list's index-only scan visit the heap. The
    import's tidy-up waits for such a snapshot to end, then marks them all."""
    db, dump = seeded_dump_and_empty_database(servers, tmp_path)
    holder = subprocess.Popen(["psql", "-X", "-q", db.url], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True)
    holder.stdin.write("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1;\n")
    holder.stdin.flush()
    held = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_xmin IS NOT NULL AND pid <> pg_backend_pid()")
    deadline = time.time() + 10
    while db.query(held) != [("1",)]:
        assert time.time() < deadline, "the snapshot is held"
        time.sleep(0.05)

    def release():
        holder.stdin.write("COMMIT;\n")
        holder.stdin.close()
    timer = threading.Timer(3, release)
    timer.start()
    try:
        cli("import", str(dump), "--database", db.url, "--quiet")
    finally:
        timer.join()
        holder.wait(timeout=10)
    pages = db.query("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'insights'")
    assert pages and int(pages[0][0]) > 0 and pages[0][0] == pages[0][1], pages


def test_a_small_import_into_a_large_database_skips_the_tidy_up(servers, tmp_path):
    """The tidy-up reads every index (39 s of ANALYZE at a million insights):
    an import that adds less than a tenth of the insights goes without."""
    db = servers.database()
    cli("seed", "--database", db.url, "--count", "300", "--quiet")
    few = tmp_path / "few.jsonl"
    few.write_text("".join(json.dumps({"type": "insight", "title": f"late {i}", "description": "d",
                                       "author": "a"}) + "\n" for i in range(5)))
    if BACKEND == "sqlite":
        stats = "SELECT stat FROM sqlite_stat1 WHERE tbl = 'insights' AND idx = 'ix_insights_created_at'"
    else:
        stats = ("SELECT vacuum_count, analyze_count FROM pg_stat_user_tables"
                 " WHERE relname = 'insights'")
    before = db.query(stats)
    cli("import", str(few), "--database", db.url, "--quiet")
    assert db.query(stats) == before
    assert db.query("SELECT count(*) FROM insights") == [("305",)]


def post_insights(base_url, stop, made, failures):
    url = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    n = 0
    while not stop.is_set():
        n += 1
        body = json.dumps({"title": f"w {uid()} {n}", "description": "during the backup",
                           "author": "writer"})
        conn.request("POST", "/insights", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status == 201:
            made.append(1)
        else:
            failures.append(resp.status)
    conn.close()


def test_backup_during_eight_writers_restores_to_a_consistent_database(servers, tmp_path):
    db = servers.database()
    cli("seed", "--database", db.url, "--count", "2000", "--quiet")
    srv = servers.start(db)
    target = tmp_path / "backup.db"
    if BACKEND != "sqlite":
        proc = cli("backup", str(target), "--database", db.url, ok=False)
        assert proc.returncode == 2 and "pg_dump" in proc.stderr
        assert not target.exists()
        return
    stop, made, failures = threading.Event(), [], []
    writers = [threading.Thread(target=post_insights, args=(srv.url, stop, made, failures))
               for _ in range(8)]
    for w in writers:
        w.start()
    try:
        while len(made) < 50:
            time.sleep(0.02)
        proc = cli("backup", str(target), "--database", db.url)
        during = len(made)
        time.sleep(0.2)
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert not failures
    assert "integrity check ok" in proc.stdout
    assert not os.path.exists(str(target) + ".partial")
    assert len(made) > during > 0  # writers were running while it copied
    copy = "sqlite:///" + str(target)
    assert cli("check", "--database", copy).returncode == 0
    n = int(cli("check", "--database", copy).stdout.split()[1])
    assert 2000 + 50 <= n <= 2000 + len(made)
    # An existing file is never overwritten.
    again = cli("backup", str(target), "--database", db.url, ok=False)
    assert again.returncode == 1 and "exists" in again.stderr


def run_on_pty(args):
    """Runs the binary with stderr on a pseudo-terminal; returns what it drew."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([harness.BIN, *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    return out.decode()


def test_progress_on_a_terminal_and_a_summary_on_a_pipe(servers, tmp_path):
    db = servers.database()
    drawn = run_on_pty(["seed", "--database", db.url, "--count", "300", "--log-level", "warn"])
    assert "ETA" in drawn and "300/300 insights" in drawn and "/s" in drawn, drawn
    assert drawn.count("\x1b[K") >= 2, drawn  # redrawn while it runs, not only at the end
    drawn = run_on_pty(["export", "--database", db.url, "--output", str(tmp_path / "x.jsonl"),
                        "--log-level", "warn"])
    assert "\r" in drawn and "[" in drawn and "300/300" in drawn, drawn
    piped = cli("export", "--database", db.url, "--output", str(tmp_path / "y.jsonl")).stderr
    assert piped.count("\n") == 1 and "\r" not in piped, piped
    assert piped.startswith("exported 300 insights in "), piped
    piped = cli("import", str(tmp_path / "y.jsonl"), "--database", servers.database().url).stderr
    assert piped.startswith("imported 342 records in ") and piped.count("\n") == 1, piped
    quiet = cli("export", "--database", db.url, "--output", str(tmp_path / "z.jsonl"), "--quiet")
    assert quiet.stderr == ""


def test_csv_export(servers, tmp_path):
    db = tricky_world(servers, count=10)
    cli("export", "--database", db.url, "--format", "csv", "--output", str(tmp_path / "x.csv"))
    text = (tmp_path / "x.csv").read_bytes().decode()
    assert "\r\n" in text
    table = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(table) == 11
    odd = table[-1]
    assert odd["title"] == 'Quotes " commas, and\nnewlines: --- yes'
    assert odd["content"] == "---\nnot: front matter\n---\nbody, \"quoted\"\r\n"
    assert odd["source"] == "" and odd["revision"] == "3" and odd["owner"] == 'Team, "Ops"'
    assert odd["tags"].count(";") == 0 and odd["tags"].startswith("odd-tag")


def test_markdown_export_and_import(servers, tmp_path):
    db = tricky_world(servers, count=10)
    folder = tmp_path / "md"
    cli("export", "--database", db.url, "--format", "markdown", "--output", str(folder), "--quiet")
    files = sorted(os.listdir(folder))
    assert "_categories_and_tags.jsonl" in files
    files.remove("_categories_and_tags.jsonl")
    assert len(files) == 11
    ids = [int(name.split("-")[0]) for name in files]
    odd_name = [f for f in files if f.startswith(f"{max(ids)}-")][0]
    assert odd_name == f"{max(ids)}-quotes-commas-and-newlines-yes.md"
    text = (folder / odd_name).read_bytes().decode()
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["title"] == 'Quotes " commas, and\nnewlines: --- yes'
    assert meta["author"] == "Zoë" and meta["revision"] == 3 and meta["review_by"] == "2031-02-28" and meta["source"] is None
    assert len(meta["tags"]) == 1
    assert body == "---\nnot: front matter\n---\nbody, \"quoted\"\r\n"
    # The folder reads back: the same database, as its JSON Lines export shows.
    copy = servers.database()
    out = cli("import", str(folder), "--database", copy.url, "--quiet").stdout
    assert "insights: 11 created" in out
    assert export(copy) == export(db)
    # A hand-written file: plain YAML scalars, no id (a new one), a bad one reported by name.
    (folder / "note.md").write_text("---\ntitle: Written by hand\ndescription: plain YAML\n"
                                    "author: me\ntags: []\n---\nSome *Markdown*.\n")
    (folder / "broken.md").write_text("no front matter here\n")
    proc = cli("import", str(folder), "--database", copy.url, "--on-conflict", "skip", ok=False)
    assert proc.returncode == 1 and "broken.md: no front matter" in proc.stderr, proc.stderr
    os.remove(folder / "broken.md")
    out = cli("import", str(folder), "--database", copy.url, "--on-conflict", "skip", "--quiet").stdout
    assert "insights: 1 created, 0 updated, 11 skipped" in out, out
    made = [r for r in map(json.loads, export(copy).splitlines()) if r.get("author") == "me"]
    assert [(r["title"], r["content"], r["category"], r["tags"]) for r in made] == \
        [("Written by hand", "Some *Markdown*.\n", None, [])]


def test_get_export_streams_the_same_json_lines(servers):
    db = tricky_world(servers, count=30)
    expected = export(db)
    srv = servers.start(db)
    url = urllib.parse.urlsplit(srv.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("GET", "/export?format=jsonl")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Type") == "application/x-ndjson"
    assert resp.read().decode() == expected
    conn.close()
    bad = srv.api.get("/export", params={"format": "csv"})
    assert bad.status_code == 422
