"""The desk's domain model, one module per concept."""

from .base import AppendOnlyError
from .catalogue import Product, Sku
from .couriers import CourierLossReport
from .ledger import LedgerApproval, LedgerEntry
from .orders import Order, OrderItem, PersonalDataAccess
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
from .tickets import Promise, QuickReply, Ticket, TicketEvent, TicketItem, TicketPhoto

__all__ = [
    "AppendOnlyError",
    "Courier",
    "CourierLossReport",
    "HandoverNote",
    "Heartbeat",
    "InvoiceRequest",
    "LedgerApproval",
    "LedgerEntry",
    "Order",
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

# Issue 6: the postage rate card and what comes in from the seller centre.
from .imports import OrderImport, OrderImportFile, RefundRequest
from .postage import PostageRate, Province

__all__ += ["OrderImport", "OrderImportFile", "PostageRate", "Province", "RefundRequest"]
