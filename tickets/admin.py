"""The Django admin: the administrators' tool for reference data, and a window on the rest.

Reference data (shops, couriers, products and SKUs, the postage rate card, quick replies,
users with their roles and shops) is kept here, each change recorded with who, when, before
and after (django-simple-history). Everything else changes state through a service in
``tickets.services`` / ``finance_exports.services`` - with its caps, its workflow and its
timeline - so it is read-only here for everyone, superusers included (``ServiceDoorAdmin``).
Agents and finance don't reach the admin at all (``aftersales.admin.DeskAdminSite``), and
what a supervisor sees inside is limited to the shops they serve, as on the desk's pages.
"""

from axes.admin import AccessAttemptAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from simple_history.admin import SimpleHistoryAdmin

from . import models
from .admin_input import CheckedInput
from .forms import MoneyField
from .quick_replies import PLACEHOLDERS, unknown_placeholders
from .selectors import scope_to_user, visible_shops


class ScopedShopListFilter(admin.RelatedFieldListFilter):
    """The "by shop" filter offers only the shops the user serves."""

    def field_choices(self, field, request, model_admin):
        shops = visible_shops(request.user)
        return [(shop.pk, str(shop)) for shop in shops]


class DeclaredLookupsOnly:
    """List filters in the URL only on the fields the list offers as filters (its
    ``list_filter`` and ``date_hierarchy``). Django would accept any field of the model, so
    ``?receiver_phone__startswith=138`` or ``?password__startswith=`` could guess a buyer's
    phone or a password hash one character at a time."""

    def lookup_allowed(self, lookup, value, request=None):
        offered = {f if isinstance(f, str) else f[0] for f in self.list_filter}
        if self.date_hierarchy:
            offered.add(self.date_hierarchy)
        if lookup.split(LOOKUP_SEP)[0] not in offered:
            return False
        return super().lookup_allowed(lookup, value, request)


class NoWrites:
    """Nothing added, changed or deleted here, whoever asks (superusers included)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceDoorAdmin(CheckedInput, NoWrites, DeclaredLookupsOnly, admin.ModelAdmin):
    """A model whose rows change only through the desk's services: listed and shown, limited
    to the shops the user serves, never added, changed or deleted from the admin.

    ``shop_field`` is the path to the row's shop; ``shop_path_is_many`` says it runs through a
    to-many relation, so the scope is a subquery (a join would list a row once per match)."""

    shop_field = "shop"
    shop_path_is_many = False
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.shop_path_is_many:
            allowed = scope_to_user(self.model.objects.all(), request.user, self.shop_field)
            return queryset.filter(pk__in=allowed.values("pk"))
        return scope_to_user(queryset, request.user, self.shop_field)

    def get_list_filter(self, request):
        return [
            (name, ScopedShopListFilter) if name == "shop" else name
            for name in super().get_list_filter(request)
        ]


class ServiceDoorInline(CheckedInput, NoWrites, admin.TabularInline):
    """Rows shown inside a service-door model's page: read-only like their parent."""

    extra = 0
    can_delete = False


class ReadOnlyHistory:
    """A record's history is read, never written: simple-history's version page would save a
    POST for anyone who may merely view the model (and revert for a superuser), so POST is
    refused there; and a history shows only for a record the user may see. An id in the URL
    that no record or version can have (``abc``, ``:``, ``1.5``) is a 404 like a missing one."""

    @staticmethod
    def _id_or_404(field, value):
        try:
            return field.to_python(value)
        except ValidationError:
            raise Http404 from None

    def _visible_or_404(self, request, object_id):
        """A record the user may not see has no history for them; a deleted one keeps its
        history (who deleted what is the point of keeping it)."""
        pk = self._id_or_404(self.model._meta.pk, unquote(object_id))
        exists = self.model._default_manager.filter(pk=pk).exists()
        if exists and not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        self._visible_or_404(request, object_id)
        history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
        self._id_or_404(history.model._meta.pk, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReferenceAdmin(CheckedInput, ReadOnlyHistory, DeclaredLookupsOnly, SimpleHistoryAdmin):
    """Reference data: edited here by whoever holds the model's permission, every change kept
    in its history (the "历史" button on the row), which supervisors can read."""

    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        stamps = [f.name for f in self.model._meta.fields if f.name in ("created_at", "updated_at")]
        return (*super().get_readonly_fields(request, obj), *stamps)


@admin.register(models.User)
class UserAdmin(
    CheckedInput, ReadOnlyHistory, DeclaredLookupsOnly, SimpleHistoryAdmin, DjangoUserAdmin
):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("负责店铺"), {"fields": ("all_shops", "shops")}),
    )
    filter_horizontal = ("groups", "user_permissions", "shops")
    list_display = ("username", "last_name", "first_name", "is_active", "all_shops")
    list_filter = ("is_active", "groups", "all_shops")

    def get_queryset(self, request):
        """Staff who serve a shop the user serves (and all-shop staff); everyone for those who
        see every shop."""
        users = super().get_queryset(request)
        user = request.user
        if user.is_superuser or user.all_shops:
            return users
        shops = visible_shops(user)
        return users.filter(Q(all_shops=True) | Q(shops__in=shops)).distinct()


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(
    CheckedInput, ReadOnlyHistory, DeclaredLookupsOnly, SimpleHistoryAdmin, DjangoGroupAdmin
):
    """The roles: which permissions each holds is set by ``tickets.roles`` after every
    migrate; a change made here is recorded (and undone by the next migrate)."""


@admin.register(models.Shop)
class ShopAdmin(ReferenceAdmin):
    list_display = ("code", "name", "kind", "location", "is_active", "service_hours")
    list_filter = ("kind", "location", "is_active")
    search_fields = ("code", "name")

    def get_queryset(self, request):
        return visible_shops(request.user)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """The business hours are typed and shown as HH:MM: the admin's clock would offer
        "now" with its seconds, and business hours are whole minutes (``Shop.clean``)."""
        if db_field.name in ("service_opens_at", "service_closes_at"):
            return forms.TimeField(
                label=db_field.verbose_name,
                help_text=db_field.help_text,
                required=False,
                input_formats=["%H:%M"],
                widget=forms.TimeInput(
                    format="%H:%M", attrs={"placeholder": "09:00", "size": 6, "maxlength": 5}
                ),
                error_messages={"invalid": _("请按 HH:MM 填写整分钟的时间（如 09:00），不带秒。")},
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("客服时间"))
    def service_hours(self, shop):
        """The hours the shop's clock runs in; hours stored before the rule held say that the
        default is used instead (``Shop.business_hours``)."""
        label = shop.business_hours.label()
        if shop.service_opens_at is None:
            return _("%(hours)s（默认）") % {"hours": label}
        if shop.business_hours_problem:
            return _("所填时间无效，按默认 %(hours)s 计时") % {"hours": label}
        return label

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A shop whose stored hours break the rule says so on its page, with what is wrong
        and the default hours its clock runs in meanwhile."""
        if request.method == "GET":
            shop = self.get_object(request, unquote(object_id))
            if shop is not None and shop.business_hours_problem:
                messages.warning(
                    request,
                    _(
                        "客服时间 %(opens)s-%(closes)s 无效（%(problem)s），售后时效暂按默认时间 "
                        "%(hours)s 计时。请改正后保存。"
                    )
                    % {
                        "opens": shop.service_opens_at,
                        "closes": shop.service_closes_at,
                        "problem": shop.business_hours_problem,
                        "hours": shop.business_hours.label(),
                    },
                )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(models.Courier)
class CourierAdmin(ReferenceAdmin):
    list_display = ("code", "name", "priced_by_hand")
    search_fields = ("code", "name")


class SkuInline(CheckedInput, admin.TabularInline):
    model = models.Sku
    extra = 0


@admin.register(models.Product)
class ProductAdmin(ReferenceAdmin):
    list_display = ("model_no", "title")
    search_fields = ("model_no", "title")
    inlines = [SkuInline]


@admin.register(models.Sku)
class SkuAdmin(ReferenceAdmin):
    list_display = ("code", "product", "colour", "size", "batch")
    search_fields = ("code", "product__model_no", "product__title")
    list_select_related = ("product",)


class OrderItemInline(ServiceDoorInline):
    model = models.OrderItem
    extra = 0
    raw_id_fields = ("sku",)


@admin.register(models.Order)
class OrderAdmin(ServiceDoorAdmin):
    list_display = (
        "order_no",
        "shop",
        "buyer_nick",
        "status",
        "paid_amount",
        "placed_at",
        "tracking_no",
    )
    list_filter = ("status", "shop", "flag")
    search_fields = ("=order_no", "=alipay_no", "=buyer_nick", "=tracking_no")
    date_hierarchy = "placed_at"
    list_select_related = ("shop",)
    raw_id_fields = ("courier",)
    inlines = [OrderItemInline]
    # Buyers' personal data stays masked in the admin too; the desk's order page reveals
    # it on purpose and records who looked.
    exclude = (
        "receiver_name",
        "receiver_phone",
        "receiver_phone_tail",
        "receiver_address",
        "receiver_district",
        "receiver_postcode",
        "buyer_alipay_account",
    )


class TicketItemInline(ServiceDoorInline):
    model = models.TicketItem
    extra = 0
    raw_id_fields = ("order_item",)


class PromiseInline(ServiceDoorInline):
    model = models.Promise
    extra = 0
    raw_id_fields = ("made_by", "fulfilled_by")


@admin.register(models.Ticket)
class TicketAdmin(ServiceDoorAdmin):
    list_display = (
        "number",
        "shop",
        "order",
        "kind",
        "reason",
        "status",
        "assignee",
        "resolution_due",
    )
    list_filter = ("status", "kind", "reason", "responsibility", "shop", "escalated")
    search_fields = ("=order__order_no", "=order__buyer_nick", "=return_tracking_no")
    list_select_related = ("shop", "order", "assignee")
    raw_id_fields = ("order", "opened_by", "assignee")
    inlines = [TicketItemInline, PromiseInline]
    # Status moves only through the desk's state machine, so the admin shows it read-only.
    readonly_fields = ("status", "first_responded_at", "resolved_at", "closed_at")


@admin.register(models.TicketEvent)
class TicketEventAdmin(ServiceDoorAdmin):
    shop_field = "ticket__shop"
    list_display = ("ticket", "kind", "actor", "from_status", "to_status", "created_at")
    list_filter = ("kind",)
    list_select_related = ("ticket", "actor")


@admin.register(models.TicketPhoto)
class TicketPhotoAdmin(ServiceDoorAdmin):
    shop_field = "ticket__shop"
    list_display = (
        "ticket",
        "original_name",
        "image_format",
        "size_bytes",
        "uploaded_by",
        "created_at",
    )
    exclude = ("file",)


# A quick reply is one chat message to a buyer: longer than this, it is not a phrase.
QUICK_REPLY_MAX = 1000


class QuickReplyForm(forms.ModelForm):
    """A phrase whose placeholder the desk cannot fill (a typo such as ``{运单}``), or longer
    than one chat message (QUICK_REPLY_MAX characters), is refused when it is written, naming
    the placeholders it can fill."""

    class Meta:
        model = models.QuickReply
        fields = ("title", "body", "is_active")

    def clean_body(self):
        body = self.cleaned_data["body"]
        # Checked when the text changes: an old phrase can still be switched off as it is.
        changed = "body" in self.changed_data
        if changed and len(body) > QUICK_REPLY_MAX:
            raise forms.ValidationError(
                _("快捷短语最多 %(max)s 个字（现在 %(n)s 个）：它是发给买家的一条消息。")
                % {"max": QUICK_REPLY_MAX, "n": len(body)}
            )
        unknown = unknown_placeholders(body) if changed else []
        if unknown:
            raise forms.ValidationError(
                _("不认识的占位符：%(unknown)s。可用：%(known)s")
                % {
                    "unknown": pgettext("list separator", "、").join(
                        f"{{{name}}}" for name in unknown
                    ),
                    "known": pgettext("list separator", "、").join(PLACEHOLDERS),
                }
            )
        return body


@admin.register(models.QuickReply)
class QuickReplyAdmin(ReferenceAdmin):
    form = QuickReplyForm
    list_display = ("title", "is_active", "updated_at")
    search_fields = ("title", "body")


@admin.register(models.LedgerEntry)
class LedgerEntryAdmin(ServiceDoorAdmin):
    list_display = (
        "id",
        "recorded_at",
        "shop",
        "order",
        "ticket",
        "kind",
        "signed_amount",
        "reverses",
        "payment_method",
        "recorded_by",
    )
    list_filter = ("kind", "payment_method", "shop", "requires_approval")
    search_fields = ("=order__order_no",)
    date_hierarchy = "recorded_at"
    list_select_related = ("shop", "order", "ticket", "recorded_by", "reverses")


@admin.register(models.LedgerApproval)
class LedgerApprovalAdmin(ServiceDoorAdmin):
    shop_field = "entry__shop"
    list_display = ("entry", "approved", "decided_by", "decided_at")


@admin.register(models.PersonalDataAccess)
class PersonalDataAccessAdmin(ServiceDoorAdmin):
    shop_field = "order__shop"
    list_display = ("accessed_at", "user", "order", "fields")
    list_select_related = ("user", "order")


@admin.register(models.ReturnParcel)
class ReturnParcelAdmin(ServiceDoorAdmin):
    list_display = (
        "tracking_no",
        "shop",
        "order",
        "ticket",
        "condition",
        "received_by",
        "created_at",
    )
    list_filter = ("condition", "shop")
    search_fields = ("=tracking_no",)
    raw_id_fields = ("order", "ticket", "received_by", "matched_by")

    def get_queryset(self, request):
        from .selectors import visible_parcels

        return visible_parcels(request.user)


@admin.register(models.CourierLossReport)
class CourierLossReportAdmin(ServiceDoorAdmin):
    list_display = ("tracking_no", "courier", "shop", "status", "claimed_amount", "received_amount")
    list_filter = ("status", "courier", "shop")
    search_fields = ("=tracking_no",)
    raw_id_fields = ("order", "ticket", "created_by")


def _register_simple(model, list_display, list_filter=(), shop_field="shop", raw=(), many=False):
    attrs = {
        "list_display": list_display,
        "list_filter": list_filter,
        "shop_field": shop_field,
        "shop_path_is_many": many,
        "raw_id_fields": raw,
    }
    admin.site.register(model, type(f"{model.__name__}Admin", (ServiceDoorAdmin,), attrs))


_register_simple(
    models.QualityProblem,
    ("sku", "batch", "problem_type", "shop", "created_at"),
    ("problem_type", "shop"),
    raw=("order", "ticket", "sku", "reported_by"),
)
_register_simple(
    models.ProductionAlert,
    ("sku", "batch", "complaint_count", "sent_at"),
    shop_field="sku__quality_problems__shop",
    raw=("sku", "sent_by"),
    many=True,
)
_register_simple(
    models.ProductFeedback,
    ("sku", "topic", "created_at"),
    ("topic",),
    shop_field="order__shop",
    raw=("sku", "order", "recorded_by"),
)
_register_simple(
    models.WrongShipment,
    ("order", "kind", "packed_by", "listing_to_check"),
    ("kind", "listing_to_check", "shop"),
    raw=("order", "ticket", "recorded_by"),
)
_register_simple(
    models.PlatformIntervention,
    ("case_no", "order", "deadline", "outcome"),
    ("outcome", "shop"),
    raw=("order", "ticket", "recorded_by"),
)
_register_simple(
    models.InvoiceRequest,
    ("order", "title", "amount", "status", "invoice_no"),
    ("status", "shop"),
    raw=("order", "recorded_by"),
)
_register_simple(
    models.Review,
    ("order", "rating", "made_at", "assignee", "outcome"),
    ("rating", "outcome", "shop"),
    raw=("order", "assignee", "recorded_by"),
)
_register_simple(
    models.HandoverNote,
    ("shift_date", "note", "handled_at", "handled_by"),
    ("shop",),
    raw=("order", "ticket", "created_by", "handled_by"),
)
_register_simple(models.VipCustomer, ("buyer_nick", "shop", "is_active"), ("shop", "is_active"))
_register_simple(
    models.VipFollowUp,
    ("vip", "month", "done", "done_by"),
    ("done",),
    shop_field="vip__shop",
    raw=("vip", "done_by"),
)


@admin.register(models.ReviewContact)
class ReviewContactAdmin(ServiceDoorAdmin):
    shop_field = "review__shop"
    list_display = ("review", "channel", "agent", "contacted_at", "result")


@admin.register(models.Heartbeat)
class HeartbeatAdmin(CheckedInput, admin.ModelAdmin):
    list_display = ("name", "beat_at", "detail")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Issue 6: the rate card and what came in from the seller centre ----------------------
@admin.register(models.PostageRate)
class PostageRateAdmin(ReferenceAdmin):
    """The shops' rate card: supervisors edit it; the calculator reads it on every quote."""

    list_display = (
        "name",
        "origin",
        "province",
        "city",
        "first_weight_kg",
        "first_price",
        "extra_kg_price",
        "confirm_by_hand",
    )
    list_filter = ("origin", "confirm_by_hand", "province")
    search_fields = ("name", "province", "city")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # Prices are read by the desk's one money parser, as in every other money form.
        if db_field.name in ("first_price", "extra_kg_price"):
            kwargs["form_class"] = MoneyField
            kwargs["allow_zero"] = True
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class OrderImportFileInline(ServiceDoorInline):
    model = models.OrderImportFile
    fields = ("kind", "original_name", "encoding", "row_count", "column_count", "size_bytes")
    readonly_fields = fields


@admin.register(models.OrderImport)
class OrderImportAdmin(ServiceDoorAdmin):
    """The record of who imported what; imports happen on the desk's import page."""

    list_display = ("created_at", "shop", "status", "source", "created_by", "error_count")
    list_filter = ("status", "source", "shop")
    list_select_related = ("shop", "created_by")
    exclude = ("report",)
    inlines = [OrderImportFileInline]


@admin.register(models.RefundRequest)
class RefundRequestAdmin(ServiceDoorAdmin):
    list_display = ("refund_no", "shop", "order", "ticket", "status", "amount", "updated_at")
    list_filter = ("shop", "needs_return")
    search_fields = ("=refund_no", "=order__order_no")
    list_select_related = ("shop", "order", "ticket")


# --- Login records (django-axes, issue 12 section 6) ---------------------------------------
# axes' own admin pages, kept to reading and unlocking: deleting a failure record unlocks its
# login (administrators; supervisors hold axes.delete_accessattempt for their unlock page,
# aftersales/lockout.py), recorded in the admin log like every delete. Nothing is added or
# edited, and the record of successful logins is never deleted.
@admin.register(AccessAttempt)
class LoginFailureAdmin(CheckedInput, AccessAttemptAdmin):
    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessLog)
class LoginAdmin(CheckedInput, AccessLogAdmin):
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Team chat robots (issue 13 section 2) ------------------------------------------------
class ChatWebhookForm(forms.ModelForm):
    """The secret is write-only: never drawn back into the page (not even masked), kept as it
    was when the field is left empty, removed only by ticking "clear"."""

    secret = forms.CharField(
        label=_("加签密钥"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "钉钉机器人“加签”的密钥（SEC 开头）；企业微信不需要。保存后不再显示，留空表示不修改。"
        ),
    )
    clear_secret = forms.BooleanField(label=_("清除密钥"), required=False)
    # Which URLs are refused (scheme, credentials, private addresses) is the model's clean
    # (``ChatWebhook.clean``, ``tickets.chat_urls``), which the form runs.
    url = forms.URLField(label=_("Webhook 地址"), max_length=500, assume_scheme="https")

    class Meta:
        model = models.ChatWebhook
        fields = ("name", "provider", "shop", "kind", "url", "secret", "is_active")

    def save(self, commit=True):
        hook = super().save(commit=False)
        if self.cleaned_data.get("clear_secret"):
            hook.secret = ""
        elif not self.cleaned_data.get("secret") and hook.pk:
            hook.secret = models.ChatWebhook.objects.get(pk=hook.pk).secret
        if hook.pk and "url" in self.changed_data:
            # the failures were the old address's
            hook.consecutive_failures, hook.last_error = 0, ""
        if commit:
            hook.save()
        return hook


@admin.register(models.ChatWebhook)
class ChatWebhookAdmin(CheckedInput, DeclaredLookupsOnly, admin.ModelAdmin):
    """Administrators (superusers: no role holds this model's permissions) say which group
    robot hears which kind of event of which shop."""

    form = ChatWebhookForm
    list_display = (
        "name",
        "provider",
        "shop",
        "kind",
        "is_active",
        "has_secret",
        "send_state",
        "last_attempt_at",
        "last_success_at",
    )
    list_filter = ("provider", "kind", "is_active")
    fields = (
        "name",
        "provider",
        "shop",
        "kind",
        "url",
        "secret",
        "clear_secret",
        "is_active",
        "send_state",
        "last_attempt_at",
        "last_success_at",
        "last_error",
        "consecutive_failures",
    )
    # Written by the sender (``chat_send``) only.
    readonly_fields = (
        "send_state",
        "last_attempt_at",
        "last_success_at",
        "last_error",
        "consecutive_failures",
    )

    @admin.display(boolean=True, description=_("已设密钥"))
    def has_secret(self, obj) -> bool:
        return bool(obj.secret)

    @admin.display(description=_("发送状态"), ordering="-consecutive_failures")
    def send_state(self, obj) -> str:
        """The robot's state for an administrator: failing (with the count and the last
        error) when the last attempt failed, OK when it succeeded, never sent before."""
        if obj.pk is None or obj.last_attempt_at is None:
            return _("尚未发送")
        if obj.is_failing:
            return format_html(
                '<img src="{}" alt="✗"> <strong>{}</strong> {}',
                static("admin/img/icon-no.svg"),
                _("发送失败（连续失败 %(n)s 次）") % {"n": obj.consecutive_failures},
                obj.last_error,
            )
        return format_html('<img src="{}" alt="✓"> {}', static("admin/img/icon-yes.svg"), _("正常"))
