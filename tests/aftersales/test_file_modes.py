"""Stored sheets, imports and photos are readable by the desk's own user only (issue 12, section
6): files 0600, folders 0700, whatever the process's umask, each made through its real door
(the sheet build, the import page, the ticket's photo upload)."""

import io
import os
import stat
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from finance_exports.models import Sheet
from finance_exports.services import sheet_build
from tests.factories import make_ticket
from tests.tickets.export_files import ORDER_HEADERS_56, export_csv, order_row
from tickets.models import OrderImport, TicketPhoto

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

DAY = date(2026, 11, 24)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    """A umask that would leave files readable by everyone: the modes must not depend on it."""
    old = os.umask(0o002)
    yield
    os.umask(old)


def assert_private(path: Path, root: Path) -> None:
    """``path`` is 0600 and every folder from it up to ``root`` (included) 0700."""
    assert mode(path) == 0o600, path
    folder = path.parent
    while True:
        assert mode(folder) == 0o700, folder
        if folder == root:
            break
        folder = folder.parent


def test_a_built_sheet_and_its_temporary_folder(settings, private_files, tmp_path):
    settings.FINANCE_SHEET_TMP_DIR = tmp_path / "var" / "tmp" / "sheets"
    now = timezone.make_aware(datetime.combine(DAY, time(16, 1)))
    sheet = sheet_build(kind=Sheet.Kind.FINANCE, business_date=DAY, now=now)
    assert sheet.status == Sheet.Status.READY
    assert_private(Path(sheet.file.path), private_files)
    assert mode(settings.FINANCE_SHEET_TMP_DIR) == 0o700
    assert not any(settings.FINANCE_SHEET_TMP_DIR.iterdir())


def test_an_uploaded_import_file(client, agent, shop_a, private_files):
    client.force_login(agent)
    data = export_csv(ORDER_HEADERS_56, [order_row("3515012345678901234")])
    response = client.post(
        reverse("imports:home"),
        {"shop": shop_a.pk, "orders_file": SimpleUploadedFile("ExportOrderList.csv", data)},
    )
    assert response.status_code == 302
    batch = OrderImport.objects.get()
    assert batch.status == OrderImport.Status.PREVIEWED
    [stored] = batch.files.all()
    assert_private(Path(stored.file.path), private_files)


def test_a_stored_photo(client, agent, order_a, private_files):
    ticket = make_ticket(order_a, agent)
    image = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(image, "JPEG")
    client.force_login(agent)
    client.post(
        reverse("tickets:photo_upload", args=[ticket.pk]),
        {"photo": SimpleUploadedFile("破损.jpg", image.getvalue(), content_type="image/jpeg")},
    )
    [photo] = TicketPhoto.objects.filter(ticket=ticket)
    assert_private(Path(photo.file.path), private_files)


def test_an_older_open_temporary_folder_is_narrowed(settings, private_files, tmp_path):
    # the temporary folder an older desk made, readable by everyone, is narrowed
    settings.FINANCE_SHEET_TMP_DIR = tmp_path / "old-tmp"
    settings.FINANCE_SHEET_TMP_DIR.mkdir()
    os.chmod(settings.FINANCE_SHEET_TMP_DIR, 0o755)  # noqa: S103 - the state being fixed
    now = timezone.make_aware(datetime.combine(DAY, time(16, 1))) + timedelta(days=1)
    sheet = sheet_build(kind=Sheet.Kind.FINANCE, business_date=DAY, now=now)
    assert mode(settings.FINANCE_SHEET_TMP_DIR) == 0o700
    assert mode(Path(sheet.file.path)) == 0o600


def test_the_var_folder_and_the_sqlite_file_are_the_desks_alone(tmp_path):
    # given: a VAR_DIR an older desk made readable by everyone, and a fresh one
    old = tmp_path / "old-var"
    old.mkdir(mode=0o755)
    old.chmod(0o755)
    (old / "celery").mkdir(mode=0o755)
    fresh = tmp_path / "fresh-var"
    for var in (old, fresh):
        # when: the desk starts on its embedded defaults (SQLite under VAR_DIR)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(VAR_DIR=str(var), DEBUG="1", DJANGO_SETTINGS_MODULE="aftersales.settings")
        script = (
            "import django; django.setup()\n"
            "from django.db import connection; connection.ensure_connection()"
        )
        subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=ROOT)
        # then: nobody else can enter the folder or read the database
        assert mode(var) == 0o700, var
        assert mode(var / "desk.sqlite3") == 0o600, var
