"""Idle sessions without a database write on every page.

A session ends after ``SESSION_COOKIE_AGE`` seconds without a request (``SESSION_IDLE_MINUTES``,
QUALITY.md: an unattended desk logs out). Django keeps that rule with
``SESSION_SAVE_EVERY_REQUEST``, which writes the session row and commits on every request, a
read-only list page included. ``IdleSessionMiddleware`` moves the expiry on at most once every
``SESSION_TOUCH_SECONDS``: an idle session then ends between ``SESSION_COOKIE_AGE -
SESSION_TOUCH_SECONDS`` and ``SESSION_COOKIE_AGE`` seconds after its last request.
"""

import logging
import time

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.middleware import SessionMiddleware

TOUCHED_KEY = "_desk_touched"

logger = logging.getLogger(__name__)


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


class SessionStore(cached_db.SessionStore):
    """Django's ``cached_db`` sessions (``SESSION_ENGINE`` with Redis): the row in the database,
    a copy in the cache for the session's remaining age, read by every request instead of the
    row (one query fewer a page, issue 14).

    Django's ``load`` copies a row it had to read into the cache without catching an error, so a
    Redis that cannot be reached made every page of a logged-in user a server error. Here the
    copy is skipped then (logged) and the page is served from the row, as without Redis; saving
    already skips the copy that way. Logging out still deletes the row first and then the copy,
    and fails with an error page when the copy cannot be deleted, as in Django."""

    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("session cache unreachable: the session is read from the database")
            data = None
        if data is not None:
            return data
        row = self._get_session_from_db()
        if not row:
            return {}
        data = self.decode(row.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=row.expire_date))
        except Exception:
            logger.warning("session cache unreachable: the session is not copied into it")
        return data
