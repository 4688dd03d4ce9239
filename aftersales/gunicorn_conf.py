"""gunicorn's settings for the desk's web process: ``gunicorn -c python:aftersales.gunicorn_conf``
(the ``Procfile``, so ``make run`` and production alike).

The access log (stdout) says who asked for which path, the answer and how long it took, and
never a query string, a referrer or a cookie: a search's query string holds a phone number, a
nickname or a name, and a referrer repeats the previous page's query string (QUALITY.md
section 8, issue 12 section 5). A path keeps its shape: the desk's route words and numbers
(a mobile number masked), anything else as ``*``. The
error log (stderr) names a failing request's URL: it goes through the same redaction as
Python's logging (``aftersales.logging``).

Every line is stamped in Beijing time (``+0800``): the master sets ``TZ`` to the desk's
``TIME_ZONE`` before it writes its first line, as Django does in each worker when it loads the
settings (the master's start-up lines were stamped ``+0000``, the workers' ``+0800``).

Bind address and worker count stay on the ``Procfile``'s command line (``BIND``/``PORT``,
``WEB_CONCURRENCY``).
"""

import os
import time

from gunicorn.glogging import Logger

from aftersales.logging import RedactPersonalData, handler_redacts, redact, redact_path
from aftersales.observability import JsonFormatter

# settings.TIME_ZONE (a test holds them equal); read here without loading the settings.
TIME_ZONE = "Asia/Shanghai"
os.environ["TZ"] = TIME_ZONE
time.tzset()

accesslog = "-"
# client, time, "METHOD /path PROTOCOL", status, bytes, seconds. No user agent: it is text the
# client writes, which may hold anything.
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)ss'
logger_class = "aftersales.gunicorn_conf.DeskLogger"

# The only atoms a format may use; any other (%(q)s, %(f)s, %({cookie}i)s, %({...}e)s ...)
# is written as "-".
_ATOMS = ("h", "l", "u", "t", "s", "m", "H", "b", "B", "T", "D", "M", "L", "p")


class DeskLogger(Logger):
    """gunicorn's logger with the desk's rule: query strings, referrers, cookies and session
    ids never reach the access or the error log."""

    def setup(self, cfg) -> None:
        """gunicorn's handlers, each with ``RedactPersonalData`` added (also on a reload), and
        with ``LOG_FORMAT=json`` the desk's ``JsonFormatter``."""
        super().setup(cfg)
        as_json = os.environ.get("LOG_FORMAT", "text").strip().lower() == "json"
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not handler_redacts(handler):
                    handler.addFilter(RedactPersonalData())
                if as_json:
                    # LOG_FORMAT=json: gunicorn's lines are JSON objects like the desk's
                    handler.setFormatter(JsonFormatter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        """The values an access-log line may hold: ``r`` and ``U`` carry the path without its
        query string, each segment that is not a route's word or a number masked (``redact_path``)
        and mobile numbers masked; every other atom not in ``_ATOMS`` is left out."""
        everything = super().atoms(resp, req, environ, request_time)
        atoms = {name: everything[name] for name in _ATOMS if name in everything}
        raw = environ.get("RAW_URI") or environ.get("PATH_INFO") or ""
        path = redact(redact_path(raw.split("?", 1)[0].split("#", 1)[0])) or "-"
        atoms["U"] = path
        atoms["r"] = (
            f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}"
        )
        return atoms
