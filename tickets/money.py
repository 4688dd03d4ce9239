"""Money: CNY yuan as ``Decimal`` with two places, never a float (QUALITY.md "Money").

The one home for what every form, service, import and sheet does with an amount: read it from
what a person or a spreadsheet wrote (``parse_money``), round it to the cent (``cents``), and
add up ledger rows the way the caps and the sheets count them (``signed_sum``, ``counted``,
``counted_total``, ``committed_total``).
"""

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from tickets.errors import DeskError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY_MAX_DIGITS = 12
MONEY_PLACES = 2
# The largest amount a money column holds is 9,999,999,999.99 yuan.
MONEY_LIMIT = Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_PLACES)

# Plain digits, or digits grouped by thousands with commas ("1,234.50"), then at most a few
# decimals. No exponent ("1e28"), no underscores ("1_000"), no loose commas ("1,2,3"), no
# digits of other scripts: what a person means by an amount, and nothing Python's Decimal
# happens to accept as well.
_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+")
_LONGEST_INPUT = 40


class MoneyError(DeskError):
    """An amount that is not money the desk can take; the message names what was typed."""


def parse_money(raw, *, allow_zero: bool = False, blank_is_zero: bool = False) -> Decimal:
    """Reads an amount of yuan as a person or a seller-centre export writes it.

    Takes a ``str`` ('12', '12.5', '¥1,234.50', '８元', '￥ 30'), an ``int`` or a ``Decimal``;
    returns a ``Decimal`` quantized to the cent (``Decimal('12.50')``). Full-width characters
    are read as their ASCII forms (NFKC), so what an IME typed counts.

    Raises ``MoneyError`` (a ``DeskError`` with a message in the user's language) for text
    that is not an amount, a negative amount, more than two decimals, an amount of
    ``MONEY_LIMIT`` or more, and zero unless ``allow_zero``. ``blank_is_zero``: an empty cell
    means 0.00 (order exports leave postage blank). A ``float`` is a programming error:
    ``TypeError``.
    """
    if isinstance(raw, float):
        raise TypeError("money is never a float")
    if isinstance(raw, bool):
        raise TypeError("a bool is not money")
    if isinstance(raw, int | Decimal):
        amount = Decimal(raw)
        shown = str(raw)
        if not amount.is_finite():
            raise MoneyError(_("金额“%(raw)s”不是有效的数字。") % {"raw": shown})
    else:
        shown = "" if raw is None else str(raw)
        text = unicodedata.normalize("NFKC", shown).strip()
        text = text.removeprefix("¥").removesuffix("元").strip()
        if not text:
            if blank_is_zero:
                return ZERO
            raise MoneyError(_("请填写金额。"))
        negative = text.startswith("-")
        if negative:
            text = text[1:].strip()
        if len(text) > _LONGEST_INPUT or not _AMOUNT.fullmatch(text):
            raise MoneyError(
                _("金额“%(raw)s”不是有效的金额，请写成 12 或 1,234.50 这样的数字。")
                % {"raw": _shorten(shown)}
            )
        amount = Decimal(text.replace(",", ""))
        if negative and amount:
            amount = -amount
    return _checked(amount, shown, allow_zero=allow_zero)


def _checked(amount: Decimal, shown: str, *, allow_zero: bool) -> Decimal:
    if amount < 0:
        raise MoneyError(_("金额“%(raw)s”不能是负数。") % {"raw": _shorten(shown)})
    if amount == 0 and not allow_zero:
        raise MoneyError(_("金额必须大于 0。"))
    if amount >= MONEY_LIMIT:
        raise MoneyError(
            _("金额“%(raw)s”过大：最多 %(max)s 元。")
            % {"raw": _shorten(shown), "max": f"{MONEY_LIMIT - CENT:,}"}
        )
    # Compared before rounding, so 1.234 is refused rather than silently stored as 1.23.
    if amount.as_tuple().exponent < -MONEY_PLACES and amount != amount.quantize(CENT):
        raise MoneyError(_("金额“%(raw)s”最多两位小数。") % {"raw": _shorten(shown)})
    return amount.quantize(CENT)


def _shorten(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}…"


def cents(value) -> Decimal:
    """``value`` (Decimal, int or None as 0) rounded half-up to the cent: for shares of a price
    and for totals the database returned with more places."""
    if isinstance(value, float):
        raise TypeError("money is never a float")
    return (Decimal(value) if value is not None else ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


# --- ledger sums ---------------------------------------------------------------------
# A ledger row's amount is always positive; a reversal counts with the opposite sign.
# Compensation above the approval threshold counts once a supervisor approved it.


def signed_sum(entries: QuerySet) -> Decimal:
    """The total of ledger rows (a ``QuerySet[LedgerEntry]``), reversals subtracted, in yuan."""
    totals = entries.aggregate(
        plus=Sum("amount", filter=Q(reverses__isnull=True)),
        minus=Sum("amount", filter=Q(reverses__isnull=False)),
    )
    return cents((totals["plus"] or ZERO) - (totals["minus"] or ZERO))


def signed_sums_by(entries: QuerySet, key: str) -> dict:
    """``signed_sum`` per value of ``key`` (``"order_id"``, ``"ticket_id"``): {value: yuan}."""
    rows = entries.values(key).annotate(
        plus=Sum("amount", filter=Q(reverses__isnull=True)),
        minus=Sum("amount", filter=Q(reverses__isnull=False)),
    )
    return {row[key]: cents((row["plus"] or ZERO) - (row["minus"] or ZERO)) for row in rows}


def counted(entries: QuerySet) -> QuerySet:
    """The rows that count: not waiting for approval and not rejected (a reversal counts when
    the entry it reverses does)."""
    return entries.filter(
        Q(requires_approval=False, reverses__isnull=True)
        | Q(requires_approval=True, approval__approved=True)
        | Q(reverses__isnull=False, reverses__requires_approval=False)
        | Q(reverses__isnull=False, reverses__approval__approved=True)
    )


def counted_total(entries: QuerySet) -> Decimal:
    """What the rows add up to once approvals are taken into account (yuan)."""
    return signed_sum(counted(entries))


def not_rejected(entries: QuerySet) -> QuerySet:
    """Counted rows plus rows still waiting for a supervisor: what a cap must leave room for."""
    return entries.exclude(approval__approved=False).exclude(reverses__approval__approved=False)


def committed_total(entries: QuerySet) -> Decimal:
    """Counted money plus money waiting for approval (yuan)."""
    return signed_sum(not_rejected(entries))


# --- the same rules on rows already read ---------------------------------------------
# A page that shows an order's ledger reads its rows once and adds them up in Python instead
# of asking the database again for each sum (the ticket page asked five times, 38 % of its
# time: bench/README.md, "The load benchmark"). These mirror ``counted``, ``not_rejected`` and
# ``signed_sum`` row for row; tests/tickets/test_ticket_page_money.py holds them to the
# queryset versions. The rows need ``select_related("approval", "reverses__approval")``.


def _approval(entry):
    """The entry's approval or None (reading a missing reverse one-to-one raises)."""
    return getattr(entry, "approval", None)


def is_counted(entry) -> bool:
    """``counted`` for one ledger row read with its approval and its reversed entry's."""
    approval = _approval(entry)
    if entry.reverses_id is None:
        if not entry.requires_approval:
            return True
        return approval is not None and approval.approved
    original = entry.reverses
    if entry.requires_approval and approval is not None and approval.approved:
        return True
    if not original.requires_approval:
        return True
    original_approval = _approval(original)
    return original_approval is not None and original_approval.approved


def is_not_rejected(entry) -> bool:
    """``not_rejected`` for one ledger row read with its approval and its reversed entry's."""
    approval = _approval(entry)
    if approval is not None and approval.approved is False:
        return False
    if entry.reverses_id is not None:
        original_approval = _approval(entry.reverses)
        if original_approval is not None and original_approval.approved is False:
            return False
    return True


def signed_total(entries) -> Decimal:
    """``signed_sum`` of rows already read (any iterable of ledger rows or exchange charges,
    which are signed the same way), in yuan."""
    plus = minus = ZERO
    for entry in entries:
        if entry.reverses_id is None:
            plus += entry.amount
        else:
            minus += entry.amount
    return cents(plus - minus)


def signed_totals_by(entries, key: str) -> dict:
    """``signed_sums_by`` of rows already read: {value of attribute ``key``: yuan}, a key
    present only when some row has it."""
    groups: dict = {}
    for entry in entries:
        groups.setdefault(getattr(entry, key), []).append(entry)
    return {value: signed_total(rows) for value, rows in groups.items()}
