"""The edge of the service: HTTPS without a proxy (--tls-cert, --tls-key), the
client's address behind trusted proxies (--trusted-proxies), CORS defaults.

TLS tests make a self-signed certificate with the openssl command line in the
test's temporary directory; the server is asked for it by name (127.0.0.1)."""
import json
import os
import shutil
import subprocess
import time

import pytest
import requests

from conftest import Server, free_port, run_cli, uid

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")


# -- TLS -----------------------------------------------------------------------

def make_cert(directory, name="server"):
    """A self-signed certificate for 127.0.0.1 and its key: (cert path, key path)."""
    cert = os.path.join(str(directory), f"{name}-cert.pem")
    key = os.path.join(str(directory), f"{name}-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class TlsServer(Server):
    """A server over HTTPS: health is polled with the certificate as the only CA."""

    def __init__(self, db, log_path, cert, key, args=()):
        super().__init__(db, log_path, ["--tls-cert", cert, "--tls-key", key, *args])
        self.cert = cert

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def _poll_health(self, timeout):
        deadline = time.monotonic() + timeout
        why = "timeout"
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                return f"exited with {rc} while starting"
            try:
                r = requests.get(self.url + "/health", timeout=2, verify=self.cert)
                if r.status_code == 200:
                    return None
                why = f"GET /health answered {r.status_code}"
            except requests.RequestException as exc:
                why = f"GET /health failed: {exc}"
            time.sleep(0.1)
        return why


@pytest.fixture
def tls_server(servers, tmp_path):
    cert, key = make_cert(tmp_path)
    srv = TlsServer(servers.database(), servers.log_path(), cert, key, ["--log-format", "json"])
    return servers.add(srv.start())


@needs_openssl
def test_tls_serves_https_with_hsts(tls_server):
    resp = requests.get(tls_server.url + "/health", verify=tls_server.cert, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "healthy"
    assert resp.headers.get("Strict-Transport-Security") == "max-age=31536000"
    # On every answer: errors too, and writes.
    assert requests.get(tls_server.url + "/nope", verify=tls_server.cert, timeout=30) \
        .headers.get("Strict-Transport-Security") == "max-age=31536000"
    created = requests.post(tls_server.url + "/tags", json={"name": f"tls-{uid()}", "slug": f"tls-{uid()}"},
                            verify=tls_server.cert, timeout=30)
    assert created.status_code == 201, created.text
    assert created.headers.get("Strict-Transport-Security") == "max-age=31536000"
    # Keep-alive over TLS: one session, many requests.
    with requests.Session() as s:
        for _ in range(5):
            assert s.get(tls_server.url + "/health", verify=tls_server.cert, timeout=30).status_code == 200
    # The start-up line says where, with the scheme.
    started = [json.loads(l) for l in tls_server.log().splitlines()
               if l.startswith("{") and '"insights started"' in l]
    assert started and started[0]["url"] == f"https://127.0.0.1:{tls_server.port}", started


@needs_openssl
def test_tls_port_refuses_plain_http(tls_server):
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{tls_server.port}/health", timeout=10)
    # And the server is still fine afterwards.
    assert requests.get(tls_server.url + "/health", verify=tls_server.cert,
                        timeout=30).status_code == 200


@needs_openssl
def test_tls_unknown_certificate_is_refused_by_the_client(tls_server, tmp_path):
    other, _ = make_cert(tmp_path, "other")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_server.url + "/health", verify=other, timeout=10)


def test_no_hsts_without_tls(api):
    resp = api.get("/health")
    assert resp.status_code == 200
    assert "Strict-Transport-Security" not in resp.headers
    assert "Strict-Transport-Security" not in api.get("/nope").headers


def refuse(servers, *args):
    """Runs serve with args that must keep it from starting; returns its stderr."""
    db = servers.database()
    proc = run_cli("serve", "--host", "127.0.0.1", "--port", str(free_port()), "--database", db.url,
                   "--log-format", "text", *args, timeout=30)
    assert proc.returncode != 0, proc
    return proc.stderr


@needs_openssl
def test_tls_missing_key_file_refuses_to_start(servers, tmp_path):
    cert, key = make_cert(tmp_path)
    missing = str(tmp_path / f"missing-{uid()}.pem")
    err = refuse(servers, "--tls-cert", cert, "--tls-key", missing)
    assert missing in err and "key" in err, err
    # The certificate's bytes are never shown.
    with open(cert) as f:
        body = f.read().splitlines()[1]
    assert body not in err


@needs_openssl
def test_tls_needs_cert_and_key_together(servers, tmp_path):
    cert, key = make_cert(tmp_path)
    assert "--tls-key" in refuse(servers, "--tls-cert", cert)
    assert "--tls-cert" in refuse(servers, "--tls-key", key)


@needs_openssl
def test_tls_invalid_files_refuse_to_start(servers, tmp_path):
    cert, key = make_cert(tmp_path)
    _, other_key = make_cert(tmp_path, "other")
    # The key given as the certificate: named, its bytes never shown.
    err = refuse(servers, "--tls-cert", key, "--tls-key", key)
    assert key in err and "certificate" in err, err
    with open(key) as f:
        secret = f.read().splitlines()[1]
    assert secret not in err
    # A key that is not the certificate's.
    err = refuse(servers, "--tls-cert", cert, "--tls-key", other_key)
    assert cert in err and other_key in err, err
    # Through the environment, too.
    db = servers.database()
    proc = run_cli("serve", "--host", "127.0.0.1", "--port", str(free_port()), "--database", db.url,
                   env={"INSIGHTS_TLS_CERT": cert, "INSIGHTS_TLS_KEY": str(tmp_path / "nope.pem")})
    assert proc.returncode != 0 and "nope.pem" in proc.stderr


# -- the client's address ------------------------------------------------------

def request_lines(srv):
    return [json.loads(l) for l in srv.log().splitlines()
            if l.startswith("{") and '"msg":"request"' in l]


def client_of(srv, rid, tries=100):
    for _ in range(tries):
        for line in request_lines(srv):
            if line.get("request_id") == rid:
                return line.get("client")
        time.sleep(0.05)
    raise AssertionError(f"no request line for {rid}:\n{srv.log_tail()}")


def get_as(srv, xff):
    rid = f"proxy-{uid()}"
    headers = {"X-Request-ID": rid}
    if xff is not None:
        headers["X-Forwarded-For"] = xff
    assert srv.api.get("/health", headers=headers).status_code == 200
    return client_of(srv, rid)


def test_proxy_header_ignored_from_untrusted_peer(servers):
    srv = servers.start(args=["--log-format", "json"])
    assert get_as(srv, None) == "127.0.0.1"
    assert get_as(srv, "203.0.113.9") == "127.0.0.1"
    # Trusting another network does not make this peer a proxy.
    srv = servers.start(args=["--log-format", "json", "--trusted-proxies", "10.0.0.0/8,::1"])
    assert get_as(srv, "203.0.113.9") == "127.0.0.1"


def test_proxy_header_believed_from_trusted_peer(servers):
    srv = servers.start(args=["--log-format", "json",
                              "--trusted-proxies", "127.0.0.0/8, 10.0.0.0/8,2001:db8::/32"])
    assert get_as(srv, None) == "127.0.0.1"
    assert get_as(srv, "203.0.113.9") == "203.0.113.9"
    # The right-most address that is not a trusted proxy; what the client wrote
    # to the left of it is not believed.
    assert get_as(srv, "6.6.6.6, 203.0.113.9, 10.1.2.3") == "203.0.113.9"
    assert get_as(srv, "6.6.6.6,2001:DB8::7,2001:db8:0::1") == "6.6.6.6"
    # Every hop trusted: the left-most.
    assert get_as(srv, "10.9.9.9, 10.1.2.3") == "10.9.9.9"
    # Garbage stops the walk at the last address a trusted hop gave.
    assert get_as(srv, "6.6.6.6, unknown, 10.1.2.3") == "10.1.2.3"


def test_proxy_header_fields_are_joined(servers):
    """Several X-Forwarded-For fields are one list, in order (RFC 9110, 5.3)."""
    srv = servers.start(args=["--log-format", "json", "--trusted-proxies", "127.0.0.1,10.0.0.0/8"])
    rid = f"proxy-{uid()}"
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    conn.putrequest("GET", "/health")
    conn.putheader("X-Request-ID", rid)
    conn.putheader("X-Forwarded-For", "6.6.6.6, 198.51.100.4")
    conn.putheader("X-Forwarded-For", "10.0.0.7")
    conn.endheaders()
    assert conn.getresponse().status == 200
    conn.close()
    assert client_of(srv, rid) == "198.51.100.4"


def test_proxy_bad_value_refuses_to_start(servers):
    err = refuse(servers, "--trusted-proxies", "10.0.0.0/8, proxy.internal")
    assert "'proxy.internal' is not an IP address or CIDR range" in err, err
    err = refuse(servers, "--trusted-proxies", "10.0.0.1/8")
    assert "10.0.0.1/8" in err, err


# -- CORS ----------------------------------------------------------------------

def test_cors_empty_list_turns_cors_off(servers):
    """An explicit empty list is not the default (which is "*" without authentication)."""
    api = servers.start(args=["--cors-origins", ""]).api
    resp = api.get("/health", headers={"Origin": "https://x.example"})
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
    # Through the environment too.
    api = servers.start(env={"INSIGHTS_CORS_ORIGINS": ""}).api
    assert "Access-Control-Allow-Origin" not in api.get(
        "/health", headers={"Origin": "https://x.example"}).headers


def test_cors_default_without_credentials_is_any_origin(api):
    resp = api.get("/health", headers={"Origin": "https://x.example"})
    assert resp.headers.get("Access-Control-Allow-Origin") == "*"
    assert "Access-Control-Allow-Credentials" not in resp.headers


def test_cors_preflight_allows_authorization(api):
    resp = api.request("OPTIONS", "/insights", check=False, headers={
        "Origin": "https://x.example", "Access-Control-Request-Method": "POST"})
    assert resp.status_code == 204, resp.text
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "if-match"} <= allowed, allowed
    # What the browser asks for is what it gets (authentication off).
    resp = api.request("OPTIONS", "/insights", check=False, headers={
        "Origin": "https://x.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert "authorization" in resp.headers["Access-Control-Allow-Headers"].lower()
