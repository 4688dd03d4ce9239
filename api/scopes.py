"""What an integration token may do (its scopes), and what each scope asks of the account the
token acts for: a scope never lets a token do what that account could not do in the browser
(issue 16, "nothing the API accepts can do what an agent in the browser could not")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    ORDERS_WRITE = "orders:write", _("订单和宝贝导入")
    REFUNDS_WRITE = "refunds:write", _("退款导入")
    TICKETS_READ = "tickets:read", _("读取售后单")
    MONEY_READ = "money:read", _("读取资金流水和财务报表")
    PERSONAL_DATA_READ = "personal_data:read", _("读取买家完整个人信息")


# The role permissions the token's account must hold for each scope, checked when the token
# is issued and again on every call (a role taken away later takes the scope with it).
SCOPE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Scope.ORDERS_WRITE: ("tickets.add_orderimport",),
    Scope.REFUNDS_WRITE: (
        "tickets.add_orderimport",
        "tickets.add_ticket",
        "tickets.change_ticket",
    ),
    Scope.TICKETS_READ: ("tickets.view_ticket",),
    Scope.MONEY_READ: ("tickets.view_ledgerentry",),
    Scope.PERSONAL_DATA_READ: ("tickets.reveal_personal_data",),
}


def scope_refusal(user, scope: str) -> str | None:
    """Why ``user`` (a token's account) can't hold ``scope``, or None when it can: the account
    must be active and hold every permission of ``SCOPE_PERMISSIONS[scope]`` through its role
    (``is_staff`` never counts)."""
    if not user.is_active:
        return _("账号 %(user)s 已停用。") % {"user": user}
    missing = [perm for perm in SCOPE_PERMISSIONS[scope] if not user.has_perm(perm)]
    if missing:
        return _("账号 %(user)s 的角色不能“%(scope)s”。") % {
            "user": user,
            "scope": Scope(scope).label,
        }
    return None
