"""The ticket list and the searches after the hostile review of issue 11 (§2-4): each kind of
fault found there, through the pages."""

import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import make_order, make_shop, make_ticket, make_user
from tickets.models import SavedView, Ticket, TicketEvent
from tickets.roles import Role
from tickets.services.bulk import BULK_LIMIT
from tickets.services.ledger import submission_key_issue
from tickets.services.parcels import parcel_unpack
from tickets.services.reviews import review_register
from tickets.services.vips import vip_add
from tickets.templatetags.desk_buyers import buyer_url

S = Ticket.Status
LIST = reverse("tickets:ticket_list")
BULK = reverse("tickets:ticket_bulk")


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _bulk(client, user, ids, action, **data):
    payload = {
        "ids": [str(i) for i in ids],
        "action": action,
        "submission": data.pop("submission", None) or submission_key_issue(user),
        "query": "status=unfinished",
        **data,
    }
    return client.post(BULK, payload, follow=True)


# --- 1. a bulk cancel asks first and needs a reason ---------------------------------------
def test_bulk_cancel_without_a_reason_is_refused_as_a_whole(logged_in, agent, shop_a):
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(3)]

    page = _bulk(logged_in, agent, [t.pk for t in tickets], "move", to_status=S.CANCELLED)

    assert any("必须在“备注”框写明原因" in m for m in _messages(page))
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == S.OPEN
        assert not ticket.events.filter(kind=TicketEvent.Kind.STATUS).exists()


def test_bulk_cancel_with_a_reason_puts_it_on_each_timeline(logged_in, agent, shop_a):
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(2)]

    _bulk(logged_in, agent, [t.pk for t in tickets], "move", to_status=S.CANCELLED, text="重复建单")

    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == S.CANCELLED
        event = ticket.events.get(kind=TicketEvent.Kind.STATUS)
        assert (event.to_status, event.message, event.actor) == (S.CANCELLED, "重复建单", agent)


def test_bulk_bar_asks_before_cancelling_naming_the_count(logged_in, agent, shop_a):
    make_ticket(make_order(shop_a), agent)

    html = logged_in.get(LIST).content.decode()

    # the 已撤销 choice carries the question; ticket_list.js puts the count in for "#"
    assert 'value="cancelled" data-confirm="确定撤销已选的 # 张售后单？' in html


# --- 2. a search cut short says so --------------------------------------------------------
def _anan_tickets(shop, user, n):
    return [make_ticket(make_order(shop, buyer_nick=f"安安小屋{i}"), user) for i in range(n)]


def test_list_and_export_say_when_the_search_read_only_the_newest_orders(
    logged_in, agent, shop_a, monkeypatch
):
    monkeypatch.setattr("tickets.filters.SEARCH_LIMIT", 2)
    _anan_tickets(shop_a, agent, 3)

    html = logged_in.get(LIST + "?q=安安&status=").content.decode()
    export = logged_in.get(reverse("tickets:ticket_export") + "?q=安安&status=")

    notice = "只显示最近 2 个订单的售后单，请缩小搜索"
    assert notice in html
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    assert notice in sheet["A1"].value
    assert export["X-Row-Count"] == "2"


def test_a_search_within_the_limit_shows_no_notice(logged_in, agent, shop_a, monkeypatch):
    monkeypatch.setattr("tickets.filters.SEARCH_LIMIT", 3)
    tickets = _anan_tickets(shop_a, agent, 3)

    html = logged_in.get(LIST + "?q=安安&status=").content.decode()

    assert "请缩小搜索" not in html
    assert all(t.number in html for t in tickets)


# --- 3. what people paste is searched as what it shows -------------------------------------
SEARCH = reverse("tickets:order_search")


@pytest.mark.parametrize(
    "term", ["ＴＢ０５２０１５", "ｔｂ０５２０１５", "TB05\u200b2015", "\ufefftb052015", "ＴＢ０５"]
)
def test_full_width_and_invisible_characters_find_what_ascii_finds(logged_in, agent, shop_a, term):
    order = make_order(shop_a, buyer_nick="TB052015")
    ticket = make_ticket(order, agent)

    top = logged_in.get(SEARCH, {"q": term}, follow=True)
    listed = logged_in.get(LIST, {"q": term, "status": ""}).content.decode()

    assert order.order_no in top.content.decode() or "TB052015" in top.content.decode()
    assert ticket.number in listed


@pytest.mark.parametrize("form", ["Ｔ{}", "ｔ{}", "\u200bT{}"])
def test_a_full_width_ticket_number_goes_to_the_ticket(logged_in, agent, shop_a, form):
    ticket = make_ticket(make_order(shop_a), agent)
    digits = str(ticket.pk).translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    response = logged_in.get(SEARCH, {"q": form.format(digits)})

    assert response.status_code == 302
    assert response.url == reverse("tickets:ticket_detail", args=[ticket.pk])


def test_accented_nicknames_are_found_in_any_case_on_either_database(logged_in, agent, shop_a):
    order = make_order(shop_a, buyer_nick="ÉLODIE的店")
    ticket = make_ticket(order, agent)
    make_order(shop_a, buyer_nick="elodie")  # no accent: not the same letters

    top = logged_in.get(SEARCH, {"q": "élo"}, follow=True).content.decode()
    whole = logged_in.get(SEARCH, {"q": "élodie的店"})
    listed = logged_in.get(LIST, {"q": "élod", "status": ""}).content.decode()

    assert "ÉLODIE的店" in top and ">elodie<" not in top
    assert whole.status_code == 302
    assert whole.url == reverse("tickets:order_detail", args=[order.pk])
    assert ticket.number in listed


# --- 4. the calendar's first and last days in every date filter ---------------------------
EXTREMES = ["0001-01-01", "9999-12-31"]
REGISTER_LISTS = [
    "registers:loss_list",
    "registers:quality_list",
    "registers:alert_list",
    "registers:feedback_list",
    "registers:wrong_list",
    "registers:intervention_list",
    "registers:invoice_list",
    "registers:review_list",
    "registers:handover_list",
]


@pytest.mark.parametrize("field", ["created", "updated"])
def test_the_ticket_list_reads_extreme_dates_as_no_bound(logged_in, agent, shop_a, field):
    ticket = make_ticket(make_order(shop_a), agent)

    def shown(**query):
        response = logged_in.get(LIST, {"status": "", **query})
        assert response.status_code == 200, query
        return ticket.number in response.content.decode()

    assert shown(**{f"{field}_min": "0001-01-01"})
    assert shown(**{f"{field}_max": "9999-12-31"})
    assert shown(**{f"{field}_min": "0001-01-01", f"{field}_max": "9999-12-31"})
    assert not shown(**{f"{field}_max": "0001-01-01"})
    assert not shown(**{f"{field}_min": "9999-12-31"})


@pytest.mark.parametrize("day", EXTREMES)
@pytest.mark.parametrize("key", ["created_min", "created_max", "updated_min", "updated_max"])
def test_the_export_takes_extreme_dates(logged_in, agent, shop_a, key, day):
    make_ticket(make_order(shop_a), agent)

    response = logged_in.get(reverse("tickets:ticket_export"), {"status": "", key: day})

    assert response.status_code == 200
    b"".join(response.streaming_content)


@pytest.mark.parametrize("day", EXTREMES)
@pytest.mark.parametrize("bound", ["created_min", "created_max"])
@pytest.mark.parametrize("name", REGISTER_LISTS)
def test_every_register_list_takes_extreme_dates(client, supervisor, name, bound, day):
    client.force_login(supervisor)

    response = client.get(reverse(name), {bound: day})

    assert response.status_code == 200


# --- 5. saved views offer only what works, and save only what the list accepts -------------
SAVE_VIEW = reverse("tickets:saved_view_create")


def _views_html(client, query=""):
    html = client.get(LIST + query).content.decode()
    return html.split('class="saved-views"')[1].split("</section>")[0]


def test_a_shared_view_of_a_shop_the_agent_does_not_serve_is_not_offered(
    logged_in, agent, supervisor, shop_a, shop_b
):
    SavedView.objects.create(
        owner=supervisor, name="B店退款", query=f"shop={shop_b.pk}", shared=True
    )
    SavedView.objects.create(
        owner=supervisor, name="A店退款", query=f"shop={shop_a.pk}", shared=True
    )

    html = _views_html(logged_in)

    assert "A店退款" in html
    assert "B店退款" not in html


@pytest.mark.parametrize(
    ("query", "field"),
    [("created_min=2026-13-45", "创建日期"), ("shop={other}", "店铺"), ("status=bogus", "状态")],
)
def test_saving_a_filter_the_list_would_refuse_names_the_field(
    logged_in, agent, shop_b, query, field
):
    response = logged_in.post(
        SAVE_VIEW, {"name": "坏视图", "query": query.format(other=shop_b.pk)}, follow=True
    )

    assert not SavedView.objects.exists()
    (message,) = _messages(response)
    assert "视图没有保存" in message and f"“{field}”" in message


@pytest.mark.parametrize("name", ["超时\x01", "\x1b[31m红色", "a\x7fb"])
def test_view_names_with_control_characters_are_refused(logged_in, name):
    response = logged_in.post(SAVE_VIEW, {"name": name, "query": "overdue=on"}, follow=True)

    assert not SavedView.objects.exists()
    assert any("控制字符" in m for m in _messages(response))


def test_only_the_applied_view_is_active(logged_in, agent, supervisor):
    mine = SavedView.objects.create(owner=agent, name="我的退款", query="status=refunded")
    shared = SavedView.objects.create(
        owner=supervisor, name="团队退款", query="status=refunded", shared=True
    )
    other = SavedView.objects.create(owner=agent, name="超时", query="overdue=on")

    clicked = _views_html(logged_in, f"?status=refunded&view={shared.pk}")
    typed = _views_html(logged_in, "?status=refunded")
    single = _views_html(logged_in, "?overdue=on&page=2")

    assert clicked.count('aria-current="page"') == 1
    assert f'view={shared.pk}" aria-current="page"' in clicked
    assert 'aria-current="page"' not in typed  # two views have this filter: neither is "the" one
    assert f'view={other.pk}" aria-current="page"' in single
    assert mine.pk != shared.pk


# --- 6. the bulk note refuses a resubmission of its own form only -------------------------
def test_a_note_typed_on_the_ticket_page_does_not_block_the_bulk_note(logged_in, agent, shop_a):
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(2)]
    key = submission_key_issue(agent)  # the list is shown
    # the agent writes the same words on the first ticket's page
    logged_in.post(reverse("tickets:ticket_note", args=[tickets[0].pk]), {"text": "已联系买家"})

    page = _bulk(
        logged_in, agent, [t.pk for t in tickets], "note", text="已联系买家", submission=key
    )
    again = _bulk(
        logged_in, agent, [t.pk for t in tickets], "note", text="已联系买家", submission=key
    )

    outcomes = {r["label"]: r["outcome"] for r in page.context["bulk_result"]["results"]}
    assert outcomes == {tickets[0].number: "done", tickets[1].number: "done"}
    repeated = {r["outcome"] for r in again.context["bulk_result"]["results"]}
    assert repeated == {"unchanged"}
    assert tickets[0].events.filter(kind=TicketEvent.Kind.NOTE).count() == 2
    assert tickets[1].events.filter(kind=TicketEvent.Kind.NOTE).count() == 1


# --- 7. a refusal to hand work over names the real reason ---------------------------------
def test_assigning_to_a_finance_user_says_they_are_not_an_agent(
    client, supervisor, finance, agent, shop_a, shop_b
):
    ticket = make_ticket(make_order(shop_a), agent, assignee=agent)
    review = review_register(
        actor=supervisor,
        order=make_order(shop_a),
        rating="negative",
        made_at=timezone.now(),
        assign=False,
    )
    stranger = make_user("agent-b", Role.AGENT, shops=[shop_b])
    client.force_login(supervisor)

    def said(url, who):
        response = client.post(url, {"assignee": str(who.pk)}, follow=True)
        return " ".join(_messages(response)) or response.content.decode()

    to_ticket = reverse("tickets:ticket_assign", args=[ticket.pk])
    to_review = reverse("registers:review_assign", args=[review.pk])
    for url in (to_ticket, to_review):
        assert f"{finance} 不是客服或主管" in said(url, finance)
        assert f"{stranger} 不负责这家店铺" in said(url, stranger)
    ticket.refresh_from_db()
    review.refresh_from_db()
    assert ticket.assignee == agent and review.assignee is None


# --- 8. bulk results in the order posted, each ticket once, odd ids shown as posted --------
def _results(page):
    return [(r["label"], r["outcome"]) for r in page.context["bulk_result"]["results"]]


def test_bulk_results_follow_the_order_posted(logged_in, agent, shop_a):
    first, second = (make_ticket(make_order(shop_a), agent) for _ in range(2))
    absurd = "9" * 40

    page = _bulk(
        logged_in,
        agent,
        [second.pk, "abc", first.pk, absurd, f"00{second.pk}", first.pk],
        "take",
    )

    assert _results(page) == [
        (second.number, "done"),
        ("abc", "refused"),
        (first.number, "done"),
        ("9" * 23 + "…", "refused"),
    ]


def test_duplicate_ids_count_once_toward_the_limit(logged_in, agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent)

    page = _bulk(logged_in, agent, [ticket.pk] * (BULK_LIMIT + 50), "take")
    too_many = _bulk(logged_in, agent, [ticket.pk, *range(10**9, 10**9 + BULK_LIMIT)], "take")

    assert _results(page) == [(ticket.number, "done")]
    assert any(f"这次选了 {BULK_LIMIT + 1} 张" in m for m in _messages(too_many))


# --- 9. English that reads right -----------------------------------------------------------
@pytest.fixture
def in_english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_status_filter_tells_unfinished_from_to_do_in_english(in_english, agent):
    in_english.force_login(agent)

    html = in_english.get(LIST).content.decode()

    assert '<option value="unfinished" selected>Unfinished (all)</option>' in html
    assert '<option value="open">To do</option>' in html
    assert "Open (all)" not in html


def test_the_buyers_page_titles_are_plural_in_english(in_english, agent, shop_a):
    make_ticket(make_order(shop_a, buyer_nick="小鱼爱吃猫"), agent)
    in_english.force_login(agent)

    html = in_english.get(reverse("tickets:buyer_detail"), {"nick": "小鱼爱吃猫"}).content.decode()

    for title in ("Orders", "Tickets", "Returned parcels", "Photos", "Contacts"):
        assert f"<h2>{title}" in html, title
    for singular in ("Order", "Photo", "Returned parcel"):
        assert f"<h2>{singular}<" not in html and f"<h2>{singular} <" not in html


def test_the_dashboard_counts_one_review_in_the_singular(in_english, supervisor, shop_a):
    review_register(
        actor=supervisor,
        order=make_order(shop_a),
        rating="negative",
        made_at=timezone.now() - timedelta(hours=2),
        assign=False,
    )
    in_english.force_login(supervisor)

    html = in_english.get(reverse("tickets:dashboard")).content.decode()

    assert "1 review unassigned for over an hour" in html
    assert "1 reviews" not in html


# --- 10. the top bar finds registered parcels and VIP-only buyers -------------------------
def test_the_top_bar_finds_a_parcel_by_its_tracking_number(logged_in, agent, supervisor, shop_a):
    order = make_order(shop_a)
    matched = parcel_unpack(
        actor=agent, tracking_no="YT500600700", condition="intact", order=order
    ).parcel
    unknown = parcel_unpack(actor=agent, tracking_no="SF900800700", condition="damaged").parcel
    other_shop = make_order(make_shop("shop-c"))
    hidden = parcel_unpack(
        actor=supervisor, tracking_no="JT300200100", condition="intact", order=other_shop
    ).parcel

    to_order = logged_in.get(SEARCH, {"q": " yt500600700 "})
    listed = logged_in.get(SEARCH, {"q": "ＳＦ９００８００７００"}).content.decode()
    nothing = logged_in.get(SEARCH, {"q": hidden.tracking_no}).content.decode()

    assert matched.order_id == order.pk and unknown.shop_id is None
    assert to_order.status_code == 302
    assert to_order.url == reverse("tickets:order_detail", args=[order.pk])
    assert 'id="found-parcels"' in listed and "SF900800700" in listed and "未知包裹" in listed
    assert 'id="found-parcels"' not in nothing and hidden.tracking_no in nothing  # the term only


def test_the_top_bar_finds_a_buyer_who_is_only_a_vip(logged_in, agent, supervisor, shop_a, shop_b):
    vip_add(actor=supervisor, shop=shop_a, buyer_nick="金牌买家ANNA")
    vip_add(actor=supervisor, shop=shop_a, buyer_nick="金牌买家Bob")
    vip_add(actor=supervisor, shop=shop_b, buyer_nick="金牌买家别家")

    html = logged_in.get(SEARCH, {"q": "金牌买家"}).content.decode()
    alone = logged_in.get(SEARCH, {"q": "anna"})

    assert 'id="found-buyers"' in html and "金牌买家ANNA" in html and "VIP" in html
    assert "金牌买家别家" not in html
    assert alone.status_code == 302
    assert alone.url == buyer_url("金牌买家ANNA")
