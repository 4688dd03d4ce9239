"""The Django admin for every model, held to the same shop scope as the desk's own pages.

``is_staff`` only opens the admin's door; what a user sees inside is still limited by
``tickets.selectors`` and their role's permissions. Append-only rows (ledger, timeline,
audit) are read-only here.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from . import models
from .selectors import scope_to_user, visible_orders, visible_shops, visible_tickets


class ScopedShopListFilter(admin.RelatedFieldListFilter):
    """The "by shop" filter offers only the shops the user serves."""

    def field_choices(self, field, request, model_admin):
        shops = visible_shops(request.user)
        return [(shop.pk, str(shop)) for shop in shops]


class ShopScopedAdmin(admin.ModelAdmin):
    """Lists, edits, filters and foreign-key choices limited to the shops the user serves."""

    shop_field = "shop"
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    def get_queryset(self, request):
        return scope_to_user(super().get_queryset(request), request.user, self.shop_field)

    def get_list_filter(self, request):
        return [
            (name, ScopedShopListFilter) if name == "shop" else name
            for name in super().get_list_filter(request)
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scoped = {"shop": visible_shops, "order": visible_orders, "ticket": visible_tickets}
        if db_field.name in scoped:
            kwargs["queryset"] = scoped[db_field.name](request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(ShopScopedAdmin):
    """For append-only rows: visible, never added, changed or deleted from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("负责店铺"), {"fields": ("all_shops", "shops")}),
    )
    filter_horizontal = ("groups", "user_permissions", "shops")
    list_display = ("username", "last_name", "first_name", "is_active", "all_shops")
    list_filter = ("is_active", "groups", "all_shops")


@admin.register(models.Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "location", "is_active")
    list_filter = ("kind", "location", "is_active")
    search_fields = ("code", "name")

    def get_queryset(self, request):
        return visible_shops(request.user)


@admin.register(models.Courier)
class CourierAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "priced_by_hand")
    search_fields = ("code", "name")


class SkuInline(admin.TabularInline):
    model = models.Sku
    extra = 0


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("model_no", "title")
    search_fields = ("model_no", "title")
    inlines = [SkuInline]


@admin.register(models.Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ("code", "product", "colour", "size", "batch")
    search_fields = ("code", "product__model_no", "product__title")
    list_select_related = ("product",)


class OrderItemInline(admin.TabularInline):
    model = models.OrderItem
    extra = 0
    raw_id_fields = ("sku",)


@admin.register(models.Order)
class OrderAdmin(ShopScopedAdmin):
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
    exclude = ("receiver_name", "receiver_phone", "receiver_phone_tail", "receiver_address")


class TicketItemInline(admin.TabularInline):
    model = models.TicketItem
    extra = 0
    raw_id_fields = ("order_item",)


class PromiseInline(admin.TabularInline):
    model = models.Promise
    extra = 0
    raw_id_fields = ("made_by", "fulfilled_by")


@admin.register(models.Ticket)
class TicketAdmin(ShopScopedAdmin):
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
class TicketEventAdmin(ReadOnlyAdmin):
    shop_field = "ticket__shop"
    list_display = ("ticket", "kind", "actor", "from_status", "to_status", "created_at")
    list_filter = ("kind",)
    list_select_related = ("ticket", "actor")


@admin.register(models.TicketPhoto)
class TicketPhotoAdmin(ReadOnlyAdmin):
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


@admin.register(models.QuickReply)
class QuickReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "is_active", "updated_at")
    search_fields = ("title", "body")


@admin.register(models.LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
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
class LedgerApprovalAdmin(ReadOnlyAdmin):
    shop_field = "entry__shop"
    list_display = ("entry", "approved", "decided_by", "decided_at")


@admin.register(models.PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    shop_field = "order__shop"
    list_display = ("accessed_at", "user", "order", "fields")
    list_select_related = ("user", "order")


@admin.register(models.ReturnParcel)
class ReturnParcelAdmin(ShopScopedAdmin):
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
class CourierLossReportAdmin(ShopScopedAdmin):
    list_display = ("tracking_no", "courier", "shop", "status", "claimed_amount", "received_amount")
    list_filter = ("status", "courier", "shop")
    search_fields = ("=tracking_no",)
    raw_id_fields = ("order", "ticket", "created_by")


def _register_simple(model, list_display, list_filter=(), shop_field="shop", raw=()):
    attrs = {
        "list_display": list_display,
        "list_filter": list_filter,
        "shop_field": shop_field,
        "raw_id_fields": raw,
    }
    admin.site.register(model, type(f"{model.__name__}Admin", (ShopScopedAdmin,), attrs))


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
    raw=("order", "sheet", "recorded_by"),
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
class ReviewContactAdmin(ReadOnlyAdmin):
    shop_field = "review__shop"
    list_display = ("review", "channel", "agent", "contacted_at", "result")


@admin.register(models.Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "beat_at", "detail")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Issue 6: the rate card and what came in from the seller centre ----------------------
@admin.register(models.PostageRate)
class PostageRateAdmin(admin.ModelAdmin):
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


class OrderImportFileInline(admin.TabularInline):
    model = models.OrderImportFile
    extra = 0
    fields = ("kind", "original_name", "encoding", "row_count", "column_count", "size_bytes")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.OrderImport)
class OrderImportAdmin(ReadOnlyAdmin):
    """The record of who imported what; imports happen on the desk's import page."""

    list_display = ("created_at", "shop", "status", "source", "created_by", "error_count")
    list_filter = ("status", "source", "shop")
    list_select_related = ("shop", "created_by")
    exclude = ("report",)
    inlines = [OrderImportFileInline]


@admin.register(models.RefundRequest)
class RefundRequestAdmin(ReadOnlyAdmin):
    list_display = ("refund_no", "shop", "order", "ticket", "status", "amount", "updated_at")
    list_filter = ("shop", "needs_return")
    search_fields = ("=refund_no", "=order__order_no")
    list_select_related = ("shop", "order", "ticket")
