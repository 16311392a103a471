"""Signals between modules that must not import each other.

Isolation needs tests on given days and learns their results; the testing module schedules
and results tests. Neither imports the other: each sends what it knows here and receives
what it needs (connected in its ``AppConfig.ready``). Receivers run inside the sender's
transaction, so a schedule or a result is never half-applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.dispatch import Signal

# A person must be tested on given days. Sent with: person (people.Person), due_dates
# (list of dates), origin (words for the cadre, e.g. "隔离令 12"), origin_ref (a stable key such
# as "quarantine.order:12"; a later send with the same key replaces the earlier schedule).
tests_required = Signal()

# A background task ended with its worker process (killed, out of memory): sent by `fangkong
# worker` after it marked the task and its core.TaskRecord failed. Sent with:
# task_record_id (TaskRecord pk, or None when the task kept none) and reason (words for the
# user). A module that keeps its own record of that work (a ledger import) marks it failed, so
# nothing shows as queued for ever.
background_task_died = Signal()

# Nucleic-acid results are known. Sent with: results, an iterable of
# (person_id, sampled_on date, "negative" | "positive").
test_results_known = Signal()


@dataclass(frozen=True)
class SuspectedCaseFound:
    """What the testing module knows of a suspected case (疑似病例) from a positive single tube.

    ``ref`` is a stable key (``"testing.suspected_case:12"``): a receiver that opens a record
    for it keys that record on ``ref``, so a second send of the same case changes nothing.
    """

    ref: str
    suspected_case_id: int
    person_id: int
    region_code: str
    campaign_id: int
    campaign_name: str
    tube_barcode: str
    sampled_at: dt.datetime
    resulted_at: dt.datetime


@dataclass(frozen=True)
class SuspectedCaseTaken:
    """A receiver's answer: it opened (or linked) its record ``ref`` for a suspected case;
    ``url`` is where a reader finds that record."""

    suspected_case_id: int
    ref: str
    url: str


# Positive single tubes made suspected cases. Sent with: cases (list of SuspectedCaseFound)
# and by_user (who imported the results, for the audit trail; may be None). Each receiver
# returns the list of SuspectedCaseTaken for the cases it took over; the sender marks those
# handed over. A receiver that fails leaves the cases new, never the results unapplied.
suspected_case_found = Signal()

# A problem of the problems list was closed (rectified and confirmed from above). Sent with:
# source (the stable key the raising module gave), closed_at, closed_by (a user or None).
# The module that raised it marks its own item rectified; receivers run in the sender's
# transaction.
problem_closed = Signal()

# A module met a person the screening lists should carry (a pharmacy's fever-drug buyer; later
# a student from a risk area). Sent once per ``ref`` by the sender, with: ref (stable key,
# "places.sale:12"; a receiver keys its list entry on it, so a repeat changes nothing),
# channel ("pharmacy"), person_id (registry person or None), name, id_number, phone,
# region_code (responsible village or group), reason (words for the cadre), at (datetime).
# Screening connects a receiver that writes the list entry; until then the sender keeps its
# own follow-up list.
screening_entry_offered = Signal()
