"""The import page's upload form and the postage calculator's form."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tickets.form_messages import name_field_errors
from tickets.models import Courier, Province
from tickets.selectors import visible_shops

_CSV_ACCEPT = {"accept": ".csv,.txt,text/csv,text/plain"}


class ImportUploadForm(forms.Form):
    shop = forms.ModelChoiceField(
        label=_("店铺"),
        queryset=None,
        required=False,
        empty_label=_("（按订单文件里的店铺名称）"),
        help_text=_("不选时，按订单文件“店铺名称”一列确定店铺。"),
    )
    orders_file = forms.FileField(
        label=_("订单文件"),
        required=False,
        help_text=_("卖家中心导出的 ExportOrderList….csv"),
        widget=forms.ClearableFileInput(attrs=_CSV_ACCEPT),
    )
    items_file = forms.FileField(
        label=_("宝贝明细文件"),
        required=False,
        help_text=_("同一次导出的 ExportOrderDetailList….csv"),
        widget=forms.ClearableFileInput(attrs=_CSV_ACCEPT),
    )
    refunds_file = forms.FileField(
        label=_("退款文件"),
        required=False,
        help_text=_("退款管理里导出的退款列表"),
        widget=forms.ClearableFileInput(attrs=_CSV_ACCEPT),
    )

    KINDS = {"orders_file": "orders", "items_file": "items", "refunds_file": "refunds"}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        shops = visible_shops(user).filter(is_active=True)
        self.fields["shop"].queryset = shops
        # Nothing is preselected (a wrong shop would be one click away), unless the user
        # serves only one shop.
        only = list(shops[:2])
        if len(only) == 1:
            self.initial.setdefault("shop", only[0].pk)

    def clean(self):
        data = super().clean()
        chosen = [name for name in self.KINDS if data.get(name)]
        if not chosen:
            raise forms.ValidationError(_("请至少选择一个文件。"))
        limit = settings.DESK_IMPORT_MAX_BYTES
        for name in chosen:
            if data[name].size > limit:
                self.add_error(
                    name,
                    _("文件超过 %(mb)s MB，请分店铺、分时间段导出。")
                    % {"mb": limit // (1024 * 1024)},
                )
        return data

    def files_by_kind(self) -> dict:
        return {
            kind: self.cleaned_data[name]
            for name, kind in self.KINDS.items()
            if self.cleaned_data.get(name)
        }


class PostageQuoteForm(forms.Form):
    """Where to, how heavy, which courier. For an order the destination is the order's."""

    shop = forms.ModelChoiceField(label=_("发货店铺"), queryset=None, required=False)
    province = forms.ChoiceField(
        label=_("收货省份"), choices=[("", "---------"), *Province.choices], required=False
    )
    city = forms.CharField(label=_("收货城市"), max_length=20, required=False)
    weight_kg = forms.DecimalField(
        label=_("重量（kg）"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("999"),
        decimal_places=2,
        help_text=_("不填按首重计算。"),
    )
    courier = forms.ModelChoiceField(
        label=_("快递公司"), queryset=Courier.objects.all(), required=False
    )

    def __init__(self, *args, user, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.fields["shop"].queryset = visible_shops(user)
        if order is not None:
            for name in ("shop", "province", "city"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if self.order is None:
            if not data.get("shop"):
                self.add_error("shop", _("请选择发货店铺。"))
            if not data.get("province"):
                self.add_error("province", _("请选择收货省份。"))
        return data


name_field_errors(globals())
