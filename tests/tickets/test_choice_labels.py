"""``get_<field>_display()`` on every desk model (``tickets.models.base.DeskModel``) gives
exactly what Django's own implementation gives, in both languages, for every declared choice
and for a value outside the choices."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from tickets.models.base import DeskModel

DESK_APPS = ("tickets", "finance_exports")


def _choice_fields():
    for model in apps.get_models():
        # simple_history's copies of reference data (shown only in the admin's history).
        if model._meta.app_label not in DESK_APPS or model.__name__.startswith("Historical"):
            continue
        for field in model._meta.concrete_fields:
            if field.choices:
                yield pytest.param(model, field, id=f"{model.__name__}.{field.name}")


def _django_display(instance, field):
    """Django's own ``Model._get_FIELD_display``, the reference."""
    return models.Model._get_FIELD_display(instance, field)


def test_every_desk_model_with_choices_uses_the_fast_display():
    fields = list(_choice_fields())
    assert len(fields) > 20
    assert all(issubclass(param.values[0], DeskModel) for param in fields)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("model", "field"), list(_choice_fields()))
def test_display_matches_django_for_every_choice(model, field, language):
    instance = model()
    with translation.override(language):
        for value, _label in field.flatchoices:
            setattr(instance, field.attname, value)
            shown = getattr(instance, f"get_{field.name}_display")()
            assert shown == _django_display(instance, field)
            assert isinstance(shown, str)
        setattr(instance, field.attname, "not-a-choice")
        assert getattr(instance, f"get_{field.name}_display")() == "not-a-choice"


def test_display_follows_the_active_language():
    from tickets.models import Ticket

    ticket = Ticket(status=Ticket.Status.CLOSED)
    with translation.override("zh-hans"):
        chinese = ticket.get_status_display()
    with translation.override("en"):
        english = ticket.get_status_display()
    assert chinese != english
    assert chinese.isascii() is False and english.isascii()
