# A promise not kept when its ticket ends is waived with a reason; and the database refuses a
# row whose shop is not its order's shop (a ledger row, a ticket, a register entry), and an
# order moved to another shop under its tickets and money.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from tickets.db import row_guard_install, row_guard_remove


def shop_guard_forward(apps, schema_editor):
    row_guard_install(schema_editor, "shop_is_order_shop")


def restore_timeline_guard(apps, schema_editor):
    """SQLite rebuilds a table to change its constraints, and the rebuild drops its triggers:
    the timeline's append-only trigger (migration 0002) is put back after the change above."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER IF NOT EXISTS tickets_ticketevent_append_only BEFORE UPDATE ON "
            "tickets_ticketevent BEGIN SELECT RAISE(ABORT, "
            "'table tickets_ticketevent is append-only: UPDATE refused'); END;"
        )


def shop_guard_backward(apps, schema_editor):
    row_guard_remove(schema_editor, "shop_is_order_shop")


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0007_covering_open_ticket_index'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='ticketevent',
            name='ticket_event_kind_valid',
        ),
        migrations.AddField(
            model_name='promise',
            name='waived_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='放弃时间'),
        ),
        migrations.AddField(
            model_name='promise',
            name='waived_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='放弃人'),
        ),
        migrations.AddField(
            model_name='promise',
            name='waived_reason',
            field=models.CharField(blank=True, max_length=255, verbose_name='未兑现原因'),
        ),
        migrations.AlterField(
            model_name='ticketevent',
            name='kind',
            field=models.CharField(choices=[('opened', '创建'), ('status', '状态变更'), ('assigned', '分配'), ('note', '备注'), ('money', '资金'), ('parcel', '退件'), ('tracking', '退回运单号'), ('photo', '照片'), ('promise', '承诺'), ('escalated', '升级')], max_length=16, verbose_name='类型'),
        ),
        migrations.AddConstraint(
            model_name='promise',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('waived_at__isnull', True), ('waived_by__isnull', True), ('waived_reason', '')), models.Q(('fulfilled_at__isnull', True), ('waived_at__isnull', False), ('waived_by__isnull', False), models.Q(('waived_reason', ''), _negated=True)), _connector='OR'), name='promise_waived_with_who_when_why_and_not_kept'),
        ),
        migrations.AddConstraint(
            model_name='ticketevent',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['opened', 'status', 'assigned', 'note', 'money', 'parcel', 'tracking', 'photo', 'promise', 'escalated'])), name='ticket_event_kind_valid'),
        ),
        migrations.RunPython(restore_timeline_guard, migrations.RunPython.noop),
        migrations.RunPython(shop_guard_forward, shop_guard_backward),
    ]
