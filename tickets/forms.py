"""Forms for the agent's pages. They parse input; the services decide."""

import re
from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .form_messages import name_field_errors
from .models import Escalation, LedgerEntry, Promise, ReturnParcel, Sku, Ticket
from .money import MoneyError, parse_money
from .services.bulk import BulkAction
from .text import (
    TRACKING_NO_LENGTH,
    normalise_tracking_no,
    search_text,
    tracking_no_length_refusal,
)


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


# The days a date typed into the desk may name (issue 12, section 1): the calendar's own ends
# (0001-01-01, 9999-12-31) broke the arithmetic behind a date (the day after, a time zone's
# offset) with a server error; nothing the desk records is that far off.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
_OUT_OF_RANGE = _("日期须在 %(earliest)s 到 %(latest)s 之间。")


def _day_in_range(day: date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(
            _OUT_OF_RANGE,
            code="out_of_range",
            params={"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
        )


# What a date or date-time input reads: only ISO, what the browser's date inputs send, in every
# language. The locale's own formats (zh-hans 2026/11/10, en 11/10/2026) would make a typed or
# shared link mean different days in the two languages, and filter by a date that the date
# input, given back a non-ISO value, shows as empty.
ISO_DATE_INPUT = ("%Y-%m-%d",)
ISO_DATETIME_INPUT = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


class IsoDateField(forms.DateField):
    """A date read only as the browser's date (or month) input writes it, every part
    zero-padded: ``2026-11-01`` (``2026-11``). ``strptime`` alone also reads ``2026-11-1``,
    which filtered while the input, given that value back, showed an empty box."""

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ISO_DATE_INPUT)
        super().__init__(**kwargs)

    def strptime(self, value, format):
        day = super().strptime(value, format)
        padded = {"%Y": f"{day.year:04d}", "%m": f"{day.month:02d}", "%d": f"{day.day:02d}"}
        if re.sub("%[Ymd]", lambda part: padded[part.group(0)], format) != value:
            raise ValueError(value)
        return day


class DeskDateField(IsoDateField):
    """Every date field of the desk's forms: an ISO ``<input type="date">`` (only
    ``2026-11-01`` is read, ``IsoDateField``) whose date must lie between ``EARLIEST_DAY`` and
    ``LATEST_DAY`` (``ValidationError`` "out_of_range" otherwise). Cleans to a ``date`` or
    None."""

    widget = IsoDateInput

    def validate(self, value):
        super().validate(value)
        if value is not None:
            _day_in_range(value)


class DeskDateTimeField(forms.DateTimeField):
    """Every date-and-time field of the desk's forms: an ISO ``<input type="datetime-local">``
    read in the desk's time zone, whose local date must lie between ``EARLIEST_DAY`` and
    ``LATEST_DAY``. Cleans to an aware ``datetime`` or None."""

    widget = IsoDateTimeInput
    # What datetime-local sends (seconds when its step asks for them), and nothing else:
    # Django's own parser also reads an offset (``…T10:00Z``, stored as 18:00 Beijing time),
    # week dates and bare dates.
    LOCAL_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?")

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ISO_DATETIME_INPUT)
        super().__init__(**kwargs)

    def to_python(self, value):
        if (
            isinstance(value, str)
            and value.strip()
            and not self.LOCAL_MINUTE.fullmatch(value.strip())
        ):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def validate(self, value):
        super().validate(value)
        if value is not None:
            _day_in_range(timezone.localtime(value).date() if timezone.is_aware(value) else value)


def sku_label(sku: Sku) -> str:
    """ "颜色 · 尺码 · 商家编码" - how an agent tells one SKU of a product from another."""
    return " · ".join(part for part in (sku.colour, sku.size, sku.code) if part)


class SendSkuField(forms.Field):
    """What an exchange sends out for one returned item: a SKU of the same product chosen
    from a list, or any product's SKU by its merchant code (商家编码) typed in. Cleans to a
    ``Sku`` or None (nothing said: the same SKU again)."""

    widget = forms.TextInput

    def __init__(self, order_item, *, siblings=None, **kwargs):
        """``siblings``: the SKUs of the order item's product by code, when the caller read
        them already for several fields (``ExchangeGoodsForm``: one query for all its lines
        instead of one per line)."""
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("换出商品"))
        super().__init__(**kwargs)
        self.order_item = order_item
        product = order_item.sku.product_id if order_item.sku_id else None
        if siblings is None:
            siblings = Sku.objects.filter(product_id=product).order_by("code") if product else []
        self.siblings = list(siblings)
        self.widget = forms.TextInput(
            attrs={
                "list": f"skus-{order_item.pk}",
                "placeholder": _("商家编码"),
                "maxlength": 60,
                "autocomplete": "off",
                "class": "sku-code",
                "aria-label": str(kwargs.get("label") or _("换出商品")),
            }
        )
        if order_item.sku_id:
            self.initial = order_item.sku.code

    def choices(self):
        """The datalist: the same product's SKUs, labelled by colour and size."""
        return [(sku.code, sku_label(sku)) for sku in self.siblings]

    def clean(self, value):
        # Full-width letters and digits from a Chinese keyboard read as the ASCII code.
        code = search_text(value)
        if not code:
            return None
        if len(code) > 60:
            raise forms.ValidationError(_("商家编码最长 60 个字符。"))
        skus = Sku.objects.select_related("product")
        # The code as typed first; another case only when that names one SKU alone.
        sku = skus.filter(code=code).first()
        if sku is None:
            matches = list(skus.filter(code__iexact=code)[:2])
            sku = matches[0] if len(matches) == 1 else None
        if sku is None:
            raise forms.ValidationError(
                _("商品资料里没有商家编码“%(code)s”。") % {"code": code[:60]}
            )
        return sku


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
    promise_due_on = DeskDateField(label=_("兑现日期"), required=False)
    # The server-issued one-time key: the same form posted twice opens one ticket.
    submission = forms.CharField(widget=forms.HiddenInput, max_length=500, required=False)

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
            # For an exchange: what goes out instead (the same SKU unless chosen).
            self.fields[f"send_{item.pk}"] = SendSkuField(item)

    def item_rows(self):
        return [
            (item, self[f"qty_{item.pk}"], self[f"send_{item.pk}"]) for item in self.order_items
        ]

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
        # What goes out only matters for an exchange; another kind ignores it.
        data["sends"] = (
            {item.pk: data.get(f"send_{item.pk}") for item, _qty in chosen}
            if data.get("kind") == Ticket.Kind.EXCHANGE
            else {}
        )
        if data.get("promise_kind") and not (data.get("promise_text") or "").strip():
            self.add_error("promise_text", _("请写明承诺内容。"))
        return data


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Ticket.Status.choices)
    note = forms.CharField(label=_("备注"), required=False, max_length=500)
    tracking_no = forms.CharField(label=_("运单号"), required=False, max_length=40)
    waive_reason = forms.CharField(label=_("不兑现承诺的原因"), required=False, max_length=255)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("备注"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class EscalateForm(forms.Form):
    reason = forms.CharField(label=_("升级原因"), max_length=500)


class EscalationDecisionForm(forms.Form):
    """A supervisor's decision on an escalation: which, and the words for the agent (the
    service says which decisions need them)."""

    decision = forms.ChoiceField(
        label=pgettext_lazy("noun", "决定"), choices=Escalation.SUPERVISOR_DECISIONS
    )
    note = forms.CharField(label=_("说明"), max_length=1000, required=False)


class PromiseForm(forms.Form):
    kind = forms.ChoiceField(label=_("承诺类型"), choices=Promise.Kind.choices)
    text = forms.CharField(label=_("承诺内容"), max_length=255)
    due_on = DeskDateField(label=_("兑现日期"), required=False)


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
    # What the column holds (the form allowed 60: a server error on PostgreSQL, issue 12).
    tracking_no = forms.CharField(
        label=_("退回运单号"),
        max_length=TRACKING_NO_LENGTH,
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

    def clean_tracking_no(self) -> str:
        """The number as the desk stores it (``normalise_tracking_no``: full-width, spaces
        and what a scanner sends around it removed); refused here, on the field, when that
        leaves nothing or more than the column holds."""
        tracking_no = normalise_tracking_no(self.cleaned_data["tracking_no"])
        if not tracking_no:
            raise forms.ValidationError(_("请扫描或输入运单号。"))
        refusal = tracking_no_length_refusal(tracking_no)
        if refusal:
            raise forms.ValidationError(refusal)
        return tracking_no


class MatchForm(forms.Form):
    order_no = forms.CharField(label=_("订单编号"), max_length=32)


class DecisionForm(forms.Form):
    """A supervisor's decision on compensation waiting for approval: the button pressed
    (批准 / 拒绝) and the reason (the service requires one to refuse)."""

    approved = forms.TypedChoiceField(
        choices=[("1", _("批准")), ("0", _("拒绝"))],
        coerce=lambda v: v == "1",
        error_messages={
            "required": _("请选择批准或拒绝。"),
            "invalid_choice": _("请选择批准或拒绝。"),
        },
    )
    reason = forms.CharField(label=_("理由"), max_length=255, required=False)


class TicketBulkForm(forms.Form):
    """The ticket list's bulk bar. The ticket ids (``ids``, many) are read by the view, the
    assignee by ``assignee_from_post``; which action may do what is the services' rule."""

    action = forms.ChoiceField(choices=BulkAction.choices)
    to_status = forms.ChoiceField(choices=Ticket.Status.choices, required=False)
    text = forms.CharField(label=_("备注"), max_length=2000, required=False)
    submission = forms.CharField(max_length=500, required=False)
    query = forms.CharField(max_length=2000, required=False)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("视图名称"), max_length=40)
    query = forms.CharField(max_length=2000, required=False)
    shared = forms.BooleanField(label=_("共享给团队"), required=False)


def _skus_by_product(order_items) -> dict[int, list[Sku]]:
    """{product id: its SKUs by code} for the products of ``order_items`` (read with
    ``sku``), in one query; none when no item has a catalogue SKU."""
    products = {goods.sku.product_id for goods in order_items if goods.sku_id}
    by_product: dict[int, list[Sku]] = {pk: [] for pk in products}
    if products:
        for sku in Sku.objects.filter(product_id__in=products).order_by("code"):
            by_product[sku.product_id].append(sku)
    return by_product


class ExchangeGoodsForm(forms.Form):
    """Changing what an exchange sends out: for every returned item up to three lines of
    (merchant code, quantity), so two sizes can go out for two pieces returned. Cleans to
    ``requests``: ``(item_id, Sku, quantity)`` tuples for ``exchange_set_replacements``."""

    SLOTS = 3

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        siblings = _skus_by_product(item.order_item for item in items)
        for item in items:
            current = list(item.replacements.all())
            goods = item.order_item
            for n in range(self.slots(item)):
                self.fields[f"send_{item.pk}_{n}"] = SendSkuField(
                    goods, siblings=siblings.get(goods.sku.product_id, []) if goods.sku_id else []
                )
                self.fields[f"send_{item.pk}_{n}"].initial = (
                    current[n].sku.code if n < len(current) else ""
                )
                self.fields[f"qty_{item.pk}_{n}"] = forms.IntegerField(
                    min_value=1,
                    max_value=item.quantity,
                    required=False,
                    error_messages={
                        "invalid": _("数量请填整数。"),
                        "min_value": _("数量至少 %(limit_value)s 件。"),
                        "max_value": _("退回 %(limit_value)s 件，数量最多 %(limit_value)s 件。"),
                    },
                    initial=(
                        current[n].quantity
                        if n < len(current)
                        else (item.quantity if n == 0 and not current else None)
                    ),
                    widget=forms.NumberInput(
                        attrs={"min": 1, "max": item.quantity, "class": "qty"}
                    ),
                )
            if not current and item.order_item.sku_id:
                self.fields[f"send_{item.pk}_0"].initial = item.order_item.sku.code

    def slots(self, item) -> int:
        """Lines offered for an item: one per piece returned, at most ``SLOTS``."""
        return min(self.SLOTS, item.quantity)

    def rows(self):
        """Per item: (ticket item, [(code field, quantity field), ...])."""
        return [
            (
                item,
                [
                    (self[f"send_{item.pk}_{n}"], self[f"qty_{item.pk}_{n}"])
                    for n in range(self.slots(item))
                ],
            )
            for item in self.items
        ]

    def clean(self):
        data = super().clean()
        requests = []
        for item in self.items:
            for n in range(self.slots(item)):
                sku, quantity = data.get(f"send_{item.pk}_{n}"), data.get(f"qty_{item.pk}_{n}")
                if f"send_{item.pk}_{n}" in self.errors or f"qty_{item.pk}_{n}" in self.errors:
                    continue  # the field's own error says what is wrong: one message a mistake
                if sku is None and not quantity:
                    continue
                if sku is None:
                    self.add_error(f"send_{item.pk}_{n}", _("请填写换出商品的商家编码。"))
                elif not quantity:
                    self.add_error(f"qty_{item.pk}_{n}", _("请填写数量。"))
                else:
                    requests.append((item.pk, sku, quantity))
        data["requests"] = requests
        return data


class ExchangeChargeForm(forms.Form):
    amount = MoneyField(label=_("金额（元）"))
    submission = forms.CharField(widget=forms.HiddenInput, max_length=500)
    reference = forms.CharField(label=_("补差价订单号"), max_length=40, required=False)
    note = forms.CharField(label=_("备注"), max_length=255, required=False)


class ExchangeChargeReverseForm(forms.Form):
    reason = forms.CharField(label=_("冲销原因"), max_length=255)


name_field_errors(globals())
