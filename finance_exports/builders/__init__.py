"""Sheet builders, one per kind, and the registry that the tasks and ``build_sheet`` use.

A builder knows what is particular to its kind:

- its period and cut-off: when the sheet for a business date (or month) is due, and so which
  rows belong on it (``cutoff``, ``latest_due``, ``following``);
- what the sheet claims, run in the transaction that creates the sheet (``claim``);
- how the claimed rows are summed up and written to the workbook (``summarize``, ``write``).

Everything common to every kind - one sheet per (kind, business date), the temporary file,
the status, bounded retries, catch-up - lives in ``finance_exports.services``. A new kind (the
monthly courier-loss settlement, an invoice batch) is a subclass registered with
``@register``; it needs no change anywhere else.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import DateTimeField, F, Func, Value
from django.db.models.expressions import Combinable
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.spreadsheets import SheetBook
from finance_exports.models import Sheet
from tickets.services import DeskError


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"
    # A batch every ten days, dated the 1st, 11th and 21st of the month (the invoice batch).
    TEN_DAYS = "ten_days"


# The days of the month a TEN_DAYS sheet is dated (and due).
TEN_DAY_BATCH_DAYS = (1, 11, 21)


@dataclass
class Summary:
    """What the finance page shows without opening the file."""

    row_count: int
    total_amount: Decimal = Decimal("0.00")
    totals: dict = field(default_factory=dict)


class SheetBuilder:
    kind: str = ""
    period: Period = Period.DAY
    # The status a sheet gets when its file is complete.
    ready_status: str = Sheet.Status.READY
    # Built by Celery beat at the kind's time (its entry comes from ``due_time``/``due_days``,
    # see ``finance_exports.tasks.beat_schedule``) and by the catch-up check.
    scheduled: bool = False
    # A period before the kind's newest sheet may still be built, by hand (``sheet_build``'s
    # ``by_hand``): true only for a kind that claims nothing, whose rows are fixed by the
    # period itself (what happened in a month that is over), so an earlier sheet can take
    # nothing from a later one. A kind that claims "everything not yet on a sheet" must not:
    # its earlier sheet would find the rows already claimed by the later one.
    past_periods_by_hand: bool = False
    # The file holds buyers' receiver names, phones and addresses in full (the warehouse packs
    # from it): an API token reads it only with the personal-data scope, recorded as a reveal
    # for every order on it (api.views.SheetFileView).
    carries_personal_data: bool = False

    # -- when -------------------------------------------------------------------------
    def due_time(self) -> time:
        """The time of day the sheet is due (from ``FINANCE_SHEET_TIMES``), Asia/Shanghai."""
        hour, minute = settings.FINANCE_SHEET_TIMES.get(self.kind, (0, 0))
        return time(hour, minute)

    def due_days(self) -> str:
        """The days of the month a sheet is due, as crontab's ``day_of_month``: every day, the
        1st (a month's sheet is due on the first of the next), or the batch days."""
        if self.period == Period.MONTH:
            return "1"
        if self.period == Period.TEN_DAYS:
            return ",".join(str(day) for day in TEN_DAY_BATCH_DAYS)
        return "*"

    def normalise(self, business_date: date) -> date:
        """The business date a sheet is filed under: the day, the month's first day, or the
        batch day (1st, 11th, 21st) on or before it."""
        if self.period == Period.MONTH:
            return business_date.replace(day=1)
        if self.period == Period.TEN_DAYS:
            batch_day = max(d for d in TEN_DAY_BATCH_DAYS if d <= business_date.day)
            return business_date.replace(day=batch_day)
        return business_date

    def following(self, business_date: date) -> date:
        if self.period == Period.MONTH:
            return (business_date.replace(day=28) + timedelta(days=4)).replace(day=1)
        if self.period == Period.TEN_DAYS:
            later = [d for d in TEN_DAY_BATCH_DAYS if d > business_date.day]
            if later:
                return business_date.replace(day=later[0])
            return (business_date.replace(day=28) + timedelta(days=4)).replace(day=1)
        return business_date + timedelta(days=1)

    def cutoff(self, business_date: date) -> datetime:
        """What was recorded *before* this moment belongs on the sheet of ``business_date``.
        A daily sheet (and a ten-day batch) is cut at its due time that day; a monthly one at
        its due time on the first day of the next month."""
        day = self.following(business_date) if self.period == Period.MONTH else business_date
        return timezone.make_aware(datetime.combine(day, self.due_time()))

    def latest_due(self, now: datetime) -> date:
        """The newest business date whose cut-off has passed at ``now``."""
        today = timezone.localdate(now)
        current = self.normalise(today)
        if self.period == Period.MONTH:
            previous = self.normalise(current - timedelta(days=1))
            return (
                previous
                if now >= self.cutoff(previous)
                else self.normalise(previous - timedelta(days=1))
            )
        return (
            current if now >= self.cutoff(current) else self.normalise(current - timedelta(days=1))
        )

    def ready_status_for(self, sheet: Sheet) -> str:
        """The status ``sheet`` gets when its file is complete (its ``row_count`` summed up):
        ``ready_status`` unless the kind says otherwise for what the sheet holds."""
        return self.ready_status

    # -- what -------------------------------------------------------------------------
    def claim(self, sheet: Sheet) -> int:
        """Claims the rows that belong on ``sheet`` (called once, inside the transaction that
        creates it, under a lock that serialises claims of this kind). Returns how many."""
        raise NotImplementedError

    def summarize(self, sheet: Sheet) -> Summary:
        raise NotImplementedError

    def write(self, sheet: Sheet, book: SheetBook) -> None:
        """Adds the sheet's worksheets to the book (``book.table(...)``), streaming the rows."""
        raise NotImplementedError


def ticket_number(ticket_id: int | None) -> str | None:
    """``Ticket.number`` from an id alone, for rows read with ``values_list`` (making a model
    instance per row would cost a second per 100,000 rows). A test holds the two equal."""
    return f"T{ticket_id:08d}" if ticket_id else None


T = TypeVar("T")

# PostgreSQL's memory for sorting a sheet's rows (its ``work_mem`` for that one query): the
# finance sheet's 100,000 detail rows take 23 MB sorted in memory; with the server's default
# (4 MB) they were sorted on disk in a merge.
SHEET_SORT_MEMORY = "64MB"


def read_in_full(rows: Iterable[T]) -> Iterator[T]:
    """``rows`` (a queryset's ``.iterator()``: a server-side cursor) planned to be read to the
    end, as a sheet reads them, with ``SHEET_SORT_MEMORY`` to sort them.

    PostgreSQL plans a cursor for its first tenth (``cursor_tuple_fraction``, 0.1): for the
    finance sheet's detail it walked the ledger's time index and looked up the claim, shop,
    order, ticket and user of each row one by one, 1.2-1.7 s at 100,000 rows, where hashing
    the tables and sorting once took 0.3-0.5 s (bench/README.md). The two settings hold for
    the transaction's statements until the last row is read, then are put back, so the rest
    of it plans as before; a sheet is written in one transaction (outside one, and on SQLite,
    nothing is changed). Put back too when the reader stops early; after a database error the
    broken transaction's rollback takes them with it."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield from rows
        return
    names = ("cursor_tuple_fraction", "work_mem")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s), current_setting(%s), "
            "set_config(%s, '1', true), set_config(%s, %s, true)",
            [*names, names[0], names[1], SHEET_SORT_MEMORY],
        )
        before = cursor.fetchone()[:2]
    try:
        yield from rows
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                    [names[0], before[0], names[1], before[1]],
                )
        except DatabaseError:
            pass  # the transaction is broken: its rollback puts them back


def wall_clock(field: str) -> Combinable:
    """The aware time column ``field`` as a sheet writes it, for a ``WALL_TIME`` column
    (``aftersales.spreadsheets``: Beijing wall-clock time, the current time zone, as the
    writer converts an aware time). On PostgreSQL it is read as ``field AT TIME ZONE
    'Asia/Shanghai'``, a naive time the writer takes as it is: an aware one goes through
    Django's time-zone loader, written in Python, and is converted again per row (0.4 s of
    CPU for the finance sheet's 100,000 rows, bench/README tenth session). Elsewhere
    (SQLite) the aware column itself."""
    if connection.vendor != "postgresql":
        return F(field)
    return Func(
        F(field),
        Value(timezone.get_current_timezone_name()),
        template="(%(expressions)s)",
        arg_joiner=" AT TIME ZONE ",
        output_field=DateTimeField(),
    )


_REGISTRY: dict[str, SheetBuilder] = {}


def register(builder_class: type[SheetBuilder]) -> type[SheetBuilder]:
    if builder_class.kind not in Sheet.Kind.values:
        raise ValueError(f"unknown sheet kind {builder_class.kind!r}: add it to SheetKind first")
    _REGISTRY[builder_class.kind] = builder_class()
    return builder_class


def unregister(kind: str) -> None:
    _REGISTRY.pop(kind, None)


def get_builder(kind: str) -> SheetBuilder:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise DeskError(_("没有“%(kind)s”这种报表。") % {"kind": kind}) from None


def registered_kinds() -> list[str]:
    """The registered kinds' values (``"finance"``, ``"courier_loss"`` ...), sorted: plain
    strings, so a command's help and its "invalid choice" message list what may be typed,
    not ``SheetKind.FINANCE``."""
    return sorted(str(Sheet.Kind(kind).value) for kind in _REGISTRY)


def scheduled_builders(kinds: list[str] | None = None) -> list[SheetBuilder]:
    return [
        builder
        for kind, builder in sorted(_REGISTRY.items())
        if builder.scheduled and (kinds is None or kind in kinds)
    ]


# The builders register themselves on import.
from . import courier_loss, exchange_slips, exchanges, finance, invoices  # noqa: E402, F401
