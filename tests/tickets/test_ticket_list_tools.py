"""The ticket list's tools (issue 11, "The ticket list"): the status filter, bulk actions,
saved views and stale tickets, through the pages."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_order, make_ticket, make_user
from tickets.models import SavedView, Ticket, TicketEvent
from tickets.roles import Role
from tickets.services.bulk import (
    BULK_LIMIT,
    BulkAction,
    tickets_bulk_change,
)
from tickets.services.ledger import submission_key_issue, submission_key_read
from tickets.services.saved_views import SAVED_VIEWS_PER_USER
from tickets.services.tickets import promise_add

S = Ticket.Status
K = Ticket.Kind
LIST = reverse("tickets:ticket_list")
BULK = reverse("tickets:ticket_bulk")
SAVE_VIEW = reverse("tickets:saved_view_create")


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def _numbers(client, query, *tickets):
    html = client.get(LIST + query).content.decode()
    return {t.number for t in tickets if t.number in html}


def _bulk(client, user, ids, action, **data):
    """Posts the bulk bar as the list page would, follows back to the list, and returns
    ({ticket label: (outcome, message)}, the list response)."""
    payload = {
        "ids": [str(i) for i in ids],
        "action": action,
        "submission": data.pop("submission", None) or submission_key_issue(user),
        "query": data.pop("query", "status=unfinished"),
        **data,
    }
    response = client.post(BULK, payload, follow=True)
    assert response.status_code == 200
    result = response.context["bulk_result"] or {"results": []}
    return {r["label"]: (r["outcome"], r["message"]) for r in result["results"]}, response


# --- the status filter --------------------------------------------------------------------
def test_pending_status_filters_only_open_tickets_and_unfinished_all_open(logged_in, agent, shop_a):
    # given a ticket in each kind of state
    pending = make_ticket(make_order(shop_a), agent, kind=K.EXCHANGE)
    waiting = make_ticket(make_order(shop_a), agent, kind=K.EXCHANGE, status=S.AWAITING_RETURN)
    closed = make_ticket(make_order(shop_a), agent, kind=K.RESHIP, status=S.CLOSED)
    every = (pending, waiting, closed)
    # then 待处理 is the status "open" only, and "all unfinished" its own choice
    assert _numbers(logged_in, "?status=open", *every) == {pending.number}
    assert _numbers(logged_in, "?status=unfinished", *every) == {pending.number, waiting.number}
    assert _numbers(logged_in, "", *every) == {pending.number, waiting.number}  # the default
    assert _numbers(logged_in, "?status=", *every) == {t.number for t in every}
    # and the select sends two different values for the two options
    html = logged_in.get(LIST).content.decode()
    assert '<option value="unfinished" selected>' in html
    assert '<option value="open">' in html


# --- bulk actions -------------------------------------------------------------------------
def test_bulk_move_three_tickets_one_cannot_move(logged_in, agent, shop_a):
    # given two exchanges waiting to be worked and a refund-only ticket, which has no return
    first = make_ticket(make_order(shop_a), agent, kind=K.EXCHANGE)
    second = make_ticket(make_order(shop_a), agent, kind=K.EXCHANGE)
    refund = make_ticket(make_order(shop_a), agent, kind=K.REFUND_ONLY)
    # when the agent moves all three to "awaiting return" with a note
    results, page = _bulk(
        logged_in,
        agent,
        [first.pk, second.pk, refund.pk],
        "move",
        to_status=S.AWAITING_RETURN,
        text="已发退货地址",
    )
    # then two moved, with their timeline, and the third says why not
    assert results[first.number][0] == "done"
    assert results[second.number][0] == "done"
    assert results[refund.number][0] == "refused"
    assert "不能从“待处理”变为“等待退回”" in results[refund.number][1]
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.status == S.AWAITING_RETURN
        event = ticket.events.get(kind=TicketEvent.Kind.STATUS)
        assert (event.actor, event.to_status, event.message) == (
            agent,
            S.AWAITING_RETURN,
            "已发退货地址",
        )
    refund.refresh_from_db()
    assert refund.status == S.OPEN
    assert not refund.events.filter(kind=TicketEvent.Kind.STATUS).exists()
    html = page.content.decode()
    assert "2 张已完成，0 张无需改动，1 张未处理" in html
    assert refund.number in html

    # when the same request comes again (a retry): nothing moves twice
    again, _page = _bulk(
        logged_in,
        agent,
        [first.pk, second.pk, refund.pk],
        "move",
        to_status=S.AWAITING_RETURN,
        text="已发退货地址",
    )
    assert again[first.number][0] == "unchanged"
    assert first.events.filter(kind=TicketEvent.Kind.STATUS).count() == 1


def test_bulk_move_refuses_what_needs_more_input_or_belongs_to_the_list(logged_in, agent, shop_a):
    # given a reship to ship (needs its tracking no.), a ticket with an unkept promise to
    # cancel (needs a reason), and an exchange queued for the list (the list moves it)
    reship = make_ticket(make_order(shop_a), agent, kind=K.RESHIP)
    promised = make_ticket(make_order(shop_a), agent, kind=K.RETURN)
    promise_add(actor=agent, ticket=promised, kind="gift", text="送小礼品")
    queued = make_ticket(make_order(shop_a), agent, kind=K.EXCHANGE, status=S.QUEUED_FOR_EXCHANGE)

    shipped, _page = _bulk(logged_in, agent, [reship.pk], "move", to_status=S.SHIPPED)
    cancelled, _page = _bulk(
        logged_in, agent, [promised.pk], "move", to_status=S.CANCELLED, text="买家不要了"
    )
    listed, _page = _bulk(logged_in, agent, [queued.pk], "move", to_status=S.ON_EXCHANGE_LIST)

    assert shipped[reship.number] == ("refused", "发出商品时必须填写运单号。")
    assert cancelled[promised.number][0] == "refused"
    assert "送小礼品" in cancelled[promised.number][1]
    assert listed[queued.number][0] == "refused"
    assert "换货清单" in listed[queued.number][1]
    for ticket, status in ((reship, S.OPEN), (promised, S.OPEN), (queued, S.QUEUED_FOR_EXCHANGE)):
        ticket.refresh_from_db()
        assert ticket.status == status
    assert not promised.promises.filter(waived_at__isnull=False).exists()


def test_a_refused_move_offers_only_the_moves_a_person_can_make_in_either_language(
    logged_in, agent, shop_a, settings
):
    # given a refund-only ticket (open) and an exchange on the list
    refund = make_ticket(make_order(shop_a), agent, kind=K.REFUND_ONLY)
    listed = make_ticket(make_order(shop_a), agent, kind=K.EXCHANGE, status=S.ON_EXCHANGE_LIST)
    # when both are moved where they cannot go
    results, _page = _bulk(logged_in, agent, [refund.pk, listed.pk], "move", to_status=S.CLOSED)
    # then the refusal names the moves a person can make: none of the list's own
    assert results[refund.number][0] == "refused"
    assert "现在可以变为：已退款、已撤销。" in results[refund.number][1]
    assert "只能按清单发货" in results[listed.number][1]
    assert "已发出" not in results[listed.number][1]
    # and in English it reads as English, with English commas
    logged_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    results, _page = _bulk(logged_in, agent, [refund.pk], "move", to_status=S.AWAITING_RETURN)
    words = results[refund.number][1]
    assert words.startswith("The ticket (") and "It can go to: Refunded, Cancelled." in words
    assert "、" not in words


def test_bulk_take_is_idempotent_and_leaves_others_tickets(logged_in, agent, shop_a):
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    free = make_ticket(make_order(shop_a), agent)
    also_free = make_ticket(make_order(shop_a), agent)
    theirs = make_ticket(make_order(shop_a), agent, assignee=colleague)
    ids = [free.pk, also_free.pk, theirs.pk]

    results, _page = _bulk(logged_in, agent, ids, "take")

    assert results[free.number] == ("done", "已认领。")
    assert results[also_free.number][0] == "done"
    assert results[theirs.number][0] == "refused"
    assert "只有主管可以改派" in results[theirs.number][1]
    assert set(Ticket.objects.filter(assignee=agent).values_list("pk", flat=True)) == {
        free.pk,
        also_free.pk,
    }
    assert free.events.filter(kind=TicketEvent.Kind.ASSIGNED).count() == 1
    # taking again changes nothing and writes nothing
    again, _page = _bulk(logged_in, agent, ids, "take")
    assert again[free.number][0] == "unchanged"
    assert free.events.filter(kind=TicketEvent.Kind.ASSIGNED).count() == 1


def test_bulk_note_once_per_form_however_often_posted(logged_in, agent, shop_a):
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(3)]
    ids = [t.pk for t in tickets]
    key = submission_key_issue(agent)

    results, _page = _bulk(logged_in, agent, ids, "note", text="买家已电话确认", submission=key)
    again, _page = _bulk(logged_in, agent, ids, "note", text="买家已电话确认", submission=key)

    assert {outcome for outcome, _m in results.values()} == {"done"}
    assert {outcome for outcome, _m in again.values()} == {"unchanged"}
    for ticket in tickets:
        notes = ticket.events.filter(kind=TicketEvent.Kind.NOTE)
        assert list(notes.values_list("message", "actor")) == [("买家已电话确认", agent.pk)]
    # the same form sent again with other words (Back, then an edit) is not called a repeat:
    # it is refused, saying why, and writes nothing
    edited, _page = _bulk(logged_in, agent, ids, "note", text="买家改口了", submission=key)
    assert {outcome for outcome, _m in edited.values()} == {"refused"}
    assert all("刷新页面" in message for _o, message in edited.values())
    assert not TicketEvent.objects.filter(message="买家改口了").exists()
    # a new form (the page shown again) may add the same words on purpose
    third, _page = _bulk(logged_in, agent, ids[:1], "note", text="买家已电话确认")
    assert third[tickets[0].number][0] == "done"
    # a forged or foreign key is refused as a whole
    other = make_user("agent-a3", Role.AGENT, shops=[shop_a])
    _none, page = _bulk(
        logged_in, agent, ids, "note", text="x", submission=submission_key_issue(other)
    )
    assert "表单已过期或无效" in page.content.decode()
    _none, page = _bulk(logged_in, agent, ids, "note", text="\u200b ", submission=key)
    assert "备注不能为空" in page.content.decode()
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.NOTE).count() == 4


def test_supervisor_bulk_assigns_only_to_staff_serving_the_ticket_shop(
    client, supervisor, agent, shop_a, shop_b
):
    # given tickets of shop A and one of shop B, which the agent does not serve
    a1 = make_ticket(make_order(shop_a), supervisor)
    a2 = make_ticket(make_order(shop_a), supervisor)
    b1 = make_ticket(make_order(shop_b), supervisor)
    client.force_login(supervisor)
    # the bar offers the staff to assign to
    assert agent.username in client.get(LIST).content.decode()

    results, _page = _bulk(
        client, supervisor, [a1.pk, a2.pk, b1.pk], "assign", assignee=str(agent.pk)
    )

    assert results[a1.number] == ("done", f"已分配给 {agent}。")
    assert results[a2.number][0] == "done"
    assert results[b1.number][0] == "refused"
    assert "不负责这家店铺" in results[b1.number][1]
    assert list(Ticket.objects.filter(assignee=agent).order_by("pk")) == [a1, a2]
    assert a1.events.get(kind=TicketEvent.Kind.ASSIGNED).actor == supervisor


def test_agent_cannot_bulk_assign_to_others(logged_in, agent, shop_a):
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(3)]
    # no assign control on the agent's page
    assert 'value="assign"' not in logged_in.get(LIST).content.decode()
    # and a hand-made POST changes nothing
    results, page = _bulk(
        logged_in, agent, [t.pk for t in tickets], "assign", assignee=str(colleague.pk)
    )
    assert results == {}
    assert "只有主管可以把售后单分配给别人" in page.content.decode()
    assert not Ticket.objects.filter(assignee__isnull=False).exists()
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.ASSIGNED).exists()


def test_forged_bulk_posts_are_refused_per_ticket_never_500(logged_in, agent, shop_a, shop_b):
    # given a ticket of the agent's shop and one of another shop
    mine = make_ticket(make_order(shop_a), agent)
    foreign = make_ticket(make_order(shop_b), make_user(role=Role.AGENT, shops=[shop_b]))
    forged = [str(foreign.pk), "999999999", "abc", "1" * 30, "１２", "-1", "1.5", ""]

    results, page = _bulk(logged_in, agent, [mine.pk, *forged], "take")

    assert results[mine.number][0] == "done"
    # another shop's ticket reads exactly like one that doesn't exist
    assert results[f"#{foreign.pk}"] == results["#999999999"]
    assert results[f"#{foreign.pk}"][0] == "refused"
    assert foreign.number not in page.content.decode()
    assert results["abc"][0] == "refused"
    assert results["1" * 23 + "…"][0] == "refused"  # cut for display, never silently
    foreign.refresh_from_db()
    assert foreign.assignee is None
    assert not foreign.events.filter(kind=TicketEvent.Kind.ASSIGNED).exists()


def test_bulk_refuses_bad_requests_as_a_whole(client, logged_in, agent, finance, shop_a):
    ticket = make_ticket(make_order(shop_a), agent)
    # too many ids
    many = [ticket.pk, *range(10**9, 10**9 + BULK_LIMIT)]  # distinct: duplicates count once
    _none, page = _bulk(logged_in, agent, many, "take")
    assert f"一次最多处理 {BULK_LIMIT} 张售后单" in page.content.decode()
    # an unknown action, an unknown status, nothing ticked
    for data in ({"action": "delete"}, {"action": "move", "to_status": "gone"}):
        response = logged_in.post(BULK, {"ids": [ticket.pk], **data}, follow=True)
        assert response.status_code == 200
    _none, page = _bulk(logged_in, agent, [], "take")
    assert "请先勾选要处理的售后单" in page.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.status == S.OPEN
    # a GET is refused; finance may not change tickets
    assert logged_in.get(BULK).status_code == 405
    client.force_login(finance)
    assert client.post(BULK, {"ids": [ticket.pk], "action": "take"}).status_code == 403
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_bulk_goes_back_to_the_same_filter(logged_in, agent, shop_a):
    ticket = make_ticket(make_order(shop_a), agent)
    response = logged_in.post(
        BULK,
        {
            "ids": [ticket.pk],
            "action": "take",
            "query": "status=open&kind=exchange&page=2&evil=http://x&csrfmiddlewaretoken=t",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == LIST + "?status=open&kind=exchange&page=2"


# --- saved views --------------------------------------------------------------------------
def test_saved_view_create_apply_delete(logged_in, agent, shop_a):
    # given a refunded ticket and an open one
    refunded = make_ticket(make_order(shop_a), agent, kind=K.REFUND_ONLY, status=S.REFUNDED)
    pending = make_ticket(make_order(shop_a), agent)
    # when the agent saves the current filter (the page's query, with page and csrf)
    response = logged_in.post(
        SAVE_VIEW,
        {"name": "  退款未完结 ", "query": "status=refunded&page=3&csrfmiddlewaretoken=x&q="},
        follow=True,
    )
    # then it is kept with the filter's keys only, and listed above the tickets
    view = SavedView.objects.get()
    assert (view.owner, view.name, view.query, view.shared) == (
        agent,
        "退款未完结",
        "status=refunded",
        False,
    )
    html = response.content.decode()
    assert "已保存视图“退款未完结”" in html
    assert f'href="{LIST}?status=refunded&amp;view={view.pk}" aria-current="page"' in html
    # one click finds it again
    assert _numbers(logged_in, "?" + view.query, refunded, pending) == {refunded.number}
    # and the owner deletes it
    response = logged_in.post(
        reverse("tickets:saved_view_delete", args=[view.pk]), {"query": view.query}
    )
    assert response.status_code == 302
    assert response["Location"] == LIST + "?status=refunded"
    assert not SavedView.objects.exists()


def test_saved_view_names_are_checked(logged_in, agent):
    logged_in.post(SAVE_VIEW, {"name": "我的超时", "query": "overdue=on"})
    refusals = {
        "我的超时": "你已经有一个叫“我的超时”的视图了",
        "\u200b\u3164 ": "请给视图起个名字",
        "名" * 41: "",  # the form's own length check
    }
    for name, words in refusals.items():
        html = logged_in.post(SAVE_VIEW, {"name": name, "query": ""}, follow=True)
        assert html.status_code == 200
        assert words in html.content.decode()
    assert SavedView.objects.count() == 1
    # at most SAVED_VIEWS_PER_USER each
    SavedView.objects.bulk_create(
        SavedView(owner=agent, name=f"v{i}", query="") for i in range(SAVED_VIEWS_PER_USER - 1)
    )
    html = logged_in.post(SAVE_VIEW, {"name": "再来一个", "query": ""}, follow=True)
    assert f"每人最多保存 {SAVED_VIEWS_PER_USER} 个视图" in html.content.decode()
    assert SavedView.objects.count() == SAVED_VIEWS_PER_USER


def test_agent_cannot_share_a_view(logged_in, agent):
    # the agent's page has no share control
    assert 'name="shared"' not in logged_in.get(LIST).content.decode()
    # a hand-made POST with shared=1 saves nothing
    html = logged_in.post(
        SAVE_VIEW, {"name": "团队视图", "query": "stale=on", "shared": "1"}, follow=True
    ).content.decode()
    assert "只有主管可以把视图共享给团队" in html
    assert not SavedView.objects.exists()
    # nor may the agent share one of their own afterwards
    view = SavedView.objects.create(owner=agent, name="我的", query="stale=on")
    logged_in.post(reverse("tickets:saved_view_share", args=[view.pk]), {"shared": "1"})
    view.refresh_from_db()
    assert not view.shared


def test_supervisor_shares_a_view_only_the_owner_changes_it(client, supervisor, agent, shop_a):
    client.force_login(supervisor)
    client.post(SAVE_VIEW, {"name": "全组停滞", "query": "stale=on", "shared": "1"})
    private = SavedView.objects.create(owner=supervisor, name="主管自己的", query="kind=repair")
    view = SavedView.objects.get(name="全组停滞")
    assert view.shared
    # the team sees the shared view, with its owner, but not the private one
    client.force_login(agent)
    html = client.get(LIST).content.decode()
    assert "全组停滞" in html and str(supervisor) in html
    assert "主管自己的" not in html
    assert f'action="/tickets/views/{view.pk}/delete/"' not in html
    # and can neither delete nor unshare it
    for url in ("saved_view_delete", "saved_view_share"):
        response = client.post(reverse(f"tickets:{url}", args=[view.pk]), {"shared": "0"})
        assert response.status_code == 404
    view.refresh_from_db()
    assert view.shared
    # the owner takes it back
    client.force_login(supervisor)
    client.post(reverse("tickets:saved_view_share", args=[view.pk]), {"shared": "0"})
    view.refresh_from_db()
    assert not view.shared
    private.refresh_from_db()


def test_a_view_naming_another_shop_shows_nothing_of_it(client, agent, supervisor, shop_a, shop_b):
    make_ticket(make_order(shop_b), supervisor)
    theirs = make_ticket(make_order(shop_b), supervisor)
    SavedView.objects.create(
        owner=supervisor, name="B 店", query=f"shop={shop_b.pk}&status=", shared=True
    )
    client.force_login(agent)
    page = client.get(LIST + f"?shop={shop_b.pk}&status=")
    assert page.status_code == 200
    assert page.context["tickets"] == []
    assert theirs.number not in page.content.decode()


def test_a_shared_view_naming_a_handler_outside_my_shops_is_not_offered(
    client, agent, supervisor, shop_a, shop_b
):
    # given a supervisor shares a view of a colleague's tickets in a shop the agent doesn't serve
    colleague = make_user("agent-b9", Role.AGENT, shops=[shop_b])
    SavedView.objects.create(
        owner=supervisor, name="B 店同事的单", query=f"assignee={colleague.pk}", shared=True
    )
    SavedView.objects.create(owner=supervisor, name="未分配的", query="assignee=none", shared=True)
    # then the agent is offered the one they can use, not the one that would only show an error
    client.force_login(agent)
    html = client.get(LIST).content.decode()
    assert "未分配的" in html and "B 店同事的单" not in html
    # and the owner still sees their own such view, with a note
    own = SavedView.objects.create(owner=agent, name="旧同事", query=f"assignee={colleague.pk}")
    html = client.get(LIST).content.decode()
    assert own.name in html and "处理人不在你的范围" in html


def test_an_owner_who_is_no_longer_a_supervisor_can_take_a_view_back(client, agent, shop_a):
    # given a supervisor shared a view, then became an agent
    boss = make_user("boss-x", Role.SUPERVISOR, shops=[shop_a])
    client.force_login(boss)
    client.post(SAVE_VIEW, {"name": "全组停滞", "query": "stale=on", "shared": "1"})
    view = SavedView.objects.get(name="全组停滞")
    assert view.shared
    boss.groups.clear()
    boss.groups.add(*make_user("plain-agent", Role.AGENT, shops=[shop_a]).groups.all())
    # when they take it back (the page offers the button for it)
    client.force_login(boss)
    page = client.get(LIST).content.decode()
    assert f'action="/tickets/views/{view.pk}/share/"' in page
    client.post(reverse("tickets:saved_view_share", args=[view.pk]), {"shared": "0"})
    view.refresh_from_db()
    assert not view.shared
    client.post(reverse("tickets:saved_view_share", args=[view.pk]), {"shared": "1"})
    view.refresh_from_db()
    assert not view.shared


def test_a_deactivated_supervisors_shared_view_leaves_the_team_bar(client, agent, shop_a):
    boss = make_user("boss-y", Role.SUPERVISOR, shops=[shop_a])
    SavedView.objects.create(owner=boss, name="离职主管的视图", query="stale=on", shared=True)
    client.force_login(agent)
    assert "离职主管的视图" in client.get(LIST).content.decode()
    boss.is_active = False
    boss.save()
    assert "离职主管的视图" not in client.get(LIST).content.decode()


def test_a_view_of_one_buyer_is_never_shared(client, agent, supervisor, shop_a):
    client.force_login(supervisor)
    # saving it shared, or sharing it afterwards, is refused with the reason
    response = client.post(
        SAVE_VIEW,
        {"name": "某买家", "query": "status=&buyer=安安_8847", "shared": "1"},
        follow=True,
    )
    assert "不能共享" in response.content.decode()
    assert not SavedView.objects.filter(shared=True).exists()
    client.post(SAVE_VIEW, {"name": "某买家", "query": "status=&buyer=安安_8847"})
    view = SavedView.objects.get(name="某买家")
    client.post(reverse("tickets:saved_view_share", args=[view.pk]), {"shared": "1"})
    view.refresh_from_db()
    assert not view.shared
    # and one shared before the rule is not offered to the team
    SavedView.objects.filter(pk=view.pk).update(shared=True)
    client.force_login(agent)
    assert "安安_8847" not in client.get(LIST).content.decode()


def test_the_buyer_filter_matches_the_nickname_as_stored_spaces_and_all(client, agent, shop_a):
    spaced = make_ticket(make_order(shop_a, buyer_nick=" 空格买家 "), agent)
    make_ticket(make_order(shop_a, buyer_nick="空格买家"), agent)
    client.force_login(agent)
    page = client.get(LIST, {"status": "", "buyer": " 空格买家 "})
    assert [t.number for t in page.context["tickets"]] == [spaced.number]


# --- stale tickets ------------------------------------------------------------------------
def test_refunded_four_weeks_ago_is_stale_not_overdue(logged_in, agent, shop_a):
    # given T00000077's story: refunded four weeks ago and never closed
    now = timezone.now()
    old = make_ticket(
        make_order(shop_a),
        agent,
        kind=K.RETURN,
        status=S.REFUNDED,
        assignee=agent,
        created_at=now - timedelta(days=30),
        status_changed_at=now - timedelta(days=28),
    )
    fresh = make_ticket(make_order(shop_a), agent, kind=K.EXCHANGE, assignee=agent)
    closed = make_ticket(
        make_order(shop_a),
        agent,
        kind=K.RESHIP,
        status=S.CLOSED,
        status_changed_at=now - timedelta(days=60),
    )
    # then it is stale, not overdue (its resolution was met when it was refunded)
    assert old.is_stale and old.stale_days == 28
    assert not old.is_overdue()
    assert not fresh.is_stale and not closed.is_stale
    assert list(Ticket.objects.stale(now)) == [old]
    assert list(Ticket.objects.overdue(now).filter(pk=old.pk)) == []
    # the list flags it and filters on it
    html = logged_in.get(LIST).content.decode()
    assert "停滞 28 天" in html
    assert _numbers(logged_in, "?stale=on", old, fresh, closed) == {old.number}
    assert _numbers(logged_in, "?stale=on&status=", old, fresh, closed) == {old.number}
    assert _numbers(logged_in, "?stale=on&status=closed", old, fresh, closed) == set()
    assert _numbers(logged_in, "?overdue=true", old, fresh, closed) == set()
    # the dashboard counts it among the agent's own
    dashboard = logged_in.get(reverse("tickets:dashboard"))
    assert dashboard.context["counts"]["stale"] == 1
    assert "停滞 28 天" in dashboard.content.decode()


def test_a_status_change_ends_staleness(logged_in, agent, shop_a):
    now = timezone.now()
    old = make_ticket(
        make_order(shop_a),
        agent,
        kind=K.RETURN,
        status=S.REFUNDED,
        status_changed_at=now - timedelta(days=10),
    )
    assert old.is_stale
    results, _page = _bulk(logged_in, agent, [old.pk], "move", to_status=S.CLOSED)
    assert results[old.number][0] == "done"
    old.refresh_from_db()
    assert not old.is_stale and not Ticket.objects.stale().exists()


def test_supervisor_dashboard_counts_stale_per_agent(client, supervisor, agent, shop_a):
    colleague = make_user("agent-a2", Role.AGENT, shops=[shop_a])
    long_ago = timezone.now() - timedelta(days=9)
    for assignee in (agent, agent, colleague, None):
        make_ticket(
            make_order(shop_a),
            agent,
            kind=K.RETURN,
            status=S.AWAITING_RETURN,
            assignee=assignee,
            status_changed_at=long_ago,
        )
    make_ticket(make_order(shop_a), agent, assignee=colleague)  # not stale
    client.force_login(supervisor)
    page = client.get(reverse("tickets:dashboard"))
    assert page.context["counts"]["stale"] == 4
    assert page.context["by_agent"] == [(agent, 0, 2), (colleague, 0, 1), (None, 0, 1)]
    html = page.content.decode()
    assert f"?stale=on&amp;assignee={agent.pk}" in html
    assert "?stale=on&amp;assignee=none" in html


def test_list_with_its_tools_keeps_a_flat_query_count(
    logged_in, agent, shop_a, django_assert_max_num_queries
):
    SavedView.objects.create(owner=agent, name="mine", query="assignee=me")
    for _ in range(3):
        make_ticket(make_order(shop_a), agent, status_changed_at=timezone.now() - timedelta(days=8))
    with django_assert_max_num_queries(25) as few:
        logged_in.get(LIST + "?stale=on")
    for _ in range(20):
        make_ticket(make_order(shop_a), agent, status_changed_at=timezone.now() - timedelta(days=8))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = logged_in.get(LIST + "?stale=on")
    assert len(page.context["tickets"]) == 23


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_the_same_bulk_note_sent_twice_at_once_is_written_once(shop_a):
    # given three tickets and one bulk form, posted twice at the same moment (a double click
    # through a slow proxy)
    agent = make_user("agent-conc", Role.AGENT, shops=[shop_a])
    tickets = [make_ticket(make_order(shop_a), agent) for _ in range(3)]
    submission = submission_key_read(agent, submission_key_issue(agent))
    barrier = threading.Barrier(2)
    outcomes = []

    def send():
        try:
            barrier.wait(timeout=10)
            results = tickets_bulk_change(
                actor=agent,
                ticket_ids=[t.pk for t in tickets],
                action=BulkAction.NOTE,
                text="已联系买家",
                submission=submission,
            )
            outcomes.extend(r.outcome for r in results)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then each ticket holds the note once; the other request says so
    for ticket in tickets:
        assert ticket.events.filter(kind=TicketEvent.Kind.NOTE).count() == 1
    assert sorted(outcomes) == ["done"] * 3 + ["unchanged"] * 3
