"""Times are shown in Beijing time wherever the desk prints one (issue 17: an aware time
formatted without ``localtime`` prints UTC, eight hours off). The database keeps UTC; 20:30
UTC on 24 November is 04:30 on the 25th in Beijing."""

from datetime import UTC, datetime

import pytest

from tickets.models import Escalation, Heartbeat, OrderChange, OrderImport, Ticket, TicketEvent
from tickets.services.parcels import parcel_unpack

LATE_EVENING_UTC = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)
BEIJING = "2026-11-25 04:30"


def test_the_unmatched_parcels_page_shows_when_each_was_registered_in_beijing_time(client, agent):
    # given a parcel that matched nothing, registered late in the evening, UTC
    parcel = parcel_unpack(actor=agent, tracking_no="SF900800700", condition="intact").parcel
    type(parcel).objects.filter(pk=parcel.pk).update(created_at=LATE_EVENING_UTC)
    # when the agent opens the parcels waiting to be matched
    client.force_login(agent)
    html = client.get("/parcels/").content.decode()
    # then the time is Beijing's, on the next day
    assert "SF900800700" in html
    assert "11-25 04:30" in html
    assert "11-24 20:30" not in html


@pytest.mark.parametrize(
    "make",
    [
        lambda order, user: Heartbeat(name="beat", beat_at=LATE_EVENING_UTC),
        lambda order, user: TicketEvent(
            ticket=Ticket(pk=81), kind=TicketEvent.Kind.NOTE, created_at=LATE_EVENING_UTC
        ),
        lambda order, user: OrderImport(
            shop=order.shop, created_by=user, created_at=LATE_EVENING_UTC
        ),
        lambda order, user: OrderChange(
            order=order, kind="flag", actor=user, created_at=LATE_EVENING_UTC
        ),
        lambda order, user: Escalation(ticket=Ticket(pk=81), raised_at=LATE_EVENING_UTC),
    ],
    ids=["heartbeat", "timeline line", "order import", "order change", "escalation"],
)
def test_a_rows_name_carries_its_time_in_beijing_time(make, order_a, agent):
    # The name the admin's lists, history pages and choices show.
    text = str(make(order_a, agent))
    assert BEIJING in text
    assert "2026-11-24 20:30" not in text
