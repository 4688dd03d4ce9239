from django import forms
from django.utils.translation import gettext_lazy as _

from finance_exports.models import Sheet
from tickets.form_messages import name_field_errors
from tickets.forms import DeskDateField


class SheetFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部类型")), *Sheet.Kind.choices]
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *Sheet.Status.choices]
    )
    month = DeskDateField(
        label=_("月份"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )


class RemoveLineForm(forms.Form):
    reason = forms.CharField(label=_("移出原因"), max_length=255)


class ShipLineForm(forms.Form):
    tracking_no = forms.CharField(label=_("新运单号"), max_length=40)


class TrackingUploadForm(forms.Form):
    file = forms.FileField(label=_("填好运单号的换货清单"))


name_field_errors(globals())
