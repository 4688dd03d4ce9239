"""Every date input of the desk takes ISO values (issue 11, section 6): an ``<input type="date">``
shows and sends only ``2026-11-29`` and a datetime-local only ``2026-11-29T14:30``, whatever the
page's language, so a value written in the locale's format (zh-hans: ``2026/11/29``) would show
as empty and block saving. Each form's rendered value is ISO in both languages, and posting the
rendered value back is accepted."""

import re
from datetime import date, datetime

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from finance_exports.forms import SheetFilterForm
from tickets.filters import TicketFilter
from tickets.filters_registers import FollowUpFilter, HandoverFilter
from tickets.forms import PromiseForm, TicketOpenForm
from tickets.forms_registers import HandoverForm, InterventionForm, ReviewForm
from tickets.models import HandoverNote
from tickets.selectors_registers import handover_shift_date
from tickets.views.statistics import StatsForm

pytestmark = pytest.mark.django_db

LANGUAGES = ["zh-hans", "en"]
DAY = date(2026, 11, 29)


def _input(html: str, name: str) -> tuple[str, str]:
    """(type, value) of the ``<input name=...>`` in ``html``."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert tag, f"no input {name}"
    kind = re.search(r'\btype="([^"]*)"', tag.group(0))
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return kind.group(1), value.group(1) if value else ""


def _moment() -> datetime:
    return datetime(2026, 11, 29, 14, 30, tzinfo=timezone.get_current_timezone())


def _forms(user, order):
    """(form class, its keyword arguments, field, initial value, expected type and text)."""
    when = _moment()
    return [
        (TicketOpenForm, {"order": order}, "promise_due_on", DAY, "date", "2026-11-29"),
        (PromiseForm, {}, "due_on", DAY, "date", "2026-11-29"),
        (HandoverForm, {"user": user}, "shift_date", DAY, "date", "2026-11-29"),
        (InterventionForm, {"user": user}, "deadline", when, "datetime-local", "2026-11-29T14:30"),
        (ReviewForm, {"user": user}, "made_at", when, "datetime-local", "2026-11-29T14:30"),
        (StatsForm, {"user": user}, "start", DAY, "date", "2026-11-29"),
        (SheetFilterForm, {}, "month", DAY, "month", "2026-11"),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_date_form_renders_its_initial_value_as_iso(language, agent, order_a):
    for form_class, kwargs, field, initial, kind, text in _forms(agent, order_a):
        with translation.override(language):
            form = form_class(initial={field: initial}, **kwargs)
            rendered = _input(str(form[field]), field)
        assert rendered == (kind, text), (form_class.__name__, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_rendered_value_posted_back_is_the_same_value(language, agent, order_a):
    for form_class, kwargs, field, initial, _kind, _text in _forms(agent, order_a):
        with translation.override(language):
            _type, value = _input(str(form_class(initial={field: initial}, **kwargs)[field]), field)
            form = form_class(data={field: value}, **kwargs)
            form.is_valid()
        assert field not in form.errors, (form_class.__name__, language, form.errors)
        expected = initial.replace(day=1) if form_class is SheetFilterForm else initial
        assert form.cleaned_data[field] == expected, (form_class.__name__, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_date_filters_render_iso_inputs(language, agent):
    request = RequestFactory().get("/")
    request.user = agent
    with translation.override(language):
        tickets = TicketFilter(
            {"created_min": "2026-11-01", "created_max": "2026-11-29", "updated_min": ""},
            request=request,
        )
        handover = HandoverFilter({"created_min": "2026-11-29"}, request=request)
        follow_ups = FollowUpFilter({"month": "2026-11-01"}, request=request)
        tickets_html = str(tickets.form["created"]) + str(tickets.form["updated"])
        handover_html = str(handover.form["created"])
        month_html = str(follow_ups.form["month"])
        assert tickets.is_valid() and handover.is_valid() and follow_ups.is_valid()
    assert _input(tickets_html, "created_min") == ("date", "2026-11-01")
    assert _input(tickets_html, "created_max") == ("date", "2026-11-29")
    assert _input(tickets_html, "updated_min") == ("date", "")
    assert _input(handover_html, "created_min") == ("date", "2026-11-29")
    assert _input(month_html, "month") == ("date", "2026-11-01")


@pytest.mark.parametrize("language", LANGUAGES)
def test_handover_page_default_date_is_iso_and_saves_when_posted_back(
    language, client, agent, shop_a
):
    # given: the new-item page, in the agent's language
    client.force_login(agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("registers:handover_new"))
    kind, value = _input(page.content.decode(), "shift_date")
    assert (kind, value) == ("date", handover_shift_date().isoformat())

    # when: the form is sent with the date it was rendered with
    response = client.post(
        reverse("registers:handover_new"),
        {"shop": shop_a.pk, "shift_date": value, "note": "买家等回电"},
    )

    # then: the item is saved for that night
    assert response.status_code == 302
    assert HandoverNote.objects.get().shift_date == handover_shift_date()


@pytest.mark.parametrize("language", LANGUAGES)
def test_statistics_page_dates_are_iso(language, client, supervisor):
    client.force_login(supervisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("registers:statistics")).content.decode()
    today = timezone.localdate().isoformat()
    assert _input(html, "end") == ("date", today)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", _input(html, "start")[1])


@pytest.mark.parametrize("language", LANGUAGES)
def test_only_iso_is_read_so_a_link_means_one_day_in_both_languages(language, agent, order_a):
    # given dates written in either locale's own format (zh-hans 2026/11/29, en 11/29/2026)
    local = ["2026/11/29", "11/29/2026", "29.11.2026", "2026-11-29 14:30", "2026-11-1", "2026-1-09"]
    request = RequestFactory().get("/")
    request.user = agent
    with translation.override(language):
        for written in local:
            # then no form or filter reads them: a filter the date input shows as empty never
            # filters, and a shared link never means another day in the other language
            for form_class, kwargs, field, _i, kind, _t in _forms(agent, order_a):
                if kind == "month" or (kind == "datetime-local" and " " in written):
                    continue  # ISO's own space-separated form is ISO
                form = form_class(data={field: written}, **kwargs)
                form.is_valid()
                assert field in form.errors, (form_class.__name__, written)
            tickets = TicketFilter({"created_max": written}, request=request)
            assert not tickets.is_valid(), written
            handover = HandoverFilter({"created_min": written}, request=request)
            assert not handover.is_valid(), written
            assert not FollowUpFilter({"month": written}, request=request).is_valid(), written
        # and the browser's own values still are
        assert TicketFilter({"created_max": "2026-11-29"}, request=request).is_valid()
        form = ReviewForm(data={"made_at": "2026-11-29T14:30:05"}, user=agent)
        form.is_valid()
        assert "made_at" not in form.errors
        # but an offset, a week date or a bare date is no local minute
        for written in ("2026-11-10T10:00Z", "2026-11-10T10:00+14:00", "2026-W46-2T10:00",
                        "2026-11-10", "20261110T1000"):  # fmt: skip
            form = ReviewForm(data={"made_at": written}, user=agent)
            form.is_valid()
            assert "made_at" in form.errors, written


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_list_page_says_a_non_iso_date_is_not_a_date(language, client, agent):
    client.force_login(agent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("tickets:ticket_list"), {"created_max": "2026/11/10"})
    assert page.status_code == 200
    assert _input(page.content.decode(), "created_max")[0] == "date"
    assert page.context["filter"].form.errors
