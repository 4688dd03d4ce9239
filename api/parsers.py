"""The request body: JSON only, and never more than ``DESK_API_MAX_BODY_BYTES``."""

import json
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

from tickets.imports.reading import UNSTORABLE

# The deepest nesting a body may have: a batch is 4 deep ({"orders": [{"items": [{…}]}]});
# a body nested deeper is no request of the API's, and nesting is what the decoder (and any
# code walking the data) pays for with recursion.
MAX_DEPTH = 20


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
    a fraction is read as a ``Decimal``, never a float (QUALITY.md 13: ``12.30`` stays 12.30).
    Refused with 400 (``ParseError``): what is not JSON, a body nested deeper than
    ``MAX_DEPTH`` (however deep: the decoder's RecursionError is caught too), and an object
    with the same key twice (``{"shop": "a", "shop": "b"}``: which one was meant?)."""

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
        too_deep = exceptions.ParseError(
            _("请求内容的嵌套超过 %(n)s 层，不是这个接口的格式。") % {"n": MAX_DEPTH}
        )
        try:
            data = json.loads(
                body.decode("utf-8"),
                parse_float=Decimal,
                parse_constant=_refuse_constant,
                object_pairs_hook=_unique_keys,
            )
        except DuplicateKey as exc:
            raise exceptions.ParseError(
                _("请求内容里的字段“%(key)s”在同一个对象里出现了不止一次。")
                % {"key": UNSTORABLE.sub("", exc.key[:120])[:60]}
            ) from None
        except RecursionError:
            raise too_deep from None
        except (ValueError, UnicodeError) as exc:
            raise exceptions.ParseError(_("请求内容不是有效的 JSON（UTF-8）。")) from exc
        if nesting_deeper_than(data, MAX_DEPTH):
            raise too_deep
        return data


class DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _refuse_constant(name: str):
    raise ValueError(name)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object's pairs as a dict; raises ``DuplicateKey`` naming a key given twice."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen = set()
        for key, _value in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return data


def nesting_deeper_than(data, limit: int) -> bool:
    """Whether ``data`` (decoded JSON) has lists or objects nested more than ``limit`` deep
    (a scalar is 0 deep, ``[]`` 1, ``[{}]`` 2). Walks every list and object once, without
    recursion."""
    stack = [(data, 1)] if isinstance(data, (list, dict)) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, (list, dict)))
    return False
