from django.contrib import admin

from .roles import ROLE_LABELS, Role, user_roles
from .selectors import unread_notification_count


def desk(request):
    """What the base layout needs to draw the navigation for the user's roles."""
    roles = user_roles(request.user) if hasattr(request, "user") else set()
    return {
        "desk_roles": {role.value for role in roles},
        "desk_role_labels": [ROLE_LABELS[role] for role in Role if role in roles],
        # The admin link only for those the admin lets in (administrators, supervisors).
        "desk_uses_admin": bool(roles) and admin.site.has_permission(request),
        # The bell's count: a callable, so a page that draws no top bar runs no query.
        "desk_unread": (lambda: unread_notification_count(request.user)) if roles else 0,
    }
