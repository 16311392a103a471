"""Order life cycles with the clock moved: missed checks, escalation, readings, release."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from freezegun import freeze_time

from fangkong.core.errors import PermissionDenied, ValidationFailed, VersionConflict
from fangkong.quarantine import services
from fangkong.quarantine.models import Alert, AlertKind, AlertLevel, IsolationOrder

from .conftest import local

pytestmark = pytest.mark.django_db


def reading(order, **fields):
    return services.Reading(order_id=order.pk, **fields)


def test_a_missed_check_alerts_exactly_once_and_escalates_on_time(make_order, doctor, settings):
    settings.QUARANTINE_ESCALATE_VILLAGE_MINUTES = 60
    settings.QUARANTINE_ESCALATE_TOWNSHIP_MINUTES = 180
    with freeze_time(local(2026, 3, 1, 5)):
        order = make_order(starts_at=local(2026, 3, 1, 5))
    with freeze_time(local(2026, 3, 1, 11, 59)):
        assert services.find_missed_checks() == 0  # the morning window is still open
    with freeze_time(local(2026, 3, 1, 12, 1)):
        assert services.find_missed_checks() == 1
        assert services.find_missed_checks() == 0  # a second run raises nothing more
        assert services.run_monitoring() == {"missed": 0, "to_village": 0, "to_township": 0}
    alert = Alert.objects.get(order=order)
    assert alert.kind == AlertKind.MISSED
    assert alert.slot == local(2026, 3, 1, 6)
    assert alert.level == AlertLevel.RESPONSIBLE
    with freeze_time(local(2026, 3, 1, 13, 0)):
        assert services.escalate_alerts() == (0, 0)  # 59 minutes: not yet
    with freeze_time(local(2026, 3, 1, 13, 2)):
        assert services.escalate_alerts() == (1, 0)
    alert.refresh_from_db()
    assert alert.level == AlertLevel.VILLAGE
    with freeze_time(local(2026, 3, 1, 15, 2)):
        assert services.escalate_alerts() == (0, 1)
        assert services.escalate_alerts() == (0, 0)
    alert.refresh_from_db()
    assert alert.level == AlertLevel.TOWNSHIP
    # The next window is checked on time: no new alert for the afternoon.
    with freeze_time(local(2026, 3, 1, 15, 30)):
        services.record_check(user=doctor, reading=reading(order, normal=True))
    with freeze_time(local(2026, 3, 1, 20, 30)):
        assert services.find_missed_checks() == 0
    alert.refresh_from_db()
    assert alert.outcome == "checked_late"  # the normal reading closed the old alert
    assert Alert.objects.filter(order=order).count() == 1


def test_an_order_started_inside_a_window_is_not_blamed_for_it(make_order):
    with freeze_time(local(2026, 3, 1, 10)):
        make_order(starts_at=local(2026, 3, 1, 10))
    with freeze_time(local(2026, 3, 1, 12, 30)):
        assert services.find_missed_checks() == 0


def test_a_handled_alert_does_not_escalate(make_order, doctor):
    with freeze_time(local(2026, 3, 1, 5)):
        order = make_order(starts_at=local(2026, 3, 1, 5))
    with freeze_time(local(2026, 3, 1, 12, 1)):
        services.find_missed_checks()
        alert = Alert.objects.get(order=order)
        services.handle_alert(user=doctor, alert_id=alert.pk, outcome="returned", note="", at=None)
    with freeze_time(local(2026, 3, 2, 12)):
        assert services.escalate_alerts() == (0, 0)


@freeze_time(local(2026, 3, 1, 9))
def test_implausible_readings_are_refused_with_a_clear_message(make_order, doctor):
    order = make_order()
    for value in ("33.9", "43.1", "0.0", "99.9"):
        with pytest.raises(ValidationFailed) as exc:
            services.record_check(user=doctor, reading=reading(order, temperature=Decimal(value)))
        message = exc.value.errors[0].message
        assert exc.value.errors[0].field == "temperature"
        assert value in message and "34.0" in message and "43.0" in message
    with pytest.raises(ValidationFailed):
        services.record_check(user=doctor, reading=reading(order))  # neither value nor normal
    with pytest.raises(ValidationFailed):
        services.record_check(
            user=doctor,
            reading=reading(order, normal=True, symptoms=("cough",)),
        )
    with pytest.raises(ValidationFailed):
        services.record_check(
            user=doctor,
            reading=reading(order, taken_at=local(2026, 3, 1, 12)),  # in the future
        )
    assert order.checks.count() == 0
    # The edges are plausible.
    services.record_check(user=doctor, reading=reading(order, temperature=Decimal("34.0")))
    services.record_check(user=doctor, reading=reading(order, temperature=Decimal("43.0")))


@freeze_time(local(2026, 3, 1, 9))
def test_fever_symptoms_and_absence_raise_alerts(make_order, doctor):
    order = make_order()
    _check, alerts = services.record_check(
        user=doctor, reading=reading(order, temperature=Decimal("37.2"))
    )
    assert alerts == []
    _check, alerts = services.record_check(
        user=doctor, reading=reading(order, temperature=Decimal("37.3"))
    )
    assert [a.kind for a in alerts] == [AlertKind.FEVER]
    _check, alerts = services.record_check(
        user=doctor, reading=reading(order, temperature=Decimal("36.5"), symptoms=("cough",))
    )
    assert [a.kind for a in alerts] == [AlertKind.SYMPTOM]
    _check, alerts = services.record_check(user=doctor, reading=reading(order, at_home=False))
    assert [a.kind for a in alerts] == [AlertKind.ABSENT]
    fever = Alert.objects.get(order=order, kind=AlertKind.FEVER)
    with pytest.raises(ValidationFailed):  # a transfer needs to say where
        services.handle_alert(user=doctor, alert_id=fever.pk, outcome="fever_clinic", note="")
    handled = services.handle_alert(
        user=doctor,
        alert_id=fever.pk,
        outcome="fever_clinic",
        note="县医院发热门诊",
        at=local(2026, 3, 1, 8, 50),
    )
    assert handled.handled_at == local(2026, 3, 1, 8, 50)
    with pytest.raises(ValidationFailed):
        services.handle_alert(user=doctor, alert_id=fever.pk, outcome="returned")


def test_release_is_refused_without_the_tests_and_allowed_with_override(
    make_order, cadre, township, doctor
):
    with freeze_time(local(2026, 3, 1, 8)):
        order = make_order(required_test_days=(1, 7, 14))
    with freeze_time(local(2026, 3, 16, 9)):  # period over, tests pending
        with pytest.raises(ValidationFailed) as exc:
            services.release_order(user=cadre, order_id=order.pk, version=order.version)
        assert {e.field for e in exc.value.errors} == {"tests.1", "tests.7", "tests.14"}
        # A village cadre may not override; the township may, with a reason.
        with pytest.raises(PermissionDenied):
            services.release_order(
                user=cadre, order_id=order.pk, version=order.version, override_reason="复核"
            )
        released, following = services.release_order(
            user=township,
            order_id=order.pk,
            version=order.version,
            override_reason="检测机构停电，指挥部批准",
        )
    assert released.status == "released"
    assert released.override_reason == "检测机构停电，指挥部批准"
    assert following is None


def test_release_by_the_rules_creates_the_next_stage(make_order, cadre, doctor):
    with freeze_time(local(2026, 3, 1, 8)):
        order = make_order(
            kind="centralised",
            cost_bearer="self",
            required_test_days=(1, 14),
            next_kind="home",
            next_days=7,
        )
    with freeze_time(local(2026, 3, 10, 9)):
        for day in (1, 14):
            services.record_test_result(
                user=doctor,
                order_id=order.pk,
                day=day,
                result="negative",
                sampled_on=dt.date(2026, 3, 9),
            )
        with pytest.raises(ValidationFailed) as exc:  # tests negative, period not over
            services.release_order(user=cadre, order_id=order.pk, version=order.version)
        assert [e.field for e in exc.value.errors] == ["ends_at"]
    with freeze_time(local(2026, 3, 15, 8, 0, 1)):
        with pytest.raises(VersionConflict):
            services.release_order(user=cadre, order_id=order.pk, version=order.version - 1 or 99)
        released, following = services.release_order(
            user=cadre, order_id=order.pk, version=order.version
        )
    assert released.status == "released" and released.override_reason == ""
    assert following.kind == "home"
    assert following.previous_id == order.pk
    assert following.ends_at - following.starts_at == dt.timedelta(days=7)
    assert following.status == "active"
    assert following.address == "富强村一组 3 号"


def test_a_positive_test_is_never_released(make_order, township, doctor):
    with freeze_time(local(2026, 3, 1, 8)):
        order = make_order(required_test_days=(1,))
        services.record_test_result(
            user=doctor,
            order_id=order.pk,
            day=1,
            result="positive",
            sampled_on=dt.date(2026, 3, 1),
        )
    with freeze_time(local(2026, 3, 20)), pytest.raises(ValidationFailed):
        services.release_order(
            user=township, order_id=order.pk, version=order.version, override_reason="x"
        )


@freeze_time(local(2026, 3, 2, 9))
def test_extend_transfer_and_end_early(make_order, cadre, make_person, household):
    order = make_order(starts_at=local(2026, 3, 1, 8))
    with pytest.raises(ValidationFailed):
        services.extend_order(
            user=cadre, order_id=order.pk, version=1, ends_at=local(2026, 3, 10), reason="x"
        )
    order = services.extend_order(
        user=cadre, order_id=order.pk, version=1, ends_at=local(2026, 3, 20), reason="密接复核"
    )
    assert order.version == 2
    with pytest.raises(ValidationFailed):  # downwards is not a transfer
        services.transfer_order(
            user=cadre, order_id=order.pk, version=2, to="monitoring", reason="x"
        )
    with pytest.raises(ValidationFailed):  # centralised needs a cost bearer
        services.transfer_order(
            user=cadre, order_id=order.pk, version=2, to="centralised", reason="不配合"
        )
    central = services.transfer_order(
        user=cadre,
        order_id=order.pk,
        version=2,
        to="centralised",
        reason="不配合居家",
        cost_bearer="self",
    )
    assert central.kind == "centralised" and central.previous_id == order.pk
    assert central.ends_at == local(2026, 3, 20)
    assert IsolationOrder.objects.get(pk=order.pk).status == "transferred"
    hospital = services.transfer_order(
        user=cadre,
        order_id=central.pk,
        version=1,
        to="hospital",
        reason="发热",
        hospital="县人民医院",
    )
    assert hospital.status == "transferred" and hospital.transferred_to == "县人民医院"
    other = make_order(person=make_person(name="李娜", household=household))
    with pytest.raises(ValidationFailed):
        services.end_order_early(user=cadre, order_id=other.pk, version=1, reason=" ")
    ended = services.end_order_early(user=cadre, order_id=other.pk, version=1, reason="登记错误")
    assert ended.status == "ended_early" and ended.close_reason == "登记错误"


@freeze_time(local(2026, 3, 1, 9))
def test_household_members_share_an_order_and_are_each_monitored(
    make_order, make_person, household, cadre
):
    head = make_person(name="王强", household=household)
    wife = make_person(name="刘芳", household=household)
    stranger = make_person(name="赵六")
    with pytest.raises(ValidationFailed):
        make_order(person=head, household_member_ids=(stranger.pk,))
    lead = make_order(person=head, household_member_ids=(wife.pk,))
    companion = IsolationOrder.objects.get(person=wife)
    assert companion.lead_id == lead.pk and companion.status == "active"
    with pytest.raises(ValidationFailed):  # one active order per person
        make_order(person=wife)


@freeze_time(local(2026, 3, 1, 9))
def test_an_order_needs_a_rule_and_a_cost_bearer_for_centralised(make_order):
    with pytest.raises(ValidationFailed) as exc:
        make_order(policy_version="", manual_reason="")
    assert exc.value.errors[0].field == "manual_reason"
    with pytest.raises(ValidationFailed) as exc:
        make_order(kind="centralised")
    assert exc.value.errors[0].field == "cost_bearer"
    order = make_order(policy_version="", manual_reason="家属黄码")
    assert order.manual_reason == "家属黄码"


@freeze_time(local(2026, 3, 1, 9))
def test_a_custom_schedule_is_shared_and_used_for_slots(make_order, doctor):
    windows = ((dt.time(7), dt.time(9)), (dt.time(12), dt.time(13)), (dt.time(18), dt.time(21)))
    first = make_order(check_windows=windows)
    assert first.schedule.windows.count() == 3
    check, _ = services.record_check(
        user=doctor,
        reading=services.Reading(order_id=first.pk, normal=True, taken_at=local(2026, 3, 1, 8, 30)),
    )
    assert check.slot == local(2026, 3, 1, 7)


@freeze_time(local(2026, 3, 16, 9))
def test_the_release_notice_is_a_chinese_word_document(make_order, cadre):
    import io

    from docx import Document

    from fangkong.quarantine import documents

    order = make_order(starts_at=local(2026, 3, 1, 8))
    released, _ = services.release_order(user=cadre, order_id=order.pk, version=1)
    content = documents.release_notice(released, cadre)
    text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    assert "解除隔离通知书" in text  # Chinese whatever the user's language
    assert "张伟" in text and "居家隔离" in text
    assert "2026年3月16日" in text
    assert "草稿" not in text


def test_the_monitor_command_raises_and_reports(make_order, capsys):
    from django.core.management import call_command

    with freeze_time(local(2026, 3, 1, 5)):
        make_order(starts_at=local(2026, 3, 1, 5))
    with freeze_time(local(2026, 3, 1, 13, 30)):
        call_command("monitor_isolation")
        call_command("monitor_isolation")
    out = capsys.readouterr().out.splitlines()
    assert out == ["missed=1 to_village=0 to_township=0", "missed=0 to_village=0 to_township=0"]


def test_checks_continue_past_the_planned_end_until_release(make_order):
    with freeze_time(local(2026, 3, 1, 5)):
        order = make_order(starts_at=local(2026, 3, 1, 5), days=1)
    with freeze_time(local(2026, 3, 3, 12, 30)):  # planned end 3-2 05:00, not yet released
        assert services.find_missed_checks() == 2  # 3-2 afternoon and 3-3 morning
    assert set(Alert.objects.filter(order=order).values_list("slot", flat=True)) == {
        local(2026, 3, 2, 14),
        local(2026, 3, 3, 6),
    }


def test_results_from_the_testing_module_fill_the_required_tests(make_order, cadre):
    with freeze_time(local(2026, 3, 1, 8)):
        order = make_order(required_test_days=(1, 7, 14))
    person = order.person_id
    filled = services.apply_test_result(
        person_id=person, sampled_on=dt.date(2026, 3, 2), result="negative"
    )
    assert filled.day == 1
    late = services.apply_test_result(  # day 9: fills the overdue day-7 test
        person_id=person, sampled_on=dt.date(2026, 3, 10), result="negative"
    )
    assert late.day == 7
    assert (
        services.apply_test_result(  # an extra negative test is not required
            person_id=person, sampled_on=dt.date(2026, 3, 11), result="negative"
        )
        is None
    )
    with freeze_time(local(2026, 3, 15, 9)):
        services.apply_test_result(
            person_id=person, sampled_on=dt.date(2026, 3, 15), result="negative"
        )
        released, _ = services.release_order(user=cadre, order_id=order.pk, version=1)
    assert released.status == "released"


def test_an_extra_positive_result_blocks_the_release(make_order, township):
    with freeze_time(local(2026, 3, 1, 8)):
        order = make_order()
    extra = services.apply_test_result(
        person_id=order.person_id, sampled_on=dt.date(2026, 3, 5), result="positive"
    )
    assert (extra.day, extra.result) == (4, "positive")
    with freeze_time(local(2026, 3, 16, 9)), pytest.raises(ValidationFailed):
        services.release_order(user=township, order_id=order.pk, version=1, override_reason="x")
