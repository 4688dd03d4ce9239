"""What a token may read: the desk's own selectors for the token's account, narrowed to the
token's shops. Every endpoint starts from one of these querysets (QUALITY.md 1 and 3), so an
object of another shop is a 404, the same answer as one that does not exist."""

from django.db.models import QuerySet

from finance_exports.models import Sheet
from finance_exports.selectors import visible_sheets
from tickets.imports.reading import UNSTORABLE
from tickets.models import LedgerEntry, Order, Shop, Ticket
from tickets.selectors import visible_ledger, visible_shops, visible_tickets

from .models import ApiToken


def token_shop_ids(token: ApiToken) -> list[int]:
    """The ids of the shops ``token`` may touch: its shops that its account still serves (every
    shop the account serves, with ``all_shops``). Read once per request and kept on the token."""
    cached = getattr(token, "_shop_ids", None)
    if cached is None:
        served = visible_shops(token.user)
        if not token.all_shops:
            served = served.filter(pk__in=token.shops.values("pk"))
        cached = sorted(served.values_list("pk", flat=True))
        token._shop_ids = cached
    return cached


def token_shops(token: ApiToken) -> QuerySet[Shop]:
    return Shop.objects.filter(pk__in=token_shop_ids(token)).order_by("code")


def token_shop_by_code(token: ApiToken, code: str) -> Shop | None:
    """The active shop with ``code`` among the token's, or None (another shop's code reads as
    one that does not exist). A code no shop can have is None without asking the database:
    not text, longer than ``Shop.code`` holds, or with a character no text of the desk may
    hold (``reading.UNSTORABLE``: a lone surrogate cannot even be sent to PostgreSQL)."""
    if not isinstance(code, str) or len(code) > Shop._meta.get_field("code").max_length:
        return None
    if UNSTORABLE.search(code):
        return None
    return token_shops(token).filter(code=code, is_active=True).first()


def token_tickets(token: ApiToken) -> QuerySet[Ticket]:
    return visible_tickets(token.user).filter(shop_id__in=token_shop_ids(token))


def token_orders(token: ApiToken) -> QuerySet[Order]:
    return Order.objects.filter(shop_id__in=token_shop_ids(token))


def token_ledger(token: ApiToken) -> QuerySet[LedgerEntry]:
    return visible_ledger(token.user).filter(shop_id__in=token_shop_ids(token))


def token_sheets(token: ApiToken) -> QuerySet[Sheet]:
    """Sheets cover every shop, so only a token for every shop (``all_shops``) whose account
    may see sheets (finance, supervisors: ``visible_sheets``) reads them."""
    if not token.all_shops:
        return Sheet.objects.none()
    return visible_sheets(token.user)
