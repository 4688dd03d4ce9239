"""``manage.py heartbeat_check beat``: exits 0 when that heartbeat is fresh, 1 (with the reason
on stderr) when it is stale or was never recorded. A process's own health check in a container
(compose.yaml's beat): beat records ``beat`` from its own loop every ``DESK_HEARTBEAT_SECONDS``
(``aftersales/celery.py``), fresh for ``DESK_HEARTBEAT_STALE_SECONDS`` - the same rule as
``/healthz``, without a web node to ask. A database that cannot be read is a failure too."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Heartbeat
from tickets.views.system import HEARTBEATS


class Command(BaseCommand):
    help = "Exits 0 when the named heartbeat (beat, worker, tasks) is fresh, else 1."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("name", choices=HEARTBEATS)

    def handle(self, *args, name: str, **options):
        beat = Heartbeat.objects.filter(name=name).first()
        if beat is None:
            raise CommandError(_("心跳 %(name)s 从未记录。") % {"name": name})
        age = (timezone.now() - beat.beat_at).total_seconds()
        if age > settings.DESK_HEARTBEAT_STALE_SECONDS:
            raise CommandError(
                _("心跳 %(name)s 已经 %(seconds)d 秒没有记录。") % {"name": name, "seconds": age}
            )
