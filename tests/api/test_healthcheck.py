"""`insights healthcheck`: what the container's HEALTHCHECK runs.

Exit 0 when the health URL answers 200, 1 on any other answer (503, a
redirect, which is not followed) or none (nothing listening, no answer in
--timeout), 2 when the URL is not an http(s) URL. The default URL is
http://127.0.0.1:$INSIGHTS_PORT/health. Answers other than the real
service's come from a tiny stdlib server in the test.
"""
import http.server
import threading
import time

import pytest

from conftest import free_port, run_cli


class _Fixed(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the server's status (and Location for 3xx)."""

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        status, delay = self.server.status, self.server.delay
        if delay:
            time.sleep(delay)
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", f"http://127.0.0.1:{self.server.ok_port}/health")
        body = b'{"status":"x"}'
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fixed():
    """Starts a server answering a fixed status: fixed(status, delay=0, ok_port=0) -> port."""
    started = []

    def start(status, delay=0, ok_port=0):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
        srv.status, srv.delay, srv.ok_port = status, delay, ok_port
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return srv.server_address[1]

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def test_healthy_service_exits_0(server):
    proc = run_cli("healthcheck", "--url", f"{server.url}/health")
    assert proc.returncode == 0, proc.stderr
    assert "healthy" in proc.stdout and "200" in proc.stdout


def test_default_url_is_the_health_of_insights_port(server):
    proc = run_cli("healthcheck", env={"INSIGHTS_PORT": str(server.port)})
    assert proc.returncode == 0, proc.stderr
    assert f"http://127.0.0.1:{server.port}/health" in proc.stdout
    assert run_cli("healthcheck", "--port", str(server.port)).returncode == 0


def test_unhealthy_answer_exits_1(fixed):
    port = fixed(503)
    proc = run_cli("healthcheck", "--url", f"http://127.0.0.1:{port}/health")
    assert proc.returncode == 1
    assert "503" in proc.stderr and proc.stdout == ""


def test_other_2xx_is_not_healthy(fixed):
    assert run_cli("healthcheck", "--url", f"http://127.0.0.1:{fixed(204)}/").returncode == 1


def test_redirect_is_not_followed(server, fixed):
    port = fixed(302, ok_port=server.port)
    proc = run_cli("healthcheck", "--url", f"http://127.0.0.1:{port}/health")
    assert proc.returncode == 1, proc.stdout
    assert "302" in proc.stderr


def test_nothing_listening_exits_1():
    proc = run_cli("healthcheck", "--url", f"http://127.0.0.1:{free_port()}/health")
    assert proc.returncode == 1
    assert "unhealthy" in proc.stderr


def test_no_answer_in_time_exits_1(fixed):
    port = fixed(200, delay=3)
    t0 = time.monotonic()
    proc = run_cli("healthcheck", "--timeout", "1", "--url", f"http://127.0.0.1:{port}/health")
    assert proc.returncode == 1
    assert time.monotonic() - t0 < 2.8


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/health", "not a url", "http://[::1/health",
                                 "file:///etc/passwd"])
def test_bad_url_exits_2(url):
    proc = run_cli("healthcheck", "--url", url)
    assert proc.returncode == 2
    assert url in proc.stderr


@pytest.mark.parametrize("args", [["--timeout", "0"], ["--bogus"], ["--port", "x"]])
def test_usage_errors_exit_2(args):
    assert run_cli("healthcheck", *args).returncode == 2
