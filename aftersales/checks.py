"""The desk's own system checks (``manage.py check``; also run by ``migrate`` and
``runserver``, and shown by ``check --deploy``)."""

from django.conf import settings
from django.core import checks

# A proxy in front without TRUSTED_PROXIES: the client's address is the proxy's.
W_PROXY_WITHOUT_TRUSTED_PROXIES = "aftersales.W001"


@checks.register(checks.Tags.security)
def proxy_addresses_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A warning when ``BEHIND_PROXY`` is on and ``TRUSTED_PROXIES`` is 0: ``BEHIND_PROXY``
    trusts the proxy's forwarded proto and host only; the client's address (what the login
    lockout and the API's limit on refused tokens count) is read from ``X-Forwarded-For`` only
    for ``TRUSTED_PROXIES`` proxies. With 0, every client counts as the proxy's own address, so
    ``LOGIN_ADDRESS_FAILURE_LIMIT`` wrong passwords from anyone lock everyone out."""
    if not getattr(settings, "BEHIND_PROXY", False) or settings.DESK_TRUSTED_PROXIES > 0:
        return []
    return [
        checks.Warning(
            "BEHIND_PROXY is on but TRUSTED_PROXIES is 0: every client is counted at the "
            "proxy's address, so wrong passwords or refused API tokens from one client lock "
            "out or throttle everyone.",
            hint="Set TRUSTED_PROXIES to the number of proxies in front of gunicorn (1 for "
            "one load balancer or reverse proxy that appends to X-Forwarded-For).",
            id=W_PROXY_WITHOUT_TRUSTED_PROXIES,
        )
    ]
