"""The API's side of the request pipeline, for paths under ``/api/`` only:

- the language is the request's ``Accept-Language`` (Chinese unless it asks for English): an
  integration has no language cookie, where the pages ignore the header on purpose
  (``aftersales.middleware.ChosenLanguageMiddleware``);
- what the pages' middleware would answer with an HTML page is answered here in the API's JSON
  error shape: a NUL character in the query string, a body larger than
  ``DESK_API_MAX_BODY_BYTES`` by its Content-Length, a body that is not JSON.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from .errors import json_error

PREFIX = "/api/"


def api_language(header: str) -> str:
    """The first language of an ``Accept-Language`` header the desk speaks ('en', 'en-US' ->
    'en'; 'zh-CN' -> 'zh-hans'), else the desk's default."""
    for code, _quality in parse_accept_lang_header(header or ""):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class ApiRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        language = api_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        translation.activate(language)
        request.LANGUAGE_CODE = language
        refused = self._refusal(request)
        if refused is not None:
            return refused
        return self.get_response(request)

    def _refusal(self, request):
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get(
            "QUERY_STRING", ""
        ):
            return json_error(
                "invalid",
                _("提交的内容里有无法处理的控制字符（NUL），请检查后重新输入。"),
                400,
            )
        if request.method in ("POST", "PUT", "PATCH"):
            limit = settings.DESK_API_MAX_BODY_BYTES
            declared = request.META.get("CONTENT_LENGTH") or ""
            if declared.isdigit() and int(declared) > limit:
                return json_error(
                    "too_large",
                    _("请求内容超过 %(mb)s MB，请分成几批发送。") % {"mb": limit // (1024 * 1024)},
                    413,
                )
            content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
            has_body = declared.isdigit() and int(declared) > 0
            if has_body and content_type != "application/json":
                return json_error(
                    "unsupported_media_type",
                    _("请求内容必须是 JSON（Content-Type: application/json）。"),
                    415,
                )
        return None
