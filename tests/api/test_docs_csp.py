"""The API's docs page (Swagger UI, issue 16 review) may show data: images: its stylesheet
draws its icons as data: URIs, which the desk's img-src 'self' refuses. That page alone
gains them; every other page keeps img-src 'self'."""

import pytest
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.fixture
def root(client):
    user = make_user("root-docs", None, is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


def test_the_docs_page_alone_may_show_data_images(client, root, settings):
    settings.DEBUG = False
    docs = client.get(reverse("api:docs"))
    assert docs.status_code == 200
    policy = directives(docs)
    assert sorted(policy["img-src"]) == sorted(["'self'", "data:"])
    # nothing else is loosened on it
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    for url in (
        reverse("api:schema"),
        reverse("admin:index"),
        reverse("tickets:dashboard"),
        "/api/v1/docs-not-here/",
    ):
        assert directives(client.get(url))["img-src"] == ["'self'"], url
