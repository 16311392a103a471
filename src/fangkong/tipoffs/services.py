"""Writes and rules of tip-offs: intake (public form and hotline), verification, rewards.

Rules kept here:
- a public submission is refused, with nothing stored, when its address or device has
  already sent ``CLIENT_LIMIT``/``DEVICE_LIMIT`` tips within the hour, when the form was
  filled implausibly fast or the hidden field was filled (a robot), or a photo is refused;
- every tip must be verified within ``VERIFY_WITHIN_HOURS`` (REQUIREMENTS.md names no
  number; 24 hours is the working day and night the seeds give a village for a report);
- a verified tip earns exactly one reward under the rule in force, a verified returnee tip
  the village had missed exactly one penalty; a duplicate points to an earlier tip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fangkong.core import jurisdiction, regions
from fangkong.core.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from fangkong.core.models import Region
from fangkong.core.permissions import require
from fangkong.core.photos import MAX_PHOTOS, PhotoRefused, clean_photo
from fangkong.core.roles import Action

from .models import (
    PenaltyRule,
    PhotoStage,
    Reward,
    RewardRule,
    TipChannel,
    TipKind,
    TipOff,
    TipPhoto,
    TipStatus,
    VillagePenalty,
)

VERIFY_WITHIN_HOURS = 24
CLIENT_LIMIT = (5, dt.timedelta(hours=1))
DEVICE_LIMIT = (3, dt.timedelta(hours=1))
FORM_MIN_SECONDS = 3
FORM_MAX_AGE = dt.timedelta(hours=6)
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECEIPT_LENGTH = 10
_FORM_SALT = "fangkong.tipoffs.form"
_BLOCK_PREFIX = "tipoffs:blocked:"
BLOCK_SECONDS = 300
TOO_MANY_FROM_NETWORK = gettext_noop(
    "Too many tip-offs from this network; please try again in an hour or call the hotline."
)
TOO_MANY_FROM_PHONE = gettext_noop(
    "Too many tip-offs from this phone; please try again in an hour or call the hotline."
)


# --- abuse resistance -------------------------------------------------------------------


def client_key(address: str | None) -> str:
    """A keyed hash of the client's address (an IPv6 client by its /64: one household's
    router hands out many addresses). The address itself is never stored."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    text = str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
    return _keyed("ip", text)


def device_key(token: str) -> str:
    return _keyed("device", token) if token else ""


def _keyed(kind: str, text: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{text}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def form_token(now: dt.datetime | None = None) -> str:
    """A signed stamp of when the form was handed out (too fast or too old is refused)."""
    moment = now or timezone.now()
    return signing.dumps(int(moment.timestamp()), salt=_FORM_SALT)


def _check_form_token(token: str, now: dt.datetime) -> None:
    try:
        issued = int(signing.loads(token, salt=_FORM_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        raise ValidationFailed(
            [FieldError("form", _("The form has expired; please open it again."))]
        ) from None
    age = now.timestamp() - issued
    if age < FORM_MIN_SECONDS:
        raise ValidationFailed(
            [FieldError("form", _("The form was sent too quickly; please check and send again."))]
        )
    if age > FORM_MAX_AGE.total_seconds():
        raise ValidationFailed(
            [FieldError("form", _("The form has expired; please open it again."))]
        )


def is_blocked(client: str) -> bool:
    """True when this address was refused for its rate a moment ago: a flood from one
    address is then answered before the form is even read (a cache lookup, no query). The
    count in the database stays the authority; this is per server process."""
    return bool(client) and cache.get(f"{_BLOCK_PREFIX}{client}") is not None


def _check_rate(client: str, device: str, now: dt.datetime) -> None:
    """Refuse a sender who has reached the hourly limit of the address or of the device."""
    recent = TipOff.objects.filter(created_at__gte=now - CLIENT_LIMIT[1])
    if client and recent.filter(client_key=client).count() >= CLIENT_LIMIT[0]:
        cache.set(f"{_BLOCK_PREFIX}{client}", 1, timeout=BLOCK_SECONDS)
        raise ValidationFailed([FieldError("rate", _(TOO_MANY_FROM_NETWORK))])
    recent = TipOff.objects.filter(created_at__gte=now - DEVICE_LIMIT[1])
    if device and recent.filter(device_key=device).count() >= DEVICE_LIMIT[0]:
        raise ValidationFailed([FieldError("rate", _(TOO_MANY_FROM_PHONE))])


# --- intake -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TipInput:
    kind: str
    region_code: str
    text: str
    place: str = ""
    happened_at: dt.datetime | None = None
    contact_name: str = ""
    contact_phone: str = ""


def _validate(data: TipInput, now: dt.datetime) -> list[FieldError]:
    errors: list[FieldError] = []
    if data.kind not in TipKind.values:
        errors.append(FieldError("kind", _("Choose what you are reporting.")))
    if not (
        regions.is_code(data.region_code)
        and len(data.region_code) == regions.VILLAGE_LENGTH
        and Region.objects.filter(code=data.region_code).exists()
    ):
        errors.append(FieldError("region_code", _("Choose the village.")))
    if not data.text.strip():
        errors.append(FieldError("text", _("Say what happened.")))
    elif len(data.text) > 2000:
        errors.append(FieldError("text", _("At most 2000 characters.")))
    if len(data.place) > 120:
        errors.append(FieldError("place", _("At most 120 characters.")))
    if len(data.contact_name) > 32:
        errors.append(FieldError("contact_name", _("At most 32 characters.")))
    phone = data.contact_phone.strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 20):
        errors.append(FieldError("contact_phone", _("Enter a phone number of digits only.")))
    if data.happened_at and data.happened_at > now + dt.timedelta(minutes=10):
        errors.append(FieldError("happened_at", _("The time cannot be in the future.")))
    return errors


def _new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def _clean_photos(photos: Sequence[bytes]) -> list[Any]:
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed([FieldError("photos", _("At most 3 photos."))])
    cleaned = []
    for index, raw in enumerate(photos, start=1):
        try:
            cleaned.append(clean_photo(raw))
        except PhotoRefused as exc:
            raise ValidationFailed(
                [FieldError("photos", _("Photo %(n)s: %(why)s") % {"n": index, "why": exc})]
            ) from None
    return cleaned


def _store(
    data: TipInput,
    *,
    channel: str,
    now: dt.datetime,
    photos: list[Any],
    created_by: Any = None,
    client: str = "",
    device: str = "",
) -> TipOff:
    with transaction.atomic():
        tip = TipOff.objects.create(
            receipt_code=_new_receipt_code(),
            channel=channel,
            kind=data.kind,
            region_code=data.region_code,
            place=data.place.strip(),
            happened_at=data.happened_at,
            text=data.text.strip(),
            contact_name=data.contact_name.strip(),
            contact_phone=data.contact_phone.strip(),
            client_key=client,
            device_key=device,
            created_at=now,
            created_by=created_by,
            deadline=now + dt.timedelta(hours=VERIFY_WITHIN_HOURS),
        )
        TipPhoto.objects.bulk_create(
            TipPhoto(tip=tip, stage=PhotoStage.TIP, image=p.data, width=p.width, height=p.height)
            for p in photos
        )
    return tip


def submit_public_tip(
    *,
    data: TipInput,
    photos: Sequence[bytes] = (),
    address: str | None,
    device_token: str,
    form_stamp: str,
    trap: str = "",
    now: dt.datetime | None = None,
) -> TipOff:
    """A tip from the public form. Every check runs before anything is written; a refused
    submission leaves nothing behind and says why in Chinese."""
    now = now or timezone.now()
    if trap:
        raise ValidationFailed([FieldError("form", _("The form could not be accepted."))])
    _check_form_token(form_stamp, now)
    client, device = client_key(address), device_key(device_token)
    _check_rate(client, device, now)
    errors = _validate(data, now)
    if errors:
        raise ValidationFailed(errors)
    cleaned = _clean_photos(photos)
    with transaction.atomic():
        # Two submissions of one sender at once must not both pass the count: lock the
        # sender's keys for this transaction (PostgreSQL; SQLite writes one at a time).
        _lock_senders(client, device)
        _check_rate(client, device, now)
        return _store(
            data, channel=TipChannel.PUBLIC, now=now, photos=cleaned, client=client, device=device
        )


def _lock_senders(*keys: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(k for k in keys if k):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(key[:15], 16)])


def record_hotline_tip(
    *, actor: Any, data: TipInput, photos: Sequence[bytes] = (), now: dt.datetime | None = None
) -> TipOff:
    """A tip taken by phone (or at a door) and entered by staff on the same record."""
    require(actor, Action.TIPOFF_INTAKE)
    now = now or timezone.now()
    errors = _validate(data, now)
    if not errors and not jurisdiction.covers(actor, data.region_code):
        errors.append(FieldError("region_code", _("The village is outside your area.")))
    if errors:
        raise ValidationFailed(errors)
    cleaned = _clean_photos(photos)
    return _store(data, channel=TipChannel.HOTLINE, now=now, photos=cleaned, created_by=actor)


def status_by_receipt(code: str) -> TipOff | None:
    """The tip a tipster's receipt code names (status only is shown to them)."""
    code = code.strip().upper()
    if len(code) != RECEIPT_LENGTH or any(c not in RECEIPT_ALPHABET for c in code):
        return None
    return TipOff.objects.filter(receipt_code=code).first()


# --- verification -----------------------------------------------------------------------


def tips_in_scope(actor: Any) -> QuerySet[TipOff]:
    require(actor, Action.TIPOFF_VIEW)
    return jurisdiction.scope(TipOff.objects.all(), actor)


def get_tip(actor: Any, tip_id: int) -> TipOff:
    tip = tips_in_scope(actor).filter(pk=tip_id).first()
    if tip is None:
        raise NotFound(tip_id)
    return tip


def current_reward_rule(at: dt.datetime) -> RewardRule | None:
    return RewardRule.objects.filter(valid_from__lte=at).order_by("-valid_from").first()


def current_penalty_rule(at: dt.datetime) -> PenaltyRule | None:
    return PenaltyRule.objects.filter(valid_from__lte=at).order_by("-valid_from").first()


def verify_tip(
    *,
    actor: Any,
    tip_id: int,
    outcome: str,
    finding: str,
    version: int,
    duplicate_of: str = "",
    person_id: int | None = None,
    village_missed: bool = False,
    photos: Sequence[bytes] = (),
    now: dt.datetime | None = None,
) -> TipOff:
    """Record what the verifier found and the outcome. Verified: one reward under the rule in
    force; a returnee the village had missed: one penalty on the village. Duplicate: linked
    to the earlier tip by its receipt code. A decided tip is not decided again."""
    require(actor, Action.TIPOFF_VERIFY)
    now = now or timezone.now()
    errors: list[FieldError] = []
    if outcome not in (TipStatus.VERIFIED, TipStatus.UNFOUNDED, TipStatus.DUPLICATE):
        errors.append(FieldError("outcome", _("Choose verified, unfounded or duplicate.")))
    if not finding.strip():
        errors.append(FieldError("finding", _("Say what was found.")))
    elif len(finding) > 2000:
        errors.append(FieldError("finding", _("At most 2000 characters.")))
    cleaned = _clean_photos(photos) if not errors else []
    with transaction.atomic():
        tip = tips_in_scope(actor).select_for_update().filter(pk=tip_id).first()
        if tip is None:
            raise NotFound(tip_id)
        if tip.version != version:
            raise VersionConflict(tip.version)
        if tip.status != TipStatus.PENDING:
            errors.append(FieldError("outcome", _("This tip-off has already been decided.")))
        earlier = None
        if outcome == TipStatus.DUPLICATE:
            earlier = (
                tips_in_scope(actor)
                .filter(receipt_code=duplicate_of.strip().upper(), created_at__lt=tip.created_at)
                .first()
            )
            if earlier is None:
                errors.append(
                    FieldError("duplicate_of", _("Give the receipt code of an earlier tip-off."))
                )
        person = None
        if person_id:
            from fangkong.people.selectors import persons_visible_to

            person = persons_visible_to(actor).filter(pk=person_id).first()
            if person is None:
                errors.append(FieldError("person", _("The person is outside your area.")))
        if errors:
            raise ValidationFailed(errors)
        tip.status = outcome
        tip.finding = finding.strip()
        tip.duplicate_of = earlier
        tip.person = person
        tip.village_missed = bool(
            village_missed and outcome == TipStatus.VERIFIED and tip.kind == TipKind.RETURNEE
        )
        tip.verified_at = now
        tip.verified_by = actor
        tip.version += 1
        tip.save()
        TipPhoto.objects.bulk_create(
            TipPhoto(
                tip=tip, stage=PhotoStage.VERIFICATION, image=p.data, width=p.width, height=p.height
            )
            for p in cleaned
        )
        if outcome == TipStatus.VERIFIED:
            _reward(tip, now)
            if tip.village_missed:
                _penalise(tip, now)
    return tip


def _reward(tip: TipOff, now: dt.datetime) -> Reward | None:
    rule = current_reward_rule(now)
    if rule is None or rule.amount == 0:
        return None
    reward, _created = Reward.objects.get_or_create(
        tip=tip,
        defaults={
            "region_code": regions.village_of(tip.region_code) or tip.region_code,
            "amount": rule.amount,
            "rule": rule,
            "created_at": now,
        },
    )
    return reward


def _penalise(tip: TipOff, now: dt.datetime) -> VillagePenalty | None:
    rule = current_penalty_rule(now)
    if rule is None:
        return None
    arrived = (tip.happened_at or tip.created_at).date()
    amount = rule.amount_before if arrived < rule.cutoff else rule.amount_after
    penalty, _created = VillagePenalty.objects.get_or_create(
        tip=tip,
        defaults={
            "region_code": regions.village_of(tip.region_code) or tip.region_code,
            "amount": amount,
            "rule": rule,
            "created_at": now,
        },
    )
    return penalty


# --- rewards ----------------------------------------------------------------------------


def rewards_in_scope(actor: Any) -> QuerySet[Reward]:
    require(actor, Action.TIPOFF_VIEW)
    return jurisdiction.scope(Reward.objects.select_related("tip"), actor)


def pay_reward(
    *, actor: Any, reward_id: int, payment_record: str, version: int, now: dt.datetime | None = None
) -> Reward:
    """Mark a reward paid by the village, with the payer's record (voucher, transfer no.)."""
    require(actor, Action.TIPOFF_REWARD)
    now = now or timezone.now()
    if not payment_record.strip() or len(payment_record) > 120:
        raise ValidationFailed(
            [FieldError("payment_record", _("Give the payment record (at most 120 characters)."))]
        )
    with transaction.atomic():
        reward = rewards_in_scope(actor).select_for_update().filter(pk=reward_id).first()
        if reward is None:
            raise NotFound(reward_id)
        if reward.version != version:
            raise VersionConflict(reward.version)
        if reward.paid_at is not None:
            raise ValidationFailed([FieldError("reward", _("This reward has already been paid."))])
        reward.paid_at = now
        reward.paid_by = actor
        reward.payment_record = payment_record.strip()
        reward.version += 1
        reward.save()
    return reward


def set_reward_rule(
    *, actor: Any, amount: int, payer: str, now: dt.datetime | None = None
) -> RewardRule:
    """A new reward rule in force from now (older rules stay for the rewards made under them)."""
    require(actor, Action.TIPOFF_REWARD)
    if amount < 0 or amount > 100_000:
        raise ValidationFailed([FieldError("amount", _("Between 0 and 100000 yuan."))])
    return RewardRule.objects.create(
        amount=amount,
        payer=payer.strip()[:120] or RewardRule._meta.get_field("payer").default,
        valid_from=now or timezone.now(),
        created_by=actor,
    )


def ledger(actor: Any) -> list[dict[str, Any]]:
    """The reward ledger per village: count, amount, paid and unpaid (奖励台账)."""
    rows: dict[str, dict[str, Any]] = {}
    for reward in rewards_in_scope(actor).order_by("region_code"):
        row = rows.setdefault(
            reward.region_code,
            {"region_code": reward.region_code, "count": 0, "amount": 0, "paid": 0, "unpaid": 0},
        )
        row["count"] += 1
        row["amount"] += reward.amount
        row["paid" if reward.paid_at else "unpaid"] += reward.amount
    return list(rows.values())
