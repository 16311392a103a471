"""Line-list import: generated chains with known truth, and the real DS4C line list.

The DS4C expectations are computed here independently, in plain Python over the CSV,
not with the import's own chain code.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from pathlib import Path

import pytest
import xlsxwriter

from fangkong.core.roles import Role
from fangkong.tracing import linelist
from fangkong.tracing.models import Case
from tests.conftest import COUNTY, GRID_A1, GRID_A2, VILLAGE_A, VILLAGE_C

REPO = Path(__file__).resolve().parents[2]
DS4C = REPO.parent / "shared" / "data" / "ds4c-korea" / "PatientInfo.csv"


def generated_chains(seed: int, clusters: int = 12, size: int = 25):
    """A forest of transmission trees: (rows, truth generation, truth cluster, sizes)."""
    rng = random.Random(seed)
    rows, generation, cluster = [], {}, {}
    number = 0
    for c in range(clusters):
        members = []
        for _ in range(rng.randint(1, size)):
            number += 1
            case_id = f"G{number:05d}"
            parent = rng.choice(members) if members else ""
            generation[case_id] = generation[parent] + 1 if parent else 1
            cluster[case_id] = c
            members.append(case_id)
            onset = f"2026-0{1 + generation[case_id] % 9}-1{generation[case_id] % 10}"
            rows.append(
                [case_id, onset, "", "", rng.choice([GRID_A1, GRID_A2]), parent, "家庭聚集"]
            )
    rng.shuffle(rows)  # parents may come after their children in the file
    return rows, generation, cluster


HEADER = ["病例编号", "发病日期", "报告日期", "确诊日期", "区划代码", "感染来源病例", "暴露方式"]


def to_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(rows) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, row)
    book.close()
    return out.getvalue()


@pytest.fixture
def hq(make_user):
    return make_user(Role.COUNTY_HQ, COUNTY)


@pytest.mark.django_db
@pytest.mark.parametrize("encode", [to_csv, to_xlsx], ids=["csv", "xlsx"])
def test_generated_chains_come_out_as_generated(hq, encode):
    rows, generation, cluster = generated_chains(seed=5)
    summary = linelist.import_line_list(
        user=hq,
        content=encode(rows),
        filename=f"list.{encode.__name__[3:]}",
        region_code=VILLAGE_A,
    )
    assert summary.errors == []
    assert summary.created == len(rows)
    assert summary.linked == sum(1 for r in rows if r[5])
    cases = {c.external_id: c for c in Case.objects.select_related("infected_by")}
    for case_id, case in cases.items():
        parent = case.infected_by.external_id if case.infected_by else ""
        assert generation[case_id] == (generation[parent] + 1 if parent else 1)
    sizes = defaultdict(int)
    for c in cluster.values():
        sizes[c] += 1
    assert summary.largest_cluster == max(sizes.values())
    assert summary.clusters == sum(1 for s in sizes.values() if s > 1)


@pytest.mark.django_db
def test_faulty_rows_are_reported_precisely_and_sound_chains_still_built(hq):
    rows = [
        ["A1", "2026-01-02", "", "", GRID_A1, "", "聚餐"],  # row 2: source
        ["A2", "2026-01-05", "", "", GRID_A1, "A1", "聚餐"],  # row 3
        ["A3", "2026-13-05", "", "", GRID_A1, "A2", "聚餐"],  # row 4: bad date, kept
        ["A4", "2026-01-06", "", "", GRID_A1, "A4", ""],  # row 5: infected by itself
        ["A5", "2026-01-06", "", "", GRID_A1, "A6", ""],  # row 6: A5 <-> A6
        ["A6", "2026-01-06", "", "", GRID_A1, "A5", ""],  # row 7
        ["A7", "2026-01-06", "", "", GRID_A1, "Z9", ""],  # row 8: unknown source
        ["A2", "2026-01-06", "", "", GRID_A1, "", ""],  # row 9: duplicate id
        ["", "2026-01-06", "", "", GRID_A1, "", ""],  # row 10: no id
        ["A8", "2026-01-06", "", "", VILLAGE_C + "001", "", ""],  # row 11: outside
    ]
    summary = linelist.import_line_list(
        user=hq, content=to_csv(rows), filename="list.csv", region_code=VILLAGE_A
    )
    found = {(e.row, e.column) for e in summary.errors}
    assert found == {
        (4, "onset_date"),
        (5, "infected_by"),
        (6, "infected_by"),
        (7, "infected_by"),
        (8, "infected_by"),
        (9, "case_id"),
        (10, "case_id"),
        (11, "region"),
    }
    assert summary.created == 7  # A1..A7
    chain = {
        c.external_id: c.infected_by.external_id if c.infected_by else ""
        for c in Case.objects.select_related("infected_by")
    }
    assert chain == {"A1": "", "A2": "A1", "A3": "A2", "A4": "", "A5": "", "A6": "", "A7": ""}
    assert summary.largest_cluster == 3


@pytest.mark.django_db
def test_import_needs_the_role_and_the_jurisdiction(make_user):
    from fangkong.core.errors import PermissionDenied, ValidationFailed

    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    with pytest.raises(PermissionDenied):
        linelist.import_line_list(user=cadre, content=b"", filename="x.csv", region_code=VILLAGE_A)
    hq_a = make_user(Role.INVESTIGATOR, VILLAGE_A)
    with pytest.raises(ValidationFailed):
        linelist.import_line_list(user=hq_a, content=b"", filename="x.csv", region_code=VILLAGE_C)


# ---- DS4C (real line list, South Korea 2020) ---------------------------------------------

needs_ds4c = pytest.mark.skipif(
    not DS4C.exists(), reason=f"the shared data folder is absent ({DS4C})"
)


def ds4c_truth():
    """What the published file implies, computed without the import's code."""
    with DS4C.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first: dict[str, dict] = {}
    for row in rows:
        first.setdefault(row["patient_id"], row)  # a repeated id: the first row counts
    parent = {pid: r["infected_by"] for pid, r in first.items() if r["infected_by"]}
    resolving = {c: p for c, p in parent.items() if p in first and p != c}
    self_refs = {c for c, p in parent.items() if p == c}
    mutual = {c for c, p in resolving.items() if resolving.get(p) == c}
    sound = {c: p for c, p in resolving.items() if c not in mutual}
    # Longer loops would also be dropped; assert there are none so the truth stays simple.
    for start in sound:
        seen, node = set(), start
        while node in sound:
            assert node not in seen
            seen.add(node)
            node = sound[node]

    def root(node):
        while node in sound:
            node = sound[node]
        return node

    def depth(node):
        d = 1
        while node in sound:
            node, d = sound[node], d + 1
        return d

    members = defaultdict(list)
    for pid in first:
        members[root(pid)].append(pid)
    largest = max(members.values(), key=len)
    return {
        "rows": len(rows),
        "ids": len(first),
        "resolving": len(resolving),
        "unresolved": sum(1 for c, p in parent.items() if p not in first),
        "self": self_refs,
        "mutual": mutual,
        "sound": len(sound),
        "largest_size": len(largest),
        "largest_generations": max(depth(m) for m in largest),
        "duplicates": len(rows) - len(first),
    }


@needs_ds4c
def test_ds4c_parse_reports_the_published_faults_and_chains():
    truth = ds4c_truth()
    table = linelist.read_table(DS4C.read_bytes(), DS4C.name)
    parsed = linelist.parse(table, default_region=VILLAGE_A)
    assert len(parsed.rows) == truth["ids"]
    errors = [(e.row, e.column, e.message) for e in parsed.errors]
    by_column = defaultdict(list)
    for row, column, _message in errors:
        by_column[column].append(row)
    assert len(by_column["case_id"]) == truth["duplicates"]
    rows_by_id = {r.case_id: r.row for r in parsed.rows}
    link_errors = set(by_column["infected_by"])
    assert {rows_by_id[c] for c in truth["self"]} <= link_errors
    assert {rows_by_id[c] for c in truth["mutual"]} <= link_errors
    assert len(link_errors) == truth["unresolved"] + len(truth["self"]) + len(truth["mutual"])
    assert len(parsed.links) == truth["sound"]
    sizes = sorted((len(m) for m in parsed.chains.clusters.values()), reverse=True)
    assert sizes[0] == truth["largest_size"]
    largest = max(parsed.chains.clusters.values(), key=len)
    assert max(parsed.chains.generation[m] for m in largest) == truth["largest_generations"]


@needs_ds4c
@pytest.mark.django_db
def test_ds4c_imports_into_the_database(hq):
    truth = ds4c_truth()
    summary = linelist.import_line_list(
        user=hq, content=DS4C.read_bytes(), filename=DS4C.name, region_code=VILLAGE_A
    )
    assert summary.created == truth["ids"]
    assert summary.linked == truth["sound"]
    assert summary.largest_cluster == truth["largest_size"]
    assert Case.objects.exclude(infected_by=None).count() == truth["sound"]
    # Re-importing the same list adds nothing.
    again = linelist.import_line_list(
        user=hq, content=DS4C.read_bytes(), filename=DS4C.name, region_code=VILLAGE_A
    )
    assert again.created == 0


@pytest.mark.django_db
def test_a_large_list_is_imported_in_the_background(hq, settings, tmp_path, monkeypatch):
    from django.test import Client

    from fangkong.core.models import TaskRecord
    from fangkong.tracing import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(tasks, "SYNC_LIMIT_BYTES", 100)
    rows, _generation, _cluster = generated_chains(seed=9, clusters=3, size=10)
    rows.append(["BAD", "not-a-date", "", "", GRID_A1, "", ""])
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client()
    client.force_login(hq)
    response = client.post(
        "/tracing/import/",
        {
            "region_code": VILLAGE_A,
            "file": SimpleUploadedFile("big.csv", to_csv(rows)),
        },
    )
    record = TaskRecord.objects.get(kind=tasks.TASK_KIND)
    assert response.status_code == 302 and response["Location"] == f"/tasks/{record.pk}/"
    assert record.status == TaskRecord.Status.SUCCEEDED
    assert record.result["created"] == len(rows)
    assert record.result["errors"] == [
        {"row": len(rows) + 1, "column": "onset_date", "message": "not-a-date 不是日期"}
    ]
    assert list(tmp_path.rglob("*.csv")) == []  # the stored upload is removed


@pytest.mark.django_db
def test_import_through_the_api_reports_rows_and_columns(hq):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.people.conftest import ApiClient

    rows = [["A1", "2026-01-02", "", "", GRID_A1, "", ""], ["A2", "", "", "", GRID_A1, "A9", ""]]
    response = ApiClient(hq).client.post(
        "/api/v1/tracing/imports",
        {"region_code": VILLAGE_A, "file": SimpleUploadedFile("l.xlsx", to_xlsx(rows))},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["linked"]) == (2, 0)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "infected_by")]
