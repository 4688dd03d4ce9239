"""Reads. The one place that decides which shops, orders, tickets and money a user may see,
and what the rules still allow (a ticket's next moves, the refund room).

Every list, detail page, search, count, dashboard and export starts from one of these
querysets, so a rule changed here holds everywhere. Services ask the same questions here
before they write.
"""

import math
import re
import time
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    CharField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Lookup,
    Max,
    Q,
    QuerySet,
    Value,
)
from django.db.models.lookups import Contains, Exact, StartsWith
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .models import (
    BuyerNick,
    LedgerEntry,
    Notification,
    Order,
    ReturnParcel,
    SavedView,
    Shop,
    Ticket,
    TicketItem,
    User,
)
from .money import (
    CENT,
    ZERO,
    cents,
    committed_total,
    counted_total,
    is_counted,
    is_not_rejected,
    not_rejected,
    signed_sums_by,
    signed_total,
    signed_totals_by,
)
from .roles import Role, user_roles
from .text import fold_case, normalise_tracking_no, plain_int, search_text
from .workflow import LIST_ONLY, allowed_next, manual_next

S = Ticket.Status
K = LedgerEntry.Kind


def visible_shops(user) -> QuerySet[Shop]:
    """Shops whose data the user may see: all for superusers and all-shop staff,
    the shops they serve for the rest, none for an account without a desk role."""
    shops = Shop.objects.all()
    if not user_roles(user):
        return shops.none()
    if user.is_superuser or user.all_shops:
        return shops
    return shops.filter(staff=user)


def visible_shop_ids(user) -> list[int]:
    """The ids of ``visible_shops(user)``, read once per request and kept on the user: a
    literal ``shop_id IN (1, 2, 3)`` lets PostgreSQL plan with its statistics, where a
    subquery over the staff table would leave it guessing."""
    cached = getattr(user, "_desk_shop_ids", None)
    if cached is None:
        cached = list(visible_shops(user).values_list("pk", flat=True))
        user._desk_shop_ids = cached
    return cached


def scope_to_user(queryset: QuerySet, user, shop_field: str = "shop") -> QuerySet:
    """Limits any shop-owned queryset to the shops the user may see."""
    if not user_roles(user):
        return queryset.none()
    if user.is_superuser or user.all_shops:
        return queryset
    return queryset.filter(**{f"{shop_field}__in": visible_shop_ids(user)})


def can_work_on(user, shop_id: int) -> bool:
    """Whether ``user`` works tickets (agent or supervisor) of the shop ``shop_id``."""
    return bool(user_roles(user) & {Role.AGENT, Role.SUPERVISOR}) and shop_id in visible_shop_ids(
        user
    )


def work_refusal(user, shop_id: int) -> str | None:
    """Why ``user`` (someone being given the work) can't work tickets of the shop
    ``shop_id``, or None when they can (``can_work_on``): the role is said first, so a
    finance user is not told they don't serve a shop they do read."""
    if not user_roles(user) & {Role.AGENT, Role.SUPERVISOR}:
        return _("%(name)s 不是客服或主管，不能接手售后工作。") % {"name": user}
    if not can_work_on(user, shop_id):
        return _("%(name)s 不负责这家店铺。") % {"name": user}
    return None


def visible_orders(user) -> QuerySet[Order]:
    return scope_to_user(Order.objects.all(), user)


def visible_tickets(user, *, shop_as_filter: bool = False) -> QuerySet[Ticket]:
    """The tickets of the shops the user may see (``scope_to_user``).

    ``shop_as_filter`` for a query that another condition drives (created today, assigned to
    me): the shop is then checked on the rows that condition finds, through an expression no
    index serves. Given ``shop_id IN (...)`` PostgreSQL ANDs in a bitmap of every ticket of
    the user's shops (364,000 entries at a million tickets, 40-80 ms) to skip a few thousand
    rows it reads anyway (bench/README.md, "The dashboard at a million tickets")."""
    if not shop_as_filter:
        return scope_to_user(Ticket.objects.all(), user)
    tickets = Ticket.objects.alias(shop_checked=unindexed(Ticket, "shop_id"))
    return scope_to_user(tickets, user, shop_field="shop_checked")


class _Appended(Func):
    """``(column || '')``: a text column as an expression equal to it."""

    template = "(%(expressions)s || '')"
    output_field = CharField()


def unindexed(model, column: str):
    """``model``'s ``column`` (its attname: ``shop_id``, ``status``, ``created_at``) as an
    expression equal to it that no index serves: ``shop_id + 0``, ``(status || '')``,
    ``created_at + '0'::interval``. For a condition checked on the rows another condition
    finds: PostgreSQL, given the bare column, ANDs in a bitmap of that column's index (every
    ticket of the user's shops, every open ticket: tens of thousands of entries) to skip a
    handful of rows it reads anyway (bench/README.md, issues 11 and 14). The integer and
    text forms read the same on SQLite (the dashboard gives it the shop's); the time's is
    for PostgreSQL."""
    field = model._meta.get_field(column.removesuffix("_id"))
    name = F(column)
    if isinstance(field, DateTimeField):
        return ExpressionWrapper(name + Value(timedelta(0)), output_field=DateTimeField())
    if isinstance(field, CharField):
        return _Appended(name)
    return ExpressionWrapper(name + 0, output_field=IntegerField())


def visible_ledger(user) -> QuerySet[LedgerEntry]:
    return scope_to_user(LedgerEntry.objects.all(), user)


def visible_parcels(user) -> QuerySet[ReturnParcel]:
    """Parcels of the user's shops, plus unknown parcels (no shop yet) that anyone
    at the desk may match."""
    parcels = ReturnParcel.objects.all()
    if not user_roles(user):
        return parcels.none()
    if user.is_superuser or user.all_shops:
        return parcels
    return parcels.filter(Q(shop__in=visible_shop_ids(user)) | Q(shop__isnull=True))


class AnyOf(Lookup):
    """``AnyOf(F("order_id"), [3, 5, 8])``, a filter: the column is one of the ids. On
    PostgreSQL ``order_id = ANY(%s)`` with the list as one array parameter; SQLite gets the
    usual ``IN (%s, %s, …)``. A search hands the ticket list up to 1,000 order ids: as 1,000
    placeholders they were compiled and adapted one by one, a tenth of the searched list's
    server time (bench/README, issue 11)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*params, values]
        if not values:
            raise EmptyResultSet
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*params, *values]


def page_of(tickets: QuerySet[Ticket], start: int, stop: int) -> list[Ticket]:
    """Rows ``start``..``stop`` of the sorted ``tickets`` (a queryset with its
    ``select_related``), in two queries: the page's ids from the ticket table alone, then
    those rows with what they are shown with. In one query PostgreSQL joins every matching
    ticket to its order before the sort keeps a page of them: a searched list of 471 tickets
    read 471 orders to show 26 (17.8 ms against 3.3 ms at a million), the dashboard's
    unassigned queue 1,932 for 10 (bench/README, issue 11). ``tickets`` may hold no
    annotation: the rows are read again by id with its ``select_related`` and its
    ``only``/``defer`` only."""
    ids = list(tickets.values_list("pk", flat=True)[start:stop])
    if not ids:
        return []
    # The rows by id alone: the filters already chose them (a search's 500 order ids, said
    # again, were a fifth of the searched list's server time).
    rows = Ticket.objects.filter(pk__in=ids).select_related(*_related_paths(tickets))
    names, deferred = tickets.query.deferred_loading
    if names:
        rows = rows.defer(*names) if deferred else rows.only(*names)
    by_id = {ticket.pk: ticket for ticket in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def _related_paths(queryset: QuerySet) -> list[str]:
    """The ``select_related`` of ``queryset`` as the paths that give it back
    (``{"order": {"courier": {}}}`` -> ``["order__courier"]``)."""

    def walk(tree: dict, prefix: str):
        for name, below in tree.items():
            if below:
                yield from walk(below, f"{prefix}{name}__")
            else:
                yield f"{prefix}{name}"

    related = queryset.query.select_related
    return list(walk(related, "")) if isinstance(related, dict) else []


# --- the search boxes -------------------------------------------------------------------
# A ticket number as agents read it out: T00000081, T81, t81 (``Ticket.number``).
TICKET_NUMBER = re.compile(r"[Tt]([0-9]{1,12})")
# Nicknames are at most this long (``Order.buyer_nick``): a longer term can't be part of one.
NICK_MAX = 64
# Below this many characters a term has no trigram of its own, so it matches nicknames that
# start with it rather than contain it (an infix search of one or two characters would read
# every order). Three and more: anywhere in the nickname.
NICK_INFIX_MIN = 3
# The nickname search reads at most this many matching orders, newest first, for buyers.
BUYER_SCAN = 200
# A whole nickname in any case: at most this many stored spellings are looked up.
NICK_CASES = 50


def search_term(raw: str | None) -> str:
    """What a search box searches for: full-width letters and digits read as ASCII, no
    whitespace or invisible characters anywhere (``tickets.text.search_text``: 'Ｔ１６',
    'TB05\u200b2015' are 'T16', 'TB052015'), without the ``="…"`` and ``'…`` marks
    spreadsheets put around numbers. Every search box (the top bar, the ticket list's ``q``,
    the buyer lookups) reads its term through this."""
    return search_text(raw).lstrip("'=\"").strip('"')


class _FoldCase(Func):
    """``DESK_UPPER(field)``: SQLite's own UPPER and LIKE fold ASCII letters only, so the desk
    registers this function on every SQLite connection (``tickets.apps``), folding every
    script as PostgreSQL's UPPER does ('élodie' -> 'ÉLODIE')."""

    function = "DESK_UPPER"
    output_field = CharField()


_FOLDED_LOOKUPS = {"icontains": Contains, "istartswith": StartsWith, "iexact": Exact}


def _nick_lookup(field: str, lookup: str, term: str) -> Q:
    """``field__<lookup>=term`` for a case-insensitive ``lookup``. PostgreSQL's
    ``UPPER(…) LIKE UPPER(…)`` folds every script's case and is what the trigram index
    serves; on SQLite both sides are folded by ``_FoldCase`` so the answers are the same."""
    if connection.vendor != "sqlite":
        return Q(**{f"{field}__{lookup}": term})
    return Q(_FOLDED_LOOKUPS[lookup](_FoldCase(F(field)), fold_case(term)))


def ticket_number_pk(term: str) -> int | None:
    """The ticket id in a ticket number (``T00000081``, ``T81``, ``t81`` -> 81), or None when
    ``term`` is not one."""
    match = TICKET_NUMBER.fullmatch(term)
    return int(match.group(1)) or None if match else None


def nick_condition(term: str, field: str = "buyer_nick") -> Q | None:
    """Nicknames that hold ``term``, whatever the case (``tb052015`` finds ``TB052015``,
    ``安安`` finds ``安安小屋``): anywhere in the nickname from NICK_INFIX_MIN characters on,
    at its start below that. ``%``, ``_`` and ``\\`` are matched as themselves. None when no
    nickname can hold ``term`` (empty, or longer than a nickname).

    On PostgreSQL this is ``UPPER(buyer_nick::text) LIKE UPPER(…)``; on SQLite both sides are
    folded by the desk's own function (``_nick_lookup``), so 'élo' finds 'ÉLODIE' on both.
    Orders are searched through the distinct nicknames (``nick_matches``), whose trigram
    index serves it; a short table (VIPs) is read whole. The term is
    folded to ASCII (``search_term``) but a nickname is matched as stored: a nickname saved
    with full-width letters is found by full-width letters only."""
    lookup = nick_lookup(term)
    return None if lookup is None else _nick_lookup(field, lookup, term)


def nick_lookup(term: str) -> str | None:
    """How ``nick_condition`` matches ``term``: ``icontains`` from NICK_INFIX_MIN characters
    on, ``istartswith`` below that, None when no nickname can hold it."""
    if not term or len(term) > NICK_MAX:
        return None
    return "icontains" if len(term) >= NICK_INFIX_MIN else "istartswith"


def nick_matches(term: str, lookup: str = "icontains") -> QuerySet[BuyerNick]:
    """The distinct nicknames (``BuyerNick``) holding ``term`` by ``lookup`` (``icontains``,
    ``istartswith`` or ``iexact``), whatever the case, as ``nick_condition`` reads them: a
    query of one column, ``nick``, for a subquery or a short list. On PostgreSQL the trigram
    index ``buyernick_trgm_idx`` (migration 0024) serves all three lookups."""
    return BuyerNick.objects.filter(_nick_lookup("nick", lookup, term)).values("nick")


def order_search(user, term: str) -> QuerySet[Order]:
    """Orders found by the one search box: order no., Alipay no., outbound tracking no., the
    last four digits of the receiver's phone, or the buyer's whole nickname in any case.
    Each is an indexed lookup, so the search stays fast over millions of orders. (A ticket
    number, a return tracking no. or part of a nickname: ``ticket_search``,
    ``buyer_search``.)"""
    term = search_term(term)
    if not term:
        return Order.objects.none()
    condition = Q(tracking_no=normalise_tracking_no(term))
    if len(term) <= NICK_MAX:
        # The nicknames first, as a list: inside an OR a subquery can't use the index, so
        # PostgreSQL would read every order. A nickname in any case is a handful at most.
        nicks = [row["nick"] for row in nick_matches(term, "iexact")[:NICK_CASES]]
        if nicks:
            condition |= Q(buyer_nick__in=nicks)
    if plain_int(term, digits=32) is not None:
        condition |= Q(order_no=term) | Q(alipay_no=term)
        if len(term) == 4:
            condition |= Q(receiver_phone_tail=term)
    return visible_orders(user).filter(condition)


def ticket_search(user, term: str) -> QuerySet[Ticket]:
    """Tickets found by the search box itself: by ticket number (``T00000081``, ``T81``) or by
    return tracking number, among the user's shops. Both are indexed lookups (the primary
    key, ``return_tracking_no``)."""
    term = search_term(term)
    if not term:
        return Ticket.objects.none()
    condition = Q(return_tracking_no=normalise_tracking_no(term))
    number = ticket_number_pk(term)
    if number is not None:
        condition |= Q(pk=number)
    return visible_tickets(user).filter(condition)


def parcel_search(user, term: str) -> QuerySet[ReturnParcel]:
    """Registered return parcels whose tracking number is ``term`` (full-width, spaces and
    case aside), among ``visible_parcels``: the user's shops' and the unknown ones anyone at
    the desk may match. An indexed lookup (``tracking_no`` is unique)."""
    tracking_no = normalise_tracking_no(search_term(term))
    if not tracking_no:
        return ReturnParcel.objects.none()
    return visible_parcels(user).filter(tracking_no=tracking_no)


# How long a process keeps PostgreSQL's row estimates that ``nick_orders`` chooses its way by.
TABLE_SIZES_SECONDS = 600.0
_table_sizes: tuple[float, tuple[float, float, int]] | None = None


def table_sizes() -> tuple[float, float, int]:
    """(orders, distinct nicknames, shops): PostgreSQL's own estimates of the first two
    (``pg_class.reltuples``, kept by ANALYZE and autovacuum; 0.0 for a table never analysed,
    whose estimate is -1) and the number of shops (at least 1), read at most every
    TABLE_SIZES_SECONDS per process. PostgreSQL only."""
    global _table_sizes
    now = time.monotonic()
    if _table_sizes is None or now - _table_sizes[0] > TABLE_SIZES_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT reltuples FROM pg_class WHERE oid = %s::regclass),"
                " (SELECT reltuples FROM pg_class WHERE oid = %s::regclass)",
                [Order._meta.db_table, BuyerNick._meta.db_table],
            )
            orders, nicks = cursor.fetchone()
        shops = Shop.objects.count()
        _table_sizes = (now, (max(float(orders), 0.0), max(float(nicks), 0.0), max(shops, 1)))
    return _table_sizes[1]


# The most matching nicknames a search hands PostgreSQL as a list of values (each one a
# parameter of the query); a term matching more that still should not walk goes through the
# nickname table as a subquery.
NICK_LIST_MAX = 2000


def nick_way(
    user, term: str, wanted: int, lookup: str = "icontains"
) -> list[str] | QuerySet | None:
    """How ``nick_orders`` reaches the newest ``wanted`` orders of ``user``'s shops whose
    nickname matches ``term`` by ``lookup`` (``nick_lookup``): None to walk every order newest
    first (``order_placed_walk_idx``); else the matching nicknames, whose orders are read one
    nickname at a time (``order_nick_placed_idx``), as a list of the nicknames themselves
    (PostgreSQL) or a subquery (SQLite; a term that matches more than NICK_LIST_MAX).

    Both ways read index entries only, at about the same cost each (bench/README, issue 11),
    so the way that reads fewer wins. With O orders, N nicknames, m of them matching, and the
    user's shops a share s of the orders:

    - through the nicknames: every order of the m nicknames, m·O/N entries;
    - walking: until ``wanted`` matches turn up, wanted·N/(m·s) entries;

    equal at m* = N·√(wanted/(s·O)): a term held by more nicknames than that (three letters
    common in nicknames: 1,000 of 20,000 at a million orders) walks. The matching nicknames
    are read up to m* (the trigram index) and, when fewer, handed to the orders' query as
    values: PostgreSQL then knows how many orders they hold. As a subquery it guessed a
    hundredth of all nicknames for any term, so for a rare one (11 nicknames, 589 orders) it
    walked 358,000 orders itself: 400 ms for a supervisor's order search (bench/README,
    eleventh session). The sizes are PostgreSQL's estimates (``table_sizes``) and s assumes
    the shops are of a size. Never walks on SQLite (one way is all it needs), nor while
    PostgreSQL does not know the sizes (a table not analysed since a bulk load): taken as one
    nickname, every search walked a million orders (966 ms, issue 14), where the nickname
    table is bounded by the matches."""
    matching = nick_matches(term, lookup)
    if connection.vendor != "postgresql":
        return matching
    orders, nicks, shops = table_sizes()
    if orders < 1 or nicks < 1:
        return matching
    share = 1.0 if user.is_superuser or user.all_shops else len(visible_shop_ids(user)) / shops
    if share <= 0:
        return matching
    crossover = math.ceil(nicks * math.sqrt(wanted / (share * orders)))
    found = [row["nick"] for row in matching[: min(crossover, NICK_LIST_MAX)]]
    if len(found) >= crossover:
        return None
    if len(found) < NICK_LIST_MAX:
        return found
    # More than a list should carry, and the crossover is further still (an agent of one
    # shop in thirty): counted up to it, as the way is chosen by the count.
    return None if matching[:crossover].count() >= crossover else matching


def nick_orders(user, term: str, wanted: int = BUYER_SCAN) -> QuerySet[Order]:
    """The user's orders whose buyer's nickname holds ``term`` (``nick_condition``), newest
    first (``placed_at``, then id); none when no nickname can hold it. Callers slice it to at
    most ``wanted`` (+1) orders: a short term may match a large share of all orders.

    Each term takes one of two ways, the cheaper for it (``nick_way``): a term many buyers
    hold walks the newest orders (``order_placed_walk_idx``: time, id, nickname and shop, so
    no order row is read) and stops after ``wanted``; a rarer one reads the matching
    nicknames from their own table (trigram index), then each one's orders from
    ``order_nick_placed_idx`` alone. A one- or two-character prefix too: ``tb`` starts one
    nickname in twenty and walks, but a prefix few or no buyers have walked the whole table
    before (1.3-2.6 s at a million orders for ``a``, ``12``, ``T1``: hostile review of issue
    11) and now asks the nickname table first. Either way the shop is checked through an
    expression no index serves: given ``shop_id IN (...)`` PostgreSQL would AND in the
    shop_id index, a bitmap of every order of the user's shops (364,000 at a million orders,
    25 ms)."""
    term = search_term(term)
    lookup = nick_lookup(term)
    if lookup is None:
        return Order.objects.none()
    nicks = nick_way(user, term, wanted, lookup)
    if nicks is None:
        orders = Order.objects.filter(nick_condition(term))
    elif isinstance(nicks, list):
        if not nicks:
            return Order.objects.none()
        # one array parameter, not a placeholder per nickname (``AnyOf``)
        orders = Order.objects.filter(AnyOf(F("buyer_nick"), nicks))
    else:
        orders = Order.objects.filter(buyer_nick__in=nicks)
    orders = orders.alias(shop_checked=unindexed(Order, "shop_id"))
    return scope_to_user(orders, user, shop_field="shop_checked").order_by("-placed_at", "-id")


def buyer_search(user, term: str, limit: int = 20) -> list[str]:
    """Nicknames of buyers holding ``term`` (``nick_condition``) in the user's shops, the one
    who ordered last first: at most ``limit + 1`` of them, so a caller can tell there are
    more. Reads at most BUYER_SCAN matching orders, so a term that matches half the shop
    still costs one bounded query."""
    nicks = nick_orders(user, term, BUYER_SCAN).values_list("buyer_nick", flat=True)[:BUYER_SCAN]
    return list(dict.fromkeys(nicks))[: limit + 1]


def staff_for_shops(shops) -> QuerySet[User]:
    """Active agents and supervisors who serve any of ``shops`` (a Shop queryset or ids):
    the people a ticket of those shops may be assigned to."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=[Role.AGENT, Role.SUPERVISOR]) | Q(is_superuser=True))
        .filter(Q(all_shops=True) | Q(is_superuser=True) | Q(shops__in=shops))
        .distinct()
        .order_by("username")
    )


# --- a ticket's next moves ---------------------------------------------------------
def transition_refusal(
    ticket: Ticket, to_status: str, *, by_list: bool = False, ledger=None
) -> str | None:
    """Why ``ticket`` may not move to ``to_status`` now, or None when it may.

    Moves that only the exchange-goods list makes (``workflow.LIST_ONLY``: onto a list, back
    off it, shipped from a signed list) are refused unless ``by_list``, whoever asks.
    ``ledger``: the ticket's ledger rows when the caller has read them already (with
    ``approval`` and ``reverses__approval``), so the money moves ask nothing more."""
    allowed = allowed_next(ticket.kind, ticket.status)
    list_only = (ticket.kind, ticket.status, to_status) in LIST_ONLY
    on_list = not by_list and ticket.status == S.ON_EXCHANGE_LIST
    if on_list and (to_status not in allowed or list_only):
        return _(
            "这张售后单在换货清单上，只能按清单发货。要撤销或改动，请主管先把它移出换货清单"
            "（已签字的清单移出后要重新签字）。"
        )
    if to_status not in allowed:
        # The moves a person can make from here: a list-only one is never offered by hand.
        offered = allowed if by_list else manual_next(ticket.kind, ticket.status)
        labels = pgettext("list separator", "、").join(str(S(s).label) for s in offered)
        return _("%(kind)s单不能从“%(from)s”变为“%(to)s”。现在可以变为：%(allowed)s。") % {
            "kind": ticket.get_kind_display(),
            "from": ticket.get_status_display(),
            "to": S(to_status).label,
            "allowed": labels or _("无（已完结）"),
        }
    if not by_list and list_only:
        return _("“%(to)s”由每天 17:00 的换货清单自动完成，不能手动改。") % {
            "to": S(to_status).label
        }
    money = {S.REFUNDED: "refund", S.COMPENSATED: "compensation"}.get(to_status)
    if money and not _counted_of_kind(ticket, money, ledger) > 0:
        return (
            _("还没有登记退款，不能标记为“已退款”。请先登记退款。")
            if money == "refund"
            else _("还没有已生效的赔偿，不能标记为“已赔偿”。请先登记赔偿（超额需主管审批）。")
        )
    return None


def _counted_of_kind(ticket: Ticket, kind: str, ledger) -> Decimal:
    if ledger is None:
        return counted_total(ticket.ledger_entries.filter(kind=kind))
    # The ticket's own rows only, whatever rows the caller passed (the order's, say).
    return signed_total(
        e for e in ledger if e.ticket_id == ticket.pk and e.kind == kind and is_counted(e)
    )


def open_promises(ticket: Ticket):
    """Promises on ``ticket`` neither kept nor waived (违背承诺: shown until dealt with)."""
    return ticket.promises.filter(fulfilled_at__isnull=True, waived_at__isnull=True)


def find_ticket_for_parcel(user: User, tracking_no: str) -> Ticket | None:
    """The open ticket whose return tracking number this is, among the user's shops."""
    return (
        visible_tickets(user)
        .open()
        .filter(return_tracking_no=tracking_no)
        .select_related("order")
        .order_by("-created_at")
        .first()
    )


# --- what money the rules still allow ------------------------------------------------
def ticket_refund_cap(ticket: Ticket) -> Decimal:
    """What the buyer paid for the ticket's items (by quantity share of each order item),
    in yuan."""
    return sum(
        (
            _share(item.order_item.paid_amount, item.quantity, item.order_item.quantity)
            for item in ticket.items.select_related("order_item")
        ),
        ZERO,
    )


def _share(paid: Decimal, quantity: int, of: int) -> Decimal:
    return cents(paid * quantity / of)


def _refunded_by_ticket(order: Order, entries=None) -> dict[int, Decimal]:
    """Refunds (counted or waiting, reversals subtracted) per ticket of ``order``; from
    ``entries`` (the order's ledger rows, read as ``refund_room`` says) when given."""
    if entries is not None:
        refunds = (
            e
            for e in entries
            if e.kind == K.REFUND and e.ticket_id is not None and is_not_rejected(e)
        )
        return signed_totals_by(refunds, "ticket_id")
    refunds = order.ledger_entries.filter(kind=K.REFUND, ticket__isnull=False)
    return signed_sums_by(not_rejected(refunds), "ticket_id")


def paid_out_by_order(order_ids) -> dict[int, Decimal]:
    """Refunds and compensation made or waiting for approval, per order (yuan): what an
    order's paid amount may never fall below."""
    entries = LedgerEntry.objects.filter(
        order_id__in=order_ids, kind__in=[K.REFUND, K.COMPENSATION]
    )
    return signed_sums_by(not_rejected(entries), "order_id")


def ticketed_quantities(order_item_ids) -> dict[int, int]:
    """The most any ticket not cancelled holds of each order item: what the item's ordered
    quantity may never fall below."""
    rows = (
        TicketItem.objects.filter(order_item_id__in=order_item_ids)
        .exclude(ticket__status=Ticket.Status.CANCELLED)
        .values("order_item_id")
        .annotate(most=Max("quantity"))
    )
    return {row["order_item_id"]: row["most"] for row in rows}


def order_ticket_items(order: Order) -> list[TicketItem]:
    """Every ticket item of ``order`` (any of its tickets) with its order item, by id: what
    ``_item_room`` shares a refund over; the ticket page takes its own items from it too."""
    return list(
        TicketItem.objects.filter(ticket__order=order).select_related("order_item").order_by("pk")
    )


def _item_room(order: Order, ticket: Ticket, *, entries=None, items=None) -> Decimal:
    """The largest refund ``ticket`` may still take so that no order item is refunded for more
    than the buyer paid for it, whichever tickets refunded it.

    A refund on a ticket counts against the ticket's items in proportion to what the buyer
    paid for each (the ticket's share of that order item), so two tickets on the same item
    share one cap: one 100.00 item refunded in full on one ticket leaves 0.00 for the next.
    """
    shares: dict[int, dict[int, Decimal]] = defaultdict(dict)
    paid: dict[int, Decimal] = {}
    if items is None:
        items = TicketItem.objects.filter(ticket__order=order).select_related("order_item")
    for item in items:
        line = item.order_item
        paid[line.pk] = line.paid_amount
        shares[item.ticket_id][line.pk] = _share(line.paid_amount, item.quantity, line.quantity)
    refunded = _refunded_by_ticket(order, entries)
    taken: dict[int, Decimal] = defaultdict(Decimal)
    for ticket_id, amount in refunded.items():
        cap = sum(shares[ticket_id].values(), ZERO)
        for line_id, share in shares[ticket_id].items():
            if cap:
                taken[line_id] += amount * share / cap
    own = shares[ticket.pk]
    cap = sum(own.values(), ZERO)
    room = cap - refunded.get(ticket.pk, ZERO)
    for line_id, share in own.items():
        if share:
            room = min(room, (paid[line_id] - taken[line_id]) * cap / share)
    return room.quantize(CENT, rounding=ROUND_DOWN)


def order_ledger(order: Order) -> list[LedgerEntry]:
    """Every ledger row of ``order`` (on any of its tickets or outside them), by time, with
    what the ticket page shows of each and what its sums need (``tickets.money.is_counted``):
    the one read of the order's money that ``refund_room`` and the page's totals share."""
    rows = list(
        order.ledger_entries.select_related("recorded_by", "approval").order_by("recorded_at", "id")
    )
    # A reversal is recorded on the order of the entry it reverses (``ledger_reverse``), so
    # both are among the rows: each is linked to the other here instead of by two more joins
    # of the whole row (a third of this query's CPU: Django compiles every join's columns).
    by_pk = {entry.pk: entry for entry in rows}
    reversal_of = {entry.reverses_id: entry for entry in rows if entry.reverses_id is not None}
    reverses = LedgerEntry._meta.get_field("reverses")
    reversal = LedgerEntry._meta.get_field("reversal")
    for entry in rows:
        if entry.reverses_id in by_pk:
            reverses.set_cached_value(entry, by_pk[entry.reverses_id])
        reversal.set_cached_value(entry, reversal_of.get(entry.pk))
    return rows


def refund_room(order: Order, ticket: Ticket | None, *, entries=None, items=None) -> Decimal:
    """The largest refund the rules allow now on this order (and ticket), in yuan: what the
    buyer paid minus refunds and compensation already made or waiting for approval, and for a
    ticket also what is left on its items (``_item_room``). QUALITY.md 18.

    ``entries`` (``order_ledger(order)``) and ``items`` (``order_ticket_items(order)``): the
    order's rows when the caller has read them already; the sums are then made in Python,
    by the same rules, instead of three more queries."""
    if entries is None:
        order_paid_out = committed_total(
            order.ledger_entries.filter(kind__in=[K.REFUND, K.COMPENSATION])
        )
    else:
        order_paid_out = signed_total(
            e for e in entries if e.kind in (K.REFUND, K.COMPENSATION) and is_not_rejected(e)
        )
    room = order.paid_amount - order_paid_out
    if ticket is not None:
        room = min(room, _item_room(order, ticket, entries=entries, items=items))
    return max(room, ZERO)


# --- the ticket list's saved views --------------------------------------------------
def saved_views_for(user) -> QuerySet[SavedView]:
    """The saved views the ticket list offers ``user``: their own and every view a supervisor
    whose account is still active shared with the team (owner loaded), by name. What a view
    shows is still limited by the list's own scope: a view naming a shop the user doesn't
    serve shows none of its tickets."""
    return SavedView.objects.filter(
        Q(owner=user) | Q(shared=True, owner__is_active=True)
    ).select_related("owner")


# --- who is told, and what is about to be late (issue 13) ---------------------------
def supervisors_for_shop(shop_id: int | None) -> QuerySet[User]:
    """Active supervisors serving ``shop_id`` (``all_shops`` or the shop in their list); None:
    every active supervisor. Superusers are not supervisors here unless they hold the role."""
    people = User.objects.filter(is_active=True, groups__name=Role.SUPERVISOR)
    if shop_id is not None:
        people = people.filter(Q(all_shops=True) | Q(shops=shop_id))
    return people.distinct().order_by("username")


def staff_with_roles(*roles: Role) -> QuerySet[User]:
    """Active users holding any of ``roles`` (group membership)."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[r.value for r in roles])
        .distinct()
        .order_by("username")
    )


def tickets_near_breach(now, soon, limit: int = 500):
    """Open tickets with a due time in (``now``, ``soon``] not met yet, as (ticket, which,
    due) with ``which`` "first" (the first reply) or "resolution"; soonest first, at most
    ``limit``. The same due-time columns as ``TicketQuerySet.overdue``, read a little ahead;
    a ticket whose clock is paused (``paused_at``, waiting for the buyer or the parcel) is not
    about to breach anything, its due times move when the clock restarts."""
    first = Q(first_responded_at__isnull=True, first_response_due__gt=now) & Q(
        first_response_due__lte=soon
    )
    resolution = Q(resolved_at__isnull=True, resolution_due__gt=now) & Q(resolution_due__lte=soon)
    rows = (
        Ticket.objects.open()
        .filter(paused_at__isnull=True)
        .filter(first | resolution)
        .select_related("shop", "assignee")
        .order_by("resolution_due", "id")[:limit]
    )
    found = []
    for ticket in rows:
        if ticket.first_responded_at is None and now < ticket.first_response_due <= soon:
            found.append((ticket, "first", ticket.first_response_due))
        if ticket.resolved_at is None and now < ticket.resolution_due <= soon:
            found.append((ticket, "resolution", ticket.resolution_due))
    return sorted(found, key=lambda row: row[2])


def my_notifications(user) -> QuerySet[Notification]:
    """``user``'s own notifications, newest first (nobody reads another's)."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_notification_count(user) -> int:
    """How many of ``user``'s notifications are unread: the bell's number (one query on the
    partial index ``notification_unread_idx``)."""
    if not user.is_authenticated:
        return 0
    return my_notifications(user).filter(read_at__isnull=True).count()
