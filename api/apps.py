from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("对接接口")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The events an ERP hears (ticket status, exchange list signed, refund recorded) are
        # read from the desk's own rows as they are saved: the desk never imports this app.
        from . import webhooks

        webhooks.connect()
