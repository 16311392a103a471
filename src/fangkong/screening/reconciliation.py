"""Reconciliation of screening lists (多渠道名单比对): link each list entry to its person,
let a person decide the doubtful pairs, and show per village who one channel found and the
other never reported.

Rules:

- Entries are linked to registry persons by :func:`.linkage.link`, on evidence: the same
  ID number links when name, sex and birth date do not contradict it (else the pair goes to
  a person), an ID number one edit from a person's is weighed with the other fields, and
  the review band becomes a :class:`CandidatePair` for a person.
- Scope: an entry links only to persons of its own village (``scope="village"``, the
  default; a group's entry belongs to its village) or of its own group (``"group"``). The
  county — a user whose jurisdiction covers the whole county — may widen one run to the
  township or the county (``"township"``, ``"county"``); the review page says which pairs
  cross a village.
- Human decisions are stored and reused: a rejected pair is never proposed again, a
  confirmed pair links the entry; linked entries are not re-linked by later runs.
- The entries still unlinked after a run are grouped per village across channels
  (:func:`group_unregistered`, by :func:`.linkage.cluster`): one
  :class:`UnregisteredGroup` per person the registry lacks (未登记人员), stored until the
  next run. Entries waiting in a candidate pair are left out: they may be a registered
  person. Registering a group first looks for a person of the village the entries may be
  (:func:`similar_persons`: a one-digit-off ID number, a homophone name …): if there is
  one, it is offered instead (:func:`link_group`) and a new person is created only when the
  user insists; otherwise the person is created through the registry's services (the
  channel as its source) and every entry of the group is linked to it.
- Gaps are counted per village over persons: "police, not village" are persons (or
  unregistered groups) from the police channel without any village report, and the reverse.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import audit, idnumbers, jurisdiction, names, phones
from fangkong.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from fangkong.core.masking import present, visible_fields
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Action
from fangkong.core.text import name_problem
from fangkong.people import services as people_services
from fangkong.people.models import Person, PersonCategory, Sex, Source

from . import linkage
from .models import CandidatePair, LinkMethod, SourceRecord, UnregisteredGroup
from .services import require

LIST_SOURCES = (
    Source.POLICE,
    Source.VILLAGE,
    Source.SELF_REPORT,
    Source.CHECKPOINT,
    Source.TIP_OFF,
)
MAX_BATCH = 5000
# How far an entry may link: its own group or village; the county may widen a run.
SCOPES = {
    "group": linkage.GROUP,
    "village": linkage.VILLAGE,
    "township": linkage.TOWNSHIP,
    "county": linkage.COUNTY,
}
SCOPE_NAMES = {
    "group": "本组",
    "village": "本村",
    "township": "扩大到全乡镇",
    "county": "扩大到全县",
}


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


def add_records(
    *, user: Any, source: str, records: list[RecordInput], channel: str = "api"
) -> list[SourceRecord]:
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
            errors.append(
                FieldError(p + "region_code", _("This village is outside your jurisdiction"))
            )
        problem = name_problem(names.clean(r.name))
        if problem is not None:
            errors.append(FieldError(p + "name", problem))
        number = idnumbers.normalize(r.id_number) if r.id_number else ""
        try:
            phone = phones.normalize(r.phone) if r.phone else ""
        except phones.PhoneError:
            phone = ""  # a wrong phone on a list is noise to link around, not a reason to drop
        rows.append(
            SourceRecord(
                source=source,
                name=names.clean(r.name)[:64],
                id_number=number[:18],
                sex=r.sex if r.sex in ("M", "F") else "",
                birth_date=r.birth_date,
                phone=phone,
                address=r.address[:200],
                region_code=r.region_code,
                reported_on=r.reported_on,
                created_by=user,
            )
        )
    if errors:
        raise ValidationFailed(errors[:200])
    with transaction.atomic():
        created = SourceRecord.objects.bulk_create(rows, batch_size=2000)
        audit.record(
            user=user,
            kind=AuditEvent.Kind.CREATE,
            object_type="source_record",
            channel=channel,
            detail=f"{source} {len(created)} 条",
        )
    return created


@dataclass
class ReconcileSummary:
    region_code: str
    records: int = 0
    linked_by_id: int = 0
    linked_automatically: int = 0
    for_review: int = 0
    unmatched: int = 0
    unregistered: int = 0
    scope: str = "village"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _rec(key: Any, obj: Any) -> linkage.Rec:
    return linkage.Rec(
        key,
        obj.name,
        obj.id_number or "",
        obj.sex or "",
        obj.birth_date,
        obj.phone or "",
        getattr(obj, "address", "") or "",
        obj.region_code,
    )


def _person_rec(p: Person) -> linkage.Rec:
    address = p.household.address if p.household is not None else ""
    return linkage.Rec(
        p.pk, p.name, p.id_number or "", p.sex, p.birth_date, p.phone, address, p.region_code
    )


def check_scope(user: Any, region_code: str, scope: str) -> int:
    """The linker's scope for a run (digits of the area two records must share); widening
    past the village is the county's decision: the user's jurisdiction must cover the whole
    county of ``region_code``."""
    if scope not in SCOPES:
        raise ValidationFailed(
            [FieldError("scope", _("Choose one of: group, village, township, county"))]
        )
    within = SCOPES[scope]
    if within < linkage.VILLAGE and not jurisdiction.covers(user, region_code[:6]):
        raise PermissionDenied("widen reconciliation")
    return within


def reconcile(
    *, user: Any, region_code: str, channel: str = "api", scope: str = "village"
) -> ReconcileSummary:
    """Link the unlinked entries of ``region_code`` to registry persons of their own
    village (or group, or — when the county widens the run — township or county)."""
    require(user, Action.SCREENING_EDIT)
    if not jurisdiction.covers(user, region_code):
        raise NotFound(region_code)
    within = check_scope(user, region_code, scope)
    in_region = jurisdiction.prefix_q("region_code", [region_code])
    # Persons of the run's region, or of the wider area the county chose.
    in_reach = jurisdiction.prefix_q("region_code", [region_code[:within]])
    summary = ReconcileSummary(region_code=region_code, scope=scope)
    with transaction.atomic():
        records = list(SourceRecord.objects.filter(in_region, person__isnull=True))
        summary.records = len(records)
        if not records:
            group_unregistered(region_code=region_code)
            return summary
        reach = in_reach if within < len(region_code) else in_region
        persons = list(
            jurisdiction.scope(Person.objects.filter(reach), user)
            .select_related("household")
            .only(
                "id",
                "name",
                "id_number",
                "sex",
                "birth_date",
                "phone",
                "region_code",
                "household__address",
            )
        )
        rejected = set(
            CandidatePair.objects.filter(in_region, status="rejected").values_list(
                "record_id", "person_id"
            )
        )
        pending = set(
            CandidatePair.objects.filter(in_region, status="pending").values_list(
                "record_id", "person_id"
            )
        )
        right = [_person_rec(p) for p in persons]
        by_pk = {r.pk: r for r in records}
        by_source: dict[str, list[linkage.Rec]] = defaultdict(list)
        for r in records:
            by_source[r.source].append(_rec(r.pk, r))
        found: list[linkage.Link] = []
        for source_records in by_source.values():
            # One-to-one within a list (a list names a person once); across lists, many
            # entries may describe the same person.
            found.extend(linkage.link(source_records, right, rejected=rejected, within=within))
        new_pairs = []
        linked_ids = set()
        for lk in found:
            record = by_pk[cast(int, lk.left)]
            person_id = cast(int, lk.right)
            if lk.auto:
                record.person_id = person_id
                record.link_method = LinkMethod.ID if lk.method == "id" else LinkMethod.AUTO
                record.link_score = lk.score
                record.group_id = None
                linked_ids.add(record.pk)
                if lk.method == "id":
                    summary.linked_by_id += 1
                else:
                    summary.linked_automatically += 1
            elif (record.pk, person_id) not in pending:
                new_pairs.append(
                    CandidatePair(
                        record=record,
                        person_id=person_id,
                        region_code=record.region_code,
                        score=lk.score,
                        why=lk.why[:100],
                    )
                )
        SourceRecord.objects.bulk_update(
            [by_pk[k] for k in linked_ids],
            ["person", "link_method", "link_score", "group"],
            batch_size=2000,
        )
        CandidatePair.objects.bulk_create(new_pairs, batch_size=2000, ignore_conflicts=True)
        summary.unregistered = group_unregistered(region_code=region_code)
        summary.for_review = CandidatePair.objects.filter(
            in_region, status="pending", record__person__isnull=True
        ).count()
        summary.unmatched = summary.records - len(linked_ids)
        audit.record(
            user=user,
            kind=AuditEvent.Kind.UPDATE,
            object_type="reconciliation",
            channel=channel,
            detail=f"{region_code} {summary.as_dict()}",
        )
    return summary


def decide(*, user: Any, pair_id: int, accept: bool, channel: str = "api") -> CandidatePair:
    """Confirm or reject a candidate pair; confirming links the entry to the person and
    rejects the entry's other pending pairs."""
    require(user, Action.SCREENING_EDIT)
    with transaction.atomic():
        pair = (
            jurisdiction.scope(CandidatePair.objects.select_for_update(), user)
            .filter(pk=pair_id)
            .select_related("record")
            .first()
        )
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
            group_id, record.group_id = record.group_id, None
            record.save(update_fields=["person", "link_method", "link_score", "group"])
            if group_id is not None:
                _refresh_group(group_id)
            CandidatePair.objects.filter(record=record, status="pending").update(
                status=CandidatePair.Status.REJECTED, decided_by=user, decided_at=now
            )
        audit.record(
            user=user,
            kind=AuditEvent.Kind.UPDATE,
            object_type="candidate_pair",
            object_id=pair.pk,
            channel=channel,
            detail="confirmed" if accept else "rejected",
        )
    return pair


def candidates(user: Any, *, status: str = "pending"):
    require(user, Action.SCREENING_VIEW)
    return (
        jurisdiction.scope(CandidatePair.objects.filter(status=status), user)
        .select_related("record", "person")
        .order_by("-score", "id")
    )


def gaps(
    user: Any,
    *,
    region_code: str | None = None,
    first: str = Source.POLICE,
    second: str = Source.VILLAGE,
) -> list[dict[str, Any]]:
    """Per village: found by ``first`` but never reported by ``second``, and the reverse."""
    require(user, Action.SCREENING_VIEW)
    qs = jurisdiction.scope(SourceRecord.objects.filter(source__in=(first, second)), user)
    if region_code:
        qs = qs.filter(jurisdiction.prefix_q("region_code", [region_code]))
    seen: dict[str, dict[Any, set[str]]] = defaultdict(lambda: defaultdict(set))
    rows = qs.values_list("source", "region_code", "person_id", "group_id", "pk")
    for source, village, person_id, group_id, pk in rows:
        # One person: the registered one, else the group of unregistered entries.
        key = person_id if person_id is not None else f"g{group_id}" if group_id else f"r{pk}"
        seen[village[:12]][key].add(source)
    out = []
    for village, people in sorted(seen.items()):
        only_first = [k for k, s in people.items() if s == {first}]
        only_second = [k for k, s in people.items() if s == {second}]
        out.append(
            {
                "region_code": village,
                "persons": len(people),
                "only_" + first: len(only_first),
                "only_" + second: len(only_second),
                "both": len(people) - len(only_first) - len(only_second),
            }
        )
    return out


def link_counts(user: Any) -> dict[str, int]:
    """How the entries of the user's area were linked: by ID number, automatically, by a
    person's confirmation, by registering the person they name, or not yet."""
    require(user, Action.SCREENING_VIEW)
    counts = dict(
        jurisdiction.scope(SourceRecord.objects.all(), user)
        .values_list("link_method")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {
        "id": counts.get(LinkMethod.ID, 0),
        "auto": counts.get(LinkMethod.AUTO, 0),
        "confirmed": counts.get(LinkMethod.CONFIRMED, 0),
        "registered": counts.get(LinkMethod.REGISTERED, 0),
        "unlinked": counts.get(LinkMethod.NONE, 0),
    }


def present_pairs(
    user: Any, pairs: list[CandidatePair], *, channel: str, request: Any = None
) -> list[dict[str, Any]]:
    """Candidate pairs side by side for a reviewer: both records as the role may see them
    (ID numbers and phones masked without the permission; unmasked reads audited in one
    insert) and, field by field, whether they agree."""
    visible = visible_fields(user)
    if visible and pairs:
        audit.record_sensitive_reads(
            user=user,
            object_type="person",
            object_ids=[p.person_id for p in pairs],
            fields=visible,
            channel=channel,
            request=request,
        )
    out = []
    for pair in pairs:
        record, person = pair.record, pair.person
        record_pinyin = names.keys(record.name)[0]
        person_pinyin = person.name_pinyin or names.keys(person.name)[0]
        out.append(
            {
                "pair": pair,
                # Where the numbers differ, in words ("身份证号第 9 位不同"): no digit shown.
                "id_difference": linkage.id_difference(record.id_number, person.id_number or ""),
                # Only a run the county widened links across villages: say so beside the pair.
                "other_village": record.region_code[:12] != person.region_code[:12],
                "record": _side(
                    record.name,
                    record_pinyin,
                    record.birth_date,
                    record.sex,
                    record.id_number,
                    record.phone,
                    visible,
                ),
                "person": _side(
                    person.name,
                    person_pinyin,
                    person.birth_date,
                    person.sex,
                    person.id_number or "",
                    person.phone or "",
                    visible,
                ),
                "agree": {
                    "name": record.name == person.name,
                    "pinyin": bool(record_pinyin) and record_pinyin == person_pinyin,
                    "birth_date": record.birth_date is not None
                    and record.birth_date == person.birth_date,
                    "sex": bool(record.sex) and record.sex == person.sex,
                    "phone": bool(record.phone) and record.phone == person.phone,
                    "id_number": bool(record.id_number) and record.id_number == person.id_number,
                },
            }
        )
    return out


def _side(
    name: str,
    pinyin: str,
    birth_date: dt.date | None,
    sex: str,
    id_number: str,
    phone: str,
    visible: frozenset[str],
) -> dict[str, Any]:
    return {
        "name": name,
        "pinyin": pinyin,
        "birth_date": birth_shown(birth_date, visible) or None,  # the year alone if masked
        "birth": birth_shown(birth_date, visible),
        "sex": Sex(sex).label if sex in Sex.values else "",
        "id_number": present("id_number", id_number, visible),
        "phone": present("phone", phone, visible),
    }


def birth_shown(birth_date: dt.date | None, visible: frozenset[str]) -> str:
    """A birth date as the role may see it: whole with the ID number, else its year only
    (the date and the number's region would give most of the number away)."""
    if birth_date is None:
        return ""
    return birth_date.isoformat() if "id_number" in visible else str(birth_date.year)


# ---------------------------------------------------------------- unregistered (未登记人员)


def _group_region(codes: set[str]) -> str:
    """The region of a group: its entries' code when they agree, else their village."""
    return next(iter(codes)) if len(codes) == 1 else min(codes)[:12]


def _representative(records: list[SourceRecord]) -> SourceRecord:
    """The entry that speaks for a group: one with a valid ID number, else the latest."""

    def rank(r: SourceRecord) -> tuple:
        valid = bool(r.id_number) and idnumbers.is_valid(r.id_number)
        return (valid, r.reported_on, r.pk)

    return max(records, key=rank)


def _describe(group: UnregisteredGroup, records: list[SourceRecord]) -> None:
    """Fill a group's stored summary from its entries."""
    lead = _representative(records)
    present_sources = {r.source for r in records}
    group.anchor = min(r.pk for r in records)
    group.region_code = _group_region({r.region_code for r in records})
    group.name = lead.name
    group.sources = [s for s in LIST_SOURCES if s in present_sources]
    group.records_count = len(records)
    group.first_reported = min(r.reported_on for r in records)
    group.updated_at = timezone.now()


def _cluster_rec(r: SourceRecord) -> linkage.Rec:
    """An entry as the linker sees it, with birth date and sex read from a valid ID number
    when the list left them out (the registry derives them the same way)."""
    sex, born = r.sex, r.birth_date
    if r.id_number and idnumbers.is_valid(r.id_number) and not (sex and born):
        info = idnumbers.parse(r.id_number)
        sex, born = sex or info.sex, born or info.birth_date
    return linkage.Rec(r.pk, r.name, r.id_number, sex, born, r.phone, r.address, r.region_code)


def group_unregistered(*, region_code: str) -> int:
    """Regroup the unlinked entries of the villages under ``region_code`` (a village is the
    unit: a grid's run regroups its village); returns the number of groups.

    A group found again (same lowest entry) keeps its id, so a page open during a run still
    names the right group. Groups already registered are history and not touched.
    """
    area = region_code[:12]
    in_area = jurisdiction.prefix_q("region_code", [area])
    with transaction.atomic():
        waiting = set(
            CandidatePair.objects.filter(
                in_area, status="pending", record__person__isnull=True
            ).values_list("record_id", flat=True)
        )
        records = [
            r
            for r in SourceRecord.objects.filter(in_area, person__isnull=True).order_by("pk")
            if r.pk not in waiting
        ]
        by_village: dict[str, list[SourceRecord]] = defaultdict(list)
        for r in records:
            by_village[r.region_code[:12]].append(r)
        old = {g.anchor: g for g in UnregisteredGroup.objects.filter(in_area, person__isnull=True)}
        kept: list[UnregisteredGroup] = []
        new: list[UnregisteredGroup] = []
        members: list[tuple[UnregisteredGroup, list[SourceRecord]]] = []
        for village_records in by_village.values():
            by_pk = {r.pk: r for r in village_records}
            for keys in linkage.cluster([_cluster_rec(r) for r in village_records]):
                group_records = [by_pk[cast(int, k)] for k in keys]
                group = old.pop(min(r.pk for r in group_records), None)
                if group is None:
                    group = UnregisteredGroup()
                    new.append(group)
                else:
                    kept.append(group)
                _describe(group, group_records)
                members.append((group, group_records))
        UnregisteredGroup.objects.bulk_update(
            kept,
            ["region_code", "name", "sources", "records_count", "first_reported", "updated_at"],
            batch_size=2000,
        )
        UnregisteredGroup.objects.bulk_create(new, batch_size=2000)
        changed = []
        for group, group_records in members:
            for r in group_records:
                if r.group_id != group.pk:
                    r.group_id = group.pk
                    changed.append(r)
        SourceRecord.objects.bulk_update(changed, ["group"], batch_size=2000)
        if waiting:
            SourceRecord.objects.filter(pk__in=waiting, group__isnull=False).update(group=None)
        UnregisteredGroup.objects.filter(pk__in=[g.pk for g in old.values()]).delete()
    return len(members)


def _refresh_group(group_id: int) -> None:
    """Bring a group's summary up to date after one of its entries was linked elsewhere;
    a group left without entries is removed."""
    group = UnregisteredGroup.objects.filter(pk=group_id, person__isnull=True).first()
    if group is None:
        return
    records = list(group.records.filter(person__isnull=True))
    if not records:
        group.delete()
        return
    _describe(group, records)
    group.save()


def unregistered(
    user: Any, *, region_code: str | None = None, limit: int = 500
) -> list[UnregisteredGroup]:
    """The groups of unregistered entries of the user's area, with their entries, by
    village and name (as stored by the last reconciliation run)."""
    require(user, Action.SCREENING_VIEW)
    qs = jurisdiction.scope(UnregisteredGroup.objects.filter(person__isnull=True), user)
    if region_code:
        qs = qs.filter(jurisdiction.prefix_q("region_code", [region_code]))
    return list(qs.prefetch_related("records").order_by("region_code", "name", "id")[:limit])


def present_groups(
    user: Any, groups: list[UnregisteredGroup], *, channel: str, request: Any = None
) -> list[dict[str, Any]]:
    """Unregistered groups per village, each with the channels that reported it and its
    entries as the role may see them (unmasked reads audited in one insert)."""
    visible = visible_fields(user)
    shown = [r.pk for g in groups for r in g.records.all() if r.id_number or r.phone]
    if visible and shown:
        audit.record_sensitive_reads(
            user=user,
            object_type="source_record",
            object_ids=shown,
            fields=visible,
            channel=channel,
            request=request,
        )
    labels = dict(Source.choices)
    villages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for g in groups:
        records = sorted(g.records.all(), key=lambda r: (r.reported_on, r.pk))
        lead = _representative(records) if records else None
        villages[g.region_code[:12]].append(
            {
                "group": g,
                "channels": [labels.get(s, s) for s in g.sources],
                "id_number": present("id_number", lead.id_number, visible) if lead else "",
                "phone": present("phone", lead.phone, visible) if lead else "",
                "sex": Sex(lead.sex).label if lead and lead.sex in Sex.values else "",
                "birth_date": (birth_shown(lead.birth_date, visible) or None) if lead else None,
                "birth": birth_shown(lead.birth_date, visible) if lead else "",
                "records": [
                    {
                        "id": r.pk,
                        "source": r.source,
                        "source_label": labels.get(r.source),
                        "name": r.name,
                        "reported_on": r.reported_on,
                        "region_code": r.region_code,
                        "id_number": present("id_number", r.id_number, visible),
                        "phone": present("phone", r.phone, visible),
                        "birth_date": birth_shown(r.birth_date, visible) or None,
                        "birth": birth_shown(r.birth_date, visible),
                    }
                    for r in records
                ],
            }
        )
    return [{"region_code": code, "groups": items} for code, items in sorted(villages.items())]


def _person_data(group: UnregisteredGroup, records: list[SourceRecord]) -> dict[str, Any]:
    """What the registry learns from a group: the representative entry first, the others
    filling what it lacks; with a valid ID number, sex and birth date follow from it."""
    lead = _representative(records)
    others = [
        lead,
        *sorted(
            (r for r in records if r is not lead), key=lambda r: (r.reported_on, r.pk), reverse=True
        ),
    ]

    def first(field: str) -> Any:
        return next((getattr(r, field) for r in others if getattr(r, field)), None)

    data: dict[str, Any] = {
        "name": lead.name,
        "region_code": group.region_code,
        "category": PersonCategory.RETURNEE,
        "phone": first("phone") or "",
    }
    number = lead.id_number if lead.id_number and idnumbers.is_valid(lead.id_number) else ""
    if number:
        data["id_number"] = number
    else:
        data["sex"], data["birth_date"] = first("sex") or "", first("birth_date")
    return data


@dataclass
class SimilarPersons(ValidationFailed):
    """Registering would duplicate a person the village already has (they are offered)."""

    persons: list[tuple[Person, linkage.Link]] = field(default_factory=list)


def similar_persons(user: Any, *, group_id: int) -> list[tuple[Person, linkage.Link]]:
    """The registered persons of the group's village its entries may be, best first: a
    one-digit-off or swapped ID number, the same number with a typo elsewhere, a homophone
    name with the same birth date … (the linker's review band). Persons a reviewer has
    rejected for every entry of the group are left out."""
    require(user, Action.SCREENING_VIEW)
    group = (
        jurisdiction.scope(UnregisteredGroup.objects.filter(person__isnull=True), user)
        .filter(pk=group_id)
        .first()
    )
    if group is None:
        raise NotFound(group_id)
    return _similar(user, group, list(group.records.filter(person__isnull=True)))


def _similar(
    user: Any, group: UnregisteredGroup, records: list[SourceRecord]
) -> list[tuple[Person, linkage.Link]]:
    if not records:
        return []
    village = jurisdiction.prefix_q("region_code", [group.region_code[:12]])
    persons = {
        p.pk: p
        for p in jurisdiction.scope(Person.objects.filter(village), user).select_related(
            "household"
        )
    }
    found = linkage.similar(
        [_cluster_rec(r) for r in records], [_person_rec(p) for p in persons.values()]
    )
    rejected = defaultdict(set)
    for record_id, person_id in CandidatePair.objects.filter(
        record__in=records, status="rejected"
    ).values_list("record_id", "person_id"):
        rejected[person_id].add(record_id)
    everyone = {r.pk for r in records}
    return [
        (persons[cast(int, lk.right)], lk)
        for lk in found
        if rejected.get(cast(int, lk.right), set()) != everyone
    ]


def present_similar(
    user: Any, found: list[tuple[Person, linkage.Link]], *, channel: str, request: Any = None
) -> list[dict[str, Any]]:
    """The persons a group may be, as the role may see them (unmasked reads audited)."""
    visible = visible_fields(user)
    if visible and found:
        audit.record_sensitive_reads(
            user=user,
            object_type="person",
            object_ids=[person.pk for person, _lk in found],
            fields=visible,
            channel=channel,
            request=request,
        )
    return [
        {
            "id": person.pk,
            "name": person.name,
            "region_code": person.region_code,
            "id_number": present("id_number", person.id_number, visible),
            "phone": present("phone", person.phone, visible),
            "sex": Sex(person.sex).label if person.sex in Sex.values else "",
            "birth": birth_shown(person.birth_date, visible),
            "why": lk.why,
            "score": lk.score,
        }
        for person, lk in found
    ]


def link_group(
    *, user: Any, group_id: int, person_id: int, channel: str = "api", request: Any = None
) -> Person:
    """Link every entry of an unregistered group to a registered person of its village —
    the person they name, registered under a number one digit off, say — instead of
    registering them again. The entries count as confirmed by a person; the group, which
    named nobody new, is removed."""
    require(user, Action.SCREENING_EDIT)
    with transaction.atomic():
        group = (
            jurisdiction.scope(UnregisteredGroup.objects.select_for_update(), user)
            .filter(pk=group_id, person__isnull=True)
            .first()
        )
        if group is None:
            raise NotFound(group_id)
        person = jurisdiction.scope(Person.objects.all(), user).filter(pk=person_id).first()
        if person is None:
            raise NotFound(person_id)
        if person.region_code[:12] != group.region_code[:12]:
            raise ValidationFailed(
                [FieldError("person_id", _("This person is registered in another village"))]
            )
        records = list(group.records.filter(person__isnull=True).order_by("pk"))
        if not records:
            raise ValidationFailed([FieldError("group", _("This person is already registered"))])
        now = timezone.now()
        SourceRecord.objects.filter(pk__in=[r.pk for r in records]).update(
            person=person, link_method=LinkMethod.CONFIRMED, link_score=None, group=None
        )
        pending = CandidatePair.objects.filter(record__in=records, status="pending")
        pending.filter(person=person).update(
            status=CandidatePair.Status.CONFIRMED, decided_by=user, decided_at=now
        )
        pending.exclude(person=person).update(
            status=CandidatePair.Status.REJECTED, decided_by=user, decided_at=now
        )
        audit.record(
            user=user,
            kind=AuditEvent.Kind.UPDATE,
            object_type="unregistered_group",
            object_id=group.pk,
            channel=channel,
            request=request,
            detail=(
                f"linked to person {person.pk} instead of registering: entries "
                f"{','.join(str(r.pk) for r in records)}"
            )[:300],
        )
        group.delete()
    return person


def register_group(
    *,
    user: Any,
    group_id: int,
    channel: str = "api",
    request: Any = None,
    despite_similar: bool = False,
) -> Person:
    """Register the person an unregistered group names and link all its entries to them.

    A group whose entries may be a person the village already has (:func:`similar_persons`)
    is not registered: :class:`SimilarPersons` names them, so that the user links the group
    to that person (:func:`link_group`) — unless ``despite_similar`` says the user checked
    and they are someone else. The person is created by the registry's own service (its
    rules: a valid, unique ID number, a region inside the user's jurisdiction; its history
    and audit), with the channel of the group's representative entry as its source; the
    entries are linked with the method "registered", which with the group keeps where the
    person came from.
    """
    require(user, Action.SCREENING_EDIT)
    with transaction.atomic():
        group = (
            jurisdiction.scope(UnregisteredGroup.objects.select_for_update(), user)
            .filter(pk=group_id)
            .first()
        )
        if group is None:
            raise NotFound(group_id)
        records = list(group.records.filter(person__isnull=True).order_by("pk"))
        if group.person_id is not None or not records:
            raise ValidationFailed([FieldError("group", _("This person is already registered"))])
        if not despite_similar:
            found = _similar(user, group, records)
            if found:
                raise SimilarPersons(
                    errors=[
                        FieldError(
                            "person_id",
                            _("May already be registered as %(name)s (person %(id)s): %(why)s")
                            % {"name": person.name, "id": person.pk, "why": lk.why},
                        )
                        for person, lk in found[:5]
                    ],
                    detail=_(
                        "The village may already have this person; link the entries to them, "
                        "or register anyway if they are someone else"
                    ),
                    persons=found[:5],
                )
        lead = _representative(records)
        source = lead.source if lead.source in Source.values else Source.MANUAL
        person = people_services.create_person(
            user=user,
            data=_person_data(group, records),
            source=source,
            channel=channel,
            request=request,
        )
        SourceRecord.objects.filter(pk__in=[r.pk for r in records]).update(
            person=person, link_method=LinkMethod.REGISTERED, link_score=None
        )
        CandidatePair.objects.filter(record__in=records, status="pending").update(
            status=CandidatePair.Status.REJECTED, decided_by=user, decided_at=timezone.now()
        )
        group.person, group.registered_by, group.registered_at = person, user, timezone.now()
        group.save(update_fields=["person", "registered_by", "registered_at"])
        audit.record(
            user=user,
            kind=AuditEvent.Kind.CREATE,
            object_type="unregistered_group",
            object_id=group.pk,
            channel=channel,
            request=request,
            detail=(
                f"person {person.pk} from {'、'.join(group.sources)} entries "
                f"{','.join(str(r.pk) for r in records)}"
            )[:300],
        )
    return person


# Channels of other modules offering entries (core.signals.screening_entry_offered): the
# list source the village sees, and the words before the sender's reason.
OFFERED_SOURCES = {"pharmacy": Source.TIP_OFF, "school": Source.SELF_REPORT}
OFFERED_WORDS = {"pharmacy": "药店购药", "school": "学校上报"}


def receive_entry_offered(
    sender: Any,
    *,
    ref: str,
    channel: str,
    person_id: int | None,
    name: str,
    region_code: str,
    reason: str,
    at: dt.datetime,
    id_number: str = "",
    phone: str = "",
    **_: Any,
) -> SourceRecord:
    """A module met a person the screening lists should carry (a fever-drug buyer, a student
    back from a risk area): one list entry for the village to verify, keyed on ``ref`` so a
    repeated offer changes nothing. Written by the system in the sender's transaction, the
    way a checkpoint hands its risk-area arrivals over (the sender already checked who may
    record it)."""
    existing = SourceRecord.objects.filter(ref=ref).first()
    if existing is not None:
        return existing
    number = idnumbers.normalize(id_number) if id_number else ""
    try:
        phone = phones.normalize(phone) if phone else ""
    except phones.PhoneError:
        phone = ""
    words = OFFERED_WORDS.get(channel, channel)
    record = SourceRecord.objects.create(
        source=OFFERED_SOURCES.get(channel, Source.TIP_OFF),
        name=(names.clean(name) or name)[:64],
        id_number=number[:18],
        phone=phone,
        address=f"{words}：{reason}"[:200],
        region_code=region_code,
        reported_on=timezone.localtime(at).date(),
        person_id=person_id,
        link_method=LinkMethod.ID if person_id else "",
        ref=ref[:60],
    )
    audit.record(
        user=None,
        kind=AuditEvent.Kind.CREATE,
        object_type="source_record",
        object_id=str(record.pk),
        channel=channel,
        detail=f"{words} {ref}",
    )
    return record
