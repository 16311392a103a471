"""Reconciliation of screening lists (多渠道名单比对): link each list entry to its person,
let a person decide the doubtful pairs, and show per village who one channel found and the
other never reported.

Rules:

- Entries are linked to registry persons of the same village or grid area (the
  responsible village's code prefix) by :func:`.linkage.link`: the same valid ID number
  links at once; a match weight at or above :data:`.linkage.AUTO_LINK` links
  automatically; the review band becomes a :class:`CandidatePair` for a person.
- Human decisions are stored and reused: a rejected pair is never proposed again, a
  confirmed pair links the entry; linked entries are not re-linked by later runs.
- Gaps are counted per village over persons: "police, not village" are persons (or
  unlinked entries) from the police channel without any village report, and the reverse.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, idnumbers, jurisdiction, names, phones
from fangkong.core.errors import FieldError, NotFound, ValidationFailed
from fangkong.core.masking import present, visible_fields
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Action
from fangkong.people.models import Person, Sex, Source

from . import linkage
from .models import CandidatePair, LinkMethod, SourceRecord
from .services import require

LIST_SOURCES = (Source.POLICE, Source.VILLAGE, Source.SELF_REPORT, Source.CHECKPOINT,
                Source.TIP_OFF)  # fmt: skip
MAX_BATCH = 5000


@dataclass(frozen=True)
class RecordInput:
    name: str
    region_code: str
    reported_on: dt.date
    id_number: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    address: str = ""


def add_records(*, user: Any, source: str, records: list[RecordInput],
                channel: str = "api") -> list[SourceRecord]:
    """Store the entries of one list as they came (ID numbers and phones normalised when
    they can be); every entry must be inside the user's jurisdiction. All or none."""
    require(user, Action.SCREENING_EDIT)
    errors: list[FieldError] = []
    if source not in LIST_SOURCES:
        errors.append(FieldError("source", _("Unknown source")))
    if not 1 <= len(records) <= MAX_BATCH:
        errors.append(FieldError("records", _("Send 1 to 5,000 records at a time")))
    rows = []
    for i, r in enumerate(records):
        p = f"records.{i}."
        if not jurisdiction.covers(user, r.region_code):
            errors.append(FieldError(p + "region_code",
                                     _("This village is outside your jurisdiction")))
        if not names.clean(r.name):
            errors.append(FieldError(p + "name", _("The name is required")))
        number = idnumbers.normalize(r.id_number) if r.id_number else ""
        try:
            phone = phones.normalize(r.phone) if r.phone else ""
        except phones.PhoneError:
            phone = ""  # a wrong phone on a list is noise to link around, not a reason to drop
        rows.append(SourceRecord(
            source=source, name=names.clean(r.name)[:64], id_number=number[:18],
            sex=r.sex if r.sex in ("M", "F") else "", birth_date=r.birth_date, phone=phone,
            address=r.address[:200], region_code=r.region_code, reported_on=r.reported_on,
            created_by=user,
        ))  # fmt: skip
    if errors:
        raise ValidationFailed(errors[:200])
    with transaction.atomic():
        created = SourceRecord.objects.bulk_create(rows, batch_size=2000)
        audit.record(user=user, kind=AuditEvent.Kind.CREATE, object_type="source_record",
                     channel=channel, detail=f"{source} {len(created)} 条")  # fmt: skip
    return created


@dataclass
class ReconcileSummary:
    region_code: str
    records: int = 0
    linked_by_id: int = 0
    linked_automatically: int = 0
    for_review: int = 0
    unmatched: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rec(key: Any, obj: Any) -> linkage.Rec:
    return linkage.Rec(key, obj.name, obj.id_number or "", obj.sex or "", obj.birth_date,
                       obj.phone or "", getattr(obj, "address", "") or "")


def reconcile(*, user: Any, region_code: str, channel: str = "api") -> ReconcileSummary:
    """Link the unlinked entries of ``region_code`` to its registry persons."""
    require(user, Action.SCREENING_EDIT)
    if not jurisdiction.covers(user, region_code):
        raise NotFound(region_code)
    in_region = jurisdiction.prefix_q("region_code", [region_code])
    summary = ReconcileSummary(region_code=region_code)
    with transaction.atomic():
        records = list(SourceRecord.objects.filter(in_region, person__isnull=True))
        summary.records = len(records)
        if not records:
            return summary
        persons = list(Person.objects.filter(in_region).select_related("household")
                       .only("id", "name", "id_number", "sex", "birth_date", "phone",
                             "household__address"))  # fmt: skip
        rejected = set(CandidatePair.objects.filter(in_region, status="rejected")
                       .values_list("record_id", "person_id"))  # fmt: skip
        pending = set(CandidatePair.objects.filter(in_region, status="pending")
                      .values_list("record_id", "person_id"))  # fmt: skip
        right = []
        for p in persons:
            address = p.household.address if p.household_id else ""
            right.append(linkage.Rec(p.pk, p.name, p.id_number or "", p.sex, p.birth_date,
                                     p.phone, address))  # fmt: skip
        by_pk = {r.pk: r for r in records}
        by_source: dict[str, list[linkage.Rec]] = defaultdict(list)
        for r in records:
            by_source[r.source].append(_rec(r.pk, r))
        found: list[linkage.Link] = []
        for source_records in by_source.values():
            # One-to-one within a list (a list names a person once); across lists, many
            # entries may describe the same person.
            found.extend(linkage.link(source_records, right, rejected=rejected))
        new_pairs = []
        linked_ids = set()
        for lk in found:
            record = by_pk[lk.left]
            if lk.method == "id" or lk.score >= linkage.AUTO_LINK:
                record.person_id = lk.right
                record.link_method = LinkMethod.ID if lk.method == "id" else LinkMethod.AUTO
                record.link_score = lk.score
                linked_ids.add(record.pk)
                if lk.method == "id":
                    summary.linked_by_id += 1
                else:
                    summary.linked_automatically += 1
            elif (record.pk, lk.right) not in pending:
                new_pairs.append(CandidatePair(record=record, person_id=lk.right,
                                               region_code=record.region_code,
                                               score=lk.score, why=lk.why[:100]))
        SourceRecord.objects.bulk_update([by_pk[k] for k in linked_ids],
                                         ["person", "link_method", "link_score"],
                                         batch_size=2000)  # fmt: skip
        CandidatePair.objects.bulk_create(new_pairs, batch_size=2000, ignore_conflicts=True)
        summary.for_review = CandidatePair.objects.filter(
            in_region, status="pending", record__person__isnull=True).count()
        summary.unmatched = summary.records - len(linked_ids)
        audit.record(user=user, kind=AuditEvent.Kind.UPDATE, object_type="reconciliation",
                     channel=channel, detail=f"{region_code} {summary.as_dict()}")
    return summary


def decide(*, user: Any, pair_id: int, accept: bool, channel: str = "api") -> CandidatePair:
    """Confirm or reject a candidate pair; confirming links the entry to the person and
    rejects the entry's other pending pairs."""
    require(user, Action.SCREENING_EDIT)
    with transaction.atomic():
        pair = (jurisdiction.scope(CandidatePair.objects.select_for_update(), user)
                .filter(pk=pair_id).select_related("record").first())  # fmt: skip
        if pair is None:
            raise NotFound(pair_id)
        if pair.status != CandidatePair.Status.PENDING:
            raise ValidationFailed([FieldError("status", _("This pair was already decided"))])
        now = timezone.now()
        pair.status = CandidatePair.Status.CONFIRMED if accept else CandidatePair.Status.REJECTED
        pair.decided_by, pair.decided_at = user, now
        pair.save(update_fields=["status", "decided_by", "decided_at"])
        if accept:
            record = pair.record
            record.person_id = pair.person_id
            record.link_method = LinkMethod.CONFIRMED
            record.link_score = pair.score
            record.save(update_fields=["person", "link_method", "link_score"])
            CandidatePair.objects.filter(record=record, status="pending").update(
                status=CandidatePair.Status.REJECTED, decided_by=user, decided_at=now)
        audit.record(user=user, kind=AuditEvent.Kind.UPDATE, object_type="candidate_pair",
                     object_id=pair.pk, channel=channel,
                     detail="confirmed" if accept else "rejected")  # fmt: skip
    return pair


def candidates(user: Any, *, status: str = "pending"):
    require(user, Action.SCREENING_VIEW)
    return (jurisdiction.scope(CandidatePair.objects.filter(status=status), user)
            .select_related("record", "person").order_by("-score", "id"))  # fmt: skip


def gaps(user: Any, *, region_code: str | None = None,
         first: str = Source.POLICE, second: str = Source.VILLAGE) -> list[dict[str, Any]]:
    """Per village: found by ``first`` but never reported by ``second``, and the reverse."""
    require(user, Action.SCREENING_VIEW)
    qs = jurisdiction.scope(SourceRecord.objects.filter(source__in=(first, second)), user)
    if region_code:
        qs = qs.filter(jurisdiction.prefix_q("region_code", [region_code]))
    seen: dict[str, dict[Any, set[str]]] = defaultdict(lambda: defaultdict(set))
    for source, village, person_id, pk in qs.values_list("source", "region_code",
                                                         "person_id", "pk"):
        key = person_id if person_id is not None else f"r{pk}"
        seen[village[:12]][key].add(source)
    out = []
    for village, people in sorted(seen.items()):
        only_first = [k for k, s in people.items() if s == {first}]
        only_second = [k for k, s in people.items() if s == {second}]
        out.append({"region_code": village, "persons": len(people),
                    "only_" + first: len(only_first), "only_" + second: len(only_second),
                    "both": len(people) - len(only_first) - len(only_second)})
    return out


def link_counts(user: Any) -> dict[str, int]:
    """How the entries of the user's area were linked: by ID number, automatically, by a
    person's confirmation, or not yet."""
    require(user, Action.SCREENING_VIEW)
    counts = dict(jurisdiction.scope(SourceRecord.objects.all(), user)
                  .values_list("link_method").annotate(n=Count("id")).order_by())  # fmt: skip
    return {"id": counts.get(LinkMethod.ID, 0), "auto": counts.get(LinkMethod.AUTO, 0),
            "confirmed": counts.get(LinkMethod.CONFIRMED, 0),
            "unlinked": counts.get(LinkMethod.NONE, 0)}  # fmt: skip


def present_pairs(user: Any, pairs: list[CandidatePair], *, channel: str,
                  request: Any = None) -> list[dict[str, Any]]:
    """Candidate pairs side by side for a reviewer: both records as the role may see them
    (ID numbers and phones masked without the permission; unmasked reads audited in one
    insert) and, field by field, whether they agree."""
    visible = visible_fields(user)
    if visible and pairs:
        audit.record_sensitive_reads(user=user, object_type="person",
                                     object_ids=[p.person_id for p in pairs], fields=visible,
                                     channel=channel, request=request)  # fmt: skip
    out = []
    for pair in pairs:
        record, person = pair.record, pair.person
        record_pinyin = names.keys(record.name)[0]
        person_pinyin = person.name_pinyin or names.keys(person.name)[0]
        out.append({
            "pair": pair,
            "record": _side(record.name, record_pinyin, record.birth_date, record.sex,
                            record.id_number, record.phone, visible),
            "person": _side(person.name, person_pinyin, person.birth_date, person.sex,
                            person.id_number or "", person.phone or "", visible),
            "agree": {
                "name": record.name == person.name,
                "pinyin": bool(record_pinyin) and record_pinyin == person_pinyin,
                "birth_date": record.birth_date is not None
                and record.birth_date == person.birth_date,
                "sex": bool(record.sex) and record.sex == person.sex,
                "phone": bool(record.phone) and record.phone == person.phone,
                "id_number": bool(record.id_number) and record.id_number == person.id_number,
            },
        })  # fmt: skip
    return out


def _side(name: str, pinyin: str, birth_date: dt.date | None, sex: str, id_number: str,
          phone: str, visible: frozenset[str]) -> dict[str, Any]:
    return {"name": name, "pinyin": pinyin, "birth_date": birth_date,
            "sex": Sex(sex).label if sex in Sex.values else "",
            "id_number": present("id_number", id_number, visible),
            "phone": present("phone", phone, visible)}  # fmt: skip
