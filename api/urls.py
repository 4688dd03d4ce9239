"""``/api/v1/``: the endpoints, the OpenAPI schema and its docs (README "The API")."""

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from . import views

app_name = "api"


def token_door(view):
    """The API's views answer a token, not a session: the desk's login redirect would be the
    wrong answer to an integration, so they are let past it and refuse without a valid token
    themselves (401, JSON). Deny by default still holds: ``TokenScope`` on every view."""
    return login_not_required(view)


def docs_page(view):
    """The desk's Content-Security-Policy with ``data:`` images allowed (img-src is 'self'
    elsewhere), for the docs page only: Swagger UI's 24 icons are data: URIs in its CSS."""
    return csp_update({"img-src": ["data:"]})(view)


urlpatterns = [
    path("v1/token/", token_door(views.TokenView.as_view()), name="token"),
    path("v1/orders/batches/", token_door(views.OrderBatchView.as_view()), name="order_batch"),
    path("v1/refunds/batches/", token_door(views.RefundBatchView.as_view()), name="refund_batch"),
    path("v1/tickets/", token_door(views.TicketListView.as_view()), name="ticket_list"),
    path(
        "v1/tickets/changes/",
        token_door(views.TicketChangesView.as_view()),
        name="ticket_changes",
    ),
    path("v1/tickets/<id:pk>/", token_door(views.TicketDetailView.as_view()), name="ticket_detail"),
    path("v1/ledger/", token_door(views.LedgerView.as_view()), name="ledger"),
    path("v1/sheets/", token_door(views.SheetListView.as_view()), name="sheet_list"),
    path("v1/sheets/<id:pk>/file/", token_door(views.SheetFileView.as_view()), name="sheet_file"),
    path("v1/schema/", token_door(views.SchemaView.as_view()), name="schema"),
    # Administrators only, in the browser: the login redirect applies.
    # Swagger UI's stylesheet draws its icons as data: images: that page alone may show them.
    path("v1/docs/", login_required(docs_page(views.DocsView.as_view())), name="docs"),
    # Any method: a POST to a mistyped path is a JSON 404 too, not the pages' CSRF refusal.
    re_path(r"^.*$", csrf_exempt(token_door(views.not_found)), name="not_found"),
]
