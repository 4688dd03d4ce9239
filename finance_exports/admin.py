from django.contrib import admin

from .models import Sheet, SheetDownload


@admin.register(Sheet)
class SheetAdmin(admin.ModelAdmin):
    """Sheets are built by the desk, never typed in; the admin only shows them."""

    list_display = ("kind", "business_date", "status", "row_count", "total_amount", "approved_by")
    list_filter = ("kind", "status")
    date_hierarchy = "business_date"
    exclude = ("file",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SheetDownload)
class SheetDownloadAdmin(admin.ModelAdmin):
    list_display = ("sheet", "user", "downloaded_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
