"""The rules of places: closure history, one problem per failed item, the gathering rule,
resumption, cold-chain documents, pharmacy idempotence, school checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.roles import Role
from fangkong.places import services
from fangkong.places.models import (
    DailyCheck,
    DrugSale,
    InspectionResult,
    PlaceStatus,
    StatusChange,
)
from tests.conftest import GRID_A1, GRID_C1, VILLAGE_A

pytestmark = pytest.mark.django_db


def test_closure_status_history(cadre_a, place_a):
    place = services.change_status(
        actor=cadre_a, place_id=place_a.pk, status="closed", version=1, order_no="富防指〔2026〕1号"
    )
    assert place.status == PlaceStatus.CLOSED and place.version == 2
    with pytest.raises(VersionConflict):
        services.change_status(actor=cadre_a, place_id=place.pk, status="reopened", version=1)
    with pytest.raises(ValidationFailed):
        services.change_status(
            actor=cadre_a, place_id=place.pk, status="closed", version=2, order_no="x"
        )
    services.change_status(actor=cadre_a, place_id=place.pk, status="reopened", version=2)
    history = list(StatusChange.objects.filter(place=place).values_list("status", "order_no"))
    assert history == [("closed", "富防指〔2026〕1号"), ("reopened", "")]


def test_closing_needs_an_order_number(cadre_a, place_a):
    with pytest.raises(ValidationFailed) as failed:
        services.change_status(actor=cadre_a, place_id=place_a.pk, status="closed", version=1)
    assert failed.value.errors[0].field == "order_no"


def test_campaign_lists_the_still_open(cadre_a, make_place):
    cafe = make_place(cadre_a, kind="internet_cafe", name="星空网咖")
    ktv = make_place(cadre_a, kind="entertainment", name="金嗓子")
    services.change_status(actor=cadre_a, place_id=ktv.pk, status="closed", version=1, order_no="1")
    data = services.campaign(cadre_a)
    assert (data["total"], data["closed"]) == (2, 1)
    assert [p.pk for p in data["still_open"]] == [cafe.pk]


def test_each_failed_item_is_exactly_one_problem(cadre_a, place_a, sink):
    items = services.checklist(place_a.kind)
    outcomes = [services.ItemOutcome(i.pk, n % 2 == 0) for n, i in enumerate(items)]
    failed = sum(1 for o in outcomes if not o.passed)
    record = services.record_inspection(actor=cadre_a, place_id=place_a.pk, outcomes=outcomes)
    assert record.failed == failed == len(sink.raised)
    # Raising again (a retry of the sink call) does not add a problem.
    for result in InspectionResult.objects.filter(passed=False):
        services.raise_result_problem(result, place=place_a, actor=cadre_a)
    assert len(sink.raised) == failed
    assert all(r.problem_id for r in InspectionResult.objects.filter(passed=False))
    assert all(d.deadline for d in sink.raised.values())


def test_inspection_needs_every_item(cadre_a, place_a):
    items = services.checklist(place_a.kind)
    with pytest.raises(ValidationFailed) as failed:
        services.record_inspection(
            actor=cadre_a, place_id=place_a.pk, outcomes=[services.ItemOutcome(items[0].pk, True)]
        )
    assert {e.field for e in failed.value.errors} == {f"item_{i.pk}" for i in items[1:]}


def test_problem_closed_marks_the_item_rectified(cadre_a, place_a, sink):
    from fangkong.core import signals

    items = services.checklist(place_a.kind)
    services.record_inspection(
        actor=cadre_a,
        place_id=place_a.pk,
        outcomes=[services.ItemOutcome(i.pk, i != items[0]) for i in items],
    )
    result = InspectionResult.objects.get(passed=False)
    signals.problem_closed.send(
        None, source=result.source, closed_at=timezone.now(), closed_by=None
    )
    result.refresh_from_db()
    assert result.rectified_at is not None


def test_a_banquet_is_never_held_and_a_wedding_keeps_to_the_limit(cadre_a, township):
    def gathering(kind, tables):
        return services.record_gathering(
            actor=cadre_a,
            data=services.GatheringInput(
                kind=kind,
                region_code=GRID_A1,
                place_text="院内",
                organiser_name="赵",
                date=timezone.localdate(),
                tables=tables,
            ),
        )

    banquet = gathering("banquet", 3)
    with pytest.raises(PermissionDenied):  # the village cadre may not approve
        services.decide_gathering(actor=cadre_a, gathering_id=banquet.pk, outcome="held", version=1)
    with pytest.raises(ValidationFailed):
        services.decide_gathering(
            actor=township, gathering_id=banquet.pk, outcome="held", version=1
        )
    big = gathering("wedding", services.MAX_TABLES_HELD + 1)
    with pytest.raises(ValidationFailed):
        services.decide_gathering(actor=township, gathering_id=big.pk, outcome="held", version=1)
    small = gathering("funeral", services.MAX_TABLES_HELD)
    held = services.decide_gathering(
        actor=township, gathering_id=small.pk, outcome="held", version=1
    )
    assert held.approved_by == township
    stopped = services.decide_gathering(
        actor=cadre_a, gathering_id=banquet.pk, outcome="stopped", version=1
    )
    assert stopped.persuaded_by == cadre_a
    counts = services.gathering_counts(cadre_a, timezone.localdate())
    assert counts["stopped"] == 1 and counts["tables"] == 3


def test_resumption_needs_a_passed_inspection_and_a_reviewed_plan(cadre_a, township, make_place):
    from django.core.files.base import ContentFile

    factory = make_place(cadre_a, kind="enterprise", name="米业公司")
    application = services.apply_resumption(
        actor=cadre_a,
        place_id=factory.pk,
        staff_count=50,
        canteen_rules=True,
        dormitory_rules=True,
        emergency_plan=ContentFile(b"plan", name="plan.txt"),
    )
    with pytest.raises(ValidationFailed) as failed:
        services.decide_resumption(
            actor=township, resumption_id=application.pk, approve=True, plan_reviewed=True
        )
    assert {e.field for e in failed.value.errors} == {"inspection"}
    services.record_inspection(
        actor=cadre_a,
        place_id=factory.pk,
        outcomes=[services.ItemOutcome(i.pk, True) for i in services.checklist("enterprise")],
    )
    decided = services.decide_resumption(
        actor=township, resumption_id=application.pk, approve=True, plan_reviewed=True
    )
    assert decided.status == "approved"
    rate = services.resumption_rate(township)
    assert rate[0]["resumed"] == 1 and rate[0]["percent"] == 100


def test_a_cold_chain_batch_cannot_leave_without_its_documents(make_user, cadre_a, make_place):
    storage = make_place(cadre_a, kind="cold_storage", name="冷库")
    gate = make_user(Role.CHECKPOINT_STAFF, VILLAGE_A)
    batch = services.report_batch(
        actor=gate,
        storage_id=storage.pk,
        data=services.BatchInput(goods="冻肉", quarantine_certificate="Q1", trace_code="T1"),
    )
    batch = services.register_batch(actor=gate, batch_id=batch.pk, version=batch.version)
    with pytest.raises(ValidationFailed) as failed:
        services.release_batch(actor=gate, batch_id=batch.pk, version=batch.version)
    assert "核酸检测报告" in failed.value.errors[0].message
    assert "消毒证明" in failed.value.errors[0].message
    batch.refresh_from_db()
    assert batch.status == "registered" and not batch.exit_certificate_no


def test_a_complete_batch_leaves_with_an_exit_certificate(make_user, cadre_a, make_place):
    storage = make_place(cadre_a, kind="cold_storage", name="冷库")
    batch = services.report_batch(
        actor=cadre_a,
        storage_id=storage.pk,
        data=services.BatchInput(goods="冻肉", quarantine_certificate="Q1", trace_code="T1"),
    )
    batch = services.register_batch(
        actor=cadre_a,
        batch_id=batch.pk,
        version=batch.version,
        documents={"test_report": "R1", "disinfection_certificate": "D1"},
    )
    released = services.release_batch(actor=cadre_a, batch_id=batch.pk, version=batch.version)
    assert released.status == "released" and released.exit_certificate_no.startswith("CK")


def test_a_resent_sale_is_one_sale_and_one_follow_up(make_user, make_person, cadre_a, make_place):
    pharmacy = make_place(cadre_a, kind="pharmacy", name="仁心大药房")
    buyer = make_person(GRID_A1, "李雷")
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    data = services.SaleInput(
        receipt_no="RX001",
        drug_class="antipyretic",
        drug_name="布洛芬",
        buyer_name="李雷",
        buyer_id_number=buyer.id_number,
        sold_at=timezone.now() - dt.timedelta(hours=1),
    )
    from fangkong.core import signals

    offered = []

    def receive(sender, **kwargs):
        offered.append(kwargs)

    signals.screening_entry_offered.connect(receive, dispatch_uid="test.places")
    try:
        first, created = services.record_sale(actor=doctor, pharmacy_id=pharmacy.pk, data=data)
        again, created_again = services.record_sale(
            actor=doctor, pharmacy_id=pharmacy.pk, data=data
        )
    finally:
        signals.screening_entry_offered.disconnect(dispatch_uid="test.places")
    assert len(offered) == 1 and offered[0]["ref"] == f"places.sale:{first.pk}"
    assert offered[0]["channel"] == "pharmacy" and offered[0]["person_id"] == buyer.pk
    assert created and not created_again and first.pk == again.pk
    assert DrugSale.objects.count() == 1 and first.person_id == buyer.pk
    from fangkong.core import timeline

    entries = timeline.entries_for(cadre_a, buyer.pk)
    assert any(e.kind == "药店购药" and e.tone == "alert" for e in entries)


def test_a_sale_needs_the_buyers_id_or_phone(cadre_a, make_place):
    pharmacy = make_place(cadre_a, kind="pharmacy", name="药房")
    with pytest.raises(ValidationFailed) as failed:
        services.record_sale(
            actor=cadre_a,
            pharmacy_id=pharmacy.pk,
            data=services.SaleInput("R1", "cough", "止咳糖浆", "某人", timezone.now()),
        )
    assert failed.value.errors[0].field == "buyer_phone"


def test_school_checks_by_the_class_link(cadre_a, make_place, make_person):
    school = make_place(cadre_a, kind="school", name="中心小学")
    school_class = services.add_class(actor=cadre_a, school_id=school.pk, name="一班")
    members = [
        services.add_member(actor=cadre_a, class_id=school_class.pk, person_id=make_person().pk)
        for _ in range(3)
    ]
    token = services.new_class_link(actor=cadre_a, class_id=school_class.pk)
    opened = services.class_by_token(token)
    rows = [
        services.CheckInput(members[0].pk, True, Decimal("36.5")),
        services.CheckInput(members[1].pk, True, Decimal("38.1"), "咳嗽"),
        services.CheckInput(members[2].pk, False, None, "", "发热就医"),
    ]
    assert services.record_checks(school_class=opened, rows=rows, slot="morning") == 3
    # Sent again (a teacher taps twice): corrected, not doubled.
    services.record_checks(school_class=opened, rows=rows[:1], slot="morning")
    assert DailyCheck.objects.count() == 3
    with pytest.raises(ValidationFailed):
        services.record_checks(
            school_class=opened, rows=[services.CheckInput(members[2].pk, False)], slot="noon"
        )
    services.new_class_link(actor=cadre_a, class_id=school_class.pk)
    with pytest.raises(NotFound):
        services.class_by_token(token)


def test_a_place_of_another_village_is_not_found(cadre_a, place_c):
    with pytest.raises(NotFound):
        services.get_place(cadre_a, place_c.pk)
    with pytest.raises(ValidationFailed):
        services.register_place(
            actor=cadre_a,
            data=services.PlaceInput(kind="market", name="集市", region_code=GRID_C1),
        )


def test_a_student_back_from_a_risk_area_is_offered_to_screening_once(
    cadre_a, make_place, make_person
):
    from fangkong.core import signals

    school = make_place(cadre_a, kind="school", name="中心小学")
    school_class = services.add_class(actor=cadre_a, school_id=school.pk, name="一班")
    pupil = make_person(GRID_A1, "王小明")
    member = services.add_member(actor=cadre_a, class_id=school_class.pk, person_id=pupil.pk)
    offered = []

    def receive(sender, **kwargs):
        offered.append(kwargs)

    signals.screening_entry_offered.connect(receive, dispatch_uid="test.places.school")
    try:
        for _ in range(2):
            services.report_risk_area_member(
                actor=cadre_a, member_id=member.pk, note="12月1日自外地返回"
            )
    finally:
        signals.screening_entry_offered.disconnect(dispatch_uid="test.places.school")
    assert [o["ref"] for o in offered] == [f"places.member:{member.pk}"]
    assert offered[0]["channel"] == "school" and offered[0]["person_id"] == pupil.pk
