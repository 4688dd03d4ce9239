"""The desk's URLs plus two views that fail, for the error-page tests: Django's handlers are
read from the root URLconf, so this module carries the desk's own."""

from django.core.exceptions import SuspiciousOperation
from django.urls import path

from aftersales import urls as desk_urls

handler400 = desk_urls.handler400
handler403 = desk_urls.handler403
handler404 = desk_urls.handler404
handler500 = desk_urls.handler500


def broken(request):
    raise RuntimeError("a bug in a view")


def suspicious(request):
    raise SuspiciousOperation("a request the desk cannot read")


urlpatterns = [
    path("test-errors/broken/", broken),
    path("test-errors/suspicious/", suspicious),
    *desk_urls.urlpatterns,
]
