"""``{% url %}`` with its reversals kept: a template builtin (``TEMPLATES`` ``builtins``) that
replaces Django's tag of the same name for every template of the desk.

Django reverses a URL afresh on every ``{% url %}``: the resolver's candidates for the name,
their patterns tried against the arguments, each argument converted and quoted, 25-40 µs
each. A dashboard draws over a hundred links (one per row: tickets, claim forms, warnings),
the ticket list and the ticket page dozens, a fifth of the dashboard's template time
(bench/README.md, issue 14). The same name with the same arguments always gives the same
path for the same URL configuration, script prefix, language and current app, so the
reversals are kept (``REVERSALS_KEPT``, least recently used first out) under exactly those.
Arguments other than whole numbers and text (a model instance, a list) are reversed every
time, as Django does. A name that does not reverse raises, or gives "" with ``as``, as
Django's tag does.
"""

import functools

from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

# Distinct (name, arguments, …) reversals a process keeps: the navigation's few dozen and the
# rows' links of the pages agents keep open.
REVERSALS_KEPT = 4096
_KEPT_TYPES = (int, str)


@functools.lru_cache(maxsize=REVERSALS_KEPT)
def _reverse_kept(resolver, prefix, language, current_app, view_name, args, kwargs) -> str:
    # ``resolver``, ``prefix`` and ``language`` are only the key: ``reverse`` reads the same
    # from the thread's state.
    return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)


def reverse_kept(view_name, args, kwargs, current_app) -> str:
    """``reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)``, from the
    kept reversals when every argument is a whole number or text (``_KEPT_TYPES``; ``bool``
    is not one). Raises ``NoReverseMatch`` as ``reverse`` does."""
    values = (*args, *kwargs.values())
    if not all(type(value) in _KEPT_TYPES for value in values) or not isinstance(view_name, str):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    return _reverse_kept(
        get_resolver(get_urlconf()),
        get_script_prefix(),
        get_language(),
        current_app,
        view_name,
        tuple(args),
        tuple(sorted(kwargs.items())),
    )


class KeptURLNode(defaulttags.URLNode):
    """Django's ``URLNode``, reversing through ``reverse_kept``."""

    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = reverse_kept(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """``{% url 'name' arg1 key=value as var %}``, read by Django's own parser."""
    node = defaulttags.url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
