"""The desk's form renderer writes every select exactly as Django's templates do."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from aftersales.form_renderer import DeskFormRenderer


class Sample(forms.Form):
    plain = forms.ChoiceField(choices=[("", "---"), ("a", "A & <b>"), ("b", 'say "hi"')])
    lazy = forms.ChoiceField(choices=[("open", _("处理中")), ("closed", _("已关闭"))])
    grouped = forms.ChoiceField(
        choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]), ("x", "Loose")]
    )
    many = forms.MultipleChoiceField(choices=[(1, "one"), (2, "two"), (3, "three")])
    numbers = forms.TypedChoiceField(choices=[(1, 1.5), (2, 2)], coerce=int)
    flag = forms.NullBooleanField()
    attrs = forms.ChoiceField(
        choices=[("q", mark_safe("<i>safe</i>"))],
        widget=forms.Select(attrs={"class": 'a"b', "data-x": True, "data-off": False}),
        disabled=True,
        required=False,
    )


class OwnOption(forms.Select):
    option_template_name = "django/forms/widgets/select_option.html"


DATA = {"plain": "a", "lazy": "closed", "grouped": "pear", "many": ["1", "3"], "numbers": "2"}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("bound", [True, False])
def test_every_select_is_the_html_django_writes(language, bound):
    with override(language):
        ours = Sample(DATA if bound else None, renderer=DeskFormRenderer())
        django = Sample(DATA if bound else None, renderer=DjangoTemplates())
        for name in Sample.base_fields:
            assert str(ours[name]) == str(django[name]), name
        assert str(ours) == str(django)


def test_selected_and_escaped():
    html = str(Sample(DATA, renderer=DeskFormRenderer())["plain"])
    assert '<option value="a" selected>A &amp; &lt;b&gt;</option>' in html
    assert "say &quot;hi&quot;" in html


def test_an_option_with_a_template_of_its_own_is_rendered_by_its_template(monkeypatch):
    class Other(forms.Form):
        pick = forms.ChoiceField(choices=[("a", "A")], widget=OwnOption)

    seen = []
    original = DjangoTemplates.render

    def spy(self, template_name, context, request=None):
        seen.append(template_name)
        return original(self, template_name, context, request)

    monkeypatch.setattr(OwnOption, "option_template_name", "django/forms/widgets/radio_option.html")
    monkeypatch.setattr(DjangoTemplates, "render", spy)
    str(Other(renderer=DeskFormRenderer())["pick"])
    assert "django/forms/widgets/select.html" in seen


def test_the_desk_uses_it(client, settings):
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), DeskFormRenderer)
