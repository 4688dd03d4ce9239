"""The request body: JSON only, and never more than ``DESK_API_MAX_BODY_BYTES``."""

import json
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"

    def __init__(self, limit: int):
        super().__init__(
            _("请求内容超过 %(mb)s MB，请分成几批发送。") % {"mb": limit // (1024 * 1024)}
        )


class LimitedJSONParser(parsers.BaseParser):
    """JSON (``application/json``). Not a subclass of DRF's ``JSONParser``, which DRF feeds
    through ``request.body`` and so through Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB:
    a batch of 3,000 orders): this one reads the stream itself and holds it to the API's own
    limit. Reads at most ``DESK_API_MAX_BODY_BYTES`` (a larger body is refused with 413 before it
    is parsed, whatever Content-Length said), strict UTF-8, no NaN or Infinity. A number with
    a fraction is read as a ``Decimal``, never a float (QUALITY.md 13: ``12.30`` stays 12.30)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DESK_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(limit)
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(limit)
        try:
            return json.loads(
                body.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant
            )
        except (ValueError, UnicodeError) as exc:
            raise exceptions.ParseError(_("请求内容不是有效的 JSON（UTF-8）。")) from exc


def _refuse_constant(name: str):
    raise ValueError(name)
