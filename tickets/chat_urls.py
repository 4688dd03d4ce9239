"""Where a team chat robot may be (issue 13 section 2, "robot URLs are unrestricted").

A robot's URL is an administrator's setting, and the desk POSTs to it from inside the
network: the rule is the desk's one for every address an administrator types, shared with
the ERP webhooks (``aftersales.outbound.url_target``: https, no user name or password, every
address the host resolves to public - not loopback, private, link-local such as the cloud's
metadata address 169.254.169.254), said here in the robot's words. Checked when the robot is
saved (``ChatWebhook.clean``) and again before each message (``chat_url_target``), whose
addresses the sender then connects to, so a name that resolves elsewhere meanwhile gains
nothing.

``DESK_CHAT_ALLOW_PRIVATE_URLS`` (default off) lifts the address and https rules for a robot
inside the company's own network and for the tests' local receivers; credentials in the URL
are refused even then.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy

from aftersales import outbound

# Where one message goes (scheme, host, port, path, the checked addresses).
ChatTarget = outbound.Target
# The resolver chat_url_target calls (the tests replace it to resolve without a network).
host_addresses = outbound.host_addresses

# The refusals in the robot's words, by ``OutboundRefused.code``.
MESSAGES = {
    "invalid": gettext_lazy("群机器人地址无效。"),
    "scheme": gettext_lazy("群机器人地址必须以 https:// 开头。"),
    "credentials": gettext_lazy("群机器人地址不能包含用户名或密码。"),
    "no_host": gettext_lazy("群机器人地址缺少主机名。"),
    "unresolved": gettext_lazy("无法解析群机器人地址的主机名。"),
    "not_public": gettext_lazy("群机器人地址指向本机、内网、链路本地或保留地址，不能使用。"),
}


class ChatUrlRefused(ValueError):
    """A robot URL the desk will not send to. ``message``: the sentence for the administrator
    (active language); ``reason``: a short English phrase for the robot's ``last_error``,
    never holding the URL; ``transient``: True when only the name did not resolve (DNS may
    answer later), False when the URL itself is refused."""

    def __init__(self, message: str, reason: str, *, transient: bool = False):
        super().__init__(reason)
        self.message, self.reason, self.transient = message, reason, transient


def chat_url_target(url: str, *, deadline: float | None = None) -> ChatTarget:
    """Checks robot ``url`` (``aftersales.outbound.url_target`` with
    ``DESK_CHAT_ALLOW_PRIVATE_URLS``, resolving through ``host_addresses``) and returns
    where to send (``ChatTarget``). With ``deadline`` (a ``time.monotonic()`` value: a
    message's attempt), the name is waited for no longer than that
    (``outbound.host_addresses_within``); without it (saving the robot in the admin), as long
    as the resolver takes. Raises ``ChatUrlRefused`` (``transient`` when only the name did not
    resolve, in time or at all)."""

    def resolve(host: str, port: int) -> list[str]:
        if deadline is None:
            return host_addresses(host, port)
        return outbound.host_addresses_within(
            host, port, deadline=deadline, resolve=lambda h, p: host_addresses(h, p)
        )

    try:
        return outbound.url_target(
            url, allow_private=settings.DESK_CHAT_ALLOW_PRIVATE_URLS, resolve=resolve
        )
    except outbound.OutboundRefused as exc:
        raise ChatUrlRefused(str(MESSAGES[exc.code]), exc.reason, transient=exc.transient) from exc
