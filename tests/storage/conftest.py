"""The S3-compatible server the storage tests run against (issue 15): moto's, started here in
the test process on 127.0.0.1 and a free port, so the tests run in CI on both databases with
no service of their own. Aliyun OSS and Tencent COS speak the same protocol.

``moto_endpoint`` is the session's server (its URL); ``s3_store`` points the desk's default
storage at a fresh bucket on it for one test, through the settings' own ``s3_storage`` (the
same options ``S3_BUCKET`` gives a deployment) with the prefix ``desk/``; ``moto_server``
starts another server a test may stop (the store going away).
"""

import contextlib
import itertools
import socket
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

from aftersales.settings import s3_storage

REGION = "us-east-1"
PREFIX = "desk/"
_buckets = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class MotoServer:
    server: ThreadedMotoServer
    url: str

    def stop(self) -> None:
        self.server.stop()


def start_moto() -> MotoServer:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return MotoServer(server, f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def moto_endpoint():
    """The session's S3 server: its URL."""
    moto = start_moto()
    yield moto.url
    moto.stop()


@pytest.fixture
def moto_server():
    """A server of the test's own, for a test that stops it."""
    moto = start_moto()
    yield moto
    with contextlib.suppress(Exception):  # already stopped by the test
        moto.stop()


@pytest.fixture
def s3_credentials(monkeypatch):
    """The credentials boto3 reads from the environment, as in a deployment (moto takes any);
    and no proxy between the desk and 127.0.0.1."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "desk-tests")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "desk-tests-secret")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


@dataclass
class S3Store:
    """The bucket the desk's default storage writes to in this test, read from outside."""

    client: object
    bucket: str
    endpoint: str

    def keys(self) -> list[str]:
        answer = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def use(self, settings, *, bucket: str | None = None, endpoint: str | None = None) -> None:
        """Points the default storage at ``bucket`` on ``endpoint`` (default: this store)."""
        storages = {**settings.STORAGES}
        storages["default"] = s3_storage(
            bucket=bucket or self.bucket,
            endpoint_url=endpoint or self.endpoint,
            region=REGION,
            prefix=PREFIX,
        )
        settings.STORAGES = storages


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="desk-tests",
        aws_secret_access_key="desk-tests-secret",
    )


@pytest.fixture
def s3_store(settings, moto_endpoint, s3_credentials, private_files):
    """The desk's default storage in a fresh bucket on the session's S3 server, for one test;
    the local private folder (``private_files``) stays empty."""
    client = s3_client(moto_endpoint)
    bucket = f"desk-{next(_buckets)}-{free_port()}"
    client.create_bucket(Bucket=bucket)
    store = S3Store(client, bucket, moto_endpoint)
    store.use(settings)
    return store
