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
from datetime import date, datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
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


def _decode(cursor: str, count: int) -> list:
    bad = exceptions.ValidationError({"cursor": [_("翻页游标无效，请从第一页重新开始。")]})
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise bad from None
    if not isinstance(parts, list) or len(parts) != count:
        raise bad
    values = []
    for part in parts:
        if not (isinstance(part, list) and len(part) == 2):
            raise bad
        tag, raw = part
        try:
            if tag == "dt" and isinstance(raw, str):
                value = datetime.fromisoformat(raw)
                if value.tzinfo is None:
                    raise ValueError(raw)
            elif tag == "d" and isinstance(raw, str):
                value = date.fromisoformat(raw)
            elif tag == "i" and isinstance(raw, int) and not isinstance(raw, bool):
                if not 0 <= raw < 2**63:
                    raise ValueError(raw)
                value = raw
            else:
                raise ValueError(tag)
        except (ValueError, OverflowError):
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
            queryset = queryset.filter(after(keys, _decode(cursor, len(keys))))
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
