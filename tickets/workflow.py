"""Each ticket kind's state machine: which status may follow which.

``ticket_transition`` (tickets.services) is the one door that changes a ticket's status; it
refuses anything not listed here. Every open status may also be cancelled.
"""

from .models import Ticket

S = Ticket.Status
K = Ticket.Kind

WORKFLOWS: dict[str, dict[str, tuple[str, ...]]] = {
    K.EXCHANGE: {
        S.OPEN: (S.AWAITING_RETURN,),
        S.AWAITING_RETURN: (S.RECEIVED, S.QUEUED_FOR_EXCHANGE),
        S.RECEIVED: (S.QUEUED_FOR_EXCHANGE,),
        S.QUEUED_FOR_EXCHANGE: (S.ON_EXCHANGE_LIST,),
        S.ON_EXCHANGE_LIST: (S.SHIPPED, S.QUEUED_FOR_EXCHANGE),
        S.SHIPPED: (S.CLOSED,),
    },
    K.RETURN: {
        S.OPEN: (S.AWAITING_RETURN,),
        S.AWAITING_RETURN: (S.RECEIVED,),
        S.RECEIVED: (S.REFUNDED,),
        S.REFUNDED: (S.CLOSED,),
    },
    K.REFUND_ONLY: {
        S.OPEN: (S.REFUNDED,),
        S.REFUNDED: (S.CLOSED,),
    },
    K.RESHIP: {
        S.OPEN: (S.SHIPPED,),
        S.SHIPPED: (S.CLOSED,),
    },
    K.REPAIR: {
        S.OPEN: (S.AWAITING_RETURN,),
        S.AWAITING_RETURN: (S.RECEIVED,),
        S.RECEIVED: (S.IN_REPAIR,),
        S.IN_REPAIR: (S.SHIPPED,),
        S.SHIPPED: (S.CLOSED,),
    },
    K.COMPENSATION: {
        S.OPEN: (S.COMPENSATED,),
        S.COMPENSATED: (S.CLOSED,),
    },
}


def allowed_next(kind: str, status: str) -> tuple[str, ...]:
    """Statuses a ticket of ``kind`` may move to from ``status``."""
    if status in Ticket.FINISHED_STATUSES:
        return ()
    return (*WORKFLOWS[kind].get(status, ()), S.CANCELLED)


def happy_path(kind: str) -> list[str]:
    """The usual road from open to closed, first choice at each step."""
    path, status = [S.OPEN], S.OPEN
    while status != S.CLOSED:
        status = WORKFLOWS[kind][status][0]
        path.append(status)
    return path


# Moves made by the exchange-goods list itself (building it, taking a line off, shipping a
# line of a signed list), never by a button or a hand-made POST: ``ticket_transition`` refuses
# them unless the list asks. A ticket on a list is not cancelled behind the list's back: a
# supervisor takes its line off first (which unsigns a signed list), then it can be cancelled.
LIST_ONLY = {
    (K.EXCHANGE, S.QUEUED_FOR_EXCHANGE, S.ON_EXCHANGE_LIST),
    (K.EXCHANGE, S.ON_EXCHANGE_LIST, S.QUEUED_FOR_EXCHANGE),
    (K.EXCHANGE, S.ON_EXCHANGE_LIST, S.SHIPPED),
    (K.EXCHANGE, S.ON_EXCHANGE_LIST, S.CANCELLED),
}


def manual_next(kind: str, status: str) -> tuple[str, ...]:
    """The moves an agent makes by hand on the ticket page."""
    return tuple(
        target for target in allowed_next(kind, status) if (kind, status, target) not in LIST_ONLY
    )


# --- courier-loss reports -------------------------------------------------------------
# A loss report (DOMAIN.md "The daily routine" 7) is written, handed to the courier's pickup
# person, accepted or rejected by the courier, and an accepted claim is settled with finance
# at month end. ``courier_loss_transition`` (tickets.services.courier_losses) is its one door.
from .models import CourierLossReport  # noqa: E402  (kept beside its flow, below the tickets')

L = CourierLossReport.Status

LOSS_FLOW: dict[str, tuple[str, ...]] = {
    L.DRAFTED: (L.HANDED,),
    L.HANDED: (L.ACCEPTED, L.REJECTED),
    L.ACCEPTED: (L.SETTLED,),
    L.REJECTED: (),
    L.SETTLED: (),
}


def loss_allowed_next(status: str) -> tuple[str, ...]:
    """Statuses a courier-loss report may move to from ``status``, in the order offered."""
    return LOSS_FLOW.get(status, ())
