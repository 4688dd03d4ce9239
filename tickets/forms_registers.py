"""Forms for the registers (issue 5). They parse input and find the order, ticket, shop or
SKU a register row hangs on, always through what the requesting user may see; the services
in ``tickets.services`` (one module per register) decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .form_messages import name_field_errors
from .forms import DeskDateField, DeskDateTimeField, MoneyField
from .models import (
    Courier,
    CourierLossReport,
    LedgerEntry,
    PlatformIntervention,
    ProductFeedback,
    QualityProblem,
    Review,
    ReviewContact,
    Sku,
    WrongShipment,
)
from .selectors import visible_orders, visible_shops, visible_tickets
from .text import plain_int

_TEXT = forms.Textarea(attrs={"rows": 3})


class OrderRefForm(forms.Form):
    """A register row names its order by number (and optionally a ticket by number); both are
    looked up among what the user may see, so another shop's number is "not found"."""

    order_required = True

    order_no = forms.CharField(label=_("订单编号"), max_length=32)
    ticket_no = forms.CharField(
        label=_("售后单号"), max_length=12, required=False, help_text=_("可选，如 T00000012")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["order_no"].required = self.order_required

    def clean(self):
        data = super().clean()
        data["order"] = data["ticket"] = None
        order_no = "".join((data.get("order_no") or "").split())
        if order_no:
            orders = list(visible_orders(self.user).filter(order_no=order_no)[:2])
            if len(orders) != 1:
                self.add_error("order_no", _("找不到这个订单（或属于你不负责的店铺）。"))
            else:
                data["order"] = orders[0]
        ticket_no = (data.get("ticket_no") or "").strip().upper().lstrip("T").lstrip("0")
        if ticket_no:
            ticket = (
                visible_tickets(self.user).filter(pk=plain_int(ticket_no)).first()
                if plain_int(ticket_no) is not None
                else None
            )
            if ticket is None:
                self.add_error("ticket_no", _("找不到这个售后单。"))
            elif data["order"] is not None and ticket.order_id != data["order"].pk:
                self.add_error("ticket_no", _("售后单不属于这个订单。"))
            else:
                data["ticket"] = ticket
                data["order"] = data["order"] or ticket.order
        return data


class ShopChoiceMixin:
    def limit_shops(self, user):
        self.fields["shop"].queryset = visible_shops(user)


class CourierLossForm(OrderRefForm):
    courier = forms.ModelChoiceField(label=_("快递公司"), queryset=Courier.objects.all())
    tracking_no = forms.CharField(label=_("运单号"), max_length=40)
    damage = forms.ChoiceField(label=_("丢件/破损"), choices=CourierLossReport.Damage.choices)
    items_description = forms.CharField(label=_("物品"), widget=_TEXT)
    items_value = MoneyField(label=_("物品价值（元）"))
    shop_action = forms.ChoiceField(
        label=_("店铺处理"), choices=CourierLossReport.ShopAction.choices
    )
    claimed_amount = MoneyField(label=_("索赔金额（元）"))
    note = forms.CharField(label=_("备注"), widget=_TEXT, required=False)


class CourierLossTransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=CourierLossReport.Status.choices)
    received_amount = MoneyField(label=_("实收赔款（元）"), required=False)
    note = forms.CharField(label=_("说明"), max_length=500, required=False)


class SkuField(forms.ModelChoiceField):
    """A SKU typed by its merchant code (商家编码) into a text box; cleans to a ``Sku`` with its
    product. SKUs belong to no shop, so any code may be named.

    A choice field, not a ``CharField`` that returns a model: a text field's validators
    (``max_length``) run on what ``to_python`` returns, and ``len(sku)`` was a 500."""

    widget = forms.TextInput
    default_error_messages = {"invalid_choice": _("没有这个商家编码。")}

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Sku.objects.select_related("product"),
            to_field_name="code",
            empty_label=None,
            **kwargs,
        )
        self.widget.attrs.setdefault("maxlength", Sku._meta.get_field("code").max_length)

    def to_python(self, value):
        return super().to_python(value.strip() if isinstance(value, str) else value)


class QualityProblemForm(ShopChoiceMixin, OrderRefForm):
    order_required = False

    shop = forms.ModelChoiceField(label=_("店铺"), queryset=None)
    sku = SkuField(label=_("商家编码"))
    batch = forms.CharField(label=_("批次"), max_length=40, required=False)
    problem_type = forms.ChoiceField(
        label=_("问题类型"), choices=QualityProblem.ProblemType.choices
    )
    description = forms.CharField(label=_("描述"), widget=_TEXT, required=False)

    field_order = ["shop", "sku", "batch", "problem_type", "order_no", "ticket_no", "description"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.limit_shops(user)

    def clean(self):
        data = super().clean()
        order, shop = data.get("order"), data.get("shop")
        if order is not None and shop is not None and order.shop_id != shop.pk:
            self.add_error("order_no", _("订单不属于这个店铺。"))
        return data


class ProductFeedbackForm(OrderRefForm):
    order_required = False

    sku = SkuField(label=_("商家编码"))
    topic = forms.ChoiceField(label=_("方面"), choices=ProductFeedback.Topic.choices)
    text = forms.CharField(label=_("反馈"), widget=_TEXT)

    field_order = ["sku", "topic", "text", "order_no"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["ticket_no"]


class WrongShipmentForm(OrderRefForm):
    kind = forms.ChoiceField(label=_("类型"), choices=WrongShipment.Kind.choices)
    ordered_description = forms.CharField(label=_("应发"), widget=_TEXT, required=False)
    sent_description = forms.CharField(label=_("实发"), widget=_TEXT, required=False)
    packed_by = forms.CharField(label=_("打包人（如知道）"), max_length=50, required=False)
    listing_to_check = forms.BooleanField(label=_("商品页面可能有误，需核对"), required=False)


class InterventionForm(OrderRefForm):
    case_no = forms.CharField(label=_("介入编号"), max_length=40)
    reason = forms.CharField(label=_("介入原因"), max_length=200)
    deadline = DeskDateTimeField(label=_("举证截止"), required=False)
    evidence = forms.CharField(label=_("我方举证"), widget=_TEXT, required=False)


class InterventionUpdateForm(forms.Form):
    evidence = forms.CharField(label=_("我方举证"), widget=_TEXT, required=False)
    outcome = forms.ChoiceField(label=_("结果"), choices=PlatformIntervention.Outcome.choices)


class InvoiceRequestForm(OrderRefForm):
    title = forms.CharField(label=_("发票抬头"), max_length=100)
    tax_no = forms.CharField(label=_("税号"), max_length=30, required=False)
    amount = MoneyField(label=_("开票金额（元）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["ticket_no"]


class InvoiceDeclineForm(forms.Form):
    reason = forms.CharField(label=_("拒绝理由"), max_length=200)


class InvoiceIssueForm(forms.Form):
    invoice_no = forms.CharField(label=_("发票号码"), max_length=40, required=False)
    posting_tracking_no = forms.CharField(label=_("寄送运单号"), max_length=40, required=False)


class ReviewForm(OrderRefForm):
    rating = forms.ChoiceField(label=_("评价"), choices=Review.Rating.choices)
    made_at = DeskDateTimeField(label=_("评价时间"))
    text = forms.CharField(label=_("评价内容"), widget=_TEXT, required=False)
    assign = forms.BooleanField(label=_("自动分配给当班客服（轮流）"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["ticket_no"]


class ReviewContactForm(forms.Form):
    channel = forms.ChoiceField(label=_("渠道"), choices=ReviewContact.Channel.choices)
    result = forms.CharField(label=_("结果"), max_length=200, required=False)


REVIEW_PAYMENT_METHODS = [
    (value, label)
    for value, label in LedgerEntry.PaymentMethod.choices
    if value
    in (
        LedgerEntry.PaymentMethod.ALIPAY_TRANSFER,
        LedgerEntry.PaymentMethod.RED_PACKET,
        LedgerEntry.PaymentMethod.COUPON,
    )
]


class ReviewCompensateForm(forms.Form):
    amount = MoneyField(label=_("金额（元）"))
    payment_method = forms.ChoiceField(label=_("方式"), choices=REVIEW_PAYMENT_METHODS)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
    submission = forms.CharField(widget=forms.HiddenInput)


class ReviewCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("结果"),
        choices=[c for c in Review.Outcome.choices if c[0] != Review.Outcome.PENDING],
    )
    buyer_notes = forms.CharField(label=_("买家性格备注"), widget=_TEXT, required=False)


class HandoverForm(ShopChoiceMixin, OrderRefForm):
    order_required = False

    shop = forms.ModelChoiceField(label=_("店铺"), queryset=None)
    shift_date = DeskDateField(label=_("班次日期（夜班开始的日期）"))
    note = forms.CharField(label=_("交接内容"), widget=_TEXT)

    field_order = ["shop", "shift_date", "ticket_no", "order_no", "note"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.limit_shops(user)


class HandledForm(forms.Form):
    note = forms.CharField(label=_("处理说明"), max_length=500, required=False)


class VipForm(ShopChoiceMixin, forms.Form):
    shop = forms.ModelChoiceField(label=_("店铺"), queryset=None)
    buyer_nick = forms.CharField(label=_("买家会员名"), max_length=64)
    notes = forms.CharField(label=_("备注"), widget=_TEXT, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_shops(user)


class FollowUpForm(forms.Form):
    done = forms.BooleanField(label=_("已回访"), required=False)
    notes = forms.CharField(label=_("回访记录"), max_length=1000, required=False)


name_field_errors(globals())
