"""Signals between modules that must not import each other.

Isolation needs tests on given days and learns their results; the testing module schedules
and results tests. Neither imports the other: each sends what it knows here and receives
what it needs (connected in its ``AppConfig.ready``). Receivers run inside the sender's
transaction, so a schedule or a result is never half-applied.
"""

from django.dispatch import Signal

# A person must be tested on given days. Sent with: person (people.Person), due_dates
# (list of dates), origin (words for the cadre, e.g. "隔离令 12"), origin_ref (a stable key such
# as "quarantine.order:12"; a later send with the same key replaces the earlier schedule).
tests_required = Signal()

# Nucleic-acid results are known. Sent with: results, an iterable of
# (person_id, sampled_on date, "negative" | "positive").
test_results_known = Signal()
