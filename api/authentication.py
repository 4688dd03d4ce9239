"""``Authorization: Bearer dsk_…``: the token names the account the call acts for."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ApiToken
from .throttling import RefusedTokenThrottle
from .tokens import token_find, token_refusal

# ``last_used_at`` is written at most this often per token, not on every call.
TOUCH_EVERY = timedelta(minutes=1)


class TokenAuthentication(authentication.BaseAuthentication):
    """Reads the bearer token, refuses a wrong, revoked or expired one and one whose account
    was deactivated (401, with ``WWW-Authenticate: Bearer``). ``request.user`` is the token's
    account and ``request.auth`` the token; a refused token that the desk knows is still
    recorded as a call (``request._api_token``), and every refusal says why
    (``request._api_refusal``: "malformed", "unknown", "revoked", "expired", "inactive",
    "throttled") for the call's record. Refusals are counted per address
    (``RefusedTokenThrottle``): past ``DESK_API_REFUSED_RATE`` a bearer call from that address
    is a 429 (the API's "throttled" error, ``Retry-After``) before its token is read: every
    bearer call takes a place in its address's window first and a good token gives it back,
    so calls at once cannot slip past the limit (issue 16 third review 7)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        guard = RefusedTokenThrottle()
        wait = guard.wait_for(request)
        if wait is not None:
            request._request._api_refusal = "throttled"
            raise exceptions.Throttled(wait)

        def refuse(reason: str, message: str):
            request._request._api_refusal = reason
            return exceptions.AuthenticationFailed(message)

        if len(header) != 2:
            raise refuse("malformed", _("Authorization 头的格式应为“Bearer 令牌”。"))
        try:
            raw = header[1].decode("ascii")
        except UnicodeError:
            raise refuse("malformed", _("接口令牌无效。")) from None
        token = token_find(raw)
        if token is None:
            raise refuse("unknown", _("接口令牌无效。"))
        request._request._api_token = token
        now = timezone.now()
        refusal = token_refusal(token, now)
        if refusal:
            reason = (
                "revoked"
                if token.is_revoked
                else "expired"
                if token.is_expired(now)
                else "inactive"
            )
            raise refuse(reason, refusal)
        guard.accepted()
        if token.last_used_at is None or token.last_used_at < now - TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the schema describes the token: an HTTP bearer scheme."""

    target_class = "api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "dsk_…",
            "description": "An integration token issued by an administrator.",
        }
