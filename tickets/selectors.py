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
)
from .roles import user_roles


def visible_shops(user) -> QuerySet[Shop]:
    """Shops whose data the user may see: all for superusers and all-shop staff,
    the shops they serve for the rest, none for an account without a desk role."""
    shops = Shop.objects.all()
    if not user_roles(user):
        return shops.none()
    if user.is_superuser or user.all_shops:
        return shops
    return shops.filter(staff=user)


def scope_to_user(queryset: QuerySet, user, shop_field: str = "shop") -> QuerySet:
    """Limits any shop-owned queryset to the shops the user may see."""
    if not user_roles(user):
        return queryset.none()
    if user.is_superuser or user.all_shops:
        return queryset
    return queryset.filter(**{f"{shop_field}__in": visible_shops(user).values("pk")})


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
    return parcels.filter(Q(shop__in=visible_shops(user).values("pk")) | Q(shop__isnull=True))
