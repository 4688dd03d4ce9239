from django.db import transaction

from tickets.models import Order, PersonalDataAccess, User

from . import require_perm

REVEALED_FIELDS = "receiver_name,receiver_phone,receiver_address"


@transaction.atomic
def order_reveal_personal_data(*, actor: User, order: Order) -> dict[str, str]:
    """The receiver's full name, phone and address, with an audit row saying who looked."""
    require_perm(actor, "tickets.reveal_personal_data")
    PersonalDataAccess.objects.create(user=actor, order=order, fields=REVEALED_FIELDS)
    return {
        "name": order.receiver_name,
        "phone": order.receiver_phone,
        "address": " ".join(
            part
            for part in (
                order.receiver_province,
                order.receiver_city,
                order.receiver_district,
                order.receiver_address,
                f"({order.receiver_postcode})" if order.receiver_postcode else "",
            )
            if part
        ),
    }
