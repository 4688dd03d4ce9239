from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceExportsConfig(AppConfig):
    name = "finance_exports"
    verbose_name = _("财务报表")
