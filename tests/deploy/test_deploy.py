"""The deployment files of deploy/, checked without a cluster or a daemon.

- deploy/kubernetes/: each kustomization (the base and overlays/sqlite) is
  rendered here (resources and JSON 6902 patches, the only features they
  use: any other key fails the test rather than being ignored), every
  object is validated against the Kubernetes 1.27 OpenAPI schemas by
  validate_k8s.mjs (kubernetes-models from npm), and the fields that
  matter are checked by name: the schemas accept unknown fields, so a
  misspelt securityContext field would pass them but not these checks.
- deploy/compose.yaml: Debian's docker-compose validates it against the
  Compose schema (`config`), and its services are checked.
- deploy/insights.service: `systemd-analyze security --offline=true`
  rates its exposure 2.5 or less ("OK") and `systemd-analyze verify`
  passes (on a copy whose ExecStart is the binary under test, as verify
  wants the program to exist).
"""
import copy
import json
import os
import re
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "kubernetes")
BIN = os.environ.get("INSIGHTS_BIN", os.path.join(ROOT, "build", "insights"))
KUSTOMIZE_KEYS = {"apiVersion", "kind", "resources", "patches"}


# ---------------------------------------------------------------------------
# Rendering

def _pointer(path):
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _apply(obj, op):
    """One JSON 6902 operation (add, replace, remove) on obj, in place."""
    *parents, last = _pointer(op["path"])
    node = obj
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op["op"] == "add":
            node.insert(index, op["value"])
        elif op["op"] == "replace":
            node[index] = op["value"]
        elif op["op"] == "remove":
            del node[index]
        else:
            raise AssertionError(f"unsupported patch operation {op['op']}")
        return
    if op["op"] == "add":
        node[last] = op["value"]
    elif op["op"] == "replace":
        assert last in node, f"replace of a missing {op['path']}"
        node[last] = op["value"]
    elif op["op"] == "remove":
        assert last in node, f"remove of a missing {op['path']}"
        del node[last]
    else:
        raise AssertionError(f"unsupported patch operation {op['op']}")


def render(directory):
    """The objects `kubectl kustomize directory` makes from these files."""
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    unknown = set(k) - KUSTOMIZE_KEYS
    assert not unknown, f"{directory}: kustomization keys this test cannot render: {unknown}"
    objects = []
    for res in k.get("resources", []):
        path = os.path.normpath(os.path.join(directory, res))
        if os.path.isdir(path):
            objects += render(path)
        else:
            with open(path) as f:
                objects += [o for o in yaml.safe_load_all(f) if o]
    for patch in k.get("patches", []):
        assert set(patch) == {"target", "patch"}, patch
        target = patch["target"]
        assert set(target) <= {"kind", "name"}, target
        hits = [o for o in objects if o["kind"] == target["kind"]
                and o["metadata"]["name"] == target.get("name", o["metadata"]["name"])]
        assert len(hits) == 1, f"patch target {target} matches {len(hits)} objects"
        for op in yaml.safe_load(patch["patch"]):
            _apply(hits[0], op)
    return objects


@pytest.fixture(scope="module", params=["base", "overlays/sqlite"])
def rendered(request):
    return request.param, render(os.path.join(K8S, request.param))


def one(objects, kind):
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects"
    return found[0]


# ---------------------------------------------------------------------------
# Kubernetes

def test_objects_validate_against_the_kubernetes_schemas(rendered, tmp_path):
    name, objects = rendered
    path = tmp_path / "objects.json"
    path.write_text(json.dumps(objects))
    proc = subprocess.run(["node", os.path.join(ROOT, "tests", "deploy", "validate_k8s.mjs"),
                           str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("valid: ") == len(objects)


def test_the_validator_rejects_a_bad_object(tmp_path):
    """The schema check can fail: a port given as a string is not an integer."""
    deployment = one(render(os.path.join(K8S, "base")), "Deployment")
    bad = copy.deepcopy(deployment)
    bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8000"
    path = tmp_path / "objects.json"
    path.write_text(json.dumps([deployment, bad]))
    proc = subprocess.run(["node", os.path.join(ROOT, "tests", "deploy", "validate_k8s.mjs"),
                           str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1
    assert "containerPort must be integer" in proc.stdout


def test_base_has_every_kind():
    kinds = sorted(o["kind"] for o in render(os.path.join(K8S, "base")))
    assert kinds == ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                     "Secret", "Service"]


def test_pod_runs_locked_down(rendered):
    pod = one(rendered[1], "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001
    assert sc["seccompProfile"]["type"] == "RuntimeDefault"


def _quantity(q):
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?", str(q))
    assert m, q
    return float(m.group(1)) * units.get(m.group(2), 1)


def test_resources_requested_and_limited(rendered):
    (c,) = one(rendered[1], "Deployment")["spec"]["template"]["spec"]["containers"]
    res = c["resources"]
    for what in ("cpu", "memory"):
        assert _quantity(res["requests"][what]) <= _quantity(res["limits"][what]), what
    # Above the measured steady RSS (75-81 MB under the soak's mixed load).
    assert _quantity(res["requests"]["memory"]) >= 81e6
    # Room for both 64M in-flight bounds over the peak.
    assert _quantity(res["limits"]["memory"]) >= 81e6 + 2 * 64 * 2**20


def test_probes_and_port(rendered):
    (c,) = one(rendered[1], "Deployment")["spec"]["template"]["spec"]["containers"]
    (port,) = c["ports"]
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        assert re.search(rf"^EXPOSE {port['containerPort']}$", f.read(), re.M)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/health", "port": port["name"]}, probe


def test_references_resolve(rendered):
    objects = rendered[1]
    deployment = one(objects, "Deployment")
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    (c,) = pod["spec"]["containers"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for src in c["envFrom"]:
        assert one(objects, "ConfigMap")["metadata"]["name"] == src["configMapRef"]["name"]
    (db,) = [e for e in c["env"] if e["name"] == "DATABASE_URL"]
    ref = db["valueFrom"]["secretKeyRef"]
    secret = one(objects, "Secret")
    assert secret["metadata"]["name"] == ref["name"] and ref["key"] in secret["stringData"]
    service = one(objects, "Service")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == c["ports"][0]["name"]
    assert one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"].get("volumes", [])
              if "persistentVolumeClaim" in v]
    pvcs = [o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"]
    assert claims == pvcs


def test_base_runs_replicas_on_postgresql():
    objects = render(os.path.join(K8S, "base"))
    assert one(objects, "Deployment")["spec"]["replicas"] >= 2
    assert one(objects, "Secret")["stringData"]["DATABASE_URL"].startswith("postgresql://")
    assert one(objects, "HorizontalPodAutoscaler")["spec"]["minReplicas"] >= 2
    assert one(objects, "PodDisruptionBudget")["spec"]["minAvailable"] == 1


def test_sqlite_overlay_is_one_replica_on_a_volume():
    objects = render(os.path.join(K8S, "overlays", "sqlite"))
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    assert c["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert one(objects, "Secret")["stringData"]["DATABASE_URL"] == "sqlite:////data/insights.db"
    assert one(objects, "PersistentVolumeClaim")["spec"]["accessModes"] == ["ReadWriteOnce"]
    hpa = one(objects, "HorizontalPodAutoscaler")["spec"]
    assert hpa["minReplicas"] == hpa["maxReplicas"] == 1
    assert "minAvailable" not in one(objects, "PodDisruptionBudget")["spec"]


# ---------------------------------------------------------------------------
# Compose

def compose(*args):
    return subprocess.run(["docker-compose", "-f", os.path.join(DEPLOY, "compose.yaml"), *args],
                          capture_output=True, text=True, timeout=60)


def test_compose_file_is_valid():
    for args in ([], ["--profile", "monitoring"]):
        proc = compose(*args, "config", "-q")
        assert proc.returncode == 0, proc.stderr
    # (docker-compose 1.29 lists the services of every profile.)
    assert sorted(compose("--profile", "monitoring", "config", "--services").stdout.split()) == \
        ["grafana", "insights-1", "insights-2", "postgresql", "prometheus"]


def test_compose_services():
    with open(os.path.join(DEPLOY, "compose.yaml")) as f:
        services = yaml.safe_load(f)["services"]
    assert services["postgresql"]["image"].endswith("postgres:15")
    ports = set()
    for name in ("insights-1", "insights-2"):
        s = services[name]
        assert s["read_only"] is True and s["user"] == "10001:10001" and s["cap_drop"] == ["ALL"]
        assert s["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert s["environment"]["DATABASE_URL"].endswith("@postgresql:5432/insights")
        (port,) = s["ports"]
        assert port.endswith(":8000")
        ports.add(port)
    assert len(ports) == 2
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        for volume in services[name]["volumes"]:
            assert os.path.exists(os.path.join(DEPLOY, volume.split(":")[0])), volume
    assert "./grafana-insights-dashboard.json" in " ".join(services["grafana"]["volumes"])


def test_compose_scrape_config_follows_deploy_prometheus():
    with open(os.path.join(DEPLOY, "prometheus.yml")) as f:
        (base,) = yaml.safe_load(f)["scrape_configs"]
    with open(os.path.join(DEPLOY, "compose", "prometheus.yml")) as f:
        (job,) = yaml.safe_load(f)["scrape_configs"]
    for key in ("job_name", "scrape_interval", "metrics_path"):
        assert job[key] == base[key], key
    assert job["static_configs"][0]["targets"] == ["insights-1:8000", "insights-2:8000"]


# ---------------------------------------------------------------------------
# systemd

UNIT = os.path.join(DEPLOY, "insights.service")


def test_unit_is_sandboxed_as_promised():
    with open(UNIT) as f:
        lines = {ln.strip() for ln in f if ln.strip() and not ln.startswith("#")}
    for want in ("DynamicUser=yes", "StateDirectory=insights", "ProtectSystem=strict",
                 "NoNewPrivileges=yes", "PrivateTmp=yes", "SystemCallFilter=@system-service",
                 "CapabilityBoundingSet="):
        assert want in lines, want


def exposure(unit):
    proc = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit],
                          capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    return float(m.group(1)), m.group(2)


def test_unit_security_exposure_is_ok():
    level, verdict = exposure(UNIT)
    assert level <= 2.5 and verdict in ("OK", "SAFE"), (level, verdict)


def test_exposure_check_can_fail(tmp_path):
    """Without its sandboxing the same unit is rated worse than 2.5."""
    with open(UNIT) as f:
        text = f.read()
    bare = text.split("DynamicUser=yes")[0] + "\n[Install]\nWantedBy=multi-user.target\n"
    path = tmp_path / "insights.service"
    path.write_text(bare)
    assert exposure(str(path))[0] > 2.5


def test_unit_verifies(tmp_path):
    assert os.access(BIN, os.X_OK), f"no binary at {BIN}"
    with open(UNIT) as f:
        text = f.read()
    assert "ExecStart=/usr/local/bin/insights serve" in text
    path = tmp_path / "insights.service"
    path.write_text(text.replace("/usr/local/bin/insights", os.path.abspath(BIN)))
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
