"""Data: the preset catalogue of the 18 categories of urgent supplies."""

from django.db import migrations


def forwards(apps, schema_editor):
    from fangkong.supplies.catalogue import ensure_catalogue

    ensure_catalogue(apps.get_model("supplies", "Category"), apps.get_model("supplies", "Item"))


def backwards(apps, schema_editor):
    apps.get_model("supplies", "Item").objects.all().delete()
    apps.get_model("supplies", "Category").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("supplies", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
