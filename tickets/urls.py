from django.urls import path

from .views import (
    approvals,
    buyers,
    dashboard,
    exchanges,
    inbox,
    list_tools,
    notifications,
    orders,
    parcels,
    tickets,
)

app_name = "tickets"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("orders/", orders.order_search_view, name="order_search"),
    path("orders/<id:pk>/", orders.order_detail, name="order_detail"),
    path("orders/<id:pk>/reveal/", orders.order_reveal, name="order_reveal"),
    path("orders/<id:pk>/flag/", orders.order_flag_view, name="order_flag"),
    path(
        "orders/<id:pk>/extend-receipt/",
        orders.order_extend_receipt_view,
        name="order_extend_receipt",
    ),
    path("buyers/", buyers.buyer_detail, name="buyer_detail"),
    path("buyers/orders/", buyers.buyer_orders_view, name="buyer_orders"),
    path("orders/<id:order_pk>/tickets/new/", tickets.ticket_new, name="ticket_new"),
    path("tickets/", tickets.ticket_list, name="ticket_list"),
    path("tickets/export.xlsx", tickets.ticket_export, name="ticket_export"),
    path("tickets/bulk/", list_tools.ticket_bulk, name="ticket_bulk"),
    path("tickets/views/", list_tools.saved_view_create_view, name="saved_view_create"),
    path("tickets/views/<id:pk>/share/", list_tools.saved_view_share_view, name="saved_view_share"),
    path(
        "tickets/views/<id:pk>/delete/",
        list_tools.saved_view_delete_view,
        name="saved_view_delete",
    ),
    path("tickets/<id:pk>/", tickets.ticket_detail, name="ticket_detail"),
    path("tickets/<id:pk>/transition/", tickets.ticket_transition_view, name="ticket_transition"),
    path("tickets/<id:pk>/assign/", tickets.ticket_assign_view, name="ticket_assign"),
    path("tickets/<id:pk>/note/", tickets.ticket_note_view, name="ticket_note"),
    path("tickets/<id:pk>/escalate/", tickets.ticket_escalate_view, name="ticket_escalate"),
    path(
        "tickets/<id:pk>/await-buyer/", tickets.ticket_await_buyer_view, name="ticket_await_buyer"
    ),
    path(
        "tickets/<id:pk>/buyer-answered/",
        tickets.ticket_buyer_answered_view,
        name="ticket_buyer_answered",
    ),
    path("tickets/<id:pk>/promises/", tickets.promise_add_view, name="promise_add"),
    path(
        "tickets/<id:pk>/promises/<id:promise_pk>/fulfil/",
        tickets.promise_fulfil_view,
        name="promise_fulfil",
    ),
    path("tickets/<id:pk>/money/", tickets.ledger_record_view, name="ledger_record"),
    path(
        "tickets/<id:pk>/money/<id:entry_pk>/reverse/",
        tickets.ledger_reverse_view,
        name="ledger_reverse",
    ),
    path("tickets/<id:pk>/goods/", exchanges.exchange_goods_view, name="exchange_goods"),
    path("tickets/<id:pk>/charges/", exchanges.exchange_charge_view, name="exchange_charge"),
    path(
        "tickets/<id:pk>/charges/<id:charge_pk>/reverse/",
        exchanges.exchange_charge_reverse_view,
        name="exchange_charge_reverse",
    ),
    path("tickets/<id:pk>/photos/", tickets.photo_upload_view, name="photo_upload"),
    path("tickets/<id:pk>/photos/<id:photo_pk>/", tickets.photo_file, name="photo_file"),
    path("parcels/", parcels.parcel_list, name="parcel_list"),
    path("parcels/unpack/", parcels.parcel_unpack_view, name="parcel_unpack"),
    path("parcels/<id:pk>/match/", parcels.parcel_match_view, name="parcel_match"),
    path("approvals/", approvals.approval_list, name="approval_list"),
    path("approvals/<id:entry_pk>/", approvals.approval_decide, name="approval_decide"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("escalations/<id:pk>/decide/", inbox.escalation_decide_view, name="escalation_decide"),
    path("notifications/", notifications.notification_list, name="notification_list"),
    path("notifications/<id:pk>/read/", notifications.notification_open, name="notification_open"),
    path(
        "notifications/read-all/",
        notifications.notifications_read_all,
        name="notifications_read_all",
    ),
]
