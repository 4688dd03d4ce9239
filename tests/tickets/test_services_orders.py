"""The order's seller flag and receipt extension (issue 11 §5): the rules, the record kept,
the auto-confirm warning that counts the extension, and the re-import of 商家备忘."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tests.tickets.export_files import order_row
from tests.tickets.test_import_orders import orders_file, run
from tickets.models import AppendOnlyError, Order, OrderChange, Ticket
from tickets.roles import Role
from tickets.selectors_orders import (
    DASHBOARD_WARNINGS,
    RECEIPT_EXTENSIONS_MAX,
    auto_confirm_warning,
    auto_confirm_warnings,
)
from tickets.services import DeskError
from tickets.services.orders import FLAG_MEMO_MAX, order_extend_receipt, order_set_flag

pytestmark = pytest.mark.django_db


def shipped(shop, days_ago=8, **extra):
    order = make_order(shop, status=Order.Status.SHIPPED, **extra)
    Order.objects.filter(pk=order.pk).update(
        shipped_at=timezone.now() - timedelta(days=days_ago),
        placed_at=timezone.now() - timedelta(days=days_ago + 1),
    )
    order.refresh_from_db()
    return order


# --- the flag ------------------------------------------------------------------------
def test_a_flag_change_is_recorded_before_and_after(agent, order_a):
    # given an order the import gave a memo
    Order.objects.filter(pk=order_a.pk).update(flag_memo="仓库：缺货待补")
    order_a.refresh_from_db()
    # when the agent raises a red flag with a new memo
    change = order_set_flag(actor=agent, order=order_a, flag="red", memo="  已补发 SF123 \r\n")
    # then the order carries it and the change says before → after, who and when
    order_a.refresh_from_db()
    assert (order_a.flag, order_a.flag_memo) == ("red", "已补发 SF123")
    assert (change.previous_flag, change.previous_flag_memo) == ("", "仓库：缺货待补")
    assert (change.flag, change.flag_memo, change.actor) == ("red", "已补发 SF123", agent)
    assert change.kind == OrderChange.Kind.FLAG


def test_the_same_flag_again_records_nothing(agent, order_a):
    order_set_flag(actor=agent, order=order_a, flag="blue", memo="换货中")
    assert order_set_flag(actor=agent, order=order_a, flag="blue", memo="换货中 ") is None
    assert OrderChange.objects.count() == 1


@pytest.mark.parametrize("flag", ["black", "RED", "red ", "<b>"])
def test_an_unknown_flag_is_refused(agent, order_a, flag):
    with pytest.raises(DeskError):
        order_set_flag(actor=agent, order=order_a, flag=flag, memo="")
    assert not OrderChange.objects.exists()


def test_a_memo_too_long_is_refused_and_blank_memo_is_empty(agent, order_a):
    with pytest.raises(DeskError, match=str(FLAG_MEMO_MAX)):
        order_set_flag(actor=agent, order=order_a, flag="red", memo="字" * (FLAG_MEMO_MAX + 1))
    order_set_flag(actor=agent, order=order_a, flag="red", memo="\u200b \u3164\n")
    order_a.refresh_from_db()
    assert order_a.flag_memo == ""


def test_a_stale_edit_does_not_overwrite_a_memo_nobody_read(agent, shop_a, order_a):
    # given two agents who opened the page while the order had no flag
    other = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    order_set_flag(
        actor=other, order=order_a, flag="yellow", memo="买家要求周末送", expected=("", "")
    )
    # when the first one saves what they typed on the old page
    with pytest.raises(DeskError, match="刚刚被改过"):
        order_set_flag(actor=agent, order=order_a, flag="red", memo="加急", expected=("", ""))
    # then the other's memo stands
    order_a.refresh_from_db()
    assert order_a.flag_memo == "买家要求周末送"


def test_finance_and_other_shops_cannot_change_a_flag(finance, shop_b, order_a, order_b, agent):
    with pytest.raises(PermissionDenied):
        order_set_flag(actor=finance, order=order_a, flag="red", memo="")
    with pytest.raises(DeskError, match="不负责"):
        order_set_flag(actor=agent, order=order_b, flag="red", memo="")
    assert not OrderChange.objects.exists()


def test_changes_are_append_only(agent, order_a):
    change = order_set_flag(actor=agent, order=order_a, flag="red", memo="x")
    with pytest.raises(AppendOnlyError):
        OrderChange.objects.filter(pk=change.pk).update(note="edited")


def test_the_database_refuses_an_extension_without_days(agent, order_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderChange.objects.create(
            order=order_a, kind=OrderChange.Kind.RECEIPT_EXTENSION, extended_days=0, actor=agent
        )


# --- the receipt extension -------------------------------------------------------------
def test_an_extension_moves_the_deadline_and_is_recorded(agent, shop_a):
    order = shipped(shop_a)
    before = order.auto_confirm_at
    change = order_extend_receipt(actor=agent, order=order, days=5, note="快递滞留")
    order.refresh_from_db()
    assert order.receipt_extended_days == 5
    assert order.auto_confirm_at == before + timedelta(days=5)
    assert change.auto_confirm_at == order.auto_confirm_at
    assert (change.extended_days, change.note, change.actor) == (5, "快递滞留", agent)


@pytest.mark.parametrize("days", [0, -3, 4, 11, 99999, None])
def test_only_the_seller_centres_lengths_are_accepted(agent, shop_a, days):
    order = shipped(shop_a)
    with pytest.raises(DeskError, match="3、5、7、10"):
        order_extend_receipt(actor=agent, order=order, days=days)
    order.refresh_from_db()
    assert order.receipt_extended_days == 0


@pytest.mark.parametrize("status", [Order.Status.PAID, Order.Status.SUCCESS, Order.Status.CLOSED])
def test_only_a_shipped_order_can_be_extended(agent, shop_a, status):
    order = make_order(shop_a, status=status)
    with pytest.raises(DeskError, match="卖家已发货"):
        order_extend_receipt(actor=agent, order=order, days=3)


def test_an_order_past_its_deadline_is_not_extended(agent, shop_a):
    order = shipped(shop_a, days_ago=11)
    with pytest.raises(DeskError, match="已经过了"):
        order_extend_receipt(actor=agent, order=order, days=3)


def test_extensions_are_limited_per_order(agent, shop_a):
    order = shipped(shop_a)
    for _n in range(RECEIPT_EXTENSIONS_MAX):
        order_extend_receipt(actor=agent, order=order, days=3)
    with pytest.raises(DeskError, match="不能再延长"):
        order_extend_receipt(actor=agent, order=order, days=3)
    order.refresh_from_db()
    assert order.receipt_extended_days == 3 * RECEIPT_EXTENSIONS_MAX


def test_the_same_extension_form_twice_extends_once(agent, shop_a):
    order = shipped(shop_a)
    order_extend_receipt(actor=agent, order=order, days=7, expected_days=0)
    with pytest.raises(DeskError, match="没有重复延长"):
        order_extend_receipt(actor=agent, order=order, days=7, expected_days=0)
    order.refresh_from_db()
    assert order.receipt_extended_days == 7


def test_finance_and_other_shops_cannot_extend(finance, agent, shop_b):
    order = shipped(shop_b)
    with pytest.raises(PermissionDenied):
        order_extend_receipt(actor=finance, order=order, days=3)
    with pytest.raises(DeskError, match="不负责"):
        order_extend_receipt(actor=agent, order=order, days=3)


# --- the auto-confirm warning ----------------------------------------------------------
def test_the_warning_counts_the_extension(agent, shop_a):
    # given a shipped order confirming in two days with an open logistics ticket
    order = shipped(shop_a, days_ago=8)
    ticket = make_ticket(order, agent, kind=Ticket.Kind.RESHIP, reason=Ticket.Reason.LOGISTICS)
    now = timezone.now()
    assert auto_confirm_warning(order, [ticket], now)
    # when the receipt is extended by 5 days
    order_extend_receipt(actor=agent, order=order, days=5)
    order.refresh_from_db()
    # then there is no warning any more
    assert not auto_confirm_warning(order, [ticket], now)


def test_dashboard_warnings_agent_mine_supervisor_all(agent, supervisor, shop_a, shop_b):
    # given: a warned order of the agent, one of a colleague, one extended, one in shop B
    colleague = make_user("agent-a3", Role.AGENT, shops=[shop_a])
    mine = make_ticket(
        shipped(shop_a, days_ago=9), agent, kind="reship", reason="logistics", assignee=agent
    )
    theirs = make_ticket(
        shipped(shop_a, days_ago=8), colleague, kind="reship", reason="logistics",
        assignee=colleague,
    )  # fmt: skip
    extended = shipped(shop_a, days_ago=8)
    order_extend_receipt(actor=agent, order=extended, days=3)
    make_ticket(extended, agent, kind="reship", reason="logistics", assignee=agent)
    make_ticket(
        shipped(shop_a, days_ago=2), agent, kind="reship", reason="logistics", assignee=agent
    )  # fmt: skip  (ten days away)
    make_ticket(
        shipped(shop_a, days_ago=9), agent, kind="return", reason="quality", assignee=agent
    )  # fmt: skip  (not a logistics problem)
    other_shop = make_ticket(shipped(shop_b, days_ago=9), supervisor, kind="reship",
                             reason="logistics")  # fmt: skip
    now = timezone.now()
    # then the agent sees their own ticket; the supervisor every one, soonest first
    assert [w.ticket for w in auto_confirm_warnings(agent, now)] == [mine]
    warned = [w.ticket for w in auto_confirm_warnings(supervisor, now)]
    assert set(warned) == {mine, theirs, other_shop}
    assert warned[-1] == theirs
    assert auto_confirm_warnings(supervisor, now)[0].deadline == mine.order.auto_confirm_at


def test_an_agent_is_warned_of_the_unassigned_tickets_of_their_shops(agent, supervisor, shop_a,
                                                                     shop_b):  # fmt: skip
    # given an open logistics ticket nobody has taken, in the agent's shop, and one in a shop
    # the agent does not serve; both orders confirm themselves in a day
    queued = make_ticket(shipped(shop_a, days_ago=9), supervisor, kind="reship",
                         reason="logistics")  # fmt: skip
    make_ticket(shipped(shop_b, days_ago=9), supervisor, kind="reship", reason="logistics")
    assert queued.assignee is None
    # then the agent, who takes work from that queue, is warned of their shop's one
    assert [w.ticket for w in auto_confirm_warnings(agent, timezone.now())] == [queued]


def test_a_passed_deadline_is_told_apart_from_a_coming_one(agent, shop_a):
    # given an open logistics ticket on an order that confirmed itself yesterday
    order = shipped(shop_a, days_ago=11)
    ticket = make_ticket(order, agent, kind="reship", reason="logistics", assignee=agent)
    now = timezone.now()
    # then both warnings say the deadline has passed
    due = auto_confirm_warning(order, [ticket], now)
    assert due.passed and due.deadline == order.auto_confirm_at
    assert [w.passed for w in auto_confirm_warnings(agent, now)] == [True]
    # and a day before it, it is still to come
    earlier = now - timedelta(days=2)
    assert not auto_confirm_warning(order, [ticket], earlier).passed
    assert [w.passed for w in auto_confirm_warnings(agent, earlier)] == [False]


def test_passed_deadlines_never_push_a_coming_one_off_the_dashboard(agent, shop_a):
    # given more long-passed warnings than the panel holds, and one deadline still ahead
    for days in range(20, 20 + DASHBOARD_WARNINGS + 2):
        make_ticket(shipped(shop_a, days_ago=days), agent, kind="reship", reason="logistics",
                    assignee=agent)  # fmt: skip
    coming = make_ticket(shipped(shop_a, days_ago=9), agent, kind="reship", reason="logistics",
                         assignee=agent)  # fmt: skip
    # then the coming one leads the panel, and the passed ones fill the rest
    warnings = auto_confirm_warnings(agent, timezone.now())
    assert len(warnings) == DASHBOARD_WARNINGS
    assert warnings[0].ticket == coming and not warnings[0].passed
    assert all(w.passed for w in warnings[1:])


def test_dashboard_warnings_are_bounded(supervisor, shop_a, django_assert_max_num_queries):
    for _n in range(4):
        make_ticket(shipped(shop_a, days_ago=9), supervisor, kind="reship", reason="logistics")
    with django_assert_max_num_queries(3):
        warnings = auto_confirm_warnings(supervisor, timezone.now(), limit=2)
    assert len(warnings) == 2


# --- the re-import of 商家备忘 ------------------------------------------------------------
def test_reimport_brings_the_platforms_memo_and_warns_about_the_desks(agent, shop_a):
    # given an order the import brought, whose memo an agent then changed in the desk
    no = "3519000000000000001"
    assert run(shop_a, orders_file([order_row(no, 商家备忘="旧备忘")])).ok
    order = Order.objects.get(order_no=no)
    order_set_flag(actor=agent, order=order, flag="red", memo="工作台：已补发")
    # when a newer export says something else in 商家备忘
    report = run(shop_a, orders_file([order_row(no, 商家备忘="卖家中心：待发货")]))
    # then the platform's memo is on the order: the seller centre is the source of truth
    assert report.ok and report.applied
    order.refresh_from_db()
    assert order.flag_memo == "卖家中心：待发货"
    assert order.flag == "red"  # the export has no flag colour: the desk's stays
    # and it is not silent: the preview said so, and the desk's memo stays on the history
    assert any("工作台：已补发" in line for line in report.lines())
    assert order.changes.get().flag_memo == "工作台：已补发"
    # an order nobody touched in the desk is updated without a warning
    assert run(shop_a, orders_file([order_row(no, 商家备忘="卖家中心：待发货")])).warning_count == 0
