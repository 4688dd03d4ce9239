"""Sheets in the admin: built by the desk, never typed in; listed for whoever may see them on
the finance page (``visible_sheets``), and read-only for everyone."""

from django.contrib import admin

from finance_exports.models import Sheet, SheetDownload
from finance_exports.selectors import visible_sheets
from tickets.admin import ServiceDoorAdmin


@admin.register(Sheet)
class SheetAdmin(ServiceDoorAdmin):
    list_display = ("kind", "business_date", "status", "row_count", "total_amount", "approved_by")
    list_filter = ("kind", "status")
    date_hierarchy = "business_date"
    exclude = ("file",)

    def get_queryset(self, request):
        return visible_sheets(request.user)


@admin.register(SheetDownload)
class SheetDownloadAdmin(ServiceDoorAdmin):
    list_display = ("sheet", "user", "downloaded_at")
    list_select_related = ("sheet", "user")

    def get_queryset(self, request):
        return SheetDownload.objects.filter(sheet__in=visible_sheets(request.user))
