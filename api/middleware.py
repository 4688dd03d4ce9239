"""The API's side of the request pipeline, for paths under ``/api/`` only:

- the language is the request's ``Accept-Language`` (Chinese unless it asks for English): an
  integration has no language cookie, where the pages ignore the header on purpose
  (``aftersales.middleware.ChosenLanguageMiddleware``); the docs page (``DOCS_PATH``) is one
  of those pages and keeps the language chosen on the desk;
- what the pages' middleware would answer with an HTML page is answered here in the API's JSON
  error shape: a NUL character in the query string, a body larger than
  ``DESK_API_MAX_BODY_BYTES`` by its Content-Length, a body that is not JSON, a body sent
  in chunks without a Content-Length (411: the desk reads a body by its length, and would
  read a chunked one as empty);
- every call is recorded (``ApiCall``), refused ones included: the views record theirs; a
  call refused here, and one that ended in a 500, is recorded here, when its bearer token is
  one the desk knows (a call with no token or a wrong one is nobody's).
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from .errors import json_error
from .services import api_call_record
from .tokens import token_find

logger = logging.getLogger(__name__)

PREFIX = "/api/"
# The docs page is a page in the browser (an administrator's session): its language is the
# one chosen on the desk (``ChosenLanguageMiddleware``), its refusal the desk's 403 page.
DOCS_PATH = "/api/v1/docs/"


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
        if request.path_info != DOCS_PATH:
            language = api_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
            translation.activate(language)
            request.LANGUAGE_CODE = language
        started = time.monotonic()
        response = self._refusal(request)
        if response is None:
            response = self.get_response(request)
        if not getattr(request, "_api_call_recorded", False):
            _record(request, response, started)
        return response

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
            chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
            if chunked and not declared:
                return json_error(
                    "length_required",
                    _("请求必须带 Content-Length 头（不支持分块传输）。"),
                    411,
                )
            if declared.isdigit() and int(declared) > limit:
                return json_error(
                    "too_large",
                    _("请求内容超过 %(mb)s MB，请分成几批发送。") % {"mb": limit // (1024 * 1024)},
                    413,
                )
            content_type, *params = request.META.get("CONTENT_TYPE", "").lower().split(";")
            has_body = declared.isdigit() and int(declared) > 0
            if has_body and content_type.strip() != "application/json":
                return json_error(
                    "unsupported_media_type",
                    _("请求内容必须是 JSON（Content-Type: application/json）。"),
                    415,
                )
            # A compressed body or another charset would be read as broken JSON ("invalid
            # JSON" said nothing of why; issue 16 third review 9): said here, plainly.
            encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
            if has_body and encoding not in ("", "identity"):
                return json_error(
                    "unsupported_media_type",
                    _("请求内容不能压缩（Content-Encoding: %(value)s）：请发送未压缩的 JSON。")
                    % {"value": encoding[:20]},
                    415,
                )
            charset = next(
                (
                    p.split("=", 1)[1].strip().strip('"')
                    for p in params
                    if "=" in p and p.split("=", 1)[0].strip() == "charset"
                ),
                "utf-8",
            )
            if has_body and charset.replace("_", "-") not in ("utf-8", "utf8"):
                return json_error(
                    "unsupported_media_type",
                    _("请求内容必须是 UTF-8 编码的 JSON（收到的是 %(value)s）。")
                    % {"value": charset[:20]},
                    415,
                )
        return None


def _record(request, response, started: float) -> None:
    """Records a call the view did not record (refused here, or a 500) for its token, if
    the ``Authorization: Bearer`` token is one the desk knows; else records nothing. A failure
    to record is logged, never turns the answer into another."""
    token = getattr(request, "_api_token", None)
    if token is None:
        header = request.META.get("HTTP_AUTHORIZATION", "").split()
        if len(header) != 2 or header[0].lower() != "bearer":
            return
        try:
            token = token_find(header[1])
        except DatabaseError:
            logger.exception("API call not recorded: the token could not be read")
            return
    if token is None:
        return
    try:
        match = getattr(request, "resolver_match", None) or resolve(request.path_info)
        endpoint = getattr(getattr(match.func, "view_class", None), "endpoint", "")
        endpoint = endpoint or match.url_name or ""
    except Resolver404:
        endpoint = ""
    try:
        api_call_record(
            token=token,
            method=request.method or "",
            endpoint=endpoint or "unknown",
            path=request.path,
            status_code=response.status_code,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    except DatabaseError:
        logger.exception("API call not recorded")
