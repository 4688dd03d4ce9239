"""The desk's own configuration of a third-party app (``INSTALLED_APPS`` names it instead of
the app's module)."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _


class DeskAxesConfig(AxesAppConfig):
    """django-axes (the login lockout) under the desk's name for it: the admin's index showed
    its label "AXES" in every language. Its models' names (access attempts, access logs) are
    translated in ``locale/zh_Hans``, since axes ships no Chinese."""

    verbose_name = _("登录锁定")

    def ready(self):
        super().ready()
        # The warning about a proxy whose clients would all share its address (the lockout's
        # address limit): registered with the app that counts addresses.
        from aftersales import checks  # noqa: F401
