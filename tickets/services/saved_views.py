"""Saved views of the ticket list (保存的视图, issue 11 "The ticket list"): a name for a filter
an agent finds again in one click. Each user keeps their own; a supervisor may share one with
the team (everyone sees it, only its owner changes or deletes it)."""

import unicodedata

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from tickets.models import SavedView, User
from tickets.roles import Role, has_role
from tickets.text import meaningful_text

from . import DeskError, require_perm

# The most views one user keeps: enough for every queue they work, few enough to scan.
SAVED_VIEWS_PER_USER = 50
NAME_MAX = SavedView._meta.get_field("name").max_length
QUERY_MAX = SavedView._meta.get_field("query").max_length


def names_a_buyer(query: str) -> bool:
    """Whether the saved ``query`` lists one buyer's tickets (``buyer=<nickname>``)."""
    return any(QueryDict(query).getlist("buyer"))


def _may_share(actor: User, query: str) -> None:
    """DeskError unless ``actor`` may share a view of ``query``: a supervisor, and not a view
    of one buyer (a nickname is personal data, and the team's bar would show it to people
    whose shops never saw that buyer)."""
    if not has_role(actor, Role.SUPERVISOR):
        raise DeskError(_("只有主管可以把视图共享给团队。"))
    if names_a_buyer(query):
        raise DeskError(_("只看某一位买家的视图不能共享（买家昵称属于个人信息）。"))


@transaction.atomic
def saved_view_create(*, actor: User, name: str, query: str, shared: bool = False) -> SavedView:
    """Saves ``query`` (the list's query string, already limited to the filter's own keys by
    ``tickets.filters.filter_query``) under ``name`` for ``actor``.

    Refused with ``DeskError``: a name with nothing readable in it (``meaningful_text``), with
    a control character (\\x01, ESC) or longer than 40 characters, a name the actor already
    uses, a query over 1000 characters, more than ``SAVED_VIEWS_PER_USER`` views, and
    ``shared`` by anyone but a supervisor."""
    require_perm(actor, "tickets.add_savedview")
    name = meaningful_text(name)
    if not name:
        raise DeskError(_("请给视图起个名字。"))
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise DeskError(_("视图名称不能含控制字符（如 \\x01、ESC），请重新输入。"))
    if len(name) > NAME_MAX:
        raise DeskError(_("视图名称最多 %(n)s 个字。") % {"n": NAME_MAX})
    if len(query) > QUERY_MAX:
        raise DeskError(_("筛选条件太长，无法保存。"))
    if shared:
        _may_share(actor, query)
    # The owner's row lock queues two saves at once, so the count below stays true.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    views = SavedView.objects.filter(owner=actor)
    if views.filter(name=name).exists():
        raise DeskError(_("你已经有一个叫“%(name)s”的视图了，请换个名字。") % {"name": name})
    if views.count() >= SAVED_VIEWS_PER_USER:
        raise DeskError(
            _("每人最多保存 %(n)s 个视图，请先删除不用的。") % {"n": SAVED_VIEWS_PER_USER}
        )
    try:
        with transaction.atomic():
            return SavedView.objects.create(owner=actor, name=name, query=query, shared=shared)
    except IntegrityError as exc:  # the same name saved at the same moment
        raise DeskError(
            _("你已经有一个叫“%(name)s”的视图了，请换个名字。") % {"name": name}
        ) from exc


@transaction.atomic
def saved_view_share(*, actor: User, view: SavedView, shared: bool) -> SavedView:
    """Shares ``view`` with the team or takes it back. Only its owner; sharing only a
    supervisor (an owner who is no longer one may still take their view back); otherwise
    ``DeskError``."""
    require_perm(actor, "tickets.change_savedview")
    if view.owner_id != actor.pk:
        raise DeskError(_("只有创建人可以修改这个视图。"))
    if shared:
        _may_share(actor, view.query)
    view.shared = shared
    view.save(update_fields=["shared", "updated_at"])
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, view: SavedView) -> None:
    """Deletes ``view``; only its owner may (``DeskError`` otherwise)."""
    require_perm(actor, "tickets.delete_savedview")
    if view.owner_id != actor.pk:
        raise DeskError(_("只有创建人可以删除这个视图。"))
    view.delete()
