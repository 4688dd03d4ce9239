"""The registers' front page: the registers the user's role may read."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET

from tickets.selectors_registers import register_waiting


@dataclass(frozen=True)
class Register:
    """One register as the index shows it: its URL names start with ``key``."""

    key: str
    title: str
    perm: str
    add_perm: str | None = None


REGISTERS = [
    Register(
        "loss",
        gettext_lazy("快递丢件"),
        "tickets.view_courierlossreport",
        "tickets.add_courierlossreport",
    ),
    Register(
        "review", pgettext_lazy("plural", "中差评"), "tickets.view_review", "tickets.add_review"
    ),
    Register(
        "quality",
        pgettext_lazy("plural", "质量问题"),
        "tickets.view_qualityproblem",
        "tickets.add_qualityproblem",
    ),
    Register("alert", pgettext_lazy("plural", "生产问题预警"), "tickets.view_productionalert"),
    Register(
        "feedback",
        gettext_lazy("顾客反馈（款式/尺码/颜色）"),
        "tickets.view_productfeedback",
        "tickets.add_productfeedback",
    ),
    Register(
        "wrong",
        gettext_lazy("发错货/漏发/多发"),
        "tickets.view_wrongshipment",
        "tickets.add_wrongshipment",
    ),
    Register(
        "intervention",
        pgettext_lazy("plural", "小二介入"),
        "tickets.view_platformintervention",
        "tickets.add_platformintervention",
    ),
    Register(
        "invoice",
        pgettext_lazy("plural", "发票申请"),
        "tickets.view_invoicerequest",
        "tickets.add_invoicerequest",
    ),
    Register(
        "handover",
        gettext_lazy("夜班交接"),
        "tickets.view_handovernote",
        "tickets.add_handovernote",
    ),
    Register(
        "vip", gettext_lazy("特邀 VIP 回访"), "tickets.view_vipcustomer", "tickets.add_vipcustomer"
    ),
]


def _waiting_text(key: str, n: int) -> str:
    """What a register's count on the front page means (``register_waiting``)."""
    texts = {
        "loss": ngettext("%(n)s 份未结案", "%(n)s 份未结案", n),
        "review": ngettext("%(n)s 条跟进中", "%(n)s 条跟进中", n),
        "quality": ngettext("近 7 天 %(n)s 起", "近 7 天 %(n)s 起", n),
        "alert": ngettext("%(n)s 条未反馈生产", "%(n)s 条未反馈生产", n),
        "feedback": ngettext("近 30 天 %(n)s 条", "近 30 天 %(n)s 条", n),
        "wrong": ngettext("近 30 天 %(n)s 次", "近 30 天 %(n)s 次", n),
        "intervention": ngettext("%(n)s 个处理中", "%(n)s 个处理中", n),
        "invoice": ngettext("%(n)s 条待处理", "%(n)s 条待处理", n),
        "handover": ngettext("%(n)s 条未处理", "%(n)s 条未处理", n),
        "vip": ngettext("本月 %(n)s 位待回访", "本月 %(n)s 位待回访", n),
    }
    return texts[key] % {"n": n}


@require_GET
def index(request):
    """The registers the user's role may read, each with its list, (if allowed) its new-row
    link, and what waits in it (``register_waiting``: one count per register)."""
    user = request.user
    readable = [r for r in REGISTERS if user.has_perm(r.perm)]
    if not readable:
        raise PermissionDenied
    waiting = register_waiting(user, [r.key for r in readable])
    entries = [
        {
            "title": r.title,
            "list_url": reverse(f"registers:{r.key}_list"),
            "new_url": reverse(f"registers:{r.key}_new")
            if r.add_perm and user.has_perm(r.add_perm)
            else None,
            "waiting": waiting[r.key],
            "waiting_text": _waiting_text(r.key, waiting[r.key]),
        }
        for r in readable
    ]
    return render(request, "registers/index.html", {"registers": entries})
