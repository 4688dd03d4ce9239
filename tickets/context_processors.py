from django.contrib import admin

from .roles import ROLE_LABELS, Role, user_roles


def desk(request):
    """What the base layout needs to draw the navigation for the user's roles."""
    roles = user_roles(request.user) if hasattr(request, "user") else set()
    return {
        "desk_roles": {role.value for role in roles},
        "desk_role_labels": [ROLE_LABELS[role] for role in Role if role in roles],
        # The admin link only for those the admin lets in (administrators, supervisors).
        "desk_uses_admin": bool(roles) and admin.site.has_permission(request),
    }
