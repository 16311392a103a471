from django.db import migrations

DEFAULTS = {"green": "pass", "yellow": "restrict", "red": "refuse", "none": "refuse"}


def seed(apps, schema_editor):
    CodeRule = apps.get_model("checkpoints", "CodeRule")
    for colour, verdict in DEFAULTS.items():
        CodeRule.objects.get_or_create(colour=colour, defaults={"verdict": verdict})


class Migration(migrations.Migration):
    dependencies = [("checkpoints", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
