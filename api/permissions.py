"""Every endpoint names the scope it needs; the token must hold it and its account's role must
still allow it (``scopes.scope_refusal``). Shops are checked on every object by the querysets
of ``api.selectors``."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions

from .models import ApiToken
from .scopes import Scope, scope_refusal


class TokenScope(permissions.BasePermission):
    """Grants a view's ``required_scope`` (None: any valid token) to a token that has it."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(_("请在 Authorization 头里带上接口令牌。"))
        scope = getattr(view, "required_scope", None)
        if scope is None:
            return True
        if not token.has_scope(scope):
            raise exceptions.PermissionDenied(
                _("这个接口令牌没有“%(scope)s”权限。") % {"scope": Scope(scope).label}
            )
        refusal = scope_refusal(token.user, scope)
        if refusal:
            raise exceptions.PermissionDenied(refusal)
        return True
