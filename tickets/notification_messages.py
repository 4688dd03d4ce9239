"""What a notification says, put into words when it is read, in the reader's language.

A notification is stored as its kind and a few parameters (``Notification.params``): ticket
and case numbers, amounts, the value of a choice (a decision, a sheet kind), an aware time in
ISO 8601, a staff member's name. Each kind has one function here that turns them into a
sentence with ``gettext``, so an agent working in English who escalates tells a supervisor
working in Chinese in Chinese, and a beat task, which has no reader, writes no words at all.
A choice's label and a time are looked up when shown (the reader's language, Beijing time).

An app that writes a kind of notification the tickets app knows nothing about registers its
words itself (``register_message``; ``finance_exports`` for a failed sheet), as it registers
its inbox sources. Rows written before migration 0027 have no parameters and show the
``text`` they were stored with.
"""

import logging
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Escalation, Notification
from .phrasebook import Phrasebook

logger = logging.getLogger(__name__)

Kind = Notification.Kind

# Kind value (a ``Notification.Kind``) -> its words, and the parameters each kind holds.
_BOOK = Phrasebook()
MESSAGES = _BOOK.renders
MESSAGE_PARAMS = _BOOK.params
# Decorator: ``@register_message(kind, *params)`` on ``render(params) -> str``.
register_message = _BOOK.register
# The sentence of a notification of ``kind`` with ``params``, in the active language
# (``Phrasebook.say``: ``KeyError``/``ValueError`` when it cannot be said). ``notify`` calls it
# before it writes, so a row that cannot be said is never stored.
message_render = _BOOK.say


def notification_message(notification: Notification) -> str:
    """What ``notification`` says to the person reading it (active language): its
    parameters in words; a row from before migration 0027 (no parameters) says its stored
    ``text``. A row whose parameters cannot be said (its kind's words changed since) falls
    back to ``text`` or, when there is none, the kind's label, and is logged by id."""
    if notification.params:
        try:
            return message_render(notification.kind, notification.params)
        except (KeyError, ValueError, TypeError):
            logger.warning("notification %s: parameters not understood", notification.pk)
    return notification.text or notification.get_kind_display()


def local_minute(value: str) -> str:
    """An aware ISO 8601 time as the desk shows a moment in a sentence: ``MM-DD HH:MM`` in
    the current time zone (Beijing time). Raises ``ValueError`` for anything else."""
    moment = datetime.fromisoformat(value)
    if timezone.is_naive(moment):
        raise ValueError("a notification's time must be aware")
    return f"{timezone.localtime(moment):%m-%d %H:%M}"


# --- the tickets app's kinds ---------------------------------------------------------
@register_message(Kind.ASSIGNED, "who", "no")
def _assigned(p: dict) -> str:
    return _("%(who)s 把 %(no)s 分配给你") % {"who": p["who"], "no": p["no"]}


@register_message(Kind.ESCALATION_RAISED, "who", "no")
def _escalation_raised(p: dict) -> str:
    # The reason is read in the inbox: it may quote the buyer.
    return _("%(who)s 把 %(no)s 升级给主管，请在主管待办中决定") % {
        "who": p["who"],
        "no": p["no"],
    }


@register_message(Kind.ESCALATION_DECIDED, "no", "decision")
def _escalation_decided(p: dict) -> str:
    decision = Escalation.Decision(p["decision"])
    words = {"no": p["no"], "what": decision.label}
    if decision == Escalation.Decision.TAKE_OVER:
        return _("%(no)s 的升级已决定：%(what)s") % words
    # The supervisor's note is on the ticket's timeline, where the notification leads.
    return _("%(no)s 的升级已决定：%(what)s，说明见售后单") % words


@register_message(Kind.APPROVAL_NEEDED, "who", "amount", "no")
def _approval_needed(p: dict) -> str:
    return _("%(who)s 登记了 ¥%(amount)s 赔偿（%(no)s），等待审批") % {
        "who": p["who"],
        "amount": p["amount"],
        "no": p["no"],
    }


@register_message(Kind.APPROVAL_DECIDED, "approved", "amount", "no")
def _approval_decided(p: dict) -> str:
    words = {"amount": p["amount"], "no": p["no"]}
    if p["approved"]:
        return _("主管已批准赔偿 ¥%(amount)s（%(no)s）") % words
    return _("主管已拒绝赔偿 ¥%(amount)s（%(no)s）") % words


@register_message(Kind.SLA_BREACH_SOON, "no", "which", "due")
def _sla_breach_soon(p: dict) -> str:
    what = {"first": _("首次响应时限"), "resolution": _("解决时限")}
    if p["which"] not in what:
        raise ValueError(p["which"])
    return _("%(no)s 的%(what)s %(at)s 即将到期") % {
        "no": p["no"],
        "what": what[p["which"]],
        "at": local_minute(p["due"]),
    }


# The SKU's code and the count only: the batch is typed by whoever registers a complaint and
# may quote a buyer (issue 13 section 2); the alert's page, which the row links to, has it.
@register_message(Kind.PRODUCTION_ALERT, "sku", "n")
def _production_alert(p: dict) -> str:
    return ngettext(
        "生产问题预警：%(what)s，%(n)s 起投诉",
        "生产问题预警：%(what)s，%(n)s 起投诉",
        p["n"],
    ) % {"what": p["sku"], "n": p["n"]}


@register_message(Kind.INTERVENTION_DEADLINE, "case", "deadline")
def _intervention_deadline(p: dict) -> str:
    # The warning is sent while the deadline is near, or once it has passed (beat was down,
    # or the case was registered late); read later, a passed deadline is no longer "near".
    words = {"no": p["case"], "at": local_minute(p["deadline"])}
    if datetime.fromisoformat(p["deadline"]) <= timezone.now():
        return _("小二介入 %(no)s 举证已过期（截止 %(at)s）") % words
    return _("小二介入 %(no)s 举证即将到期（截止 %(at)s）") % words


@register_message(Kind.VIP_FOLLOW_UPS, "month")
def _vip_follow_ups(p: dict) -> str:
    # The month as the planner wrote it (YYYY-MM); the calls are listed on the dashboard.
    year, month = (int(part) for part in p["month"].split("-"))
    return _("%(year)s 年 %(month)s 月的 VIP 回访已分配给你，请在月底前回访") % {
        "year": year,
        "month": month,
    }
