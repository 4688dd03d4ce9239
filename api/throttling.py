"""Rate limits per token, and per address for refused tokens (DRF throttling, counted in the
Django cache: Redis in production)."""

from rest_framework.throttling import SimpleRateThrottle

from aftersales.lockout import client_ip

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """``DESK_API_RATE`` calls per token (``DESK_API_BATCH_RATE`` for a view whose
    ``throttle_scope`` is "api_batch": the order and refund batches). A call without a valid
    token is refused before it is counted."""

    scope = "api"

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", "api")
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class RefusedTokenThrottle(SimpleRateThrottle):
    """``DESK_API_REFUSED_RATE`` refused tokens per caller's address (``client_ip``: the
    address the trusted proxies saw, as the login lockout counts it). A call whose bearer
    token the desk refuses (unknown, malformed, revoked, expired, its account inactive) is
    counted; past the limit every bearer call from that address is answered 429 before its
    token is looked up, until the oldest refusal leaves the window - a valid token from that
    address waits too (an address guessing tokens is not served meanwhile). Used by
    ``TokenAuthentication``: ``wait_for`` before the lookup, ``refused`` after a refusal."""

    scope = "api_refused"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "-"}

    def wait_for(self, request) -> float | None:
        """Seconds until the address of ``request`` may present a token again, or None."""
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        self.history = [
            moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration
        ]
        if len(self.history) >= self.num_requests:
            return self.wait() or 1.0
        return None

    def refused(self) -> None:
        """Counts one refusal for the address ``wait_for`` looked at."""
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
