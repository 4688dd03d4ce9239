"""Rate limits per token (DRF throttling, counted in the Django cache: Redis in production)."""

from rest_framework.throttling import SimpleRateThrottle

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
