"""The orders' exact-lookup indexes without their LIKE copies (issue 14).

``db_index=True`` on a text field makes Django build two indexes on PostgreSQL: the one an
equality lookup uses and a ``varchar_pattern_ops`` one for ``LIKE 'prefix%'``. The desk looks
orders up by the whole Alipay number, tracking number, phone tail and status only, so the
second index of each was written by every import and rebuilt by every seed for nothing
(93 MB at a million orders). Declared in ``Order.Meta`` instead, each is one index.
SQLite rebuilds the table for the change: its guards are lifted and put back around it.
"""

from django.db import migrations, models

from tickets.db import sqlite_guards_restore, sqlite_guards_suspend


def guards_suspend(apps, schema_editor):
    sqlite_guards_suspend(schema_editor)


def guards_restore(apps, schema_editor):
    sqlite_guards_restore(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0024_buyer_nicks"),
    ]

    operations = [
        migrations.RunPython(guards_suspend, guards_restore),
        migrations.AlterField(
            model_name="order",
            name="alipay_no",
            field=models.CharField(blank=True, max_length=64, verbose_name="支付宝交易号"),
        ),
        migrations.AlterField(
            model_name="order",
            name="receiver_phone_tail",
            field=models.CharField(blank=True, max_length=4, verbose_name="手机尾号"),
        ),
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(
                choices=[
                    ("waiting_payment", "等待买家付款"),
                    ("paid", "买家已付款"),
                    ("shipped", "卖家已发货"),
                    ("success", "交易成功"),
                    ("closed", "交易关闭"),
                ],
                max_length=20,
                verbose_name="订单状态",
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="tracking_no",
            field=models.CharField(blank=True, max_length=40, verbose_name="运单号"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["alipay_no"], name="order_alipay_no_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["tracking_no"], name="order_tracking_no_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["receiver_phone_tail"], name="order_phone_tail_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["status"], name="order_status_idx"),
        ),
        migrations.RunPython(guards_restore, guards_suspend),
    ]
