"""The desk's domain model, one module per concept."""

from .base import AppendOnlyError
from .catalogue import Product, Sku
from .couriers import CourierLossReport
from .ledger import LedgerApproval, LedgerEntry
from .orders import BuyerNick, Order, OrderChange, OrderItem, PersonalDataAccess
from .parcels import ReturnParcel
from .registers import (
    HandoverNote,
    InvoiceRequest,
    PlatformIntervention,
    ProductFeedback,
    ProductionAlert,
    QualityProblem,
    Review,
    ReviewContact,
    VipCustomer,
    VipFollowUp,
    WrongShipment,
)
from .shops import Courier, Shop, User
from .system import Heartbeat
from .tickets import (
    ExchangeCharge,
    ExchangeReplacement,
    Promise,
    QuickReply,
    SavedView,
    Ticket,
    TicketEvent,
    TicketItem,
    TicketPhoto,
)

__all__ = [
    "AppendOnlyError",
    "Courier",
    "CourierLossReport",
    "ExchangeCharge",
    "ExchangeReplacement",
    "HandoverNote",
    "Heartbeat",
    "InvoiceRequest",
    "LedgerApproval",
    "LedgerEntry",
    "Order",
    "OrderChange",
    "OrderItem",
    "PersonalDataAccess",
    "PlatformIntervention",
    "Product",
    "ProductFeedback",
    "ProductionAlert",
    "Promise",
    "QualityProblem",
    "QuickReply",
    "ReturnParcel",
    "Review",
    "ReviewContact",
    "SavedView",
    "Shop",
    "Sku",
    "Ticket",
    "TicketEvent",
    "TicketItem",
    "TicketPhoto",
    "User",
    "VipCustomer",
    "VipFollowUp",
    "WrongShipment",
]

# Issue 6: the postage rate card and what comes in from the seller centre; issue 13:
# escalations, the bell's notifications and the team chat's robots.
from .imports import OrderImport, OrderImportFile, RefundRequest
from .notifications import ChatWebhook, Escalation, Notification
from .postage import PostageRate, Province

__all__ += ["OrderImport", "OrderImportFile", "PostageRate", "Province", "RefundRequest"]
__all__ += ["ChatWebhook", "Escalation", "Notification"]
__all__ += ["BuyerNick"]
