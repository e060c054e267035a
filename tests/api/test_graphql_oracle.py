"""The GraphQL API against graphql-js 16, an independent implementation of
the specification, on a live server (every backend).

- graphql-js's buildClientSchema reads the server's introspection answer and
  validateSchema finds nothing wrong with it; the schema it describes is the
  one the validator's oracle checks (tests/graphql/gqlcheck --sdl), field for
  field.
- The corpus of tests/graphql/corpus (whose folders are graphql-js's verdicts,
  checked by `make test-graphql`): every document graphql-js refuses, and
  every one over the service's limits, is refused by the server with a
  validation-failed or parse-failed error (at the path the file names, if it
  names one); every valid query without variables or nulls is answered with
  data.
"""
import glob
import json
import os
import re
import subprocess

import pytest
import requests

from conftest import HTTP_TIMEOUT, harness

CORPUS = os.path.join(harness.REPO, "tests", "graphql", "corpus")



def gql(server, query, operation=None):
    body = {"query": query}
    if operation:
        body["operationName"] = operation
    r = requests.post(server.url + "/v1/graphql", json=body, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text[:500]
    return r.json()


def headers(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"#\s*([a-zA-Z-]+):\s*(.*)", line)
        if m:
            out.setdefault(m.group(1), m.group(2).strip())
    return out


@pytest.fixture(scope="module")
def sdl():
    gqlcheck = os.path.join(os.path.dirname(harness.BIN), "tests", "gqlcheck")
    if not os.path.exists(gqlcheck):
        pytest.skip("no gqlcheck beside the binary (make BUILD/tests/gqlcheck)")
    return subprocess.run([gqlcheck, "--sdl"], capture_output=True, text=True, check=True).stdout


def test_introspection_builds_a_valid_client_schema(server, sdl, tmp_path):
    sdl_file = tmp_path / "schema.graphql"
    sdl_file.write_text(sdl)
    out = subprocess.run(["node", os.path.join(harness.REPO, "tests", "graphql", "live_schema.mjs"),
                          server.url + "/v1/graphql", str(sdl_file)],
                         cwd=harness.REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["problems"] == []
    assert result["differences"] == [], "introspection and the validator's schema differ"
    assert result["types"] > 50


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CORPUS, "invalid", "*.graphql")) +
                                        glob.glob(os.path.join(CORPUS, "limits", "*.graphql"))),
                         ids=lambda p: os.path.relpath(p, CORPUS))
def test_server_refuses_what_graphql_js_refuses(server, path):
    text = open(path, encoding="utf-8").read()
    h = headers(text)
    answer = gql(server, text, h.get("operationName"))
    assert "data" not in answer, answer
    (err,) = answer["errors"]
    assert err["extensions"]["code"] in ("validation-failed", "parse-failed"), err
    if "path" in h:
        assert err["extensions"]["path"] == h["path"], err


def plain_queries():
    for path in sorted(glob.glob(os.path.join(CORPUS, "valid", "*.graphql"))):
        text = open(path, encoding="utf-8").read()
        # Variables, nulls and runtime limits ("# runtime:") are the executor's: tests/api/test_graphql.py.
        if not re.search(r"\$|\bmutation\b|\bnull\b|\bsubscription\b|^# runtime:", text, re.M):
            yield path


@pytest.mark.parametrize("path", list(plain_queries()), ids=lambda p: os.path.relpath(p, CORPUS))
def test_server_answers_what_graphql_js_accepts(server, path):
    text = open(path, encoding="utf-8").read()
    answer = gql(server, text, headers(text).get("operationName"))
    assert "errors" not in answer, answer
    assert isinstance(answer["data"], dict)
