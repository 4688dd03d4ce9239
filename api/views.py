"""The API's endpoints (``/api/v1/``). Each one parses input, calls one service or selector of
the desk narrowed to the token's shops (``api.selectors``), and answers with a serializer:
the business rules stay in the services, as for the pages.

Every call made with a token the desk knows is recorded (``ApiCall``: who, when, what, how it
ended, how many records), refused ones included.
"""

import re
import time

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from aftersales.error_views import error_page
from aftersales.lockout import client_ip
from aftersales.storage import StoreError, store_open
from finance_exports.builders import get_builder
from finance_exports.models import Sheet
from finance_exports.services import sheet_download_record
from tickets.filters import SORTS, STATUS_CHOICES, TicketFilter
from tickets.models import LedgerEntry, Order, Ticket
from tickets.privacy import mask_address, mask_name, mask_phone

from . import serializers as s
from .batches import RecordError, batch_import, body_digest, order_records, refund_records
from .errors import RecordsInvalid, StoreUnavailable
from .models import ApiBatch, ApiToken
from .pagination import PAGE_PARAMETERS, KeysetPagination
from .scopes import Scope, scope_refusal
from .selectors import (
    token_ledger,
    token_sheets,
    token_shop_by_code,
    token_shops,
    token_tickets,
)
from .services import (
    NICK_FIELDS,
    TICKET_FIELDS,
    api_call_record,
    personal_data_read_record,
)
from .throttling import TokenRateThrottle, refusal_worth_recording
from .throttling import clock as throttle_clock

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _errors(*codes: int) -> dict:
    """The documented error answers of an endpoint (every one of them is ``Error``)."""
    return {code: OpenApiResponse(s.ErrorSerializer) for code in (400, 401, 429, *codes)}


class CallRecorded:
    """Records each call made with a token the desk knows (``ApiCall``), whatever its answer
    - a refused bearer call only when it is the first of its reason from its address this
    minute (``refusal_worth_recording``: junk calls must not grow the record without end) -
    and marks the request recorded so the middleware does not record it again (it records the
    calls no view answered: refused before, or a 500). ``endpoint`` names the view; the view
    sets ``records``."""

    endpoint = ""

    def initialize_request(self, request, *args, **kwargs):
        self._started = time.monotonic()
        self.records = 0
        return super().initialize_request(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        django_request = getattr(request, "_request", request)
        token = getattr(request, "_auth", None)
        if not isinstance(token, ApiToken):
            token = getattr(django_request, "_api_token", None)
        refusal = getattr(django_request, "_api_refusal", "")
        address = client_ip(django_request)
        # A refusal already recorded from there this minute is not again (third review 6).
        worth = not refusal or refusal_worth_recording(address, refusal, throttle_clock())
        if worth and (isinstance(token, ApiToken) or refusal):
            started = getattr(self, "_started", time.monotonic())
            api_call_record(
                token=token if isinstance(token, ApiToken) else None,
                method=request.method,
                endpoint=self.endpoint or type(self).__name__,
                path=request.path,
                status_code=response.status_code,
                records=getattr(self, "records", 0),
                duration_ms=int((time.monotonic() - started) * 1000),
                address=address,
                reason=refusal,
            )
        # Seen by a view: recorded if its token is known, so the middleware need not look.
        getattr(request, "_request", request)._api_call_recorded = True
        response["Cache-Control"] = "private, no-store"
        return response


class ApiView(CallRecorded, APIView):
    """The base of every endpoint: the token's scope (``required_scope``), its rate limit
    (``throttle_scope``), and the call's record (``CallRecorded``). ``records`` is set by the
    view."""

    required_scope: str | None = None
    throttle_scope = "api"

    @property
    def token(self) -> ApiToken:
        return self.request.auth


# --- the token ------------------------------------------------------------------------------
class TokenView(ApiView):
    endpoint = "token"

    @extend_schema(
        summary="The token's own scopes and shops",
        operation_id="token_read",
        responses={200: s.TokenInfoSerializer, **_errors(403)},
        tags=["token"],
    )
    def get(self, request):
        token = self.token
        data = {
            "name": token.name,
            "user": token.user.username,
            "scopes": token.scopes,
            "all_shops": token.all_shops,
            "shops": [{"code": shop.code, "name": shop.name} for shop in token_shops(token)],
            "expires_at": token.expires_at,
        }
        return Response(s.TokenInfoSerializer(data).data)


# --- batches in -----------------------------------------------------------------------------
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any text up to 100 printable ASCII characters. The same batch sent again with the "
        "same key imports nothing and gets the first answer (replayed: true); a refused batch "
        "does not use its key up."
    ),
)


class BatchView(ApiView):
    throttle_scope = "api_batch"
    kind = ""

    def records_from(self, data):
        raise NotImplementedError

    def post(self, request):
        data = request.data
        shop = token_shop_by_code(self.token, data.get("shop") if isinstance(data, dict) else None)
        if shop is None:
            raise exceptions.ValidationError(
                {"shop": [_("店铺代码不对，或不是这个接口令牌可以导入的店铺。")]}
            )
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and not (len(key) <= 100 and key.isascii() and key.isprintable()):
            raise exceptions.ValidationError(
                {"Idempotency-Key": [_("幂等键最多 100 个可打印的 ASCII 字符。")]}
            )
        try:
            records = self.records_from(data)
        except RecordError as exc:
            raise RecordsInvalid(exc.details, exc.error_count) from None
        self.records = sum(len(found.rows) for found in records)
        answer = batch_import(
            token=self.token,
            shop=shop,
            kind=self.kind,
            records=records,
            key=key,
            body_sha256=body_digest(data) if key else "",
        )
        return Response(s.BatchResultSerializer(answer).data)


class OrderBatchView(BatchView):
    required_scope = Scope.ORDERS_WRITE
    endpoint = "orders.batch"
    kind = ApiBatch.Kind.ORDERS

    def records_from(self, data):
        return order_records(data)

    @extend_schema(
        summary="Create or update orders and their items, all or nothing",
        operation_id="orders_batch",
        description=(
            "Exactly the order import's rules (订单导入): the same cleaning and checks, status "
            "only forward (closed from anywhere, final), unchanged orders left alone, items "
            "matched by sub-order number else by title, code, colour and size. A field left "
            "out of every record is left as the desk has it. One bad record and nothing is "
            "imported: the 422 names each."
        ),
        request=s.OrderBatchSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: s.BatchResultSerializer, **_errors(403, 409, 413, 415, 422)},
        tags=["orders"],
    )
    def post(self, request):
        return super().post(request)


class RefundBatchView(BatchView):
    required_scope = Scope.REFUNDS_WRITE
    endpoint = "refunds.batch"
    kind = ApiBatch.Kind.REFUNDS

    def records_from(self, data):
        return refund_records(data)

    @extend_schema(
        summary="Refund requests from the seller centre, all or nothing",
        operation_id="refunds_batch",
        description=(
            "Exactly the refund import's rules: each refund opens or updates its ticket through "
            "the ticket services (是否需要退货 decides return or refund-only, the reason and who "
            "pays from 买家退款原因), moves it where the workflow allows, and registers a "
            "platform intervention (客服介入) with its deadline. No money is recorded."
        ),
        request=s.RefundBatchSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: s.BatchResultSerializer, **_errors(403, 409, 413, 415, 422)},
        tags=["refunds"],
    )
    def post(self, request):
        return super().post(request)


# --- tickets out ----------------------------------------------------------------------------
def _choices(values) -> list[str]:
    return [str(value) for value, _label in values]


TICKET_FILTERS = [
    OpenApiParameter(
        "q",
        str,
        description="What the search box finds (ticket, order, tracking "
        "number, phone tail, part of the buyer's nickname).",
    ),
    OpenApiParameter(
        "status",
        str,
        enum=_choices(STATUS_CHOICES),
        description="unfinished (default: every open status) or one status.",
    ),
    OpenApiParameter("kind", str, enum=_choices(Ticket.Kind.choices)),
    OpenApiParameter("reason", str, enum=_choices(Ticket.Reason.choices)),
    OpenApiParameter("responsibility", str, enum=_choices(Ticket.Responsibility.choices)),
    OpenApiParameter("shop", str, description="A shop's code among the token's."),
    OpenApiParameter("assignee", str, description="me, none, or a user's id."),
    OpenApiParameter("overdue", bool),
    OpenApiParameter("stale", bool),
    OpenApiParameter("created_min", OpenApiTypes.DATE),
    OpenApiParameter("created_max", OpenApiTypes.DATE),
    OpenApiParameter("updated_min", OpenApiTypes.DATE),
    OpenApiParameter("updated_max", OpenApiTypes.DATE),
    OpenApiParameter("sort", str, enum=list(SORTS), description="due (default), -created ..."),
]


class _ApiRequest:
    """What ``TicketFilter`` reads of a request: the acting user (the token's account)."""

    def __init__(self, user):
        self.user = user


def _shop_code_to_id(token, data):
    code = data.get("shop")
    if not code:
        return data
    shop = token_shops(token).filter(code=code).first()
    if shop is None:
        raise exceptions.ValidationError({"shop": [_("不是这个接口令牌可以访问的店铺。")]})
    data["shop"] = str(shop.pk)
    return data


def _range_errors_by_parameter(filterset) -> dict:
    """The filter's errors keyed by the query parameters the client sent: a date range's
    error ("created") is the error of each of its bounds that does not read
    (``created_min``, ``created_max``), not of a field the client never named."""
    errors = dict(filterset.errors)
    for name in ("created", "updated"):
        if name not in errors:
            continue
        messages = errors.pop(name)
        bounds = filterset.form.fields[name].fields
        bad = []
        for suffix, bound in zip(("_min", "_max"), bounds, strict=True):
            raw = filterset.data.get(name + suffix)
            try:
                bound.clean(raw)
            except DjangoValidationError:
                bad.append(name + suffix)
        for parameter in bad or [f"{name}_min"]:
            errors[parameter] = messages
    return errors


class TicketListView(ApiView):
    required_scope = Scope.TICKETS_READ
    endpoint = "tickets.list"
    pagination_class = KeysetPagination

    @extend_schema(
        summary="Tickets, with the ticket list's filters",
        operation_id="tickets_list",
        description=(
            "The same filters and sorts as the ticket list (售后单), over the token's shops; "
            "pages by cursor, without a count."
        ),
        parameters=[*TICKET_FILTERS, *PAGE_PARAMETERS],
        responses={200: s.TicketPageSerializer, **_errors(403)},
        tags=["tickets"],
    )
    def get(self, request):
        token = self.token
        data = _shop_code_to_id(token, request.query_params.copy())
        filterset = TicketFilter(
            data, queryset=token_tickets(token), request=_ApiRequest(token.user)
        )
        # The shop filter offers the token's shops only (its choices are built from the user).
        filterset.filters["shop"].queryset = token_shops(token)
        if not filterset.is_valid():
            raise exceptions.ValidationError(_range_errors_by_parameter(filterset))
        sort = filterset.form.cleaned_data.get("sort") or "due"
        queryset = filterset.qs.select_related("shop", "order", "assignee")
        paginator = self.pagination_class()
        rows = paginator.paginate(queryset, request, SORTS.get(sort, SORTS["due"]))
        self.records = len(rows)
        return paginator.get_paginated_response(_ticket_page(self.token, rows))


class TicketChangesView(ApiView):
    required_scope = Scope.TICKETS_READ
    endpoint = "tickets.changes"
    pagination_class = KeysetPagination
    KEYS = ("updated_at", "id")

    @extend_schema(
        summary="Tickets changed since a time, oldest change first (for a sync job)",
        operation_id="tickets_changes",
        description=(
            "Tickets whose row changed at or after `since` (status, assignee, tracking "
            "numbers, due times ...), by `updated_at` then id. Ask again from the last "
            "`updated_at` you saw, a minute earlier to be safe: a ticket seen twice is the same."
        ),
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, required=True, description="ISO 8601, with zone."
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: s.TicketPageSerializer, **_errors(403)},
        tags=["tickets"],
    )
    def get(self, request):
        since = _moment(request, "since", required=True)
        queryset = (
            token_tickets(self.token)
            .filter(updated_at__gte=since)
            .select_related("shop", "order", "assignee")
            .order_by(*self.KEYS)
        )
        paginator = self.pagination_class()
        rows = paginator.paginate(queryset, request, self.KEYS)
        self.records = len(rows)
        return paginator.get_paginated_response(_ticket_page(self.token, rows))


def _reveals(token: ApiToken) -> bool:
    """Whether ``token`` reads buyers' personal data whole: it has personal_data:read and its
    account may still reveal (the pages' rule)."""
    return token.has_scope(Scope.PERSONAL_DATA_READ) and (
        scope_refusal(token.user, Scope.PERSONAL_DATA_READ) is None
    )


def _ticket_page(token: ApiToken, rows: list) -> list:
    """A page of tickets as the list and the changes give them: the buyer's nickname masked
    unless the token may read personal data, and then its reading recorded, one row per order
    (issue 16 third review 5)."""
    revealed = _reveals(token)
    if revealed and rows:
        orders = list({ticket.order_id: ticket.order for ticket in rows}.values())
        personal_data_read_record(token=token, orders=orders, fields=NICK_FIELDS)
    return s.TicketSerializer(rows, many=True, context={"revealed": revealed}).data


def _receiver(order, revealed: bool) -> dict:
    address = " ".join(
        part
        for part in (
            order.receiver_province,
            order.receiver_city,
            order.receiver_district,
            order.receiver_address if revealed else mask_address(order.receiver_address),
        )
        if part
    )
    if revealed:
        return {
            "name": order.receiver_name,
            "phone": order.receiver_phone,
            "address": address,
            "masked": False,
        }
    return {
        "name": mask_name(order.receiver_name),
        "phone": mask_phone(order.receiver_phone),
        "address": address,
        "masked": True,
    }


class TicketDetailView(ApiView):
    # No HEAD: DRF answers it with ``get``, which records a download or a reveal that sent no
    # body; a 405 says so instead.
    http_method_names = ["get", "options"]
    required_scope = Scope.TICKETS_READ
    endpoint = "tickets.detail"

    @extend_schema(
        summary="One ticket with its items, timeline and promises",
        operation_id="tickets_read",
        description=(
            "The receiver's name, phone and address are masked as on the pages, unless the "
            "token has personal_data:read: then they are whole, and the read is recorded like "
            "a reveal on the order page (who, when, which order)."
        ),
        responses={200: s.TicketDetailSerializer, **_errors(403, 404)},
        tags=["tickets"],
    )
    def get(self, request, pk):
        token = self.token
        ticket = get_object_or_404(
            token_tickets(token)
            .select_related("shop", "order__courier", "assignee")
            .prefetch_related("items__order_item", "events__actor", "promises"),
            pk=pk,
        )
        revealed = _reveals(token)
        if revealed:
            personal_data_read_record(token=token, orders=[ticket.order], fields=TICKET_FIELDS)
        ticket.order.api_receiver = _receiver(ticket.order, revealed)
        self.records = 1
        return Response(s.TicketDetailSerializer(ticket, context={"revealed": revealed}).data)


# --- money out ------------------------------------------------------------------------------
UNENCODED_PLUS = re.compile(r"(?<=\d) (\d\d:?\d\d)$")


def _moment(request, name: str, *, required: bool = False):
    """The aware time in query parameter ``name`` (ISO 8601 with its zone, years 2000-2099),
    None when absent and not ``required``; raises ``ValidationError`` on ``name`` otherwise."""
    raw = request.query_params.get(name)
    if not raw and not required:
        return None
    raw = raw or ""
    # An offset written "+08:00" in a URL without encoding its "+" arrives as a space (the
    # query string's form encoding): read "2026-11-24T16:00:00 08:00" as the "+08:00" it was.
    raw = UNENCODED_PLUS.sub(r"+\1", raw)
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or not 2000 <= value.year <= 2099:
        raise exceptions.ValidationError(
            {name: [_("请给出带时区的时间，例如 2026-11-24T16:00:00+08:00。")]}
        )
    return value


class LedgerView(ApiView):
    required_scope = Scope.MONEY_READ
    endpoint = "ledger.list"
    pagination_class = KeysetPagination
    KEYS = ("id",)

    @extend_schema(
        summary="Ledger entries (postage, compensation, refunds, reversals), read only",
        operation_id="ledger_list",
        description=(
            "The money ledger of the token's shops in the order it was recorded (append-only: "
            "a correction is a new entry that `reverses` the original)."
        ),
        parameters=[
            OpenApiParameter("shop", str, description="A shop's code among the token's."),
            OpenApiParameter("kind", str, enum=_choices(LedgerEntry.Kind.choices)),
            OpenApiParameter("recorded_from", OpenApiTypes.DATETIME),
            OpenApiParameter("recorded_before", OpenApiTypes.DATETIME),
            *PAGE_PARAMETERS,
        ],
        responses={200: s.LedgerPageSerializer, **_errors(403)},
        tags=["money"],
    )
    def get(self, request):
        token = self.token
        queryset = token_ledger(token)
        params = request.query_params
        if params.get("shop"):
            shop = token_shops(token).filter(code=params["shop"]).first()
            if shop is None:
                raise exceptions.ValidationError({"shop": [_("不是这个接口令牌可以访问的店铺。")]})
            queryset = queryset.filter(shop=shop)
        if params.get("kind"):
            if params["kind"] not in LedgerEntry.Kind.values:
                raise exceptions.ValidationError({"kind": [_("未知的类型。")]})
            queryset = queryset.filter(kind=params["kind"])
        start, stop = _moment(request, "recorded_from"), _moment(request, "recorded_before")
        if start is not None:
            queryset = queryset.filter(recorded_at__gte=start)
        if stop is not None:
            queryset = queryset.filter(recorded_at__lt=stop)
        queryset = queryset.select_related(
            "shop", "order", "ticket", "recorded_by", "approval"
        ).order_by(*self.KEYS)
        paginator = self.pagination_class()
        rows = paginator.paginate(queryset, request, self.KEYS)
        self.records = len(rows)
        return paginator.get_paginated_response(s.LedgerEntrySerializer(rows, many=True).data)


class SheetListView(ApiView):
    required_scope = Scope.MONEY_READ
    endpoint = "sheets.list"
    pagination_class = KeysetPagination
    KEYS = ("-business_date", "-id")

    @extend_schema(
        summary="The daily and monthly sheets for finance, newest first",
        operation_id="sheets_list",
        description=(
            "Sheets cover every shop: only a token for all shops whose account may see "
            "sheets (finance, supervisors) reads them; for others the list is empty."
        ),
        parameters=[
            OpenApiParameter("kind", str, enum=_choices(Sheet.Kind.choices)),
            OpenApiParameter("status", str, enum=_choices(Sheet.Status.choices)),
            *PAGE_PARAMETERS,
        ],
        responses={200: s.SheetPageSerializer, **_errors(403)},
        tags=["money"],
    )
    def get(self, request):
        queryset = token_sheets(self.token).select_related("approved_by")
        for name, choices in (("kind", Sheet.Kind.values), ("status", Sheet.Status.values)):
            value = request.query_params.get(name)
            if value:
                if value not in choices:
                    raise exceptions.ValidationError({name: [_("未知的类型。")]})
                queryset = queryset.filter(**{name: value})
        paginator = self.pagination_class()
        rows = paginator.paginate(queryset.order_by(*self.KEYS), request, self.KEYS)
        self.records = len(rows)
        data = s.SheetSerializer(rows, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class SheetFileView(ApiView):
    # No HEAD: DRF answers it with ``get``, which records a download or a reveal that sent no
    # body; a 405 says so instead.
    http_method_names = ["get", "options"]
    required_scope = Scope.MONEY_READ
    endpoint = "sheets.file"

    @extend_schema(
        summary="A sheet's .xlsx file (every download is recorded, as on the finance page)",
        operation_id="sheets_file",
        responses={
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY),
            **_errors(403, 404, 503),
        },
        tags=["money"],
    )
    def get(self, request, pk):
        token = self.token
        if not token.user.has_perm("finance_exports.download_sheet"):
            raise exceptions.PermissionDenied(_("这个接口令牌代表的账号不能下载报表。"))
        sheet = get_object_or_404(token_sheets(token).downloadable(), pk=pk)
        receivers = []
        if get_builder(sheet.kind).carries_personal_data:
            # An exchange list's file has every receiver in full: the same rule as a ticket's
            # receiver (issue 16: unmasked only to a token allowed to read it, recorded).
            if not token.has_scope(Scope.PERSONAL_DATA_READ) or scope_refusal(
                token.user, Scope.PERSONAL_DATA_READ
            ):
                raise exceptions.PermissionDenied(
                    _(
                        "这份报表的文件里有买家完整的收货信息，需要可以读取买家完整个人信息的接口令牌。"
                    )
                )
            receivers = list(
                Order.objects.filter(
                    tickets__exchange_lines__sheet=sheet,
                    tickets__exchange_lines__removed_at__isnull=True,
                ).distinct()
            )
        try:
            handle = store_open(sheet.file)  # streamed from the store, never a public URL
        except FileNotFoundError as exc:
            raise Http404 from exc
        except StoreError as exc:  # nothing recorded: nothing was sent
            raise StoreUnavailable(exc.message) from exc
        sheet_download_record(actor=token.user, sheet=sheet)
        if receivers:
            personal_data_read_record(token=token, orders=receivers)
        self.records = 1
        response = FileResponse(
            handle, as_attachment=True, filename=sheet.download_name, content_type=XLSX
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- the schema and its docs ----------------------------------------------------------------
class SchemaView(CallRecorded, SpectacularAPIView):
    """The OpenAPI schema (JSON): for any valid token (recorded and rate-limited like any
    call), and for administrators in the browser. A refusal (401 without a token or an
    administrator's session, 429) is the API's JSON error shape as ``application/json``, not
    in the schema's own content type (a client reading the schema would take it for one)."""

    # The OpenAPI type first; plain JSON for a client that asks for application/json.
    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2]
    authentication_classes = [*settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]]
    permission_classes = []
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "api"
    endpoint = "schema"

    def get_authenticators(self):
        from .authentication import TokenAuthentication

        return [TokenAuthentication(), SessionAuthentication()]

    def check_permissions(self, request):
        user = request.user
        if isinstance(request.auth, ApiToken):
            return
        if user is not None and user.is_authenticated and user.is_superuser:
            return
        raise exceptions.NotAuthenticated(_("请在 Authorization 头里带上接口令牌。"))

    def handle_exception(self, exc):
        # Content negotiation chose the OpenAPI renderer before the refusal was known.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI over the schema, for administrators (a superuser's session): served from the
    desk's static files (drf-spectacular-sidecar), its script as a file, so the page keeps to
    the desk's Content-Security-Policy. It is a page: anyone else signed in gets the desk's
    403 page (templates/errors/403.html) in the language they chose on the desk (the API's
    middleware leaves this path's language alone), not a JSON error or a bare one."""

    template_name = "api/docs.html"
    authentication_classes = [SessionAuthentication]
    permission_classes = []
    throttle_classes = []
    url_name = "api:schema"

    def check_permissions(self, request):
        user = request.user
        if not (user.is_authenticated and user.is_superuser):
            raise exceptions.PermissionDenied(_("接口文档只对管理员开放。"))

    def handle_exception(self, exc):
        if isinstance(exc, (exceptions.PermissionDenied, exceptions.NotAuthenticated)):
            return error_page(self.request._request, "errors/403.html", status=403)
        return super().handle_exception(exc)


def not_found(request, *args, **kwargs):
    """Any other path under /api/: the API's 404, not a page."""
    from .errors import json_error

    return json_error("not_found", _("没有这个接口。"), 404)
