"""The error pages (issue 12 §6): 400, 403, 404, 500 and a refused form, through Django's real
handlers with DEBUG off, in the desk's layout and the user's language, with a way back."""

import copy

import pytest
from django.conf import settings
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from tests.factories import make_ticket
from tickets.models import TicketEvent

pytestmark = pytest.mark.urls("tests.aftersales.error_urls")

HEADINGS = {
    400: "请求无法处理",
    403: "没有权限打开这个页面",
    404: "找不到这个页面",
    405: "这个地址不能直接打开",
    500: "系统出错了",
    "csrf": "页面已过期，请刷新后再提交",
}


@pytest.fixture(autouse=True)
def production_mode(settings):
    settings.DEBUG = False


def said(language: str, text: str) -> str:
    """``text`` as the page shows it in ``language`` (escaped, translated when the catalogue
    has it), so the assertion holds before and after the lead's translations."""
    with translation.override(language):
        return escape(translation.gettext(text))


def speak(client: Client, language: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


def assert_desk_layout(response, language: str, heading: str, *, signed_in: bool = True):
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert '<section class="error-card"' in html
    assert said(language, heading) in html
    assert "css/desk.css" in html
    if signed_in:
        # the top bar: navigation, the search box, the way back to the dashboard
        assert '<header class="topbar">' in html
        assert said(language, "我的工作") in html
        assert 'class="find"' in html
        assert f'href="{reverse("tickets:dashboard")}"' in html
        assert said(language, "回到我的工作") in html
    else:
        assert '<header class="topbar">' not in html
        assert f'href="{reverse("login")}"' in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_unknown_address_is_a_404_in_the_desks_layout(client, agent, language):
    # given a signed-in agent in their language
    client.force_login(agent)
    speak(client, language)
    # when they open an address the desk does not have
    response = client.get("/tickets/no-such-page/")
    # then the 404 page says so, shows the path and offers the search
    assert response.status_code == 404
    assert_desk_layout(response, language, HEADINGS[404])
    html = response.content.decode()
    assert "/tickets/no-such-page/" in html
    assert 'class="error-find"' in html


def test_a_ticket_of_another_shop_is_the_same_404_page(client, agent, order_b, supervisor):
    ticket = make_ticket(order_b, supervisor)
    client.force_login(agent)
    response = client.get(reverse("tickets:ticket_detail", args=[ticket.pk]))
    assert response.status_code == 404
    assert_desk_layout(response, "zh-hans", HEADINGS[404])
    assert ticket.number not in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_visitor_who_is_not_signed_in_gets_the_login_link_and_the_language_switch(
    client, db, language
):
    speak(client, language)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_desk_layout(response, language, HEADINGS[404], signed_in=False)
    assert reverse("set_language") in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_buttons_address_opened_as_a_link_gets_the_405_page(client, agent, order_a, language):
    # given: the address of a ticket's photo upload, opened from the browser's history
    ticket = make_ticket(order_a, agent)
    client.force_login(agent)
    speak(client, language)
    response = client.get(reverse("tickets:photo_upload", args=[ticket.pk]))
    # then: the desk's page says what happened, and the Allow header stays
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert_desk_layout(response, language, HEADINGS[405])
    assert not ticket.photos.exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_agent_on_a_supervisors_page_gets_the_403_page(client, agent, language):
    client.force_login(agent)
    speak(client, language)
    response = client.get(reverse("registers:statistics"))
    assert response.status_code == 403
    assert_desk_layout(response, language, HEADINGS[403])
    # the permission code in the exception is not shown
    assert "approve_compensation" not in response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_unknown_host_gets_the_400_page_with_the_top_bar(client, agent, language):
    # given a signed-in agent whose request names a host the desk does not serve
    client.force_login(agent)
    speak(client, language)
    # when Django refuses it (DisallowedHost, before the authentication middleware ran)
    response = client.get(reverse("tickets:dashboard"), HTTP_HOST="desk.evil.example")
    # then the 400 page, still knowing who is signed in
    assert response.status_code == 400
    assert_desk_layout(response, language, HEADINGS[400])


def test_a_suspicious_request_in_a_view_gets_the_400_page(client, agent):
    client.force_login(agent)
    response = client.get("/test-errors/suspicious/")
    assert response.status_code == 400
    assert_desk_layout(response, "zh-hans", HEADINGS[400])
    assert "cannot read" not in response.content.decode()


def test_a_nul_character_gets_the_400_page_with_its_reason(client, agent):
    client.force_login(agent)
    response = client.get("/orders/?q=abc%00def")
    assert response.status_code == 400
    assert_desk_layout(response, "zh-hans", HEADINGS[400])
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("charset", ["gbk", "utf-16", "latin-1"])
@pytest.mark.parametrize("signed_in", [True, False])
def test_a_form_in_another_charset_gets_the_400_page_and_changes_nothing(
    agent, order_a, charset, signed_in, settings
):
    # given: a script posting a note (or a login) with a charset Django will not read
    settings.DEBUG = signed_in  # the anonymous login answered 500 only with DEBUG on
    ticket = make_ticket(order_a, agent)
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(agent)
    url = reverse("tickets:ticket_note", args=[ticket.pk]) if signed_in else reverse("login")
    client.cookies["csrftoken"] = "T" * 32
    # when
    response = client.post(
        url,
        "body=x&username=agent-a&password=x",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
        HTTP_X_CSRFTOKEN="T" * 32,
    )
    # then: the desk's 400 page saying why, and no note
    assert response.status_code == 400
    assert_desk_layout(response, "zh-hans", HEADINGS[400], signed_in=signed_in)
    assert "UTF-8" in response.content.decode()
    assert not ticket.events.filter(kind=TicketEvent.Kind.NOTE).exists()


@pytest.mark.parametrize("charset", ["rot13", "hex", "idna", "undefined", "no-such-codec"])
def test_a_multipart_form_naming_no_text_encoding_gets_the_400_page(client, charset):
    body = b'--XbX\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--XbX--\r\n'
    content_type = f"multipart/form-data; boundary=XbX; charset={charset}"
    response = client.generic("POST", reverse("login"), body, content_type=content_type)
    assert response.status_code in (400, 200)  # refused, or read as UTF-8 by Django
    if response.status_code == 400:
        assert_desk_layout(response, "zh-hans", HEADINGS[400], signed_in=False)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_bug_in_a_view_gets_the_500_page(client, agent, language):
    client.force_login(agent)
    speak(client, language)
    client.raise_request_exception = False
    response = client.get("/test-errors/broken/")
    assert response.status_code == 500
    assert_desk_layout(response, language, HEADINGS[500])
    assert "a bug in a view" not in response.content.decode()


def database_down(request):
    """A context processor standing for the database being gone: every page drawn with the
    request's context fails."""
    raise DatabaseError("connection refused")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_500_page_is_drawn_when_the_database_and_context_processors_fail(
    client, agent, settings, language
):
    # given a context processor that fails on every page (as the desk's does without a DB)
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["context_processors"].append(
        "tests.aftersales.test_error_pages.database_down"
    )
    settings.TEMPLATES = templates
    client.force_login(agent)
    speak(client, language)
    client.raise_request_exception = False
    # when the agent opens the dashboard
    response = client.get(reverse("tickets:dashboard"))
    # then the 500 page from the same template, without the request: no top bar, a way home
    assert response.status_code == 500
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert said(language, HEADINGS[500]) in html
    assert "css/desk.css" in html
    assert '<header class="topbar">' not in html
    assert f'href="{reverse("tickets:dashboard")}"' in html


def test_500_page_falls_back_to_plain_html_when_the_templates_cannot_be_drawn(
    client, agent, settings, tmp_path
):
    # given a production static setup whose manifest is missing (collectstatic not run):
    # every {% static %} raises
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    client.force_login(agent)
    client.raise_request_exception = False
    # when any page is opened
    response = client.get(reverse("tickets:dashboard"))
    # then a plain page still says what happened, with status 500
    assert response.status_code == 500
    html = response.content.decode()
    assert f"<h1>{HEADINGS[500]}</h1>" in html
    assert 'href="/"' in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_stale_form_gets_the_csrf_page_and_changes_nothing(agent, order_a, language):
    # given an agent whose ticket page was open across a new login (the token changed)
    ticket = make_ticket(order_a, agent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    speak(client, language)
    client.get(reverse("tickets:ticket_detail", args=[ticket.pk]))  # sets the CSRF cookie
    events = TicketEvent.objects.count()
    # when the note form is sent with a token that no longer matches
    response = client.post(
        reverse("tickets:ticket_note", args=[ticket.pk]),
        {"text": "买家说明天寄回", "csrfmiddlewaretoken": "x" * 64},
        HTTP_REFERER=f"http://testserver{reverse('tickets:ticket_detail', args=[ticket.pk])}",
    )
    # then the plain-words page with the way back to the ticket, and no note
    assert response.status_code == 403
    assert_desk_layout(response, language, HEADINGS["csrf"])
    html = response.content.decode()
    assert said(language, "请回到上一页，按 F5 刷新后重新填写并提交。") in html
    assert f'href="{reverse("tickets:ticket_detail", args=[ticket.pk])}"' in html
    assert TicketEvent.objects.count() == events


def test_login_without_cookies_is_told_to_allow_cookies(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "agent-a", "password": "x"})
    assert response.status_code == 403
    assert_desk_layout(response, "zh-hans", HEADINGS["csrf"], signed_in=False)
    assert "允许本网站使用 Cookie" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_back_link_goes_to_the_desk_page_the_user_came_from(client, agent):
    client.force_login(agent)
    response = client.get(
        "/tickets/gone/", HTTP_REFERER="http://testserver/tickets/?status=open&page=2"
    )
    assert 'href="/tickets/?status=open&amp;page=2"' in response.content.decode()
    assert said("zh-hans", "返回上一页") in response.content.decode()


@pytest.mark.parametrize(
    "referer", ["https://phish.example/tickets/", "http://testserver/tickets/gone/", "//x", ""]
)
def test_no_back_link_to_another_site_or_the_failing_page(client, agent, referer):
    client.force_login(agent)
    response = client.get("/tickets/gone/", HTTP_REFERER=referer)
    assert response.status_code == 404
    assert said("zh-hans", "返回上一页") not in response.content.decode()
