"""Form errors that name the field. Django's own messages name no field: its length message
("确保该变量包含不超过 40 字符 (目前字符数 10000)") reads like a machine, and its required one
("这个字段是必填项。") says nothing once an action view has joined a form's errors into one
message (``tickets.views.actions.form_error``): the escalation's reason, a decision's choice.
Every field of the desk's forms says instead which field is too long, by how much, and which
one is missing (a reason of only spaces is missing too: text fields strip it).

``name_field_errors(globals())`` at the end of a forms module gives every field of every form
class defined above it those messages (the fields are copied into each form instance, so
setting them on the class's fields is enough). A message a field sets for itself is kept."""

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

# A field the agent never types in (a hidden one-time key, the page's own state, the button
# that was pressed): a too-long value there is a tampered request, named as such, and a
# missing one a form from an older page (or a tampered request).
_UNNAMED = gettext_lazy("表单数据")
_INCOMPLETE = gettext_lazy("表单不完整，请刷新页面后重新提交。")
_DJANGO_REQUIRED = forms.Field.default_error_messages["required"]
# Fields the user picks from rather than types into.
_CHOSEN = (forms.ChoiceField, forms.ModelChoiceField, forms.FileField, forms.BooleanField)


def _literal(label) -> str:
    # Django formats some messages with the field's figures (%(limit_value)d ...): a % in a
    # label stays a literal.
    return str(label).replace("%", "%%")


def _length_message(label) -> str:
    # The label goes in now; the figures go in when Django raises the error (it formats the
    # message with limit_value and show_value).
    return gettext("“%(label)s”最多 %(limit_value)d 个字符（现在 %(show_value)d 个）").replace(
        "%(label)s", _literal(label)
    )


def _required_message(label, chosen: bool) -> str:
    text = gettext("请选择“%(label)s”。") if chosen else gettext("请填写“%(label)s”。")
    return text.replace("%(label)s", _literal(label))


length_message = lazy(_length_message, str)
required_message = lazy(_required_message, str)


def _named(field: forms.Field) -> bool:
    return bool(field.label) and not field.widget.is_hidden


def name_field_errors(namespace: dict) -> None:
    """Sets the field-named length and required messages on every field of every form class
    in ``namespace`` (a forms module's ``globals()``): the length one on text fields, the
    required one on every field still carrying Django's own (a field with no label, or a
    hidden one, says the form is incomplete)."""
    for form_class in list(namespace.values()):
        if not (isinstance(form_class, type) and issubclass(form_class, forms.BaseForm)):
            continue
        for field in form_class.base_fields.values():
            named = _named(field)
            if isinstance(field, forms.CharField):
                field.error_messages["max_length"] = length_message(
                    field.label if named else _UNNAMED
                )
            if field.error_messages.get("required") is _DJANGO_REQUIRED:
                field.error_messages["required"] = (
                    required_message(field.label, isinstance(field, _CHOSEN))
                    if named
                    else _INCOMPLETE
                )
