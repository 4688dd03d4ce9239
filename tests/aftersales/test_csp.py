"""Content-Security-Policy (issue 12 §6): every response carries the policy, the templates
keep to it (no inline script, no inline handlers, no javascript: links, no style attributes),
and the favicon answers at the root. The browser side is tests/e2e/test_csp.py."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import make_ticket

pytestmark = pytest.mark.urls("tests.aftersales.error_urls")

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = ([*part.strip().split(None, 1), ""] for part in header.split(";"))
    return {words[0]: words[1] for words in directives if words[0]}


def assert_policy(response) -> None:
    got = policy(response)
    for name, value in REQUIRED.items():
        assert got.get(name) == value, f"{name}: {got.get(name)!r}"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


@pytest.fixture(autouse=True)
def production_mode(settings):
    settings.DEBUG = False


def test_pages_carry_the_policy(client, supervisor, order_a):
    ticket = make_ticket(order_a, supervisor)
    client.force_login(supervisor)
    for url in (
        reverse("tickets:dashboard"),
        reverse("tickets:ticket_list"),
        reverse("tickets:ticket_detail", args=[ticket.pk]),
        reverse("tickets:order_detail", args=[order_a.pk]),
        reverse("tickets:parcel_unpack"),
        reverse("registers:statistics"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_policy(response)


def test_login_page_and_health_check_carry_the_policy(client, db):
    assert_policy(client.get(reverse("login")))
    assert_policy(client.get(reverse("healthz")))


def test_admin_carries_the_policy(client, supervisor):
    supervisor.is_staff = True
    supervisor.save()
    client.force_login(supervisor)
    for url in (reverse("admin:index"), reverse("admin:tickets_courier_changelist")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_policy(response)


def test_error_pages_carry_the_policy(client, agent):
    client.force_login(agent)
    client.raise_request_exception = False
    assert_policy(client.get("/no-such-page/"))  # 404
    assert_policy(client.get(reverse("registers:statistics")))  # 403
    assert_policy(client.get("/test-errors/broken/"))  # 500
    assert_policy(client.get("/", HTTP_HOST="desk.evil.example"))  # 400
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    refused = strict.post(reverse("tickets:ticket_bulk"), {"action": "take"})
    assert refused.status_code == 403
    assert_policy(refused)  # the CSRF page


def test_favicon_answers_at_the_root_and_is_linked_from_the_layout(client, agent):
    # browsers ask for /favicon.ico by themselves (it was a 404 in the log)
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    # and the layout links the SVG one
    client.force_login(agent)
    html = client.get(reverse("tickets:dashboard")).content.decode()
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link, "base.html links no favicon"
    svg = client.get(link.group(1))
    assert svg.status_code == 200
    assert b"<svg" in b"".join(svg.streaming_content)


# What a template may not hold under the policy: a <script> without src (a JSON data block
# is not script and is allowed), an on...= handler, a javascript: URL, a style= attribute.
INLINE = [
    (
        re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style\b", re.I), "<style> block"),
]


def _templates() -> list[Path]:
    roots = [Path(d) for engine in settings.TEMPLATES for d in engine["DIRS"]]
    roots += [Path(settings.BASE_DIR) / app for app in ("tickets", "finance_exports", "aftersales")]
    return sorted({p for root in roots for p in root.rglob("*.html")})


def test_templates_keep_to_the_policy():
    templates = _templates()
    assert len(templates) > 30
    found = [
        f"{path.relative_to(settings.BASE_DIR)}:{text.count(chr(10), 0, m.start()) + 1}: {what}"
        for path in templates
        for text in [path.read_text(encoding="utf-8")]
        for pattern, what in INLINE
        for m in pattern.finditer(text)
    ]
    assert not found, "\n".join(found)


def test_scripts_keep_to_the_policy():
    """The desk's JavaScript does not evaluate strings or write style attributes."""
    scripts = sorted((Path(settings.BASE_DIR) / "static" / "js").glob("*.js"))
    assert scripts
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        for forbidden in ("eval(", "new Function", 'setAttribute("style"', "setAttribute('style'"):
            assert forbidden not in text, f"{script.name}: {forbidden}"
        assert not re.search(r"setTimeout\(\s*[\"']", text), f"{script.name}: setTimeout(string)"
