"""The API's background work: sending one webhook delivery, retried with backoff, and the
beat's catch-up of deliveries no task will send."""

from celery import shared_task
from django.conf import settings

from .webhooks import WebhookSendError, webhook_deliveries_catch_up, webhook_send


@shared_task(
    name="api.tasks.webhook_deliver",
    bind=True,
    autoretry_for=(WebhookSendError, OSError),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=settings.DESK_WEBHOOK_MAX_RETRIES,
)
def webhook_deliver(self, delivery_id: int) -> str:
    """Sends delivery ``delivery_id`` (``webhooks.webhook_send``), queued after the event's
    transaction commits. A receiver's HTTP error, an unreachable or slow receiver is retried
    with exponential backoff (2 s, 4 s, 8 s … at most 10 min apart) up to
    ``DESK_WEBHOOK_MAX_RETRIES`` times; the last failure marks the delivery failed. A refused
    address or a redirect is not retried (returns "failed", the delivery marked failed)."""
    return webhook_send(delivery_id=delivery_id, final=self.request.retries >= self.max_retries)


@shared_task(name="api.tasks.webhook_catch_up")
def webhook_catch_up() -> dict[str, int]:
    """Queues again the pending deliveries whose task was lost or skipped, each once however
    many beats or workers run this at once, and gives up on those past the retry policy's
    limit (``webhooks.webhook_deliveries_catch_up``). Every 5 minutes, from beat."""
    return webhook_deliveries_catch_up()
