from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceExportsConfig(AppConfig):
    name = "finance_exports"
    verbose_name = _("财务报表")

    def ready(self):
        from tickets.signals import exchange_goods_changed

        from .services import exchange_goods_changed_receiver

        # An unsigned exchange-goods list's file follows what its tickets send out.
        exchange_goods_changed.connect(
            exchange_goods_changed_receiver, dispatch_uid="finance_exports.goods_changed"
        )
