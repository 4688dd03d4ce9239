"""The desk spread over four "machines": ``desk_cluster`` (see harness.py for the pieces).

It needs what a multi-machine desk needs: PostgreSQL and Redis (``DATABASE_URL``,
``REDIS_URL``), and the S3 server (moto's, started here on 127.0.0.1). On SQLite or the
filesystem broker the test is skipped, saying why. Its nodes use a database of their own,
``<the test database's name>_multinode``, created, migrated and loaded with a small demo here
and dropped afterwards (pytest-django's transaction-wrapped database is invisible to other
processes), and the Redis database of ``REDIS_URL``, emptied before and after.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import warnings
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.utils import timezone

from .harness import BASE_DIR, VENV_BIN, Gate, Network, Node, Relay, free_port, log_tail, wait_for

NODES = ["web1", "web2", "worker1", "worker2"]
BUCKET = "desk-multinode"
# A killed worker's task goes back to the queue this long after it was taken (the settings'
# CELERY_VISIBILITY_TIMEOUT); long enough for the second worker to start before the kill.
VISIBILITY_SECONDS = 40


class MultinodeFallbackWarning(UserWarning):
    """The nodes ran as processes on 127.0.0.1, not in network namespaces."""


def _require_servers() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        pytest.skip(
            "the multi-node test needs PostgreSQL and Redis shared by its nodes "
            "(DATABASE_URL=postgres://..., REDIS_URL=redis://...); SQLite and the filesystem "
            "broker live on one machine's disk"
        )
    return database_url, redis_url


def _with_host(url: str, host: str, port: int) -> str:
    """``url`` with its host and port replaced (user, password, path kept)."""
    parts = urlsplit(url)
    user = ""
    if parts.username:
        user = parts.username + (f":{parts.password}" if parts.password else "") + "@"
    return urlunsplit(parts._replace(netloc=f"{user}{host}:{port}"))


def _psql_admin(database_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(_with_host_db(database_url, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


def _with_host_db(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _manage(env: dict, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stderr[-3000:]}"


class Cluster:
    """The running desk: ``nodes`` by name, ``network``, the S3 ``gates`` of each node,
    ``database_url`` (the host's view of the nodes' database), ``bucket``/``s3`` for
    looking into the object store, ``demo_today`` (the demo's last day)."""

    def __init__(self, tmp_path, database_url, redis_url):
        self.tmp_path = tmp_path
        self.nodes: dict[str, Node] = {}
        self.gates: dict[str, Gate] = {name: Gate() for name in NODES}
        self.relay = Relay()
        self.network: Network | None = None
        self.moto = None
        base_name = urlsplit(database_url).path.lstrip("/") or "aftersales"
        self.database_name = f"{base_name}_multinode"
        self.admin_url = database_url
        self.database_url = _with_host_db(database_url, self.database_name)
        self.redis_url = redis_url
        self.secret_key = secrets.token_urlsafe(40)
        self.password = "multinode-" + secrets.token_hex(6)
        self.demo_today = (timezone.localdate() - timedelta(days=1)).isoformat()

    # -- services --------------------------------------------------------------------------
    def start_object_store(self) -> None:
        from moto.server import ThreadedMotoServer

        port = free_port()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.moto.start()
        self.s3_endpoint = ("127.0.0.1", port)
        self.s3_credentials = {"AWS_ACCESS_KEY_ID": "multinode", "AWS_SECRET_ACCESS_KEY": "x" * 20}
        self.s3 = self._s3_client()
        self.s3.create_bucket(Bucket=BUCKET)

    def _s3_client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://{self.s3_endpoint[0]}:{self.s3_endpoint[1]}",
            region_name="us-east-1",
            aws_access_key_id=self.s3_credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.s3_credentials["AWS_SECRET_ACCESS_KEY"],
        )

    def bucket_keys(self) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def create_database(self) -> None:
        _psql_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
        _psql_admin(self.admin_url, f'CREATE DATABASE "{self.database_name}"')
        env = self._base_env(self.tmp_path / "host")
        env["DATABASE_URL"] = self.database_url
        env["REDIS_URL"] = self.redis_url
        _manage(env, "migrate", "--no-input", "-v0")
        # The demo ends at 15:30 yesterday: yesterday's 16:00 finance sheet is due and not built.
        _manage(env, "seed_demo", "--orders", "120", "--days", "3", "--today", self.demo_today)

    def flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    # -- nodes -----------------------------------------------------------------------------
    def _base_env(self, var_dir) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_", "REDIS_", "S3_", "AWS_", "CELERY_", "PYTEST"))
            and key not in {"VAR_DIR", "DJANGO_SETTINGS_MODULE"}
        }
        var_dir.mkdir(parents=True, exist_ok=True)
        env.update(
            PATH=f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            DEBUG="1",
            SECRET_KEY=self.secret_key,
            VAR_DIR=str(var_dir),
            DEMO_PASSWORD=self.password,
            PYTHONUNBUFFERED="1",
            # gunicorn's control socket lives under ~/.gunicorn: one per machine
            HOME=str(var_dir.parent),
        )
        return env

    def add_node(self, name: str, kind: str) -> Node:
        link = self.network.links[name]
        to_host = link.host_address
        var_dir = self.tmp_path / name / "var"
        env = self._base_env(var_dir)
        pg = urlsplit(self.admin_url)
        pg_port = self.relay.forward(to_host, (pg.hostname, pg.port or 5432))
        rd = urlsplit(self.redis_url)
        redis_port = self.relay.forward(to_host, (rd.hostname, rd.port or 6379))
        s3_port = self.relay.forward(to_host, self.s3_endpoint, gate=self.gates[name])
        web_port = free_port() if self.network.fallback else 8000
        every_address = sorted({link.address for link in self.network.links.values()})
        env.update(
            DATABASE_URL=_with_host(self.database_url, to_host, pg_port),
            REDIS_URL=_with_host(self.redis_url, to_host, redis_port),
            S3_BUCKET=BUCKET,
            S3_ENDPOINT_URL=f"http://{to_host}:{s3_port}",
            S3_REGION="us-east-1",
            S3_PREFIX="desk/",
            **self.s3_credentials,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_SECONDS),
            CELERY_UNACKED_RESTORE_SECONDS="1",
            ALLOWED_HOSTS=",".join(every_address),
            BIND=f"{link.address}:{web_port}",
            WEB_CONCURRENCY="1",
            WORKER_CONCURRENCY="1",
        )
        node = Node(name, link, kind, env, var_dir, self.tmp_path / f"{name}.log")
        node.url = f"http://{link.address}:{web_port}"
        self.nodes[name] = node
        return node

    def start_web(self, name: str) -> Node:
        import requests

        node = self.add_node(name, "web")
        node.start()

        def answers():
            assert node.alive(), f"{name} stopped:\n{log_tail(node.log_text())}"
            try:
                return requests.get(f"{node.url}/login/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(answers, timeout=60, what=f"{name} to answer at {node.url}")
        return node

    def start_worker(self, name: str) -> Node:
        node = self.add_node(name, "worker")
        node.start()
        return node

    def wait_worker_ready(self, node: Node) -> None:
        def ready():
            assert node.alive(), f"{node.name} stopped:\n{log_tail(node.log_text())}"
            return " ready." in node.log_text()

        wait_for(ready, timeout=60, what=f"{node.name} to be ready")

    def logs(self) -> str:
        return "\n".join(
            f"--- {node.describe()} ---\n{log_tail(node.log_text())}"
            for node in self.nodes.values()
        )

    def close(self) -> None:
        for node in self.nodes.values():
            node.kill()
        for gate in self.gates.values():
            gate.open()
        self.relay.close()
        if self.network is not None:
            self.network.close()
        if self.moto is not None:
            self.moto.stop()


@pytest.fixture
def desk_cluster(tmp_path, request):
    """Two web nodes started (web1, web2: the Procfile's ``web``), the workers left to the
    test (``start_worker``), each node in its own network namespace with its own empty
    VAR_DIR, sharing PostgreSQL, Redis and the S3 server through the host. Everything is
    stopped and removed afterwards, also when the test fails (its nodes' logs are printed)."""
    database_url, redis_url = _require_servers()
    cluster = Cluster(tmp_path, database_url, redis_url)
    try:
        # MULTINODE_NAMESPACES=0 runs the fallback on a machine that has namespaces too.
        cluster.network = Network(
            NODES, allow_namespaces=os.environ.get("MULTINODE_NAMESPACES", "1") != "0"
        )
        if cluster.network.fallback:
            message = (
                "multi-node test WITHOUT network namespaces "
                f"({cluster.network.fallback_reason}): the nodes run as separate processes on "
                "127.0.0.1 with their own ports and folders"
            )
            print(message)
            warnings.warn(MultinodeFallbackWarning(message), stacklevel=1)
        cluster.flush_redis()
        cluster.start_object_store()
        cluster.create_database()
        cluster.start_web("web1")
        cluster.start_web("web2")
        yield cluster
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            print(cluster.logs())
        cluster.close()
        try:
            cluster.flush_redis()
        finally:
            _psql_admin(
                cluster.admin_url, f'DROP DATABASE IF EXISTS "{cluster.database_name}" WITH (FORCE)'
            )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
