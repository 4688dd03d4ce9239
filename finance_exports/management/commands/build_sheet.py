"""``manage.py build_sheet finance --date 2026-11-24``: build (or return) a sheet by hand.

A monthly sheet takes ``--month 2026-11`` (``build_sheet courier_loss --month 2026-11``); an
invoice batch takes its batch date (``build_sheet invoices --date 2026-11-11``).

A month before the newest sheet of its kind is built only for the kinds that claim nothing
(the exchange slips and the courier-loss settlement: a month before the first one built), once
it is over, and once (``finance_exports.builders.exchange_slips`` says why); the other kinds
refuse an earlier date, since what it would hold is on the later sheet.

The same service the Celery tasks call; prints the path of the sheet's file.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from finance_exports.builders import Period, get_builder, registered_kinds
from finance_exports.services import SheetBuildFailed, sheet_build
from tickets.models import User
from tickets.services import DeskError


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--date must look like 2026-11-24, got {text!r}") from exc


def _month(text: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise CommandError(f"--month must look like 2026-11, got {text!r}") from exc


class Command(BaseCommand):
    help = "Builds the sheet of a kind for a business date (or returns it if it exists)."

    def add_arguments(self, parser):
        # "courier-loss" is accepted for courier_loss (the issue and the runbook spell it so).
        parser.add_argument(
            "kind", choices=registered_kinds(), type=lambda text: text.replace("-", "_")
        )
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument(
            "--date", help="business date of a daily sheet or an invoice batch, YYYY-MM-DD"
        )
        when.add_argument("--month", help="month of a monthly sheet, YYYY-MM")
        parser.add_argument("--user", help="username recorded as who built it by hand")

    def handle(self, *args, kind, date=None, month=None, user=None, **options):
        builder = get_builder(kind)
        if builder.period == Period.MONTH and date:
            raise CommandError(f"{kind} is a monthly sheet: use --month YYYY-MM")
        if builder.period != Period.MONTH and month:
            raise CommandError(f"{kind} is not a monthly sheet: use --date YYYY-MM-DD")
        business_date = _month(month) if month else _day(date)
        if builder.normalise(business_date) != business_date:
            # A ten-day batch is dated its batch day (1st, 11th, 21st), never a day inside it.
            raise CommandError(
                f"{kind} sheets are dated {builder.normalise(business_date):%Y-%m-%d} or "
                f"{builder.following(business_date):%Y-%m-%d}, not {business_date:%Y-%m-%d}"
            )
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {user!r}")
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
                f"{failure.sheet} failed (attempt {failure.sheet.attempts}): {failure.sheet.error}"
            ) from failure
        if not sheet.has_file:
            raise CommandError(f"{sheet} is {sheet.status}: {sheet.error or 'no file yet'}")
        self.stderr.write(
            f"{sheet}: {sheet.get_status_display()}, {sheet.row_count} rows, "
            f"total {sheet.total_amount}"
        )
        try:
            self.stdout.write(sheet.file.path)
        except NotImplementedError:  # a storage without local paths
            self.stdout.write(sheet.file.name)
