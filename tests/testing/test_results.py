"""Lab results: unknown tubes reported (and applied when the tube turns up), recalls that list
exactly the persons of positive or invalid pools by grid, tasks to each grid worker,
suspected cases from positive single tubes, and the lab's .xlsx/.csv files."""

from __future__ import annotations

import io

import openpyxl
import pytest

from fangkong.core.errors import PermissionDenied
from fangkong.core.roles import Role
from fangkong.testing import labfiles, selectors, services
from fangkong.testing.models import (
    Recall,
    RecallEntry,
    RecallTask,
    SuspectedCase,
    Tube,
    UnmatchedResult,
)
from tests.conftest import GRID_A1, GRID_A2, GRID_C1, VILLAGE_A

from .conftest import scan


def test_results_for_unknown_tubes_are_reported_and_kept(round_, sampler, people, pooled):
    pooled(people(3), "K1")
    report = services.record_results(
        user=sampler,
        campaign_id=round_.pk,
        source="lab-a.csv",
        results=[("K1", "negative", 2), ("NOPE-1", "positive", 3), ("NOPE-2", "negative", 4)],
    )
    assert report.applied == 1
    assert report.unknown == [
        {"barcode": "NOPE-1", "result": "positive", "row": 3},
        {"barcode": "NOPE-2", "result": "negative", "row": 4},
    ]
    assert set(UnmatchedResult.objects.values_list("barcode", "row")) == {
        ("NOPE-1", 3),
        ("NOPE-2", 4),
    }
    assert selectors.unmatched_results(sampler, round_).count() == 2


def test_a_result_that_came_first_is_applied_when_the_tube_arrives(round_, sampler, people):
    services.record_results(
        user=sampler, campaign_id=round_.pk, source="lab", results=[("EARLY", "positive", 1)]
    )
    persons = people(4)
    services.ingest_samples(
        user=sampler, campaign_id=round_.pk, rows=[scan(p, "EARLY") for p in persons]
    )
    assert Tube.objects.get(barcode="EARLY").result == "positive"
    assert set(RecallEntry.objects.values_list("person_id", flat=True)) == {p.pk for p in persons}
    assert UnmatchedResult.objects.get().applied_at is not None
    coverage = selectors.coverage(sampler, round_, GRID_A1[:12])
    assert (coverage.total.tested, coverage.total.resulted) == (4, 4)


def test_conflicting_results_are_reported_not_overwritten(round_, sampler, people, pooled):
    pooled(people(2), "C9")
    services.record_results(
        user=sampler, campaign_id=round_.pk, source="a", results=[("C9", "negative", 1)]
    )
    again = services.record_results(
        user=sampler,
        campaign_id=round_.pk,
        source="b",
        results=[("C9", "negative", 1), ("C9", "positive", 2)],
    )
    assert again.unchanged == 1
    assert [c["row"] for c in again.conflicts] == [2]
    assert Tube.objects.get(barcode="C9").result == "negative"
    assert not Recall.objects.exists()


def test_a_positive_pool_recalls_exactly_its_persons_by_grid(
    round_, sampler, people, pooled, make_user, hq
):
    worker_a1 = make_user(Role.GRID_WORKER, GRID_A1)
    worker_c1 = make_user(Role.GRID_WORKER, GRID_C1)
    in_a1, in_a2, in_c1 = people(4), people(3, GRID_A2), people(3, GRID_C1)
    bystanders = people(5)
    pooled(in_a1 + in_a2 + in_c1, "POS1")
    pooled(bystanders, "NEG1")
    report = services.record_results(
        user=sampler,
        campaign_id=round_.pk,
        source="lab",
        results=[("POS1", "positive", 1), ("NEG1", "negative", 2)],
    )
    assert (report.recalls, report.recalled_persons, report.suspected_cases) == (1, 10, 0)
    grids = {}
    for entry in selectors.recall_entries(hq, round_):
        grids.setdefault(entry.region_code, set()).add(entry.person_id)
    assert grids == {
        GRID_A1: {p.pk for p in in_a1},
        GRID_A2: {p.pk for p in in_a2},
        GRID_C1: {p.pk for p in in_c1},
    }
    # Each grid worker gets the task of their grid; A2 has no worker: an unassigned task.
    tasks = set(RecallTask.objects.values_list("region_code", "assignee_id", "persons"))
    assert tasks == {(GRID_A1, worker_a1.pk, 4), (GRID_C1, worker_c1.pk, 3), (GRID_A2, None, 3)}
    # The grid worker of A1 sees only A1's recalled persons, with full phones.
    own = list(selectors.recall_entries(worker_a1, round_))
    assert {e.person_id for e in own} == {p.pk for p in in_a1}
    assert [t.region_code for t in selectors.recall_tasks(worker_a1)] == [GRID_A1]


def test_an_invalid_single_tube_recalls_and_a_positive_single_is_a_suspected_case(
    round_, sampler, people, make_user
):
    first, second = people(2)
    services.ingest_samples(
        user=sampler,
        campaign_id=round_.pk,
        rows=[
            scan(first, "S-INV", capacity=1),
            scan(second, "S-POS", capacity=1),
        ],
    )
    report = services.record_results(
        user=sampler,
        campaign_id=round_.pk,
        source="lab",
        results=[("S-INV", "invalid", 1), ("S-POS", "positive", 2)],
    )
    assert (report.recalls, report.recalled_persons, report.suspected_cases) == (1, 1, 1)
    case = SuspectedCase.objects.get()
    assert (case.person_id, case.region_code, case.tube.barcode) == (second.pk, GRID_A1, "S-POS")
    investigator = make_user(Role.INVESTIGATOR, VILLAGE_A)
    assert list(selectors.suspected_cases(investigator)) == [case]
    outsider = make_user(Role.INVESTIGATOR, GRID_C1)
    assert list(selectors.suspected_cases(outsider)) == []
    with pytest.raises(PermissionDenied):
        selectors.suspected_cases(make_user(Role.GRID_WORKER, GRID_A1))


def test_a_recalled_person_retests_and_the_task_can_be_closed(
    round_, sampler, people, pooled, make_user
):
    worker = make_user(Role.GRID_WORKER, GRID_A1)
    persons = people(3)
    pooled(persons, "RP")
    services.record_results(
        user=sampler, campaign_id=round_.pk, source="lab", results=[("RP", "positive", 1)]
    )
    services.record_scan(
        user=sampler,
        campaign_id=round_.pk,
        person=persons[0].id_number,
        tube="RS-1",
        capacity=1,
        retest=True,
    )
    entry = RecallEntry.objects.get(person=persons[0])
    assert entry.retest.tube.barcode == "RS-1"
    task = RecallTask.objects.get(assignee=worker)
    done = services.complete_recall_task(user=worker, task_id=task.pk)
    assert done.status == "done"


def _xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_lab_files_xlsx_and_csv():
    content = _xlsx(
        [
            ["某某检测中心结果"],
            ["序号", "试管条码", "检测结果"],
            [1, 12345678901, "阴性"],
            [2, "A-2", "阳性"],
            [3, "", "阴性"],
            [4, "A-4", "待定"],
        ]
    )
    parsed = labfiles.parse("结果.xlsx", content)
    assert parsed.results == [("12345678901", "negative", 3), ("A-2", "positive", 4)]
    assert [(e["row"], e["column"]) for e in parsed.errors] == [(5, "barcode"), (6, "result")]
    csv_text = "条码,结果\nb-1,negative\nB-2,无效\n".encode("gb18030")
    assert labfiles.parse("r.csv", csv_text).results == [
        ("B-1", "negative", 2),
        ("B-2", "invalid", 3),
    ]
    with pytest.raises(labfiles.LabFileError):
        labfiles.parse("r.csv", b"a,b\n1,2\n")
    with pytest.raises(labfiles.LabFileError):
        labfiles.parse("r.pdf", b"%PDF")


def test_the_background_import_applies_a_saved_file(round_, sampler, people, pooled, tmp_path):
    from fangkong.core.models import TaskRecord
    from fangkong.testing import tasks

    pooled(people(2), "BG1")
    path = tmp_path / "lab.csv"
    path.write_text("条码,结果\nBG1,阴性\nBG404,阴性\n", encoding="utf-8")
    record = TaskRecord.objects.create(kind="testing.results", title="lab.csv", created_by=sampler)
    result = tasks.import_results_file.call(record.pk, campaign_id=round_.pk, path=str(path))
    record.refresh_from_db()
    assert (record.status, result["applied"], len(result["unknown"])) == ("succeeded", 1, 1)
    assert not path.exists()
