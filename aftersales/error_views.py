"""The desk's error pages: 400, 403, 404, 405, 500 and a form refused for its CSRF token.

Each is drawn in the desk's own layout (templates/errors/), in the user's language (the
language middleware has already run), with a way back: the page the user came from when the
browser says it was one of the desk's own, and the dashboard (or the login page).

Drawing an error page must not fail in turn. A page is first drawn in full, with the request's
context (the top bar for a signed-in user needs the session, the user and their roles, so the
database); if that raises, it is drawn again from the same template with no request at all,
and if even that raises (a template or the static manifest is broken), a few lines of plain
HTML are sent. The status code is the same on every path (issue 12 §6; QUALITY.md "no input
gives a 500" - and when something does, the agent still sees a page that says what to do).

Under ``/api/`` there is no page: a program reads the answer, so each of these is the API's
JSON error shape (``api.errors``, issue 16: "errors in one documented JSON shape") with the
same status.
"""

import json
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.template import loader
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)


API_PREFIX = "/api/"


def _api_error(request: HttpRequest, code: str, status: int) -> HttpResponse | None:
    """The API's JSON error (``{"error": {"code", "message", "details": []}}``) with
    ``status`` for a request under ``/api/``, else None (the caller draws the page)."""
    try:
        path = request.path_info or ""
    except Exception:
        return None
    if not path.startswith(API_PREFIX):
        return None
    from api.errors import json_error

    messages = {
        "invalid": _("请求无法处理，请检查请求的地址、参数和请求头。"),
        "forbidden": _("没有权限。"),
        "not_found": _("没有这个接口。"),
        "server_error": _("系统出错了，请稍后再试；如果一直这样，请告诉管理员出错的时间。"),
    }
    try:
        return json_error(code, messages[code], status)
    except Exception:  # never fail in turn: the same shape by hand
        logger.exception("API error %s written without translation", status)
        return HttpResponse(
            json.dumps({"error": {"code": code, "message": "", "details": [], "error_count": 0}}),
            status=status,
            content_type="application/json",
        )


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a request the desk cannot read (a ``SuspiciousOperation`` such as an
    unknown ``Host``, a broken upload, too many query parameters). Takes the request and the
    exception (its text is technical, never shown); returns the page with status 400 (the
    API's JSON ``invalid`` under /api/). Never raises."""
    return _api_error(request, "invalid", 400) or error_page(request, "errors/400.html", status=400)


def bad_input(request: HttpRequest, detail: str) -> HttpResponse:
    """A 400 page for input the desk refuses before any view (the NUL guard in
    aftersales/middleware.py), saying ``detail`` (a translated sentence) above the general
    advice. Returns status 400."""
    return error_page(request, "errors/400.html", status=400, context={"detail": detail})


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``: the user's roles do not open this page (an agent on a supervisor's
    page). The exception's text is a permission code, never shown. Returns status 403 (the
    API's JSON ``forbidden`` under /api/)."""
    return _api_error(request, "forbidden", 403) or error_page(
        request, "errors/403.html", status=403
    )


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: no such address, or a record outside the user's shops (the desk answers
    those with 404 too, QUALITY.md 1). Returns status 404 showing the path asked for (the
    API's JSON ``not_found`` under /api/)."""
    api = _api_error(request, "not_found", 404)
    if api is not None:
        return api
    return error_page(
        request, "errors/404.html", status=404, context={"request_path": request.path}
    )


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    """A request with a method the address does not take: usually a button's action opened as
    a link (a bookmark, a typed address, the browser's history). Returns status 405; the
    caller (``MethodNotAllowedPageMiddleware``) copies the ``Allow`` header."""
    return error_page(request, "errors/405.html", status=405)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an error in the desk itself. Returns status 500 whatever else is broken
    (the database, a context processor, a template): see the module's docstring. Under
    /api/, the API's JSON ``server_error``."""
    return _api_error(request, "server_error", 500) or error_page(
        request, "errors/500.html", status=500
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a POST refused because its form's security token is missing or
    stale (the page was open across a login, or the browser keeps no cookies). ``reason`` is
    Django's technical reason (English, never shown); when it is the missing cookie, the page
    asks the user to allow cookies. Returns status 403; nothing was changed. Under /api/ (a
    view that forgot ``csrf_exempt``), the API's JSON ``forbidden``."""
    api = _api_error(request, "forbidden", 403)
    if api is not None:
        return api
    return error_page(
        request,
        "errors/csrf.html",
        status=403,
        context={"no_cookie": reason == REASON_NO_CSRF_COOKIE},
    )


def error_page(
    request: HttpRequest, template_name: str, *, status: int, context: dict | None = None
) -> HttpResponse:
    """Draws ``template_name`` (one of templates/errors/; the lockout page may use it too)
    with ``status``, adding ``back_url`` (a path on the desk, or None) to ``context``. Falls
    back to the template without the request, then to plain HTML, so it never raises."""
    context = {**(context or {}), "back_url": _back_url(request)}
    if not hasattr(request, "user") and hasattr(request, "session"):
        # Refused before the authentication middleware ran (an unknown Host, a NUL in a
        # form): the signed-in user still gets the top bar.
        request.user = SimpleLazyObject(lambda: get_user(request))
    try:
        return HttpResponse(loader.render_to_string(template_name, context, request), status=status)
    except Exception:
        logger.warning("Error page %s drawn without the request's context", status, exc_info=True)
    try:
        plain = {**context, "plain": True}
        return HttpResponse(loader.render_to_string(template_name, plain), status=status)
    except Exception:
        logger.exception("Error page %s drawn as plain HTML", status)
    return HttpResponse(_plain_html(status), status=status)


def _back_url(request: HttpRequest) -> str | None:
    """The page the user came from (``Referer``) as a path on this desk, or None when the
    browser sent none, it is another site, or it is the very page that failed."""
    try:
        referer = request.META.get("HTTP_REFERER", "")
        if not referer or not url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return None
        parts = urlsplit(referer)
    except Exception:  # an unknown Host (the 400 page itself) or a malformed header
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    if parts.path == request.path and request.method == "GET":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _plain_html(status: int) -> str:
    """The last resort: the page in a few lines, no template, no stylesheet."""
    headings = {
        400: _("请求无法处理"),
        403: _("没有权限打开这个页面"),
        404: _("找不到这个页面"),
        500: _("系统出错了"),
    }
    heading = headings.get(status, _("系统出错了"))
    advice = _("请回到上一页再试一次；如果一直这样，请告诉主管出错的时间和刚才的操作。")
    home = _("回到我的工作")
    return (
        f'<!doctype html><html lang="{escape(get_language() or settings.LANGUAGE_CODE)}">'
        f'<head><meta charset="utf-8"><title>{escape(heading)}</title></head>'
        f"<body><h1>{escape(heading)}</h1><p>{escape(advice)}</p>"
        f'<p><a href="/">{escape(home)}</a></p></body></html>'
    )
