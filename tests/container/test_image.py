"""The container image (the Dockerfile at the root), built and run offline.

`make test-container` runs this on the image CONTAINER_IMAGE that
scripts/container-build.sh built from the work tree, on a Debian 12 minbase
made by scripts/container-base.sh (base images cannot be pulled here).
Podman keeps its own storage under CONTAINER_DIR (build/container, vfs
driver); containers run with runc, cgroupfs, the host's network and
explicit ulimits (what works on this VM). What is checked, as the image promises in the Dockerfile:

  - it runs as 10001:10001, has OCI labels, EXPOSE 8000, a HEALTHCHECK
    through `insights healthcheck`, and no setuid or setgid file;
  - on a read-only root filesystem, with a volume at /data, it serves on
    0.0.0.0 (authentication on), Swagger UI and the dashboard included: a token made with `insights token create`
    in the same volume writes an insight, which a second container on the
    same volume reads back after the first stopped (cleanly, exit 0);
  - the HEALTHCHECK command answers healthy, and nothing was written
    outside /data (`podman diff`).
"""
import json
import os
import stat
import subprocess
import tarfile
import time
import uuid

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTAINER_DIR = os.path.abspath(os.environ.get("CONTAINER_DIR", os.path.join(ROOT, "build", "container")))
IMAGE = os.environ.get("CONTAINER_IMAGE", "localhost/insights:test")

PODMAN = ["podman", "--root", os.path.join(CONTAINER_DIR, "storage"),
          "--runroot", os.path.join(CONTAINER_DIR, "run"), "--storage-driver", "vfs",
          "--cgroup-manager", "cgroupfs", "--runtime", "runc"]
RUN = ["run", "--network", "host", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]


def podman(*args, check=True, timeout=120):
    proc = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def image():
    """The image `make container-image` built (scripts/container-build.sh)."""
    if podman("image", "exists", IMAGE, check=False).returncode != 0:
        pytest.fail(f"no image {IMAGE}: build it with `make container-image`")
    return IMAGE


@pytest.fixture(scope="module")
def inspect(image):
    return json.loads(podman("image", "inspect", image).stdout)[0]


@pytest.fixture(scope="module")
def config(inspect):
    return inspect["Config"]


@pytest.fixture
def volume():
    name = f"insights-test-{uuid.uuid4().hex[:8]}"
    podman("volume", "create", name)
    yield name
    podman("volume", "rm", "--force", name, check=False)


@pytest.fixture
def containers():
    """Names of the containers a test starts; removed at the end."""
    names = []
    yield names
    for name in names:
        podman("rm", "--force", "--time", "2", name, check=False)


def test_runs_as_uid_10001(config):
    assert config["User"] == "10001:10001"


def test_oci_labels(config):
    labels = config.get("Labels") or {}
    for key in ("title", "description", "version", "revision", "created", "base.name"):
        assert labels.get(f"org.opencontainers.image.{key}"), key
    assert labels["org.opencontainers.image.title"] == "insights"


def test_serves_on_8000_with_sqlite_in_data(config):
    assert "8000/tcp" in config["ExposedPorts"]
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["DATABASE_URL"] == "sqlite:////data/insights.db"
    assert env["INSIGHTS_HOST"] == "0.0.0.0"
    assert "/data" in config["Volumes"]


def test_healthcheck_is_insights_healthcheck(inspect):
    test = inspect["Healthcheck"]["Test"]
    assert test[0] == "CMD" and test[1:] == ["/usr/local/bin/insights", "healthcheck"]


def test_no_setuid_or_setgid_file(image, containers, tmp_path):
    name = f"insights-files-{uuid.uuid4().hex[:8]}"
    podman("create", "--name", name, image)
    containers.append(name)
    tar = tmp_path / "fs.tar"
    podman("export", "--output", str(tar), name, timeout=300)
    with tarfile.open(tar) as t:
        members = t.getmembers()
    special = [m.name for m in members if m.isfile() and m.mode & (stat.S_ISUID | stat.S_ISGID)]
    assert not special, special
    assert any(m.name.endswith("usr/local/bin/insights") for m in members)
    # Neither a compiler nor curl came along from the build stage.
    programs = {m.name.rsplit("/", 1)[-1] for m in members
                if not m.isdir() and "/bin/" in m.name}
    assert "insights" in programs and "sh" in programs
    assert not programs & {"gcc", "cc", "curl", "make", "pkg-config"}


def run_container(image, volume, port, *args, name=None, detach=True):
    cmd = [*RUN, "--read-only", "-v", f"{volume}:/data", "-e", f"INSIGHTS_PORT={port}",
           "-e", "INSIGHTS_LOG_FORMAT=text"]
    if name:
        cmd += ["--name", name]
    if detach:
        cmd.append("-d")
    else:
        cmd.append("--rm")
    return podman(*cmd, image, *args)


def wait_health(url, timeout=30):
    until = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < until, f"{url}/health did not answer 200 in {timeout} s"
        time.sleep(0.2)


def test_read_only_run_keeps_data_in_the_volume(image, volume, containers):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secret = run_container(image, volume, port, "token", "create", "--name", "ci",
                           "--role", "admin", detach=False).stdout.strip()
    assert secret.startswith("ins_")
    auth = {"Authorization": f"Bearer {secret}"}

    first = f"insights-a-{uuid.uuid4().hex[:8]}"
    containers.append(first)
    run_container(image, volume, port, name=first)
    wait_health(url)
    # Listening on every address, authentication is on.
    assert requests.get(url + "/insights", timeout=10).status_code == 401
    # The npm scripts were embedded (the build had node_modules/): Swagger UI
    # and the dashboard's charts, not only the project's own pages.
    for path in ("/docs/swagger-ui-bundle.js", "/web/chart.umd.min.js", "/"):
        assert requests.get(url + path, timeout=10).status_code == 200, path
    title = f"container {uuid.uuid4().hex[:8]}"
    r = requests.post(url + "/insights", json={"title": title, "description": "made in a container",
                                               "author": "ci"}, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    insight_id = r.json()["id"]
    assert requests.get(f"{url}/insights/{insight_id}", headers=auth, timeout=10).json()["title"] == title

    # The HEALTHCHECK, as the engine runs it, and the user it runs as.
    hc = podman("healthcheck", "run", first, check=False)
    assert hc.returncode == 0, hc.stdout + hc.stderr
    assert podman("exec", first, "id", "-u").stdout.strip() == "10001"
    # Nothing written outside the /data volume ("C /etc": the engine's
    # /etc/hosts and /etc/resolv.conf mounts).
    changes = podman("diff", first).stdout.split("\n")
    assert [c for c in changes if c and c != "C /etc"] == []

    podman("stop", "--time", "10", first)
    state = json.loads(podman("inspect", first).stdout)[0]["State"]
    assert state["ExitCode"] == 0, podman("logs", first).stderr

    second = f"insights-b-{uuid.uuid4().hex[:8]}"
    containers.append(second)
    run_container(image, volume, port, name=second)
    wait_health(url)
    r = requests.get(f"{url}/insights/{insight_id}", headers=auth, timeout=10)
    assert r.status_code == 200 and r.json()["title"] == title
    podman("stop", "--time", "10", second)


def test_unhealthy_when_the_service_is_gone(image, volume, containers):
    """The HEALTHCHECK command fails when nothing answers on the port."""
    port = free_port()
    name = f"insights-h-{uuid.uuid4().hex[:8]}"
    containers.append(name)
    run_container(image, volume, port, name=name)
    wait_health(f"http://127.0.0.1:{port}")
    assert podman("exec", name, "insights", "healthcheck").returncode == 0
    other = podman("exec", name, "insights", "healthcheck", "--port", str(free_port()), check=False)
    assert other.returncode == 1, other.stdout + other.stderr
