from django.conf.urls.i18n import set_language
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, register_converter

from aftersales.converters import IdConverter
from aftersales.lockout_views import lockout_list, lockout_release
from tickets.views.system import healthz, healthz_web, readyz

# <id:pk> in every URL of the desk: an id that fits the database, else 404 (registered before
# the includes below read their patterns).
register_converter(IdConverter, "id")

# The error pages in the desk's layout and the user's language (aftersales/error_views.py).
handler400 = "aftersales.error_views.bad_request"
handler403 = "aftersales.error_views.permission_denied"
handler404 = "aftersales.error_views.page_not_found"
handler500 = "aftersales.error_views.server_error"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Locked-out logins and their unlock (supervisors, administrators).
    path("lockouts/", lockout_list, name="login_lockouts"),
    path("lockouts/release/", lockout_release, name="login_lockout_release"),
    # Switching the language is allowed on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", healthz, name="healthz"),
    path("healthz/web", healthz_web, name="healthz_web"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # The API for the shops' ERPs and scripts (issue 16): bearer tokens, JSON, /api/v1/.
    path("api/", include("api.urls")),
    path("finance/", include("finance_exports.urls")),
    path("imports/", include("tickets.urls_imports")),
    path("registers/", include("tickets.urls_registers")),
    path("", include("tickets.urls")),
]
