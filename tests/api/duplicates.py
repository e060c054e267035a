"""The duplicate warnings' test set, generated deterministically.

Originals are insights of the seed generator (core/seed.c: its vocabulary
and Zipf frequencies, its Markdown sections); a near-duplicate rewords one
as a person capturing the same thing again would: synonyms, sentences
reordered, a sentence dropped or added, typos. Unrelated drafts are
insights of the same generator with another random seed: the same
vocabulary, structure and word frequencies, none of the same text.

`python3 tests/api/duplicates.py URL` prints precision and recall of a
server seeded with `insights seed --count 300` at several thresholds.
"""
import random
import re

# Words of the seed vocabulary and what someone else would have written.
SYNONYMS = {
    "latency": "delay", "performance": "speed", "database": "datastore", "error": "fault",
    "deploy": "rollout", "users": "customers", "team": "group", "issue": "problem",
    "cache": "buffer", "traffic": "load", "failure": "outage", "incident": "event",
    "monitoring": "observability", "release": "launch", "review": "check", "change": "update",
    "requests": "calls", "system": "platform", "service": "component", "timeout": "deadline",
    "memory": "ram", "alerts": "alarms", "customer": "client", "metrics": "measurements",
    "response": "reply", "cluster": "fleet", "capacity": "headroom", "rollback": "revert",
    "queue": "backlog", "storage": "disk", "network": "net", "security": "safety",
    "access": "permissions", "logging": "logs", "dashboard": "panel", "planning": "plans",
    "estimate": "guess", "documentation": "docs", "production": "prod", "test": "check",
    "process": "procedure", "pipeline": "workflow", "connection": "link", "data": "records",
    "query": "lookup", "load": "pressure", "time": "duration", "index": "indices",
}

SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _typo(rng, word):
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(3)
    if kind == 0:  # swap two letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:  # drop one
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]  # double one


def _reword_words(rng, text, synonym_rate, typo_rate):
    def one(m):
        w = m.group(0)
        low = w.lower()
        if low in SYNONYMS and rng.random() < synonym_rate:
            s = SYNONYMS[low]
            return s.capitalize() if w[0].isupper() else s
        if rng.random() < typo_rate:
            return _typo(rng, w)
        return w
    return re.sub(r"[A-Za-z]+", one, text)


def _sentences(text):
    return [s for s in SENTENCE.split(text.strip()) if s]


def reword(rng, insight, filler):
    """A near-duplicate of `insight`: a dict with title, description, content.
    `filler` is a list of sentences to add from."""
    title = _reword_words(rng, insight["title"], 0.5, 0.15)
    desc = _sentences(insight["description"])
    if len(desc) > 1:
        rng.shuffle(desc)
    description = _reword_words(rng, " ".join(desc), 0.5, 0.1)
    content = insight.get("content") or ""
    if content:
        parts = content.split("\n\n")
        out = []
        for part in parts:
            if part.startswith("#") or part.startswith("-"):
                out.append(part)
                continue
            s = _sentences(part)
            if len(s) > 2 and rng.random() < 0.5:
                del s[rng.randrange(len(s))]            # a sentence removed
            if rng.random() < 0.4:
                s.insert(rng.randrange(len(s) + 1), rng.choice(filler))  # one added
            rng.shuffle(s)                                # reordered
            out.append(" ".join(s))
        content = _reword_words(rng, "\n\n".join(out), 0.4, 0.05)
    return {"title": title, "description": description, "content": content or None}


def pairs(originals, unrelated, seed=14):
    """(near-duplicates, unrelated drafts): a list of (original id, draft) and a
    list of drafts, deterministic for the same inputs."""
    rng = random.Random(seed)
    filler = [s for u in unrelated for s in _sentences(u["description"])] or ["It helps."]
    dups = [(o["id"], reword(rng, o, filler)) for o in originals]
    others = [{"title": u["title"], "description": u["description"], "content": u.get("content")}
              for u in unrelated]
    return dups, others


def evaluate(similar, dups, others, threshold):
    """Precision and recall at `threshold`: `similar(draft)` answers the
    /insights/similar items. A flagged item is right when it is the draft's
    original, wrong otherwise (every item of an unrelated draft is wrong)."""
    tp = fp = 0
    found = 0
    for original, draft in dups:
        items = [i for i in similar(draft) if i["score"] >= threshold]
        hit = any(i["insight"]["id"] == original for i in items)
        found += hit
        tp += hit
        fp += sum(1 for i in items if i["insight"]["id"] != original)
    for draft in others:
        fp += sum(1 for i in similar(draft) if i["score"] >= threshold)
    precision = tp / (tp + fp) if tp + fp else 1.0
    return precision, found / len(dups)


if __name__ == "__main__":
    import sqlite3
    import subprocess
    import sys
    import tempfile
    import requests
    url, binary = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([binary, "seed", "--count", "200", "--random-seed", "7",
                        "--database", f"sqlite:///{d}/u.db"], check=True, capture_output=True)
        con = sqlite3.connect(f"{d}/u.db")
        con.row_factory = sqlite3.Row
        unrelated = [dict(r) for r in con.execute(
            "SELECT id, title, description, content FROM insights ORDER BY id LIMIT 200")]
    page = requests.get(f"{url}/insights", params={"page_size": 100}).json()["insights"]
    page += requests.get(f"{url}/insights", params={"page_size": 100, "page": 2}).json()["insights"]
    originals = page[::4][:50]
    dups, others = pairs(originals, unrelated)
    cache = {}

    def similar(draft):
        key = repr(sorted(draft.items(), key=lambda kv: kv[0]))
        if key not in cache:
            cache[key] = requests.post(f"{url}/insights/similar", json=draft).json()["similar"]
        return cache[key]
    for t in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        p, r = evaluate(similar, dups, others, t)
        print(f"threshold {t:.2f}: precision {p:.3f} recall {r:.3f}")
