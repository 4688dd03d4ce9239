"""Where a team chat robot may be (issue 13 section 2, "robot URLs are unrestricted").

A robot's URL is an administrator's setting, and the desk POSTs to it from inside the
network: pointed at loopback, a private range or the cloud's metadata address
(169.254.169.254), it would make the desk a proxy into places no browser can reach (SSRF,
OWASP A10:2021). So a robot URL is https, carries no user name or password, and every address
its host resolves to is a public one - checked when the robot is saved
(``ChatWebhook.clean``) and again before each message (``chat_url_target``), whose addresses
the sender then connects to, so a name that resolves elsewhere meanwhile gains nothing.

``DESK_CHAT_ALLOW_PRIVATE_URLS`` (default off) lifts the address and https rules for a robot
inside the company's own network and for the tests' local receivers; credentials in the URL
are refused even then.
"""

import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _


class ChatUrlRefused(ValueError):
    """A robot URL the desk will not send to. ``message``: the sentence for the administrator
    (active language); ``reason``: a short English phrase for the robot's ``last_error``,
    never holding the URL; ``transient``: True when only the name did not resolve (DNS may
    answer later), False when the URL itself is refused."""

    def __init__(self, message: str, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.message, self.reason, self.transient = message, reason, transient


@dataclass(frozen=True)
class ChatTarget:
    """Where one message goes: the URL's scheme (``"https"``, or ``"http"`` with the
    setting), host name (for the Host header and TLS), port, path with its query, and the
    checked IP addresses (strings) the host resolved to, in the resolver's order."""

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


def chat_url_target(url: str) -> ChatTarget:
    """Checks robot ``url`` and returns where to send (``ChatTarget``). Without
    ``DESK_CHAT_ALLOW_PRIVATE_URLS``: https only, and every address the host resolves to
    must be public (``address_is_public``); with it, http or https and any address. Never a
    user name or password in the URL. Raises ``ChatUrlRefused`` (``transient`` when only the
    name did not resolve)."""
    allow_private = settings.DESK_CHAT_ALLOW_PRIVATE_URLS
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ChatUrlRefused(_("群机器人地址无效。"), "invalid URL") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise ChatUrlRefused(_("群机器人地址必须以 https:// 开头。"), "not https")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ChatUrlRefused(
            _("群机器人地址不能包含用户名或密码。"), "user name or password in URL"
        )
    host = parts.hostname or ""
    if not host:
        raise ChatUrlRefused(_("群机器人地址缺少主机名。"), "no host")
    port = port or (443 if scheme == "https" else 80)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    if allow_private:
        return ChatTarget(scheme, host, port, path, addresses=())
    try:
        addresses = host_addresses(host, port)
    except (OSError, UnicodeError) as exc:
        raise ChatUrlRefused(
            _("无法解析群机器人地址的主机名。"), "host name not resolved", transient=True
        ) from exc
    if not addresses:
        raise ChatUrlRefused(
            _("无法解析群机器人地址的主机名。"), "host name not resolved", transient=True
        )
    if not all(address_is_public(a) for a in addresses):
        raise ChatUrlRefused(
            _("群机器人地址指向本机、内网、链路本地或保留地址，不能使用。"),
            "address not public",
        )
    return ChatTarget(scheme, host, port, path, addresses=tuple(addresses))
