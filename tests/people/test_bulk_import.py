"""Bulk import of a county folder: exact counts, idempotence, row errors, atomicity, task."""

from __future__ import annotations

import csv
import datetime as dt
import random
import shutil
from pathlib import Path

import pytest
from django.db import connection

from fangkong.core import idnumbers
from fangkong.core.models import AuditEvent, Region, TaskRecord
from fangkong.core.roles import Role
from fangkong.people import bulk_import
from fangkong.people.bulk_import import FastIdValidator, ImportFailed, load_county_dir
from fangkong.people.models import Household, JointDefenceUnit, Person, Source
from fangkong.people.tasks import enqueue_county_import, import_county_task
from fangkong.synth import generate_county

RESIDENTS = 2000


@pytest.fixture(scope="module")
def county_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bulk") / "county"
    generate_county(residents=RESIDENTS, seed=11, out_dir=out)
    return out


@pytest.fixture
def copy_of(county_dir, tmp_path):
    def make() -> Path:
        target = tmp_path / "ledger"
        shutil.copytree(county_dir, target)
        return target

    return make


def rows_of(folder: Path, name: str) -> list[list[str]]:
    with (folder / name).open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_rows(folder: Path, name: str, rows: list[list[str]]) -> None:
    with (folder / name).open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def expected(folder: Path, name: str) -> int:
    return len(rows_of(folder, name)) - 1


def person_indexes() -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Person._meta.db_table)
    return set(found)


def test_loads_exact_counts_with_provenance(db, county_dir):
    indexes_before = person_indexes()
    summary = load_county_dir(county_dir)
    assert summary.persons_created == Person.objects.count() == RESIDENTS
    assert summary.households_created == Household.objects.count()
    assert Household.objects.count() == expected(county_dir, "households.csv")
    assert JointDefenceUnit.objects.count() == expected(county_dir, "units.csv")
    assert summary.rows_rejected == 0 and summary.errors == []
    assert Region.objects.filter(code="230231106", name="富强镇").exists()
    assert not Household.objects.filter(head=None).exists()
    assert not JointDefenceUnit.objects.filter(leader=None).exists()
    person = Person.objects.order_by("id").first()
    first_row = rows_of(county_dir, "persons.csv")[1]
    assert person.id_number == first_row[1] and person.name == first_row[2]
    assert person.source == Source.IMPORT and person.source_row == 1
    assert person.source_file == "county/persons.csv"
    assert person.name_pinyin and person.name_initials
    assert person.region_code == person.household.region_code
    head = Household.objects.select_related("head").first().head
    assert head is not None and head.household_id is not None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.IMPORT)
    assert "2,000" in event.detail and "persons.csv" in event.detail
    assert person_indexes() == indexes_before, "every index and constraint is back"


def test_rerun_is_idempotent(db, county_dir):
    load_county_dir(county_dir)
    counts = (Person.objects.count(), Household.objects.count(), JointDefenceUnit.objects.count())
    again = load_county_dir(county_dir)
    assert again.persons_created == again.households_created == again.units_created == 0
    assert again.persons_existing == RESIDENTS
    assert again.households_existing == counts[1]
    assert (
        Person.objects.count(),
        Household.objects.count(),
        JointDefenceUnit.objects.count(),
    ) == counts


def test_bad_rows_are_reported_by_row_and_column_and_not_stored(db, copy_of):
    folder = copy_of()
    rows = rows_of(folder, "persons.csv")
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    bad_id = rows[5][col["id_number"]]
    rows[5][col["id_number"]] = bad_id[:17] + ("0" if bad_id[17] != "0" else "1")
    rows[6][col["phone"]] = "1234"
    rows[7][col["region_code"]] = "230231999999001"
    bad_ids = {rows[r][col["id_number"]] for r in (5, 6, 7)}
    write_rows(folder, "persons.csv", rows)

    summary = load_county_dir(folder)

    found = {(e.file, e.row, e.column) for e in summary.errors}
    assert found == {
        ("persons.csv", 5, "id_number"),
        ("persons.csv", 6, "phone"),
        ("persons.csv", 7, "region_code"),
    }
    messages = {e.column: e.message for e in summary.errors}
    assert "校验" in messages["id_number"] or "check" in messages["id_number"]
    assert "230231999999001" in messages["region_code"]
    assert summary.rows_rejected == 3
    assert Person.objects.count() == RESIDENTS - 3
    assert not Person.objects.filter(id_number__in=bad_ids).exists()


def test_too_many_errors_abandon_everything(db, copy_of):
    folder = copy_of()
    rows = rows_of(folder, "persons.csv")
    for row in rows[1:6]:
        row[5] = "12"
    write_rows(folder, "persons.csv", rows)
    regions_before = Region.objects.count()
    with pytest.raises(ImportFailed) as failure:
        load_county_dir(folder, max_errors=3)
    assert len(failure.value.errors) == 3
    assert Person.objects.count() == Household.objects.count() == 0
    assert Region.objects.count() == regions_before


def test_a_failure_midway_leaves_nothing_half_imported(db, county_dir, monkeypatch):
    indexes_before = person_indexes()

    def explode(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk_import._Loader, "write_households_and_units", explode)
    with pytest.raises(RuntimeError):
        load_county_dir(county_dir)
    assert Person.objects.count() == Household.objects.count() == 0
    assert JointDefenceUnit.objects.count() == 0
    assert not Region.objects.filter(generated=True).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.IMPORT).exists()
    assert person_indexes() == indexes_before


def test_missing_file_and_missing_column_are_fatal(db, copy_of):
    folder = copy_of()
    (folder / "units.csv").unlink()
    with pytest.raises(ImportFailed, match=r"units\.csv"):
        load_county_dir(folder)
    shutil.rmtree(folder)
    folder = copy_of()
    rows = rows_of(folder, "persons.csv")
    rows[0][rows[0].index("household_no")] = "hh"
    write_rows(folder, "persons.csv", rows)
    with pytest.raises(ImportFailed, match="household_no"):
        load_county_dir(folder)
    assert Person.objects.count() == 0


def test_rows_outside_the_users_jurisdiction_are_rejected(db, county_dir, make_user):
    township = "230231106"
    user = make_user(Role.TOWNSHIP, township)
    summary = load_county_dir(county_dir, user=user)
    assert summary.persons_created == Person.objects.count() > 0
    assert not Person.objects.exclude(region_code__startswith=township).exists()
    assert {e.column for e in summary.errors} == {"region_code"}
    assert all("管辖" in e.message for e in summary.errors)
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.IMPORT).user == user


def test_ledger_conventions_are_accepted(db, copy_of):
    """Chinese sex and category labels, slashed dates, lower-case x, legacy numbers."""
    folder = copy_of()
    rows = rows_of(folder, "persons.csv")
    col = {name: i for i, name in enumerate(rows[0])}
    row = rows[1]
    row[col["sex"]] = "男" if row[col["sex"]] == "M" else "女"
    born = dt.date.fromisoformat(row[col["birth_date"]])
    row[col["birth_date"]] = f"{born.year}/{born.month}/{born.day}"
    row[col["category"]] = "返乡人员"
    x_row = rows[2]
    first17 = x_row[col["id_number"]][:14] + "12"
    for last in "0123456789":
        if idnumbers.check_char(first17 + last) == "X":
            break
    x_row[col["id_number"]] = first17 + last + "x"
    x_row[col["sex"]] = "M" if int(last) % 2 else "F"
    x_row[col["birth_date"]] = ""
    write_rows(folder, "persons.csv", rows)
    summary = load_county_dir(folder)
    assert summary.errors == []
    assert Person.objects.get(id_number=row[col["id_number"]]).category == "returnee"
    assert Person.objects.filter(id_number=first17 + last + "X").exists()


def test_fast_validator_agrees_with_parse():
    today = dt.date(2026, 1, 1)
    validator = FastIdValidator(today)
    rng = random.Random(5)
    samples = []
    for _ in range(3000):
        born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(46000))
        area = rng.choice(["230231", "110101", "000000"])
        number = idnumbers.make(area, born, rng.randrange(500), "M")
        kind = rng.randrange(4)
        if kind == 1:
            number = number[:17] + rng.choice("0123456789X")
        elif kind == 2:
            number = number[:10] + f"{rng.randrange(100):02d}" + number[12:]
        elif kind == 3:
            number = number[: rng.randrange(19)]
        samples.append(number)
    for number in samples:
        try:
            info = idnumbers.parse(number, today=today)
            want: object = (info.number, info.birth_date.isoformat(), info.sex)
        except idnumbers.IdNumberError as exc:
            want = exc.code
        try:
            got: object = validator.check(number)
        except idnumbers.IdNumberError as exc:
            got = exc.code
        assert got == want, number


@pytest.mark.django_db(transaction=True)
def test_task_reports_progress_and_success(county_dir, make_user):
    user = make_user(Role.COUNTY_HQ, "230231")
    record = TaskRecord.objects.create(kind="people.import_county", title="t", created_by=user)
    import_county_task.call(record.pk, str(county_dir))
    record.refresh_from_db()
    assert record.status == TaskRecord.Status.SUCCEEDED
    assert record.total == record.done == RESIDENTS and record.percent == 100
    assert record.result["persons_created"] == RESIDENTS
    assert record.started_at and record.finished_at
    assert "2,000" in record.message


@pytest.mark.django_db(transaction=True)
def test_task_failure_is_recorded(tmp_path, make_user):
    user = make_user(Role.COUNTY_HQ, "230231")
    record = TaskRecord.objects.create(kind="people.import_county", title="t", created_by=user)
    (tmp_path / "regions.csv").write_text("code,name\n", encoding="utf-8")
    import_county_task.call(record.pk, str(tmp_path))
    record.refresh_from_db()
    assert record.status == TaskRecord.Status.FAILED and "缺少" in record.message
    assert Person.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_runs_in_the_immediate_backend(county_dir, make_user, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    user = make_user(Role.COUNTY_HQ, "230231")
    record = enqueue_county_import(user=user, path=county_dir)
    record.refresh_from_db()
    assert record.status == TaskRecord.Status.SUCCEEDED
    assert record.task_result_id
    assert Person.objects.count() == RESIDENTS


def test_enqueue_needs_the_import_permission(db, county_dir, make_user):
    from fangkong.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        enqueue_county_import(user=make_user(Role.CHECKPOINT_STAFF, "230231"), path=county_dir)
    assert not TaskRecord.objects.exists()


def test_load_command(db, county_dir, capsys):
    from django.core.management import call_command

    call_command("load_county", str(county_dir))
    out = capsys.readouterr().out
    assert "已导入 2,000 / 2,000 人 (100%)" in out
    assert "新增 2,000 人" in out
