"""Idle sessions (aftersales.sessions): the expiry moves on with the requests, at most once
every SESSION_TOUCH_SECONDS, so a read-only page does not write to the database."""

import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales import sessions
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _session_writes(captured) -> int:
    return sum(
        1
        for query in captured.captured_queries
        if "django_session" in query["sql"] and not query["sql"].lstrip().startswith("SELECT")
    )


def _expiry(client):
    return Session.objects.get(
        session_key=client.cookies[settings.SESSION_COOKIE_NAME].value
    ).expire_date


def test_a_page_within_the_minute_does_not_write_the_session(client):
    client.force_login(make_user("agent"))
    client.get(reverse("tickets:ticket_list"))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("tickets:ticket_list"))
    assert response.status_code == 200
    assert _session_writes(captured) == 0
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_after_the_touch_interval_the_expiry_moves_on(client, monkeypatch):
    client.force_login(make_user("agent"))
    client.get(reverse("tickets:ticket_list"))
    before = _expiry(client)
    later = time.time() + settings.SESSION_TOUCH_SECONDS + 1
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    time.sleep(0.01)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("tickets:ticket_list"))
    assert _session_writes(captured) == 1
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    assert _expiry(client) > before
    # and not again within the next minute
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("tickets:ticket_list"))
    assert _session_writes(captured) == 0


def test_a_session_idle_past_its_age_is_logged_out(client):
    client.force_login(make_user("agent"))
    assert client.get(reverse("tickets:ticket_list")).status_code == 200
    Session.objects.all().update(expire_date=Session.objects.get().expire_date.replace(year=2000))
    response = client.get(reverse("tickets:ticket_list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_anonymous_visitors_get_no_session(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert not Session.objects.exists()
