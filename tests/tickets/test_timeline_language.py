"""A timeline line the desk words itself is read in the reader's language, not the writer's
(tickets.timeline_lines): an agent working in English who takes a ticket, records a refund or
unpacks a parcel leaves lines a Chinese-reading supervisor reads in Chinese, and the other way
round. What a person typed stays as typed; rows written before the lines had parameters show
their stored words; the stored words are the desk's default language."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import make_ticket
from tickets.demo import demo_line
from tickets.models import LedgerEntry, Ticket, TicketEvent
from tickets.services.ledger import ledger_record
from tickets.services.tickets import ticket_await_buyer, ticket_buyer_answered
from tickets.timeline_lines import LINE_PARAMS, LINES, event_message, line_render, line_stored

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Han characters and the full-width punctuation of a Chinese sentence.
CHINESE_WRITING = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# One example of every line the desk writes: its parameters as the services store them.
EXAMPLES = {
    "escalation_decided": {"decision": "instruct", "note": ""},
    "escalation_closed": {},
    "money": {
        "state": "awaiting_approval",
        "kind": "compensation",
        "amount": "80.00",
        "method": "alipay_transfer",
        "note": "",
    },
    "compensation_decided": {"approved": True, "amount": "80.00", "reason": ""},
    "tracking_sent_back": {"no": "YT1"},
    "exchange_list_removed": {
        "date": "2026-11-30",
        "reason": "x",
        "signed_by": "boss",
        "signed_at": "2026-11-30T09:00:00+00:00",
        "emptied": False,
    },
    "parcel_received": {"no": "YT1", "condition": "intact", "contents": "", "buyer_note": ""},
    "exchange_goods": {"lines": ["ZZ-L → ZZ-XL ×1", "YY-S → YY-M ×2"], "difference": "-10.00"},
    "price_difference_paid": {"amount": "10.00", "reference": "T-88"},
    "price_difference_reversed": {"amount": "10.00", "reason": "x"},
    "receipt_extended": {"days": 3, "at": "2026-11-30T08:00:00+00:00", "note": ""},
    "photo_uploaded": {"name": "a"},
    "tracking_set": {"no": "YT1", "before": "YT0", "note": ""},
    "awaiting_buyer": {"note": ""},
    "buyer_answered": {"minutes": 5, "note": ""},
    "assigned": {"name": ""},
    "promise_made": {"text": "x", "due": "2026-12-01"},
    "promise_waived": {"text": "x", "reason": "y"},
    "promise_fulfilled": {"text": "x"},
    "seller_refund": {
        "no": "R1",
        "status": "x",
        "amount": "1.00",
        "reason": "x",
        "description": "y",
    },
    "seller_refund_succeeded": {"amount": "1.00"},
    "parcel_unpacked": {"no": "YT1"},
    "exchange_list_shipped": {"date": "2026-11-30"},
    "exchange_list_added": {"date": "2026-11-30"},
    "seller_status": {"status": "x"},
    "seller_refund_done": {},
    "seller_refund_closed": {},
}


def speaking(language: str, user) -> Client:
    browser = Client()
    browser.force_login(user)
    browser.post(reverse("set_language"), {"language": language, "next": "/"})
    return browser


def timeline(browser: Client, ticket: Ticket) -> str:
    page = browser.get(reverse("tickets:ticket_detail", args=[ticket.pk])).content.decode()
    section = page.split('id="timeline"', 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_every_line_is_said_in_both_languages():
    assert set(EXAMPLES) == set(LINES)
    for key, params in EXAMPLES.items():
        assert set(params) == LINE_PARAMS[key], key
        with translation.override("zh-hans"):
            chinese = line_render(key, params)
        with translation.override("en"):
            english = line_render(key, params)
        assert CHINESE.search(chinese), (key, chinese)
        assert not CHINESE_WRITING.search(english), (key, english)
        # sentences are spaced in English (no "yuan.Reason:")
        assert not re.search(r"[.:)][A-Za-z]", english), (key, english)


def test_a_line_that_cannot_be_said_is_never_written(agent, order_a):
    from tickets.services.timeline import timeline_write

    ticket = make_ticket(order_a, agent)
    lines = ticket.events.count()
    with pytest.raises(KeyError):
        timeline_write(
            ticket=ticket,
            actor=agent,
            kind=TicketEvent.Kind.ASSIGNED,
            line=("assigned", {"name": "x", "extra": 1}),
        )
    with pytest.raises(ValueError):
        line_stored("parcel_received", {**EXAMPLES["parcel_received"], "condition": "??"})
    assert ticket.events.count() == lines


def test_lines_an_english_agent_leaves_read_in_chinese_and_the_other_way(
    agent, supervisor, order_a
):
    ticket = make_ticket(order_a, agent, kind=Ticket.Kind.RETURN)
    english_agent = speaking("en", agent)
    # when the agent, working in English, takes the ticket through its page, records a refund
    # and lets the buyer answer (the services the pages call)
    english_agent.post(reverse("tickets:ticket_assign", args=[ticket.pk]), {"assignee": "me"})
    with translation.override("en"):
        ledger_record(
            actor=agent,
            order=order_a,
            ticket=ticket,
            kind=LedgerEntry.Kind.REFUND,
            amount=Decimal("12.50"),
            payment_method=LedgerEntry.PaymentMethod.PLATFORM_REFUND,
            note="买家说谢谢",
        )
        ticket = ticket_await_buyer(actor=agent, ticket=Ticket.objects.get(pk=ticket.pk))
        ticket_buyer_answered(actor=agent, ticket=ticket, note="")
    # then the supervisor reading Chinese reads every line in Chinese, the agent's own words
    # as typed
    chinese = timeline(speaking("zh-hans", supervisor), ticket)
    assert f"分配给 {agent}" in chinese
    assert "登记退款 ¥12.50" in chinese and "买家说谢谢" in chinese
    assert "等待买家回复，暂停计时。" in chinese and "买家已回复，恢复计时" in chinese
    # and the agent reads the same lines in English
    english = timeline(english_agent, ticket)
    assert "Assigned to" in english and "分配给" not in english
    assert "¥12.50" in english and "登记退款" not in english and "买家说谢谢" in english
    # a ledger kind inside an English sentence is a common noun
    assert "Recorded refund ¥12.50 (" in english
    assert "等待买家回复" not in english
    # the stored words are the desk's default language, whoever wrote them
    for event in ticket.events.filter(params__isnull=False):
        assert CHINESE.search(event.message), event.message


@pytest.mark.parametrize(
    ("kind", "english", "chinese"),
    [
        ("postage", "postage", "邮费"),
        ("compensation", "compensation", "赔偿"),
        ("refund", "refund", "退款"),
    ],
)
def test_every_ledger_kind_is_named_in_a_sentence_in_both_languages(kind, english, chinese):
    params = {**EXAMPLES["money"], "state": "counted", "kind": kind}
    with translation.override("en"):
        assert line_render("money", params).startswith(f"Recorded {english} ¥80.00 (")
    with translation.override("zh-hans"):
        assert line_render("money", params).startswith(f"登记{chinese} ¥80.00（")


def test_a_line_written_before_it_had_parameters_shows_its_words(agent, supervisor, order_a):
    ticket = make_ticket(order_a, agent)
    old = TicketEvent.objects.create(
        ticket=ticket, actor=agent, kind=TicketEvent.Kind.ASSIGNED, message="分配给 老王"
    )
    broken = TicketEvent.objects.create(
        ticket=ticket,
        actor=agent,
        kind=TicketEvent.Kind.ASSIGNED,
        message="退回待认领",
        params={"line": "assigned", "args": {"who": "?"}},
    )
    with translation.override("en"):
        assert event_message(old) == "分配给 老王"
        assert event_message(broken) == "退回待认领"
    assert "分配给 老王" in timeline(speaking("en", supervisor), ticket)


@pytest.mark.parametrize(
    "key, params",
    [
        ("tracking_set", {"no": "YT123", "before": "", "note": ""}),
        ("parcel_unpacked", {"no": "YT123"}),
        ("exchange_list_added", {"date": "2026-11-30"}),
        ("exchange_list_shipped", {"date": "2026-11-30"}),
    ],
)
def test_the_demo_lines_are_the_ones_the_desk_writes(key, params):
    row = demo_line(key, **params)
    assert (row["message"], row["params"]) == line_stored(key, params)


def test_a_receipt_extension_line_shows_the_deadline_in_beijing_time():
    at = timezone.now().replace(microsecond=0) + timedelta(days=3)
    params = {"days": 3, "at": at.isoformat(), "note": ""}
    with translation.override("zh-hans"):
        text = line_render("receipt_extended", params)
    assert f"{timezone.localtime(at):%Y-%m-%d %H:%M}" in text
    with pytest.raises(ValueError):
        line_render("receipt_extended", {**params, "at": "2026-11-30 08:00"})


def test_a_persons_note_follows_the_line_as_each_language_writes_it():
    with translation.override("zh-hans"):
        assert line_render("awaiting_buyer", {"note": "要照片"}) == "等待买家回复，暂停计时。要照片"
        assert line_render("tracking_set", {"no": "YT1", "before": "", "note": "改了"}) == (
            "退回运单号：YT1。改了"
        )
    with translation.override("en"):
        waiting = line_render("awaiting_buyer", {"note": "photos asked"})
        assert waiting.endswith(". photos asked"), waiting
        tracking = line_render("tracking_set", {"no": "YT1", "before": "", "note": "fixed"})
        assert tracking.endswith("YT1. fixed") and "。" not in tracking, tracking
