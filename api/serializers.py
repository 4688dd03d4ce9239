"""What the API takes and answers, declared once: the views write their answers with these
serializers and the OpenAPI schema (drf-spectacular) is generated from them. The batch
records' fields come from the import's own mapping (``tickets/imports/columns.toml``), so the
schema names exactly the fields the import reads."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from finance_exports.models import Sheet
from tickets.models import LedgerEntry, Order, Promise, Ticket, TicketEvent
from tickets.privacy import mask_nick

from .batches import ITEM_FIELDS, ORDER_FIELDS, REFUND_FIELDS, TIME_FIELDS
from .scopes import Scope


# --- errors ---------------------------------------------------------------------------------
class ProblemSerializer(serializers.Serializer):
    record = serializers.CharField(
        required=False, help_text='The record, e.g. "orders[3].items[0]" ("" for the batch).'
    )
    field = serializers.CharField(help_text="The field ('' for the record as a whole).")
    message = serializers.CharField()


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            "invalid",
            "unauthenticated",
            "forbidden",
            "not_found",
            "method_not_allowed",
            "not_acceptable",
            "conflict",
            "length_required",
            "too_large",
            "unsupported_media_type",
            "refused",
            "throttled",
            "server_error",
        ]
    )
    message = serializers.CharField(help_text="For people, in the request's language.")
    details = ProblemSerializer(many=True)
    error_count = serializers.IntegerField(
        help_text="How many problems in all (details holds the first 200); 0 when none is named."
    )
    retry_after = serializers.IntegerField(required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


# --- the token ------------------------------------------------------------------------------
class ShopSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TokenInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    user = serializers.CharField(help_text="The account the token acts for.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    all_shops = serializers.BooleanField()
    shops = ShopSerializer(many=True)
    expires_at = serializers.DateTimeField(allow_null=True)


# --- batches in -----------------------------------------------------------------------------
@extend_schema_field(
    {
        "oneOf": [{"type": "string", "maxLength": 10000}, {"type": "number"}],
        "nullable": True,
        "description": "The cell as the seller centre's export writes it.",
    }
)
class CellField(serializers.Field):
    """A record's field: text or a number, as the export's cell would hold it (null: empty)."""

    def to_representation(self, value):
        return value

    def to_internal_value(self, data):
        return data


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "description": (
            "A time: as the seller centre writes it, in Beijing time (2026-11-01 18:00:00, "
            "2026/11/1 18:00, 2026-11-01), or ISO 8601 (2026-11-01T10:00:00Z, "
            "2026-11-01T18:00:00+08:00; without a zone, Beijing time), stored in Beijing time "
            "as the CSV import stores it."
        ),
    }
)
class TimeCellField(CellField):
    """A record's time field (``batches.TIME_FIELDS``): its accepted formats in the schema."""


def _record_serializer(name: str, fields: tuple[str, ...], extra: dict | None = None):
    attrs = {
        field: (TimeCellField if field in TIME_FIELDS else CellField)(required=False)
        for field in fields
    }
    attrs.update(extra or {})
    return type(name, (serializers.Serializer,), attrs)


ItemRecordSerializer = _record_serializer("ItemRecordSerializer", ITEM_FIELDS)
OrderRecordSerializer = _record_serializer(
    "OrderRecordSerializer",
    ORDER_FIELDS,
    {"items": ItemRecordSerializer(many=True, required=False)},
)
RefundRecordSerializer = _record_serializer("RefundRecordSerializer", REFUND_FIELDS)


class OrderBatchSerializer(serializers.Serializer):
    shop = serializers.CharField(help_text="The shop's code (店铺代码).")
    orders = OrderRecordSerializer(many=True)


class RefundBatchSerializer(serializers.Serializer):
    shop = serializers.CharField(help_text="The shop's code (店铺代码).")
    refunds = RefundRecordSerializer(many=True)


class BatchResultSerializer(serializers.Serializer):
    applied = serializers.BooleanField()
    replayed = serializers.BooleanField(
        help_text="True when this Idempotency-Key was applied before: nothing ran now."
    )
    counts = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text='Per kind, what happened: {"orders": {"created": 2, "unchanged": 1}}.',
    )
    warnings = ProblemSerializer(many=True)
    warning_count = serializers.IntegerField()


# --- tickets out ----------------------------------------------------------------------------
class TicketSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    shop = serializers.CharField(source="shop.code")
    order_no = serializers.CharField(source="order.order_no")
    buyer_nick = serializers.SerializerMethodField(
        help_text="Masked as the page's export masks it (小鱼***猫) unless the token has "
        "personal_data:read: then whole, and the read is recorded."
    )
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)

    def get_buyer_nick(self, ticket) -> str:
        """The buyer's nickname whole only when the view says the token may read it
        (``context["revealed"]``, recorded by the view), else ``mask_nick``'s (issue 16 third
        review 5: it was whole to every tickets:read token)."""
        nick = ticket.order.buyer_nick
        return nick if self.context.get("revealed") else mask_nick(nick)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "shop",
            "order_no",
            "buyer_nick",
            "kind",
            "reason",
            "responsibility",
            "status",
            "assignee",
            "escalated",
            "return_tracking_no",
            "outbound_tracking_no",
            "first_response_due",
            "first_responded_at",
            "resolution_due",
            "resolved_at",
            "status_changed_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]


class TicketItemSerializer(serializers.Serializer):
    order_item_id = serializers.IntegerField()
    sub_order_no = serializers.CharField(source="order_item.sub_order_no")
    title = serializers.CharField(source="order_item.title")
    sku_code = serializers.CharField(source="order_item.sku_code")
    colour = serializers.CharField(source="order_item.colour")
    size = serializers.CharField(source="order_item.size")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(
        source="order_item.unit_price", max_digits=12, decimal_places=2
    )


class TimelineSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)

    class Meta:
        model = TicketEvent
        fields = ["created_at", "kind", "actor", "from_status", "to_status", "message"]


class PromiseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Promise
        fields = ["kind", "text", "due_on", "created_at", "fulfilled_at", "waived_at"]


class ReceiverSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    masked = serializers.BooleanField(
        help_text="False only for a token with personal_data:read; that read is recorded."
    )


class TicketOrderSerializer(serializers.ModelSerializer):
    receiver = ReceiverSerializer(source="api_receiver")
    courier = serializers.CharField(source="courier.name", allow_null=True, default=None)
    buyer_nick = serializers.SerializerMethodField(
        help_text="Masked unless the token has personal_data:read (see the ticket's)."
    )

    def get_buyer_nick(self, order) -> str:
        return order.buyer_nick if self.context.get("revealed") else mask_nick(order.buyer_nick)

    class Meta:
        model = Order
        fields = [
            "order_no",
            "status",
            "buyer_nick",
            "placed_at",
            "paid_at",
            "shipped_at",
            "paid_amount",
            "postage",
            "courier",
            "tracking_no",
            "receiver",
        ]


class TicketDetailSerializer(TicketSerializer):
    description = serializers.CharField()
    order = TicketOrderSerializer()
    items = TicketItemSerializer(many=True)
    timeline = TimelineSerializer(source="events", many=True)
    promises = PromiseSerializer(many=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "description", "order", "items", "timeline"]
        fields += ["promises"]


def page_serializer(name: str, item):
    """The cursor page of ``item``: ``results`` and the URL of the ``next`` page (null at the
    end). No count: the list may hold a million rows."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": item(many=True),
            "next": serializers.URLField(allow_null=True),
        },
    )


TicketPageSerializer = page_serializer("TicketPageSerializer", TicketSerializer)


# --- money out ------------------------------------------------------------------------------
class LedgerEntrySerializer(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.code")
    order_no = serializers.CharField(source="order.order_no")
    ticket = serializers.CharField(source="ticket.number", allow_null=True, default=None)
    recorded_by = serializers.CharField(source="recorded_by.username")
    approval = serializers.SerializerMethodField(
        help_text="approved / rejected / waiting, or null when no approval was needed."
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "shop",
            "order_no",
            "ticket",
            "kind",
            "amount",
            "payment_method",
            "note",
            "reverses",
            "requires_approval",
            "approval",
            "recorded_by",
            "recorded_at",
        ]

    @extend_schema_field(
        {"type": "string", "enum": ["approved", "rejected", "waiting"], "nullable": True}
    )
    def get_approval(self, entry) -> str | None:
        if not entry.requires_approval:
            return None
        decision = getattr(entry, "approval", None)
        if decision is None:
            return "waiting"
        return "approved" if decision.approved else "rejected"


LedgerPageSerializer = page_serializer("LedgerPageSerializer", LedgerEntrySerializer)


class SheetSerializer(serializers.ModelSerializer):
    approved_by = serializers.CharField(
        source="approved_by.username", allow_null=True, default=None
    )
    file = serializers.SerializerMethodField(
        help_text="Where the .xlsx downloads; null until ready."
    )

    class Meta:
        model = Sheet
        fields = [
            "id",
            "kind",
            "business_date",
            "status",
            "row_count",
            "total_amount",
            "ready_at",
            "approved_by",
            "approved_at",
            "file",
        ]

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_file(self, sheet) -> str | None:
        if not sheet.has_file:
            return None
        request = self.context.get("request")
        path = f"/api/v1/sheets/{sheet.pk}/file/"
        return request.build_absolute_uri(path) if request is not None else path


SheetPageSerializer = page_serializer("SheetPageSerializer", SheetSerializer)
