"""Refused tokens are limited per address and recorded (issue 16 leftovers 5): calls with a
wrong, unknown or revoked token used to be neither throttled (the limit was per token) nor
recorded (nobody's token). Now every refusal is counted per caller's address and answered
429 in the API's JSON shape past DESK_API_REFUSED_RATE, and recorded as a call with the
address, the path and the reason - never the token's text."""

import pytest
from django.test import override_settings

from api.models import ApiCall, ApiToken
from api.throttling import RefusedTokenThrottle, TokenRateThrottle
from api.tokens import token_revoke

from .conftest import ApiClient, issue

pytestmark = pytest.mark.django_db
TICKETS = "/api/v1/tickets/"
WRONG = "dsk_" + "A" * 43


@pytest.fixture
def refused_rate(monkeypatch):
    rates = {**TokenRateThrottle.THROTTLE_RATES, "api_refused": "3/min"}
    monkeypatch.setattr(RefusedTokenThrottle, "THROTTLE_RATES", rates)


def test_many_bad_token_calls_get_429_in_the_json_shape(refused_rate):
    client = ApiClient(WRONG)
    answers = [client.get(TICKETS, HTTP_ACCEPT_LANGUAGE="en") for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    throttled = answers[3]
    assert throttled["Content-Type"] == "application/json"
    error = throttled.json()["error"]
    assert error["code"] == "throttled" and error["details"] == []
    assert 0 < error["retry_after"] <= 60 and throttled["Retry-After"] == str(error["retry_after"])
    assert "seconds" in error["message"]


def test_refused_calls_are_recorded_with_address_path_and_reason_never_the_token(
    refused_rate, root, erp_user, shop_a
):
    # given: an unknown token, a malformed header, and a revoked token the desk knows
    revoked_text = issue(root, erp_user, ["tickets:read"], shops=[shop_a])
    token = ApiToken.objects.get()
    token_revoke(actor=root, token=token)
    ApiClient(WRONG).get(TICKETS, REMOTE_ADDR="203.0.113.7")
    ApiClient().get(TICKETS, HTTP_AUTHORIZATION="Bearer a b", REMOTE_ADDR="203.0.113.7")
    ApiClient(revoked_text).get("/api/v1/token/", REMOTE_ADDR="203.0.113.8")
    ApiClient(WRONG).get(TICKETS, REMOTE_ADDR="203.0.113.7")  # unknown again: not again
    ApiClient(WRONG).get(TICKETS, REMOTE_ADDR="203.0.113.7")  # the 4th from .7: throttled
    # then: every kind of refusal is on the record once a minute, with why and from where
    calls = list(
        ApiCall.objects.order_by("id").values_list(
            "token", "address", "path", "status_code", "reason"
        )
    )
    assert calls == [
        (None, "203.0.113.7", TICKETS, 401, "unknown"),
        (None, "203.0.113.7", TICKETS, 401, "malformed"),
        (token.pk, "203.0.113.8", "/api/v1/token/", 401, "revoked"),
        (None, "203.0.113.7", TICKETS, 429, "throttled"),
    ]
    # and no token's text is stored anywhere in the record
    for row in ApiCall.objects.values():
        assert not any(WRONG in str(v) or revoked_text in str(v) for v in row.values())


def test_the_limit_is_per_address_and_a_good_token_from_elsewhere_is_served(refused_rate, api):
    for _ in range(4):
        ApiClient(WRONG).get(TICKETS, REMOTE_ADDR="198.51.100.1")
    assert ApiClient(WRONG).get(TICKETS, REMOTE_ADDR="198.51.100.1").status_code == 429
    # another address is not held back, with a wrong token or a good one
    assert ApiClient(WRONG).get(TICKETS, REMOTE_ADDR="198.51.100.2").status_code == 401
    assert api.get(TICKETS, REMOTE_ADDR="198.51.100.3").status_code == 200
    # and good calls are never counted as refusals
    for _ in range(5):
        assert api.get(TICKETS, REMOTE_ADDR="198.51.100.4").status_code == 200


def test_a_forged_forwarded_for_header_does_not_reset_the_count(refused_rate):
    """Trying to get around it: a client writing a new X-Forwarded-For on each call is still
    one address (no trusted proxy: REMOTE_ADDR counts; with one, the proxy's entry)."""
    answers = [
        ApiClient(WRONG).get(TICKETS, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(5)
    ]
    assert answers == [401, 401, 401, 429, 429]
    with override_settings(DESK_TRUSTED_PROXIES=1):
        behind = [
            ApiClient(WRONG)
            .get(TICKETS, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 192.0.2.9", REMOTE_ADDR="10.1.1.1")
            .status_code
            for n in range(5)
        ]
    assert behind == [401, 401, 401, 429, 429]


def test_a_proxy_writing_ip_and_port_counts_the_client_not_the_proxy(refused_rate):
    """A proxy writing "ip:port" (a new source port each call): one client, counted at its
    address - and another client behind the same proxy is still served."""
    with override_settings(DESK_TRUSTED_PROXIES=1):
        answers = [
            ApiClient(WRONG)
            .get(TICKETS, HTTP_X_FORWARDED_FOR=f"203.0.113.9:{port}", REMOTE_ADDR="10.1.1.1")
            .status_code
            for port in range(40000, 40005)
        ]
        other = ApiClient(WRONG).get(
            TICKETS, HTTP_X_FORWARDED_FOR="[2001:db8::1]:443", REMOTE_ADDR="10.1.1.1"
        )
    assert answers == [401, 401, 401, 429, 429]
    assert other.status_code == 401


def test_a_valid_token_from_a_throttled_address_waits_too(refused_rate, api):
    """An address guessing tokens is not served meanwhile, a right guess included."""
    for _ in range(3):
        ApiClient(WRONG).get(TICKETS, REMOTE_ADDR="192.0.2.50")
    response = api.get(TICKETS, REMOTE_ADDR="192.0.2.50")
    assert response.status_code == 429 and response.json()["error"]["code"] == "throttled"
