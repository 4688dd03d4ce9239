"""Login lockout (issue 12 section 6), on django-axes: the desk's limits, its lockout page, the
client's address behind a proxy, and the unlock a supervisor or administrator does.

Two limits within ``AXES_COOLOFF_TIME`` (settings "Login lockout"):

- ``AXES_FAILURE_LIMIT`` wrong passwords for one account from one address lock that account
  on that address (someone guessing an agent's password; the agent at another desk is not
  locked out by it);
- ``DESK_LOGIN_ADDRESS_FAILURE_LIMIT`` wrong passwords from one address over any accounts lock
  every login from that address (someone trying many accounts).

axes counts the failures (``AccessAttempt``, one row per username, address and browser);
``DeskLockoutHandler`` compares each count with its own limit.
"""

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger(__name__)

UNLOCK_PERMISSION = "axes.delete_accessattempt"


class DeskLockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit per lockout parameter: the (username, address) pair
    against ``AXES_FAILURE_LIMIT``, the address alone against
    ``DESK_LOGIN_ADDRESS_FAILURE_LIMIT`` (axes has one limit for all)."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The failures axes compares with ``AXES_FAILURE_LIMIT``: the pair's own count, or at
        least that limit once the address reached its own limit."""
        pair, address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.DESK_LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(pair, settings.AXES_FAILURE_LIMIT)
        return pair

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful login: forget that account's failures from that address only,
        never the address's failures for other accounts."""
        pair, _address = self.filter_user_attempts(request, credentials)
        count, _ = pair.delete()
        return count


class DeskLockoutBackend(AxesStandaloneBackend):
    """axes' check before every password check made for a request (the desk's and the
    admin's login). A check without a request is no HTTP login and is not counted: the test
    client's ``login()`` or a shell (axes' own backend refuses those with an error)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip(request) -> str | None:
    """The client's address for counting failures: ``REMOTE_ADDR``, or behind
    ``DESK_TRUSTED_PROXIES`` proxies the address the outermost one saw (that many entries from
    the right of ``X-Forwarded-For``: what a client wrote there itself stands further left),
    a port written after it dropped (``_without_port``). A value that is not an IP address is
    ignored. Returns a string, or None without one."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.DESK_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            candidate = _without_port(forwarded[-proxies])
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("X-Forwarded-For holds no IP address where one was expected")
    return remote


def _without_port(entry: str) -> str:
    """An ``X-Forwarded-For`` entry without the port some proxies write after the address:
    ``1.2.3.4:5678`` -> ``1.2.3.4``, ``[2001:db8::1]:443`` and ``[2001:db8::1]`` ->
    ``2001:db8::1``; a bare IPv6 address (more than one colon) and anything else as it is.
    Without this a proxy writing ``ip:port`` made every address unreadable, so every client
    counted at the proxy's address (the lockout's and the API's limits)."""
    if entry.startswith("["):
        closing = entry.find("]")
        rest = entry[closing + 1 :]
        if closing > 0 and (not rest or (rest.startswith(":") and rest[1:].isdigit())):
            return entry[1:closing]
        return entry
    host, colon, port = entry.partition(":")
    if colon and ":" not in port and port.isdigit():
        return host
    return entry


def lockout_minutes(request=None) -> int:
    """How long a lockout lasts, in whole minutes (``AXES_COOLOFF_TIME``)."""
    return int(get_cool_off(request).total_seconds() // 60)


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login gets (axes' ``AXES_LOCKOUT_CALLABLE``): the desk's page, in
    the user's language, saying how long and who can unlock; status 429."""
    context = {"minutes": lockout_minutes(request)}
    return render(request, "registration/locked_out.html", context, status=429)


@dataclass(frozen=True)
class Lockout:
    """One current lockout: an account on an address (``username`` set) or a whole address
    (``username`` None), with its failure count, the last failure and when it ends."""

    username: str | None
    ip_address: str | None
    failures: int
    last_failure: datetime
    ends_at: datetime


def login_lockouts(*, now: datetime | None = None) -> list[Lockout]:
    """Every lockout in force at ``now`` (aware; default now), accounts first, newest first.
    Reads axes' failure counts within the cool-off; nothing is changed."""
    now = now or timezone.now()
    cool_off = get_cool_off()
    recent = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off)
    groups = [
        (("username", "ip_address"), settings.AXES_FAILURE_LIMIT),
        (("ip_address",), settings.DESK_LOGIN_ADDRESS_FAILURE_LIMIT),
    ]
    lockouts = []
    for fields, limit in groups:
        rows = (
            recent.values(*fields)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")
        )
        lockouts += [
            Lockout(
                username=row.get("username"),
                ip_address=row["ip_address"],
                failures=row["failures"],
                last_failure=row["last"],
                ends_at=row["last"] + cool_off,
            )
            for row in rows
        ]
    return lockouts


def login_unlocks_recent(*, limit: int = 20) -> list[LogEntry]:
    """The latest unlocks (from the desk's page or the admin), newest first: the admin log's
    deletions of axes' failure records, with who and when."""
    content_type = ContentType.objects.get_for_model(AccessAttempt)
    return list(
        LogEntry.objects.filter(content_type=content_type, action_flag=DELETION)
        .select_related("user")
        .order_by("-action_time")[:limit]
    )


def login_lockout_release(*, actor, ip_address: str, username: str | None = None) -> int:
    """Unlocks logins: with ``username``, that account on ``ip_address``; without, every
    login from ``ip_address``. Deletes axes' failure records for them, each recorded in the
    admin log (who, when, which) as the admin's own delete would be. Returns how many records
    were removed (0 when nothing was locked). Raises PermissionDenied unless ``actor`` may
    unlock (``axes.delete_accessattempt``: supervisors and administrators)."""
    if not actor.has_perm(UNLOCK_PERMISSION):
        raise PermissionDenied(UNLOCK_PERMISSION)
    attempts = AccessAttempt.objects.filter(ip_address=ip_address)
    if username is not None:
        attempts = attempts.filter(username=username)
    with transaction.atomic():
        released = list(attempts.select_for_update())
        if not released:
            return 0
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=released,
            action_flag=DELETION,
            change_message=f"unlock {username if username is not None else '*'} @ {ip_address}",
        )
        count = reset(ip=ip_address, username=username)
    logger.info("login unlocked by %s: %d failure records removed", actor.get_username(), count)
    return count
