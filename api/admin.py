"""The API in the admin, for administrators (superusers: no role holds these models'
permissions): issue and revoke tokens, read every call, keep the webhook endpoints and read
their deliveries with the last attempts."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from aftersales.outbound import OutboundRefused
from tickets.admin import DeclaredLookupsOnly, NoWrites, ServiceDoorAdmin
from tickets.admin_input import CheckedInput

from .models import (
    ApiCall,
    ApiToken,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .scopes import Scope
from .tokens import token_issue, token_issue_refusal, token_revoke
from .webhooks import webhook_secret, webhook_target


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("权限"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiToken
        fields = ("name", "user", "shops", "all_shops", "scopes", "expires_at")

    def clean(self):
        data = super().clean()
        if self.errors or data.get("user") is None:
            return data
        refusal = token_issue_refusal(
            name=data.get("name", ""),
            user=data["user"],
            scopes=data.get("scopes", []),
            shops=list(data.get("shops") or []),
            all_shops=data.get("all_shops", False),
            expires_at=data.get("expires_at"),
        )
        if refusal:
            raise forms.ValidationError(refusal)
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(CheckedInput, DeclaredLookupsOnly, admin.ModelAdmin):
    """Issued here (the token is shown once, on the page after saving) or with
    ``manage.py issue_api_token``; never edited, revoked with the list's action."""

    form = ApiTokenForm
    list_display = ("name", "user", "all_shops", "scope_list", "created_at", "last_used_at")
    list_display += ("revoked_at",)
    list_filter = ("all_shops", "created_at")
    actions = ["revoke"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        # An issued token is read, never edited: revoked with the action.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "name",
            "user",
            "shops",
            "all_shops",
            "scopes",
            "key_prefix",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "revoked_by",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "user", "shops", "all_shops", "scopes", "expires_at")
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("权限"))
    def scope_list(self, obj) -> str:
        return "、".join(str(Scope(s).label) for s in obj.scopes if s in Scope.values)

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        data = form.cleaned_data
        issued = token_issue(
            actor=request.user,
            name=data["name"],
            user=data["user"],
            scopes=data["scopes"],
            shops=list(data["shops"]),
            all_shops=data["all_shops"],
            expires_at=data.get("expires_at"),
        )
        # The admin goes on with the saved row (its log entry, the redirect to it).
        obj.__dict__.update(issued.token.__dict__)
        self.message_user(
            request,
            _("令牌只显示这一次，请立即复制到对接系统：%(token)s") % {"token": issued.raw},
            messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        # token_issue set the shops already.
        return None

    @admin.action(description=_("撤销所选令牌"))
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(actor=request.user, token=token)
        self.message_user(request, _("已撤销 %(n)s 个令牌。") % {"n": queryset.count()})


@admin.register(ApiCall)
class ApiCallAdmin(ServiceDoorAdmin):
    """Every call, read only (written by the API itself, append-only)."""

    shop_field = "token__shops"
    shop_path_is_many = True
    list_display = ("at", "token", "method", "endpoint", "path", "status_code", "records")
    list_display += ("duration_ms", "address", "reason")
    list_filter = ("token", "endpoint", "status_code", "reason")
    date_hierarchy = "at"
    list_select_related = ("token",)


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("事件"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    url = forms.URLField(label=_("地址"), max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "events", "shops", "all_shops", "is_active")

    def clean_url(self):
        """Refuses an address the desk would not send to (``webhooks.webhook_target``: https,
        no credentials, public addresses only unless ``DESK_CHAT_ALLOW_PRIVATE_URLS``; issue
        16 review 7). Resolves the host name; the sender checks it again on every attempt."""
        url = self.cleaned_data["url"]
        try:
            webhook_target(url)
        except OutboundRefused as exc:
            raise forms.ValidationError(exc.message) from exc
        return url


class WebhookAttemptInline(CheckedInput, NoWrites, admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    ordering = ("-at", "-id")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(CheckedInput, DeclaredLookupsOnly, admin.ModelAdmin):
    """The secret is made by the desk and shown once, when the endpoint is saved for the first
    time or given a new secret (the list's action); never drawn back into a page."""

    form = WebhookEndpointForm
    list_display = ("name", "url", "all_shops", "is_active", "created_at")
    list_filter = ("is_active", "all_shops")
    actions = ["new_secret"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = webhook_secret()
            self._show_secret(request, obj)
        super().save_model(request, obj, form, change)

    def _show_secret(self, request, obj):
        self.message_user(
            request,
            _("签名密钥只显示这一次，请复制到接收方：%(secret)s") % {"secret": obj.secret},
            messages.WARNING,
        )

    @admin.action(description=_("生成新的签名密钥"))
    def new_secret(self, request, queryset):
        for endpoint in queryset:
            endpoint.secret = webhook_secret()
            endpoint.save(update_fields=["secret", "updated_at"])
            self._show_secret(request, endpoint)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ServiceDoorAdmin):
    """Each event sent to each endpoint, with its status and last attempts (written by the
    desk, read only)."""

    shop_field = "endpoint__shops"
    shop_path_is_many = True

    list_display = ("created_at", "endpoint", "event", "status", "attempts", "last_attempt_at")
    list_display += ("last_error",)
    list_filter = ("status", "event", "endpoint")
    list_select_related = ("endpoint",)
    readonly_fields = (
        "endpoint",
        "event",
        "event_key",
        "payload",
        "status",
        "attempts",
        "last_attempt_at",
        "last_error",
        "delivered_at",
        "created_at",
    )
    inlines = [WebhookAttemptInline]
