"""The desk's admin site: the administrators' tool for reference data.

Only superusers and supervisors (with ``is_staff``) get in; agents and finance work in the
desk's own pages and never reach the admin, whatever their ``is_staff`` flag says. What each
model allows inside is decided by its ``ModelAdmin`` (see ``tickets.admin``).
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class DeskAdminSite(admin.AdminSite):
    site_header = _("售后工作台 管理")
    site_title = _("售后工作台")
    index_title = _("基础资料")

    def has_permission(self, request) -> bool:
        from tickets.roles import Role, has_role

        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and (user.is_superuser or has_role(user, Role.SUPERVISOR))
        )


class DeskAdminConfig(AdminConfig):
    default_site = "aftersales.admin.DeskAdminSite"
