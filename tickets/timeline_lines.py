"""What a timeline line the desk itself writes says, put into words when it is read.

An agent working in English who records a refund used to leave "Recorded refund ¥12.00 ..."
on the timeline of a supervisor who reads Chinese, and the other way round: the line was
stored in the writer's language. A line the desk words (money, a parcel, an assignment, a
promise ...) is now stored as its key and parameters (``TicketEvent.params``: amounts as
text, a choice by its value, a time in ISO 8601, what a person typed as typed) and said by
one function here, with ``gettext``, in the reader's language. The stored ``message`` keeps
the line in the desk's default language, for the API and the admin; rows from before
migration 0038, and what a person wrote (a note, a ticket's description, a status change's
comment), have no parameters and show their ``message`` as stored.

The same mechanism as a notification's words (``tickets.notification_messages``).
"""

import logging
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .models import Escalation, LedgerEntry, ReturnParcel, TicketEvent
from .phrasebook import Phrasebook

logger = logging.getLogger(__name__)

# Line key -> its words, and the parameters each line holds.
_BOOK = Phrasebook()
LINES = _BOOK.renders
LINE_PARAMS = _BOOK.params
# Decorator: ``@register_line(key, *params)`` on ``render(params) -> str``.
register_line = _BOOK.register
# The line ``key`` with ``params`` in the active language (``Phrasebook.say``: ``KeyError`` or
# ``ValueError`` when it cannot be said).
line_render = _BOOK.say


def line_stored(key: str, params: dict) -> tuple[str, dict]:
    """(message, params) as ``timeline_write`` stores the line: its words in the desk's
    default language (``settings.LANGUAGE_CODE``), and ``{"line": key, "args": params}``.
    Raises as ``line_render`` does, so a line that cannot be said is never written."""
    with translation.override(settings.LANGUAGE_CODE):
        message = line_render(key, params)
    return message, {"line": key, "args": params}


def event_message(event: TicketEvent) -> str:
    """What ``event`` says to the person reading it (active language): its line in words
    when it has one, else its stored ``message``. A line that can no longer be said (its
    words changed since) shows the stored message and is logged by id."""
    params = event.params
    if isinstance(params, dict) and "line" in params:
        try:
            return line_render(params["line"], params.get("args") or {})
        except Exception:  # a page never fails for one line: its stored words instead
            logger.warning("timeline event %s: line not understood", event.pk, exc_info=True)
    return event.message


def _minute(value: str) -> str:
    """An aware ISO 8601 time as ``YYYY-MM-DD HH:MM`` in Beijing time."""
    moment = datetime.fromisoformat(value)
    if timezone.is_naive(moment):
        raise ValueError("a timeline time must be aware")
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _then(text: str, note: str) -> str:
    """``text`` (a sentence ending in its full stop) followed by what a person typed, when
    they typed something: run on in Chinese, after a space in English."""
    if not note:
        return text
    return pgettext("a sentence, then a person's note", "%(text)s%(note)s") % {
        "text": text,
        "note": note,
    }


def _bracketed(what: str) -> str:
    """``what`` in brackets after a sentence (full-width in Chinese), or "" for nothing."""
    if not what:
        return ""
    return pgettext("after a sentence, in brackets", "（%(what)s）") % {"what": what}


def _after_stop(text: str, note: str) -> str:
    """``text`` (a sentence without its full stop), a full stop and what a person typed, when
    they typed something."""
    if not note:
        return text
    return pgettext("a sentence, a full stop, then a person's note", "%(text)s。%(note)s") % {
        "text": text,
        "note": note,
    }


# --- lines --------------------------------------------------------------------------------
@register_line("escalation_decided", "decision", "note")
def _escalation_decided(p: dict) -> str:
    text = _("主管决定：%(what)s") % {"what": Escalation.Decision(p["decision"]).label}
    return _after_stop(text, p["note"])


@register_line("escalation_closed")
def _escalation_closed(p: dict) -> str:
    return _("售后单已完结，升级自动关闭，无需主管决定。")


def _kind_in_sentence(kind: str) -> str:
    """A ledger kind's name inside a sentence: the label in Chinese, lower case in English
    ("Recorded refund ¥12.50", not "Recorded Refund")."""
    names = {
        LedgerEntry.Kind.POSTAGE: pgettext("a kind of money entry, inside a sentence", "邮费"),
        LedgerEntry.Kind.COMPENSATION: pgettext("a kind of money entry, inside a sentence", "赔偿"),
        LedgerEntry.Kind.REFUND: pgettext("a kind of money entry, inside a sentence", "退款"),
    }
    return names[LedgerEntry.Kind(kind)]


@register_line("money", "state", "kind", "amount", "method", "note")
def _money(p: dict) -> str:
    texts = {
        "reversal": _("冲销%(kind)s ¥%(amount)s：%(note)s"),
        "awaiting_approval": _("登记%(kind)s ¥%(amount)s（%(method)s，待主管审批）%(note)s"),
        "counted": _("登记%(kind)s ¥%(amount)s（%(method)s）%(note)s"),
    }
    return texts[p["state"]] % {
        "kind": _kind_in_sentence(p["kind"]),
        "amount": p["amount"],
        # an unknown method is a line that cannot be said (its stored words are shown)
        "method": LedgerEntry.PaymentMethod(p["method"]).label if p["method"] else "",
        "note": p["note"],
    }


@register_line("compensation_decided", "approved", "amount", "reason")
def _compensation_decided(p: dict) -> str:
    verdict = (
        pgettext("a compensation decision, in a sentence", "批准")
        if p["approved"]
        else pgettext("a compensation decision, in a sentence", "拒绝")
    )
    return _("主管%(verdict)s赔偿 ¥%(amount)s %(reason)s") % {
        "verdict": verdict,
        "amount": p["amount"],
        "reason": p["reason"],
    }


@register_line("parcel_received", "no", "condition", "contents", "buyer_note")
def _parcel_received(p: dict) -> str:
    return _("收到退回包裹 %(no)s，状况：%(condition)s。%(contents)s %(note)s") % {
        "no": p["no"],
        "condition": ReturnParcel.Condition(p["condition"]).label,
        "contents": p["contents"],
        "note": (_("买家留条：%(note)s") % {"note": p["buyer_note"]}) if p["buyer_note"] else "",
    }


@register_line("exchange_goods", "lines", "difference")
def _exchange_goods(p: dict) -> str:
    # ``lines``: one per replacement, merchant codes, colours, sizes and quantities (the same
    # in every language), joined as the reader's language lists them
    lines = pgettext("between goods lines", "；").join(p["lines"])
    text = _("发出商品：%(lines)s") % {"lines": lines} if lines else _("发出商品：与退回的商品相同")
    difference = p["difference"]
    if difference:
        sign, amount = ("-", difference[1:]) if difference.startswith("-") else ("+", difference)
        text += _("（差价 %(sign)s¥%(amount)s）") % {"sign": sign, "amount": amount}
    return text


@register_line("price_difference_paid", "amount", "reference")
def _price_difference_paid(p: dict) -> str:
    return _("买家补差价 ¥%(amount)s%(ref)s") % {
        "amount": p["amount"],
        "ref": _bracketed(p["reference"]),
    }


@register_line("price_difference_reversed", "amount", "reason")
def _price_difference_reversed(p: dict) -> str:
    return _("冲销补差价 ¥%(amount)s：%(reason)s") % {"amount": p["amount"], "reason": p["reason"]}


@register_line("receipt_extended", "days", "at", "note")
def _receipt_extended(p: dict) -> str:
    text = _("订单已延长收货 %(days)s 天，新的自动确认收货时间：%(at)s。") % {
        "days": p["days"],
        "at": _minute(p["at"]),
    }
    return text + (_("延长说明：%(note)s") % {"note": p["note"]} if p["note"] else "")


@register_line("photo_uploaded", "name")
def _photo_uploaded(p: dict) -> str:
    return _("上传照片 %(name)s") % {"name": p["name"]}


@register_line("tracking_set", "no", "before", "note")
def _tracking_set(p: dict) -> str:
    text = (
        _("退回运单号改为 %(no)s（原为 %(before)s）") % {"no": p["no"], "before": p["before"]}
        if p["before"]
        else _("退回运单号：%(no)s") % {"no": p["no"]}
    )
    return _after_stop(text, p["note"])


@register_line("awaiting_buyer", "note")
def _awaiting_buyer(p: dict) -> str:
    return _then(_("等待买家回复，暂停计时。"), p["note"])


@register_line("buyer_answered", "minutes", "note")
def _buyer_answered(p: dict) -> str:
    text = _("买家已回复，恢复计时（本次暂停营业时间 %(minutes)s 分钟）。") % {
        "minutes": p["minutes"]
    }
    return _then(text, p["note"])


@register_line("assigned", "name")
def _assigned(p: dict) -> str:
    return (_("分配给 %(name)s") % {"name": p["name"]}) if p["name"] else _("退回待认领")


@register_line("promise_made", "text", "due")
def _promise_made(p: dict) -> str:
    return _("承诺：%(text)s%(due)s") % {"text": p["text"], "due": _bracketed(p["due"])}


@register_line("promise_waived", "text", "reason")
def _promise_waived(p: dict) -> str:
    return _("承诺未兑现：%(text)s。原因：%(reason)s") % {"text": p["text"], "reason": p["reason"]}


@register_line("promise_fulfilled", "text")
def _promise_fulfilled(p: dict) -> str:
    return _("已兑现承诺：%(text)s") % {"text": p["text"]}


@register_line("seller_refund", "no", "status", "amount", "reason", "description")
def _seller_refund(p: dict) -> str:
    # ``status``, ``reason`` and ``description`` as the seller centre's file has them
    text = _("卖家中心退款 %(no)s：%(status)s，买家申请退款 %(amount)s 元。") % {
        "no": p["no"],
        "status": p["status"],
        "amount": p["amount"],
    }
    if p["reason"]:
        text = _then(text, _("原因：%(reason)s。") % {"reason": p["reason"]})
    if p["description"]:
        text = _then(text, _("说明：%(text)s") % {"text": p["description"]})
    return text


@register_line("seller_refund_succeeded", "amount")
def _seller_refund_succeeded(p: dict) -> str:
    return _("卖家中心显示退款成功（%(amount)s 元）：请在工作台登记这笔退款。") % {
        "amount": p["amount"]
    }


# --- a status change's words, when the desk moves the ticket -----------------------------
@register_line("parcel_unpacked", "no")
def _parcel_unpacked(p: dict) -> str:
    return _("拆件登记：%(no)s") % {"no": p["no"]}


@register_line("exchange_list_added", "date")
def _exchange_list_added(p: dict) -> str:
    return _("上 %(date)s 换货清单") % {"date": date.fromisoformat(p["date"]).isoformat()}


@register_line("exchange_list_shipped", "date")
def _exchange_list_shipped(p: dict) -> str:
    return _("按 %(date)s 换货清单发出") % {"date": date.fromisoformat(p["date"]).isoformat()}


@register_line("seller_status", "status")
def _seller_status(p: dict) -> str:
    # ``status`` as the seller centre's file says it
    return _("卖家中心：%(status)s") % {"status": p["status"]}


@register_line("seller_refund_done")
def _seller_refund_done(p: dict) -> str:
    return _("卖家中心：退款成功。")


@register_line("seller_refund_closed")
def _seller_refund_closed(p: dict) -> str:
    return _("买家撤销了退款申请（卖家中心：退款关闭）。")


@register_line("tracking_sent_back", "no")
def _tracking_sent_back(p: dict) -> str:
    return _after_stop(_("退回运单号：%(no)s") % {"no": p["no"]}, _("卖家中心：买家已寄回"))


@register_line("exchange_list_removed", "date", "reason", "signed_by", "signed_at", "emptied")
def _exchange_list_removed(p: dict) -> str:
    text = _("移出 %(date)s 换货清单：%(reason)s") % {
        "date": date.fromisoformat(p["date"]).isoformat(),
        "reason": p["reason"],
    }
    if p["signed_by"]:
        words = (
            _("（清单原由 %(name)s 于 %(at)s 签字，签字作废；清单已没有换货，不需要再签字）")
            if p["emptied"]
            else _("（清单原由 %(name)s 于 %(at)s 签字，签字作废，需重新签字）")
        )
        text += words % {"name": p["signed_by"], "at": _minute(p["signed_at"])}
    return text
