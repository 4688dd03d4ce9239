"""Form errors that name the field. Django's own length message ("确保该变量包含不超过 40 字符
(目前字符数 10000)") names no field and reads like a machine: every text field of the desk's
forms says instead which field is too long, by how much.

``name_length_errors(globals())`` at the end of a forms module gives every ``CharField`` of
every form class defined above it that message (the fields are copied into each form
instance, so setting it on the class's fields is enough)."""

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

# A field the agent never types in (a hidden one-time key, the page's own state): a
# too-long value there is a tampered request, named as such.
_UNNAMED = gettext_lazy("表单数据")


def _length_message(label) -> str:
    # The label goes in now; the figures go in when Django raises the error (it formats the
    # message with limit_value and show_value), so a % in a label is kept as a literal.
    return gettext("“%(label)s”最多 %(limit_value)d 个字符（现在 %(show_value)d 个）").replace(
        "%(label)s", str(label).replace("%", "%%")
    )


length_message = lazy(_length_message, str)


def name_length_errors(namespace: dict) -> None:
    """Sets the field-named length message on every ``CharField`` of every form class in
    ``namespace`` (a forms module's ``globals()``)."""
    for form_class in list(namespace.values()):
        if not (isinstance(form_class, type) and issubclass(form_class, forms.BaseForm)):
            continue
        for field in form_class.base_fields.values():
            if isinstance(field, forms.CharField):
                label = field.label if field.label and not field.widget.is_hidden else _UNNAMED
                field.error_messages["max_length"] = length_message(label)
