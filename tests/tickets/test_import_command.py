"""``manage.py import_orders FILE [ITEMS_FILE] --shop CODE [--dry-run]``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.tickets.export_files import (
    ITEM_HEADERS,
    ORDER_HEADERS_56,
    REFUND_HEADERS,
    export_csv,
    item_row,
    order_row,
    refund_row,
)
from tickets.models import Order, OrderImport, OrderItem, Ticket

pytestmark = pytest.mark.django_db

NO_1, NO_2 = "3515012345678901234", "3515012345678901235"


@pytest.fixture
def files(tmp_path):
    orders = tmp_path / "ExportOrderList202603011200.csv"
    orders.write_bytes(export_csv(ORDER_HEADERS_56, [order_row(NO_1), order_row(NO_2)]))
    items = tmp_path / "ExportOrderDetailList202603011200.csv"
    items.write_bytes(
        export_csv(ITEM_HEADERS, [item_row(NO_1), item_row(NO_2)], encoding="utf-8-sig")
    )
    return orders, items


def command(*args):
    out = StringIO()
    call_command("import_orders", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_imports_orders_and_items(shop_a, files):
    out = command(*files, "--shop", shop_a.code)
    assert Order.objects.filter(shop=shop_a).count() == 2
    assert OrderItem.objects.count() == 2
    assert "GBK/GB18030" in out and "UTF-8 (BOM)" in out
    assert "created 2" in out
    batch = OrderImport.objects.get()
    assert (batch.status, batch.source, batch.created_by) == ("applied", "command", None)
    assert sorted(batch.files.values_list("kind", flat=True)) == ["items", "orders"]
    assert all(not f.file for f in batch.files.all())  # the command's files stay where they are


def test_dry_run_writes_nothing(shop_a, files):
    out = command(*files, "--shop", shop_a.code, "--dry-run")
    assert "试导入：什么也没有写入。" in out
    assert "created 2" in out
    assert not Order.objects.exists()
    assert not OrderImport.objects.exists()


def test_the_same_file_again_is_noticed_and_changes_nothing(shop_a, files):
    command(*files, "--shop", shop_a.code)
    out = command(*files, "--shop", shop_a.code)
    assert "导入过" in out
    assert "unchanged 2" in out
    assert Order.objects.count() == 2


def test_bad_rows_fail_the_command_and_import_nothing(shop_a, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(export_csv(ORDER_HEADERS_56, [order_row(NO_1), order_row("3.515E+18")]))
    out = StringIO()
    with pytest.raises(CommandError, match="行有错：什么也没有导入"):
        call_command("import_orders", str(path), "--shop", shop_a.code, stdout=out)
    assert "bad.csv:3 [订单编号]" in out.getvalue()
    assert not Order.objects.exists()
    assert OrderImport.objects.get().status == "refused"


def test_refund_export_needs_a_user(shop_a, agent, files, tmp_path):
    command(*files, "--shop", shop_a.code)
    path = tmp_path / "退款.csv"
    path.write_bytes(export_csv(REFUND_HEADERS, [refund_row("88001122334455", NO_1)]))
    with pytest.raises(CommandError):
        call_command("import_orders", str(path), "--shop", shop_a.code, stdout=StringIO())
    command(path, "--shop", shop_a.code, "--user", agent.username)
    assert Ticket.objects.get().opened_by == agent


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shop", "nope"], "没有代码为 'nope' 的店铺"),
        (["--shop", "shop-a", "--user", "ghost"], "没有在职的账号 'ghost'"),
    ],
)
def test_unknown_shop_or_user(shop_a, files, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_orders", str(files[0]), *args, stdout=StringIO())


def test_a_user_without_the_right_is_refused(shop_a, files, finance):
    with pytest.raises(CommandError, match="不能导入订单"):
        command(files[0], "--shop", shop_a.code, "--user", finance.username)


def test_a_missing_file(shop_a, tmp_path):
    with pytest.raises(CommandError, match="没有这个文件"):
        command(tmp_path / "nothing.csv", "--shop", shop_a.code)
