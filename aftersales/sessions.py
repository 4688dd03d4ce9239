"""Idle sessions without a database write on every page.

A session ends after ``SESSION_COOKIE_AGE`` seconds without a request (``SESSION_IDLE_MINUTES``,
QUALITY.md: an unattended desk logs out). Django keeps that rule with
``SESSION_SAVE_EVERY_REQUEST``, which writes the session row and commits on every request, a
read-only list page included. ``IdleSessionMiddleware`` moves the expiry on at most once every
``SESSION_TOUCH_SECONDS``: an idle session then ends between ``SESSION_COOKIE_AGE -
SESSION_TOUCH_SECONDS`` and ``SESSION_COOKIE_AGE`` seconds after its last request.
"""

import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware

TOUCHED_KEY = "_desk_touched"


class IdleSessionMiddleware(SessionMiddleware):
    """Django's ``SessionMiddleware`` (it replaces it in ``MIDDLEWARE``), which also marks a
    non-empty session as changed when its expiry was last moved ``SESSION_TOUCH_SECONDS`` or
    more ago, so that the session is saved and its cookie sent again."""

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            touched = session.get(TOUCHED_KEY)
            if not isinstance(touched, int) or now - touched >= settings.SESSION_TOUCH_SECONDS:
                session[TOUCHED_KEY] = now
        return super().process_response(request, response)
