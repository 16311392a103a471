"""Notices with read receipts: one model and one service for every module (通知与回执).

A notice goes to the active users of the addressed roles whose jurisdiction lies inside
one of the addressed regions (a notice to 富强镇 reaches its villages' cadres and its posts'
staff, not the county above). Modules publish system notices with a stable ``source`` key
(a second publish is the first notice); cadres publish from the notices page, inside their
own jurisdiction. Recipients read and, when asked, confirm; the receipts show who has not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from . import errors, jurisdiction
from .actors import Actor
from .batching import chunks
from .errors import FieldError, ValidationFailed
from .models import Notice, NoticeReceipt, User
from .permissions import require
from .roles import Action, Role

MAX_TITLE = 200
MAX_BODY = 5000


@dataclass(frozen=True)
class NoticeDraft:
    title: str
    body: str
    region_codes: tuple[str, ...]
    roles: tuple[str, ...] = ()
    level: str = Notice.Level.INFO
    requires_confirmation: bool = False
    confirm_within_minutes: int | None = None
    link: str = ""


def _validate(draft: NoticeDraft) -> None:
    problems = []
    if not draft.title.strip():
        problems.append(FieldError("title", _("Give the notice a title")))
    elif len(draft.title) > MAX_TITLE:
        problems.append(FieldError("title", _("The title is too long")))
    if len(draft.body) > MAX_BODY:
        problems.append(FieldError("body", _("The text is too long")))
    if not draft.region_codes or not all(c.isdigit() for c in draft.region_codes):
        problems.append(FieldError("region_codes", _("Choose at least one region")))
    unknown = [r for r in draft.roles if r not in Role.values]
    if unknown:
        problems.append(FieldError("roles", _("Unknown role: %(role)s") % {"role": unknown[0]}))
    if draft.level not in Notice.Level.values:
        problems.append(FieldError("level", _("Unknown level")))
    if draft.confirm_within_minutes is not None and not (
        1 <= draft.confirm_within_minutes <= 7 * 24 * 60
    ):
        problems.append(
            FieldError("confirm_within_minutes", _("Between one minute and seven days"))
        )
    if problems:
        raise ValidationFailed(problems)


def recipients(region_codes: Iterable[str], roles: Iterable[str] = ()) -> QuerySet[User]:
    """Active users of ``roles`` (all roles if empty) with a region inside ``region_codes``."""
    queryset = User.objects.filter(is_active=True)
    wanted = [r for r in roles]
    if wanted:
        queryset = queryset.filter(role__in=wanted)
    inside = jurisdiction.prefix_q("regions__code", list(region_codes))
    return queryset.filter(inside).distinct()


def publish(*, draft: NoticeDraft, sender: Actor | None, source: str = "") -> Notice:
    """Send a notice and create a receipt for each recipient (in batches).

    ``sender=None`` is the system (a module reacting to new risk areas); a user must have
    :attr:`Action.NOTICE_SEND` and may only address regions inside their jurisdiction.
    With ``source`` set, publishing twice returns the first notice unchanged.
    """
    _validate(draft)
    if sender is not None:
        require(sender, Action.NOTICE_SEND)
        outside = [c for c in draft.region_codes if not jurisdiction.covers(sender, c)]
        if outside:
            raise errors.NotFound(outside[0])
    if source:
        existing = Notice.objects.filter(source=source).first()
        if existing is not None:
            return existing
    codes = jurisdiction.collapse(draft.region_codes)
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                title=draft.title.strip(),
                body=draft.body.strip(),
                level=draft.level,
                sender_id=getattr(sender, "pk", None),
                sender_name=(getattr(sender, "display_name", "") or getattr(sender, "username", ""))
                if sender is not None
                else _("System"),
                region_codes=codes,
                roles=list(draft.roles),
                requires_confirmation=draft.requires_confirmation,
                confirm_within_minutes=draft.confirm_within_minutes
                if draft.requires_confirmation
                else None,
                source=source,
                link=draft.link,
            )
            count = _deliver(notice)
            notice.recipients_count = count
            notice.save(update_fields=["recipients_count"])
    except IntegrityError:
        # A concurrent publish with the same source won the race: theirs is the notice.
        if source:
            return Notice.objects.get(source=source)
        raise
    return notice


def _deliver(notice: Notice) -> int:
    users = recipients(notice.region_codes, notice.roles).values_list("pk", "role")
    first_region: dict[int, str] = {}
    prefixes = notice.region_codes
    for user_id, code in (
        User.regions.through.objects.filter(user_id__in=users.values("pk"))
        .order_by("user_id", "region_id")
        .values_list("user_id", "region_id")
    ):
        if user_id not in first_region and any(code.startswith(p) for p in prefixes):
            first_region[user_id] = code
    count = 0
    for batch in chunks(list(users), 2000):
        NoticeReceipt.objects.bulk_create(
            [
                NoticeReceipt(
                    notice=notice,
                    user_id=user_id,
                    role=role,
                    region_code=first_region.get(user_id, ""),
                )
                for user_id, role in batch
            ],
            ignore_conflicts=True,
        )
        count += len(batch)
    return count


# --- the recipient's side ---------------------------------------------------------------


def inbox(actor: Actor, *, unread_only: bool = False, limit: int = 100) -> list[NoticeReceipt]:
    queryset = NoticeReceipt.objects.filter(user_id=actor.pk).select_related("notice")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return list(queryset.order_by("-notice__sent_at", "-id")[:limit])


def unread_count(actor: Any) -> int:
    if not getattr(actor, "is_authenticated", False):
        return 0
    return NoticeReceipt.objects.filter(user_id=actor.pk, read_at__isnull=True).count()


def unconfirmed_count(actor: Any) -> int:
    if not getattr(actor, "is_authenticated", False):
        return 0
    return NoticeReceipt.objects.filter(
        user_id=actor.pk, notice__requires_confirmation=True, confirmed_at__isnull=True
    ).count()


def receipt_for(actor: Actor, notice_id: int) -> NoticeReceipt:
    """The actor's own copy of a notice (NotFound for a notice not addressed to them)."""
    receipt = (
        NoticeReceipt.objects.select_related("notice")
        .filter(user_id=actor.pk, notice_id=notice_id)
        .first()
    )
    if receipt is None:
        raise errors.NotFound(notice_id)
    return receipt


def mark_read(*, actor: Actor, notice_id: int, at: dt.datetime | None = None) -> NoticeReceipt:
    """Record that the actor opened the notice (the first time counts)."""
    receipt = receipt_for(actor, notice_id)
    if receipt.read_at is None:
        receipt.read_at = at or timezone.now()
        NoticeReceipt.objects.filter(pk=receipt.pk, read_at__isnull=True).update(
            read_at=receipt.read_at
        )
    return receipt


def confirm(*, actor: Actor, notice_id: int, at: dt.datetime | None = None) -> NoticeReceipt:
    """Record that the actor has taken note (已知晓); confirming twice changes nothing."""
    receipt = receipt_for(actor, notice_id)
    now = at or timezone.now()
    if receipt.confirmed_at is None:
        receipt.confirmed_at = now
        receipt.read_at = receipt.read_at or now
        NoticeReceipt.objects.filter(pk=receipt.pk, confirmed_at__isnull=True).update(
            confirmed_at=receipt.confirmed_at, read_at=receipt.read_at
        )
    return receipt


# --- the sender's side ------------------------------------------------------------------


def notices_of_area(actor: Actor, *, limit: int = 100) -> list[Notice]:
    """Notices addressed to regions inside the actor's jurisdiction, with receipt counts."""
    require(actor, Action.NOTICE_TRACK)
    codes = jurisdiction.user_codes(actor)
    if not codes:
        return []
    queryset = Notice.objects.annotate(
        read=Count("receipts", filter=Q(receipts__read_at__isnull=False)),
        confirmed=Count("receipts", filter=Q(receipts__confirmed_at__isnull=False)),
    )
    out: list[Notice] = []
    for notice in queryset.order_by("-sent_at", "-id")[: limit * 4]:
        if _concerns(codes, notice):
            out.append(notice)
        if len(out) >= limit:
            break
    return out


def receipts_of(actor: Actor, notice_id: int) -> tuple[Notice, list[NoticeReceipt]]:
    """A notice and its receipts inside the actor's jurisdiction (NotFound outside)."""
    require(actor, Action.NOTICE_TRACK)
    notice = Notice.objects.filter(pk=notice_id).first()
    if notice is None:
        raise errors.NotFound(notice_id)
    receipts = jurisdiction.scope(
        NoticeReceipt.objects.filter(notice=notice).select_related("user"),
        actor,
        field="region_code",
    )
    shown = list(receipts.order_by("confirmed_at", "read_at", "region_code", "user__username"))
    if not shown and not _concerns(jurisdiction.user_codes(actor), notice):
        raise errors.NotFound(notice_id)
    return notice, shown


def _concerns(codes: Iterable[str], notice: Notice) -> bool:
    """A notice addressed inside the jurisdiction ``codes``, or to an area holding it (a
    township's notice concerns its villages): the notices a cadre's list shows, and whose
    receipts page opens (with the receipts of the cadre's own area only)."""
    codes = list(codes)
    return "" in codes or any(
        any(r.startswith(c) or c.startswith(r) for c in codes) for r in notice.region_codes
    )


def late_receipts(*, prefix: str, now: dt.datetime) -> list[NoticeReceipt]:
    """Receipts of notices that had to be confirmed by ``now`` and were not
    (the self-inspection rule "notice unread by a post's staff after 2 h")."""
    queryset = NoticeReceipt.objects.filter(
        notice__requires_confirmation=True,
        notice__confirm_within_minutes__isnull=False,
        notice__sent_at__lte=now,
        confirmed_at__isnull=True,
    ).select_related("notice", "user")
    if prefix:
        queryset = queryset.filter(jurisdiction.prefix_q("region_code", [prefix]))
    return [r for r in queryset if r.notice.confirm_by is not None and r.notice.confirm_by <= now]
