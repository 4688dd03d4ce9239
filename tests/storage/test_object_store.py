"""The desk's files in an S3-compatible object store (issue 15), through the doors people use:
the ticket page's photo upload and its permission-checked photo view, the finance sheets built
by the real Celery task and downloaded from the finance page and the API, the exchange list
signed and its tracking numbers uploaded, the order import's upload, preview and confirmation,
the deletes the desk makes, and a store that fails (stopped, bucket missing, credentials
missing): a clear message in the user's language and nothing half-written.

The store is moto's server on 127.0.0.1 (``tests/storage/conftest.py``); the local private
folder must stay empty throughout, so a file that went to the disk instead is caught.
"""

import io
import json
import os
import subprocess
import sys
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.storage import DeskS3Storage
from api.scopes import Scope
from finance_exports.builders import get_builder
from finance_exports.models import Sheet, SheetDownload
from finance_exports.services import sheet_build, sheet_files_clean
from finance_exports.tasks import build_sheet
from tests.api.conftest import ApiClient, issue
from tests.factories import make_order, make_ticket, make_user
from tests.finance_exports.helpers import queued_exchange, record
from tests.finance_exports.test_tracking_upload_saved import filled_in
from tests.tickets.export_files import (
    ITEM_HEADERS,
    ORDER_HEADERS_56,
    export_csv,
    item_row,
    order_row,
)
from tests.tickets.test_photos_privacy_replies import image_bytes
from tickets.models import Order, OrderImport, Ticket, TicketEvent, TicketPhoto
from tickets.roles import Role

from .conftest import PREFIX, free_port, s3_client

pytestmark = pytest.mark.django_db(transaction=False)

STORE_DOWN_ZH = "文件存储暂时无法访问，文件没有保存。"
STORE_DOWN_EN = "The file store cannot be reached just now; the file was not saved."
UNREADABLE_ZH = "文件存储暂时无法访问，现在无法读取这个文件。"
ROOT = Path(__file__).resolve().parents[2]
NO_1, NO_2 = "3515012345678901234", "3515012345678901235"


@pytest.fixture(autouse=True)
def sheet_tmp_dir(settings, tmp_path):
    settings.FINANCE_SHEET_TMP_DIR = tmp_path / "sheet-tmp"
    settings.FINANCE_SHEET_RETRY_SECONDS = 0
    return settings.FINANCE_SHEET_TMP_DIR


@pytest.fixture
def ticket(order_a, agent):
    return make_ticket(order_a, agent)


def local_files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def english(client) -> None:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


def upload_photos(client, ticket, *datas):
    files = [SimpleUploadedFile(f"IMG_{n}.jpg", d, "image/jpeg") for n, d in enumerate(datas)]
    return client.post(
        reverse("tickets:photo_upload", args=[ticket.pk]), {"photo": files}, follow=True
    )


def photo_url(photo):
    return reverse("tickets:photo_file", args=[photo.ticket_id, photo.pk])


# --- configuration ---------------------------------------------------------------------------
def test_the_store_is_private_and_has_no_url(s3_store):
    default_storage.exists("x")  # sets the lazy default storage up
    storage = default_storage._wrapped
    assert isinstance(storage, DeskS3Storage)
    assert (storage.default_acl, storage.file_overwrite, storage.location) == (None, False, "desk")
    with pytest.raises(ValueError):
        storage.url("photos/x.jpeg")
    name = default_storage.save("sheets/finance/probe.xlsx", ContentFile(b"PK probe"))
    grants = s3_store.client.get_object_acl(Bucket=s3_store.bucket, Key=PREFIX + name)["Grants"]
    # only the owner: no AllUsers / AuthenticatedUsers grant, so no public read
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert all("URI" not in g["Grantee"] for g in grants)
    # the same name again is a new file, never an overwrite
    second = default_storage.save("sheets/finance/probe.xlsx", ContentFile(b"PK other"))
    assert second != name
    assert s3_store.get(PREFIX + name) == b"PK probe"


def _settings_in_a_fresh_process(tmp_path, **env) -> dict:
    """STORAGES["default"] as ``aftersales.settings`` makes it from ``env`` (and nothing of
    S3 or AWS from this process), read in a process of its own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "AWS_"))}
    clean.update(DEBUG="1", VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="aftersales.settings")
    clean.update(env)
    code = (
        "import json; from django.conf import settings; d = settings.STORAGES['default']; "
        "o = dict(d.get('OPTIONS', {})); o.pop('client_config', None); "
        "print(json.dumps({'backend': d['BACKEND'], **{k: str(v) for k, v in o.items()}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


def test_make_runs_defaults_keep_the_files_in_the_local_folder(tmp_path):
    # nothing configured (make run): the local folder under VAR_DIR, no server
    default = _settings_in_a_fresh_process(tmp_path)
    assert default["backend"] == "django.core.files.storage.FileSystemStorage"
    assert default["location"] == str(tmp_path / "private")
    # S3_BUCKET set: the private S3 backend with the endpoint, region and prefix given
    s3 = _settings_in_a_fresh_process(
        tmp_path,
        S3_BUCKET="desk-files",
        S3_ENDPOINT_URL="https://oss-cn-hangzhou.aliyuncs.com",
        S3_PREFIX="/desk/",
    )
    assert s3["backend"] == "aftersales.storage.DeskS3Storage"
    assert (s3["bucket_name"], s3["endpoint_url"], s3["region_name"], s3["location"]) == (
        "desk-files",
        "https://oss-cn-hangzhou.aliyuncs.com",
        "us-east-1",
        "desk",
    )
    assert (s3["default_acl"], s3["file_overwrite"], s3["querystring_auth"]) == (
        "None",
        "False",
        "True",
    )


# --- photos ----------------------------------------------------------------------------------
def test_a_photo_uploaded_on_the_ticket_page_is_read_back_through_the_checked_view(
    client, agent, ticket, shop_b, finance, s3_store, private_files
):
    # given an agent on the ticket page
    client.force_login(agent)
    # when a photo is uploaded
    page = upload_photos(client, ticket, image_bytes("JPEG", size=(64, 48), exif=True))
    # then it is in the bucket, under the prefix and the buyer's ID, and not on the disk
    assert "已上传 1 张照片。" in page.content.decode()
    photo = TicketPhoto.objects.get()
    assert s3_store.keys() == [PREFIX + photo.file.name]
    assert photo.file.name.startswith("photos/")
    assert local_files(private_files) == []
    stored = s3_store.get(PREFIX + photo.file.name)
    assert b"PhoneMaker" not in stored  # re-encoded without EXIF before it was stored
    # and read back through the view that checks the user, as an attachment
    response = client.get(photo_url(photo))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    # another shop's agent gets a 404, a role without photos a 403; the store is never asked
    client.force_login(make_user("agent-b", Role.AGENT, shops=[shop_b]))
    assert client.get(photo_url(photo)).status_code == 404
    client.force_login(finance)
    assert client.get(photo_url(photo)).status_code in (403, 404)
    client.logout()
    assert client.get(photo_url(photo)).status_code == 302  # to the login page


def test_several_photos_are_stored_all_or_none_when_the_store_fails_half_way(
    client, agent, ticket, s3_store, monkeypatch
):
    # given a store that takes the first file and fails on the second
    saved = []
    original = DeskS3Storage._save

    def fails_second(storage, name, content):
        if saved:
            raise EndpointConnectionError(endpoint_url=s3_store.endpoint)
        saved.append(name)
        return original(storage, name, content)

    monkeypatch.setattr(DeskS3Storage, "_save", fails_second)
    client.force_login(agent)
    page = upload_photos(client, ticket, image_bytes(), image_bytes("PNG"))
    # then the upload is refused with the reason, and nothing of it is left anywhere
    assert STORE_DOWN_ZH in page.content.decode()
    assert len(saved) == 1
    assert not TicketPhoto.objects.exists()
    assert not ticket.events.filter(kind=TicketEvent.Kind.PHOTO).exists()
    assert s3_store.keys() == []  # the first file was taken back out


def test_a_stopped_store_refuses_the_upload_in_the_users_language(
    client, agent, ticket, s3_store, moto_server, settings, private_files
):
    # given the desk on a store of its own, which then stops
    s3_client(moto_server.url).create_bucket(Bucket=s3_store.bucket)
    s3_store.use(settings, endpoint=moto_server.url)
    moto_server.stop()
    client.force_login(agent)
    english(client)
    # when an agent working in English uploads a photo
    page = upload_photos(client, ticket, image_bytes())
    # then the page says so in English, and nothing is recorded
    assert page.status_code == 200
    assert STORE_DOWN_EN in page.content.decode()
    assert not TicketPhoto.objects.exists()
    assert not ticket.events.filter(kind=TicketEvent.Kind.PHOTO).exists()
    assert local_files(private_files) == []


def test_a_missing_bucket_refuses_the_upload_and_a_stored_photo_cannot_be_read(
    client, agent, ticket, s3_store, settings
):
    client.force_login(agent)
    upload_photos(client, ticket, image_bytes())
    photo = TicketPhoto.objects.get()
    # the bucket is gone (deleted by mistake, or the settings name another)
    s3_store.use(settings, bucket=f"no-such-bucket-{free_port()}")
    page = upload_photos(client, ticket, image_bytes())
    assert STORE_DOWN_ZH in page.content.decode()
    assert TicketPhoto.objects.count() == 1
    # a store that does not answer: the photo view says so (503), instead of a server error
    s3_store.use(settings, endpoint=f"http://127.0.0.1:{free_port()}")
    response = client.get(photo_url(photo))
    assert response.status_code == 503
    assert UNREADABLE_ZH in response.content.decode()
    # a photo whose file is not in the store is a 404
    s3_store.use(settings)
    s3_store.client.delete_object(Bucket=s3_store.bucket, Key=PREFIX + photo.file.name)
    assert client.get(photo_url(photo)).status_code == 404


def test_no_credentials_refuse_the_upload(client, agent, ticket, s3_store, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client.force_login(agent)
    page = upload_photos(client, ticket, image_bytes())
    assert STORE_DOWN_ZH in page.content.decode()
    assert not TicketPhoto.objects.exists()


# --- finance sheets --------------------------------------------------------------------------
def _yesterday_with_money(agent, order, monkeypatch):
    """Yesterday's finance sheet is due; an entry recorded yesterday morning goes on it."""
    day = timezone.localdate() - timedelta(days=1)
    morning = timezone.make_aware(datetime.combine(day, time(10)))
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: morning)
        record(agent, order, "12.50")
    return day


def test_a_sheet_built_by_the_task_is_stored_once_and_downloaded_through_its_views(
    client, agent, finance, root_user, order_a, s3_store, private_files, monkeypatch, sheet_tmp_dir
):
    day = _yesterday_with_money(agent, order_a, monkeypatch)
    # when the worker's task builds it (the task carries the kind and the date, no path)
    result = build_sheet.apply(args=("finance", day.isoformat()))
    # then it is ready, its one file in the bucket, nothing left on the disk
    sheet = Sheet.objects.get(pk=result.get())
    assert sheet.status == Sheet.Status.READY and sheet.row_count == 1
    assert s3_store.keys() == [PREFIX + sheet.file.name]
    assert local_files(private_files) == [] and local_files(sheet_tmp_dir) == []
    stored = s3_store.get(PREFIX + sheet.file.name)
    assert load_workbook(io.BytesIO(stored))["明细"].max_row == 2
    # built again: the same sheet and file
    assert build_sheet.apply(args=("finance", day.isoformat())).get() == sheet.pk
    assert s3_store.keys() == [PREFIX + sheet.file.name]
    # finance downloads it from the finance page, streamed, recorded
    client.force_login(finance)
    response = client.get(reverse("finance_exports:sheet_download", args=[sheet.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored
    assert response["Content-Disposition"].startswith("attachment")
    assert SheetDownload.objects.filter(sheet=sheet, user=finance).count() == 1
    # and through the API with a finance token of every shop
    token = issue(root_user, finance, [Scope.MONEY_READ], all_shops=True)
    api = ApiClient(token)
    answer = api.get(f"/api/v1/sheets/{sheet.pk}/file/")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == stored
    # an agent of one shop gets neither
    client.force_login(agent)
    assert client.get(reverse("finance_exports:sheet_download", args=[sheet.pk])).status_code in (
        403,
        404,
    )


def test_a_sheet_whose_store_is_down_fails_with_the_reason_and_is_retried(
    client,
    agent,
    supervisor,
    order_a,
    s3_store,
    settings,
    monkeypatch,
    sheet_tmp_dir,
    django_capture_on_commit_callbacks,
):
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 2
    day = _yesterday_with_money(agent, order_a, monkeypatch)
    up = settings.STORAGES
    s3_store.use(settings, endpoint=f"http://127.0.0.1:{free_port()}")  # nobody answers
    # the task tries, retries (in place here) and marks the sheet failed with the reason
    build_sheet.apply(args=("finance", day.isoformat()))
    sheet = Sheet.objects.get()
    assert (sheet.status, sheet.attempts) == (Sheet.Status.FAILED, 2)
    assert "报表文件没有存入文件存储" in sheet.error
    assert "EndpointConnectionError" in sheet.error
    assert not sheet.file and s3_store.keys() == []
    assert [p for p in sheet_tmp_dir.rglob("*") if p.is_file()] == []  # temporary file gone
    # the finance page shows why
    client.force_login(supervisor)
    page = client.get(reverse("finance_exports:sheet_detail", args=[sheet.pk])).content.decode()
    assert "报表文件没有存入文件存储" in page
    # the store is back: the supervisor's rebuild builds it, once
    settings.STORAGES = up
    monkeypatch.setattr(
        build_sheet, "apply_async", lambda args=(), kwargs=None, **_: build_sheet.apply(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("finance_exports:sheet_rebuild", args=[sheet.pk]))
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.READY
    assert s3_store.keys() == [PREFIX + sheet.file.name]


def test_a_sheet_missing_from_the_store_or_a_store_down_is_no_download(
    client, finance, agent, order_a, s3_store, settings, root_user
):
    record(agent, order_a, "3.00")
    day = timezone.localdate() + timedelta(days=1)
    sheet = sheet_build(
        kind="finance",
        business_date=day,
        now=get_builder("finance").cutoff(day) + timedelta(minutes=1),
    )
    client.force_login(finance)
    api = ApiClient(issue(root_user, finance, [Scope.MONEY_READ], all_shops=True))
    url = reverse("finance_exports:sheet_download", args=[sheet.pk])
    # the store does not answer: a page that says so (503), and no download recorded
    s3_store.use(settings, endpoint=f"http://127.0.0.1:{free_port()}")
    response = client.get(url)
    assert response.status_code == 503
    assert UNREADABLE_ZH in response.content.decode()
    answer = api.get(f"/api/v1/sheets/{sheet.pk}/file/")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "unavailable"
    assert not SheetDownload.objects.exists()
    # the file is gone from the bucket: 404, nothing recorded
    s3_store.use(settings)
    s3_store.client.delete_object(Bucket=s3_store.bucket, Key=PREFIX + sheet.file.name)
    assert client.get(url).status_code == 404
    assert api.get(f"/api/v1/sheets/{sheet.pk}/file/").status_code == 404
    assert not SheetDownload.objects.exists()


def test_the_exchange_list_signed_and_shipped_from_its_uploaded_file(
    client, agent, supervisor, shop_a, s3_store, private_files, django_capture_on_commit_callbacks
):
    # given an exchange list built into the store
    tickets = [
        queued_exchange(agent, make_order(shop_a, items=((Decimal("199.00"), 1),)))
        for _ in range(2)
    ]
    day = timezone.localdate() + timedelta(days=2)
    sheet = sheet_build(
        kind=Sheet.Kind.EXCHANGES,
        business_date=day,
        now=get_builder("exchanges").cutoff(day) + timedelta(minutes=1),
    )
    unsigned = sheet.file.name
    assert s3_store.keys() == [PREFIX + unsigned]
    # when the supervisor signs it on its page (the file is rewritten saying who signed)
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("finance_exports:exchange_approve", args=[sheet.pk]))
    sheet.refresh_from_db()
    assert sheet.status == Sheet.Status.APPROVED
    # then the signed file replaced the unsigned one in the store: the old one is deleted
    assert s3_store.keys() == [PREFIX + sheet.file.name] and sheet.file.name != unsigned
    # and the warehouse's copy with the tracking numbers, uploaded on the page, ships them
    data = filled_in(sheet, {tickets[0].number: "SF1000000001", tickets[1].number: "YT2000000002"})
    page = client.post(
        reverse("finance_exports:exchange_tracking_upload", args=[sheet.pk]),
        {"file": SimpleUploadedFile("换货清单.xlsx", data)},
        follow=True,
    ).content.decode()
    assert "已登记发货 2 单" in page
    assert {t.status for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets])} == {
        Ticket.Status.CLOSED
    }
    assert local_files(private_files) == []


def test_clean_up_deletes_orphaned_sheet_files_in_the_store_and_keeps_the_rest(
    agent, order_a, s3_store, settings
):
    settings.FINANCE_SHEET_TMP_MAX_AGE_HOURS = 1
    record(agent, order_a, "3.00")
    day = timezone.localdate() + timedelta(days=1)
    sheet = sheet_build(
        kind="finance",
        business_date=day,
        now=get_builder("finance").cutoff(day) + timedelta(minutes=1),
    )
    orphan = default_storage.save("sheets/finance/finance-20261101-dead.xlsx", ContentFile(b"x"))
    assert sheet_files_clean() == 0  # nothing old enough yet
    assert sheet_files_clean(now=timezone.now() + timedelta(hours=2)) == 1
    assert s3_store.keys() == [PREFIX + sheet.file.name]  # the orphan is gone
    assert orphan != sheet.file.name


# --- the order import ------------------------------------------------------------------------
def import_files():
    return {
        "orders_file": SimpleUploadedFile(
            "ExportOrderList.csv",
            export_csv(ORDER_HEADERS_56, [order_row(NO_1), order_row(NO_2)]),
            content_type="text/csv",
        ),
        "items_file": SimpleUploadedFile(
            "ExportOrderDetailList.csv",
            export_csv(ITEM_HEADERS, [item_row(NO_1), item_row(NO_2)], encoding="utf-8-sig"),
            content_type="text/csv",
        ),
    }


def test_an_import_file_is_kept_in_the_store_until_it_is_imported(
    client, agent, shop_a, s3_store, private_files, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    # the upload keeps both files in the store and previews them from there
    response = client.post(reverse("imports:home"), {"shop": shop_a.pk, **import_files()})
    assert response.status_code == 302
    batch = OrderImport.objects.get()
    assert batch.status == OrderImport.Status.PREVIEWED
    names = sorted(PREFIX + f.file.name for f in batch.files.all())
    assert s3_store.keys() == names and all(n.startswith(PREFIX + "imports/") for n in names)
    assert local_files(private_files) == []
    assert not Order.objects.exists()
    # confirming imports the orders and deletes the files from the store
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == OrderImport.Status.APPLIED
    assert Order.objects.count() == 2
    assert s3_store.keys() == []
    assert all(not f.file for f in batch.files.all())


def test_a_confirmation_while_the_store_is_down_imports_nothing_and_can_be_repeated(
    client, agent, shop_a, s3_store, settings, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    client.post(reverse("imports:home"), {"shop": shop_a.pk, **import_files()})
    batch = OrderImport.objects.get()
    s3_store.use(settings, endpoint=f"http://127.0.0.1:{free_port()}")
    page = client.post(reverse("imports:apply", args=[batch.pk]), follow=True).content.decode()
    assert UNREADABLE_ZH in page
    batch.refresh_from_db()
    assert batch.status == OrderImport.Status.PREVIEWED and not Order.objects.exists()
    # the store is back: the same confirmation imports
    s3_store.use(settings)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == OrderImport.Status.APPLIED and Order.objects.count() == 2
    assert s3_store.keys() == []


def test_an_import_upload_to_a_missing_bucket_records_nothing(
    client, agent, shop_a, s3_store, settings, private_files
):
    s3_store.use(settings, bucket=f"no-such-bucket-{free_port()}")
    client.force_login(agent)
    page = client.post(
        reverse("imports:home"), {"shop": shop_a.pk, **import_files()}, follow=True
    ).content.decode()
    assert STORE_DOWN_ZH in page
    assert not OrderImport.objects.exists()
    assert s3_store.keys() == [] and local_files(private_files) == []


def test_import_files_the_store_could_not_delete_are_deleted_later(
    client, agent, shop_a, s3_store, settings, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    client.post(reverse("imports:home"), {"shop": shop_a.pk, **import_files()})
    batch = OrderImport.objects.get()
    kept = s3_store.keys()
    # the store goes away right after the orders are imported: the files cannot be deleted
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("imports:apply", args=[batch.pk]))
    s3_store.use(settings, endpoint=f"http://127.0.0.1:{free_port()}")
    for callback in callbacks:
        callback()  # never fails the confirmation that already happened
    batch.refresh_from_db()
    assert batch.status == OrderImport.Status.APPLIED
    assert s3_store.keys() == kept and all(f.file for f in batch.files.all())
    # the next upload (the store is back) purges them
    s3_store.use(settings)
    from tickets.imports.batches import order_import_purge_stale

    order_import_purge_stale()
    assert s3_store.keys() == []
    assert all(not f.file for f in batch.files.all())


# --- helpers ---------------------------------------------------------------------------------
@pytest.fixture
def root_user(db):
    return make_user("root", None, is_superuser=True, is_staff=True)
