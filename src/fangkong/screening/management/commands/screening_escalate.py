"""Escalate overdue visit tasks (走访核查) to the village and then the township.

Run it every few minutes from cron or a systemd timer:  fangkong manage screening_escalate
"""

from django.core.management.base import BaseCommand

from fangkong.screening.visits import escalate_overdue


class Command(BaseCommand):
    help = "Escalate visit tasks past their due time (village, then township after 24 h)."

    def handle(self, *args, **options):
        village, township = escalate_overdue()
        self.stdout.write(f"升级到村 {village} 条，升级到乡镇 {township} 条")
