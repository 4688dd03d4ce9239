"""The API's background work: sending one webhook delivery, retried with backoff."""

from celery import shared_task
from django.conf import settings

from .webhooks import WebhookSendError, webhook_send


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
