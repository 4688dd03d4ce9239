"""Requests the desk makes to an address an administrator typed: the team chat robots
(``tickets.services.notifications.chat_send``, issue 13) and the ERP webhooks
(``api.webhooks.webhook_send``, issue 16). One rule and one transport for both.

Where (``url_target``): the desk POSTs from inside the network, so an address pointed at
loopback, a private range or the cloud's metadata address (169.254.169.254) would make it a
proxy into places no browser can reach (SSRF, OWASP A10:2021). A URL is https, carries no
user name or password, and every address its host resolves to is public - checked when the
setting is saved and again before each request, whose connection then goes to the checked
addresses, so a name that resolves elsewhere meanwhile (DNS rebinding) gains nothing. The
caller's ``allow_private`` (``DESK_CHAT_ALLOW_PRIVATE_URLS`` for both, default off) lifts the
address and https rules for a receiver inside the company's own network and for the tests'
local receivers; credentials in the URL are refused even then.

How (``post``): one attempt - connecting, TLS, sending and reading the whole answer - ends by
one deadline; each socket operation is bounded by what is left and a watchdog shuts the
socket at the deadline, so an answer dripped a byte at a time is cut too. Redirects are never
followed: a 3xx is a failure (a receiver that moved is told to the administrator, not
followed into the network).
"""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

ANSWER_LIMIT = 65536  # bytes of an answer read at most: a receiver's reply is a status


class OutboundRefused(ValueError):
    """A URL the desk will not send to. ``code``: "invalid", "scheme", "credentials",
    "no_host", "unresolved" or "not_public"; ``message``: the sentence for the administrator
    (lazy, active language); ``reason``: a short English phrase for a ``last_error``, never
    holding the URL; ``transient``: True when only the name did not resolve (DNS may answer
    later), False when the URL itself is refused."""

    MESSAGES = {
        "invalid": _("地址无效。"),
        "scheme": _("地址必须以 https:// 开头。"),
        "credentials": _("地址不能包含用户名或密码。"),
        "no_host": _("地址缺少主机名。"),
        "unresolved": _("无法解析地址的主机名。"),
        "not_public": _("地址指向本机、内网、链路本地或保留地址，不能使用。"),
    }

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason
        self.message = self.MESSAGES[code]
        self.transient = code == "unresolved"


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's scheme (``"https"``, or ``"http"`` when private
    addresses are allowed), host name (for the Host header and TLS), port, path with its
    query, and the checked IP addresses (strings) the host resolved to, in the resolver's
    order (empty when private addresses are allowed: the name is resolved on connecting)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def host_addresses(host: str, port: int) -> list[str]:
    """Every IP address (string) ``host`` resolves to for a TCP connection to ``port``, in
    the resolver's order, without repeats. Raises ``OSError`` (``socket.gaierror``) when the
    name does not resolve. The tests replace this to resolve without a network."""
    found = []
    for *_rest, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone id is no part of it
        if address not in found:
            found.append(address)
    return found


def host_addresses_within(
    host: str, port: int, *, deadline: float, resolve: Callable[[str, int], list[str]] | None = None
) -> list[str]:
    """``host_addresses(host, port)`` (or ``resolve``'s), but waiting no later than ``deadline`` (a
    ``time.monotonic()`` value): the system resolver has no timeout of its own to set
    (``socket.getaddrinfo`` may wait 30 s and more on a DNS server that does not answer), so
    it runs in a daemon thread and is waited for only as long as the attempt has left. A
    thread still waiting after the deadline is left to end when the resolver gives up; its
    answer is dropped. Raises ``TimeoutError`` at the deadline, else what the resolver
    raised (``OSError``, ``UnicodeError``)."""
    found: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            found["addresses"] = (resolve or host_addresses)(host, port)
        except BaseException as exc:  # handed to the waiting thread, raised there
            found["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="outbound-resolve", daemon=True).start()
    if not done.wait(max(deadline - time.monotonic(), 0)):
        raise TimeoutError("host name not resolved before the deadline")
    if "error" in found:
        raise found["error"]
    return found["addresses"]


def address_is_public(address: str) -> bool:
    """True when ``address`` (an IPv4 or IPv6 address as a string) is globally routable: not
    loopback, link-local (169.254.0.0/16, fe80::/10: cloud metadata lives there), private
    (RFC 1918, fc00::/7), shared (100.64.0.0/10), multicast, reserved or unspecified. An
    IPv4 address mapped or embedded in IPv6 is judged as the IPv4 address it carries."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def url_target(
    url: str,
    *,
    allow_private: bool,
    resolve: Callable[[str, int], list[str]] | None = None,
    deadline: float | None = None,
) -> Target:
    """Checks ``url`` and returns where to send (``Target``). Without ``allow_private``:
    https only, and every address the host resolves to (``resolve``, by default
    ``host_addresses``) must be public (``address_is_public``); with it, http or https and
    any address, nothing resolved. Never a user name or password in the URL. With
    ``deadline`` (a ``time.monotonic()`` value: the attempt's), the default resolver is
    waited for no later than it (``host_addresses_within``). Raises ``OutboundRefused``
    (``transient`` when only the name did not resolve, in time or at all)."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused("invalid", "invalid URL") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise OutboundRefused("scheme", "not https")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise OutboundRefused("credentials", "user name or password in URL")
    host = parts.hostname or ""
    if not host:
        raise OutboundRefused("no_host", "no host")
    port = port or (443 if scheme == "https" else 80)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    if allow_private:
        return Target(scheme, host, port, path, addresses=())
    if resolve is None and deadline is not None:

        def resolve(host: str, port: int) -> list[str]:
            return host_addresses_within(host, port, deadline=deadline)

    try:
        addresses = (resolve or host_addresses)(host, port)
    except TimeoutError as exc:
        raise OutboundRefused("unresolved", "host name not resolved in time") from exc
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused("unresolved", "host name not resolved") from exc
    if not addresses:
        raise OutboundRefused("unresolved", "host name not resolved")
    if not all(address_is_public(a) for a in addresses):
        raise OutboundRefused("not_public", "address not public")
    return Target(scheme, host, port, path, addresses=tuple(addresses))


class OutboundFailed(Exception):
    """One attempt that did not end in an answer the caller may read (its text is the short
    reason, never the URL). ``retry``: True when a later attempt may succeed (a network
    error, a dropped connection, the deadline), False when none will (a redirect).
    ``status``: the HTTP status when the receiver answered one (a redirect), else None."""

    def __init__(self, reason: str, *, retry: bool, status: int | None = None):
        super().__init__(reason)
        self.retry, self.status = retry, status


@dataclass(frozen=True)
class Answer:
    """A receiver's answer to one POST: its HTTP status (not a 3xx) and at most
    ``ANSWER_LIMIT`` bytes of its body."""

    status: int
    body: bytes


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to ``address`` (an IP checked by ``url_target``; empty: the host
    name itself) that speaks to ``host``; its raw socket is ``raw`` so a watchdog can shut it
    down from another thread."""

    raw: socket.socket | None = None

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def _open(self) -> socket.socket:
        self.raw = socket.create_connection((self.address or self.host, self.port), self.timeout)
        self.raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.raw

    def connect(self):
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """The same over TLS, the certificate checked against ``host`` (not the address)."""

    default_port = http.client.HTTPS_PORT
    tls = ssl.create_default_context()

    def connect(self):
        self.sock = self.tls.wrap_socket(self._open(), server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], *, deadline: float) -> Answer:
    """POSTs ``body`` with ``headers`` to ``target`` (``url_target``), connecting to its
    first checked address, the whole attempt ending by ``deadline`` (a
    ``time.monotonic()`` value). Redirects are never followed. Returns the ``Answer`` for
    any status but a 3xx, which the caller judges.

    Raises ``OutboundFailed``: ``retry`` for a network error, a dropped connection or the
    deadline; not ``retry`` (with ``status``) for a 3xx answer."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise OutboundFailed("deadline exceeded", retry=True)
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = kind(
        target.host,
        target.port,
        address=target.addresses[0] if target.addresses else "",
        timeout=left,
    )
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        if conn.raw is not None:
            with contextlib.suppress(OSError):
                conn.raw.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(left, cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        status = response.status
        answer = response.read(ANSWER_LIMIT)
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise OutboundFailed("deadline exceeded", retry=True) from exc
        raise OutboundFailed(f"network error: {type(exc).__name__}", retry=True) from exc
    finally:
        watchdog.cancel()
        conn.close()
    if expired.is_set():
        raise OutboundFailed("deadline exceeded", retry=True)
    if 300 <= status < 400:
        raise OutboundFailed(f"HTTP {status}: redirect not followed", retry=False, status=status)
    return Answer(status, answer)
