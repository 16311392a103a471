"""Bulk ingestion of sample scans (采样数据批量上传): the one write path for every sample.

Sampling devices send batches of scans; the phone page sends a batch of one. Rules, and why:

- **Idempotent.** Each scan carries the device's own id. A batch sent again after a lost
  response is recognised scan by scan (``replayed``), never recorded twice.
- **Out-of-order tolerant.** A scan may name a tube the device has not "opened" yet (the open
  message is still in a queue somewhere): the tube is created from the scan, with the scan's
  capacity or the round's pool size, and the open message fills in point and time later.
- **Every row is judged, none dropped silently.** A row is accepted, replayed, or rejected
  with a code and a Chinese message: unknown person (or outside the sampler's jurisdiction,
  which looks the same), already sampled this round, tube full, capacity differs from the
  tube's, tube already resulted, retest without a recall, outside the round's window.
- **The database has the last word.** Checks run on locked tube rows, but the unique
  constraints and the tube's ``sample_count <= capacity`` CHECK are what make two devices
  scanning at the same moment safe; a row that loses such a race is reported, not lost.

How it is fast: on PostgreSQL the batch is ``COPY``-ed into a temporary staging table and
judged by a handful of set-based statements, then moved with ``INSERT … SELECT … ON CONFLICT
DO NOTHING`` (``bench/testing_ingest.py`` measures it against a raw ``COPY``). On SQLite, which
serialises writers anyway, the same rules run in Python over dictionaries and the rows go in
with ``executemany``, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, connection, transaction
from django.utils.translation import gettext as _

from fangkong.core import jurisdiction
from fangkong.core.batching import chunks
from fangkong.core.errors import FieldError, ValidationFailed
from fangkong.people.models import Person

from .models import Campaign, CampaignStatus, RecallEntry, RegistrationCode, Sample, Tube

MAX_BATCH = 20_000
ACCEPTED, REPLAYED = "accepted", "replayed"


def _messages() -> dict[str, str]:
    return {
        "unknown_person": _(
            "No person with this ID number or registration code in your jurisdiction; "
            "register the person first"
        ),
        "already_sampled": _("This person was already sampled in this round"),
        "tube_full": _("The tube is full"),
        "capacity_mismatch": _("The tube was opened with a different capacity"),
        "tube_resulted": _("The tube already has a result; use a new tube"),
        "not_recalled": _("A retest needs an open recall of this person in this round"),
        "retest_single": _("A retest goes into a single tube"),
        "outside_window": _("The sampling time is outside the round's window"),
    }


@dataclass(frozen=True)
class ScanRow:
    """One scan as a device sends it. Exactly one of ``id_number``/``registration_code``."""

    device_sample_id: str
    tube: str
    sampled_at: dt.datetime
    id_number: str | None = None
    registration_code: str | None = None
    capacity: int | None = None
    point_id: int | None = None
    retest: bool = False


@dataclass
class IngestReport:
    accepted: int = 0
    replayed: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    accepted_ids: dict[str, int] = field(default_factory=dict)  # device id → sample id

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "replayed": self.replayed, "rejected": self.rejected}


def new_device_sample_id() -> str:
    """An id for a scan made on the web page (devices bring their own)."""
    return "web-" + uuid.uuid4().hex


def bulk_ingest_samples(
    *, user: Any, campaign: Campaign, rows: list[ScanRow], with_ids: bool = False
) -> IngestReport:
    """Record a batch of scans for ``campaign`` by ``user`` (who may sample: caller checks).

    The whole batch is one transaction; a PostgreSQL deadlock between two batches (possible
    only in rare orders of tube creation) is retried.
    """
    if campaign.status == CampaignStatus.CLOSED:
        raise ValidationFailed(
            [FieldError("campaign", _("The round is closed; no more samples are taken"))]
        )
    if len(rows) > MAX_BATCH:
        raise ValidationFailed(
            [FieldError("samples", _("At most %(n)d samples a batch") % {"n": MAX_BATCH})]
        )
    if not rows:
        return IngestReport()
    for attempt in range(3):
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    report = _ingest_postgresql(user, campaign, rows, with_ids)
                else:
                    report = _ingest_python(user, campaign, rows)
                _apply_waiting_results(campaign, {r.tube for r in rows}, user)
                return report
        except OperationalError as exc:
            if "deadlock" not in str(exc).lower() or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply_waiting_results(campaign: Campaign, barcodes: set[str], user: Any) -> None:
    """Results that came before their tube's samples are applied once the tube exists."""
    from .models import UnmatchedResult

    waiting = UnmatchedResult.objects.filter(campaign=campaign, applied_at__isnull=True)
    if not waiting.exists():
        return
    from . import services

    services.apply_waiting_results(campaign=campaign, barcodes=barcodes, by_user=user)


def _reject(report: IngestReport, index: int, row: ScanRow, code: str) -> None:
    report.rejected.append(
        {
            "index": index,
            "device_sample_id": row.device_sample_id,
            "code": code,
            "message": _messages()[code],
        }
    )


# -- PostgreSQL ------------------------------------------------------------------------------

_STAGE = "testing_scan_stage"
_STAGE_DDL = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (
    idx integer, device_sample_id text, id_number text, reg_code text, barcode text,
    capacity smallint, sampled_at timestamptz, point_id bigint, retest boolean,
    person_id bigint, region_code text, tube_id bigint, attempt smallint, status text,
    sample_id bigint
) ON COMMIT DELETE ROWS
"""


# "This batch's row is in the sample table", asked row by row through a unique index. The
# OFFSET 0 keeps the planner from turning it into a join: joined, it hashed or merged the
# whole sample table on every batch (0.1-0.2 s a batch at 300,000 samples, growing with the
# round), and with join methods forced it looped over a table it had never analysed.
_SAMPLE_EXISTS = "EXISTS (SELECT 1 FROM testing_sample t WHERE {} OFFSET 0)"


def _ingest_postgresql(
    user: Any, campaign: Campaign, rows: list[ScanRow], with_ids: bool
) -> IngestReport:
    c = campaign.pk
    scope_sql, scope_params = jurisdiction.range_sql(
        "p.region_code", tuple(jurisdiction.user_codes(user))
    )
    report = IngestReport()
    with connection.cursor() as cursor:
        # A batch is a few thousand rows probing tables of millions through unique indexes;
        # with the default page costs the planner prefers to hash-join whole tables instead
        # (measured: 270 ms a batch against 1M samples instead of 10 ms).
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        cursor.execute(_STAGE_DDL)
        with cursor.copy(
            f"COPY {_STAGE} (idx, device_sample_id, id_number, reg_code, barcode, capacity,"
            " sampled_at, point_id, retest) FROM STDIN"
        ) as copy:
            for i, r in enumerate(rows):
                copy.write_row(
                    (
                        i,
                        r.device_sample_id,
                        r.id_number,
                        r.registration_code,
                        r.tube,
                        r.capacity,
                        r.sampled_at,
                        r.point_id,
                        r.retest,
                    )
                )
        run = cursor.execute

        # Statistics for the planner: without them it guesses a nested loop over the batch.
        run(f"ANALYZE {_STAGE}")
        # Same device id twice in the batch: the first counts, the rest are replays.
        run(f"""UPDATE {_STAGE} s SET status = 'replayed' FROM (
                  SELECT idx, row_number() OVER (PARTITION BY device_sample_id ORDER BY idx) rn
                  FROM {_STAGE}) d WHERE d.idx = s.idx AND d.rn > 1""")
        run(f"""UPDATE {_STAGE} s SET status = 'replayed'
                WHERE s.status IS NULL AND {
            _SAMPLE_EXISTS.format("t.device_sample_id = s.device_sample_id")
        }""")
        run(
            f"""UPDATE {_STAGE} s SET status = 'outside_window'
                WHERE s.status IS NULL AND (s.sampled_at < %s OR s.sampled_at > %s)""",
            [campaign.starts_at, campaign.ends_at],
        )
        run(
            f"""UPDATE {_STAGE} s SET person_id = p.id, region_code = p.region_code
                FROM people_person p WHERE s.status IS NULL AND s.id_number IS NOT NULL
                AND p.id_number = s.id_number AND {scope_sql}""",
            scope_params,
        )
        run(
            f"""UPDATE {_STAGE} s SET person_id = p.id, region_code = p.region_code
                FROM testing_registrationcode r JOIN people_person p ON p.id = r.person_id
                WHERE s.status IS NULL AND s.reg_code IS NOT NULL AND r.code = s.reg_code
                AND {scope_sql}""",
            scope_params,
        )
        run(
            f"UPDATE {_STAGE} SET status = 'unknown_person' "
            "WHERE status IS NULL AND person_id IS NULL"
        )
        run(f"""UPDATE {_STAGE} SET status = 'retest_single'
                WHERE status IS NULL AND retest AND COALESCE(capacity, 1) <> 1""")
        # Tubes named for the first time are created from their first scan (in barcode
        # order, so that two batches creating the same tubes cannot deadlock).
        run(
            f"""INSERT INTO testing_tube (campaign_id, barcode, capacity, sample_count,
                    point_id, created_at, result_source)
                SELECT DISTINCT ON (barcode) %s, barcode,
                    CASE WHEN retest THEN 1 ELSE COALESCE(capacity, %s) END, 0, point_id,
                    now(), ''
                FROM {_STAGE} WHERE status IS NULL ORDER BY barcode, idx
                ON CONFLICT (campaign_id, barcode) DO NOTHING""",
            [c, campaign.pool_size],
        )
        run(
            f"""UPDATE {_STAGE} s SET tube_id = t.id FROM testing_tube t
                WHERE s.status IS NULL AND t.campaign_id = %s AND t.barcode = s.barcode""",
            [c],
        )
        run(f"""SELECT 1 FROM testing_tube WHERE id IN
                (SELECT tube_id FROM {_STAGE} WHERE status IS NULL) ORDER BY id FOR UPDATE""")
        # A concurrent batch holding these tubes may have just committed the same scans.
        run(f"""UPDATE {_STAGE} s SET status = 'replayed'
                WHERE s.status IS NULL AND {
            _SAMPLE_EXISTS.format("t.device_sample_id = s.device_sample_id")
        }""")
        # The round's own sample: once per person.
        run(
            f"""UPDATE {_STAGE} s SET status = 'already_sampled'
                WHERE s.status IS NULL AND NOT s.retest AND {
                _SAMPLE_EXISTS.format(
                    "t.campaign_id = %s AND t.person_id = s.person_id AND t.attempt = 0"
                )
            }""",
            [c],
        )
        # A retest needs an open recall; it is the person's next attempt.
        run(
            f"""UPDATE {_STAGE} s SET attempt = (
                    SELECT COALESCE(max(t.attempt), 0) + 1 FROM testing_sample t
                    WHERE t.campaign_id = %s AND t.person_id = s.person_id)
                WHERE s.status IS NULL AND s.retest AND EXISTS (
                    SELECT 1 FROM testing_recallentry e WHERE e.campaign_id = %s
                    AND e.person_id = s.person_id AND e.retest_id IS NULL)""",
            [c, c],
        )
        # In one pass over the batch joined to its (locked) tubes: a person twice in the
        # batch, a retest without a recall, a resulted tube, a capacity that differs, and the
        # room left in each tube, first come first served among the rows still standing.
        run(f"""UPDATE {_STAGE} s SET status = d.verdict FROM (
                  SELECT idx, CASE
                      WHEN result IS NOT NULL THEN 'tube_resulted'
                      WHEN mismatch THEN 'capacity_mismatch'
                      WHEN retest AND attempt IS NULL THEN 'not_recalled'
                      WHEN twice > 1 THEN 'already_sampled'
                      WHEN row_number() OVER (PARTITION BY tube_id, bad OR twice > 1
                                              ORDER BY sampled_at, idx) > room
                          THEN 'tube_full' END AS verdict
                  FROM (
                    SELECT *, row_number() OVER (PARTITION BY person_id, retest, bad
                                                 ORDER BY sampled_at, idx) AS twice
                    FROM (
                      SELECT s2.idx, s2.tube_id, s2.person_id, s2.sampled_at, s2.retest,
                          s2.attempt, t.result, t.capacity - t.sample_count AS room,
                          (s2.capacity IS NOT NULL AND s2.capacity <> t.capacity)
                              OR (s2.retest AND t.capacity <> 1) AS mismatch,
                          t.result IS NOT NULL
                              OR (s2.capacity IS NOT NULL AND s2.capacity <> t.capacity)
                              OR (s2.retest AND t.capacity <> 1)
                              OR (s2.retest AND s2.attempt IS NULL) AS bad
                      FROM {_STAGE} s2 JOIN testing_tube t ON t.id = s2.tube_id
                      WHERE s2.status IS NULL) a) b) d
                WHERE d.idx = s.idx AND d.verdict IS NOT NULL""")
        run(
            f"""WITH ins AS (
                  INSERT INTO testing_sample (campaign_id, tube_id, person_id, region_code,
                      attempt, device_sample_id, point_id, sampled_at, recorded_by_id)
                  SELECT %s, tube_id, person_id, region_code, COALESCE(attempt, 0),
                      device_sample_id, point_id, sampled_at, %s
                  FROM {_STAGE} WHERE status IS NULL
                  ON CONFLICT DO NOTHING
                  RETURNING id, tube_id, device_sample_id, region_code, attempt),
                counted AS (
                  UPDATE testing_tube t SET sample_count = t.sample_count + n.k
                  FROM (SELECT tube_id, count(*) k FROM ins GROUP BY tube_id) n
                  WHERE t.id = n.tube_id),
                tallied AS (
                  INSERT INTO testing_coveragecount (campaign_id, region_code, tested, resulted)
                  SELECT %s, region_code, count(*), 0 FROM ins WHERE attempt = 0
                  GROUP BY region_code ORDER BY region_code
                  ON CONFLICT (campaign_id, region_code) DO UPDATE
                  SET tested = testing_coveragecount.tested + EXCLUDED.tested)
                UPDATE {_STAGE} s SET status = 'accepted', sample_id = ins.id
                FROM ins WHERE ins.device_sample_id = s.device_sample_id
                AND s.status IS NULL""",
            [c, getattr(user, "pk", None), c],
        )
        # Rows that lost a race with a concurrent batch: a replay or a second sample.
        # (Asked only when there are some: the planner may hash the whole sample table.)
        run(f"SELECT EXISTS (SELECT 1 FROM {_STAGE} WHERE status IS NULL)")
        if cursor.fetchone()[0]:
            run(f"""UPDATE {_STAGE} s SET status = CASE WHEN EXISTS (
                        SELECT 1 FROM testing_sample t
                        WHERE t.device_sample_id = s.device_sample_id)
                      THEN 'replayed' ELSE 'already_sampled' END
                    WHERE s.status IS NULL""")
        if any(r.retest for r in rows):
            # Driven by the batch's few retests through the person index. Joined the other
            # way round, before autovacuum has counted a round's first recall entries, the
            # planner looped over the whole batch once per entry: 0.8-1.3 s a batch.
            run(
                f"""WITH r AS MATERIALIZED (SELECT person_id, sample_id FROM {_STAGE}
                        WHERE status = 'accepted' AND retest)
                    UPDATE testing_recallentry e SET retest_id = r.sample_id FROM r
                    WHERE e.person_id = r.person_id AND e.campaign_id = %s
                    AND e.retest_id IS NULL""",
                [c],
            )
        run(f"SELECT status, count(*) FROM {_STAGE} GROUP BY status")
        counts = dict(cursor.fetchall())
        report.accepted = counts.get(ACCEPTED, 0)
        report.replayed = counts.get(REPLAYED, 0)
        if len(counts) > (ACCEPTED in counts) + (REPLAYED in counts):
            run(f"""SELECT idx, status FROM {_STAGE}
                    WHERE status NOT IN ('accepted', 'replayed') ORDER BY idx""")
            for idx, status in cursor.fetchall():
                _reject(report, idx, rows[idx], status)
        if with_ids:
            run(f"SELECT device_sample_id, sample_id FROM {_STAGE} WHERE status = 'accepted'")
            report.accepted_ids = dict(cursor.fetchall())
        run(f"TRUNCATE {_STAGE}")
    return report


# -- SQLite (and any other database) ---------------------------------------------------------


def _ingest_python(user: Any, campaign: Campaign, rows: list[ScanRow]) -> IngestReport:
    report = IngestReport()
    status: dict[int, str] = {}
    seen_ids: set[str] = set()
    for i, r in enumerate(rows):
        if r.device_sample_id in seen_ids:
            status[i] = REPLAYED
        seen_ids.add(r.device_sample_id)
    existing_ids: set[str] = set()
    for chunk in chunks(sorted(seen_ids), 900):
        existing_ids.update(
            Sample.objects.filter(device_sample_id__in=chunk).values_list(
                "device_sample_id", flat=True
            )
        )
    people = jurisdiction.scope(Person.objects.all(), user)
    by_id_number: dict[str, tuple[int, str]] = {}
    numbers = sorted({r.id_number for r in rows if r.id_number})
    for chunk in chunks(numbers, 900):
        for number, pk, region in people.filter(id_number__in=chunk).values_list(
            "id_number", "id", "region_code"
        ):
            by_id_number[number] = (pk, region)
    by_code: dict[str, tuple[int, str]] = {}
    codes = sorted({r.registration_code for r in rows if r.registration_code})
    for chunk in chunks(codes, 900):
        for code, pk, region in RegistrationCode.objects.filter(
            code__in=chunk, person__in=people
        ).values_list("code", "person_id", "person__region_code"):
            by_code[code] = (pk, region)

    resolved: dict[int, tuple[int, str]] = {}
    for i, r in enumerate(rows):
        if i in status:
            continue
        if r.device_sample_id in existing_ids:
            status[i] = REPLAYED
        elif not campaign.starts_at <= r.sampled_at <= campaign.ends_at:
            status[i] = "outside_window"
        elif (
            person := by_id_number.get(r.id_number or "") or by_code.get(r.registration_code or "")
        ) is None:
            status[i] = "unknown_person"
        elif r.retest and (r.capacity or 1) != 1:
            status[i] = "retest_single"
        else:
            resolved[i] = person

    barcodes = sorted({rows[i].tube for i in resolved})
    tubes: dict[str, Tube] = {}
    for chunk in chunks(barcodes, 900):
        found = Tube.objects.filter(campaign=campaign, barcode__in=chunk)
        tubes.update((t.barcode, t) for t in found)
    new_tubes = []
    for i in sorted(resolved, key=lambda i: (rows[i].tube, i)):
        r = rows[i]
        if r.tube not in tubes:
            tubes[r.tube] = Tube(
                campaign=campaign,
                barcode=r.tube,
                capacity=1 if r.retest else (r.capacity or campaign.pool_size),
                point_id=r.point_id,
            )
            new_tubes.append(tubes[r.tube])
    Tube.objects.bulk_create(new_tubes)
    if any(t.pk is None for t in new_tubes):  # backends that do not return ids
        for chunk in chunks([t.barcode for t in new_tubes], 900):
            for t in Tube.objects.filter(campaign=campaign, barcode__in=chunk):
                tubes[t.barcode] = t

    persons = sorted({p for p, _ in resolved.values()})
    sampled: set[int] = set()
    attempts: dict[int, int] = {}
    recalled: set[int] = set()
    for chunk in chunks(persons, 900):
        for pid, attempt in Sample.objects.filter(
            campaign=campaign, person_id__in=chunk
        ).values_list("person_id", "attempt"):
            if attempt == 0:
                sampled.add(pid)
            attempts[pid] = max(attempts.get(pid, 0), attempt)
        recalled.update(
            RecallEntry.objects.filter(
                campaign=campaign, person_id__in=chunk, retest__isnull=True
            ).values_list("person_id", flat=True)
        )

    sampled_before = set(sampled)
    room = {code: t.capacity - t.sample_count for code, t in tubes.items()}
    to_insert: list[tuple[int, ScanRow, int, str, int]] = []
    counts: Counter[int] = Counter()
    retested: set[int] = set()
    order = sorted(resolved, key=lambda i: (rows[i].sampled_at, i))
    for i in order:
        r, (pid, region) = rows[i], resolved[i]
        tube = tubes[r.tube]
        # The same order of verdicts as the PostgreSQL path.
        if not r.retest and pid in sampled_before:
            status[i] = "already_sampled"
        elif tube.result is not None:
            status[i] = "tube_resulted"
        elif (r.capacity is not None and r.capacity != tube.capacity) or (
            r.retest and tube.capacity != 1
        ):
            status[i] = "capacity_mismatch"
        elif r.retest and pid not in recalled:
            status[i] = "not_recalled"
        elif (pid in retested) if r.retest else (pid in sampled):
            status[i] = "already_sampled"
        elif room[r.tube] <= 0:
            status[i] = "tube_full"
        else:
            attempt = attempts.get(pid, 0) + 1 if r.retest else 0
            if r.retest:
                retested.add(pid)
            else:
                sampled.add(pid)
            room[r.tube] -= 1
            counts[tube.pk] += 1
            to_insert.append((i, r, pid, region, attempt))
            status[i] = ACCEPTED

    user_id = getattr(user, "pk", None)
    table = Sample._meta.db_table
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (campaign_id, tube_id, person_id, region_code, attempt,"
            " device_sample_id, point_id, sampled_at, recorded_by_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    campaign.pk,
                    tubes[r.tube].pk,
                    pid,
                    region,
                    attempt,
                    r.device_sample_id,
                    r.point_id,
                    ops.adapt_datetimefield_value(r.sampled_at),
                    user_id,
                )
                for _, r, pid, region, attempt in to_insert
            ],
        )
        cursor.executemany(
            f"UPDATE {Tube._meta.db_table} SET sample_count = sample_count + %s WHERE id = %s",
            [(k, pk) for pk, k in counts.items()],
        )
        tally = Counter(region for _, _, _, region, attempt in to_insert if attempt == 0)
        cursor.executemany(
            "INSERT INTO testing_coveragecount (campaign_id, region_code, tested, resulted)"
            " VALUES (%s, %s, %s, 0) ON CONFLICT (campaign_id, region_code) DO UPDATE"
            " SET tested = testing_coveragecount.tested + excluded.tested",
            [(campaign.pk, region, n) for region, n in sorted(tally.items())],
        )
    retests = [(pid, r.device_sample_id) for _, r, pid, _, attempt in to_insert if attempt]
    if retests:
        ids = dict(
            Sample.objects.filter(device_sample_id__in=[d for _, d in retests]).values_list(
                "device_sample_id", "id"
            )
        )
        for pid, device_id in retests:
            RecallEntry.objects.filter(
                campaign=campaign, person_id=pid, retest__isnull=True
            ).update(retest_id=ids[device_id])
    for i, r in enumerate(rows):
        code = status[i]
        if code == ACCEPTED:
            report.accepted += 1
        elif code == REPLAYED:
            report.replayed += 1
        else:
            _reject(report, i, r, code)
    if to_insert:
        report.accepted_ids = dict(
            Sample.objects.filter(
                device_sample_id__in=[r.device_sample_id for _, r, *_ in to_insert[:900]]
            ).values_list("device_sample_id", "id")
        )
    return report
