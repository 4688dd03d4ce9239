"""The API's own writes besides tokens and batches: the record of every call, and reading a
buyer's personal data, recorded like a reveal on the order page."""

from django.db import transaction

from tickets.models import Order, PersonalDataAccess
from tickets.services.privacy import REVEALED_FIELDS

from .models import ApiCall, ApiToken


def api_call_record(
    *,
    token: ApiToken | None,
    method: str,
    endpoint: str,
    path: str,
    status_code: int,
    records: int = 0,
    duration_ms: int = 0,
    address: str | None = None,
    reason: str = "",
) -> ApiCall:
    """Writes the record of one call (who: ``token`` and its account, None for a token the
    desk does not know, and the caller's ``address``; when: now; what: ``method``,
    ``endpoint``, ``path`` without the query string; how it ended, and for a refused token
    why, ``reason``; how many records it read or wrote). Never the token's text.
    Append-only."""
    return ApiCall.objects.create(
        token=token,
        address=address or None,
        reason=reason[:40],
        method=method[:8],
        endpoint=endpoint[:60],
        path=path[:200],
        status_code=status_code,
        records=max(records, 0),
        duration_ms=max(duration_ms, 0),
    )


# What a ticket list's row reveals: the buyer's nickname only (the receiver is not on it); a
# ticket's detail reveals it beside the receiver's name, phone and address.
NICK_FIELDS = "buyer_nick"
TICKET_FIELDS = f"{REVEALED_FIELDS},{NICK_FIELDS}"


@transaction.atomic
def personal_data_read_record(
    *, token: ApiToken, orders: list[Order], fields: str = REVEALED_FIELDS
) -> int:
    """Records that ``token``'s account read the personal ``fields`` of ``orders`` (one
    ``PersonalDataAccess`` row per order, as "显示完整信息" on the order page writes: who,
    when, which order, what; by default the receivers' full name, phone and address,
    ``NICK_FIELDS`` for a ticket list's rows, ``TICKET_FIELDS`` for a ticket). The caller
    checked the ``personal_data:read`` scope and the account's
    ``tickets.reveal_personal_data``. Returns how many rows."""
    rows = [PersonalDataAccess(user=token.user, order=order, fields=fields) for order in orders]
    PersonalDataAccess.objects.bulk_create(rows, batch_size=1000)  # a list's file: thousands
    return len(rows)
