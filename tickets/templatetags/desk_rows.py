"""The ticket list's rows, written in Python (issue 14).

    {% load desk_rows %}
    <tbody>{% ticket_rows tickets can_bulk %}</tbody>

A list page shows 25 tickets of ten cells each, with badges, a checkbox and links: as
template markup that was about 800 variable lookups, 80 ``blocktranslate`` nodes and 25
includes per page, two thirds of the page's server time (bench/README.md, "The ticket
list's rows"). Built here with ``format_html``, as Django's admin builds its changelist rows,
the same markup costs a fraction of that. Every text is escaped by ``format_html``; the
words are the same msgids the template used, so their translations carry over.
"""

from html import escape

from django import template
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .desk_buyers import buyer_html

register = template.Library()


# The all-digit formats the rows write, as ``strftime`` writes them: Django's ``date`` filter
# parses its format on every call, a tenth of the rows' time (bench/README, issue 11).
_DIGITS_ONLY = {"m-d H:i": "%m-%d %H:%M", "Y-m-d": "%Y-%m-%d"}


def _when(value, fmt: str) -> str:
    """``value|date:fmt`` as a template writes it: an aware time in the active time zone
    (Beijing), "" for None."""
    if not value:
        return ""
    local = template_localtime(value)
    pattern = _DIGITS_ONLY.get(fmt)
    return local.strftime(pattern) if pattern else date_filter(local, fmt)


def _status_cell(ticket) -> SafeString:
    html = format_html(
        '<span class="status st-{}">{}</span>', ticket.status, ticket.get_status_display()
    )
    if ticket.escalated:
        html += format_html(' <span class="badge warn">{}</span>', _("已升级"))
    days = ticket.stale_days
    if days is not None:
        since = _when(ticket.status_changed_at, "Y-m-d")
        html += format_html(
            ' <span class="badge stale" title="{}">{}</span>',
            _("自 %(since)s 起状态没有变化") % {"since": since},
            ngettext("停滞 %(days)s 天", "停滞 %(days)s 天", days) % {"days": days},
        )
    return html


def _due_cell(ticket, overdue: bool) -> SafeString:
    due = _when(ticket.resolution_due, "m-d H:i")
    if ticket.is_open:
        html = format_html("{}", due)
    else:
        html = format_html('<span class="muted" title="{}">{}</span>', _("已停止计时"), due)
    if overdue:
        html += format_html(' <span class="badge danger">{}</span>', _("超时"))
    if ticket.is_paused:
        waiting = _("等待买家回复") if ticket.awaiting_buyer else _("等待退件")
        html += format_html(' <span class="badge" title="{}">{}</span>', waiting, _("暂停计时"))
    return html


@register.simple_tag(takes_context=True)
def ticket_rows(context, tickets, can_bulk=False) -> SafeString:
    """The ``<tr>`` of each ticket of the list (its select related shop, order and
    assignee loaded): number, shop, order no., buyer (a link to the buyer's page for a user
    who may read orders), kind, reason, status with its badges, assignee, resolution due
    with its overdue / paused badges; a checkbox first when ``can_bulk``.

    Written as f-strings with every text escaped (``html.escape``, what Django's ``escape``
    does): ``format_html`` per row and per cell was a third of the rows' time, and asking
    the permission for the buyer's link once per row another tenth (issue 14)."""
    detail = escape(reverse("tickets:ticket_detail", args=[0])[: -len("0/")])
    request = context.get("request")
    user = getattr(request, "user", None)
    buyer_links = user is not None and user.has_perm("tickets.view_order")
    rows = []
    for ticket in tickets:
        overdue = ticket.is_overdue()
        stale = ticket.is_stale
        classes = " ".join(name for name, on in (("overdue", overdue), ("stale", stale)) if on)
        pick = (
            '<td class="pick"><input type="checkbox" name="ids" value="{}" '
            'aria-label="{}"></td>'.format(
                ticket.pk, escape(_("选择 %(no)s") % {"no": ticket.number})
            )
            if can_bulk
            else ""
        )
        buyer = buyer_html(ticket.order.buyer_nick, linked=buyer_links)
        rows.append(
            f'<tr class="{classes}">{pick}<td class="mono"><a href="{detail}{ticket.pk}/">'
            f"{escape(ticket.number)}</a></td><td>{escape(ticket.shop.name)}</td>"
            f'<td class="mono">{escape(ticket.order.order_no)}</td><td>{buyer}</td>'
            f"<td>{escape(str(ticket.get_kind_display()))}</td>"
            f"<td>{escape(str(ticket.get_reason_display()))}</td>"
            f"<td>{_status_cell(ticket)}</td><td>{escape(str(ticket.assignee or '—'))}</td>"
            f"<td>{_due_cell(ticket, overdue)}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every text above is escaped
