"""Background work of isolation: the monitor that raises missed checks and escalates alerts.

It is idempotent (a missed slot alerts once, a level only rises), so it is safe to run it
every few minutes from ``fangkong manage monitor_isolation --every 300`` or to enqueue it
from anywhere, and harmless if two runs overlap.
"""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def run_monitoring() -> dict[str, int]:
    """One pass: missed checks of the last 24 hours, then escalation of unhandled alerts."""
    return services.run_monitoring()
