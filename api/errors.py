"""One JSON shape for every error the API answers, with the messages the browser shows, in the
request's language (Chinese unless ``Accept-Language: en``):

    {"error": {"code": "invalid", "message": "…", "details": [{"record": "orders[2]",
               "field": "paid_amount", "message": "…"}], "error_count": 1}}

``code`` is stable for programs (``ERROR_CODES``); ``message`` is for people; ``details``
names every bad record or field (the first 200 of a batch, ``error_count`` all of them).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from tickets.imports.report import KEEP_PROBLEMS
from tickets.services import DeskError

# code -> HTTP status, for the schema and the README.
ERROR_CODES = {
    "invalid": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "conflict": 409,
    "length_required": 411,
    "too_large": 413,
    "unsupported_media_type": 415,
    "refused": 422,
    "throttled": 429,
    "server_error": 500,
    "unavailable": 503,
}


class BatchRefused(exceptions.APIException):
    """A batch with a bad record: nothing was imported; ``details`` names each one."""

    status_code = 422
    default_code = "refused"

    def __init__(self, message: str, details: list[dict], error_count: int):
        super().__init__(message)
        self.details, self.error_count = details, error_count


class RecordsInvalid(exceptions.APIException):
    """Records not of the documented shape (a 400): ``details`` names each (the first 200),
    ``error_count`` counts them all."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, details: list[dict], error_count: int | None = None):
        super().__init__(_("请求内容有误，请按下面的说明修改。"))
        self.details = details[:KEEP_PROBLEMS]
        self.error_count = len(details) if error_count is None else error_count


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "conflict"


class StoreUnavailable(exceptions.APIException):
    """The file store failed while a stored file was being read (issue 15): a 503 with
    ``Retry-After``; nothing was sent and nothing recorded."""

    status_code = 503
    default_code = "unavailable"


def error_body(code: str, message: str, details: list | None = None, **extra) -> dict:
    """The error shape; ``error_count`` is in every answer (``len(details)`` unless a batch
    says how many problems it had past the 200 kept)."""
    error = {
        "code": code,
        "message": str(message),
        "details": details or [],
        "error_count": len(details or []),
    }
    error.update(extra)
    return {"error": error}


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested validation errors as a flat list of {field, message}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            out += _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return out
    if isinstance(detail, list):
        if all(not isinstance(v, (dict, list)) for v in detail):
            return [{"field": prefix, "message": str(v)} for v in detail]
        out = []
        for index, value in enumerate(detail):
            out += _flatten(value, f"{prefix}[{index}]")
        return out
    return [{"field": prefix, "message": str(detail)}]


def exception_handler(exc, context):
    """DRF's exception handler, answering in the shape above. A ``DeskError`` (a service's
    refusal) is a 422 with its message; Django's 404 and PermissionDenied are mapped as DRF
    maps them. Anything else is left to Django (a 500, logged)."""
    headers = {}
    if isinstance(exc, DeskError):
        return Response(error_body("refused", exc.message), status=422)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("没有找到，或不在这个令牌可以访问的店铺里。"))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        body = error_body(
            "throttled",
            _("请求太频繁，请 %(n)s 秒后再试。") % {"n": wait},
            retry_after=wait,
        )
        return Response(body, status=429, headers=headers)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        request = context.get("request")
        # The authenticator that read the request, else the view's first one that has a
        # challenge: a signed-in session (SessionAuthentication has none) gets the token's.
        authenticators = [getattr(request, "_authenticator", None)]
        authenticators += list(getattr(request, "authenticators", None) or ())
        for authenticator in authenticators:
            challenge = authenticator and authenticator.authenticate_header(request)
            if challenge:
                headers["WWW-Authenticate"] = challenge
                break
        return Response(error_body("unauthenticated", exc.detail), status=401, headers=headers)
    if isinstance(exc, BatchRefused):
        body = error_body(
            "refused",
            exc.detail,
            exc.details,
            error_count=exc.error_count,
        )
        return Response(body, status=422)
    if isinstance(exc, StoreUnavailable):
        return Response(
            error_body("unavailable", exc.detail), status=503, headers={"Retry-After": "60"}
        )
    if isinstance(exc, RecordsInvalid):
        body = error_body("invalid", exc.detail, exc.details, error_count=exc.error_count)
        return Response(body, status=400)
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        return Response(
            error_body("invalid", _("请求内容有误，请按下面的说明修改。"), details), status=400
        )
    code = {
        status.HTTP_400_BAD_REQUEST: "invalid",
        status.HTTP_403_FORBIDDEN: "forbidden",
        status.HTTP_404_NOT_FOUND: "not_found",
        status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
        status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
        status.HTTP_409_CONFLICT: "conflict",
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "too_large",
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    }.get(exc.status_code, "invalid")
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        return Response(
            error_body(code, _("请求内容有误，请按下面的说明修改。"), _flatten(detail)),
            status=exc.status_code,
        )
    if code == "method_not_allowed":
        headers["Allow"] = ", ".join(context["view"].allowed_methods)
    return Response(error_body(code, detail), status=exc.status_code, headers=headers)


def json_error(code: str, message: str, status_code: int, **headers) -> JsonResponse:
    """The same shape from outside DRF (the middleware, an unknown path under /api/)."""
    response = JsonResponse(error_body(code, message), status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response
