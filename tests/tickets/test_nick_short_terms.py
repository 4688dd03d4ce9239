"""A one- or two-character nickname term matches the start of nicknames, whichever way
``nick_orders`` takes (walking the newest orders, or the nickname table first): a prefix few
or no buyers have no longer walks every order (hostile review of issue 11)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import make_order, make_user
from tests.tickets.nick_ways import forced_way
from tickets import selectors
from tickets.roles import Role

NICKS = ["tb001", "TB002", "tbx", "小安安", "安安小屋", "ab", "Abc", "xtb", "12号", "T1店"]
TERMS = ["t", "tb", "TB", "安", "安安", "a", "ab", "1", "12", "T1", "zz", "小", "%", "_"]


@pytest.fixture
def buyers(shop_a, shop_b):
    now = timezone.now()
    for n, nick in enumerate(NICKS):
        for shop in (shop_a, shop_b):
            make_order(shop, buyer_nick=nick, placed_at=now - timedelta(hours=n))
    return make_user(shops=[shop_a]), make_user(role=Role.SUPERVISOR, all_shops=True)


def _expected(user, term):
    shops = set(selectors.visible_shop_ids(user))
    return [
        order.pk
        for order in sorted(
            selectors.Order.objects.all(), key=lambda o: (o.placed_at, o.pk), reverse=True
        )
        if order.shop_id in shops and order.buyer_nick.upper().startswith(term.upper())
    ]


@pytest.mark.parametrize("way", ["walk", "list", "subquery"])
def test_a_short_term_finds_the_nicknames_it_starts(buyers, monkeypatch, way):
    monkeypatch.setattr(selectors, "nick_way", forced_way(way))
    for user in buyers:
        for term in TERMS:
            found = list(selectors.nick_orders(user, term, 50).values_list("pk", flat=True))
            assert found == _expected(user, term), (user, term)


@pytest.mark.parametrize("sizes", ["known", "never analysed"])
def test_a_prefix_nobody_has_asks_the_nickname_table_only(
    buyers, django_assert_max_num_queries, monkeypatch, sizes
):
    agent, _supervisor = buyers
    if sizes == "known":  # the demo's shape at a million orders; else the test database's own
        monkeypatch.setattr(selectors, "table_sizes", lambda: (1_000_000.0, 20_000.0, 11))
    list(selectors.nick_orders(agent, "tb", 501)[:501])  # the user's roles and shops, the sizes
    postgresql_with_sizes = connection.vendor == "postgresql" and sizes == "known"
    # With the sizes, PostgreSQL reads the matching nicknames first (``nick_way``): none, so no
    # orders are asked for. Without them, or on SQLite, the orders are asked for through the
    # nickname table. Either way one query, and never a walk of the orders.
    with django_assert_max_num_queries(1) as queries:
        assert not list(selectors.nick_orders(agent, "zz", 501)[:501])
    [query] = [q["sql"] for q in queries.captured_queries]
    assert "tickets_buyernick" in query
    assert ("tickets_order" in query) is not postgresql_with_sizes
