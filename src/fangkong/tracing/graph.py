"""The contact graph in SQL: close and secondary contacts of a set of infectious cases.

One set-based statement (plain SQL that PostgreSQL and SQLite both run) walks two hops from
the seed cases: hop 1 is every person linked to a seed, directly or as a co-attendee of an
event inside the seed's window; hop 2 is every person linked to a hop-1 person the same way,
on or after that person's first exposure. Rules applied in the statement:

- seeds are confirmed or asymptomatic cases linked to a person (excluded cases contribute
  nothing, suspected ones are not seeds);
- an infectious person — seed or not — is never anyone's contact; a person who is both close
  and secondary is close (the closer exposure wins);
- a close contact's first exposure is unknown when any of their exposures has no date, and
  then all their own contacts count; so adding a case, a link or an attendance can only add
  or upgrade classifications (which :func:`~fangkong.tracing.services.classify_around`
  relies on);
- contact links count in both directions (who was recorded first does not matter).

Indexes on (source, contact), (contact, source) and attendance (person, event) turn each hop
into index lookups, so the cost follows the size of the neighbourhood, not of the graph.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from .models import INFECTIOUS, Attendance, Case, ContactLink, ExposureEvent


@dataclass(frozen=True)
class Reached:
    person_id: int
    level: str  # "close" | "secondary"
    via_person_id: int
    exposure_date: dt.date | None


def _sql(seed_filter: str) -> str:
    case = Case._meta.db_table
    link = ContactLink._meta.db_table
    att = Attendance._meta.db_table
    event = ExposureEvent._meta.db_table
    return f"""
WITH infectious AS (
    SELECT DISTINCT person_id AS pid FROM {case}
     WHERE status IN (%s, %s) AND person_id IS NOT NULL
),
seeds AS (
    SELECT person_id AS pid, MIN(window_start) AS ws FROM {case}
     WHERE status IN (%s, %s) AND person_id IS NOT NULL {seed_filter}
     GROUP BY person_id
),
hop1 AS (
    SELECT l.contact_id AS pid, l.source_id AS via, l.last_exposure_date AS d
      FROM {link} l JOIN seeds s ON l.source_id = s.pid
     WHERE l.last_exposure_date IS NULL OR s.ws IS NULL OR l.last_exposure_date >= s.ws
    UNION ALL
    SELECT l.source_id, l.contact_id, l.last_exposure_date
      FROM {link} l JOIN seeds s ON l.contact_id = s.pid
     WHERE l.last_exposure_date IS NULL OR s.ws IS NULL OR l.last_exposure_date >= s.ws
    UNION ALL
    SELECT a2.person_id, a1.person_id, e.starts_on
      FROM {att} a1 JOIN seeds s ON a1.person_id = s.pid
      JOIN {event} e ON e.id = a1.event_id AND (s.ws IS NULL OR e.starts_on >= s.ws)
      JOIN {att} a2 ON a2.event_id = a1.event_id AND a2.person_id <> a1.person_id
),
close_set AS (
    SELECT pid, MIN(via) AS via,
           CASE WHEN COUNT(*) = COUNT(d) THEN MIN(d) END AS first_d, MAX(d) AS last_d
      FROM hop1
     WHERE pid NOT IN (SELECT pid FROM infectious)
     GROUP BY pid
),
hop2 AS (
    SELECT l.contact_id AS pid, l.source_id AS via, l.last_exposure_date AS d
      FROM {link} l JOIN close_set c ON l.source_id = c.pid
     WHERE l.last_exposure_date IS NULL OR c.first_d IS NULL OR l.last_exposure_date >= c.first_d
    UNION ALL
    SELECT l.source_id, l.contact_id, l.last_exposure_date
      FROM {link} l JOIN close_set c ON l.contact_id = c.pid
     WHERE l.last_exposure_date IS NULL OR c.first_d IS NULL OR l.last_exposure_date >= c.first_d
    UNION ALL
    SELECT a2.person_id, a1.person_id, e.starts_on
      FROM {att} a1 JOIN close_set c ON a1.person_id = c.pid
      JOIN {event} e ON e.id = a1.event_id AND (c.first_d IS NULL OR e.starts_on >= c.first_d)
      JOIN {att} a2 ON a2.event_id = a1.event_id AND a2.person_id <> a1.person_id
)
SELECT pid, 'close', via, last_d FROM close_set
UNION ALL
SELECT pid, 'secondary', MIN(via), MAX(d) FROM hop2
 WHERE pid NOT IN (SELECT pid FROM close_set) AND pid NOT IN (SELECT pid FROM infectious)
 GROUP BY pid
"""


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])  # SQLite hands back text


def _run(seed_filter: str, params: list) -> list[Reached]:
    with connection.cursor() as cursor:
        statuses = [str(s) for s in INFECTIOUS]
        cursor.execute(_sql(seed_filter), [*statuses, *statuses, *params])
        return [Reached(pid, level, via, _date(d)) for pid, level, via, d in cursor.fetchall()]


def contacts_of_all() -> list[Reached]:
    """Close and secondary contacts of every infectious case: the whole classification."""
    return _run("", [])


def contacts_of_cases(case_ids: Iterable[int]) -> list[Reached]:
    """Close and secondary contacts of the given cases only (a case, a cluster)."""
    ids = sorted({int(i) for i in case_ids})
    if not ids:
        return []
    if connection.vendor == "postgresql":
        return _run("AND id = ANY(%s)", [ids])
    # SQLite has no arrays; its limit on bound parameters is far above a cluster's size.
    return _run(f"AND id IN ({', '.join(['%s'] * len(ids))})", ids)
