"""Forms of the order page: the seller flag and its memo, a receipt extension. They parse
input; ``tickets.services.orders`` decides."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .form_messages import name_field_errors
from .models import Order
from .selectors_orders import RECEIPT_EXTENSION_DAYS


class OrderFlagForm(forms.Form):
    flag = forms.ChoiceField(
        label=_("旗帜"), choices=Order.Flag.choices, required=False, widget=forms.RadioSelect
    )
    memo = forms.CharField(
        label=_("商家备忘"),
        required=False,
        strip=False,  # the service normalises it, the same way for every caller
        max_length=2000,  # the service's own limit is stricter and says so in words
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("给仓库、客服看的备忘")}),
    )
    # What the agent saw when the page was drawn: a change made since is not overwritten.
    expected_flag = forms.CharField(required=False, widget=forms.HiddenInput, max_length=8)
    expected_memo = forms.CharField(
        required=False, strip=False, widget=forms.HiddenInput, max_length=2000
    )

    @classmethod
    def for_order(cls, order: Order) -> "OrderFlagForm":
        return cls(
            initial={
                "flag": order.flag,
                "memo": order.flag_memo,
                "expected_flag": order.flag,
                "expected_memo": order.flag_memo,
            }
        )


class ReceiptExtensionForm(forms.Form):
    days = forms.TypedChoiceField(label=_("延长天数"), coerce=int)
    note = forms.CharField(
        label=_("备注"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": _("原因（可选，如：快递滞留）")}),
    )
    # The extension the page showed: a second submission of the same form records nothing.
    expected_days = forms.IntegerField(min_value=0, max_value=32767, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels in the request's language (a choice list built at import would be frozen).
        self.fields["days"].choices = [
            (d, gettext("%(d)s 天") % {"d": d}) for d in RECEIPT_EXTENSION_DAYS
        ]

    @classmethod
    def for_order(cls, order: Order) -> "ReceiptExtensionForm":
        return cls(initial={"days": 3, "expected_days": order.receipt_extended_days})


name_field_errors(globals())
