"""The exchange-goods list as it comes back from the warehouse, opened and saved by a person
(issue 12, section 4), uploaded through the list's page: a workbook that declares a wrong size
is read whole, and a tracking number whose digits a spreadsheet lost is refused with the reason.
"""

import io
import re
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from finance_exports.builders import get_builder
from finance_exports.models import Sheet
from finance_exports.services import exchange_list_approve, sheet_build
from finance_exports.uploads import _cell
from tests.factories import make_order
from tickets.models import Ticket

from .helpers import queued_exchange, workbook

S = Ticket.Status


@pytest.fixture(autouse=True)
def midnight_cut_off(settings):
    settings.FINANCE_SHEET_TIMES = {**settings.FINANCE_SHEET_TIMES, "exchanges": (0, 0)}


@pytest.fixture
def signed_list(agent, supervisor, shop_a):
    tickets = [
        queued_exchange(agent, make_order(shop_a, items=((Decimal("199.00"), 1),)))
        for _ in range(2)
    ]
    day = timezone.localdate() + timedelta(days=2)
    now = get_builder("exchanges").cutoff(day) + timedelta(minutes=1)
    sheet = sheet_build(kind=Sheet.Kind.EXCHANGES, business_date=day, now=now)
    return exchange_list_approve(actor=supervisor, sheet=sheet), tickets


def filled_in(sheet, numbers: dict) -> bytes:
    """The warehouse's copy: the list with 新运单号 filled in (text, or numbers as a person
    typed them into a number cell), saved again."""
    book = workbook(sheet)
    rows = book["换货清单"]
    header = [cell.value for cell in rows[5]]
    ticket_col, tracking_col = header.index("售后单号") + 1, header.index("新运单号") + 1
    for row in range(6, rows.max_row + 1):
        number = rows.cell(row, ticket_col).value
        if number in numbers:
            rows.cell(row, tracking_col).value = numbers[number]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def declaring(data: bytes, ref: str) -> bytes:
    """``data`` with every worksheet declaring the used range ``ref``, as WPS and other tools
    write it: the <dimension> element patched in the zip, nothing else changed."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                part, found = re.subn(
                    rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), part
                )
                assert found == 1
            target.writestr(info, part)
    return out.getvalue()


def post_upload(client, sheet, data: bytes, name="换货清单-已填.xlsx"):
    response = client.post(
        reverse("finance_exports:exchange_tracking_upload", args=[sheet.pk]),
        {"file": SimpleUploadedFile(name, data)},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_workbook_declaring_one_cell_is_read_whole(client, supervisor, signed_list):
    # given: the filled-in list, saved by a tool that declares its size as the one cell A1
    sheet, (first, second) = signed_list
    filled = filled_in(sheet, {first.number: "SF1000000001", second.number: "YT2000000002"})
    data = declaring(filled, "A1")
    blind = load_workbook(io.BytesIO(data), read_only=True)["换货清单"]
    assert blind.max_column == 1  # what openpyxl's read-only mode believes of such a file
    # when it is uploaded on the list's page
    client.force_login(supervisor)
    shown = post_upload(client, sheet, data)
    # then every line is read and shipped
    assert "已登记发货 2 单，0 单此前已登记，0 行有问题。" in shown
    for ticket, tracking_no in ((first, "SF1000000001"), (second, "YT2000000002")):
        ticket.refresh_from_db()
        assert (ticket.status, ticket.outbound_tracking_no) == (S.CLOSED, tracking_no)


def test_a_tracking_number_whose_digits_a_spreadsheet_lost_is_refused(
    client, supervisor, signed_list
):
    # given: one tracking number typed into a number cell whole (14 digits, which a spreadsheet
    # keeps), one too long for it (more than 15 significant digits)
    sheet, (whole, lost) = signed_list
    data = filled_in(sheet, {whole.number: 75123456789012, lost.number: 4321234567890123})
    client.force_login(supervisor)
    shown = post_upload(client, sheet, data)
    assert "已登记发货 1 单，0 单此前已登记，1 行有问题。" in shown
    whole.refresh_from_db()
    lost.refresh_from_db()
    assert (whole.status, whole.outbound_tracking_no) == (S.CLOSED, "75123456789012")
    assert lost.status == S.ON_EXCHANGE_LIST
    [refusal] = [message for message in shown if message.startswith(lost.number)]
    assert "4.32123456789012E+15" in refusal and "科学计数法" in refusal


def test_a_csv_saved_by_excel_with_scientific_tracking_numbers_is_refused_line_by_line(
    client, supervisor, signed_list
):
    sheet, (first, second) = signed_list
    text = f"售后单号,新运单号\n{first.number},4.31234E+12\n{second.number},ZTO123456789\n"
    client.force_login(supervisor)
    shown = post_upload(client, sheet, text.encode("gb18030"), name="回传.csv")
    assert "已登记发货 1 单，0 单此前已登记，1 行有问题。" in shown
    first.refresh_from_db()
    assert first.status == S.ON_EXCHANGE_LIST and not first.outbound_tracking_no
    assert any(m.startswith(first.number) and "科学计数法" in m for m in shown)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("  SF 1000 0000 01 ", "SF1000000001"),
        (75123456789012, "75123456789012"),
        (75123456789012.0, "75123456789012"),
        (999999999999999, "999999999999999"),
        (4321234567890123, "4.32123456789012E+15"),
        (4.3212345678901203e16, "4.32123456789012E+16"),
        (1.5, "1.50000000000000E+00"),
    ],
)
def test_cells_as_text(value, text):
    assert _cell(value) == text
