"""The shape every register's pages share, written once: a filtered list, a form that writes
one row through one service, a detail page. Each register's module fills in its rows (the
visible queryset), its filter, form, service call and template.

Every page checks the register's permission on the server (a logged-in user without it gets
403; the login middleware sends anonymous users to the login page) and loads its rows through
``tickets.selectors_registers``, so another shop's id is a 404. Changes to an existing row are
POST-only actions (``tickets.views.actions.post_action``).
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, TemplateView

from tickets.models import User
from tickets.services import DeskError
from tickets.text import plain_int

PAGE_SIZE = 50

Rows = Callable[[User], QuerySet]


class RegisterPage(PermissionRequiredMixin):
    """A register page for users holding ``permission_required``; 403 for the others."""

    raise_exception = True
    http_method_names = ["get", "head", "options"]


class RegisterListView(RegisterPage, TemplateView):
    """One page of a register's rows, filtered by ``filterset_class`` (built from the user),
    without COUNT(*): one row more than a page tells whether there is a next page.

    Subclasses set ``rows`` (a staticmethod: user → the visible queryset, with what the list
    shows), ``filterset_class`` and ``template_name``."""

    rows: Rows
    filterset_class = None

    def filter_data(self):
        return self.request.GET

    def decorate(self, rows: list) -> None:
        """Adds per-row facts the template shows (called on the page's rows only)."""

    def get_context_data(self, **kwargs):
        request = self.request
        filterset = self.filterset_class(
            self.filter_data(), queryset=self.rows(request.user), request=request
        )
        # As the ticket list: a hand-made page=10**30 would overflow the database's OFFSET.
        page = max(1, plain_int(request.GET.get("page"), digits=6) or 1)
        rows = []
        if filterset.is_valid():
            start = (page - 1) * PAGE_SIZE
            rows = list(filterset.qs[start : start + PAGE_SIZE + 1])
        self.decorate(rows)
        query = request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            filter=filterset,
            rows=rows[:PAGE_SIZE],
            page=page,
            has_next=len(rows) > PAGE_SIZE,
            has_previous=page > 1,
            query=query.urlencode(),
            now=timezone.now(),
            **kwargs,
        )


class RegisterCreateView(RegisterPage, FormView):
    """GET shows the form; a valid POST calls one service (``save``) and goes to the row it
    wrote. A ``DeskError`` from the service is shown on the form.

    Subclasses set ``form_class`` (its ``user`` is the requesting user, so every order, ticket
    and shop it accepts is one the user may see), ``title`` and ``save``."""

    http_method_names = ["get", "post", "head", "options"]
    template_name = "registers/form.html"
    title = ""

    def save(self, data: dict) -> str:
        """Writes the row from the form's cleaned data; returns the URL to go to."""
        raise NotImplementedError

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, **kwargs)

    def form_valid(self, form):
        try:
            url = self.save(form.cleaned_data)
        except DeskError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, _("已登记。"))
        return redirect(url)


class RegisterDetailView(RegisterPage, DetailView):
    """One row the user may see (``rows(user)``; another shop's id is a 404).

    Subclasses set ``rows``, ``template_name`` and ``context_object_name``, and add what the
    page needs in ``get_context_data``."""

    rows: Rows

    def get_queryset(self):
        return self.rows(self.request.user)
