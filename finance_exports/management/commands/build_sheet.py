"""``manage.py build_sheet finance --date 2026-11-24``: build (or return) a sheet by hand.

A monthly sheet takes ``--month 2026-11`` (``build_sheet courier_loss --month 2026-11``); an
invoice batch takes its batch date (``build_sheet invoices --date 2026-11-11``).

A month before the newest sheet of its kind is built only for the kinds that claim nothing
(the exchange slips and the courier-loss settlement: a month before the first one built), once
it is over, and once (``finance_exports.builders.exchange_slips`` says why); the other kinds
refuse an earlier date, since what it would hold is on the later sheet.

The same service the Celery tasks call; prints the path of the sheet's file. Its messages and
refusals are in the desk's language (``LANGUAGE_CODE``, Chinese), like the services' own.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from finance_exports.builders import Period, get_builder, registered_kinds
from finance_exports.services import SheetBuildFailed, sheet_build
from tickets.models import User
from tickets.services import DeskError


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(
            _("--date 要写成 2026-11-24 这样，不是 %(text)r。") % {"text": text}
        ) from exc


def _month(text: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise CommandError(
            _("--month 要写成 2026-11 这样，不是 %(text)r。") % {"text": text}
        ) from exc


def _kinds_by_period() -> tuple[list[str], list[str]]:
    """The registered kinds' values that take ``--date`` and those that take ``--month``."""
    monthly = [kind for kind in registered_kinds() if get_builder(kind).period == Period.MONTH]
    return [kind for kind in registered_kinds() if kind not in monthly], monthly


class Command(BaseCommand):
    help = "Builds the sheet of a kind for a business date (or returns it if it exists)."

    def add_arguments(self, parser):
        # "courier-loss" is accepted for courier_loss (the runbook spells it so).
        parser.add_argument(
            "kind", choices=registered_kinds(), type=lambda text: text.replace("-", "_")
        )
        daily, monthly = _kinds_by_period()
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument(
            "--date",
            metavar="YYYY-MM-DD",
            help=f"the business date, for {', '.join(daily)} (invoices: the batch's day, "
            "the 1st, 11th or 21st)",
        )
        when.add_argument("--month", metavar="YYYY-MM", help=f"the month, for {', '.join(monthly)}")
        parser.add_argument("--user", help="username recorded as who built it by hand")

    def handle(self, *args, kind, date=None, month=None, user=None, **options):
        builder = get_builder(kind)
        if builder.period == Period.MONTH and date:
            raise CommandError(_("%(kind)s 是月表：请用 --month YYYY-MM。") % {"kind": kind})
        if builder.period != Period.MONTH and month:
            raise CommandError(_("%(kind)s 不是月表：请用 --date YYYY-MM-DD。") % {"kind": kind})
        business_date = _month(month) if month else _day(date)
        if builder.normalise(business_date) != business_date:
            # A ten-day batch is dated its batch day (1st, 11th, 21st), never a day inside it.
            raise CommandError(
                _("%(kind)s 的日期是 %(before)s 或 %(after)s，不是 %(day)s。")
                % {
                    "kind": kind,
                    "before": f"{builder.normalise(business_date):%Y-%m-%d}",
                    "after": f"{builder.following(business_date):%Y-%m-%d}",
                    "day": f"{business_date:%Y-%m-%d}",
                }
            )
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(_("没有在职的账号 %(user)r。") % {"user": user})
        try:
            # A sheet that failed is started over: someone at the console asked for it.
            sheet = sheet_build(
                kind=kind,
                business_date=business_date,
                actor=actor,
                retry_failed=True,
                by_hand=True,
            )
        except DeskError as refusal:
            raise CommandError(str(refusal)) from refusal
        except SheetBuildFailed as failure:
            raise CommandError(
                _("%(sheet)s 生成失败（第 %(attempts)s 次）：%(error)s")
                % {
                    "sheet": failure.sheet,
                    "attempts": failure.sheet.attempts,
                    "error": failure.sheet.error,
                }
            ) from failure
        if not sheet.has_file:
            raise CommandError(
                _("%(sheet)s %(status)s：%(error)s")
                % {
                    "sheet": sheet,
                    "status": sheet.get_status_display(),
                    "error": sheet.error or _("还没有文件"),
                }
            )
        self.stderr.write(
            _("%(sheet)s：%(status)s，%(rows)s 行，合计 %(total)s")
            % {
                "sheet": sheet,
                "status": sheet.get_status_display(),
                "rows": sheet.row_count,
                "total": sheet.total_amount,
            }
        )
        try:
            self.stdout.write(sheet.file.path)
        except NotImplementedError:  # a storage without local paths
            self.stdout.write(sheet.file.name)
