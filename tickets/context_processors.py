from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .roles import ROLE_LABELS, Role, user_roles
from .selectors import unread_notification_count


def desk(request):
    """What the base layout needs to draw the navigation for the user's roles."""
    roles = user_roles(request.user) if hasattr(request, "user") else set()
    return {
        "desk_roles": {role.value for role in roles},
        # An administrator holds every role: one label says so, and keeps the top bar short.
        "desk_role_labels": [_("管理员")]
        if getattr(request.user, "is_superuser", False) and roles
        else [ROLE_LABELS[role] for role in Role if role in roles],
        # The admin link only for those the admin lets in (administrators, supervisors).
        "desk_uses_admin": bool(roles) and admin.site.has_permission(request),
        # The bell's count: a callable, so a page that draws no top bar runs no query, and
        # counted once however often the page shows it (the top bar and the notifications list).
        "desk_unread": _counted_once(request.user) if roles else 0,
    }


def _counted_once(user):
    """A callable giving ``unread_notification_count(user)``, read on the first call only."""
    counted = []

    def unread() -> int:
        if not counted:
            counted.append(unread_notification_count(user))
        return counted[0]

    return unread
