"""The registers' guards under concurrency: run on PostgreSQL (SQLite ignores FOR UPDATE)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import make_order, make_shop, make_user
from tests.tickets.registers_helpers import run_together
from tickets.models import LedgerEntry, ReviewContact
from tickets.roles import Role
from tickets.services.reviews import review_compensate, review_contact_log, review_register

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _review(agent, order):
    return review_register(
        actor=agent,
        order=order,
        rating="negative",
        made_at=timezone.now() - timedelta(hours=1),
        assign=False,
    )


def test_two_compensations_at_once_stay_within_the_standard():
    # given a negative review (standard 10 yuan) and two agents on it
    shop = make_shop("conc-review")
    agents = [make_user(role=Role.AGENT, shops=[shop]) for _ in range(2)]
    review = _review(agents[0], make_order(shop))
    # when both record 10 yuan at the same moment
    errors = run_together(
        lambda i: review_compensate(
            actor=agents[i], review=review, amount="10", payment_method="red_packet"
        )
    )
    # then one entry, and the other is told the standard is used up
    assert LedgerEntry.objects.count() == 1
    assert LedgerEntry.objects.get().amount == Decimal("10.00")
    assert len(errors) == 1


def test_two_contacts_with_one_buyer_at_once_respect_the_daily_limit(settings):
    # given one buyer with two reviews, and one contact a day allowed
    settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY = 1
    shop = make_shop("conc-contact")
    agents = [make_user(role=Role.AGENT, shops=[shop]) for _ in range(2)]
    reviews = [_review(agents[0], make_order(shop, buyer_nick="同一个买家")) for _ in range(2)]
    # when two agents call the buyer about different reviews at the same moment
    errors = run_together(
        lambda i: review_contact_log(actor=agents[i], review=reviews[i], channel="phone")
    )
    # then one contact is logged
    assert ReviewContact.objects.count() == 1
    assert len(errors) == 1
