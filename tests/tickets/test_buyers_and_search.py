"""The buyer's page and the search that finds what agents type (issue 11, sections 2 and 3),
through the views as agent, supervisor and finance."""

import io
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from tests.factories import make_order, make_ticket, make_user
from tickets.models import Promise, Review, Ticket
from tickets.services.parcels import parcel_unpack
from tickets.services.photos import photo_add
from tickets.services.reviews import review_close, review_contact_log, review_register
from tickets.services.tickets import promise_add
from tickets.services.vips import vip_add
from tickets.templatetags.desk_buyers import buyer_url

pytestmark = pytest.mark.django_db

PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
NICK = "安安小屋"


def buyer(client, nick):
    return client.get(reverse("tickets:buyer_detail") + "?" + urlencode({"nick": nick}))


def search(client, term, **extra):
    return client.get(reverse("tickets:order_search"), {"q": term}, **extra)


def _png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(data, "PNG")
    return data.getvalue()


@pytest.fixture
def buyer_records(agent, supervisor, shop_a, shop_b):
    """One buyer with every kind of record in shop A, and one order (with a ticket and a
    review) in shop B, which the agent does not serve."""
    order = make_order(shop_a, buyer_nick=NICK, phone="13912345678", order_no="3500000000000000001")
    older = make_order(
        shop_a,
        buyer_nick=NICK,
        order_no="3500000000000000002",
        placed_at=timezone.now() - timedelta(days=40),
    )
    ticket = make_ticket(order, agent, kind=Ticket.Kind.RETURN)
    ticket.return_tracking_no = "YT9988776655"
    ticket.save(update_fields=["return_tracking_no"])
    promise_add(actor=agent, ticket=ticket, kind=Promise.Kind.POSTAGE, text="退回运费我们承担")
    photo_add(actor=agent, ticket=ticket, data=_png(), original_name="broken.png")
    parcel_unpack(
        actor=agent,
        tracking_no="YT9988776655",
        condition="intact",
        buyer_note="麻烦尽快退款",
    )
    review = review_register(
        actor=agent, order=older, rating="negative", made_at=timezone.now(), text="质量一般"
    )
    review_contact_log(actor=agent, review=review, channel="phone", result="答应修改")
    review_close(
        actor=agent, review=review, outcome=Review.Outcome.REVISED, buyer_notes="说话很直，怕麻烦"
    )
    vip_add(actor=supervisor, shop=shop_a, buyer_nick=NICK, notes="老顾客")
    other = make_order(shop_b, buyer_nick=NICK, order_no="3599999999999999999")
    other_ticket = make_ticket(other, supervisor)
    review_register(
        actor=supervisor, order=other, rating="neutral", made_at=timezone.now(), text="B店评价"
    )
    return {
        "order": order,
        "older": older,
        "ticket": ticket,
        "other": other,
        "other_ticket": other_ticket,
    }


# --- the buyer's page --------------------------------------------------------------------
def test_the_buyers_page_shows_every_kind_of_record_of_the_users_shops(
    client, agent, buyer_records, django_assert_max_num_queries
):
    client.force_login(agent)
    with django_assert_max_num_queries(25):
        response = buyer(client, NICK)
    assert response.status_code == 200
    html = response.content.decode()
    records = buyer_records
    assert records["order"].order_no in html and records["older"].order_no in html
    assert records["ticket"].number in html  # tickets
    assert "退回运费我们承担" in html  # promises
    assert "YT9988776655" in html and "麻烦尽快退款" in html  # parcels and the buyer's slip
    assert "质量一般" in html  # reviews
    assert "答应修改" in html  # contacts
    assert "说话很直，怕麻烦" in html  # the temperament note
    assert 'class="callout info contact-counter"' in html  # the harassment counter
    assert "/photos/" in html  # photos, through the permission-checked view
    assert "VIP" in html and "老顾客" in html
    # newest first: the newer order comes before the older one
    assert html.index(records["order"].order_no) < html.index(records["older"].order_no)
    # nothing of shop B
    assert records["other"].order_no not in html
    assert records["other_ticket"].number not in html
    assert "B店评价" not in html
    # personal data masked
    assert not PHONE.search(html)
    assert "张三" not in html and "张*" in html


def test_the_page_costs_the_same_queries_for_many_records(client, agent, shop_a):
    client.force_login(agent)
    make_order(shop_a, buyer_nick="常客")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert buyer(client, "常客").status_code == 200
    for _ in range(25):
        make_ticket(make_order(shop_a, buyer_nick="常客"), agent)
    with CaptureQueriesContext(connection) as many:
        html = buyer(client, "常客").content.decode()
    # + counting the orders and tickets once there are more than a page of them
    assert len(many.captured_queries) <= len(few.captured_queries) + 2
    assert "查看全部" in html  # the lists are bounded and say where the rest is


def test_every_list_of_the_page_reads_its_rows_in_one_query(client, agent, buyer_records, shop_a):
    """The page reads only the columns it shows (``tickets.selectors_buyers``): a second row
    in every list (order, ticket with its handler, promise, photo, parcel, review, contact,
    temperament note) costs no query more, so nothing the page names was left unread."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(agent)
    buyer(client, NICK)  # the session's first request reads a little more
    with CaptureQueriesContext(connection) as one:
        assert buyer(client, NICK).status_code == 200
    order = make_order(shop_a, buyer_nick=NICK, order_no="3500000000000000003")
    order.flag, order.flag_memo = "red", "催过两次"
    order.save(update_fields=["flag", "flag_memo"])
    # named, so the handler and contact columns show a name the page's header does not
    agent.last_name, agent.first_name = "王", "小明"
    agent.save(update_fields=["last_name", "first_name"])
    ticket = make_ticket(order, agent, kind=Ticket.Kind.RETURN)
    ticket.assignee = agent
    ticket.return_tracking_no = "YT5566778899"
    ticket.save(update_fields=["assignee", "return_tracking_no"])
    promise_add(actor=agent, ticket=ticket, kind=Promise.Kind.POSTAGE, text="第二个承诺")
    photo_add(actor=agent, ticket=ticket, data=_png(), original_name="second.png")
    parcel_unpack(actor=agent, tracking_no="YT5566778899", condition="intact", buyer_note="第二张")
    review = review_register(
        actor=agent, order=order, rating="negative", made_at=timezone.now(), text="第二条"
    )
    review_contact_log(actor=agent, review=review, channel="phone", result="第二次联系")
    review_close(actor=agent, review=review, outcome=Review.Outcome.REVISED, buyer_notes="好说话")
    with CaptureQueriesContext(connection) as two:
        html = buyer(client, NICK).content.decode()
    assert len(two.captured_queries) == len(one.captured_queries)
    for shown in ("3500000000000000003", "催过两次", ticket.number, "第二个承诺", "second.png"):
        assert shown in html, shown
    for shown in ("YT5566778899", "第二张", "第二条", "第二次联系", "好说话"):
        assert shown in html, shown
    for section in ('id="tickets"', 'id="contacts"'):
        assert "王小明" in html.split(section, 1)[1].split("</section>", 1)[0], section


def test_the_supervisor_sees_the_buyer_in_every_shop(client, supervisor, buyer_records):
    client.force_login(supervisor)
    html = buyer(client, NICK).content.decode()
    assert buyer_records["other"].order_no in html
    assert buyer_records["other_ticket"].number in html
    assert "B店评价" in html


def test_finance_reads_orders_and_tickets_of_the_buyer_only(client, finance, buyer_records):
    client.force_login(finance)
    response = buyer(client, NICK)
    assert response.status_code == 200
    html = response.content.decode()
    assert buyer_records["ticket"].number in html
    assert "质量一般" not in html  # reviews are not finance's
    assert "麻烦尽快退款" not in html  # nor parcels
    assert "说话很直" not in html


def test_a_buyer_only_in_shops_the_user_does_not_serve_is_404(client, agent, shop_b):
    make_order(shop_b, buyer_nick="别家的买家")
    client.force_login(agent)
    assert buyer(client, "别家的买家").status_code == 404
    assert buyer(client, "没有这个人").status_code == 404  # the same answer


@pytest.mark.parametrize("nick", ["a/b", "%", "50%_off\\", "🐱喵 喵", "x" * 64, "a&b=c?d#e"])
def test_odd_nicknames_make_working_links(client, agent, shop_a, nick):
    order = make_order(shop_a, buyer_nick=nick)
    client.force_login(agent)
    page = client.get(reverse("tickets:order_detail", args=[order.pk])).content.decode()
    href = buyer_url(nick).replace("&", "&amp;")
    assert f'href="{href}"' in page
    response = client.get(buyer_url(nick))
    assert response.status_code == 200
    assert order.order_no in response.content.decode()


@pytest.mark.parametrize("query", ["", "nick=", "nick=" + "y" * 200, "nick=%F0%9F", "other=1"])
def test_odd_buyer_urls_are_404_not_a_server_error(client, agent, query):
    client.force_login(agent)
    assert client.get(reverse("tickets:buyer_detail") + "?" + query).status_code == 404


def test_a_nul_in_the_nickname_is_refused(client, agent):
    client.force_login(agent)
    assert client.get(reverse("tickets:buyer_detail") + "?nick=a%00b").status_code == 400


def test_the_buyers_page_needs_a_desk_role(client, buyer_records):
    client.force_login(make_user("nobody", role=None))
    assert buyer(client, NICK).status_code == 403


def test_nicknames_link_to_the_buyers_page_wherever_they_show(client, agent, buyer_records):
    client.force_login(agent)
    link = f'href="{buyer_url(NICK)}"'
    ticket = buyer_records["ticket"]
    review = Review.objects.get(order=buyer_records["older"])
    for url in (
        reverse("tickets:order_detail", args=[ticket.order_id]),
        reverse("tickets:ticket_detail", args=[ticket.pk]),
        reverse("tickets:ticket_list") + "?status=",
        reverse("tickets:ticket_new", args=[ticket.order_id]),
        reverse("tickets:order_search") + "?q=" + NICK,
        reverse("registers:review_list"),
        reverse("registers:review_detail", args=[review.pk]),
    ):
        assert link in client.get(url).content.decode(), url


# --- the top-bar search ------------------------------------------------------------------
def test_a_ticket_number_goes_straight_to_the_ticket(client, agent, order_a):
    ticket = make_ticket(order_a, agent)
    client.force_login(agent)
    for term in (ticket.number, ticket.number.lower(), f"T{ticket.pk}", f" t{ticket.pk} "):
        response = search(client, term)
        assert response.status_code == 302, term
        assert response.url == reverse("tickets:ticket_detail", args=[ticket.pk])


def test_another_shops_ticket_number_finds_nothing(client, agent, supervisor, order_b):
    ticket = make_ticket(order_b, supervisor)
    client.force_login(agent)
    response = search(client, ticket.number)
    assert response.status_code == 200
    assert reverse("tickets:ticket_detail", args=[ticket.pk]) not in response.content.decode()


def test_a_return_tracking_number_finds_its_ticket(client, agent, order_a, supervisor, order_b):
    ticket = make_ticket(order_a, agent)
    Ticket.objects.filter(pk=ticket.pk).update(return_tracking_no="YT100200300")
    client.force_login(agent)
    response = search(client, "yt100200300")
    assert response.status_code == 302
    assert response.url == reverse("tickets:ticket_detail", args=[ticket.pk])
    # two tickets on that number: both listed, marked as found by the return tracking no.
    second = make_ticket(make_order(order_a.shop), agent)
    Ticket.objects.filter(pk=second.pk).update(return_tracking_no="YT100200300")
    hidden = make_ticket(order_b, supervisor)
    Ticket.objects.filter(pk=hidden.pk).update(return_tracking_no="YT100200300")
    html = search(client, "YT100200300").content.decode()
    assert ticket.number in html and second.number in html
    assert hidden.number not in html
    assert "退回运单号" in html


def test_nicknames_are_found_in_any_case_and_by_any_part(client, agent, shop_a, shop_b):
    upper = make_order(shop_a, buyer_nick="TB052015")
    make_order(shop_a, buyer_nick=NICK)
    make_order(shop_a, buyer_nick="安安的衣橱")
    make_order(shop_a, buyer_nick="小安安")
    make_order(shop_b, buyer_nick="安安别家")
    client.force_login(agent)
    # the whole nickname in another case: the order itself
    response = search(client, "tb052015")
    assert response.status_code == 302
    assert response.url == reverse("tickets:order_detail", args=[upper.pk])
    # part of a nickname, case aside: the one buyer it names
    response = search(client, "b0520")
    assert response.status_code == 302
    assert response.url == buyer_url("TB052015")
    # two characters: the buyers whose nicknames start with them, in the user's shops
    html = search(client, "安安").content.decode()
    assert 'id="found-buyers"' in html
    assert NICK in html and "安安的衣橱" in html
    assert "安安别家" not in html  # another shop's buyer
    assert "小安安" not in html  # a two-character term matches the start only
    # a part of three characters or more (the trigram search) keeps to the user's shops too
    response = search(client, "安别家")
    assert response.status_code == 200  # nothing found: no buyer page to go to
    assert "安安别家" not in response.content.decode()
    # three characters and more: anywhere in the nickname
    response = search(client, "安小屋")
    assert response.status_code == 302
    assert response.url == buyer_url(NICK)


def test_the_results_say_what_kind_of_match_each_is(client, agent, shop_a):
    order = make_order(shop_a, buyer_nick="糖糖酱5678", phone="13900005678")
    make_order(shop_a, buyer_nick="糖糖酱5678x", phone="13900001111")
    client.force_login(agent)
    html = search(client, "5678").content.decode()
    assert 'id="found-orders"' in html and "手机尾号" in html
    assert order.order_no in html
    assert 'id="found-buyers"' in html and "糖糖酱5678x" in html


@pytest.mark.parametrize(
    ("term", "nick"),
    [
        ("%", "%折扣"),
        ("_", "_88"),
        ("\\", "\\x"),
        ("50%", "50%off"),
        ("a_b", "xa_by"),
        ("%_", "%_"),
    ],
)
def test_wildcards_are_matched_literally(client, agent, shop_a, term, nick):
    make_order(shop_a, buyer_nick="plain")
    make_order(shop_a, buyer_nick="a1b")
    literal = make_order(shop_a, buyer_nick=nick)
    client.force_login(agent)
    html = search(client, term, follow=True).content.decode()
    assert "plain" not in html and "a1b" not in html  # % and _ are no wildcards
    assert literal.order_no in html or nick in html


@pytest.mark.parametrize("term", ["\x01", "Ｔ８１", "T", "T0", "t" + "9" * 30, "'=\"", "１２３４"])
def test_odd_terms_are_no_server_error(client, agent, order_a, term):
    client.force_login(agent)
    assert search(client, term).status_code in (200, 302)
    assert client.get(reverse("tickets:ticket_list"), {"q": term}).status_code == 200


def test_a_huge_term_is_no_server_error(client, agent, order_a):
    client.force_login(agent)
    assert search(client, "安" * 10_000).status_code == 200
    assert client.get(reverse("tickets:ticket_list"), {"q": "安" * 10_000}).status_code == 200


def test_the_search_costs_a_few_queries(client, agent, shop_a, django_assert_max_num_queries):
    for n in range(30):
        make_order(shop_a, buyer_nick=f"安安{n:02d}")
    client.force_login(agent)
    # + registered parcels and VIPs, one query each, the bell's unread count, and the
    # nickname's stored spellings (``nick_matches``) that the order search looks up first
    with django_assert_max_num_queries(16):
        html = search(client, "安安").content.decode()
    assert "只显示最近下单的 20 位" in html


# --- the ticket list's search box --------------------------------------------------------
def numbers(client, term):
    html = client.get(reverse("tickets:ticket_list"), {"q": term, "status": ""}).content.decode()
    return set(re.findall(r'href="/tickets/\d+/">(T\d{8})<', html))


def test_a_searched_ticket_list_keeps_its_sort(client, agent, shop_a):
    """On PostgreSQL a searched list sorts by an expression no index serves (``filters``):
    the same rows in the same order as the sort says, ties by id."""
    now = timezone.now()
    tickets = [make_ticket(make_order(shop_a, buyer_nick=f"{NICK}{i}"), agent) for i in range(4)]
    days = [(3, 1), (1, 4), (3, 2), (2, 3)]  # (due in, updated ago)
    for ticket, (due_in, updated_ago) in zip(tickets, days, strict=True):
        due = now + timedelta(days=due_in)
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_due=due, resolution_due=due, updated_at=now - timedelta(days=updated_ago)
        )
    client.force_login(agent)

    def listed(**query):
        html = client.get(reverse("tickets:ticket_list"), {"q": NICK, **query}).content.decode()
        return re.findall(r'href="/tickets/\d+/">(T\d{8})<', html)

    first, second, third, fourth = (t.number for t in tickets)
    assert listed(status="") == [second, fourth, first, third]
    assert listed() == [second, fourth, first, third]
    assert listed(status="", sort="-updated") == [first, third, fourth, second]
    assert listed(status="", sort="created") == [first, second, third, fourth]
    assert listed(status="", sort="-created") == [fourth, third, second, first]


def test_the_ticket_list_finds_the_same_things(client, agent, supervisor, shop_a, shop_b):
    first = make_ticket(make_order(shop_a, buyer_nick="TB052015"), agent)
    second = make_ticket(make_order(shop_a, buyer_nick=NICK), agent)
    Ticket.objects.filter(pk=second.pk).update(return_tracking_no="YT555666777")
    hidden = make_ticket(make_order(shop_b, buyer_nick="TB052015"), supervisor)
    client.force_login(agent)
    assert numbers(client, first.number) == {first.number}
    assert numbers(client, f"t{first.pk}") == {first.number}
    assert numbers(client, "tb052015") == {first.number}
    assert numbers(client, "b0520") == {first.number}
    assert numbers(client, "安安") == {second.number}
    assert numbers(client, "yt555666777") == {second.number}
    assert numbers(client, hidden.number) == set()
    assert numbers(client, "%") == set()
    assert numbers(client, "_") == set()


def test_see_all_reaches_every_order_and_ticket_of_this_buyer_only(client, agent, shop_a, shop_b):
    # given a buyer with 61 orders and 25 tickets in the agent's shop, a buyer whose
    # nickname starts the same, and the same buyer in a shop the agent does not serve
    client.force_login(agent)
    orders = [make_order(shop_a, buyer_nick="木子酱9") for _ in range(61)]
    tickets = [make_ticket(order, agent) for order in orders[:25]]
    lookalike = make_ticket(make_order(shop_a, buyer_nick="木子酱91"), agent)
    elsewhere = make_order(shop_b, buyer_nick="木子酱9")
    html = buyer(client, "木子酱9").content.decode()
    orders_link = re.search(r'href="(/buyers/orders/\?nick=[^"]+)"', html).group(1)
    tickets_link = re.search(r'href="(/tickets/\?status=&amp;buyer=[^"]+)"', html).group(1)

    # then the orders' "see all" pages through all 61, none of another shop's
    seen = []
    page_url = orders_link
    while page_url:
        page = client.get(page_url.replace("&amp;", "&"))
        assert page.status_code == 200
        seen += [o.pk for o in page.context["page"].object_list]
        more = re.search(r'href="(\?nick=[^"]+page=\d+)">下一页', page.content.decode())
        page_url = "/buyers/orders/" + more.group(1) if more else None
    assert sorted(seen) == sorted(o.pk for o in orders)
    assert elsewhere.pk not in seen

    # and the tickets' "see all" lists this buyer's 25, not 木子酱91's
    listed = client.get(tickets_link.replace("&amp;", "&") + "&page=1")
    page_two = client.get(tickets_link.replace("&amp;", "&") + "&page=2")
    numbers = {t.number for t in listed.context["tickets"]} | {
        t.number for t in page_two.context["tickets"]
    }
    assert numbers == {t.number for t in tickets}
    assert lookalike.number not in numbers
    # the list says whose tickets it shows, and keeps it when filtered further
    listed_html = listed.content.decode()
    assert 'name="buyer" value="木子酱9"' in listed_html


def test_the_buyers_orders_page_shows_nothing_of_other_shops(client, agent, shop_b):
    make_order(shop_b, buyer_nick="别家买家")
    client.force_login(agent)
    url = reverse("tickets:buyer_orders")
    assert client.get(url, {"nick": "别家买家"}).status_code == 404
    assert client.get(url, {"nick": ""}).status_code == 404
    assert client.get(url, {"nick": "x" * 65}).status_code == 404
    assert client.get(url, {"nick": "别家买家", "page": "abc"}).status_code == 404
