"""URLs of the order import and the postage calculator (issue 6)."""

from django.urls import path

from .views import imports

app_name = "imports"

urlpatterns = [
    path("", imports.import_home, name="home"),
    path("<id:pk>/", imports.import_detail, name="detail"),
    path("<id:pk>/apply/", imports.import_apply, name="apply"),
    path("<id:pk>/discard/", imports.import_discard, name="discard"),
    path("postage/", imports.postage_calculator, name="postage"),
]
