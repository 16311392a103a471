"""Verification, rewards and penalties: a verified tip makes exactly one reward and at most
one penalty; the ledger sums to the verified tips; duplicates link; the tipster's phone is
hidden from other roles and its reads audited; other villages' tips are out of reach."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.models import AuditEvent
from fangkong.core.roles import Role
from fangkong.tipoffs import services
from fangkong.tipoffs.models import Reward, TipStatus, VillagePenalty
from tests.conftest import COUNTY, GRID_A1, VILLAGE_A, VILLAGE_B, VILLAGE_C

pytestmark = pytest.mark.django_db


def _verify(tip, actor, outcome="verified", **extra):
    return services.verify_tip(
        actor=actor,
        tip_id=tip.pk,
        outcome=outcome,
        finding="上门核实",
        version=tip.version,
        **extra,
    )


def test_verified_returnee_makes_one_reward_and_one_penalty(rules, submit, inspector):
    tip = submit(contact_phone="13800138000")
    _verify(tip, inspector, village_missed=True)
    assert Reward.objects.filter(tip=tip).count() == 1
    assert Reward.objects.get(tip=tip).amount == 500
    penalty = VillagePenalty.objects.get(tip=tip)
    assert penalty.amount == 5000  # arrived after the cut-off
    with pytest.raises(ValidationFailed):
        _verify(tip.__class__.objects.get(pk=tip.pk), inspector, village_missed=True)
    assert Reward.objects.count() == 1 and VillagePenalty.objects.count() == 1


def test_penalty_before_the_cutoff_is_the_lower_amount(rules, submit, inspector):
    tip = submit(happened_at=timezone.now() - dt.timedelta(days=15))
    _verify(tip, inspector, village_missed=True)
    assert VillagePenalty.objects.get(tip=tip).amount == 2022


def test_gathering_or_unfounded_makes_no_penalty(rules, submit, inspector):
    gathering = submit(kind="gathering")
    _verify(gathering, inspector, village_missed=True)
    unfounded = submit()
    _verify(unfounded, inspector, outcome="unfounded")
    assert not VillagePenalty.objects.exists()
    assert Reward.objects.count() == 1


def test_stale_version_is_a_conflict(rules, submit, inspector):
    tip = submit()
    with pytest.raises(VersionConflict):
        services.verify_tip(
            actor=inspector, tip_id=tip.pk, outcome="verified", finding="x", version=tip.version + 1
        )


def test_duplicate_needs_an_earlier_tip(rules, submit, inspector):
    first = submit()
    second = submit()
    with pytest.raises(ValidationFailed) as info:
        _verify(first, inspector, outcome="duplicate", duplicate_of=second.receipt_code)
    assert info.value.errors[0].field == "duplicate_of"
    done = _verify(second, inspector, outcome="duplicate", duplicate_of=first.receipt_code.lower())
    assert done.duplicate_of == first and done.status == TipStatus.DUPLICATE
    assert not Reward.objects.exists()


def test_ledger_sums_to_the_verified_tips(rules, submit, inspector, cadre_a):
    tips = [submit(village=VILLAGE_A) for _ in range(3)] + [submit(village=VILLAGE_B)]
    for tip in tips[:2] + tips[3:]:
        _verify(tip, inspector)
    _verify(tips[2], inspector, outcome="unfounded")
    reward = Reward.objects.filter(region_code=VILLAGE_A).first()
    services.pay_reward(actor=cadre_a, reward_id=reward.pk, payment_record="凭证1", version=1)
    rows = {r["region_code"]: r for r in services.ledger(inspector)}
    verified = services.tips_in_scope(inspector).filter(status=TipStatus.VERIFIED).count()
    assert sum(r["count"] for r in rows.values()) == verified == 3
    assert sum(r["amount"] for r in rows.values()) == 500 * verified
    assert rows[VILLAGE_A] == {
        "region_code": VILLAGE_A,
        "count": 2,
        "amount": 1000,
        "paid": 500,
        "unpaid": 500,
    }
    # The village cadre sees their own village's ledger only.
    assert [r["region_code"] for r in services.ledger(cadre_a)] == [VILLAGE_A]
    with pytest.raises(ValidationFailed):
        services.pay_reward(actor=cadre_a, reward_id=reward.pk, payment_record="再付", version=2)


def test_other_village_cannot_see_or_verify(rules, submit, cadre_c, client_for):
    tip = submit(village=VILLAGE_A)
    with pytest.raises(NotFound):
        services.get_tip(cadre_c, tip.pk)
    with pytest.raises(NotFound):
        _verify(tip, cadre_c)
    client = client_for(cadre_c)
    assert client.get(reverse("tipoffs:tip", args=[tip.pk])).status_code == 404
    assert client.get(f"/api/v1/tipoffs/tips/{tip.pk}").status_code == 404
    response = client.post(
        f"/api/v1/tipoffs/tips/{tip.pk}/verify",
        {"outcome": "verified", "finding": "x", "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_tipster_phone_masked_for_other_roles_and_audited_for_verifiers(
    rules, submit, inspector, make_user, client_for
):
    tip = submit(contact_phone="13800138000", contact_name="李四")
    grid_worker = make_user(Role.GRID_WORKER, VILLAGE_A, username="wangge_a")
    page = client_for(grid_worker).get(reverse("tipoffs:tip", args=[tip.pk])).content.decode()
    assert "13800138000" not in page and "138****8000" in page
    api = client_for(grid_worker).get("/api/v1/tipoffs/tips").json()
    assert api[0]["contact_phone"] == "138****8000"
    assert not AuditEvent.objects.filter(object_type="tipster").exists()

    page = client_for(inspector).get(reverse("tipoffs:tip", args=[tip.pk])).content.decode()
    assert "13800138000" in page
    event = AuditEvent.objects.get(object_type="tipster")
    assert event.user == inspector and event.object_id == str(tip.pk) and event.fields == ["phone"]


def test_tipster_phone_hidden_from_a_role_that_sees_residents_phones(rules, submit, make_user):
    # An investigator may see residents' phones, but has no business with tipsters at all.
    investigator = make_user(Role.INVESTIGATOR, COUNTY, username="liudiao_t")
    tip = submit(contact_phone="13800138000")
    with pytest.raises(PermissionDenied):
        services.get_tip(investigator, tip.pk)


def test_hotline_tip_by_staff_inside_their_area(rules, cadre_a, county):
    data = services.TipInput(
        kind="other", region_code=VILLAGE_A, text="电话反映", contact_phone="13911112222"
    )
    tip = services.record_hotline_tip(actor=cadre_a, data=data)
    assert tip.channel == "hotline" and tip.created_by == cadre_a
    with pytest.raises(ValidationFailed):
        services.record_hotline_tip(
            actor=cadre_a, data=services.TipInput(kind="other", region_code=VILLAGE_C, text="x")
        )


def test_verified_tip_with_person_shows_on_the_timeline(rules, submit, inspector, make_person):
    from fangkong.core import timeline

    person = make_person(GRID_A1, "王返乡")
    tip = submit()
    _verify(tip, inspector, person_id=person.pk)
    entries = timeline.entries_for(inspector, person.pk)
    assert any(tip.receipt_code in e.title for e in entries)
