"""The desk's form renderer writes every select exactly as Django's templates do."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from aftersales.form_renderer import DeskFormRenderer
from tickets.filters import DeskDateRangeField, IsoDateRangeWidget
from tickets.forms import IsoDateInput, IsoDateTimeInput


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


class Inputs(forms.Form):
    """Every input-family widget the desk's forms use, with values that need escaping."""

    text = forms.CharField(widget=forms.TextInput(attrs={"placeholder": 'say "hi" & <b>'}))
    number = forms.DecimalField(widget=forms.NumberInput(attrs={"step": "0.01", "min": 0}))
    email = forms.EmailField(required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput)
    day = forms.DateField(widget=IsoDateInput, required=False)
    when = forms.DateTimeField(widget=IsoDateTimeInput, required=False)
    flag = forms.BooleanField(required=False)
    off = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs={"data-x": True}))
    upload = forms.FileField(required=False)
    clock = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"disabled": False}))
    split = forms.SplitDateTimeField(required=False)
    hiddens = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.MultipleHiddenInput, required=False
    )
    note = forms.CharField(widget=forms.Textarea, required=False)
    empty_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    span = DeskDateRangeField(widget=IsoDateRangeWidget(), required=False)


INPUT_DATA = {
    "text": 'a "quoted" <b>&',
    "number": "12.50",
    "email": "x@y.cn",
    "secret": "p&w",
    "hidden": "k=1&m=<2>",
    "day": "2026-11-30",
    "when": "2026-11-30T14:30",
    "flag": "on",
    "split_0": "2026-11-30",
    "split_1": "09:00",
    "hiddens": ["a", "b"],
    "note": "line\n<two>",
    "span_min": "2026-11-01",
    "span_max": "2026-11-30",
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("bound", [True, False])
def test_every_input_is_the_html_django_writes(language, bound):
    with override(language):
        ours = Inputs(INPUT_DATA if bound else None, renderer=DeskFormRenderer())
        django = Inputs(INPUT_DATA if bound else None, renderer=DjangoTemplates())
        for name in Inputs.base_fields:
            assert str(ours[name]) == str(django[name]), name
        assert str(ours) == str(django)


def test_inputs_are_written_without_a_template(monkeypatch):
    seen = []
    original = DjangoTemplates.render

    def spy(self, template_name, context, request=None):
        seen.append(template_name)
        return original(self, template_name, context, request)

    monkeypatch.setattr(DjangoTemplates, "render", spy)
    form = Inputs(INPUT_DATA, renderer=DeskFormRenderer())
    for name in ("text", "day", "flag", "span", "split", "note"):
        assert 'name="' in str(form[name])
    assert seen == []
    str(form["hiddens"])  # several hidden inputs: still Django's template
    assert seen == ["django/forms/widgets/multiple_hidden.html"]


def test_the_ticket_list_filter_is_the_html_django_writes(rf, agent):
    from tickets.filters import TicketFilter

    request = rf.get("/tickets/", {"created_min": "2026-11-01", "overdue": "on", "q": '"x"'})
    request.user = agent
    ours = TicketFilter(request.GET, request=request).form
    django = TicketFilter(request.GET, request=request).form
    django.renderer = DjangoTemplates()
    for name in ours.fields:
        assert str(ours[name]) == str(django[name]), name


class Trusted:
    """An object that says it is HTML already (``__html__``) but is not a string: a template
    writes its text, escaped."""

    def __html__(self):
        return "<b>trusted</b>"

    def __str__(self):
        return "<b>as text</b> & more"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_labels_and_names_of_any_kind_are_written_as_a_template_writes_them(language):
    """``{{ value }}`` in Django's widget templates: an aware time in the current time zone, a
    date localised, an object with ``__html__`` by its text, escaped (hostile review)."""
    from datetime import UTC, date, datetime

    from django.utils.safestring import mark_safe as safe

    aware = datetime(2024, 1, 2, 23, 4, tzinfo=UTC)  # 07:04 the next day in Beijing
    labels = [aware, Trusted(), date(2024, 1, 2), safe("<i>safe</i>"), 3, None]
    names = ["plain", date(2024, 1, 2), aware]
    with override(language):
        for label in labels:
            widgets = [
                forms.Select(choices=[("a", label), (label, [("b", label)])]),
                forms.SelectMultiple(choices=[("a", label), ("b", "B")]),
            ]
            for widget in widgets:
                for name in names:
                    ours = widget.render(name, "a", renderer=DeskFormRenderer())
                    django = widget.render(name, "a", renderer=DjangoTemplates())
                    assert ours == django, (label, name)
        for widget in (forms.TextInput(), forms.Textarea(), forms.DateInput()):
            for name in names:
                for value in ("a", "<b>&amp;", None):
                    ours = widget.render(name, value, renderer=DeskFormRenderer())
                    django = widget.render(name, value, renderer=DjangoTemplates())
                    assert ours == django, (widget, name, value)
