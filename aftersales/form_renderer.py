"""The desk's form renderer: Django's own, with ``<select>``, ``<input>`` and the widgets made
of several inputs written in Python.

Django renders a select through a template and one included template per option (and one
more per option for its attributes). On the ticket list's filter form (seven selects, about
sixty options) that was the largest part of the page's server time. ``render_select`` writes
byte for byte what Django's ``django/forms/widgets/select.html`` writes, from the same widget
context, so every form, admin page and test sees the same HTML. An ``<input>`` (text, date,
number, hidden, checkbox ...: templates that only include ``input.html``) took two template
renders each, and a date range four: ``render_input`` and ``render_multi`` write them the same
way (issue 14: the ticket page's forms and the list's filter hold about thirty).
"""

import html

from django.forms.renderers import DjangoTemplates
from django.utils import formats
from django.utils.html import (
    conditional_escape,
    format_html,
    format_html_join,
    strip_spaces_between_tags,
)
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
# A widget made of several: Django's (and the split date/time, which includes it) writes the
# parts without whitespace between them, django-filter's range writes "-" after the first.
SPACELESS_MULTI_TEMPLATES = frozenset(
    {"django/forms/widgets/multiwidget.html", "django/forms/widgets/splitdatetime.html"}
)
RANGE_TEMPLATE = "django_filters/widgets/multiwidget.html"
INPUT_TEMPLATE = "django/forms/widgets/input.html"
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"
# Django's widget templates that are ``{% include "django/forms/widgets/input.html" %}`` and
# nothing else.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in [
        *("input", "checkbox", "color", "date", "datetime", "email", "file", "hidden"),
        *("number", "password", "search", "tel", "text", "time", "url"),
    ]
)


def _escaped(value) -> str:
    """``conditional_escape`` (what a template's ``{{ value|stringformat:'s' }}`` does with
    the text), with a plain ``str`` escaped straight away: a select's options are written a
    few hundred times a page."""
    if type(value) is str:
        return html.escape(value)
    return conditional_escape(value)


def _shown(value) -> str:
    """What a template's ``{{ value }}`` writes (``render_value_in_context``): a time in the
    current time zone, a number or date localised, anything else as its text, escaped unless
    it is safe."""
    if type(value) is str:
        return SafeString(html.escape(value))
    value = formats.localize(template_localtime(value))
    if not isinstance(value, str):
        value = str(value)
    return conditional_escape(value)


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``: ``True`` writes the bare name, ``False`` nothing."""
    written = "".join(
        f" {_shown(name)}" if value is True else f' {_shown(name)}="{_escaped(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )
    return mark_safe(written)  # noqa: S308 - every name and value is escaped


def _join(parts) -> str:
    return format_html_join("", "{}", ((part,) for part in parts))


def render_select(widget: dict) -> str | None:
    """The HTML of a ``Select`` (or subclass) from its template context's ``widget`` dict, or
    None when an option uses a template of its own (the caller then renders the template).
    Labels are shown as a template's ``{{ label }}`` shows them: localised, escaped. Written
    with f-strings over escaped parts, not ``format_html`` per option (a fifth of the ticket
    list's rendering, bench/README.md eleventh session)."""
    groups = []
    for group_name, options, _index in widget["optgroups"]:
        rendered = []
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            rendered.append(
                f'\n  <option value="{_escaped(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f"{_shown(option['label'])}</option>\n"
            )
        if group_name:
            groups.append(
                f'\n  <optgroup label="{_shown(group_name)}">{"".join(rendered)}\n  </optgroup>'
            )
        else:
            groups.extend(rendered)
    written = (
        f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>'
        f"{''.join(groups)}\n</select>"
    )
    return mark_safe(written)  # noqa: S308 - every value, label and attribute is escaped


def render_input(widget: dict) -> str:
    """``django/forms/widgets/input.html`` from a widget's template context: the value
    written as ``stringformat:'s'`` writes it, escaped, and left out when None."""
    value = widget["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        _shown(widget["type"]),
        _shown(widget["name"]),
        "" if value is None else format_html(' value="{}"', str(value)),
        _attrs(widget["attrs"]),
    )


def render_textarea(widget: dict) -> str:
    """``django/forms/widgets/textarea.html``: a newline after the opening tag (which the
    browser drops), then the value, escaped, when it is not empty."""
    value = widget["value"]
    return format_html(
        '<textarea name="{}"{}>\n{}</textarea>',
        _shown(widget["name"]),
        _attrs(widget["attrs"]),
        _shown(value) if value else "",
    )


def render_multi(widget: dict, template_name: str) -> str | None:
    """A widget made of inputs, as its template writes it: Django's
    ``multiwidget.html`` (and ``splitdatetime.html``) the parts one after the other with the
    whitespace between tags taken out (``spaceless``), django-filter's range
    (``RANGE_TEMPLATE``) the parts with "-" after the first. None when a part is not an
    input (the caller then renders the template)."""
    parts = []
    for sub in widget["subwidgets"]:
        if sub["template_name"] not in INPUT_TEMPLATES:
            return None
        parts.append(render_input(sub))
    if template_name == RANGE_TEMPLATE:
        # Each part as its include writes it: ``date.html`` and the like end in a newline,
        # and so does the ``input.html`` they include (the tests compare with Django's).
        parts = [
            format_html("{}\n" if sub["template_name"] == INPUT_TEMPLATE else "{}\n\n", part)
            for part, sub in zip(parts, widget["subwidgets"], strict=True)
        ]
        return _join([parts[0], "-", *parts[1:]]).strip() if parts else ""
    return strip_spaces_between_tags(_join(parts).strip())


class DeskFormRenderer(DjangoTemplates):
    """``FORM_RENDERER``: Django's template renderer, except for selects (``render_select``),
    inputs (``render_input``), text areas (``render_textarea``) and widgets made of inputs
    (``render_multi``)."""

    def render(self, template_name, context, request=None):
        html = None
        if template_name == SELECT_TEMPLATE:
            html = render_select(context["widget"])
        elif template_name in INPUT_TEMPLATES:
            html = render_input(context["widget"])
        elif template_name == TEXTAREA_TEMPLATE:
            html = render_textarea(context["widget"])
        elif template_name in SPACELESS_MULTI_TEMPLATES or template_name == RANGE_TEMPLATE:
            html = render_multi(context["widget"], template_name)
        if html is not None:
            return html
        return super().render(template_name, context, request=request)
