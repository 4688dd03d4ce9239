"""The statistics page against hand-computed figures on a small fixed data set (issue 5)."""

import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import make_entry, make_order, make_ticket, make_user
from tickets.models import LedgerEntry, Review, Ticket
from tickets.roles import Role
from tickets.statistics import StatsRange, bar_chart, per_agent, per_day, per_product

pytestmark = pytest.mark.django_db


def at(day, hour, minute=0):
    from django.utils import timezone

    return datetime(2026, 1, day, hour, minute, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def data(shop_a, shop_b, supervisor):
    a1 = make_user("stat-1", Role.AGENT, shops=[shop_a], last_name="张", first_name="一")
    a2 = make_user("stat-2", Role.AGENT, shops=[shop_a], last_name="李", first_name="二")
    b1 = make_user("stat-b", Role.AGENT, shops=[shop_b])
    order = make_order(shop_a)
    dress = make_order(shop_a)
    dress.items.update(title="连衣裙")

    def ticket(order, who, created, first=None, resolved=None, reason=Ticket.Reason.NOT_SUITABLE):
        # One order per ticket (a piece is on one open goods ticket at a time), same product.
        fresh = make_order(order.shop)
        fresh.items.update(title=order.items.get().title)
        return make_ticket(
            fresh,
            who,
            reason=reason,
            assignee=who,
            created_at=created,
            first_responded_at=first,
            resolved_at=resolved,
        )

    # a1: first replies 4, 10 (late), 2 minutes; resolutions 10 h and 24 h
    ticket(order, a1, at(5, 10), at(5, 10, 4), at(5, 20))
    ticket(order, a1, at(5, 11), at(5, 11, 10), at(6, 11))
    ticket(order, a1, at(6, 9), at(6, 9, 2))
    # a2: one in range (1 minute, 1.5 h), one opened before the range but resolved in it
    ticket(dress, a2, at(5, 12), at(5, 12, 1), at(5, 13, 30), reason=Ticket.Reason.WRONG_ITEM)
    ticket(order, a2, at(4, 12), at(4, 12, 1), at(5, 9))
    # shop B: outside the shop filter
    ticket(make_order(shop_b), b1, at(5, 10), at(5, 10, 1), at(5, 11))

    def review(who, made, revised=None):
        return Review.objects.create(
            shop=shop_a,
            order=make_order(shop_a),
            rating="negative",
            made_at=made,
            assignee=who,
            revised_at=revised,
            outcome="revised" if revised else "pending",
            recorded_by=supervisor,
        )

    review(a1, at(5, 8), at(6, 10))
    review(a2, at(6, 9))
    review(a2, at(3, 9), at(5, 15))

    comp = LedgerEntry.Kind.COMPENSATION
    make_entry(order, a1, "5.00", kind=comp, recorded_at=at(5, 16))
    make_entry(order, a1, "60.00", kind=comp, recorded_at=at(5, 17), requires_approval=True)
    ten = make_entry(dress, a2, "10.00", kind=comp, recorded_at=at(6, 10))
    make_entry(dress, a2, "10.00", kind=comp, recorded_at=at(6, 11), reverses=ten)
    return {"a1": a1, "a2": a2, "shop": shop_a}


def test_per_agent_matches_hand_computed_figures(supervisor, data):
    range_ = StatsRange(date(2026, 1, 5), date(2026, 1, 6), [data["shop"].pk])
    rows = {r.agent: r for r in per_agent(supervisor, range_, now=at(6, 23))}
    assert set(rows) == {"张一", "李二"}
    one, two = rows["张一"], rows["李二"]
    assert (one.resolved, one.first_response_minutes, one.resolution_hours) == (2, 4.0, 17.0)
    # the 5 January 11:00 ticket was answered late, but it is answered: not overdue now
    assert (one.overdue, one.reviews_revised, one.compensation) == (0, 1, Decimal("5.00"))
    assert (two.resolved, two.first_response_minutes, two.resolution_hours) == (2, 1.0, 1.5)
    assert (two.overdue, two.reviews_revised, two.compensation) == (0, 1, Decimal("0.00"))


def test_per_day_by_date_made_and_date_resolved(supervisor, data):
    range_ = StatsRange(date(2026, 1, 5), date(2026, 1, 6), [data["shop"].pk])
    days = per_day(supervisor, range_)
    assert days == [
        {
            "day": date(2026, 1, 5),
            "tickets_created": 3,
            "tickets_resolved": 3,
            "reviews_made": 1,
            "reviews_revised": 1,
        },
        {
            "day": date(2026, 1, 6),
            "tickets_created": 1,
            "tickets_resolved": 1,
            "reviews_made": 1,
            "reviews_revised": 1,
        },
    ]
    chart = bar_chart(days, ("tickets_created", "tickets_resolved"))
    assert chart["top"] == 3 and len(chart["bars"]) == 4
    assert max(b.height for b in chart["bars"]) == chart["axis_y"] - chart["pad_top"]


def test_per_product_complaints_by_reason(supervisor, data):
    range_ = StatsRange(date(2026, 1, 5), date(2026, 1, 6), [data["shop"].pk])
    reasons, rows = per_product(supervisor, range_)
    assert [value for value, _label in reasons] == ["wrong_item", "not_suitable"]
    assert [(r["product"], r["counts"], r["total"]) for r in rows] == [
        ("商品1", [0, 3], 3),
        ("连衣裙", [1, 0], 1),
    ]


def test_agent_sees_only_their_shops(data, shop_b):
    agent_b = make_user("only-b", Role.AGENT, shops=[shop_b])
    range_ = StatsRange(date(2026, 1, 5), date(2026, 1, 6))
    assert sum(d["tickets_created"] for d in per_day(agent_b, range_)) == 1


def test_page_and_downloads_for_supervisors_only(client, supervisor, agent, data):
    client.force_login(agent)
    assert client.get(reverse("registers:statistics")).status_code == 403
    assert client.get(reverse("registers:statistics_export", args=["days"])).status_code == 403
    client.force_login(supervisor)
    query = f"start=2026-01-05&end=2026-01-06&shop={data['shop'].pk}"
    page = client.get(reverse("registers:statistics") + "?" + query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "张一" in html
    response = client.get(reverse("registers:statistics_export", args=["agents"]) + "?" + query)
    assert response["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    # seen today, the 6 January ticket still unresolved is past its due time: 1 overdue
    assert rows["张一"][1:] == (2, 4.0, 17.0, 1, 1, 5)
    response = client.get(reverse("registers:statistics_export", args=["days"]) + "?" + query)
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == [
        ("2026-01-05", 3, 3, 1, 1),
        ("2026-01-06", 1, 1, 1, 1),
    ]
    assert client.get(reverse("registers:statistics_export", args=["nope"])).status_code == 404


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_page_shows_money_with_the_yuan_sign(client, supervisor, data, language, settings):
    # like every other page of the desk: ¥ and two decimals (issue 11, section 6)
    client.force_login(supervisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    query = f"start=2026-01-05&end=2026-01-06&shop={data['shop'].pk}"
    html = client.get(reverse("registers:statistics") + "?" + query).content.decode()
    row = re.search(r"<tr><td>张一</td>.*?</tr>", html).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[-1] == "¥5.00"
    row = re.search(r"<tr><td>李二</td>.*?</tr>", html).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[-1] == "¥0.00"


def test_a_bad_date_keeps_the_shop_and_says_so(client, supervisor, data):
    # given a hand-typed date in the locale's format beside a shop
    client.force_login(supervisor)
    query = f"start=2026/01/05&end=2026-01-06&shop={data['shop'].pk}"
    page = client.get(reverse("registers:statistics") + "?" + query)
    # then the page says the date is wrong, and still counts the chosen shop only
    assert page.status_code == 200
    assert page.context["form"].errors["start"]
    assert page.context["range"].shop_ids == [data["shop"].pk]
