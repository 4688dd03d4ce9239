from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceExportsConfig(AppConfig):
    name = "finance_exports"
    verbose_name = _("财务报表")

    def ready(self):
        from tickets.inbox import register_dashboard_panel, register_inbox_source
        from tickets.signals import exchange_goods_changed

        from .selectors import finance_dashboard, inbox_signatures
        from .services import exchange_goods_changed_receiver

        # The supervisor's inbox lists exchange-goods lists waiting for a signature; finance's
        # dashboard shows the sheets (issue 13). tickets never imports this app.
        register_inbox_source(inbox_signatures)
        register_dashboard_panel(finance_dashboard)

        # An unsigned exchange-goods list's file follows what its tickets send out.
        exchange_goods_changed.connect(
            exchange_goods_changed_receiver, dispatch_uid="finance_exports.goods_changed"
        )
