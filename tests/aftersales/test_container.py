"""The container image and the compose file (issue 15): one image runs each of the Procfile's
processes, the compose file runs two web nodes, two workers and exactly one beat against
PostgreSQL and Redis, with health checks on the desk's probes. No container engine runs on
the CI machine (.ci/run builds the image when one does); these tests read the files."""

import re
import subprocess
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
    assert "pip install -r requirements.lock" in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["/app/docker-entrypoint.sh"]' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)


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


def test_the_health_checks_ask_the_desks_probes():
    services = _compose()["services"]
    for name in ("web-1", "web-2", "worker-1", "worker-2", "beat"):
        check = " ".join(services[name]["healthcheck"]["test"])
        url = re.search(r"http://[\w.-]+:8000(/\w+(?:/\w+)?)", check).group(1)
        assert url in {"/healthz", "/healthz/web", "/readyz"}, name
        assert resolve(url).url_name in {"healthz", "healthz_web", "readyz"}
    assert "/readyz" in " ".join(services["web-1"]["healthcheck"]["test"])
