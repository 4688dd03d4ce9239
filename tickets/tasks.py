from celery import shared_task

from finance_exports.tasks import catch_up_if_due

from .services.system import heartbeat_record


@shared_task(name="tickets.tasks.heartbeat", ignore_result=False)
def heartbeat(source: str = "beat") -> str:
    """Runs every minute from beat (and once when a worker starts): proves the scheduler,
    the broker and a worker all work, and is where catch-up checks hang."""
    beat = heartbeat_record(name=source, detail="celery")
    catch_up_if_due()  # a finance sheet or exchange list missed while beat was down
    return beat.beat_at.isoformat()
