"""The monthly courier-loss settlement (快递丢件月结): built on the 1st for the month before.

Every loss report written in the month (by ``created_at``, Beijing time) is on the sheet of
that month, grouped by courier company, with what was claimed from the courier, what was
received and what is outstanding. The month is closed when the sheet is due (the 1st, at its
time), so nothing needs claiming: the month's reports are the sheet's rows, and the totals
come from ``courier_loss_settlement``, the same figures as the register's settlement page.
"""

from decimal import Decimal

from django.utils.translation import gettext as _

from aftersales.spreadsheets import MONEY, NUMBER, TIME, Column, SheetBook
from finance_exports.models import Sheet
from tickets.models import CourierLossReport, User
from tickets.money import ZERO, cents
from tickets.selectors_registers import CourierSettlement, courier_loss_settlement, month_bounds

from . import Period, SheetBuilder, Summary, register, ticket_number


@register
class CourierLossSheetBuilder(SheetBuilder):
    kind = Sheet.Kind.COURIER_LOSS
    period = Period.MONTH
    scheduled = True
    # A month before the first settlement may be built by hand, once it is over: its reports
    # are the month's own, so it takes nothing from a later sheet (the rule is told in the
    # exchange slips' docstring). Its money is as the register's settlement page shows it
    # on the day it is built, like any settlement.
    past_periods_by_hand = True

    @staticmethod
    def settlement(sheet: Sheet) -> list[CourierSettlement]:
        return courier_loss_settlement(CourierLossReport.objects.all(), sheet.business_date)

    # -- claiming -----------------------------------------------------------------------
    def claim(self, sheet: Sheet) -> int:
        """Nothing to mark: a report belongs to the month it was written in, and the month
        is over before the sheet is due. Returns how many reports the month has."""
        start, end = month_bounds(sheet.business_date)
        return CourierLossReport.objects.filter(created_at__gte=start, created_at__lt=end).count()

    # -- reading ------------------------------------------------------------------------
    def summarize(self, sheet: Sheet) -> Summary:
        groups = self.settlement(sheet)
        by_courier = [
            {
                "courier": group.courier.name,
                "count": len(group.reports),
                "claimed": str(cents(group.claimed)),
                "received": str(cents(group.received)),
                "outstanding": str(cents(group.outstanding)),
            }
            for group in groups
        ]
        claimed = sum((g.claimed for g in groups), ZERO)
        received = sum((g.received for g in groups), ZERO)
        count = sum(len(g.reports) for g in groups)
        return Summary(
            row_count=count,
            total_amount=claimed,
            totals={
                "by_courier": by_courier,
                "count": count,
                "claimed": str(cents(claimed)),
                "received": str(cents(received)),
                "outstanding": str(cents(claimed - received)),
            },
        )

    # -- the workbook ---------------------------------------------------------------------
    @staticmethod
    def columns() -> list[Column]:
        return [
            Column(_("快递公司"), 12),
            Column(_("运单号"), 20),
            Column(_("登记时间"), 19, TIME),
            Column(_("店铺"), 16),
            Column(_("订单编号"), 21),
            Column(_("售后单号"), 11),
            Column(_("丢件/破损"), 9),
            Column(_("物品"), 30),
            Column(_("物品价值"), 12, MONEY),
            Column(_("店铺处理"), 9),
            Column(_("索赔金额"), 12, MONEY),
            Column(_("实收赔款"), 12, MONEY),
            Column(_("未结金额"), 12, MONEY),
            Column(_("状态"), 10),
            Column(_("登记人"), 10),
        ]

    def write(self, sheet: Sheet, book: SheetBook) -> None:
        groups = self.settlement(sheet)
        self._write_summary(sheet, book)
        self._write_detail(book, groups)

    def _write_summary(self, sheet: Sheet, book: SheetBook) -> None:
        totals = sheet.totals
        writer = book.table(
            _("汇总"),
            [
                Column(_("快递公司"), 16),
                Column(_("报告数"), 10, NUMBER),
                Column(_("索赔金额"), 14, MONEY),
                Column(_("实收赔款"), 14, MONEY),
                Column(_("未结金额"), 14, MONEY),
            ],
            preamble=[
                _("快递丢件月结 %(month)s") % {"month": f"{sheet.business_date:%Y-%m}"},
                _("收录本月（北京时间）登记的全部丢件/破损报告；拒赔的报告实收为零，计入未结。"),
            ],
        )
        for row in totals["by_courier"]:
            writer.append(
                [
                    row["courier"],
                    row["count"],
                    Decimal(row["claimed"]),
                    Decimal(row["received"]),
                    Decimal(row["outstanding"]),
                ]
            )
        writer.append_cells([None])
        writer.append_cells(
            [
                writer.bold(_("合计")),
                writer.bold(totals["count"]),
                writer.money(Decimal(totals["claimed"]), bold=True),
                writer.money(Decimal(totals["received"]), bold=True),
                writer.money(Decimal(totals["outstanding"]), bold=True),
            ]
        )
        writer.finish(filter_rows=False)

    def _write_detail(self, book: SheetBook, groups: list[CourierSettlement]) -> None:
        writer = book.table(_("明细"), self.columns())
        damages = {value: str(label) for value, label in CourierLossReport.Damage.choices}
        actions = {value: str(label) for value, label in CourierLossReport.ShopAction.choices}
        statuses = {value: str(label) for value, label in CourierLossReport.Status.choices}
        # Who wrote each report, in one query for the whole month.
        author_ids = {report.created_by_id for group in groups for report in group.reports}
        authors = {user.pk: str(user) for user in User.objects.filter(pk__in=author_ids)}
        for group in groups:
            for report in group.reports:
                received = report.received_amount or ZERO
                writer.append(
                    (
                        group.courier.name,
                        report.tracking_no,
                        report.created_at,
                        report.shop.name,
                        report.order.order_no,
                        ticket_number(report.ticket_id),
                        damages.get(report.damage, report.damage),
                        report.items_description,
                        report.items_value,
                        actions.get(report.shop_action, report.shop_action),
                        report.claimed_amount,
                        report.received_amount,
                        report.claimed_amount - received,
                        statuses.get(report.status, report.status),
                        authors.get(report.created_by_id),
                    )
                )
        writer.finish()
