"""Reads for the buyer's page (issue 11, section 2): everything the desk knows about one
buyer, in the shops the user serves only.

A buyer is their nickname (``Order.buyer_nick``, 买家会员名): the same nickname in two shops
is the same Taobao account. Each list is read through the same ``visible_*`` queryset as its
own page, newest first, and bounded (``BUYER_PAGE_ROWS``; one row more is read to tell that
there are more), so the page runs the same dozen indexed queries for a buyer with three
orders or three thousand. Which lists a user gets follows their permissions: finance reads
orders and tickets, not reviews or parcels.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from .models import Order, Promise, ReviewContact, TicketPhoto
from .selectors import visible_orders, visible_parcels, visible_tickets
from .selectors_registers import buyer_contact_counts, visible_reviews, visible_vips

# Rows per list on the buyer's page; photos are small, so a few more of them.
BUYER_PAGE_ROWS = 20
BUYER_PAGE_PHOTOS = 24

# What each list of the page shows (templates/tickets/buyer_detail.html and
# _buyer_order_rows.html), and no more: every list read whole rows with two or three related
# rows each, also those the page never names (a ticket's shop, a parcel's order and courier, a
# review's order and handler), and building those objects was half the page's server time at
# a million orders (bench/README.md, eleventh session). A person is named by ``User.__str__``.
_PERSON = ("username", "first_name", "last_name")
ORDER_ROW_FIELDS = (
    *("shop", "order_no", "flag", "flag_memo", "status", "paid_amount", "placed_at"),
    *("receiver_name", "receiver_phone", "receiver_city", "shop__name"),
)
TICKET_ROW_FIELDS = (
    *("order", "kind", "reason", "status", "assignee", "created_at", "order__order_no"),
    *(f"assignee__{name}" for name in _PERSON),
)
PROMISE_ROW_FIELDS = ("ticket", "kind", "text", "due_on", "fulfilled_at", "waived_at", "ticket__id")
PARCEL_ROW_FIELDS = ("tracking_no", "condition", "ticket", "created_at", "buyer_note", "ticket__id")
REVIEW_ROW_FIELDS = ("rating", "shop", "made_at", "outcome", "text", "shop__name")
TEMPERAMENT_ROW_FIELDS = ("buyer_notes", "shop", "made_at", "shop__name")
CONTACT_ROW_FIELDS = (
    *("contacted_at", "channel", "agent", "result"),
    *(f"agent__{name}" for name in _PERSON),
)
PHOTO_ROW_FIELDS = ("ticket", "original_name", "ticket__id")


@dataclass
class Rows:
    """A bounded list: the first ``limit`` rows, and whether there were more."""

    rows: list
    more: bool

    @classmethod
    def read(cls, queryset, limit: int = BUYER_PAGE_ROWS) -> "Rows":
        found = list(queryset[: limit + 1])
        return cls(found[:limit], len(found) > limit)


@dataclass
class ContactCounter:
    """The harassment guard's counts for the buyer (``buyer_contact_counts``, every shop)
    against its limits (settings DESK_REVIEW_MAX_CONTACTS_TOTAL / _PER_DAY)."""

    following: int
    recent: int
    max_total: int = field(default_factory=lambda: settings.DESK_REVIEW_MAX_CONTACTS_TOTAL)
    max_per_day: int = field(default_factory=lambda: settings.DESK_REVIEW_MAX_CONTACTS_PER_DAY)

    @property
    def blocked(self) -> bool:
        """Another contact now would be refused by ``contact_refusal``."""
        return self.following >= self.max_total or self.recent >= self.max_per_day


@dataclass
class BuyerPage:
    """What the buyer's page shows. Lists the user may not read are None."""

    nick: str
    orders: Rows
    order_count: int
    tickets: Rows | None = None
    ticket_count: int | None = None
    open_ticket_count: int | None = None
    promises: Rows | None = None
    parcels: Rows | None = None
    reviews: Rows | None = None
    temperament: Rows | None = None
    contacts: Rows | None = None
    contact_counter: ContactCounter | None = None
    photos: Rows | None = None
    vips: list = field(default_factory=list)


def buyer_orders(user, nick: str):
    """Every order of the buyer ``nick`` (matched exactly; "" or longer than a nickname can
    be: none) in the shops ``user`` serves, newest first, with their shop: a queryset."""
    if not nick or len(nick) > Order._meta.get_field("buyer_nick").max_length:
        return Order.objects.none()
    return (
        visible_orders(user)
        .filter(buyer_nick=nick)
        .select_related("shop")
        .order_by("-placed_at", "-id")
    )


def buyer_page(user, nick: str, now: datetime | None = None) -> BuyerPage | None:
    """Everything about the buyer ``nick`` (matched exactly) that ``user`` may see, newest
    first; None when the buyer has no order in, and is no VIP of, any shop the user serves,
    so that a buyer of other shops is indistinguishable from no buyer at all (the view
    answers 404).

    Orders and tickets need ``view_order`` / ``view_ticket``; promises, parcels, reviews and
    the temperament notes (买家性格备注, written on reviews), contacts, photos and VIP status
    need their model's view permission. The contact counter counts every shop, as the
    harassment guard does (the platform punishes contacting the buyer too often, whichever
    shop asked)."""
    now = now or timezone.now()
    if not nick or len(nick) > Order._meta.get_field("buyer_nick").max_length:
        return None
    can = user.has_perm
    orders = buyer_orders(user, nick)
    vips = []
    if can("tickets.view_vipcustomer"):
        vips = list(
            visible_vips(user).filter(buyer_nick=nick).select_related("shop").order_by("shop")
        )
    page = BuyerPage(
        nick=nick,
        orders=Rows.read(orders.only(*ORDER_ROW_FIELDS)),
        order_count=0,
        vips=vips,
    )
    if not page.orders.rows and not vips:
        return None
    page.order_count = orders.count() if page.orders.more else len(page.orders.rows)
    tickets = visible_tickets(user).filter(order__buyer_nick=nick)
    if can("tickets.view_ticket"):
        page.tickets = Rows.read(
            tickets.select_related("order", "assignee")
            .only(*TICKET_ROW_FIELDS)
            .order_by("-created_at", "-id")
        )
        page.ticket_count = tickets.count() if page.tickets.more else len(page.tickets.rows)
        page.open_ticket_count = tickets.open().count()
    if can("tickets.view_promise"):
        page.promises = Rows.read(
            Promise.objects.filter(ticket__in=tickets)
            .select_related("ticket")
            .only(*PROMISE_ROW_FIELDS)
            .order_by("-created_at", "-id")
        )
    if can("tickets.view_returnparcel"):
        page.parcels = Rows.read(
            visible_parcels(user)
            .filter(order__buyer_nick=nick)
            .select_related("ticket")
            .only(*PARCEL_ROW_FIELDS)
            .order_by("-created_at", "-id")
        )
    if can("tickets.view_review"):
        reviews = visible_reviews(user).filter(order__buyer_nick=nick)
        page.reviews = Rows.read(
            reviews.select_related("shop").only(*REVIEW_ROW_FIELDS).order_by("-made_at", "-id")
        )
        page.temperament = Rows.read(
            reviews.exclude(buyer_notes="")
            .select_related("shop")
            .only(*TEMPERAMENT_ROW_FIELDS)
            .order_by("-made_at", "-id"),
            limit=5,
        )
        if can("tickets.view_reviewcontact"):
            page.contacts = Rows.read(
                ReviewContact.objects.filter(review__in=reviews)
                .select_related("agent")
                .only(*CONTACT_ROW_FIELDS)
                .order_by("-contacted_at", "-id")
            )
            page.contact_counter = ContactCounter(*buyer_contact_counts(nick, now))
    if can("tickets.view_ticketphoto"):
        page.photos = Rows.read(
            TicketPhoto.objects.filter(ticket__in=tickets)
            .select_related("ticket")
            .only(*PHOTO_ROW_FIELDS)
            .order_by("-created_at", "-id"),
            limit=BUYER_PAGE_PHOTOS,
        )
    return page
