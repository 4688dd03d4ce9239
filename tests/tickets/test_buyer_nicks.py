"""The distinct nicknames the nickname searches read (``BuyerNick``, migration 0024, issue 11):
every way an order is written adds its nickname, so a buyer is found by part of their
nickname whichever door their order came through, on PostgreSQL and SQLite alike."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse

from tests.factories import make_order, make_ticket, make_user
from tests.tickets.export_files import (
    ITEM_HEADERS,
    ORDER_HEADERS_56,
    export_csv,
    item_row,
    order_row,
)
from tests.tickets.nick_ways import forced_way
from tests.tickets.test_import_views import csv_upload
from tickets.db import guards_ensure
from tickets.models import BuyerNick, Order, OrderImport
from tickets.roles import Role
from tickets.selectors import buyer_search, nick_orders, order_search

pytestmark = pytest.mark.django_db


def nicks() -> set[str]:
    return set(BuyerNick.objects.values_list("nick", flat=True))


def listed(client, term) -> set[str]:
    html = client.get(reverse("tickets:ticket_list"), {"q": term, "status": ""}).content.decode()
    return set(re.findall(r'href="/tickets/\d+/">(T\d{8})<', html))


def test_an_order_saved_one_by_one_adds_its_nickname_once(shop_a, agent):
    make_order(shop_a, buyer_nick="糖糖Candy")
    make_order(shop_a, buyer_nick="糖糖Candy")
    assert nicks() == {"糖糖Candy"}
    assert buyer_search(agent, "candy") == ["糖糖Candy"]


def test_bulk_written_orders_add_every_nickname(shop_a, agent):
    template = make_order(shop_a, buyer_nick="first")
    rows = []
    for n in range(5):
        template.pk = None
        template.order_no = f"99{n:017d}"
        template.buyer_nick = f"批量买家{n}"
        rows.append(Order(**{f.attname: getattr(template, f.attname) for f in Order._meta.fields}))
    Order.objects.bulk_create(rows)
    assert nicks() == {"first", *(f"批量买家{n}" for n in range(5))}
    assert set(buyer_search(agent, "量买家")) == {f"批量买家{n}" for n in range(5)}


def test_a_changed_nickname_is_found_by_its_new_name(shop_a, agent):
    order = make_order(shop_a, buyer_nick="旧名字abc")
    Order.objects.filter(pk=order.pk).update(buyer_nick="新名字xyz")
    assert list(nick_orders(agent, "名字x")) == [order]
    # the old name stays in the table and finds nothing: the same answer as no name
    assert list(nick_orders(agent, "名字a")) == []


def test_the_whole_nickname_in_any_case_finds_the_order(shop_a, agent):
    order = make_order(shop_a, buyer_nick="TB052015")
    assert list(order_search(agent, "tb052015")) == [order]
    assert list(order_search(agent, "tb05201")) == []


def test_letters_python_would_fold_into_two_are_matched_as_postgresql_matches_them(shop_a, agent):
    # given nicknames with letters whose upper case is two letters in Python's full mapping
    # ('ß' -> 'SS', 'ﬁ' -> 'FI') and one that only folds one to one
    strasse = make_order(shop_a, buyer_nick="straße88")
    fine = make_order(shop_a, buyer_nick="ﬁne_shop")
    elodie = make_order(shop_a, buyer_nick="élodie77")
    # then both databases answer alike: each character folds to one, as PostgreSQL folds
    assert list(nick_orders(agent, "STRASSE")) == []
    assert list(nick_orders(agent, "STRAßE")) == [strasse]
    assert list(nick_orders(agent, "fin")) == [] and fine.buyer_nick == "ﬁne_shop"
    assert list(nick_orders(agent, "ÉLODIE")) == [elodie]
    assert buyer_search(agent, "ÉLOD") == ["élodie77"]


def test_the_nickname_of_another_shop_is_not_found(shop_a, shop_b, agent):
    """The nickname table holds every shop's buyers; the orders are still the user's only."""
    make_order(shop_b, buyer_nick="别家的买家")
    assert "别家的买家" in nicks()
    assert list(nick_orders(agent, "家的买")) == []
    assert buyer_search(agent, "家的买") == []
    assert list(order_search(agent, "别家的买家")) == []


def test_orders_imported_through_the_page_are_found_by_part_of_the_nickname(
    client, agent, shop_a, django_capture_on_commit_callbacks
):
    """The order import writes through COPY on PostgreSQL; its nicknames are there all the
    same, and the ticket list's search finds a ticket of an imported order."""
    client.force_login(agent)
    numbers = ["3515012345670001", "3515012345670002"]
    files = {
        "orders_file": csv_upload(
            "ExportOrderList.csv",
            export_csv(
                ORDER_HEADERS_56,
                [order_row(no, **{"买家会员名": f"进口买家{i}号"}) for i, no in enumerate(numbers)],
            ),
        ),
        "items_file": csv_upload(
            "ExportOrderDetailList.csv",
            export_csv(ITEM_HEADERS, [item_row(no) for no in numbers], encoding="utf-8-sig"),
        ),
    }
    assert client.post(reverse("imports:home"), {"shop": shop_a.pk, **files}).status_code == 302
    batch = OrderImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:apply", args=[batch.pk]))
    assert {"进口买家0号", "进口买家1号"} <= nicks()
    order = Order.objects.get(order_no=numbers[1])
    ticket = make_ticket(order, agent)
    assert listed(client, "买家1") == {ticket.number}


def test_seed_demo_leaves_every_nickname_in_the_table(db):
    call_command(
        "seed_demo", "--orders", "60", "--tickets", "30", "--days", "60", stdout=StringIO()
    )
    assert nicks() == set(Order.objects.values_list("buyer_nick", flat=True))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite rebuilds tables")
def test_sqlite_gets_its_triggers_back_after_a_table_rebuild(shop_a, agent):
    """A migration that rebuilds ``tickets_order`` on SQLite drops its triggers;
    ``guards_ensure`` (after every migrate) puts them back."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER tickets_order_nick_insert")
    make_order(shop_a, buyer_nick="丢了触发器")
    assert "丢了触发器" not in nicks()
    guards_ensure(connection)
    make_order(shop_a, buyer_nick="触发器回来了")
    assert "触发器回来了" in nicks()


def test_a_supervisor_of_two_shops_finds_the_buyers_of_both(shop_a, shop_b):
    supervisor = make_user("sup2", Role.SUPERVISOR, shops=[shop_a, shop_b])
    orders = [make_order(shop, buyer_nick=f"跨店买家{shop.code}") for shop in (shop_a, shop_b)]
    assert set(nick_orders(supervisor, "店买家")) == set(orders)


@pytest.fixture
def nick_world(shop_a, shop_b, agent):
    """Orders in two shops, some of whose buyers hold 'omo' in their nickname, placed at
    distinct times (and two at the same moment, so the id breaks the tie)."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    made = []
    for n in range(12):
        shop = shop_a if n % 3 else shop_b
        nick = f"{'MoMo' if n % 2 else 'lulu'}_{n}"
        made.append(make_order(shop, buyer_nick=nick, placed_at=now - timedelta(hours=n // 2 * 2)))
    return made


@pytest.mark.parametrize("way", ["walk", "list", "subquery"])
@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_every_way_of_the_nickname_part_search_gives_the_same_orders(
    nick_world, shop_a, agent, supervisor, who, way, monkeypatch
):
    """``nick_orders`` walks the newest orders or reads each matching nickname's orders,
    whichever reads less (``nick_way``): the answer is the same either way, in the
    same order (newest first, the higher id first at the same moment), within the user's
    shops only."""
    import tickets.selectors as selectors

    user = agent if who == "agent" else supervisor
    monkeypatch.setattr(selectors, "nick_way", forced_way(way))
    found = list(nick_orders(user, "omo", 500))
    expected = sorted(
        (
            o
            for o in nick_world
            if "OMO" in o.buyer_nick.upper() and (who == "supervisor" or o.shop_id == shop_a.pk)
        ),
        key=lambda o: (o.placed_at, o.pk),
        reverse=True,
    )
    assert found == expected
    assert found  # the world holds matches for both users


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one way only on SQLite")
def test_a_term_many_buyers_hold_walks_and_a_rare_one_reads_its_nicknames(
    nick_world, agent, supervisor, monkeypatch
):
    """The choice follows the tuple counts in ``nick_way``: at a million orders and 20,000
    nicknames (the demo's shape) a term held by 1,000 nicknames walks for the supervisor
    (crossover ~448), one held by a handful does not, and its nicknames are handed over as
    values; an agent of 1 shop in 11 needs more matches before walking pays than a
    supervisor of all."""
    import tickets.selectors as selectors
    from tickets.models import BuyerNick

    monkeypatch.setattr(selectors, "table_sizes", lambda: (1_000_000.0, 20_000.0, 11))
    BuyerNick.objects.bulk_create(
        [BuyerNick(nick=f"xomo{n}") for n in range(460)], ignore_conflicts=True
    )
    assert selectors.nick_way(supervisor, "omo", 501) is None
    assert selectors.nick_way(supervisor, "lulu_1", 501) == ["lulu_10"]
    # The agent serves one shop of 11: walking reads 11 times more, so 460 is not enough.
    monkeypatch.setattr(selectors, "visible_shop_ids", lambda user: [1])
    omo = selectors.nick_way(agent, "omo", 501)
    assert isinstance(omo, list) and "xomo459" in omo and len(omo) >= 460
    # More matches than a query's list of values should carry: the nickname table, as a
    # subquery (never a walk the counts advise against).
    monkeypatch.setattr(selectors, "NICK_LIST_MAX", 100)
    subquery = selectors.nick_way(agent, "omo", 501)
    assert isinstance(subquery, QuerySet) and subquery.model is BuyerNick
    # ... and when they are more than the crossover too (about 1,485 for this agent), it walks
    BuyerNick.objects.bulk_create(
        [BuyerNick(nick=f"yomo{n}") for n in range(1100)], ignore_conflicts=True
    )
    assert selectors.nick_way(agent, "omo", 501) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_a_rare_nickname_part_reaches_its_orders_through_its_nicknames(
    nick_world, supervisor, monkeypatch, django_assert_max_num_queries
):
    """A rare term's nicknames go to the orders' query as values, not as a subquery
    PostgreSQL would size at a hundredth of all nicknames and answer by walking every order
    newest first (400 ms at a million orders, bench/README eleventh session)."""
    import tickets.selectors as selectors

    monkeypatch.setattr(selectors, "table_sizes", lambda: (1_000_000.0, 20_000.0, 11))
    list(nick_orders(supervisor, "lulu", 201)[:201])  # the user's roles, once per request
    with django_assert_max_num_queries(2) as queries:
        found = list(nick_orders(supervisor, "lulu", 201)[:201])
    assert found and all("LULU" in o.buyer_nick.upper() for o in found)
    nicknames, orders = (q["sql"] for q in queries.captured_queries)
    assert "tickets_buyernick" in nicknames and "tickets_buyernick" not in orders


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue")
def test_table_sizes_are_read_from_the_catalogue(db):
    import tickets.selectors as selectors

    selectors._table_sizes = None
    orders, nicks, shops = selectors.table_sizes()
    assert orders >= 0 and nicks >= 0 and shops >= 1


def test_unknown_sizes_never_walk_the_orders(supervisor, monkeypatch):
    """A table PostgreSQL has not analysed since a bulk load has no size estimate: the search
    then goes through the nickname table, never walks every order (issue 14)."""
    import tickets.selectors as selectors
    from tickets.models import BuyerNick

    BuyerNick.objects.bulk_create([BuyerNick(nick=f"xomo{n}") for n in range(5)])
    for sizes in ((0.0, 20_000.0, 11), (1_000_000.0, 0.0, 11), (0.0, 0.0, 11)):
        monkeypatch.setattr(selectors, "table_sizes", lambda sizes=sizes: sizes)
        way = selectors.nick_way(supervisor, "omo", 501)
        assert isinstance(way, QuerySet) and way.model is BuyerNick
