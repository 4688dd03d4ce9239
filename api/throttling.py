"""Rate limits per token, and per address for refused tokens, counted in the Django cache
(Redis in production) in fixed windows, atomically.

DRF's ``SimpleRateThrottle`` reads a list of times, appends and writes it back: two calls at
once both read the same list, so with 4 threads 57 calls went through a 30/min limit (issue
16 third review 7). Here each window is one counter, created with ``cache.add`` and raised
with ``cache.incr`` - one atomic INCR on Redis, a locked increment in the local-memory cache -
so however many calls arrive at once, no more than the limit are let through in a window.
A fixed window lets up to twice the limit through across a window's edge; that is the price
of a counter no call can miss.
"""

import contextlib
import math

from django.core.cache import cache as default_cache
from rest_framework.throttling import SimpleRateThrottle

from aftersales.lockout import client_ip

from .models import ApiToken


def window_hit(cache, key: str, duration: int, now: float) -> tuple[int, float]:
    """Counts one call under ``key`` in the window of ``duration`` seconds that holds ``now``
    (Unix seconds). Returns the count including this call, and the seconds until the window
    ends. Atomic: concurrent calls each get their own count."""
    window = int(now // duration)
    counter = f"{key}:{window}"
    left = (window + 1) * duration - now
    if cache.add(counter, 1, duration + 1):
        return 1, left
    try:
        return cache.incr(counter), left
    except ValueError:  # the counter expired between add and incr: this call starts it again
        cache.add(counter, 1, duration + 1)
        return 1, left


class _WindowThrottle(SimpleRateThrottle):
    """A ``SimpleRateThrottle`` whose history is a fixed window's atomic counter; ``timer``
    (Unix seconds) is the clock of every window here."""

    def wait(self):
        return max(1, math.ceil(self._left))


class TokenRateThrottle(_WindowThrottle):
    """``DESK_API_RATE`` calls per token (``DESK_API_BATCH_RATE`` for a view whose
    ``throttle_scope`` is "api_batch": the order and refund batches). A call without a valid
    token is refused before it is counted."""

    scope = "api"

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", "api")
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count, self._left = window_hit(self.cache, key, self.duration, self.timer())
        return count <= self.num_requests

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class RefusedTokenThrottle(_WindowThrottle):
    """``DESK_API_REFUSED_RATE`` refused tokens per caller's address (``client_ip``: the
    address the trusted proxies saw, as the login lockout counts it) per window. Every
    bearer call takes a place in its address's window before its token is looked up
    (``wait_for``) and a call whose token the desk accepts gives it back (``accepted``): so
    however many wrong tokens arrive at once, at most the limit are looked up in a window.
    Past the limit every bearer call from that address is answered 429 before its token is
    looked up, until the window ends - a valid token from that address waits too (an
    address guessing tokens is not served meanwhile). Used by ``TokenAuthentication``."""

    scope = "api_refused"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "-"}

    def wait_for(self, request) -> float | None:
        """Takes a place for the call ``request`` makes; the seconds until its address may
        present a token again when the window is full, else None."""
        self.key = self.get_cache_key(request)
        now = self.timer()
        self._counter = f"{self.key}:{int(now // self.duration)}"
        count, self._left = window_hit(self.cache, self.key, self.duration, now)
        if count > self.num_requests:
            return self.wait()
        return None

    def accepted(self) -> None:
        """Gives back the place ``wait_for`` took: the token was good, no refusal to count."""
        with contextlib.suppress(ValueError):  # the window's counter expired: nothing to give
            self.cache.decr(self._counter)


# How often a refused call is written to the record per address and reason (seconds).
REFUSAL_RECORD_WINDOW = 60


def clock() -> float:
    """The windows' clock (``time.time``; a test may hold it still)."""
    return _WindowThrottle.timer()


def refusal_worth_recording(address: str | None, reason: str, now: float) -> bool:
    """Whether a refused call (``reason``: "unknown", "throttled", ...) from ``address`` is
    the first of its kind from there in this minute, and so written to the call record: junk
    calls must not grow the append-only ``ApiCall`` without bound (issue 16 third review 6),
    so 10,000 wrong tokens in a minute write one "unknown" row and one "throttled" row; the
    throttle's counter has the rest."""
    window = int(now // REFUSAL_RECORD_WINDOW)
    key = f"api_refusal_recorded:{address or '-'}:{reason}:{window}"
    return default_cache.add(key, 1, REFUSAL_RECORD_WINDOW + 1)
