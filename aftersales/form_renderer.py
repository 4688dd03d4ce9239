"""The desk's form renderer: Django's own, with ``<select>`` written in Python.

Django renders a select through a template and one included template per option (and one
more per option for its attributes). On the ticket list's filter form (seven selects, about
sixty options) that was the largest part of the page's server time. ``render_select`` writes
byte for byte what Django's ``django/forms/widgets/select.html`` writes, from the same widget
context, so every form, admin page and test sees the same HTML.
"""

from django.forms.renderers import DjangoTemplates
from django.utils import formats
from django.utils.html import format_html, format_html_join

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``: ``True`` writes the bare name, ``False`` nothing."""
    return format_html_join(
        "",
        "{}{}",
        (
            (format_html(" {}", name), "" if value is True else format_html('="{}"', str(value)))
            for name, value in attrs.items()
            if value is not False
        ),
    )


def _join(parts) -> str:
    return format_html_join("", "{}", ((part,) for part in parts))


def render_select(widget: dict) -> str | None:
    """The HTML of a ``Select`` (or subclass) from its template context's ``widget`` dict, or
    None when an option uses a template of its own (the caller then renders the template).
    Labels are shown as a template's ``{{ label }}`` shows them: localised, escaped."""
    groups = []
    for group_name, options, _index in widget["optgroups"]:
        rendered = []
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            rendered.append(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    str(option["value"]),
                    _attrs(option["attrs"]),
                    formats.localize(option["label"]),
                )
            )
        if group_name:
            groups.append(
                format_html(
                    '\n  <optgroup label="{}">{}\n  </optgroup>',
                    formats.localize(group_name),
                    _join(rendered),
                )
            )
        else:
            groups.extend(rendered)
    return format_html(
        '<select name="{}"{}>{}\n</select>', widget["name"], _attrs(widget["attrs"]), _join(groups)
    )


class DeskFormRenderer(DjangoTemplates):
    """``FORM_RENDERER``: Django's template renderer, except for selects (``render_select``)."""

    def render(self, template_name, context, request=None):
        if template_name == SELECT_TEMPLATE:
            html = render_select(context["widget"])
            if html is not None:
                return html
        return super().render(template_name, context, request=request)
