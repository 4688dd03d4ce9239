"""Cursor pagination without a count (issue 16: "cursor pagination, no count"), by keyset: a
page is the rows after the last one of the previous page in the list's own order (its sort
keys ending in the id), so a page costs the same at the millionth row as at the first and a
row added meanwhile is neither skipped nor shown twice.

The cursor is opaque to the client (URL-safe Base64 of the last row's keys); a hand-made one
only moves within what the token may read anyway, and one that can't be read is a 400.
"""

import base64
import binascii
import json
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

MAX_PAGE_SIZE = 200


def _encode(values: list) -> str:
    parts = []
    for value in values:
        if isinstance(value, datetime):
            parts.append(["dt", value.isoformat()])
        elif isinstance(value, date):
            parts.append(["d", value.isoformat()])
        else:
            parts.append(["i", int(value)])
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


# The years a cursor's time or date may be in: every row of the desk's is well inside, and a
# time at year 1 with a +23:59 offset is before the first instant the database can hold.
CURSOR_YEARS = range(1900, 3000)
MAX_CURSOR = 1000


def key_tags(model, keys: tuple[str, ...]) -> list[str]:
    """The cursor tag each of ``keys`` must carry, from the model's field: "dt" for a
    ``DateTimeField``, "d" for a ``DateField``, "i" for anything else (the ids)."""
    tags = []
    for key in keys:
        field = model._meta.get_field(key.lstrip("-"))
        if isinstance(field, models.DateTimeField):
            tags.append("dt")
        elif isinstance(field, models.DateField):
            tags.append("d")
        else:
            tags.append("i")
    return tags


def _decode(cursor: str, tags: list[str]) -> list:
    """The values of a cursor made by ``_encode`` for keys whose tags are ``tags``
    (``key_tags``). Raises ``ValidationError`` on ``cursor`` for anything else, whatever it
    holds: not Base64 of JSON, too long (over ``MAX_CURSOR`` characters), nested, the wrong
    number of values, a value whose tag is not its key's, a time without a zone, a year
    outside ``CURSOR_YEARS``, an id out of a bigint's range."""
    bad = exceptions.ValidationError({"cursor": [_("翻页游标无效，请从第一页重新开始。")]})
    if len(cursor) > MAX_CURSOR:
        raise bad
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error, RecursionError):
        raise bad from None
    if not isinstance(parts, list) or len(parts) != len(tags):
        raise bad
    values = []
    for part, expected in zip(parts, tags, strict=True):
        if not (isinstance(part, list) and len(part) == 2) or part[0] != expected:
            raise bad
        tag, raw = part
        try:
            if tag == "dt" and isinstance(raw, str):
                value = datetime.fromisoformat(raw)
                if value.tzinfo is None or value.year not in CURSOR_YEARS:
                    raise ValueError(raw)
                value.astimezone(UTC)  # an offset that leaves the range raises here
            elif tag == "d" and isinstance(raw, str):
                value = date.fromisoformat(raw)
                if value.year not in CURSOR_YEARS:
                    raise ValueError(raw)
            elif tag == "i" and isinstance(raw, int) and not isinstance(raw, bool):
                if not 0 <= raw < 2**63:
                    raise ValueError(raw)
                value = raw
            else:
                raise ValueError(tag)
        except (ValueError, OverflowError, TypeError):
            raise bad from None
        values.append(value)
    return values


def after(keys: tuple[str, ...], values: list) -> Q:
    """Rows after ``values`` in the order ``keys`` (``"-created_at", "-id"``): the keyset
    condition (a > x) or (a = x and b > y) ..., with < for a descending key."""
    condition = Q(pk__in=[])
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        name = key.lstrip("-")
        lookup = "lt" if key.startswith("-") else "gt"
        condition |= equal & Q(**{f"{name}__{lookup}": value})
        equal &= Q(**{name: value})
    return condition


class KeysetPagination(BasePagination):
    """Pages of ``page_size`` (``DESK_API_PAGE_SIZE``, at most 200) rows in the order ``keys``
    that the view gives (``paginate(queryset, request, keys)``): the queryset must already be
    sorted by them."""

    page_size_param = "page_size"

    def paginate(self, queryset: QuerySet, request, keys: tuple[str, ...]) -> list:
        self.request, self.keys = request, keys
        size = request.query_params.get(self.page_size_param) or settings.DESK_API_PAGE_SIZE
        try:
            size = int(size)
        except (TypeError, ValueError):
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError(
                {"page_size": [_("每页条数必须在 1 到 %(n)s 之间。") % {"n": MAX_PAGE_SIZE}]}
            )
        cursor = request.query_params.get("cursor")
        if cursor:
            tags = key_tags(queryset.model, keys)
            queryset = queryset.filter(after(keys, _decode(cursor, tags)))
        rows = list(queryset[: size + 1])
        self.next_cursor = None
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            self.next_cursor = _encode([getattr(last, key.lstrip("-")) for key in keys])
        return rows

    def next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), "cursor", self.next_cursor)

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.next_link()})

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "From the previous page's `next`; leave out for the first page.",
                "schema": {"type": "string", "maxLength": 1000},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1-{MAX_PAGE_SIZE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


# The paging parameters for the schema of a view that pages with ``paginate`` itself (not a
# list action, so drf-spectacular does not add them).
PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        description="From the previous page's `next`; leave out for the first page. Opaque: "
        "one that was not made by the API is refused (400, `invalid` on `cursor`).",
    ),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description=f"Rows per page, 1-{MAX_PAGE_SIZE} (default 50).",
    ),
]
