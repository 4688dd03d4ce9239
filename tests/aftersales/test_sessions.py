"""Idle sessions (aftersales.sessions): the expiry moves on with the requests, at most once
every SESSION_TOUCH_SECONDS, so a read-only page does not write to the database."""

import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales import sessions
from tests.factories import make_user

pytestmark = pytest.mark.django_db

# With REDIS_URL the sessions have a copy in the cache (aftersales.sessions.SessionStore).
CACHED = settings.SESSION_ENGINE == "aftersales.sessions"
only_cached = pytest.mark.skipif(not CACHED, reason="sessions are cached only with REDIS_URL")


def _cache_key(client) -> str:
    return (
        sessions.SessionStore.cache_key_prefix + client.cookies[settings.SESSION_COOKIE_NAME].value
    )


def _page(client):
    return client.get(reverse("tickets:notification_list"))


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
    # With Redis the session's copy in the cache ends at the same moment (its time to live is
    # the session's age: test_the_cached_copy_lives_as_long_as_the_session); Redis drops it.
    if CACHED:
        cache.delete(_cache_key(client))
    response = client.get(reverse("tickets:ticket_list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_anonymous_visitors_get_no_session(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert not Session.objects.exists()


def test_after_logout_the_old_cookie_opens_nothing(client):
    # given a logged-in agent who has opened a page
    client.force_login(make_user("agent"))
    assert _page(client).status_code == 200
    old = client.cookies[settings.SESSION_COOKIE_NAME].value
    # when they log out and someone sends the old cookie again
    client.post(reverse("logout"))
    client.cookies[settings.SESSION_COOKIE_NAME] = old
    response = _page(client)
    # then it is the login page, and neither the row nor a copy is left
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert not Session.objects.filter(session_key=old).exists()
    assert cache.get(sessions.SessionStore.cache_key_prefix + old) is None


def test_a_new_password_logs_out_the_other_sessions(client):
    agent = make_user("agent")
    other = type(client)()
    client.force_login(agent)
    other.force_login(agent)
    assert _page(client).status_code == 200
    assert _page(other).status_code == 200
    # the password changed (by an administrator, or the agent elsewhere)
    user = get_user_model().objects.get(pk=agent.pk)
    user.set_password("another-pw-for-tests-2")
    user.save()
    for each in (client, other):
        response = _page(each)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


@only_cached
def test_a_page_reads_the_session_from_the_cache_not_the_table(client):
    client.force_login(make_user("agent"))
    _page(client)
    with CaptureQueriesContext(connection) as captured:
        assert _page(client).status_code == 200
    assert not [q for q in captured.captured_queries if "django_session" in q["sql"]]


@only_cached
def test_the_cached_copy_lives_as_long_as_the_session(client, monkeypatch):
    client.force_login(make_user("agent"))
    _page(client)
    redis = cache._cache.get_client(write=False)
    ttl = redis.ttl(cache.make_and_validate_key(_cache_key(client)))
    assert settings.SESSION_COOKIE_AGE - 10 < ttl <= settings.SESSION_COOKIE_AGE
    # the idle touch a minute later gives the copy the session's whole age again
    redis.expire(cache.make_and_validate_key(_cache_key(client)), 100)
    later = time.time() + settings.SESSION_TOUCH_SECONDS + 1
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    _page(client)
    ttl = redis.ttl(cache.make_and_validate_key(_cache_key(client)))
    assert settings.SESSION_COOKIE_AGE - 10 < ttl <= settings.SESSION_COOKIE_AGE


@only_cached
def test_a_copy_lost_is_read_from_the_table_again(client):
    client.force_login(make_user("agent"))
    _page(client)
    cache.delete(_cache_key(client))  # Redis emptied or restarted
    assert _page(client).status_code == 200
    assert cache.get(_cache_key(client)) is not None


@only_cached
def test_while_redis_cannot_be_reached_pages_are_served_from_the_table(client, monkeypatch):
    client.force_login(make_user("agent"))
    _page(client)

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", unreachable)
    monkeypatch.setattr(cache, "set", unreachable)
    response = _page(client)
    assert response.status_code == 200
    assert response.context["user"].username == "agent"
