"""How the schema and its docs refuse (issue 16 leftovers 3): the docs are a page, so anyone
signed in but an administrator gets the desk's 403 page in the language they chose on the
desk; the schema is for programs, so its refusal is the API's JSON error shape as
application/json, never in the OpenAPI content type a client would read as a schema."""

import pytest
from django.conf import settings

from api.throttling import TokenRateThrottle
from tests.factories import make_user
from tickets.roles import Role

from .conftest import ApiClient

pytestmark = pytest.mark.django_db
DOCS, SCHEMA = "/api/v1/docs/", "/api/v1/schema/"
OPENAPI = "application/vnd.oai.openapi+json"


@pytest.fixture
def supervisor(shop_a):
    # is_staff opens the admin's door, never the docs (QUALITY.md 4)
    return make_user("docs-sup", Role.SUPERVISOR, shops=[shop_a], is_staff=True)


def test_the_docs_refuse_a_non_administrator_with_the_desks_403_page(client, supervisor):
    client.force_login(supervisor)
    # even a browser whose Accept-Language asks for English: the desk speaks what was chosen
    response = client.get(DOCS, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "没有权限打开这个页面" in html and 'lang="zh-hans"' in html
    assert "swagger" not in html.lower()  # no part of the docs is drawn


def test_the_docs_refusal_is_in_english_for_who_chose_english(client, supervisor):
    client.force_login(supervisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(DOCS)
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")
    assert "You do not have access to this page" in response.content.decode()


def test_the_docs_open_for_an_administrator(client, root):
    client.force_login(root)
    response = client.get(DOCS)
    assert response.status_code == 200 and "swagger" in response.content.decode().lower()


def test_a_token_opens_no_docs_page(client, api):
    """Trying to get around it: a bearer token is no administrator's session."""
    response = api.get(DOCS)
    assert response.status_code == 302  # to the login page, as any page without a session


@pytest.mark.parametrize("accept", ["*/*", OPENAPI, "application/json"])
def test_the_schema_refuses_with_the_json_error_shape(client, erp_user, accept):
    for signed_in in (False, True):
        if signed_in:
            client.force_login(erp_user)  # an agent's session is no administrator's
        response = client.get(SCHEMA, HTTP_ACCEPT=accept, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        error = response.json()["error"]
        assert error["code"] == "unauthenticated" and error["details"] == []
        assert "Authorization" in error["message"]


def test_a_schema_asked_for_as_html_is_a_json_406(client):
    response = client.get(SCHEMA, HTTP_ACCEPT="text/html")
    assert response.status_code == 406 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_acceptable"


def test_a_wrong_token_on_the_schema_is_a_json_401_and_a_good_one_the_schema(api):
    wrong = ApiClient("dsk_" + "x" * 43).get(SCHEMA, HTTP_ACCEPT=OPENAPI)
    assert wrong.status_code == 401 and wrong["Content-Type"] == "application/json"
    assert wrong.json()["error"]["code"] == "unauthenticated"
    schema = api.get(SCHEMA)
    assert schema.status_code == 200 and schema["Content-Type"].startswith(OPENAPI)
    assert schema.json()["openapi"].startswith("3.")
    # a client asking for plain JSON gets the same schema, not a 406
    plain = api.get(SCHEMA, HTTP_ACCEPT="application/json")
    assert plain.status_code == 200 and plain["Content-Type"] == "application/json"
    assert plain.json() == schema.json()


def test_the_schemas_rate_limit_is_json_too(api, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "2/min", "api_batch": "1/min"})
    statuses = [api.get(SCHEMA, HTTP_ACCEPT=OPENAPI) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2]["Content-Type"] == "application/json"
    assert statuses[2].json()["error"]["code"] == "throttled"
