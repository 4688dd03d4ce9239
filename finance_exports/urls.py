from django.urls import path

from . import views

app_name = "finance_exports"

urlpatterns = [
    path("", views.sheet_list, name="sheet_list"),
    path("sheets/<id:pk>/", views.sheet_detail, name="sheet_detail"),
    path("sheets/<id:pk>/download/", views.sheet_download, name="sheet_download"),
    path("sheets/<id:pk>/rebuild/", views.sheet_rebuild_view, name="sheet_rebuild"),
    path("sheets/<id:pk>/approve/", views.exchange_approve_view, name="exchange_approve"),
    path(
        "sheets/<id:pk>/lines/<id:line_pk>/remove/",
        views.exchange_line_remove_view,
        name="exchange_line_remove",
    ),
    path(
        "sheets/<id:pk>/lines/<id:line_pk>/ship/",
        views.exchange_line_ship_view,
        name="exchange_line_ship",
    ),
    path(
        "sheets/<id:pk>/tracking-upload/",
        views.exchange_tracking_upload_view,
        name="exchange_tracking_upload",
    ),
]
