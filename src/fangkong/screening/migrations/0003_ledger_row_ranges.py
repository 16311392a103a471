"""Row receipts of ledger imports become ranges on the import (``LedgerImport.rows_done``).

One receipt row per ledger row cost a unique-index insert per row on every import; a range
list keeps the same "skip rows already stored from this file" rule at a pair per run of
consecutive rows. Existing receipts are folded into the latest finished import of their file.
"""

from django.db import migrations, models


def fold_receipts(apps, schema_editor):
    LedgerImport = apps.get_model("screening", "LedgerImport")
    LedgerRow = apps.get_model("screening", "LedgerRow")
    hashes = LedgerRow.objects.values_list("file_hash", flat=True).distinct()
    for file_hash in hashes.iterator():
        latest = (LedgerImport.objects.filter(file_hash=file_hash, status="done")
                  .order_by("-created_at", "-pk").first())
        if latest is None:
            continue
        ranges: list[list[int]] = []
        rows = LedgerRow.objects.filter(file_hash=file_hash).order_by("row")
        for number in rows.values_list("row", flat=True).iterator():
            if ranges and number == ranges[-1][1] + 1:
                ranges[-1][1] = number
            elif not ranges or number > ranges[-1][1]:
                ranges.append([number, number])
        latest.rows_done = ranges
        latest.save(update_fields=["rows_done"])


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0002_unregistered_groups_and_reassignment"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerimport",
            name="rows_done",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(fold_receipts, migrations.RunPython.noop),
        migrations.DeleteModel(name="LedgerRow"),
    ]
