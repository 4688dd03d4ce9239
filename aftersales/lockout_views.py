"""The supervisors' and administrators' unlock page (``/lockouts/``): the logins locked now,
an unlock button for each, and the latest unlocks with who did them (issue 12 section 6)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from .lockout import (
    UNLOCK_PERMISSION,
    lockout_minutes,
    login_lockout_release,
    login_lockouts,
    login_unlocks_recent,
)


class UnlockForm(forms.Form):
    ip_address = forms.GenericIPAddressField(label=gettext_lazy("地址"))
    username = forms.CharField(label=gettext_lazy("账号"), max_length=150, required=False)


def _require_unlock_permission(user) -> None:
    if not user.has_perm(UNLOCK_PERMISSION):
        raise PermissionDenied


@require_GET
def lockout_list(request):
    """The lockouts in force and the latest unlocks (supervisors and administrators)."""
    _require_unlock_permission(request.user)
    context = {
        "lockouts": login_lockouts(),
        "unlocks": login_unlocks_recent(),
        "minutes": lockout_minutes(request),
    }
    return render(request, "registration/lockouts.html", context)


@require_POST
def lockout_release(request):
    """Unlocks one account on one address (``username`` given) or a whole address; says what
    was done, or why not, on the list page."""
    _require_unlock_permission(request.user)
    form = UnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("解锁请求不完整或地址不正确，没有解锁任何登录。"))
        return redirect("login_lockouts")
    username = form.cleaned_data["username"] or None
    ip_address = form.cleaned_data["ip_address"]
    count = login_lockout_release(actor=request.user, ip_address=ip_address, username=username)
    if not count:
        messages.info(request, _("没有需要解锁的记录：可能已经到时自动解锁，或已被别人解锁。"))
    elif username:
        messages.success(
            request,
            _("已解锁账号 %(username)s 在 %(ip)s 上的登录。")
            % {"username": username, "ip": ip_address},
        )
    else:
        messages.success(request, _("已解锁地址 %(ip)s 上的所有登录。") % {"ip": ip_address})
    return redirect("login_lockouts")
