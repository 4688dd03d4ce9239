"""``{% url %}`` keeps its reversals (``aftersales.template_urls``): the same links as Django's
own tag, under every script prefix, language and argument, and the same errors."""

import pytest
from django.template import Context, Template, engines
from django.template.defaulttags import URLNode
from django.urls import NoReverseMatch, clear_script_prefix, set_script_prefix
from django.utils.translation import override

from aftersales.template_urls import KeptURLNode, _reverse_kept

SOURCE = (
    "{% url 'tickets:dashboard' %}|{% url 'tickets:ticket_list' %}|"
    "{% url 'tickets:ticket_detail' pk %}|{% url 'tickets:ticket_detail' pk=pk %}|"
    "{% url 'tickets:order_detail' order_pk %}|{% url name pk %}|"
    "{% url 'tickets:ticket_detail' text_pk %}|{% url 'tickets:ticket_detail' flag %}|"
    "{% url 'no:such' as missing %}[{{ missing }}]|{% url 'admin:index' %}|"
    "{% url 'set_language' %}"
)


def _django_tag(source: str) -> Template:
    """``source`` under Django's own ``URLNode``."""
    template = Template("{% load i18n %}" + source)
    for node in template.nodelist.get_nodes_by_type(KeptURLNode):
        node.__class__ = URLNode
    return template


@pytest.mark.parametrize("prefix", ["/", "/desk/"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_links_are_djangos(prefix, language):
    context = {"pk": 81, "order_pk": 5, "name": "tickets:ticket_detail", "text_pk": "12"}
    context["flag"] = True  # not kept: reversed every time
    set_script_prefix(prefix)
    try:
        with override(language):
            for _ in range(2):  # the second time from the kept reversals
                ours = Template(SOURCE).render(Context(context))
                django = _django_tag(SOURCE).render(Context(context))
                assert ours == django
                assert f"{prefix}tickets/81/" in ours
    finally:
        clear_script_prefix()
        set_script_prefix("/")


def test_the_desk_uses_the_kept_tag():
    template = engines["django"].from_string("{% url 'tickets:dashboard' %}")
    assert template.template.nodelist.get_nodes_by_type(KeptURLNode)


def test_a_name_that_does_not_reverse_raises_as_djangos_does():
    with pytest.raises(NoReverseMatch):
        Template("{% url 'no:such' %}").render(Context({}))
    with pytest.raises(NoReverseMatch):
        Template("{% url 'tickets:ticket_detail' %}").render(Context({}))


def test_a_new_script_prefix_is_a_new_reversal():
    _reverse_kept.cache_clear()
    template = Template("{% url 'tickets:ticket_detail' 7 %}")
    try:
        first = template.render(Context({}))
        set_script_prefix("/elsewhere/")
        second = template.render(Context({}))
    finally:
        set_script_prefix("/")
    assert (first, second) == ("/tickets/7/", "/elsewhere/tickets/7/")
    assert _reverse_kept.cache_info().hits == 0
    template.render(Context({}))
    assert _reverse_kept.cache_info().hits == 1
