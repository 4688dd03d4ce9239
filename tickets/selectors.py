"""Reads. The one place that decides which shops, orders, tickets and money a user may see.

Every list, detail page, search, count, dashboard and export starts from one of these
querysets, so a rule changed here holds everywhere.
"""

from django.db.models import Q, QuerySet

from .models import (
    LedgerEntry,
    Order,
    ReturnParcel,
    Shop,
    Ticket,
    User,
)
from .roles import Role, user_roles
from .text import normalise_tracking_no


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


def visible_orders(user) -> QuerySet[Order]:
    return scope_to_user(Order.objects.all(), user)


def visible_tickets(user) -> QuerySet[Ticket]:
    return scope_to_user(Ticket.objects.all(), user)


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


def order_search(user, term: str) -> QuerySet[Order]:
    """Orders found by the one search box: order no., Alipay no., buyer nickname, outbound
    tracking no., or the last four digits of the receiver's phone. Each is an exact lookup on
    an indexed column, so the search stays fast over millions of orders."""
    term = "".join((term or "").split()).lstrip("'=\"").strip('"')
    if not term:
        return Order.objects.none()
    condition = Q(buyer_nick=term) | Q(tracking_no=normalise_tracking_no(term))
    if term.isdigit():
        condition |= Q(order_no=term) | Q(alipay_no=term)
        if len(term) == 4:
            condition |= Q(receiver_phone_tail=term)
    return visible_orders(user).filter(condition)


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
