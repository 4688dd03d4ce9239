"""What goes out on an exchange keeps the SKU as it was chosen (merchant code, title, colour,
size, and whether it is another product: 换款), as its prices already did: an admin edit of a catalogue SKU changed what a signed
exchange-goods list said it sends out, while the signed file still said otherwise (issue 11
review). The rows already written take their SKU's present values."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def from_the_catalogue(apps, schema_editor):
    replacement = apps.get_model("tickets", "ExchangeReplacement")
    rows = replacement.objects.using(schema_editor.connection.alias)
    sku = apps.get_model("tickets", "Sku").objects.filter(pk=OuterRef("sku_id"))
    rows.update(
        code=Subquery(sku.values("code")[:1]),
        title=Subquery(sku.values("product__title")[:1]),
        colour=Subquery(sku.values("colour")[:1]),
        size=Subquery(sku.values("size")[:1]),
    )
    # 换款: another product than the returned goods' (their SKU's product, or their title for
    # goods outside the catalogue), as tickets.services.exchanges.is_other_product decides.
    goods = apps.get_model("tickets", "OrderItem").objects.filter(
        pk=OuterRef("ticket_item__order_item_id")
    )
    rows.filter(ticket_item__order_item__sku__isnull=False).exclude(
        sku__product_id=Subquery(goods.values("sku__product_id")[:1])
    ).update(other_product=True)
    rows.filter(ticket_item__order_item__sku__isnull=True).exclude(
        title=Subquery(goods.values("title")[:1])
    ).update(other_product=True)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0036_seed_indexes_without_copies")]

    operations = [
        migrations.AddField(
            model_name="exchangereplacement",
            name="code",
            field=models.CharField(default="", max_length=60, verbose_name="商家编码"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="exchangereplacement",
            name="title",
            field=models.CharField(default="", max_length=200, verbose_name="商品标题"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="exchangereplacement",
            name="colour",
            field=models.CharField(blank=True, default="", max_length=40, verbose_name="颜色"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="exchangereplacement",
            name="size",
            field=models.CharField(blank=True, default="", max_length=20, verbose_name="尺码"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="exchangereplacement",
            name="other_product",
            field=models.BooleanField(default=False, verbose_name="换款"),
        ),
        migrations.RunPython(from_the_catalogue, migrations.RunPython.noop, elidable=True),
    ]
