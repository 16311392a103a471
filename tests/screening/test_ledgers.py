"""Ledgers: templates, imports with every kind of bad file, modes, idempotency, error
report, exports masked by role, and denials for every ledger endpoint."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from python_calamine import CalamineWorkbook

from fangkong.core.models import ApiToken, AuditEvent
from fangkong.core.roles import Role
from fangkong.people.models import Person
from fangkong.screening import ledgers
from fangkong.screening.models import LedgerImport, PersonElsewhere, Stay
from tests.conftest import COUNTY, GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C, new_id_number

HEAD = [c.header for c in ledgers.COLUMNS["arrivals"]]
API = "/api/v1/screening"


@pytest.fixture(autouse=True)
def _ledger_dir(settings, tmp_path):
    settings.FANGKONG_LEDGER_DIR = tmp_path / "ledgers"


def client(user=None):
    headers = {"Authorization": f"Bearer {ApiToken.issue(user)}"} if user else {}
    return Client(headers=headers)


def arrival(
    name="张伟", id_number=None, phone="13912345678", region=GRID_A1, left="2022-01-05", **extra
):
    row = {
        "姓名": name,
        "身份证号": id_number if id_number is not None else new_id_number(),
        "手机号": phone,
        "所属村组": region,
        "从何地来": "湖北省武汉市江汉区",
        "来源地代码": "420103",
        "在该地起始日期": "2022-01-03",
        "离开该地日期": left,
        "交通方式及车次": "G1234",
    }
    row.update(extra)
    return row


def xlsx(rows, headers=HEAD, *, merge=None, formula=False):
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h, "") for h in headers])
    if merge:
        sheet.merge_cells(merge)
    if formula:
        sheet["K2"] = "=1+1"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, headers=HEAD, encoding="utf-8"):
    lines = [",".join(headers)] + [",".join(r.get(h, "") for h in headers) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def upload(user, content, name="台账.xlsx", mode="valid", kind="arrivals"):
    answer = client(user).post(
        f"{API}/ledgers/{kind}/imports",
        {"file": SimpleUploadedFile(name, content), "mode": mode, "source": "village"},
    )
    return answer


@pytest.fixture
def cadre(make_user):
    return make_user(Role.VILLAGE_CADRE, VILLAGE_A)


@pytest.fixture(autouse=True)
def _today():
    with freeze_time("2022-01-10 12:00:00"):
        yield


def test_template_has_chinese_headers_lists_and_instructions(cadre):
    answer = client(cadre).get(f"{API}/ledgers/elsewhere/template")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]][:2] == ["姓名", "身份证号"]
    lists = [v.formula1 for v in sheet.data_validations.dataValidation]
    assert '"低,中,高"' in lists and '"在外定居,返乡过节,学生,务工人员"' in lists
    assert book.sheetnames[1] == "填写说明"


def test_import_good_xlsx_creates_persons_and_stays_and_is_idempotent(cadre):
    rows = [arrival("张伟"), arrival("李娜", id_number="", phone="13800001111")]
    content = xlsx(rows)
    answer = upload(cadre, content)
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["status"] == "done" and body["rows_imported"] == 2, body
    assert body["progress"] == 100
    assert Stay.objects.filter(place="湖北省武汉市江汉区").count() == 2
    assert Person.objects.get(name="李娜").source_row == 3
    again = upload(cadre, content).json()
    assert again["rows_imported"] == 0 and again["rows_existing"] == 2
    assert Stay.objects.count() == 2


def test_gbk_and_gb18030_csv_are_read(cadre):
    answer = upload(cadre, csv_bytes([arrival("欧阳娜娜")], encoding="gbk"), "台账.csv")
    assert answer.json()["status"] == "done", answer.json()
    answer = upload(cadre, csv_bytes([arrival("㛃娜")], encoding="gb18030"), "b.csv")
    assert answer.json()["status"] == "done", answer.json()
    assert Person.objects.filter(name="㛃娜").exists()


def errors_of(answer):
    return [(e["row"], e["column"], e["message"]) for e in answer.json()["errors"]]


def test_row_errors_name_row_column_value_and_message(cadre):
    good = new_id_number()
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [
        arrival("甲", id_number="230231850314001"),  # 15 digits
        arrival("乙", id_number=bad_check),
        arrival("丙", left="2022-02-01"),  # future
        arrival("丁", left="去年腊月"),  # a date as free text
        arrival("戊", id_number=good),
        arrival("己", id_number=good),  # duplicate of the row above
        arrival("庚", region=GRID_C1),  # another village
        arrival("辛", left="2022年1月4日"),  # a date as text, but a real one
    ]
    answer = upload(cadre, xlsx(rows), mode="valid")
    found = errors_of(answer)
    by_row = {(r, c): m for r, c, m in found}
    assert "18" in by_row[(2, "身份证号")]  # asks for the 18-digit number
    assert "校验" in by_row[(3, "身份证号")]
    assert (4, "离开该地日期", "日期晚于今天") in found
    assert (5, "离开该地日期", "不是有效日期，请写成 2022-01-03") in found
    assert (7, "身份证号", "与第6行重复") in found
    assert (8, "所属村组", "不是您辖区内的村（社区）或组代码") in found
    body = answer.json()
    assert body["rows_imported"] == 2 and body["rows_rejected"] == 6
    assert set(Person.objects.values_list("name", flat=True)) == {"戊", "辛"}
    values = {e["row"]: e["value"] for e in body["errors"]}
    assert values[5] == "去年腊月"
    report = client(cadre).get(f"{API}/ledgers/imports/{body['id']}/errors.xlsx")
    assert report.status_code == 200
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(report.content)).get_sheet_by_index(1)
    data = sheet.to_python()
    assert data[0] == ["行号", "列", "填写内容", "错误说明"] and len(data) == 7


def test_all_or_nothing_stores_nothing_then_fixed_file_imports(cadre):
    rows = [arrival("张三"), arrival("李四", left="2022-13-01")]
    answer = upload(cadre, xlsx(rows), mode="all").json()
    assert answer["status"] == "rejected" and "未导入任何数据" in answer["message"]
    assert Person.objects.count() == 0 and Stay.objects.count() == 0
    rows[1]["离开该地日期"] = "2022-01-06"
    fixed = upload(cadre, xlsx(rows), mode="all").json()
    assert fixed["status"] == "done" and fixed["rows_imported"] == 2


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (xlsx([arrival()], headers=["名字", *HEAD[1:]]), "a.xlsx", "缺少列：姓名"),
        (xlsx([arrival(), arrival("李娜")], merge="A2:A3"), "a.xlsx", "合并单元格"),
        (xlsx([]), "a.xlsx", "没有数据行"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧表.xlsx", ".xls"),
        (b"not a spreadsheet", "a.xlsx", "不是 Excel"),
        (b"", "a.csv", "空"),
        (b"%PDF-1.4", "a.pdf", ".xlsx 或 .csv"),
    ],
    ids=[
        "wrong-headers",
        "merged-cells",
        "no-data-rows",
        "renamed-xls",
        "not-a-zip",
        "empty-csv",
        "pdf",
    ],
)
def test_bad_files_are_refused_with_a_precise_message(cadre, content, name, words):
    answer = upload(cadre, content, name)
    body = answer.json()
    assert body["status"] == "rejected", body
    assert words in body["message"], body["message"]
    assert Person.objects.count() == 0


def test_empty_sheet_is_refused(cadre):
    book = Workbook()
    out = io.BytesIO()
    book.save(out)
    body = upload(cadre, out.getvalue()).json()
    assert body["status"] == "rejected" and "空" in body["message"]


def test_oversize_file_is_refused_before_import(cadre, settings):
    settings.FANGKONG_LEDGER_MAX_BYTES = 2048
    rows = [arrival(f"人{i}") for i in range(60)]
    answer = upload(cadre, csv_bytes(rows), "big.csv")
    assert answer.status_code == 400
    assert "文件过大" in answer.json()["errors"][0]["message"]
    assert LedgerImport.objects.count() == 0


def test_elsewhere_ledger_and_urgent_list(cadre, make_user):
    headers = [c.header for c in ledgers.COLUMNS["elsewhere"]]
    row = {
        "姓名": "王强",
        "身份证号": new_id_number(),
        "手机号": "13700001111",
        "所属村组": GRID_A1,
        "在外类型": "务工人员",
        "现居城市": "上海市",
        "现居地代码": "310101",
        "计划返乡日期": "2022-01-25",
        "返乡迫切程度": "高",
        "最近联系日期": "2022-01-08",
    }
    body = upload(cadre, xlsx([row], headers), kind="elsewhere").json()
    assert body["status"] == "done", body
    away = PersonElsewhere.objects.get()
    assert (away.kind, away.urgency, away.return_date) == ("migrant", "high", dt.date(2022, 1, 25))
    hq = make_user(Role.COUNTY_HQ, COUNTY)
    area = {
        "place": "上海市黄浦区",
        "region_code": "310101",
        "level": "medium",
        "valid_from": "2022-01-09",
    }
    created = client(hq).post(
        f"{API}/risk-areas", json.dumps(area), content_type="application/json"
    )
    assert created.status_code == 201
    urgent = client(cadre).get(f"{API}/elsewhere/urgent", {"since": "2022-01-08"}).json()
    assert [u["person"]["name"] for u in urgent] == ["王强"]
    outsider = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    assert client(outsider).get(f"{API}/elsewhere/urgent", {"since": "2022-01-08"}).json() == []


def test_residents_ledger_needs_id_numbers(cadre):
    headers = [c.header for c in ledgers.COLUMNS["residents"]]
    rows = [
        {"姓名": "赵六", "所属村组": GRID_A1, "住址": "富强村1号"},
        {"姓名": "孙七", "身份证号": new_id_number(), "所属村组": GRID_A1, "住址": "富强村2号"},
    ]
    body = upload(cadre, xlsx(rows, headers), kind="residents").json()
    assert body["rows_imported"] == 1
    assert (2, "身份证号", "常住人口台账必须填写身份证号") in [
        (e["row"], e["column"], e["message"]) for e in body["errors"]
    ]
    assert Person.objects.get(name="孙七").household.address == "富强村2号"


def test_export_is_masked_by_role_filtered_by_jurisdiction_and_audited(
    cadre, make_user, make_person
):
    upload(cadre, xlsx([arrival("张伟", phone="13912345678")]))
    other = make_person(GRID_C1, "外村人")
    Stay.objects.create(
        person=other,
        region_code=GRID_C1,
        place="北京",
        arrived="2022-01-01",
        left="2022-01-02",
        source="police",
    )
    full = client(cadre).get(f"{API}/ledgers/arrivals/export.xlsx")
    assert full.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(full.content)).get_sheet_by_index(0)
    data = rows.to_python()
    assert len(data) == 2 and data[1][0] == "张伟" and data[1][2] == "13912345678"
    township = make_user(Role.TOWNSHIP, COUNTY)  # sees both villages, full data
    data = (
        CalamineWorkbook.from_filelike(
            io.BytesIO(client(township).get(f"{API}/ledgers/arrivals/export.xlsx").content)
        )
        .get_sheet_by_index(0)
        .to_python()
    )
    assert len(data) == 3
    assert AuditEvent.objects.filter(kind="export", object_type="ledger").count() == 2


def test_export_masks_for_roles_without_full_contact(cadre, make_user, settings):
    from fangkong.core import roles

    upload(cadre, xlsx([arrival("张伟", phone="13912345678")]))
    # No shipped role exports with masked fields; prove the masking path with one.
    patched = dict(roles.MATRIX)
    patched[Role.GRID_WORKER] = patched[Role.GRID_WORKER] | {roles.Action.LEDGER_EXPORT}
    worker = make_user(Role.GRID_WORKER, VILLAGE_A)
    from unittest import mock

    with mock.patch.object(roles, "MATRIX", patched):
        content = client(worker).get(f"{API}/ledgers/arrivals/export.xlsx").content
    data = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert "*" in data[1][1] and data[1][2] == "13912345678"


def test_ledger_endpoints_deny_without_login_role_or_ownership(cadre, make_user):
    body = upload(cadre, xlsx([arrival()])).json()
    i = body["id"]
    paths = [
        ("get", f"{API}/ledgers/arrivals/template"),
        ("get", f"{API}/ledgers/imports/{i}"),
        ("get", f"{API}/ledgers/imports/{i}/errors.xlsx"),
        ("get", f"{API}/ledgers/arrivals/export.xlsx"),
    ]
    doctor = make_user(Role.VILLAGE_DOCTOR, VILLAGE_A)
    for method, path in paths:
        assert getattr(client(), method)(path).status_code == 401, path
        assert getattr(client(doctor), method)(path).status_code == 403, path
    assert upload(None, xlsx([arrival()])).status_code == 401
    assert upload(doctor, xlsx([arrival()])).status_code == 403
    assert LedgerImport.objects.count() == 1
    other_cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_C)
    assert client(other_cadre).get(f"{API}/ledgers/imports/{i}").status_code == 404
    assert client(other_cadre).get(f"{API}/ledgers/imports/{i}/errors.xlsx").status_code == 404
    data = (
        CalamineWorkbook.from_filelike(
            io.BytesIO(client(other_cadre).get(f"{API}/ledgers/arrivals/export.xlsx").content)
        )
        .get_sheet_by_index(0)
        .to_python()
    )
    assert len(data) == 1  # only the header: nothing of village A
    assert client(doctor).get(f"{API}/elsewhere/urgent", {"since": "2022-01-01"}).status_code == 200
    assert client().get(f"{API}/elsewhere/urgent", {"since": "2022-01-01"}).status_code == 401
    supply = make_user(Role.SUPPLY_OFFICER, VILLAGE_A)
    assert client(supply).get(f"{API}/elsewhere/urgent", {"since": "2022-01-01"}).status_code == 403


def test_id_number_registered_in_another_village_is_a_row_error(cadre, make_person):
    elsewhere = make_person(GRID_C1, "外村人")
    rows = [arrival("外村人", id_number=elsewhere.id_number), arrival("本村人")]
    body = upload(cadre, xlsx(rows), mode="valid").json()
    assert body["status"] == "done" and body["rows_imported"] == 1
    assert (2, "身份证号", "该身份证号已在其他辖区登记，请联系上级核实") in errors_of_body(body)
    elsewhere.refresh_from_db()
    assert elsewhere.region_code == GRID_C1 and not Stay.objects.filter(person=elsewhere)
    rejected = upload(cadre, xlsx(rows, headers=HEAD), mode="all", name="b.xlsx").json()
    assert rejected["status"] == "rejected"


def errors_of_body(body):
    return [(e["row"], e["column"], e["message"]) for e in body["errors"]]


def test_bulk_store_matches_updates_and_shares_as_row_by_row_would(
    cadre, make_person, django_assert_max_num_queries
):
    """The batched writes keep the row-by-row rules: a person without ID number is found by
    village, name and phone; a newer elsewhere ledger updates the person's entry (the later
    row wins); residents at one address share one household, an existing one reused."""
    known = make_person(GRID_A1, "钱八", id_number=None, phone="13600006666")
    rows = [
        arrival("钱八", id_number="", phone="13600006666"),
        *[arrival(f"新{i}", phone=f"1350000{i:04d}") for i in range(30)],
    ]
    with django_assert_max_num_queries(60):  # not one query per row
        body = upload(cadre, xlsx(rows)).json()
    assert body["rows_imported"] == 31, body
    assert Stay.objects.filter(person=known).count() == 1
    assert Person.objects.filter(name="钱八").count() == 1

    headers = [c.header for c in ledgers.COLUMNS["elsewhere"]]
    number = new_id_number()
    row = {
        "姓名": "王强",
        "身份证号": number,
        "手机号": "13700001111",
        "所属村组": GRID_A1,
        "在外类型": "务工人员",
        "现居城市": "上海市",
        "返乡迫切程度": "低",
    }
    assert upload(cadre, xlsx([row], headers), kind="elsewhere").json()["status"] == "done"
    moved = {**row, "现居城市": "北京市", "返乡迫切程度": "高"}
    assert upload(cadre, xlsx([moved], headers), kind="elsewhere").json()["status"] == "done"
    away = PersonElsewhere.objects.get()
    assert (away.person.id_number, away.current_city, away.urgency) == (number, "北京市", "high")

    from fangkong.people.models import Household

    Household.objects.create(region_id=GRID_A1, address="富强村9号")
    headers = [c.header for c in ledgers.COLUMNS["residents"]]
    rows = [
        {"姓名": name, "身份证号": new_id_number(), "所属村组": GRID_A1, "住址": address}
        for name, address in (("甲", "富强村9号"), ("乙", "富强村9号"), ("丙", "富强村10号"))
    ]
    assert upload(cadre, xlsx(rows, headers), kind="residents").json()["rows_imported"] == 3
    assert Household.objects.filter(address="富强村9号").count() == 1
    shared = Household.objects.get(address="富强村9号")
    assert set(Person.objects.filter(household=shared).values_list("name", flat=True)) == {
        "甲",
        "乙",
    }


# ---------------------------------------------------------------- chunked store


def test_all_or_nothing_rolls_back_chunks_already_stored(cadre, monkeypatch):
    """The import stores chunk by chunk while later rows are still being read; an error in
    the last chunk must still leave nothing behind, and every faulty row is reported."""
    monkeypatch.setattr(ledgers, "CHUNK_ROWS", 2)
    rows = [arrival(f"人{i}") for i in range(7)]
    rows[6]["离开该地日期"] = "不是日期"
    answer = upload(cadre, csv_bytes(rows), "台账.csv", mode="all").json()
    assert answer["status"] == "rejected", answer
    assert [e["row"] for e in answer["errors"]] == [8]
    assert answer["rows_total"] == 7
    assert Person.objects.count() == 0 and Stay.objects.count() == 0


def test_keep_valid_rows_over_many_chunks_stores_each_once(cadre, monkeypatch):
    monkeypatch.setattr(ledgers, "CHUNK_ROWS", 3)
    rows = [arrival(f"人{i}") for i in range(10)]
    rows[4]["离开该地日期"] = "2022-13-01"
    content = csv_bytes(rows)
    first = upload(cadre, content, "台账.csv").json()
    assert first["rows_imported"] == 9 and first["rows_rejected"] == 1, first
    assert LedgerImport.objects.get(pk=first["id"]).rows_done == [[2, 5], [7, 11]]
    again = upload(cadre, content, "台账.csv").json()
    assert again["rows_imported"] == 0 and again["rows_existing"] == 9
    assert Person.objects.count() == 9 and Stay.objects.count() == 9


def test_reimporting_a_fixed_copy_adds_the_fixed_rows_without_doubling_stays(cadre):
    """A fixed file is a new file (new hash): persons are matched again, and the stays
    already recorded for them are not recorded twice."""
    rows = [arrival("张三"), arrival("李四", left="2022-13-01"), arrival("王五", id_number="")]
    upload(cadre, xlsx(rows))
    assert Stay.objects.count() == 2
    rows[1]["离开该地日期"] = "2022-01-06"
    fixed = upload(cadre, xlsx(rows)).json()
    assert fixed["status"] == "done" and fixed["rows_imported"] == 3, fixed
    assert Person.objects.count() == 3
    assert Stay.objects.count() == 3
    assert Stay.objects.filter(person__name="李四").count() == 1


def test_a_reader_failure_stores_nothing(cadre, monkeypatch):
    """Whatever breaks while the rows are read (here: the validator itself) surfaces as a
    failed task and rolls back what was stored."""
    monkeypatch.setattr(ledgers, "CHUNK_ROWS", 1)
    calls = {"n": 0}
    original = ledgers._Validator.row

    def failing(self, number, cells):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk went away")
        return original(self, number, cells)

    monkeypatch.setattr(ledgers._Validator, "row", failing)
    upload(cadre, csv_bytes([arrival(f"人{i}") for i in range(4)]), "台账.csv")
    assert Person.objects.count() == 0 and Stay.objects.count() == 0
    ledger = LedgerImport.objects.get()
    assert ledger.status == LedgerImport.Status.FAILED
    # The cadre reads that nothing was kept and a log reference, never the raw error text.
    assert "已全部撤销" in ledger.message and "disk went away" not in ledger.message
    assert "编号" in ledger.message


@given(
    st.sets(st.integers(min_value=2, max_value=400), max_size=60),
    st.integers(min_value=1, max_value=5),
)
def test_row_ranges_hold_exactly_the_rows_stored(numbers, pieces):
    """Ranges built chunk by chunk and merged say "done" for exactly the stored rows."""
    ordered = sorted(numbers)
    size = max(1, len(ordered) // pieces)
    ranges = []
    for start in range(0, len(ordered), size):
        ranges.extend(ledgers.row_ranges(ordered[start : start + size]))
    merged = ledgers._merge_ranges(ranges)
    done = ledgers._RowsDone(merged)
    assert all(first <= last for first, last in merged)
    assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(merged))
    assert {n for n in range(0, 402) if n in done} == numbers


# ---------------------------------------------------------------- issue 12: one path


def test_template_required_marks_agree_with_the_validator(cadre):
    """A yellow header is exactly a column whose empty cell the validator refuses."""
    for kind, columns in ledgers.COLUMNS.items():
        book = load_workbook(io.BytesIO(ledgers.template(kind, cadre)))
        sheet = book.worksheets[0]
        marked = {c.value for c in sheet[1] if c.fill.fgColor.rgb.endswith("FFF2CC")}
        validator = ledgers._Validator(cadre, kind, dt.date(2022, 1, 10))
        refused = set()
        for column in columns:
            cells = ["" for _ in columns]
            validator.errors.clear()
            validator.row(2, cells)
            if any(e["column"] == column.header and not e["value"] for e in validator.errors):
                refused.add(column.header)
        assert marked == refused, kind
    assert "手机号" in {c.header for c in ledgers.COLUMNS["arrivals"] if c.required}


def test_template_offers_own_villages_by_name_and_import_reads_names(cadre):
    book = load_workbook(io.BytesIO(ledgers.template("arrivals", cadre)))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert "所属村组" in header and "村组代码" not in header
    listed = book["村组名单"]
    names = [row[0].value for row in listed.iter_rows()]
    assert names and not any(str(n).isdigit() for n in names)
    assert listed.sheet_state == "hidden"
    assert any("村组名单" in (v.formula1 or "") for v in sheet.data_validations.dataValidation)
    label = ledgers.own_regions(cadre)[GRID_A1]
    assert label in names
    body = upload(cadre, xlsx([arrival("韩梅", region=label)])).json()
    assert body["status"] == "done" and body["rows_imported"] == 1, body
    assert Person.objects.get(name="韩梅").region_code == GRID_A1
    # Older files with the code column still import.
    old = xlsx(
        [{**arrival("李雷"), "村组代码": GRID_A1}], headers=[*HEAD[:5], "村组代码", *HEAD[6:]]
    )
    body = upload(cadre, old).json()
    assert body["status"] == "done" and body["rows_imported"] == 1, body


def test_formula_cell_is_a_row_error_in_keep_valid_rows_mode(cadre):
    content = xlsx([arrival("甲"), arrival("乙")], formula=True)  # K2: a formula in row 2
    body = upload(cadre, content).json()
    assert body["status"] == "done" and body["rows_imported"] == 1, body
    (error,) = body["errors"]
    assert error["row"] == 2 and error["column"] and "公式" in error["message"]
    strict = upload(cadre, xlsx([arrival("丙"), arrival("丁")], formula=True), mode="all").json()
    assert strict["status"] == "rejected" and strict["errors"][0]["row"] == 2


def test_rejected_rows_come_back_as_a_file_to_fix_and_reimport(cadre):
    rows = [arrival("张三"), arrival("李四", left="2022-13-01"), arrival("王五", phone="")]
    body = upload(cadre, xlsx(rows)).json()
    assert body["rows_rejected"] == 2
    report = client(cadre).get(f"{API}/ledgers/imports/{body['id']}/errors.xlsx")
    book = load_workbook(io.BytesIO(report.content))
    returned = book.worksheets[0]
    header = [c.value for c in returned[1]]
    assert header[: len(HEAD)] == HEAD and header[-1] == "错误说明"
    values = [[c.value for c in r] for r in returned.iter_rows(min_row=2)]
    assert [v[0] for v in values] == ["李四", "王五"]
    assert "离开该地日期" in values[0][-1] and "原第3行" in values[0][-1]
    left = HEAD.index("离开该地日期")
    assert returned.cell(row=2, column=left + 1).fill.fgColor.rgb.endswith("FFC7CE")
    # Fixed and uploaded again as it is: both rows import, the note column is ignored.
    for row in returned.iter_rows(min_row=2):
        if row[0].value == "李四":
            row[left].value = "2022-01-05"
        else:
            row[HEAD.index("手机号")].value = "13912340000"
    out = io.BytesIO()
    book.save(out)
    again = upload(cadre, out.getvalue()).json()
    assert again["status"] == "done" and again["rows_imported"] == 2, again


def test_import_page_shows_what_changed_with_links(cadre):
    from django.test import Client as PageClient

    body = upload(cadre, xlsx([arrival("赵一"), arrival("钱二")])).json()
    ledger = LedgerImport.objects.get(pk=body["id"])
    assert ledger.changes["added"] == 2 and ledger.changes["stays"] == 2
    page = PageClient()
    page.force_login(cadre)
    html = page.get(f"/screening/ledgers/imports/{ledger.pk}/").content.decode()
    assert "新登记人员" in html and "赵一" in html
    person = Person.objects.get(name="赵一")
    assert f"/persons/{person.pk}/" in html
    # The same persons again with a new stay: updated, not added.
    again = upload(cadre, xlsx([arrival("赵一", id_number=person.id_number, left="2022-01-07")]))
    changes = LedgerImport.objects.get(pk=again.json()["id"]).changes
    assert changes["added"] == 0 and changes["updated"] == 1
