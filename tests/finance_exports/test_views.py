"""Finance's page as each role sees it: who may see, download, sign and rebuild."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from finance_exports.models import Sheet, SheetDownload
from finance_exports.services import exchange_list_approve, sheet_build, sheet_download_record
from tests.factories import make_order, make_user
from tickets.models import Order, Ticket
from tickets.roles import Role

from .helpers import queued_exchange, record

S = Ticket.Status


@pytest.fixture(autouse=True)
def midnight_cut_off(settings):
    settings.FINANCE_SHEET_TIMES = {"finance": (0, 0), "exchanges": (0, 0)}


def build(kind, days_ahead=1):
    from finance_exports.builders import get_builder

    day = timezone.localdate() + timedelta(days=days_ahead)
    return sheet_build(
        kind=kind, business_date=day, now=get_builder(kind).cutoff(day) + timedelta(minutes=1)
    )


@pytest.fixture
def finance_sheet(agent, order_a):
    record(agent, order_a, "12.00")
    return build("finance")


@pytest.fixture
def exchange_list(agent, shop_a):
    order = make_order(shop_a, status=Order.Status.SUCCESS, phone="13712345678")
    queued_exchange(agent, order)
    return build("exchanges")


def url(name, *args):
    return reverse(f"finance_exports:{name}", args=args)


def all_urls(sheet, line_pk=1):
    """Every URL of the app for ``sheet``, and the method it answers to."""
    return [
        ("get", url("sheet_list")),
        ("get", url("sheet_detail", sheet.pk)),
        ("get", url("sheet_download", sheet.pk)),
        ("post", url("sheet_rebuild", sheet.pk)),
        ("post", url("exchange_approve", sheet.pk)),
        ("post", url("exchange_line_remove", sheet.pk, line_pk)),
        ("post", url("exchange_line_ship", sheet.pk, line_pk)),
        ("post", url("exchange_tracking_upload", sheet.pk)),
    ]


# --- who may see what --------------------------------------------------------------------
def test_agents_get_none_of_it(client, agent, exchange_list):
    client.force_login(agent)
    line = exchange_list.exchange_lines.get()
    for method, path in all_urls(exchange_list, line.pk):
        response = getattr(client, method)(path, {"reason": "x", "tracking_no": "SF12345678"})
        assert response.status_code in (403, 404), path
    exchange_list.refresh_from_db()
    assert exchange_list.status == Sheet.Status.AWAITING_APPROVAL
    assert not SheetDownload.objects.exists()
    assert "财务报表" not in client.get(reverse("tickets:dashboard")).content.decode()


def test_staff_who_do_not_see_every_shop_do_not_see_the_sheets(client, shop_a, finance_sheet):
    local_boss = make_user("local-boss", Role.SUPERVISOR, shops=[shop_a])
    client.force_login(local_boss)
    assert client.get(url("sheet_detail", finance_sheet.pk)).status_code == 404
    assert client.get(url("sheet_download", finance_sheet.pk)).status_code == 404
    assert (
        finance_sheet.business_date.isoformat()
        not in client.get(url("sheet_list")).content.decode()
    )


def test_a_line_is_found_only_through_its_own_list(
    client, supervisor, agent, exchange_list, shop_a
):
    queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    other_list = build("exchanges", days_ahead=2)
    other_line = other_list.exchange_lines.get()
    client.force_login(supervisor)
    response = client.post(
        url("exchange_line_remove", exchange_list.pk, other_line.pk), {"reason": "不是这份清单的"}
    )
    assert response.status_code == 404
    other_line.refresh_from_db()
    assert other_line.is_active


def test_every_change_is_a_post(client, supervisor, exchange_list):
    client.force_login(supervisor)
    line = exchange_list.exchange_lines.get()
    for method, path in all_urls(exchange_list, line.pk):
        if method == "post":
            assert client.get(path).status_code == 405, path


def test_the_list_page_shows_status_counts_and_totals(
    client, finance, finance_sheet, exchange_list
):
    client.force_login(finance)
    response = client.get(url("sheet_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "财务报表" in html
    assert "¥12.00" in html
    assert "待主管签字" in html
    assert url("sheet_download", finance_sheet.pk) in html
    assert url("sheet_download", exchange_list.pk) in html
    assert response.context["counts"] == {"awaiting": 1, "failed": 0}


def test_the_list_page_filters_by_kind_status_and_month(
    client, finance, finance_sheet, exchange_list
):
    client.force_login(finance)
    only_finance = client.get(url("sheet_list"), {"kind": "finance"}).context["page"]
    assert list(only_finance) == [finance_sheet]
    awaiting = client.get(url("sheet_list"), {"status": "awaiting_approval"}).context["page"]
    assert list(awaiting) == [exchange_list]
    month = f"{finance_sheet.business_date:%Y-%m}"
    assert len(client.get(url("sheet_list"), {"month": month}).context["page"]) == 2
    # a bad filter is ignored, not an error page, and the valid ones beside it still filter
    assert client.get(url("sheet_list"), {"month": "yesterday"}).status_code == 200
    for bad in ("2026/11", f"{finance_sheet.business_date.year}-1"):
        page = client.get(url("sheet_list"), {"month": bad, "kind": "finance"})
        assert list(page.context["page"]) == [finance_sheet], bad
        assert "筛选条件有误" in page.content.decode()


def test_the_list_page_costs_the_same_queries_however_many_sheets(
    client, finance, agent, order_a, django_assert_max_num_queries, settings
):
    client.force_login(finance)
    record(agent, order_a, "1.00")
    build("finance", days_ahead=1)
    with django_assert_max_num_queries(20) as few:
        client.get(url("sheet_list"))
    for days in range(2, 25):
        build("finance", days_ahead=days)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("sheet_list"))


def test_the_exchange_list_page_masks_buyers_personal_data(client, supervisor, exchange_list):
    client.force_login(supervisor)
    html = client.get(url("sheet_detail", exchange_list.pk)).content.decode()
    assert "137****5678" in html
    assert not re.search(r"1\d{10}", html)
    assert "张三" not in html


# --- downloads ---------------------------------------------------------------------------
def test_finance_downloads_a_sheet_as_a_private_attachment_and_it_is_recorded(
    client, finance, finance_sheet
):
    client.force_login(finance)
    response = client.get(url("sheet_download", finance_sheet.pk))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] == b"PK\x03\x04"
    assert response["Content-Disposition"].startswith("attachment")
    assert "filename*=utf-8''" in response["Content-Disposition"]  # 财务表-YYYY-MM-DD.xlsx
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    download = SheetDownload.objects.get()
    assert (download.sheet, download.user) == (finance_sheet, finance)
    page = client.get(url("sheet_detail", finance_sheet.pk)).content.decode()
    assert str(finance) in page


def test_the_download_log_is_append_only_in_the_database(finance, finance_sheet):
    # the trigger comes from finance_exports' own migration (0004), not from tickets'
    download = sheet_download_record(actor=finance, sheet=finance_sheet)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE finance_exports_sheetdownload SET user_id = user_id WHERE id = %s",
            [download.pk],
        )
    assert SheetDownload.objects.get().pk == download.pk


def test_a_sheet_without_its_file_yet_is_not_downloadable(client, finance, db):
    sheet = Sheet.objects.create(kind="finance", business_date=timezone.localdate())
    client.force_login(finance)
    assert client.get(url("sheet_download", sheet.pk)).status_code == 404
    assert not SheetDownload.objects.exists()


def test_a_ready_sheet_whose_file_is_gone_from_the_store_says_so(client, finance, finance_sheet):
    # given: the store lost the file (deleted there, or the store's settings changed)
    finance_sheet.file.storage.delete(finance_sheet.file.name)
    client.force_login(finance)
    # when: finance downloads it
    response = client.get(url("sheet_download", finance_sheet.pk))
    # then: the desk's page saying the file is missing and what to do, nothing recorded
    assert response.status_code == 404
    page = response.content.decode()
    assert finance_sheet.download_name in page
    assert "文件存储里找不到了" in page and "重新生成" in page
    assert not SheetDownload.objects.exists()
    # in the user's language
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(url("sheet_download", finance_sheet.pk)).content.decode()
    assert "is missing from the file store" in english and "rebuild" in english


# --- signing and shipping in the browser ----------------------------------------------------
def test_the_supervisor_removes_a_line_and_signs(client, agent, supervisor, shop_a):
    # a list of two exchanges: one is taken off, the other signed for (a list whose last
    # line is taken off asks for no signature: tests/finance_exports/test_empty_exchange_list)
    queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    exchange_list = build("exchanges")
    client.force_login(supervisor)
    line = exchange_list.exchange_lines.order_by("pk").first()
    empty = client.post(url("exchange_line_remove", exchange_list.pk, line.pk), {"reason": ""})
    assert empty.status_code == 302
    line.refresh_from_db()
    assert line.is_active
    client.post(url("exchange_line_remove", exchange_list.pk, line.pk), {"reason": "缺货"})
    line.refresh_from_db()
    assert line.removed_reason == "缺货"
    response = client.post(url("exchange_approve", exchange_list.pk), follow=True)
    assert "已签字" in response.content.decode()
    exchange_list.refresh_from_db()
    assert (exchange_list.status, exchange_list.approved_by) == (Sheet.Status.APPROVED, supervisor)


def test_finance_can_neither_sign_nor_rebuild(client, finance, exchange_list):
    client.force_login(finance)
    assert client.post(url("exchange_approve", exchange_list.pk)).status_code == 403
    assert client.post(url("sheet_rebuild", exchange_list.pk)).status_code == 403
    exchange_list.refresh_from_db()
    assert exchange_list.status == Sheet.Status.AWAITING_APPROVAL


def test_shipping_a_line_from_the_page(client, supervisor, exchange_list):
    exchange_list_approve(actor=supervisor, sheet=exchange_list)
    line = exchange_list.exchange_lines.get()
    client.force_login(supervisor)
    response = client.post(
        url("exchange_line_ship", exchange_list.pk, line.pk),
        {"tracking_no": "SF1234567890"},
        follow=True,
    )
    assert "SF1234567890" in response.content.decode()
    line.ticket.refresh_from_db()
    assert line.ticket.status == S.CLOSED


def test_an_upload_too_big_is_refused_before_it_is_read(
    client, supervisor, exchange_list, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.FINANCE_TRACKING_UPLOAD_MAX_BYTES = 10
    exchange_list_approve(actor=supervisor, sheet=exchange_list)
    client.force_login(supervisor)
    upload = SimpleUploadedFile("list.csv", b"x" * 11)
    response = client.post(
        url("exchange_tracking_upload", exchange_list.pk), {"file": upload}, follow=True
    )
    assert "太大" in response.content.decode()


def test_a_failed_sheet_shows_why_and_a_supervisor_rebuilds_it_with_one_click(
    client, supervisor, finance, db, monkeypatch, django_capture_on_commit_callbacks
):
    sheet = Sheet.objects.create(
        kind="finance",
        business_date=timezone.localdate() - timedelta(days=1),
        status=Sheet.Status.FAILED,
        error="OperationalError: disk full",
        attempts=5,
    )
    client.force_login(finance)
    listing = client.get(url("sheet_list")).content.decode()
    assert "disk full" in listing
    assert url("sheet_rebuild", sheet.pk) not in listing  # finance may not rebuild
    queued = []
    monkeypatch.setattr(
        "finance_exports.tasks.build_sheet.apply_async",
        lambda args=(), kwargs=None, **options: queued.append(tuple(args)),
    )
    client.force_login(supervisor)
    detail = client.get(url("sheet_detail", sheet.pk)).content.decode()
    assert "disk full" in detail and url("sheet_rebuild", sheet.pk) in detail
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("sheet_rebuild", sheet.pk))
    sheet.refresh_from_db()
    assert (sheet.status, sheet.error, sheet.attempts) == (Sheet.Status.BUILDING, "", 0)
    assert queued == [("finance", sheet.business_date.isoformat())]
    # rebuilding a sheet that did not fail is refused
    client.post(url("sheet_rebuild", sheet.pk))
    assert len(queued) == 1


def test_english_page(client, finance, finance_sheet):
    client.force_login(finance)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert client.get(url("sheet_list")).status_code == 200


def test_amounts_on_the_page_come_from_the_sheet_totals(client, finance, agent, rich_order):
    record(agent, rich_order, "1234.50", "refund")
    sheet = build("finance")
    client.force_login(finance)
    page = client.get(url("sheet_detail", sheet.pk))
    assert page.context["by_kind"] == [{"label": "退款", "count": 1, "amount": Decimal("1234.50")}]
    assert "¥1,234.50" in page.content.decode()


def test_the_list_page_of_an_exchange_list_costs_the_same_queries_however_long(
    client, supervisor, agent, shop_a, django_assert_max_num_queries
):
    for _ in range(2):
        queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    short = build("exchanges", days_ahead=1)
    for _ in range(15):
        queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    long = build("exchanges", days_ahead=2)
    client.force_login(supervisor)
    with django_assert_max_num_queries(25) as few:
        client.get(url("sheet_detail", short.pk))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url("sheet_detail", long.pk))
    assert len(page.context["lines"]) == 15


def test_the_supervisor_takes_a_line_off_a_signed_list_from_the_page(
    client, agent, supervisor, shop_a
):
    # two lines: the one left needs the signature again (a list left empty needs none)
    queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    queued_exchange(agent, make_order(shop_a, status=Order.Status.SUCCESS))
    exchange_list = exchange_list_approve(actor=supervisor, sheet=build("exchanges"))
    line = exchange_list.exchange_lines.order_by("pk").first()
    client.force_login(supervisor)
    page = client.get(url("sheet_detail", exchange_list.pk)).content.decode()
    assert "签字作废" in page
    response = client.post(
        url("exchange_line_remove", exchange_list.pk, line.pk),
        {"reason": "买家不换了"},
        follow=True,
    )
    assert response.status_code == 200
    exchange_list.refresh_from_db()
    line.refresh_from_db()
    assert exchange_list.status == Sheet.Status.AWAITING_APPROVAL
    assert line.removed_reason == "买家不换了"
    # an agent can't take a line off, signed or not
    other = make_user("agent-x", Role.AGENT, all_shops=True)
    client.force_login(other)
    assert (
        client.post(
            url("exchange_line_remove", exchange_list.pk, line.pk), {"reason": "x"}
        ).status_code
        == 403
    )
