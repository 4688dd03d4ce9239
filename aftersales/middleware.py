"""The desk's own middleware: the language (Simplified Chinese unless the user chose another on
purpose), the NUL guard, the page for a request with the wrong method, and the health probes
answered whatever the Host."""

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import QueryDict
from django.middleware.locale import LocaleMiddleware
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from .error_views import bad_input, method_not_allowed


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Like Django's LocaleMiddleware, but the browser's Accept-Language is not consulted:
    the desk speaks zh-hans until the user picks English with the language switch (cookie)."""

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = dict(settings.LANGUAGES)
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class RefuseNulMiddleware:
    """A form the desk cannot read is refused with the 400 page and a message before it reaches
    a view:

    - a NUL character in a query string or a form: PostgreSQL can't store or compare text
      holding NUL, so it would otherwise be a server error wherever the value meets the
      database (a search, a filter, a scan);
    - a form posted in another character set than UTF-8 (``Content-Type: ...; charset=gbk``,
      from a script or an old tool): Django refuses to read it (``BadRequest``) without
      marking the form as unreadable, so every later reader, the error page's CSRF check
      included, raised again and the user saw a bare 500; a multipart form naming a charset
      that is no text encoding (``rot13``, ``hex``) raised ``LookupError`` the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            posted_nul = request.method == "POST" and _holds_nul(request.POST)
        except (BadRequest, LookupError, UnicodeError):
            # LookupError/UnicodeError: a multipart form naming a charset Python has no text
            # codec for (charset=rot13, hex, idna ...).
            request._post, request._files = QueryDict(), MultiValueDict()
            return bad_input(
                request,
                _(
                    "提交的内容不是 UTF-8 编码，工作台无法读取，什么都没有改变。"
                    "请在浏览器里重新提交。"
                ),
            )
        if posted_nul or _holds_nul(request.GET):
            return bad_input(
                request, _("提交的内容里有无法处理的控制字符（NUL），请检查后重新输入。")
            )
        return self.get_response(request)


def _holds_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


class MethodNotAllowedPageMiddleware:
    """Django's 405 (``require_POST`` and friends) has an empty body: a bookmarked or
    typed address of a button's action (``/tickets/5/close/``) showed a blank page. It is
    answered with the desk's 405 page instead, the ``Allow`` header kept; a 405 that already
    has a body is left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.content:
            return response
        page = method_not_allowed(request)
        if response.has_header("Allow"):
            page["Allow"] = response["Allow"]
        return page


# The load balancer's and the monitors' probes (tickets/views/system.py), by URL name.
HEALTH_PROBES = frozenset({"healthz", "healthz_web", "readyz"})


class HealthProbeMiddleware:
    """Answers ``/healthz``, ``/healthz/web`` and ``/readyz`` whatever the request's Host.

    A load balancer probes each node by its address (``http://10.0.3.7:8000/healthz/web``) and
    compose's health checks by the service's name (``web-1``): neither is in ``ALLOWED_HOSTS``,
    so ``CommonMiddleware``'s ``request.get_host()`` refused every probe with 400 and the node
    looked down for good. Placed before ``CommonMiddleware``, this calls the probe's view
    itself, never asking for the host; the middleware above it (request id, security headers,
    the content policy) still apply. Safe because the probes need no login, change nothing and
    say no more than ``ok``/``unavailable`` per part; every other path goes on as before, its
    Host checked."""

    def __init__(self, get_response):
        self.get_response = get_response
        # The probes' paths per URLconf (None: ROOT_URLCONF), so every other request is let
        # through at the cost of a set lookup, not a second URL resolution.
        self.paths: dict[str | None, frozenset[str]] = {}

    def _probe_paths(self, urlconf: str | None) -> frozenset[str]:
        if urlconf not in self.paths:
            found = set()
            for name in HEALTH_PROBES:
                try:
                    # as path_info has it: without the script prefix (a desk under /desk/)
                    url = reverse(name, urlconf=urlconf)
                    found.add("/" + url.removeprefix(get_script_prefix()))
                except NoReverseMatch:
                    continue
            self.paths[urlconf] = frozenset(found)
        return self.paths[urlconf]

    def __call__(self, request):
        urlconf = getattr(request, "urlconf", None)
        if request.path_info not in self._probe_paths(urlconf):
            return self.get_response(request)
        try:
            match = resolve(request.path_info, urlconf)
        except Resolver404:
            return self.get_response(request)
        return match.func(request, *match.args, **match.kwargs)
