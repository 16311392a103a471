"""Presenting personal fields to an actor, and recording what was shown unmasked.

One function family for every list, detail, export and error message of every module: the
ID number, phone and birth date of a person (or of a notice's subject, a tip-off's tipster,
a pharmacy buyer...) are shown whole only when the actor's role may see them
(:mod:`fangkong.core.masking`), and each record shown with an unmasked value leaves one audit
event (:mod:`fangkong.core.audit`), written for the whole call in one INSERT.

Use :func:`present_people` for a list of rows, :func:`present_one` for one, or a
:class:`Disclosure` when a page assembles several kinds of rows (it writes the audit once,
when the ``with`` block ends).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from . import audit, masking
from .actors import Actor

# The personal fields the kit presents, and the audit name of each.
ID_NUMBER = "id_number"
PHONE = "phone"
BIRTH_DATE = "birth_date"
ALL_FIELDS = (ID_NUMBER, PHONE, BIRTH_DATE)


def _get(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


class Disclosure:
    """What one actor may see on one channel, and the unmasked reads to record.

    ``with Disclosure(actor, channel="web", request=request) as show: ...``; or call
    :meth:`flush` yourself. Reads are recorded per (object type, object id), with the
    union of fields shown unmasked.
    """

    def __init__(self, actor: Actor | Any, *, channel: str, request: Any = None) -> None:
        self.actor = actor
        self.channel = channel
        self.request = request
        self.visible = masking.visible_fields(actor)
        self._reads: dict[tuple[str, str], set[str]] = defaultdict(set)

    def __enter__(self) -> Disclosure:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.flush()

    # --- single values ------------------------------------------------------------------

    def _note(self, field: str, value: Any, ref: tuple[str, Any] | None) -> None:
        if ref is not None and value and field in self.visible:
            self._reads[(ref[0], str(ref[1]))].add(field)

    def id_number(self, value: str | None, *, ref: tuple[str, Any] | None = None) -> str:
        """The ID number as the actor may see it; ``ref`` = (object type, id) for the audit."""
        self._note(ID_NUMBER, value, ref)
        return masking.present(ID_NUMBER, value, self.visible)

    def phone(self, value: str | None, *, ref: tuple[str, Any] | None = None) -> str:
        self._note(PHONE, value, ref)
        return masking.present(PHONE, value, self.visible)

    def birth_date(self, value: dt.date | str | None) -> str:
        """ISO date, or the year alone where the ID number is masked (never audited: a full
        birth date is shown only to those who see the full ID number, which is audited)."""
        return masking.present_birth_date(value, self.visible) or ""

    # --- records ------------------------------------------------------------------------

    def fields(
        self,
        row: Any,
        *,
        object_type: str = "person",
        object_id: Any = None,
        fields: Iterable[str] = ALL_FIELDS,
        source: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The personal fields of one record (a model or a mapping), as the actor may see
        them. ``source`` maps a presented name to the row's attribute when they differ
        (``{"phone": "subject_phone"}``); ``object_id`` defaults to the row's ``pk``/``id``.
        """
        source = source or {}
        if object_id is None:
            object_id = _get(row, "pk") or _get(row, "id")
        ref = (object_type, object_id) if object_id is not None else None
        out: dict[str, str] = {}
        for name in fields:
            value = _get(row, source.get(name, name))
            if name == ID_NUMBER:
                out[name] = self.id_number(value, ref=ref)
            elif name == PHONE:
                out[name] = self.phone(value, ref=ref)
            elif name == BIRTH_DATE:
                out[name] = self.birth_date(value)
            else:
                raise ValueError(f"not a personal field: {name}")
        return out

    def flush(self) -> None:
        """Record every unmasked read noted so far (one INSERT per object type and set of
        fields, :func:`.audit.record_sensitive_reads`) and start afresh."""
        if not self._reads:
            return
        by_fields: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
        for (object_type, object_id), fields in self._reads.items():
            by_fields[(object_type, tuple(sorted(fields)))].append(object_id)
        self._reads.clear()
        for (object_type, shown), ids in by_fields.items():
            audit.record_sensitive_reads(
                user=self.actor,
                object_type=object_type,
                object_ids=ids,
                fields=shown,
                channel=self.channel,
                request=self.request,
            )


def present_people(
    actor: Actor | Any,
    rows: Iterable[Any],
    *,
    channel: str,
    request: Any = None,
    object_type: str = "person",
    fields: Iterable[str] = ALL_FIELDS,
    source: Mapping[str, str] | None = None,
    id_attr: str = "pk",
) -> list[dict[str, str]]:
    """The personal fields of each row, in order, as ``actor`` may see them; one audit
    INSERT for every row shown with an unmasked value."""
    wanted = tuple(fields)
    with Disclosure(actor, channel=channel, request=request) as show:
        return [
            show.fields(
                row,
                object_type=object_type,
                object_id=_get(row, id_attr) if id_attr != "pk" else None,
                fields=wanted,
                source=source,
            )
            for row in rows
        ]


def present_one(
    actor: Actor | Any,
    row: Any,
    *,
    channel: str,
    request: Any = None,
    object_type: str = "person",
    fields: Iterable[str] = ALL_FIELDS,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """:func:`present_people` for one row."""
    return present_people(
        actor,
        [row],
        channel=channel,
        request=request,
        object_type=object_type,
        fields=fields,
        source=source,
    )[0]


def redact(text: str, actor: Actor | Any, values: Iterable[str | None]) -> str:
    """``text`` (an error message, a task summary) with each sensitive value that the actor
    may not see replaced by its masked form. Pass the ID numbers and phones it may quote."""
    visible = masking.visible_fields(actor)
    for value in values:
        if not value or value not in text:
            continue
        field = PHONE if len(value) <= 13 else ID_NUMBER
        if field not in visible:
            text = text.replace(value, masking.mask_value(field, value))
    return text
