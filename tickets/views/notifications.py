"""The bell (通知, issue 13 section 2): the user's own notifications and marking them read."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from tickets.selectors import my_notifications
from tickets.services.notifications import notification_mark_read, notifications_mark_all_read
from tickets.text import plain_int

PAGE_SIZE = 50


@require_GET
def notification_list(request):
    rows = my_notifications(request.user).select_related("shop")
    page = Paginator(rows, PAGE_SIZE).get_page(plain_int(request.GET.get("page", "")) or 1)
    newest = rows.values_list("pk", flat=True).first()
    return render(request, "tickets/notification_list.html", {"page": page, "newest": newest or 0})


@require_POST
def notification_open(request, pk):
    """Marks one of the user's notifications read and goes where it points (another user's
    notification: 404)."""
    notification = get_object_or_404(my_notifications(request.user), pk=pk)
    notification_mark_read(actor=request.user, notification=notification)
    url = notification.url
    if request.POST.get("go") and url.startswith("/") and not url.startswith("//"):
        return redirect(url)
    return redirect("tickets:notification_list")


@require_POST
def notifications_read_all(request):
    """Marks the user's unread notifications read, up to the newest the page showed."""
    notifications_mark_all_read(
        actor=request.user, up_to=plain_int(request.POST.get("up_to", "")) or None
    )
    return redirect("tickets:notification_list")
