"""A notification is read in the reader's language, not the writer's (issue 13 section 2): it
keeps its kind and parameters and is put into words on the page that shows it. Every kind the
code writes is said in both languages; rows from before migration 0027 show their words; no
buyer's data and nothing a person typed is kept in one; the team chat keeps the desk's
default language whoever causes the event."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from finance_exports.builders.finance import FinanceSheetBuilder
from finance_exports.models import Sheet
from finance_exports.services import SheetBuildFailed, sheet_build
from tests.factories import make_order, make_sku, make_ticket
from tests.tickets.test_chat_webhook import OK, Receiver, eager  # noqa: F401 - a fixture
from tickets.models import (
    ChatWebhook,
    Escalation,
    LedgerEntry,
    Notification,
    Ticket,
    VipCustomer,
)
from tickets.notification_messages import MESSAGES, message_render
from tickets.services.escalations import escalation_decide
from tickets.services.interventions import intervention_register
from tickets.services.ledger import compensation_decide, ledger_record
from tickets.services.notifications import (
    intervention_deadline_warnings_send,
    notify,
    sla_breach_warnings_send,
)
from tickets.services.quality import quality_problem_register
from tickets.services.tickets import ticket_assign, ticket_escalate
from tickets.services.vips import vip_follow_ups_plan

pytestmark = pytest.mark.django_db

# Han characters and the full-width punctuation of a Chinese sentence.
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
PERSONAL = ("13812345678", "张三", "解放大道")


def speaking(language: str, user) -> Client:
    """A browser of ``user`` with ``language`` chosen from the language menu."""
    browser = Client()
    browser.force_login(user)
    browser.post(reverse("set_language"), {"language": language, "next": "/"})
    return browser


def bell(browser: Client) -> str:
    """The notifications page's list, tags stripped."""
    page = browser.get(reverse("tickets:notification_list")).content.decode()
    listed = page.split('<ul class="plain notifications">')[1].split("</ul>")[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", listed))


def said(kind: str, params: dict, language: str) -> str:
    with translation.override(language):
        return message_render(kind, params)


def test_written_in_english_read_in_chinese_and_the_other_way(agent, supervisor, order_a):
    ticket = make_ticket(order_a, agent, assignee=agent)
    agent_en = speaking("en", agent)
    boss_zh = speaking("zh-hans", supervisor)

    # given an agent working in English escalates, quoting the buyer
    agent_en.post(
        reverse("tickets:ticket_escalate", args=[ticket.pk]),
        {"reason": "买家张三 13812345678 解放大道 1 号 要求全额退款"},
    )
    # then the supervisor's bell keeps the event, not the English words nor the reason
    raised = Notification.objects.get(recipient=supervisor)
    assert raised.params == {"who": "agent-a", "no": ticket.number} and raised.text == ""
    # and the supervisor working in Chinese reads it in Chinese
    listed = bell(boss_zh)
    assert f"agent-a 把 {ticket.number} 升级给主管，请在主管待办中决定" in listed
    assert "escalated" not in listed
    assert not any(p in listed for p in PERSONAL)

    # when the supervisor, in Chinese, decides with a note that quotes the buyer
    escalation = Escalation.objects.get()
    boss_zh.post(
        reverse("tickets:escalation_decide", args=[escalation.pk]),
        {"decision": "instruct", "note": "先给张三 13812345678 补 20 元券"},
    )
    # then the agent working in English reads the decision in English
    decided = Notification.objects.get(recipient=agent)
    assert decided.params == {"no": ticket.number, "decision": "instruct"}
    listed = bell(agent_en)
    assert (
        f"Escalation of {ticket.number} decided: Instruct the agent; the note is on the ticket"
        in listed
    )
    assert not CHINESE.search(listed)
    assert not any(p in listed for p in PERSONAL)
    # and the same row reads in Chinese to the same agent once they switch
    agent_en.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert f"{ticket.number} 的升级已决定：指示客服，说明见售后单" in bell(agent_en)
    # and the supervisor's row reads in English once they switch
    boss_zh.post(reverse("set_language"), {"language": "en", "next": "/"})
    listed = bell(boss_zh)
    assert f"agent-a escalated {ticket.number}; decide it in the inbox" in listed
    assert "Escalation raised" in listed  # the kind's badge, in the reader's language too


def test_every_kind_the_code_writes_is_said_in_both_languages(
    agent, supervisor, finance, shop_a, order_a, settings, monkeypatch
):
    # given every event that tells someone, caused while English is active (a request
    # from someone working in English; the beat tasks run in the default language)
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")
    settings.DESK_QUALITY_ALERT_COUNT = 2
    settings.DESK_SLA_WARNING_MINUTES = 30
    settings.DESK_INTERVENTION_WARNING_HOURS = 24
    settings.FINANCE_SHEET_MAX_ATTEMPTS = 1
    monkeypatch.setattr(FinanceSheetBuilder, "write", lambda *a: 1 / 0)
    now = timezone.now()
    with translation.override("en"):
        ticket = make_ticket(order_a, agent, kind=Ticket.Kind.COMPENSATION)
        ticket_assign(actor=supervisor, ticket=ticket, assignee=agent)
        escalation = ticket_escalate(actor=agent, ticket=ticket, reason="买家不接受")
        escalation_decide(actor=supervisor, escalation=escalation, decision="take_over")
        order = make_order(shop_a, items=((Decimal("300.00"), 1),))
        entry = ledger_record(
            actor=agent,
            order=order,
            kind=LedgerEntry.Kind.COMPENSATION,
            amount="80",
            payment_method=LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
        )
        compensation_decide(actor=supervisor, entry=entry, approved=False, reason="金额太高")
        late = make_ticket(make_order(shop_a), agent, assignee=agent)
        Ticket.objects.filter(pk=late.pk).update(
            first_responded_at=now, resolution_due=now + timedelta(minutes=20)
        )
        sla_breach_warnings_send(now=now)
        sku = make_sku()
        for _ in range(2):
            quality_problem_register(actor=agent, shop=shop_a, sku=sku, problem_type="stitching")
        intervention_register(
            actor=agent,
            order=order_a,
            case_no="C-2026-77",
            reason="买家申请小二介入",
            deadline=now + timedelta(hours=10),
        )
        intervention_deadline_warnings_send(now=now)
        with pytest.raises(SheetBuildFailed):
            sheet_build(kind="finance", business_date=date(2026, 11, 24))
        vip = VipCustomer.objects.create(shop=shop_a, buyer_nick="老顾客")
        VipCustomer.objects.filter(pk=vip.pk).update(created_at=now - timedelta(days=40))
        vip_follow_ups_plan()

    # then every kind was written, each with parameters and no words of its own
    rows = list(Notification.objects.all())
    assert {n.kind for n in rows} == set(Notification.Kind.values) == set(MESSAGES)
    for n in rows:
        assert n.params and n.text == "", n.kind
        # and each is said in Chinese and in English, from the parameters, never falling back
        zh, en = said(n.kind, n.params, "zh-hans"), said(n.kind, n.params, "en")
        assert CHINESE.search(zh) and not CHINESE.search(en), (n.kind, zh, en)
        with translation.override("en"):
            assert n.message == en != n.get_kind_display()

    # and every value a parameter may take is said in both languages: the decisions, the
    # verdicts, the two due times, the sheet kinds
    def walk(kind, key, values):
        params = next(n.params for n in rows if n.kind == kind)
        for value in values:
            zh, en = (said(kind, {**params, key: value}, lang) for lang in ("zh-hans", "en"))
            assert CHINESE.search(zh) and not CHINESE.search(en), (kind, value, en)

    walk(Notification.Kind.ESCALATION_DECIDED, "decision", Escalation.Decision.values)
    walk(Notification.Kind.APPROVAL_DECIDED, "approved", (True, False))
    walk(Notification.Kind.SLA_BREACH_SOON, "which", ("first", "resolution"))
    walk(Notification.Kind.SHEET_FAILED, "sheet", Sheet.Kind.values)
    # a time is shown in Beijing time, whichever language
    sla = next(n for n in rows if n.kind == Notification.Kind.SLA_BREACH_SOON)
    due = f"{timezone.localtime(now + timedelta(minutes=20)):%m-%d %H:%M}"
    assert due in said(sla.kind, sla.params, "en") and due in said(sla.kind, sla.params, "zh-hans")


def test_rows_from_before_the_change_show_their_words(agent, order_a):
    # given rows written before migration 0027: words in the writer's language, no params
    old = Notification.objects.create(
        recipient=agent, kind="escalation_raised", text="agent-b 把 T00000007 升级给主管：旧的原因"
    )
    older = Notification.objects.create(
        recipient=agent, kind="assigned", text="boss assigned T00000008 to you"
    )
    # and one whose parameters its kind's words no longer understand
    odd = Notification.objects.create(
        recipient=agent, kind="escalation_decided", params={"no": "T9", "decision": "gone"}
    )
    # then each shows what it has, in either language
    for language in ("zh-hans", "en"):
        listed = bell(speaking(language, agent))
        assert old.text in listed and older.text in listed
        with translation.override(language):
            assert odd.message == odd.get_kind_display()
            assert str(old) == old.text


def test_a_notification_refuses_typed_text_and_unsaid_parameters(agent, supervisor, order_a):
    ticket = make_ticket(order_a, agent)

    def tell(**params):
        notify(recipients=[agent], kind="assigned", params=params, ticket=ticket)

    # a free text, even a short one, a value that is no number, value or name, a missing
    # parameter
    for params in (
        {"who": "boss", "no": ticket.number, "note": "买家张三 13812345678"},
        {"who": "boss", "no": "买家张三 13812345678 解放大道 1 号 " * 6},
        {"who": "boss", "no": Decimal("1")},
        {"who": "boss"},
    ):
        with pytest.raises(ValueError):
            tell(**params)
    with pytest.raises(ValueError):
        notify(recipients=[agent], kind="no_such_kind", params={"no": "T1"})
    assert not Notification.objects.exists()
    tell(who="boss", no=ticket.number)
    assert Notification.objects.get().message == f"boss 把 {ticket.number} 分配给你"


def test_nothing_typed_reaches_a_notification(agent, supervisor, shop_a, settings):
    # given an agent who records compensation for approval and a supervisor who rejects it
    # with the buyer's data in every typed field
    settings.DESK_COMPENSATION_APPROVAL_THRESHOLD = Decimal("50")
    order = make_order(shop_a, items=((Decimal("300.00"), 1),))
    ticket = make_ticket(order, agent, kind=Ticket.Kind.COMPENSATION, assignee=agent)
    typed = "买家张三 13812345678 解放大道 1 号"
    entry = ledger_record(
        actor=agent,
        order=order,
        ticket=ticket,
        kind=LedgerEntry.Kind.COMPENSATION,
        amount="80",
        payment_method=LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
        note=typed,
    )
    compensation_decide(actor=supervisor, entry=entry, approved=False, reason=typed)
    escalation = ticket_escalate(actor=agent, ticket=ticket, reason=typed)
    escalation_decide(actor=supervisor, escalation=escalation, decision="return", note=typed)
    # then no notification holds any of it, nor the buyer's nickname or receiver
    rows = list(Notification.objects.all())
    assert {n.kind for n in rows} == {
        "approval_needed",
        "approval_decided",
        "escalation_raised",
        "escalation_decided",
    }
    stored = json.dumps([[n.params, n.text] for n in rows], ensure_ascii=False)
    buyer = (order.buyer_nick, order.receiver_name, order.receiver_phone, order.receiver_address)
    for personal in filter(None, (*PERSONAL, *buyer)):
        assert personal not in stored
    # and the pages say the rejection without it
    listed = bell(speaking("zh-hans", agent))
    assert f"主管已拒绝赔偿 ¥80.00（{ticket.number}）" in listed
    assert not any(p in listed for p in PERSONAL)


@pytest.mark.usefixtures("eager")
def test_the_chat_speaks_the_default_language_whoever_causes_it(
    agent, supervisor, shop_a, django_capture_on_commit_callbacks
):
    # given a robot for decided escalations, and a supervisor working in English
    ticket = make_ticket(make_order(shop_a), agent, assignee=agent)
    escalation = ticket_escalate(actor=agent, ticket=ticket, reason="请主管决定")
    boss_en = speaking("en", supervisor)
    with Receiver([OK]) as receiver:
        ChatWebhook.objects.create(
            name="售后群",
            provider="wecom",
            kind="escalation_decided",
            url=receiver.url + "/cgi-bin/webhook/send?key=k-1",
        )
        # when the supervisor decides from the English inbox
        with django_capture_on_commit_callbacks(execute=True):
            boss_en.post(
                reverse("tickets:escalation_decide", args=[escalation.pk]),
                {"decision": "exception", "note": "同意退全款"},
            )
        assert len(receiver.requests) == 1
    # then the team's chat reads Chinese, the decision and the status included
    content = json.loads(receiver.requests[0][1])["text"]["content"]
    assert "批准例外" in content and "待处理" in content and ticket.number in content
    assert "exception" not in content.lower() and "To do" not in content
    # while the supervisor's own page answered in English
    assert "Approve an exception" in bell(speaking("en", agent))
