"""Forms for the agent's pages. They parse input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LedgerEntry, Promise, ReturnParcel, Ticket
from .money import MoneyError, parse_money
from .services.bulk import BulkAction


class IsoDateInput(forms.DateInput):
    """``<input type="date">``: the browser reads and sends only ISO dates (2026-11-29), so the
    value is written that way in every language, not in the locale's first input format
    (zh-hans would write 2026/11/29, which the browser shows as empty)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class IsoDateTimeInput(forms.DateTimeInput):
    """``<input type="datetime-local">``: ISO date and minutes (2026-11-29T14:30), local time."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class TicketOpenForm(forms.Form):
    """Opening a ticket: kind, reason, responsibility, items and quantities, promises."""

    kind = forms.ChoiceField(label=_("类型"), choices=Ticket.Kind.choices)
    reason = forms.ChoiceField(label=_("原因"), choices=Ticket.Reason.choices)
    responsibility = forms.ChoiceField(label=_("责任方"), choices=Ticket.Responsibility.choices)
    description = forms.CharField(
        label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    return_tracking_no = forms.CharField(label=_("退回运单号"), max_length=40, required=False)
    promise_kind = forms.ChoiceField(
        label=_("对买家的承诺"), choices=[("", _("（无）")), *Promise.Kind.choices], required=False
    )
    promise_text = forms.CharField(label=_("承诺内容"), max_length=255, required=False)
    promise_due_on = forms.DateField(label=_("兑现日期"), required=False, widget=IsoDateInput())

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.order_items = list(order.items.all())
        for item in self.order_items:
            self.fields[f"qty_{item.pk}"] = forms.IntegerField(
                label=item.title,
                min_value=0,
                max_value=item.quantity,
                initial=1 if len(self.order_items) == 1 else 0,
                required=False,
                widget=forms.NumberInput(attrs={"min": 0, "max": item.quantity, "class": "qty"}),
            )

    def item_rows(self):
        return [(item, self[f"qty_{item.pk}"]) for item in self.order_items]

    def clean(self):
        data = super().clean()
        chosen = [
            (item, data.get(f"qty_{item.pk}") or 0)
            for item in self.order_items
            if data.get(f"qty_{item.pk}")
        ]
        if not chosen and not self.errors:
            raise forms.ValidationError(_("请至少选择一件售后商品并填写数量。"))
        data["items"] = chosen
        if data.get("promise_kind") and not (data.get("promise_text") or "").strip():
            self.add_error("promise_text", _("请写明承诺内容。"))
        return data


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Ticket.Status.choices)
    note = forms.CharField(required=False, max_length=500)
    tracking_no = forms.CharField(required=False, max_length=40)
    waive_reason = forms.CharField(required=False, max_length=255)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("备注"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class EscalateForm(forms.Form):
    reason = forms.CharField(label=_("升级原因"), max_length=500)


class PromiseForm(forms.Form):
    kind = forms.ChoiceField(label=_("承诺类型"), choices=Promise.Kind.choices)
    text = forms.CharField(label=_("承诺内容"), max_length=255)
    due_on = forms.DateField(label=_("兑现日期"), required=False, widget=IsoDateInput())


class MoneyField(forms.CharField):
    """Money typed by a person ('12', '¥12.50', '8元'), parsed to Decimal by
    ``tickets.money.parse_money``, never float. ``allow_zero``: 0.00 is a valid amount here
    (a price on the rate card); elsewhere an amount is more than nothing."""

    def __init__(self, *args, allow_zero: bool = False, **kwargs):
        for ignored in ("max_digits", "decimal_places", "min_value", "max_value", "step_size"):
            kwargs.pop(ignored, None)  # what a model's DecimalField offers its form field
        super().__init__(*args, **kwargs)
        self.allow_zero = allow_zero

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_money(value, allow_zero=self.allow_zero)
        except MoneyError as exc:
            raise forms.ValidationError(exc.message) from exc


class LedgerForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=LedgerEntry.Kind.choices)
    amount = MoneyField(
        label=_("金额（元）"),
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "placeholder": _("金额（元）"), "required": True}
        ),
    )
    payment_method = forms.ChoiceField(
        label=_("支付方式"), choices=LedgerEntry.PaymentMethod.choices
    )
    note = forms.CharField(
        label=_("备注"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("备注（可选，如支付宝账号后四位）")}),
    )
    submission = forms.CharField(widget=forms.HiddenInput)


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("冲销原因"), max_length=255)
    submission = forms.CharField(widget=forms.HiddenInput)


class PhotoForm(forms.Form):
    photo = forms.FileField(label=_("照片"))


class UnpackForm(forms.Form):
    tracking_no = forms.CharField(
        label=_("退回运单号"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "scan"}),
    )
    condition = forms.ChoiceField(
        label=_("状况"),
        choices=ReturnParcel.Condition.choices,
        initial=ReturnParcel.Condition.INTACT,
    )
    contents = forms.CharField(label=_("包裹内容"), max_length=500, required=False)
    buyer_note = forms.CharField(label=_("买家留条"), max_length=500, required=False)
    order_no = forms.CharField(
        label=_("订单编号（运单号匹配不到时）"), max_length=32, required=False
    )


class MatchForm(forms.Form):
    order_no = forms.CharField(label=_("订单编号"), max_length=32)


class DecisionForm(forms.Form):
    approved = forms.TypedChoiceField(
        choices=[("1", _("批准")), ("0", _("拒绝"))], coerce=lambda v: v == "1"
    )
    reason = forms.CharField(label=_("理由"), max_length=255, required=False)

class TicketBulkForm(forms.Form):
    """The ticket list's bulk bar. The ticket ids (``ids``, many) are read by the view, the
    assignee by ``assignee_from_post``; which action may do what is the services' rule."""

    action = forms.ChoiceField(choices=BulkAction.choices)
    to_status = forms.ChoiceField(choices=Ticket.Status.choices, required=False)
    text = forms.CharField(max_length=2000, required=False)
    submission = forms.CharField(max_length=500, required=False)
    query = forms.CharField(max_length=2000, required=False)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("视图名称"), max_length=40)
    query = forms.CharField(max_length=2000, required=False)
    shared = forms.BooleanField(label=_("共享给团队"), required=False)
