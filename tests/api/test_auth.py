"""Authentication, roles, rate limits and the audit trail (issue 13), on every backend.

Credentials are made the ways a deployer makes them: API tokens with the CLI
(`insights token create`) and over REST, JWTs signed here with Python's hmac
(HS256) and the openssl command (RS256, ES256), against keys in files.

The role matrix below is written out by hand, independently of the server's
table (src/api/access.c): a test checks that it names exactly the operations
of the OpenAPI document, so a new route cannot go untested.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import time

import pytest
import requests

from conftest import BACKEND, HTTP_TIMEOUT, Client, run_cli, uid
from openapi_check import SPEC_PATH

# ---------------------------------------------------------------------------
# What each operation needs, by hand: open, reader, editor, admin, metrics.

MATRIX = {
    ("GET", "/health"): "open",
    ("GET", "/openapi.json"): "open",
    ("GET", "/docs"): "open",
    ("GET", "/redoc"): "open",
    ("GET", "/docs/{asset}"): "open",
    ("GET", "/graphiql"): "open",
    ("GET", "/graphiql/{asset}"): "open",
    ("GET", "/"): "open",
    ("GET", "/web/{file}"): "open",
    ("GET", "/metrics"): "metrics",
    ("GET", "/insights"): "reader",
    ("POST", "/insights/search"): "reader",
    ("POST", "/insights/similar"): "reader",
    ("GET", "/insights/{insight_id}"): "reader",
    ("GET", "/insights/{insight_id}/related"): "reader",
    ("GET", "/insights/{insight_id}/revisions"): "reader",
    ("GET", "/insights/{insight_id}/revisions/{revision}"): "reader",
    ("POST", "/insights/{insight_id}/revisions/{revision}/restore"): "editor",
    ("POST", "/insights/{insight_id}/restore"): "editor",
    ("POST", "/insights/{insight_id}/review"): "editor",
    ("GET", "/tags"): "reader",
    ("GET", "/tags/{tag_id}"): "reader",
    ("GET", "/categories"): "reader",
    ("GET", "/categories/{category_id}"): "reader",
    ("GET", "/statistics"): "reader",
    ("GET", "/statistics/trends"): "reader",
    ("GET", "/statistics/authors"): "reader",
    ("GET", "/statistics/lifecycle"): "reader",
    ("POST", "/render"): "reader",
    ("GET", "/auth/me"): "reader",
    ("GET", "/v1/graphql"): "reader",
    ("POST", "/v1/graphql"): "reader",
    ("GET", "/graphql"): "reader",
    ("POST", "/graphql"): "reader",
    ("POST", "/insights"): "editor",
    ("PUT", "/insights/{insight_id}"): "editor",
    ("DELETE", "/insights/{insight_id}"): "editor",
    ("POST", "/tags"): "editor",
    ("PUT", "/tags/{tag_id}"): "editor",
    ("DELETE", "/tags/{tag_id}"): "editor",
    ("POST", "/categories"): "editor",
    ("PUT", "/categories/{category_id}"): "editor",
    ("DELETE", "/categories/{category_id}"): "editor",
    ("GET", "/auth/tokens"): "admin",
    ("POST", "/auth/tokens"): "admin",
    ("DELETE", "/auth/tokens/{token_name}"): "admin",
    ("GET", "/audit"): "admin",
    ("GET", "/export"): "admin",
}

ROLES = ("reader", "editor", "admin", "metrics")


def allowed(role, need):
    if need == "open":
        return True
    if need == "metrics":
        return role in ("metrics", "admin")
    ladder = {"reader": 1, "editor": 2, "admin": 3}
    return ladder.get(role, 0) >= ladder[need]


def make_token(db_url, name, role, *extra):
    proc = run_cli("token", "create", "--name", name, "--role", role, *extra,
                   "--database", db_url, "--log-format", "text")
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert re.fullmatch(r"ins_[0-9A-Za-z]{49}", token), token
    return token


class Caller(Client):
    """A Client that sends one credential with every request."""

    def __init__(self, base_url, credential=None):
        super().__init__(base_url)
        if credential is not None:
            self.session.headers["Authorization"] = f"Bearer {credential}"


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """A server with authentication on, and a token per role."""
    from conftest import servers_in
    with servers_in(tmp_path_factory.mktemp("auth")) as servers:
        db = servers.database()
        tokens = {role: make_token(db.url, f"{role}-{uid()}", role) for role in ROLES}
        srv = servers.start(db, args=["--auth", "on", "--rate-limit", "0",
                                      "--auth-fail-limit", "0"])
        yield srv, tokens


def caller(srv, credential=None):
    return Caller(srv.url, credential)


# ---------------------------------------------------------------------------
# Modes

def test_default_mode_follows_the_listening_address(servers):
    # The harness listens on 127.0.0.1: loopback, so auth is off by default.
    local = servers.start()
    assert local.api.get("/insights").status_code == 200
    assert '"auth":"on"' not in local.log() and "auth=on" not in local.log()
    # Every address (0.0.0.0) is not loopback: on by default.
    wide = servers.start(args=["--host", "0.0.0.0"])
    resp = Client(wide.url).get("/insights")
    assert resp.status_code == 401
    assert resp.json() == {"detail": "Not authenticated"}
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    # Off on a non-loopback address works, with a warning in the log.
    open_wide = servers.start(args=["--host", "0.0.0.0", "--auth", "off"])
    assert Client(open_wide.url).get("/insights").status_code == 200
    assert "authentication is off on 0.0.0.0" in open_wide.log()
    assert "authentication is off" not in wide.log()


def test_auth_mode_from_the_environment(servers):
    srv = servers.start(env={"INSIGHTS_AUTH": "on"})
    assert Client(srv.url).get("/tags").status_code == 401


def test_a_bad_auth_mode_refuses_to_start(servers, tmp_path):
    proc = run_cli("serve", "--auth", "maybe", "--port", "0",
                   "--database", "sqlite:///" + str(tmp_path / "x.db"), timeout=30)
    assert proc.returncode == 2
    assert "--auth must be off or on" in proc.stderr


# ---------------------------------------------------------------------------
# The role matrix

def operations_in_openapi():
    with open(SPEC_PATH) as f:
        doc = json.load(f)
    ops = set()
    for path, item in doc["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "delete"):
                ops.add((method.upper(), path))
    return ops


def test_the_matrix_names_every_operation():
    assert set(MATRIX) == operations_in_openapi()


def concrete(path, ids):
    return (path.replace("{insight_id}", str(ids["insight"]))
            .replace("{tag_id}", str(ids["tag"]))
            .replace("{category_id}", str(ids["category"]))
            .replace("{token_name}", "no-such-token")
            .replace("{revision}", "0")
            .replace("{asset}", "swagger-ui.css")
            .replace("{file}", "app.js"))


def request_for(method, path):
    """A request that is admitted or refused without changing anything when admitted:
    writes get an empty or invalid body (422) or name nothing (404)."""
    kw = {}
    if method in ("POST", "PUT"):
        kw["json"] = {}
    if path in ("/v1/graphql", "/graphql"):
        if method == "POST":
            kw["json"] = {"query": "{ __typename }"}
        else:
            kw["params"] = {"query": "{ __typename }"}
    if path == "/render":
        kw["json"] = {"content": "# hi"}
    return kw


def test_every_role_on_every_operation(secured):
    srv, tokens = secured
    admin = caller(srv, tokens["admin"])
    ids = {
        "tag": admin.create_tag()["id"],
        "category": admin.create_category()["id"],
    }
    ids["insight"] = admin.create_insight()["id"]
    deletes = []
    for (method, path), need in sorted(MATRIX.items()):
        url = concrete(path, ids)
        if method == "DELETE":
            deletes.append((method, path, url, need))
            continue
        for role in (None,) + ROLES:
            c = caller(srv, tokens[role] if role else None)
            resp = c.request(method, url, check=False, **request_for(method, path))
            what = f"{method} {path} as {role or 'nobody'}"
            if need == "open":
                assert resp.status_code not in (401, 403), what
            elif role is None:
                assert resp.status_code == 401, f"{what}: {resp.status_code}"
                assert resp.json() == {"detail": "Not authenticated"}, what
            elif allowed(role, need):
                assert resp.status_code not in (401, 403), f"{what}: {resp.status_code} {resp.text[:200]}"
            else:
                assert resp.status_code == 403, f"{what}: {resp.status_code}"
                assert resp.json() == {"detail": "Not enough permissions"}, what
    # Deletes last, and on ids that do not exist: an admitted one is a 404.
    for method, path, url, need in deletes:
        url = re.sub(r"/\d+$", "/999999999", url)
        for role in (None,) + ROLES:
            resp = caller(srv, tokens[role] if role else None).request(method, url, check=False)
            what = f"{method} {path} as {role or 'nobody'}"
            want = 401 if role is None else (404 if allowed(role, need) else 403)
            assert resp.status_code == want, f"{what}: {resp.status_code}"


def test_cached_answers_need_a_credential_too(secured):
    srv, tokens = secured
    reader = caller(srv, tokens["reader"])
    for path in ("/tags", "/categories", "/statistics", "/insights"):
        assert reader.get(path).status_code == 200
        assert reader.get(path).status_code == 200  # now from the response cache
        assert Client(srv.url).get(path).status_code == 401, path
        assert caller(srv, tokens["metrics"]).get(path).status_code == 403, path


def test_metrics_public_opens_metrics_only(servers):
    srv = servers.start(args=["--auth", "on", "--metrics-public", "1"])
    assert Client(srv.url).get("/metrics", check=False).status_code == 200
    assert Client(srv.url).get("/statistics").status_code == 401


GQL_QUERY = "{ insights(limit: 1) { id } tags(limit: 1) { id } }"


def gql(c, query, variables=None):
    resp = c.post("/v1/graphql", json={"query": query, "variables": variables or {}})
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.skipif(BACKEND != "sqlite", reason="a shared store (PostgreSQL) caches only "
                    "while listening: tests/pg covers it")
def test_cached_answers_are_kept_per_role(secured):
    """The response cache keys on the role the gate admitted: what one role
    was answered is never what another is served (GraphQL decides per role
    what an operation may touch). An answer is stored on its second ask."""
    srv, tokens = secured
    metrics = caller(srv, tokens["metrics"])

    def hits():
        text = metrics.get("/metrics", check=False).text
        return float(re.search(r"^insights_cache_hits_total (\S+)$", text, re.M).group(1))

    query = '{ tags(where: {slug: {_eq: "%s"}}) { id } }' % uid()
    reader, editor = caller(srv, tokens["reader"]), caller(srv, tokens["editor"])
    seen = [hits()]
    for c in (reader, reader, editor, editor, editor, reader):
        assert gql(c, query) == {"data": {"tags": []}}
        seen.append(hits())
    assert [h - seen[0] for h in seen[1:]] == [0, 0, 0, 0, 1, 2], seen


def test_graphql_root_fields_follow_the_roles(secured):
    srv, tokens = secured
    mutation = ('mutation { insert_tags_one(object: {name: "g-%s", slug: "g-%s"}) { id } }'
                % (uid(), uid()))
    for role in ROLES:
        c = caller(srv, tokens[role])
        if role == "metrics":
            # A metrics token reaches no data at all, GraphQL's transport included.
            assert c.post("/v1/graphql", json={"query": GQL_QUERY}).status_code == 403
            continue
        assert "data" in gql(c, GQL_QUERY), role
        answer = gql(c, mutation.replace("g-", f"g{role}-"))
        if role == "reader":
            err = answer["errors"][0]
            assert "data" not in answer
            assert err["extensions"]["code"] == "permission-error"
            assert err["extensions"]["path"] == "$.selectionSet.insert_tags_one"
        else:
            assert "errors" not in answer, answer
    # Introspection is open to any reader: the schema is no one's data.
    reader = caller(srv, tokens["reader"])
    assert gql(reader, "{ __schema { mutationType { name } } }")["data"]
    # Without a credential: the same 401 as REST.
    resp = Client(srv.url).post("/v1/graphql", json={"query": GQL_QUERY})
    assert resp.status_code == 401 and resp.json() == {"detail": "Not authenticated"}


def test_every_mutation_root_field_needs_an_editor(secured):
    srv, tokens = secured
    reader = caller(srv, tokens["reader"])
    schema = gql(reader, "{ __schema { mutationType { fields { name args { name type { kind } } } } } }")
    fields = schema["data"]["__schema"]["mutationType"]["fields"]
    assert len(fields) >= 15
    for f in fields:
        # Every argument a mutation field requires, with a value of the right shape.
        args = {"insert_insights": "objects: []", "insert_tags": "objects: []",
                "insert_categories": "objects: []"}.get(f["name"])
        if args is None:
            if f["name"].startswith("insert_"):
                args = "object: {}"
            elif f["name"].endswith("_by_pk") and f["name"].startswith("update_"):
                args = "pk_columns: {id: 0}"
            elif f["name"].endswith("_by_pk"):
                args = "id: 0"
            else:
                args = "where: {id: {_eq: 0}}"
        selection = "{ id }" if "_one" in f["name"] or "_by_pk" in f["name"] else "{ affected_rows }"
        answer = gql(reader, f"mutation {{ {f['name']}({args}) {selection} }}")
        codes = [e["extensions"]["code"] for e in answer.get("errors", [])]
        assert codes == ["permission-error"], (f["name"], answer)


# ---------------------------------------------------------------------------
# Tokens

def test_token_lifecycle_over_rest(secured):
    srv, tokens = secured
    admin = caller(srv, tokens["admin"])
    name = f"ci-{uid()}"
    made = admin.call("POST", "/auth/tokens", 201, json={"name": name, "role": "reader",
                                                         "expires_in": "90d"})
    token = made["token"]
    assert made["last4"] == token[-4:] and made["role"] == "reader"
    assert made["expires_at"] is not None and made["last_used_at"] is None
    listed = admin.call("GET", "/auth/tokens")["tokens"]
    mine = [t for t in listed if t["name"] == name]
    assert len(mine) == 1 and "token" not in mine[0]
    assert all("token" not in t for t in listed)
    me = caller(srv, token).call("GET", "/auth/me")
    assert me == {"name": name, "role": "reader", "authenticated": True}
    # Same name again: 409; bad fields: 422 at their place.
    resp = admin.post("/auth/tokens", json={"name": name, "role": "reader"})
    assert resp.status_code == 409
    assert resp.json() == {"detail": f"Token with name '{name}' already exists"}
    resp = admin.post("/auth/tokens", json={"name": "bad name!", "role": "boss", "expires_in": "soon"})
    assert resp.status_code == 422
    assert {tuple(e["loc"]) for e in resp.json()["detail"]} == {
        ("body", "name"), ("body", "role"), ("body", "expires_in")}
    # Revoked: 401 at once on this instance.
    admin.call("DELETE", f"/auth/tokens/{name}", 204)
    assert caller(srv, token).get("/insights").status_code == 401
    assert admin.delete(f"/auth/tokens/{name}").status_code == 404


def test_tokens_that_must_not_work(secured):
    srv, tokens = secured
    good = tokens["reader"]
    # One character changed: the checksum fails (offline); wrong prefix; truncated.
    flipped = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    bad = [flipped, "xyz_" + good[4:], good[:-1], good + "x", "ins_", "", "null",
           "Bearer " + good]
    for cred in bad:
        resp = caller(srv, cred).get("/insights")
        assert resp.status_code == 401, cred
    # The hash the database holds is not a credential.
    rows = srv.db.query("SELECT token_hash FROM api_tokens")
    assert rows
    for (h,) in rows:
        assert caller(srv, h).get("/insights").status_code == 401
    # Another scheme, or no space after Bearer.
    for header in (f"Basic {good}", f"Bearer{good}", f"Token {good}"):
        resp = requests.get(srv.url + "/insights", headers={"Authorization": header},
                            timeout=HTTP_TIMEOUT)
        assert resp.status_code == 401, header
    # The scheme is case-insensitive (RFC 9110).
    resp = requests.get(srv.url + "/insights", headers={"Authorization": f"bearer {good}"},
                        timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200


def test_an_expired_token_stops_working(servers):
    db = servers.database()
    token = make_token(db.url, "short", "reader", "--expires-in", "2s")
    srv = servers.start(db, args=["--auth", "on"])
    assert caller(srv, token).get("/insights").status_code == 200
    time.sleep(2.5)
    assert caller(srv, token).get("/insights").status_code == 401


def test_token_cli(servers, tmp_path):
    db = servers.database()
    token = make_token(db.url, "cli-one", "editor")
    listed = run_cli("token", "list", "--database", db.url, "--log-format", "text")
    assert listed.returncode == 0
    assert "cli-one" in listed.stdout and "editor" in listed.stdout
    assert token not in listed.stdout and token[-4:] in listed.stdout
    dup = run_cli("token", "create", "--name", "cli-one", "--role", "reader", "--database", db.url)
    assert dup.returncode != 0 and "already exists" in dup.stderr
    bad = run_cli("token", "create", "--name", "x", "--role", "owner", "--database", db.url)
    assert bad.returncode == 2
    gone = run_cli("token", "revoke", "cli-one", "--database", db.url, "--log-format", "text")
    assert gone.returncode == 0
    again = run_cli("token", "revoke", "cli-one", "--database", db.url, "--log-format", "text")
    assert again.returncode == 1
    usage = run_cli("token", "frobnicate", "--database", db.url)
    assert usage.returncode == 2


def test_author_defaults_to_the_actor(secured):
    srv, tokens = secured
    editor = caller(srv, tokens["editor"])
    me = editor.call("GET", "/auth/me")
    ins = editor.call("POST", "/insights", 201, json={"title": "t", "description": "d"})
    assert ins["author"] == me["name"]
    named = editor.call("POST", "/insights", 201, json={"title": "t", "description": "d",
                                                        "author": "Ada"})
    assert named["author"] == "Ada"


def test_without_auth_author_is_still_required(api):
    resp = api.post("/insights", json={"title": "t", "description": "d"})
    assert resp.status_code == 422
    assert [e["loc"] for e in resp.json()["detail"]] == [["body", "author"]]


# ---------------------------------------------------------------------------
# JWT

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(secret, claims, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64url(sig)


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def der_to_raw(der):
    """An ECDSA DER signature (SEQUENCE of two INTEGERs) as JWS's r||s, 32 bytes each."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\x00")
        out += v.rjust(32, b"\x00")
        i += 2 + n
    return out


def jwt_signed(key_path, alg, claims, kid=None):
    header = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = openssl("dgst", "-sha256", "-sign", key_path, data=signing.encode())
    if alg == "ES256":
        sig = der_to_raw(sig)
    return signing + "." + b64url(sig)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    k = {"dir": d}
    k["secret"] = d / "secret"
    k["secret"].write_bytes(os.urandom(32).hex().encode() + b"\n")
    k["rsa"] = d / "rsa.pem"
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(k["rsa"]))
    k["rsa_pub"] = d / "rsa.pub.pem"
    openssl("pkey", "-in", str(k["rsa"]), "-pubout", "-out", str(k["rsa_pub"]))
    k["ec"] = d / "ec.pem"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(k["ec"]))
    k["ec_pub"] = d / "ec.pub.pem"
    openssl("pkey", "-in", str(k["ec"]), "-pubout", "-out", str(k["ec_pub"]))
    # A JWKS holding both public keys, by kid.
    modulus = openssl("rsa", "-pubin", "-in", str(k["rsa_pub"]), "-noout", "-modulus").decode()
    n = bytes.fromhex(modulus.strip().split("=", 1)[1])
    text = openssl("pkey", "-pubin", "-in", str(k["ec_pub"]), "-noout", "-text").decode()
    hexes = "".join(line.strip() for line in text.split("pub:")[1].split("ASN1")[0].splitlines())
    point = bytes.fromhex(hexes.replace(":", ""))
    assert point[0] == 4 and len(point) == 65
    jwks = {"keys": [
        {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": b64url(n), "e": "AQAB"},
        {"kty": "EC", "kid": "ec-1", "use": "sig", "crv": "P-256", "x": b64url(point[1:33]),
         "y": b64url(point[33:])},
    ]}
    k["jwks"] = d / "jwks.json"
    k["jwks"].write_text(json.dumps(jwks))
    return k


def claims(**kw):
    now = int(time.time())
    base = {"sub": "ada@example.com", "role": "editor", "iat": now, "exp": now + 600,
            "iss": "https://idp.example.com/", "aud": "insights"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


JWT_ARGS = ["--auth", "on", "--jwt-issuer", "https://idp.example.com/", "--jwt-audience", "insights"]


def test_jwt_hs256(servers, keys):
    srv = servers.start(args=[*JWT_ARGS, "--jwt-secret-file", str(keys["secret"])])
    secret = keys["secret"].read_bytes().rstrip(b"\n")
    ok = jwt_hs256(secret, claims())
    me = caller(srv, ok).call("GET", "/auth/me")
    assert me == {"name": "ada@example.com", "role": "editor", "authenticated": True}
    now = int(time.time())
    refused = {
        "expired": jwt_hs256(secret, claims(exp=now - 120)),
        "not yet valid": jwt_hs256(secret, claims(nbf=now + 300)),
        "wrong issuer": jwt_hs256(secret, claims(iss="https://evil.example.com/")),
        "wrong audience": jwt_hs256(secret, claims(aud="other")),
        "wrong secret": jwt_hs256(b"x" * 32, claims()),
        "alg none": b64url(b'{"alg":"none","typ":"JWT"}') + "." + b64url(json.dumps(claims()).encode()) + ".",
        "tampered": ok.split(".")[0] + "." + b64url(json.dumps(claims(role="admin")).encode()) + "." + ok.split(".")[2],
    }
    for why, token in refused.items():
        assert caller(srv, token).get("/insights").status_code == 401, why
    # Within the 30 s of skew: still accepted.
    assert caller(srv, jwt_hs256(secret, claims(exp=now - 10))).get("/insights").status_code == 200
    # An audience list holding ours.
    assert caller(srv, jwt_hs256(secret, claims(aud=["x", "insights"]))).get("/insights").status_code == 200
    # A valid JWT whose role is none of ours: authenticated, allowed nothing.
    assert caller(srv, jwt_hs256(secret, claims(role="superuser"))).get("/insights").status_code == 403
    # The role decides: a reader cannot write.
    reader = caller(srv, jwt_hs256(secret, claims(role="reader")))
    assert reader.get("/insights").status_code == 200
    assert reader.post("/tags", json={"name": "n", "slug": "n"}).status_code == 403


def test_jwt_rs256_and_algorithm_confusion(servers, keys):
    srv = servers.start(args=[*JWT_ARGS, "--jwt-public-key-file", str(keys["rsa_pub"])])
    good = jwt_signed(str(keys["rsa"]), "RS256", claims())
    assert caller(srv, good).get("/insights").status_code == 200
    # HS256 "signed" with the public key's PEM text: the classic confusion attack.
    forged = jwt_hs256(keys["rsa_pub"].read_bytes(), claims(role="admin"))
    assert caller(srv, forged).get("/insights").status_code == 401
    forged = jwt_hs256(keys["rsa_pub"].read_bytes().rstrip(b"\n"), claims(role="admin"))
    assert caller(srv, forged).get("/insights").status_code == 401
    # An EC signature presented to an RSA key.
    assert caller(srv, jwt_signed(str(keys["ec"]), "ES256", claims())).get("/insights").status_code == 401


def test_jwt_jwks_es256_rs256_and_kid(servers, keys):
    hasura = '."https://hasura.io/jwt/claims"."x-hasura-default-role"'
    srv = servers.start(args=[*JWT_ARGS, "--jwt-jwks-file", str(keys["jwks"]),
                              "--jwt-role-claim", hasura])
    ns = {"https://hasura.io/jwt/claims": {"x-hasura-default-role": "reader"}}
    es = jwt_signed(str(keys["ec"]), "ES256", claims(role=None, **ns), kid="ec-1")
    assert caller(srv, es).call("GET", "/auth/me")["role"] == "reader"
    rs = jwt_signed(str(keys["rsa"]), "RS256", claims(role=None, **ns), kid="rsa-1")
    assert caller(srv, rs).get("/insights").status_code == 200
    unknown = jwt_signed(str(keys["rsa"]), "RS256", claims(role=None, **ns), kid="rsa-2")
    assert caller(srv, unknown).get("/insights").status_code == 401
    # The role at the top level is not where this server reads it: no role, refused.
    top = jwt_signed(str(keys["ec"]), "ES256", claims(role="admin"), kid="ec-1")
    assert caller(srv, top).get("/insights").status_code in (401, 403)


def test_a_bad_jwt_key_file_refuses_to_start(tmp_path):
    missing = tmp_path / "nope.pem"
    proc = run_cli("serve", "--auth", "on", "--port", "0", "--jwt-public-key-file", str(missing),
                   "--database", "sqlite:///" + str(tmp_path / "x.db"), timeout=30)
    assert proc.returncode == 2
    assert str(missing) in proc.stderr


# ---------------------------------------------------------------------------
# Rate limits

def test_rate_limit_per_credential(servers):
    db = servers.database()
    a = make_token(db.url, "a", "reader")
    b = make_token(db.url, "b", "reader")
    srv = servers.start(db, args=["--auth", "on", "--rate-limit", "2/s", "--rate-burst", "5"])
    ca, cb = caller(srv, a), caller(srv, b)
    codes = [ca.get("/tags").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:], codes
    resp = ca.get("/tags")
    assert resp.status_code == 429
    assert resp.json() == {"detail": "Too many requests"}
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["RateLimit-Policy"] == '"default";q=5;w=3'
    assert re.fullmatch(r'"default";r=0;t=\d+', resp.headers["RateLimit"])
    # Another credential has its own bucket.
    ok = cb.get("/tags")
    assert ok.status_code == 200 and "RateLimit" in ok.headers
    # And the first recovers as its bucket refills.
    time.sleep(1.2)
    assert ca.get("/tags").status_code == 200


def test_failed_authentications_are_limited_per_address(servers):
    srv = servers.start(args=["--auth", "on", "--auth-fail-limit", "3/m"])
    c = caller(srv, "ins_wrong")
    codes = [c.get("/tags").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429], codes


def test_no_rate_limit_when_auth_is_off(api):
    resp = api.get("/tags")
    assert "RateLimit" not in resp.headers and "RateLimit-Policy" not in resp.headers


# ---------------------------------------------------------------------------
# The audit trail

def audit(admin, **params):
    return admin.call("GET", "/audit", params=params)


def test_audit_trail_is_exact(servers):
    db = servers.database()
    root = make_token(db.url, "root", "admin")
    ed = make_token(db.url, "ed", "editor")
    srv = servers.start(db, args=["--auth", "on", "--rate-limit", "0"])
    admin, editor = caller(srv, root), caller(srv, ed)
    start = audit(admin)["total"]  # the CLI's two token creations
    assert start == 2
    tag = editor.call("POST", "/tags", 201, json={"name": "net", "slug": "net"})
    cat = editor.call("POST", "/categories", 201, json={"name": "Ops", "slug": "ops"})
    ins = editor.call("POST", "/insights", 201, json={
        "title": "Retry storms", "description": "d", "author": "ed", "tag_ids": [tag["id"]],
        "category_id": cat["id"]})
    rid = "audit-req-1"
    editor.call("PUT", f"/insights/{ins['id']}", 200, json={"title": "Retry storms, again",
                                                          "status": "published"},
                headers={"X-Request-ID": rid})
    # Rejected writes: none of them leaves an entry.
    assert editor.post("/tags", json={"name": "net", "slug": "other"}).status_code == 409
    assert editor.post("/insights", json={"title": ""}).status_code == 422
    assert editor.put("/insights/999999", json={"title": "x"}).status_code == 404
    assert editor.delete("/tags/999999").status_code == 404
    editor.call("DELETE", f"/insights/{ins['id']}", 204)
    editor.call("DELETE", f"/tags/{tag['id']}", 204)
    page = audit(admin)
    assert page["total"] == start + 6, page
    got = [(e["actor"], e["role"], e["action"], e["resource"], e["resource_id"])
           for e in page["entries"][:6]]
    assert got == [
        ("ed", "editor", "delete", "tag", tag["id"]),
        ("ed", "editor", "delete", "insight", ins["id"]),
        ("ed", "editor", "update", "insight", ins["id"]),
        ("ed", "editor", "create", "insight", ins["id"]),
        ("ed", "editor", "create", "category", cat["id"]),
        ("ed", "editor", "create", "tag", tag["id"]),
    ]
    update = page["entries"][2]
    assert update["request_id"] == rid
    changes = update["changes"]
    assert changes["title"] == {"old": "Retry storms", "new": "Retry storms, again"}
    assert changes["status"] == {"old": "draft", "new": "published"}
    assert changes["published_at"]["old"] is None and changes["published_at"]["new"]
    assert set(changes) == {"title", "status", "published_at"}
    created = page["entries"][3]["changes"]
    assert created["tag_ids"] == {"old": None, "new": [tag["id"]]}
    assert created["category_id"] == {"old": None, "new": cat["id"]}
    assert created["author"] == {"old": None, "new": "ed"}
    deleted = page["entries"][1]["changes"]
    assert deleted["title"] == {"old": "Retry storms, again", "new": None}
    assert page["entries"][0]["changes"] == {"name": {"old": "net", "new": None},
                                             "slug": {"old": "net", "new": None}}
    # Filters.
    only = audit(admin, resource="insight", resource_id=ins["id"])
    assert only["total"] == 3 and {e["action"] for e in only["entries"]} == {"create", "update", "delete"}
    assert audit(admin, actor="root")["total"] == 0
    assert audit(admin, actor="cli")["total"] == 2
    assert audit(admin, since="2999-01-01")["total"] == 0
    assert audit(admin, until="2000-01-01")["total"] == 0
    assert audit(admin, since=update["time"], resource="insight")["total"] >= 2
    paged = audit(admin, page=2, page_size=3)
    assert paged["page"] == 2 and len(paged["entries"]) == 3
    assert paged["entries"][0]["id"] == page["entries"][3]["id"]
    resp = admin.get("/audit", params={"since": "yesterday"})
    assert resp.status_code == 422
    # Readers and editors cannot read it.
    assert editor.get("/audit").status_code == 403


def test_audit_of_graphql_mutations_and_rollback(servers):
    db = servers.database()
    root = make_token(db.url, "root", "admin")
    srv = servers.start(db, args=["--auth", "on", "--rate-limit", "0"])
    admin = caller(srv, root)
    start = audit(admin)["total"]
    ok = gql(admin, 'mutation { a: insert_tags_one(object: {name: "ga", slug: "ga"}) { id } '
                    'b: insert_tags_one(object: {name: "gb", slug: "gb"}) { id } }')
    assert "errors" not in ok, ok
    page = audit(admin)
    assert page["total"] == start + 2
    assert [e["actor"] for e in page["entries"][:2]] == ["root", "root"]
    # The second field fails: the first is rolled back, and so is its entry.
    bad = gql(admin, 'mutation { a: insert_tags_one(object: {name: "gc", slug: "gc"}) { id } '
                     'b: insert_tags_one(object: {name: "ga", slug: "gd"}) { id } }')
    assert bad["errors"][0]["extensions"]["code"] == "constraint-violation"
    assert audit(admin)["total"] == start + 2
    assert not [t for t in admin.all_tags() if t["name"] == "gc"]


def test_audit_actor_is_anonymous_when_auth_is_off(fresh_api):
    tag = fresh_api.create_tag()
    page = fresh_api.call("GET", "/audit")
    entry = page["entries"][0]
    assert (entry["actor"], entry["role"], entry["action"], entry["resource_id"]) == \
        ("anonymous", "anonymous", "create", tag["id"])


# ---------------------------------------------------------------------------
# Credentials never leak

def test_no_credential_in_logs_errors_or_metrics(servers, keys):
    db = servers.database()
    root = make_token(db.url, "root", "admin")
    srv = servers.start(db, args=["--auth", "on", "--jwt-secret-file", str(keys["secret"]),
                                  "--log-level", "debug"])
    secret = keys["secret"].read_bytes().rstrip(b"\n")
    jwt = jwt_hs256(secret, claims(iss=None, aud=None, role="reader"))
    expired = jwt_hs256(secret, claims(iss=None, aud=None, exp=int(time.time()) - 600))
    bodies = []
    for cred in (root, jwt, expired, root[:-1] + "x", "ins_" + "a" * 49):
        c = caller(srv, cred)
        for path in ("/insights", "/audit", "/nope", "/metrics"):
            bodies.append(c.get(path, check=False).text)
    metrics = caller(srv, root).get("/metrics", check=False).text
    log = srv.log()
    for text in [log, metrics, *bodies]:
        for cred in (root, jwt, expired, root[4:20], jwt.split(".")[2], secret.decode()):
            assert cred not in text
    assert "authentication failed" in log


# ---------------------------------------------------------------------------
# CORS with credentials

def test_cors_with_auth_lists_origins_never_star(servers, tmp_path):
    srv = servers.start(args=["--auth", "on"], env={"INSIGHTS_CORS_ORIGINS": "https://app.example.com"})
    resp = requests.get(srv.url + "/health", headers={"Origin": "https://app.example.com"},
                        timeout=HTTP_TIMEOUT)
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert resp.headers.get("Access-Control-Allow-Credentials") == "true"
    other = requests.get(srv.url + "/health", headers={"Origin": "https://evil.example.com"},
                         timeout=HTTP_TIMEOUT)
    assert "Access-Control-Allow-Origin" not in other.headers
    pre = requests.options(srv.url + "/insights", timeout=HTTP_TIMEOUT, headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert pre.status_code == 204
    assert "authorization" in pre.headers["Access-Control-Allow-Headers"].lower()
    # The default (unset) is no CORS at all with auth on.
    plain = servers.start(args=["--auth", "on"])
    resp = requests.get(plain.url + "/health", headers={"Origin": "https://app.example.com"},
                        timeout=HTTP_TIMEOUT)
    assert "Access-Control-Allow-Origin" not in resp.headers
    # An explicit * refuses to start.
    proc = run_cli("serve", "--auth", "on", "--port", "0", "--cors-origins", "*",
                   "--database", "sqlite:///" + str(tmp_path / "c.db"), timeout=30)
    assert proc.returncode != 0
    assert "INSIGHTS_CORS_ORIGINS" in proc.stderr or "origins" in proc.stderr


def last_used(db, name):
    """A token's last_used_at, or None (psql prints a NULL as an empty line, sqlite3 as None)."""
    rows = db.query(f"SELECT coalesce(last_used_at, 'never') FROM api_tokens WHERE name = '{name}'")
    assert len(rows) == 1, rows
    return None if rows[0][0] == "never" else rows[0][0]


def test_last_use_is_kept_without_a_write_per_request(servers):
    db = servers.database()
    token = make_token(db.url, "used", "reader")
    make_token(db.url, "unused", "reader")
    srv = servers.start(db, args=["--auth", "on"])
    for _ in range(20):
        assert caller(srv, token).get("/tags").status_code == 200
    # Not written per request: nothing yet (it is written about once a minute)...
    assert last_used(db, "used") is None
    # ...and at the latest when the server stops.
    assert srv.stop() == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", last_used(db, "used") or "")
    assert last_used(db, "unused") is None
