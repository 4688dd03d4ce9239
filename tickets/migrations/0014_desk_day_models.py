# Issue 11: what an exchange sends out (and the price difference a buyer pays), the changes
# agents make to an order (flag, receipt extension), saved ticket-list views, and when a
# ticket's status last changed (for the stale flag), filled in from each ticket's timeline.

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

from tickets.db import (
    LATER_APPEND_ONLY_TABLES,
    allow_changes,
    refuse_changes,
    sqlite_guards_restore,
    sqlite_guards_suspend,
)


def status_changed_from_timeline(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    last_move = (
        TicketEvent.objects.filter(ticket=OuterRef("pk"))
        .exclude(to_status="")
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    Ticket.objects.update(status_changed_at=Coalesce(Subquery(last_move), "created_at"))


def sync_roles(apps, schema_editor):
    """Gives the roles the new models' permissions."""
    from tickets.roles import sync_roles as sync

    sync(apps, strict=False)


def guards_suspend(apps, schema_editor):
    sqlite_guards_suspend(schema_editor)


def guards_restore(apps, schema_editor):
    sqlite_guards_restore(schema_editor)


def append_only(apps, schema_editor):
    refuse_changes(schema_editor, LATER_APPEND_ONLY_TABLES)


def append_only_backward(apps, schema_editor):
    allow_changes(schema_editor, LATER_APPEND_ONLY_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0013_ticket_and_item_guards"),
    ]

    operations = [
        # SQLite rebuilds tickets_ticket to add a column; the guards that read it step aside.
        migrations.RunPython(guards_suspend, guards_restore),
        migrations.CreateModel(
            name="ExchangeCharge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=12,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="金额",
                    ),
                ),
                (
                    "idempotency_key",
                    models.CharField(
                        blank=True,
                        max_length=64,
                        null=True,
                        unique=True,
                        verbose_name="提交编号",
                    ),
                ),
                (
                    "reference",
                    models.CharField(blank=True, max_length=40, verbose_name="补差价订单号"),
                ),
                ("note", models.CharField(blank=True, max_length=255, verbose_name="备注")),
                (
                    "recorded_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="登记时间"
                    ),
                ),
            ],
            options={
                "verbose_name": "换货补差价",
                "verbose_name_plural": "换货补差价",
                "ordering": ["recorded_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ExchangeReplacement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quantity", models.PositiveIntegerField(verbose_name="数量")),
                (
                    "unit_price",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=12,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="发出单价",
                    ),
                ),
                (
                    "returned_unit_price",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=12,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="退回单价",
                    ),
                ),
                (
                    "chosen_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="选择时间"
                    ),
                ),
            ],
            options={
                "verbose_name": "换货发出商品",
                "verbose_name_plural": "换货发出商品",
                "ordering": ["ticket_item", "id"],
            },
        ),
        migrations.CreateModel(
            name="OrderChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("flag", "旗帜"), ("receipt_extension", "延长收货")],
                        max_length=20,
                        verbose_name="类型",
                    ),
                ),
                (
                    "previous_flag",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "无旗帜"),
                            ("red", "红旗"),
                            ("yellow", "黄旗"),
                            ("green", "绿旗"),
                            ("blue", "蓝旗"),
                            ("purple", "紫旗"),
                        ],
                        max_length=8,
                        verbose_name="原旗帜",
                    ),
                ),
                ("previous_flag_memo", models.TextField(blank=True, verbose_name="原旗帜备忘")),
                (
                    "flag",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "无旗帜"),
                            ("red", "红旗"),
                            ("yellow", "黄旗"),
                            ("green", "绿旗"),
                            ("blue", "蓝旗"),
                            ("purple", "紫旗"),
                        ],
                        max_length=8,
                        verbose_name="旗帜",
                    ),
                ),
                ("flag_memo", models.TextField(blank=True, verbose_name="旗帜备忘")),
                (
                    "extended_days",
                    models.PositiveSmallIntegerField(default=0, verbose_name="延长天数"),
                ),
                (
                    "auto_confirm_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="新的自动确认收货时间"
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=255, verbose_name="备注")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="时间"),
                ),
            ],
            options={
                "verbose_name": "订单变更",
                "verbose_name_plural": "订单变更",
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="SavedView",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="创建时间"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                ("name", models.CharField(max_length=40, verbose_name="名称")),
                ("query", models.CharField(blank=True, max_length=1000, verbose_name="筛选条件")),
                ("shared", models.BooleanField(default=False, verbose_name="团队共享")),
            ],
            options={
                "verbose_name": "保存的视图",
                "verbose_name_plural": "保存的视图",
                "ordering": ["name", "id"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="ticketevent",
            name="ticket_event_kind_valid",
        ),
        migrations.AddField(
            model_name="historicalsku",
            name="price",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=12,
                null=True,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                verbose_name="售价",
            ),
        ),
        migrations.AddField(
            model_name="sku",
            name="price",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                max_digits=12,
                null=True,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                verbose_name="售价",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="status_changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="状态变更时间"
            ),
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("opened", "创建"),
                    ("status", "状态变更"),
                    ("assigned", "分配"),
                    ("note", "备注"),
                    ("money", "资金"),
                    ("parcel", "退件"),
                    ("tracking", "退回运单号"),
                    ("photo", "照片"),
                    ("promise", "承诺"),
                    ("escalated", "升级"),
                    ("exchange", "换货商品"),
                ],
                max_length=16,
                verbose_name="类型",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        (
                            "open",
                            "awaiting_return",
                            "received",
                            "queued_for_exchange",
                            "on_exchange_list",
                            "in_repair",
                            "shipped",
                            "refunded",
                            "compensated",
                        ),
                    )
                ),
                fields=["status_changed_at", "id"],
                name="ticket_open_stale_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="ticketevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "opened",
                            "status",
                            "assigned",
                            "note",
                            "money",
                            "parcel",
                            "tracking",
                            "photo",
                            "promise",
                            "escalated",
                            "exchange",
                        ],
                    )
                ),
                name="ticket_event_kind_valid",
            ),
        ),
        migrations.AddField(
            model_name="exchangecharge",
            name="recorded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="登记人",
            ),
        ),
        migrations.AddField(
            model_name="exchangecharge",
            name="reverses",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversal",
                to="tickets.exchangecharge",
                verbose_name="冲销的记录",
            ),
        ),
        migrations.AddField(
            model_name="exchangecharge",
            name="ticket",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="exchange_charges",
                to="tickets.ticket",
                verbose_name="售后单",
            ),
        ),
        migrations.AddField(
            model_name="exchangereplacement",
            name="chosen_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="选择人",
            ),
        ),
        migrations.AddField(
            model_name="exchangereplacement",
            name="sku",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tickets.sku",
                verbose_name="发出 SKU",
            ),
        ),
        migrations.AddField(
            model_name="exchangereplacement",
            name="ticket_item",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="replacements",
                to="tickets.ticketitem",
                verbose_name="退回商品",
            ),
        ),
        migrations.AddField(
            model_name="orderchange",
            name="actor",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="操作人",
            ),
        ),
        migrations.AddField(
            model_name="orderchange",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="changes",
                to="tickets.order",
                verbose_name="订单",
            ),
        ),
        migrations.AddField(
            model_name="savedview",
            name="owner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="saved_views",
                to=settings.AUTH_USER_MODEL,
                verbose_name="创建人",
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangecharge",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="exchange_charge_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangecharge",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reverses__isnull", True),
                    models.Q(("reverses", models.F("id")), _negated=True),
                    _connector="OR",
                ),
                name="exchange_charge_not_reversing_itself",
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangereplacement",
            constraint=models.UniqueConstraint(
                fields=("ticket_item", "sku"), name="exchange_replacement_once_per_sku"
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangereplacement",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0)),
                name="exchange_replacement_quantity_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="exchangereplacement",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit_price__gte", 0), ("returned_unit_price__gte", 0)),
                name="exchange_replacement_price_not_negative",
            ),
        ),
        migrations.AddIndex(
            model_name="orderchange",
            index=models.Index(fields=["order", "created_at"], name="order_change_order_idx"),
        ),
        migrations.AddConstraint(
            model_name="orderchange",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["flag", "receipt_extension"])),
                name="order_change_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderchange",
            constraint=models.CheckConstraint(
                condition=models.Q(("flag__in", ["", "red", "yellow", "green", "blue", "purple"])),
                name="order_change_flag_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("previous_flag__in", ["", "red", "yellow", "green", "blue", "purple"])
                ),
                name="order_change_previous_flag_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "receipt_extension"), _negated=True),
                    ("extended_days__gt", 0),
                    _connector="OR",
                ),
                name="order_change_extension_adds_days",
            ),
        ),
        migrations.AddConstraint(
            model_name="savedview",
            constraint=models.UniqueConstraint(
                fields=("owner", "name"), name="saved_view_name_per_owner"
            ),
        ),
        migrations.RunPython(status_changed_from_timeline, migrations.RunPython.noop),
        migrations.RunPython(append_only, append_only_backward),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
        migrations.RunPython(guards_restore, guards_suspend),
    ]
