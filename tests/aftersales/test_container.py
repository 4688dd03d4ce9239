"""The container image and the compose file (issue 15): one image runs each of the Procfile's
processes, the compose file runs two web nodes, two workers and exactly one beat against
PostgreSQL and Redis, with health checks on the desk's probes. No container engine runs on
the CI machine (.ci/run builds the image when one does); these tests read the files."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_the_image_is_slim_python_non_root_pinned_with_static_files_built_in():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    # the runtime dependencies at the pinned versions, never the dev extras (test runner,
    # moto, the browser driver) nor the whole lock, which pins both
    assert "pip install -c requirements.lock ." in dockerfile
    assert "-r requirements.lock" not in dockerfile
    assert "[dev]" not in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["/app/docker-entrypoint.sh"]' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git", ".env"} <= set(ignored)


def test_the_images_static_files_live_outside_var_dir(tmp_path):
    # a volume on VAR_DIR (the compose file's, a deployment's) must not hide the manifest
    env = dict(re.findall(r"^\s+(\w+)=(\S+?)\s*\\?$", (ROOT / "Dockerfile").read_text(), re.M))
    static_root, var_dir = Path(env["STATIC_ROOT"]), Path(env["VAR_DIR"])
    assert var_dir not in static_root.parents and static_root != var_dir
    # and the settings read it (a checkout keeps VAR_DIR/staticfiles)
    code = "from django.conf import settings as s; print(s.STATIC_ROOT)"
    base = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "aftersales.settings"}
    base["VAR_DIR"] = str(tmp_path)
    for extra, expected in (
        ({"STATIC_ROOT": str(tmp_path / "static-out")}, tmp_path / "static-out"),
        ({}, tmp_path / "staticfiles"),
    ):
        environment = {k: v for k, v in base.items() if k != "STATIC_ROOT"} | extra
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert Path(out.stdout.strip()) == expected


def test_collecting_the_static_files_leaves_the_images_var_dir_empty(tmp_path):
    """The Dockerfile's collectstatic step, run as the build runs it (its RUN line, with the
    image's VAR_DIR and STATIC_ROOT pointed at folders here): the manifest is built, and the
    image's VAR_DIR holds nothing - no empty desk.sqlite3 or cache/ that loading the settings
    makes."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (step,) = [line for line in dockerfile.splitlines() if "collectstatic" in line]
    assert step.startswith("RUN ")
    var_dir, static_root = tmp_path / "var", tmp_path / "static"
    var_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        VAR_DIR=str(var_dir),
        STATIC_ROOT=str(static_root),
        DJANGO_SETTINGS_MODULE="aftersales.settings",
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    subprocess.run(["sh", "-c", step[4:]], env=env, cwd=ROOT, check=True, capture_output=True)
    assert (static_root / "staticfiles.json").exists()
    assert list(var_dir.iterdir()) == []


def test_the_optional_s3_servers_images_are_pinned_to_a_release():
    services = _compose()["services"]
    for name in ("minio", "minio-bucket"):
        image = services[name]["image"]
        assert re.fullmatch(r"minio/(minio|mc):RELEASE\.\d{4}-\d\d-\d\dT[\d-]+Z", image), image
    # every other image outside the desk's own names its version too
    for name, service in services.items():
        image = service.get("image", "")
        assert image == "aftersales-desk" or ":" in image, name


def test_the_entrypoint_runs_each_procfile_process_by_its_own_line(tmp_path):
    entrypoint = (ROOT / "docker-entrypoint.sh").read_text()
    case = re.search(r"^\s*([\w|]+)\)\n\s*line=\$\(sed", entrypoint, re.MULTILINE).group(1)
    assert set(case.split("|")) == set(_procfile())
    # the line it runs is the Procfile's, read with the same sed expression
    for name, command in _procfile().items():
        read = subprocess.run(
            ["sed", "-n", f"s/^{name}: //p", str(ROOT / "Procfile")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert read == command


def test_compose_runs_two_web_nodes_two_workers_and_exactly_one_beat():
    services = _compose()["services"]
    desk = {name: s for name, s in services.items() if s.get("image") == "aftersales-desk"}
    commands = {name: s["command"][0] for name, s in desk.items()}
    assert sorted(n for n, c in commands.items() if c == "web") == ["web-1", "web-2"]
    assert sorted(n for n, c in commands.items() if c == "worker") == ["worker-1", "worker-2"]
    assert [n for n, c in commands.items() if c == "beat"] == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    # every command is a Procfile process or the deploy's migration
    assert set(commands.values()) <= set(_procfile()) | {"migrate"}
    assert {"postgres", "redis"} <= set(services)
    for name, service in desk.items():
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {
                "condition": "service_completed_successfully"
            }


def test_the_health_checks_ask_each_process_about_itself():
    services = _compose()["services"]
    # the web nodes: their readiness probe (answered whatever the Host: the container asks
    # 127.0.0.1, which need not be in ALLOWED_HOSTS)
    for name in ("web-1", "web-2"):
        check = " ".join(services[name]["healthcheck"]["test"])
        url = re.search(r"http://[\w.-]+:8000(/\w+(?:/\w+)?)", check).group(1)
        assert url == "/readyz"
        assert resolve(url).url_name == "readyz"
    # a worker: itself, by its node name through the broker, not a web node's view of all
    for name in ("worker-1", "worker-2"):
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD-SHELL"
        assert "celery -A aftersales inspect ping" in test[1]
        assert "-d celery@$$HOSTNAME" in test[1]
    # beat: its own heartbeat, read by the command that applies /healthz's rule
    assert services["beat"]["healthcheck"]["test"][1:] == [
        "python",
        "manage.py",
        "heartbeat_check",
        "beat",
    ]


def test_behind_the_proxy_the_clients_address_is_read_from_it():
    env = _compose()["x-desk"]["environment"]
    # TRUSTED_PROXIES > 0 (it turns BEHIND_PROXY on); BEHIND_PROXY alone would count every
    # client at the proxy's address (the desk warns about that at start-up)
    trusted = re.fullmatch(r"\$\{TRUSTED_PROXIES:-(\d+)\}", str(env["TRUSTED_PROXIES"]))
    assert trusted and int(trusted.group(1)) >= 1
    assert env.get("BEHIND_PROXY", "1") != "0"


def _host_ip(port) -> str | None:
    """The address a compose port is published on: the short syntax's ``HOST_IP:`` (in
    ``[HOST_IP:]HOST_PORT:CONTAINER_PORT``) or the long syntax's ``host_ip``; None for every
    interface."""
    if isinstance(port, dict):
        return port.get("host_ip")
    parts = str(port).rsplit(":", 2)
    return parts[0] if len(parts) == 3 else None


def test_a_node_that_trusts_the_proxy_is_published_for_the_proxy_alone():
    """With TRUSTED_PROXIES the desk believes X-Forwarded-For: a web port published on every
    interface lets anyone write the address the login lockout counts. Each published port of
    a desk process is bound to 127.0.0.1 (the proxy on the host reaches it)."""
    services = _compose()["services"]
    desk = {name: s for name, s in services.items() if s.get("image") == "aftersales-desk"}
    published = {name: s["ports"] for name, s in desk.items() if s.get("ports")}
    assert set(published) == {"web-1", "web-2"}
    for name, ports in published.items():
        for port in ports:
            assert _host_ip(port) == "127.0.0.1", (name, port)
    # what the check refuses: the compose file before this review, and its other spellings
    for port in ("8001:8000", "0.0.0.0:8001:8000", {"target": 8000, "published": 8001}):
        assert _host_ip(port) != "127.0.0.1", port


def test_compose_passes_every_variable_the_object_store_needs():
    """Each S3_* variable the settings read, and the credentials, reach every desk process
    as the caller set them; the MinIO profile has credentials and makes its bucket."""
    compose = _compose()
    env = compose["x-desk"]["environment"]
    settings_source = (ROOT / "aftersales" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|int)\(\s*"(S3_[A-Z_]+)"', settings_source))
    assert {"S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ADDRESSING_STYLE"} <= read
    for name in sorted(read | {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}):
        assert name in env, name
        assert str(env[name]).startswith("${" + name + ":-"), name
    services = compose["services"]
    for name, service in services.items():
        if service.get("image") == "aftersales-desk":
            assert service["environment"] == env, name
    minio = services["minio"]
    assert minio["profiles"] == ["s3"]
    assert {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"} <= set(minio["environment"])
    bucket = services["minio-bucket"]
    assert bucket["profiles"] == ["s3"]
    assert "mc mb --ignore-existing" in " ".join(bucket["command"])
    assert services["web-1"]["depends_on"]["minio-bucket"] == {
        "condition": "service_completed_successfully",
        "required": False,
    }
    # the header says how to point the desk at it
    assert "S3_ENDPOINT_URL=http://minio:9000" in (ROOT / "compose.yaml").read_text()
