from django.urls import path  # noqa: F401 - patterns are added with the finance pages

app_name = "finance_exports"

urlpatterns = []
