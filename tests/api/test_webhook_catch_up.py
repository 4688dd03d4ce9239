"""The beat's catch-up of webhook deliveries no task will send (issue 16 leftovers 1): the task
was lost (the broker was down when the event committed) or skipped the delivery (its endpoint
was switched off, then on again). Run through the Celery task beat sends
(``api.tasks.webhook_catch_up``), sending to a local receiver: each delivery is queued once,
even with two beats at once, never while its own retries are still coming, and given up
(failed, recorded) past the retry policy's limit."""

import contextlib
import json
import threading
from datetime import timedelta

import pytest
from celery import _state as celery_state
from django.conf import settings
from django.db import connection
from django.utils import timezone

from api.models import WebhookAttempt, WebhookDelivery
from api.tasks import webhook_catch_up, webhook_deliver
from api.webhooks import attempts_allowed
from tests.factories import make_order, make_ticket
from tests.tickets.test_chat_webhook import Receiver
from tickets.models import Ticket
from tickets.services.tickets import ticket_transition

from .test_webhooks import OK, endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def status_changes(agent, shop, n=1):
    """``n`` tickets moved once each: one delivery per endpoint that hears it. Their tasks go
    to the broker, which no worker reads in the tests: lost, as with the broker down."""
    for _ in range(n):
        ticket = make_ticket(make_order(shop), agent, kind=Ticket.Kind.RETURN)
        ticket_transition(actor=agent, ticket=ticket, to_status=Ticket.Status.AWAITING_RETURN)


@contextlib.contextmanager
def worker():
    """Tasks queued meanwhile run at once, in this process (as a worker would run them)."""
    conf = webhook_catch_up.app.conf
    previous = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, False
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_eager_propagates = previous


def catch_up() -> dict:
    """What beat does: the catch-up task, with a worker running what it queues."""
    with worker():
        return webhook_catch_up.apply().get()


def untouched_for(minutes, **filters):
    when = timezone.now() - timedelta(minutes=minutes)
    WebhookDelivery.objects.filter(**filters).update(updated_at=when)


def test_the_beat_entry_runs_the_catch_up_every_few_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["webhook-catch-up"]
    assert entry["task"] == webhook_catch_up.name and entry["schedule"] <= 600


def test_a_delivery_whose_task_was_lost_is_sent_once_by_the_catch_up(agent, shop_a):
    with Receiver([OK]) as receiver:
        # given: a delivery whose task never reached a worker, 20 minutes ago
        endpoint(receiver.url, shops=[shop_a])
        status_changes(agent, shop_a)
        untouched_for(20)
        assert receiver.requests == []
        # when: beat runs the catch-up (the worker runs what it queues)
        first, second = catch_up(), catch_up()
    # then: sent once; the next run finds nothing to do
    assert first == {"queued": 1, "failed": 0} and second == {"queued": 0, "failed": 0}
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_a_delivery_between_its_retries_is_left_to_them(agent, shop_a):
    """Trying to get around it: a delivery the task tried 5 minutes ago waits for its own next
    retry (at most 10 minutes later); queued again too, it would be sent twice."""
    with Receiver([OK]) as receiver:
        endpoint(receiver.url, shops=[shop_a])
        status_changes(agent, shop_a)
        WebhookDelivery.objects.update(attempts=1, last_error="HTTP 503")
        untouched_for(5)
        assert catch_up() == {"queued": 0, "failed": 0}
        assert receiver.requests == []
        # past the longest backoff, no retry is coming: the catch-up sends it
        untouched_for(16)
        assert catch_up() == {"queued": 1, "failed": 0}
        assert len(receiver.requests) == 1


def test_an_endpoint_switched_off_and_on_gets_what_it_missed(agent, shop_a):
    with Receiver([OK]) as receiver:
        # given: a delivery whose task ran while its endpoint was switched off (skipped)
        hook = endpoint(receiver.url, shops=[shop_a])
        status_changes(agent, shop_a)
        missed = WebhookDelivery.objects.get()
        hook.is_active = False
        hook.save()
        assert webhook_deliver.apply(args=(missed.pk,)).get() == "skipped"
        missed.refresh_from_db()
        assert (missed.status, missed.attempts) == ("pending", 0)
        untouched_for(20)
        # when the catch-up runs while it is off: nothing
        assert catch_up() == {"queued": 0, "failed": 0}
        # and once it is on again: sent
        hook.is_active = True
        hook.save()
        assert catch_up() == {"queued": 1, "failed": 0}
    missed.refresh_from_db()
    assert missed.status == "delivered" and len(receiver.requests) == 1


def test_past_the_retry_limit_the_catch_up_gives_up_and_says_so(agent, shop_a):
    allowed = attempts_allowed()
    assert allowed == settings.DESK_WEBHOOK_MAX_RETRIES + 1
    with Receiver([(500, b"down", 0)]) as receiver:
        endpoint(receiver.url, shops=[shop_a])
        status_changes(agent, shop_a, n=2)
        used_up, one_left = WebhookDelivery.objects.order_by("pk")
        # given: one delivery whose worker died after its last attempt, one with one left
        WebhookDelivery.objects.filter(pk=used_up.pk).update(attempts=allowed)
        WebhookDelivery.objects.filter(pk=one_left.pk).update(attempts=allowed - 1)
        untouched_for(20)
        # when
        result = catch_up()
    # then: the first is failed without a send; the second tried once more, then failed,
    # not started on a new round of retries
    assert result == {"queued": 1, "failed": 1}
    assert len(receiver.requests) == 1
    used_up.refresh_from_db()
    one_left.refresh_from_db()
    assert (used_up.status, used_up.last_error) == ("failed", f"gave up after {allowed} attempts")
    assert (one_left.status, one_left.attempts, one_left.last_error) == (
        "failed",
        allowed,
        "HTTP 500",
    )
    assert WebhookAttempt.objects.filter(delivery=one_left).count() == 1
    # and failed is final: the catch-up leaves both alone
    untouched_for(20)
    assert catch_up() == {"queued": 0, "failed": 0}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_two_beats_at_once_queue_each_delivery_once(agent, shop_a):
    with Receiver([OK]) as receiver:
        endpoint(receiver.url, shops=[shop_a])
        status_changes(agent, shop_a, n=12)
        untouched_for(20)
        # when: two beats (or two workers) run the catch-up at the same moment
        barrier, results = threading.Barrier(2), []

        def beat():
            try:
                barrier.wait()
                results.append(webhook_catch_up.apply().result)
            finally:
                connection.close()

        threads = [threading.Thread(target=beat) for _ in range(2)]
        # Celery keeps "a task is running here" in one process-wide flag that each eager run
        # sets and restores: two threads interleaving leave it set, and every later .get() in
        # the process would refuse. It is put back as it was.
        join_will_block = celery_state.task_join_will_block()
        try:
            with worker():
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(60)
        finally:
            celery_state._set_task_join_will_block(join_will_block)
    # then: 12 queued between them, each delivery sent once
    assert sum(r["queued"] for r in results) == 12
    sent = sorted(json.loads(body)["id"] for _path, body in receiver.requests)
    assert sent == sorted(WebhookDelivery.objects.values_list("pk", flat=True))
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
