"""The ticket list's rows are written in Python (``tickets.templatetags.desk_rows``): its
times read exactly as the ``date`` filter of a template writes them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation
from django.utils.timezone import template_localtime

from tickets.templatetags.desk_rows import _DIGITS_ONLY, _when


@pytest.mark.parametrize("fmt", sorted(_DIGITS_ONLY))
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_write_times_as_the_date_filter_does(fmt, language):
    start = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)  # 2027-01-01 in Beijing
    moments = [start + timedelta(minutes=97 * n) for n in range(200)]
    with translation.override(language), timezone.override("Asia/Shanghai"):
        for moment in moments:
            assert _when(moment, fmt) == date_filter(template_localtime(moment), fmt)
    assert _when(None, fmt) == ""
