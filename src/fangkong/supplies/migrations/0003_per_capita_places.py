"""Six decimal places for the per-capita daily consumption of staple food (tonnes), and the
preset values set again: PostgreSQL had rounded 0.00025 t to 0.000 under three places."""

from decimal import Decimal

from django.db import migrations, models


def per_capita(apps, schema_editor):
    from fangkong.supplies.catalogue import CATEGORIES

    Item = apps.get_model("supplies", "Item")
    for _code, _name, items in CATEGORIES:
        for item_code, *_rest, amount in items:
            Item.objects.filter(code=item_code).update(per_capita_daily=Decimal(amount))


class Migration(migrations.Migration):
    dependencies = [("supplies", "0002_catalogue")]

    operations = [
        migrations.AlterField(
            model_name="item",
            name="per_capita_daily",
            field=models.DecimalField(
                decimal_places=6, default=0, max_digits=14, verbose_name="人均日消费（主粮）"
            ),
        ),
        migrations.RunPython(per_capita, migrations.RunPython.noop),
    ]
