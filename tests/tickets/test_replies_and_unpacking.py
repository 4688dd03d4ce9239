"""Issue 11 §6: quick replies show their gaps and take shop facts from the shop; the unpacking
screen names the status the ticket really moved to, records postage like the ticket page, and
a parcel of an order without a ticket stays on the order page, which opens a ticket for it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import make_order, make_shop, make_ticket, make_user
from tickets.models import LedgerEntry, QuickReply, ReturnParcel, Ticket
from tickets.quick_replies import quick_reply_fill
from tickets.roles import Role
from tickets.services import DeskError
from tickets.services.ledger import submission_key_issue
from tickets.services.parcels import parcel_link_ticket, parcel_unpack

pytestmark = pytest.mark.django_db
S = Ticket.Status

WUHAN = "湖北省武汉市江汉区解放大道 88 号 售后部（收）"
SHANGHAI = "上海市闵行区春东路 508 号 售后部（收）"


@pytest.fixture
def addresses(settings):
    settings.DESK_RETURN_ADDRESSES = {"wuhan": WUHAN, "shanghai": SHANGHAI}


# --- quick replies ---------------------------------------------------------------------
def test_a_placeholder_the_ticket_cannot_fill_is_a_gap(agent, order_a):
    ticket = make_ticket(order_a, agent)  # no return tracking number yet
    reply = QuickReply.objects.create(
        title="已收到退件",
        body="{买家}，您的退件 {退回运单号} 已收到；{退回运单号} 我们已登记。{快递员}",
    )
    filled = quick_reply_fill(reply, ticket)
    assert filled.gaps == ["退回运单号", "快递员"]  # each once; an unknown placeholder too
    assert filled.text.startswith(f"{order_a.buyer_nick}，您的退件 {{退回运单号}}")
    ticket.return_tracking_no = "YT42"
    assert quick_reply_fill(reply, ticket).gaps == ["快递员"]


@pytest.mark.parametrize(
    "written",
    [
        "｛退回运单号｝",
        "{ 退回运单号 }",
        "｛ 退回运单号}",
        "{{退回运单号}}",
        "{退回 运单号}",
        "﹛退回运单号﹜",
        "❴退回运单号❵",
        "{退回运单号}}",
        "{退回\u00a0运单号}",
    ],
)
def test_a_placeholder_in_full_width_braces_or_with_spaces_is_a_gap_too(agent, order_a, written):
    # given a phrase typed with a Chinese input method's braces, or with spaces inside
    reply = QuickReply.objects.create(title="已收到退件", body=f"亲，退件 {written} 已收到。")
    ticket = make_ticket(order_a, agent)
    filled = quick_reply_fill(reply, ticket)
    # then it is still a gap: the copy waits, the buyer never gets the raw placeholder
    assert filled.gaps == ["退回运单号"]
    # and once the ticket knows the number, it is filled in whichever way it was written
    ticket.return_tracking_no = "YT42"
    assert quick_reply_fill(reply, ticket).text == "亲，退件 YT42 已收到。"


def test_the_admin_refuses_a_phrase_with_a_placeholder_the_desk_cannot_fill(client, db):
    boss = make_user("boss-staff", Role.SUPERVISOR, all_shops=True, is_staff=True)
    client.force_login(boss)
    url = reverse("admin:tickets_quickreply_add")
    # a typo'd placeholder, in either kind of brace, is refused with the ones it can fill
    for body in ("退件 {运单} 已收到", "退件 ｛快递员 ｝ 已收到"):
        page = client.post(url, {"title": "已收到", "body": body, "is_active": "on"})
        assert page.status_code == 200
        assert "不认识的占位符" in page.content.decode()
        assert "{退回运单号}" in page.content.decode()
    assert not QuickReply.objects.exists()
    # a phrase longer than one chat message is refused too, saying how long it may be
    page = client.post(url, {"title": "长", "body": "亲" * 1001, "is_active": "on"})
    assert page.status_code == 200 and "最多 1000 个字" in page.content.decode()
    assert not QuickReply.objects.exists()
    # and a phrase with known placeholders (full-width braces included) is saved
    good = "{买家}您好，退件 ｛退回运单号｝ 已收到"
    assert client.post(url, {"title": "已收到", "body": good, "is_active": "on"}).status_code == 302
    assert QuickReply.objects.get().body == good
    # and a phrase written before the rule can still be switched off as it is
    old = QuickReply.objects.create(title="旧短语", body="退件 {运单} 已收到")
    change = reverse("admin:tickets_quickreply_change", args=[old.pk])
    assert client.post(change, {"title": "旧短语", "body": old.body}).status_code == 302
    old.refresh_from_db()
    assert not old.is_active


def test_the_return_address_comes_from_the_shop(addresses, agent, shop_a, supervisor):
    # given a Wuhan shop (shop A) and a Shanghai shop, one phrase for both
    shanghai = make_shop("sh-shop", location="shanghai")
    reply = QuickReply.objects.create(title="换货地址", body="请寄回：{退货地址}（{店铺}）")
    wuhan_ticket = make_ticket(make_order(shop_a), agent)
    shanghai_ticket = make_ticket(make_order(shanghai), supervisor)
    # then each ticket's phrase names its own shop's address
    assert quick_reply_fill(reply, wuhan_ticket).text == f"请寄回：{WUHAN}（{shop_a.name}）"
    assert quick_reply_fill(reply, shanghai_ticket).text == f"请寄回：{SHANGHAI}（{shanghai.name}）"
    # and a shop whose location has no address shows the gap, never another shop's address
    other = make_shop("elsewhere", location="other")
    filled = quick_reply_fill(reply, make_ticket(make_order(other), supervisor))
    assert filled.gaps == ["退货地址"] and WUHAN not in filled.text


def test_a_shops_own_return_address_wins_over_its_citys_default(addresses, agent, shop_a):
    # given the Wuhan shop keeps its own return address (a second warehouse, say)
    shop_a.return_address = "湖北省武汉市汉阳区龙阳大道 1 号 二号仓（收）"
    shop_a.save()
    reply = QuickReply.objects.create(title="换货地址", body="请寄回：{退货地址}")
    ticket = make_ticket(make_order(shop_a), agent)
    # then the phrase names it, not the city's default
    assert quick_reply_fill(reply, ticket).text == f"请寄回：{shop_a.return_address}"
    # and the change is on the shop's history (who changed the address, when)
    assert shop_a.history.filter(return_address=shop_a.return_address).exists()


def test_the_ticket_page_shows_the_gap_and_copy_waits_for_it(client, agent, order_a):
    ticket = make_ticket(order_a, agent)
    gap = QuickReply.objects.create(title="已收到退件", body="退件 {退回运单号} 已收到")
    full = QuickReply.objects.create(title="问候", body="{买家}您好")
    client.force_login(agent)
    html = client.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    assert 'data-gap="退回运单号"' in html
    assert "这张售后单没有：退回运单号。填好后才能复制。" in html
    copy_gap = html[html.index(f'data-copy-target="reply-{gap.pk}"') :].split(">", 1)[0]
    copy_full = html[html.index(f'data-copy-target="reply-{full.pk}"') :].split(">", 1)[0]
    assert "disabled" in copy_gap and "disabled" not in copy_full


# --- unpacking: the message ----------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "before", "after"),
    [
        (Ticket.Kind.EXCHANGE, S.AWAITING_RETURN, "待换货"),
        (Ticket.Kind.RETURN, S.AWAITING_RETURN, "已收到退件"),
        (Ticket.Kind.RETURN, S.OPEN, "已收到退件"),
    ],
)
def test_the_message_names_the_status_the_ticket_moved_to(
    client, agent, order_a, kind, before, after
):
    ticket = make_ticket(order_a, agent, kind=kind, status=before, return_tracking_no="YT77")
    client.force_login(agent)
    response = client.post(
        reverse("tickets:parcel_unpack"),
        {"tracking_no": "yt77", "condition": "intact"},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.get_status_display() == after
    text = next(str(m) for m in response.context["messages"])
    assert f"售后单 {ticket.number} 从“{S(before).label}”变为“{after}”" in text


def test_a_ticket_the_parcel_does_not_move_is_said_to_stay(client, agent, order_a):
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.RESHIP, return_tracking_no="YT78")
    client.force_login(agent)
    response = client.post(
        reverse("tickets:parcel_unpack"),
        {"tracking_no": "YT78", "condition": "damaged"},
        follow=True,
    )
    text = next(str(m) for m in response.context["messages"])
    assert f"记入售后单 {ticket.number} 的动态；售后单仍是“待处理”" in text


# --- unpacking: postage --------------------------------------------------------------
def unpack_post(user, **extra):
    return {
        "tracking_no": "YT900",
        "condition": "intact",
        "contents": "连衣裙一件",
        "postage-kind": "postage",
        "postage-amount": "12",
        "postage-payment_method": "alipay_transfer",
        "postage-note": "买家垫付",
        "postage-submission": submission_key_issue(user),
        **extra,
    }


def test_postage_is_recorded_with_the_parcel_once(client, agent, order_a):
    ticket = make_ticket(
        order_a,
        agent,
        kind=Ticket.Kind.RETURN,
        status=S.AWAITING_RETURN,
        return_tracking_no="YT900",
    )
    client.force_login(agent)
    data = unpack_post(agent)
    first = client.post(reverse("tickets:parcel_unpack"), data, follow=True)
    second = client.post(reverse("tickets:parcel_unpack"), data, follow=True)  # a retry
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.ticket, entry.note) == (
        "postage",
        Decimal("12.00"),
        ticket,
        "买家垫付",
    )
    assert "已登记邮费 ¥12.00" in first.content.decode()
    assert "邮费没有再登记" in second.content.decode()
    assert "登记邮费 ¥12.00" in "".join(e.message for e in ticket.events.all())
    assert ReturnParcel.objects.count() == 1


def test_the_unpacking_screen_suggests_the_rate_cards_price(client, agent, order_a):
    make_ticket(
        order_a,
        agent,
        kind="return",
        status=S.AWAITING_RETURN,
        responsibility="seller",
        return_tracking_no="YT901",
    )
    client.force_login(agent)
    html = client.get(reverse("tickets:parcel_unpack") + "?tracking_no=YT901").content.decode()
    assert 'name="postage-amount"' in html and 'name="postage-submission"' in html
    # Wuhan shop, Wuhan buyer: 6 yuan, suggested but never filled in
    assert 'name="postage-amount" value=' not in html
    assert 'placeholder="建议 ¥6.00"' in html and "填入建议 ¥6.00" in html


def test_no_amount_no_postage(client, agent, order_a):
    make_ticket(order_a, agent, kind="return", status=S.AWAITING_RETURN, return_tracking_no="YT900")
    client.force_login(agent)
    client.post(reverse("tickets:parcel_unpack"), unpack_post(agent, **{"postage-amount": ""}))
    assert ReturnParcel.objects.count() == 1 and not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "hostile",
    [
        {"postage-kind": "refund"},
        {"postage-kind": "compensation", "postage-amount": "5000"},
        {"postage-amount": "1e28"},
        {"postage-amount": "-12"},
        {"postage-submission": "forged"},
    ],
)
def test_hostile_postage_saves_nothing(client, agent, order_a, hostile):
    make_ticket(order_a, agent, kind="return", status=S.AWAITING_RETURN, return_tracking_no="YT900")
    client.force_login(agent)
    response = client.post(reverse("tickets:parcel_unpack"), unpack_post(agent, **hostile))
    assert not LedgerEntry.objects.exists()
    if hostile.get("postage-submission"):
        # the parcel is registered; the postage with a forged key is refused and says so
        assert ReturnParcel.objects.count() == 1
    else:
        assert response.status_code == 200 and not ReturnParcel.objects.exists()


def test_another_users_key_records_no_postage(client, agent, shop_a, order_a):
    colleague = make_user("agent-a4", Role.AGENT, shops=[shop_a])
    make_ticket(order_a, agent, kind="return", status=S.AWAITING_RETURN, return_tracking_no="YT900")
    client.force_login(agent)
    response = client.post(
        reverse("tickets:parcel_unpack"),
        unpack_post(agent, **{"postage-submission": submission_key_issue(colleague)}),
        follow=True,
    )
    assert "邮费没有登记" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_finance_cannot_unpack_or_record_postage(client, finance, order_a, agent):
    make_ticket(order_a, agent, kind="return", status=S.AWAITING_RETURN, return_tracking_no="YT900")
    client.force_login(finance)
    assert client.post(reverse("tickets:parcel_unpack"), unpack_post(finance)).status_code == 403
    assert not ReturnParcel.objects.exists() and not LedgerEntry.objects.exists()


def test_an_agent_of_another_shop_gets_an_unknown_parcel_and_no_postage(
    client, shop_b, order_a, agent
):
    make_ticket(order_a, agent, kind="return", status=S.AWAITING_RETURN, return_tracking_no="YT900")
    outsider = make_user("agent-b2", Role.AGENT, shops=[shop_b])
    client.force_login(outsider)
    client.post(reverse("tickets:parcel_unpack"), unpack_post(outsider), follow=True)
    parcel = ReturnParcel.objects.get()
    assert parcel.ticket is None and parcel.order is None  # shop A's ticket is not theirs
    assert not LedgerEntry.objects.exists()


# --- a parcel of an order without a ticket ---------------------------------------------
def test_a_parcel_of_an_order_without_a_ticket_shows_on_the_order_page(client, agent, order_a):
    parcel = parcel_unpack(
        actor=agent, tracking_no="YT555", condition="intact", contents="T恤", order=order_a
    ).parcel
    client.force_login(agent)
    html = client.get(reverse("tickets:order_detail", args=[order_a.pk])).content.decode()
    assert "YT555" in html and "没有售后单" in html
    new_url = reverse("tickets:ticket_new", args=[order_a.pk]) + f"?parcel={parcel.pk}"
    assert new_url in html
    # when the agent opens a return for it from there
    page = client.get(new_url).content.decode()
    assert "YT555" in page
    item = order_a.items.get()
    response = client.post(
        new_url,
        {
            "kind": "return",
            "reason": "not_suitable",
            "responsibility": "buyer",
            f"qty_{item.pk}": "1",
            "return_tracking_no": "YT555",
        },
        follow=True,
    )
    # then the parcel is on the new ticket, which has already received it
    ticket = Ticket.objects.get()
    parcel.refresh_from_db()
    assert parcel.ticket == ticket
    assert ticket.status == S.RECEIVED
    assert "已关联到这张售后单" in response.content.decode()


def test_another_orders_or_shops_parcel_cannot_be_used(client, agent, supervisor, order_a, order_b):
    theirs = parcel_unpack(
        actor=supervisor, tracking_no="YT556", condition="intact", order=order_b
    ).parcel
    mine_other_order = parcel_unpack(
        actor=agent, tracking_no="YT557", condition="intact", order=make_order(order_a.shop)
    ).parcel
    client.force_login(agent)
    for parcel in (theirs, mine_other_order):
        url = reverse("tickets:ticket_new", args=[order_a.pk]) + f"?parcel={parcel.pk}"
        assert client.get(url).status_code == 404
    assert (
        client.get(reverse("tickets:ticket_new", args=[order_a.pk]) + "?parcel=x").status_code
        == 200
    )


def test_a_parcel_is_linked_once(agent, shop_a):
    order = make_order(shop_a, items=((Decimal("99.00"), 2),))  # two pieces, two tickets
    parcel = parcel_unpack(actor=agent, tracking_no="YT558", condition="intact", order=order).parcel
    first = make_ticket(order, agent, kind="return")
    parcel_link_ticket(actor=agent, parcel=parcel, ticket=first)
    second = make_ticket(order, agent, kind="exchange")
    with pytest.raises(DeskError, match=first.number):
        parcel_link_ticket(actor=agent, parcel=parcel, ticket=second)
    first.refresh_from_db()
    assert first.status == S.RECEIVED
