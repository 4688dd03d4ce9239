from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceExportsConfig(AppConfig):
    name = "finance_exports"
    verbose_name = _("财务报表")

    def ready(self):
        from tickets.inbox import register_dashboard_panel, register_inbox_source
        from tickets.signals import demo_seeded, exchange_goods_changed

        from .demo import demo_sheets
        from .selectors import inbox_signatures
        from .services import exchange_goods_changed_receiver
        from .views import dashboard_panel

        # The supervisor's inbox lists exchange-goods lists waiting for a signature; finance's
        # dashboard shows the sheets (issue 13). tickets never imports this app.
        register_inbox_source(inbox_signatures)
        register_dashboard_panel(dashboard_panel)

        # An unsigned exchange-goods list's file follows what its tickets send out.
        exchange_goods_changed.connect(
            exchange_goods_changed_receiver, dispatch_uid="finance_exports.goods_changed"
        )
        # seed_demo: the sheets a running desk would have, signed, shipped and downloaded.
        demo_seeded.connect(demo_sheets, dispatch_uid="finance_exports.demo_sheets")
