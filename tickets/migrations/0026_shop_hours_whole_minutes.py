# A shop's business hours are whole minutes and at least an hour long (tickets.business_hours,
# Shop.clean, this constraint: one rule). 0023's constraint compared full times while the
# service-level clock dropped the seconds, so 09:00:10-09:00:50 was stored and broke every page
# of the shop, and 23:59:30-00:00 made a one-minute day.

import datetime

import django.db.models.expressions
import django.db.models.functions.datetime
import django.db.models.lookups
from django.db import migrations, models
from django.utils import timezone

REASON = "0026: 客服时间只到整分钟且至少 1 小时，原值已整理"


def _minute(value: datetime.time) -> int:
    return value.hour * 60 + value.minute


def fit_stored_hours(apps, schema_editor):
    """Hours that break the new rule are put right before the constraint is added: cut to the
    minute when that leaves a day of an hour or more (the clock already ran in those minutes,
    since it dropped the seconds), else cleared, so the shop runs on the desk's default
    hours, as its pages have done since the desk refuses such a window. Each change is a row
    in the shop's history (the admin's "历史"), saying why. A handful of shops: one by one."""
    Shop = apps.get_model("tickets", "Shop")
    HistoricalShop = apps.get_model("tickets", "HistoricalShop")
    now = timezone.now()
    fields = [f.attname for f in Shop._meta.concrete_fields]
    for shop in Shop.objects.filter(
        service_opens_at__isnull=False, service_closes_at__isnull=False
    ).order_by("pk"):
        opens, closes = shop.service_opens_at, shop.service_closes_at
        cut_opens = opens.replace(second=0, microsecond=0)
        cut_closes = closes.replace(second=0, microsecond=0)
        length = (_minute(cut_closes) or 24 * 60) - _minute(cut_opens)
        if (cut_opens, cut_closes) == (opens, closes) and length >= 60:
            continue
        if length >= 60:
            shop.service_opens_at, shop.service_closes_at = cut_opens, cut_closes
        else:
            shop.service_opens_at = shop.service_closes_at = None
        shop.updated_at = now
        shop.save(update_fields=["service_opens_at", "service_closes_at", "updated_at"])
        HistoricalShop.objects.create(
            **{name: getattr(shop, name) for name in fields},
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
        )
    if schema_editor.connection.vendor == "postgresql":
        # Nothing may be pending on the tables before the constraint goes on (see 0023).
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0025_order_exact_indexes'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='shop',
            name='shop_service_hours_valid',
        ),
        migrations.RunPython(fit_stored_hours, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='shop',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('service_closes_at__isnull', True), ('service_opens_at__isnull', True)), models.Q(('service_closes_at__isnull', False), ('service_opens_at__isnull', False), ('service_opens_at', django.db.models.functions.datetime.TruncMinute('service_opens_at')), ('service_closes_at', django.db.models.functions.datetime.TruncMinute('service_closes_at')), models.Q(models.Q(('service_closes_at', datetime.time(0, 0)), django.db.models.lookups.LessThanOrEqual(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.functions.datetime.ExtractHour('service_opens_at'), '*', models.Value(60)), '+', django.db.models.functions.datetime.ExtractMinute('service_opens_at')), 1380)), models.Q(('service_closes_at__gt', datetime.time(0, 0)), django.db.models.lookups.GreaterThanOrEqual(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.functions.datetime.ExtractHour('service_closes_at'), '*', models.Value(60)), '+', django.db.models.functions.datetime.ExtractMinute('service_closes_at')), '-', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.functions.datetime.ExtractHour('service_opens_at'), '*', models.Value(60)), '+', django.db.models.functions.datetime.ExtractMinute('service_opens_at'))), 60)), _connector='OR')), _connector='OR'), name='shop_service_hours_valid'),
        ),
    ]
