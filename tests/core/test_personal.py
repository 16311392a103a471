"""One way to present ID numbers, phones and birth dates: masked per role, the birth date
reduced to the year wherever the ID number is masked, unmasked reads audited in one INSERT."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from fangkong.core import masking
from fangkong.core.models import AuditEvent
from fangkong.core.personal import Disclosure, present_one, present_people, redact
from fangkong.core.roles import Role
from tests.conftest import GRID_A1, VILLAGE_A

pytestmark = pytest.mark.django_db


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_a_masked_birth_date_keeps_only_the_year(day):
    assert masking.present_birth_date(day, frozenset()) == f"{day.year:04d}"
    assert masking.present_birth_date(day, frozenset({"phone"})) == f"{day.year:04d}"
    assert masking.present_birth_date(day, frozenset({"id_number"})) == day.isoformat()


def test_roles_see_what_the_matrix_allows_and_full_reads_are_audited(make_user, make_person):
    people = [make_person(GRID_A1, f"张{i}") for i in range(3)]
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)  # full phone, masked ID
    shown = present_people(doctor, people, channel="web")
    for person, row in zip(people, shown, strict=True):
        assert row["phone"] == person.phone
        assert row["id_number"] != person.id_number and "*" in row["id_number"]
        assert row["birth_date"] == str(person.birth_date.year)
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.READ_SENSITIVE, user=doctor)
    assert sorted(e.object_id for e in events) == sorted(str(p.pk) for p in people)
    assert all(e.fields == ["phone"] for e in events)

    checkpoint = make_user(Role.CHECKPOINT_STAFF, VILLAGE_A)  # masked everything
    row = present_one(checkpoint, people[0], channel="api")
    assert "*" in row["phone"] and "*" in row["id_number"]
    assert not AuditEvent.objects.filter(user=checkpoint).exists()


def test_one_insert_for_a_whole_list(make_user, make_person):
    people = [make_person(GRID_A1, f"李{i}") for i in range(25)]
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    with CaptureQueriesContext(connection) as queries:
        present_people(cadre, people, channel="web")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert AuditEvent.objects.filter(user=cadre).count() == 25


@pytest.mark.django_db(transaction=True)
def test_a_read_outside_a_transaction_is_audited_in_one_message(make_user, make_person):
    """Autocommit (a search): the rows and their commit in one round trip; on PostgreSQL the
    commit does not wait for the disk, and the setting does not outlive that transaction."""
    people = [make_person(GRID_A1, f"王{i}") for i in range(4)]
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    with CaptureQueriesContext(connection) as queries:
        present_people(cadre, people, channel="api")
    audit_queries = [q["sql"] for q in queries.captured_queries if "core_auditevent" in q["sql"]]
    assert len(audit_queries) == 1
    if connection.vendor == "postgresql":
        assert audit_queries[0].startswith("SET LOCAL synchronous_commit TO OFF; INSERT")
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert not connection.in_atomic_block
    events = AuditEvent.objects.filter(user=cadre, kind=AuditEvent.Kind.READ_SENSITIVE)
    assert sorted(e.object_id for e in events) == sorted(str(p.pk) for p in people)


def test_disclosure_with_renamed_fields_and_other_object_types(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    notice = {"id": 7, "subject_phone": "13912345678", "subject_id_number": "230231198503140012"}
    with Disclosure(cadre, channel="web") as show:
        row = show.fields(
            notice,
            object_type="tracing.notice",
            fields=("id_number", "phone"),
            source={"phone": "subject_phone", "id_number": "subject_id_number"},
        )
    assert row == {"id_number": "230231198503140012", "phone": "13912345678"}
    event = AuditEvent.objects.get(user=cadre)
    assert (event.object_type, event.object_id, event.fields) == (
        "tracing.notice",
        "7",
        ["id_number", "phone"],
    )


def test_error_messages_are_redacted_for_masked_roles(make_user):
    checkpoint = make_user(Role.CHECKPOINT_STAFF, VILLAGE_A)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    text = "身份证号 230231198503140012 已在其他辖区登记，电话 13912345678"
    hidden = redact(text, checkpoint, ["230231198503140012", "13912345678"])
    assert "230231198503140012" not in hidden and "13912345678" not in hidden
    assert redact(text, cadre, ["230231198503140012", "13912345678"]) == text
