"""The object store as a reviewer found it wanting (issue 15 review): the health check fails
for a bucket that does not exist; photo keys and the log lines about them carry no buyer's
nickname; the nightly clean-up deletes photo files no photo row names. Against moto's S3
server (``tests/storage/conftest.py``)."""

import logging
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from aftersales.storage import store_delete
from finance_exports.tasks import clean_sheet_tmp_dir
from tests.factories import make_ticket
from tests.tickets.test_photos_privacy_replies import image_bytes
from tickets.models import TicketPhoto
from tickets.models.tickets import photo_buyer_folder
from tickets.services.photos import photo_add, photo_files_clean

from .conftest import PREFIX, free_port
from .test_object_store import upload_photos

pytestmark = pytest.mark.django_db

NICK = "小鱼爱吃猫"  # tests.factories.make_order's buyer


@pytest.fixture
def ticket(order_a, agent):
    return make_ticket(order_a, agent)


@pytest.fixture(autouse=True)
def own_probe(monkeypatch):
    """Each test asks the store through a probe thread of its own."""
    from tickets.views import system

    monkeypatch.setattr(system, "_running", {})


def test_a_bucket_that_does_not_exist_takes_the_node_out(client, s3_store, settings, monkeypatch):
    from tickets.views import system

    # the bucket is there: healthy. The probe's first call builds the storage's client
    # (botocore reads its service models: over the 2 s bound on a loaded CI machine), so
    # this one answer is given time; the refusals below come from the store, not the clock.
    monkeypatch.setattr(system, "PROBE_TIMEOUT_SECONDS", 30)
    assert client.get("/healthz/web").json()["storage"] == "ok"
    # given: the settings name a bucket the store does not have (deleted, or a typo)
    s3_store.use(settings, bucket=f"no-such-bucket-{free_port()}")
    # then: every probe says the storage is unavailable (exists() would have said "no file")
    for path in ("/healthz/web", "/readyz", "/healthz"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.json()["storage"] == "unavailable", path
        assert "no-such-bucket" not in response.content.decode()


def test_credentials_the_store_refuses_take_the_node_out(client, s3_store, settings, monkeypatch):
    # moto refuses an access key it does not know once IAM is enforced; a missing key is the
    # same failure for the desk: nothing to sign with
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3_store.use(settings)  # a fresh storage, reading the credentials again
    assert client.get("/healthz/web").json()["storage"] == "unavailable"


def test_a_photo_key_and_its_log_lines_hold_no_nickname(
    client, agent, ticket, s3_store, settings, caplog
):
    # when: a photo is uploaded on the ticket page
    client.force_login(agent)
    upload_photos(client, ticket, image_bytes())
    photo = TicketPhoto.objects.get()
    # then: its key is filed under the buyer's folder, a hash, not the nickname
    folder = photo_buyer_folder(NICK)
    assert photo.file.name.startswith(f"photos/{folder}/{ticket.pk}/")
    assert NICK not in photo.file.name and s3_store.keys() == [PREFIX + photo.file.name]
    assert photo_buyer_folder(NICK) == folder != photo_buyer_folder("另一个买家")
    # and an old photo, filed under the nickname before, is still read back
    old = default_storage.save(f"photos/{NICK}20/{ticket.pk}/old.jpeg", ContentFile(b"old"))
    photo.file.name = old
    photo.save()
    assert b"".join(client.get(_url(photo)).streaming_content) == b"old"
    # when: the store fails while deleting it, and while reading it
    s3_store.use(settings, endpoint=f"http://127.0.0.1:{free_port()}")
    with caplog.at_level(logging.WARNING, logger="aftersales.storage"):
        assert store_delete(photo.file.storage, old) is False
        assert client.get(_url(photo)).status_code == 503
    # then: the lines name the file without the nickname
    lines = [r.getMessage() for r in caplog.records if r.name == "aftersales.storage"]
    assert lines == [
        f"deleting photos/*/{ticket.pk}/old.jpeg from the file store failed: "
        + "EndpointConnectionError",
        f"opening photos/*/{ticket.pk}/old.jpeg in the file store failed: "
        + "EndpointConnectionError",
    ]
    assert all(NICK not in line for line in lines)


def _url(photo):
    from django.urls import reverse

    return reverse("tickets:photo_file", args=[photo.ticket_id, photo.pk])


def test_the_nightly_clean_up_deletes_photo_files_no_row_names(
    agent, ticket, s3_store, settings, caplog
):
    # given: a photo with its row, and files a killed upload left (new and old folders)
    kept = photo_add(actor=agent, ticket=ticket, data=image_bytes()).file.name
    folder = f"photos/{photo_buyer_folder(NICK)}/{ticket.pk}"
    orphans = [
        default_storage.save(f"{folder}/dead.jpeg", ContentFile(b"x")),
        default_storage.save(f"photos/{NICK}/{ticket.pk}/dead.png", ContentFile(b"x")),
        default_storage.save(f"photos/{NICK}/9999/dead.webp", ContentFile(b"x")),
    ]
    assert sorted(s3_store.keys()) == sorted(PREFIX + n for n in [kept, *orphans])
    # then: nothing younger than a day goes (an upload may be committing its row)
    assert photo_files_clean() == 0
    assert clean_sheet_tmp_dir.apply().get() == 0
    # a day later the files no row names are deleted, the photo's own file kept
    assert photo_files_clean(now=timezone.now() + timedelta(days=1, minutes=1)) == 3
    assert s3_store.keys() == [PREFIX + kept]
    # a store that does not answer ends the walk with a warning, never a failed task
    s3_store.use(settings, endpoint=f"http://127.0.0.1:{free_port()}")
    with caplog.at_level(logging.WARNING):
        assert photo_files_clean(now=timezone.now() + timedelta(days=2)) == 0
    assert "cleaning up photo files stopped: EndpointConnectionError" in caplog.text


def test_the_clean_up_on_the_local_folder_too(agent, ticket, private_files):
    kept = photo_add(actor=agent, ticket=ticket, data=image_bytes()).file.name
    orphan = default_storage.save(f"photos/{NICK}/{ticket.pk}/dead.jpeg", ContentFile(b"x"))
    assert photo_files_clean(now=timezone.now() + timedelta(days=2)) == 1
    assert default_storage.exists(kept) and not default_storage.exists(orphan)


def test_the_stores_timeouts_keep_a_request_within_gunicorns_worker_timeout(monkeypatch):
    from aftersales.settings import s3_storage

    def config():
        options = s3_storage(bucket="b", endpoint_url=None, region="us-east-1", prefix="")
        return options["OPTIONS"]["client_config"]

    for name in ("S3_CONNECT_TIMEOUT_SECONDS", "S3_READ_TIMEOUT_SECONDS", "S3_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    default = config()
    assert (default.connect_timeout, default.read_timeout) == (5, 10)
    assert default.retries["max_attempts"] == 2
    # a stalled store: every attempt waits its read timeout; gunicorn kills a worker at 30 s
    assert default.retries["max_attempts"] * default.read_timeout < 30
    # each is the deployment's to change
    monkeypatch.setenv("S3_CONNECT_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("S3_READ_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv("S3_MAX_ATTEMPTS", "1")
    changed = config()
    assert (changed.connect_timeout, changed.read_timeout, changed.retries["max_attempts"]) == (
        3,
        7,
        1,
    )
