"""What the supervisor's inbox and the finance dashboard are made of, and where other apps
plug in (issue 13 section 1). ``tickets`` never imports ``finance_exports``; the finance app
registers its own sources here when it starts (``finance_exports.apps``): the exchange list
waiting for a signature, and finance's panel of today's sheets."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class InboxItem:
    """One thing waiting for a supervisor. ``kind`` a short key the page styles and tests read
    (``escalation``, ``approval``, ``signature``, ``alert``, ``intervention``, ``promise``,
    ``handover``); ``since`` the aware moment it started waiting (the age is counted from it,
    the inbox sorts by it, oldest first); ``title`` and ``detail`` the words shown; ``url``
    where it is handled; ``action`` a one-click POST (``{"url", "label", "fields"}``) or None;
    ``obj`` the row itself for the template (an escalation's decision form)."""

    kind: str
    since: datetime
    title: str
    url: str
    detail: str = ""
    shop: str = ""
    action: dict | None = None
    obj: object = None
    late: bool = False
    extra: dict = field(default_factory=dict)


# (user, now) -> list[InboxItem]: each source decides itself whether the user may act.
INBOX_SOURCES: list[Callable] = []
# (user, now) -> dict | None: a panel for the dashboard of a user who is no agent
# (``template`` and its ``context``).
DASHBOARD_PANELS: list[Callable] = []


def register_inbox_source(source: Callable) -> Callable:
    if source not in INBOX_SOURCES:
        INBOX_SOURCES.append(source)
    return source


def register_dashboard_panel(panel: Callable) -> Callable:
    if panel not in DASHBOARD_PANELS:
        DASHBOARD_PANELS.append(panel)
    return panel
