"""Importing a pharmacy's sales file: all rows or none, errors by row and column, no repeats."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from fangkong.core.errors import ValidationFailed
from fangkong.places import sales_import
from fangkong.places.models import DrugSale
from tests.conftest import GRID_A1

pytestmark = pytest.mark.django_db
HEADER = ["小票号", "销售时间", "药品类别", "药品名称", "购药人", "身份证号", "电话"]


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_bad_row_refuses_the_file_and_names_row_and_column(cadre_a, make_place, make_person):
    pharmacy = make_place(cadre_a, kind="pharmacy", name="药房")
    buyer = make_person(GRID_A1, "李雷")
    content = xlsx(
        [
            ["R1", "2026-12-01 09:30", "退烧药", "布洛芬", "李雷", buyer.id_number, ""],
            ["R2", "2026-12-01 10:00", "止咳药", "糖浆", "韩梅梅", "123", ""],
        ]
    )
    with pytest.raises(ValidationFailed) as failed:
        sales_import.import_sales(
            actor=cadre_a, pharmacy_id=pharmacy.pk, name="sales.xlsx", content=content
        )
    assert failed.value.errors[0].field == "第3行「身份证号」"
    assert DrugSale.objects.count() == 0


def test_good_file_imports_once(cadre_a, make_place, client_for):
    pharmacy = make_place(cadre_a, kind="pharmacy", name="药房")
    content = xlsx(
        [
            ["R1", "2026-12-01 09:30", "退烧药", "布洛芬", "李雷", "", 13912345678],
            ["R2", "2026-12-01 10:00", "抗生素", "阿莫西林", "韩梅梅", "", "13912345679"],
        ]
    )
    client = client_for(cadre_a)
    for _ in range(2):
        upload = SimpleUploadedFile("sales.xlsx", content)
        response = client.post(
            "/places/pharmacy/import/", {"pharmacy": pharmacy.pk, "file": upload}
        )
        assert response.status_code == 302
    assert DrugSale.objects.count() == 2
    assert DrugSale.objects.get(receipt_no="R1").buyer_phone == "13912345678"


def test_missing_columns_and_wrong_type(cadre_a, make_place):
    pharmacy = make_place(cadre_a, kind="pharmacy", name="药房")
    with pytest.raises(ValidationFailed) as failed:
        sales_import.import_sales(
            actor=cadre_a,
            pharmacy_id=pharmacy.pk,
            name="a.csv",
            content="小票号,电话\n1,2\n".encode(),
        )
    assert "销售时间" in failed.value.errors[0].message
    with pytest.raises(ValidationFailed):
        sales_import.import_sales(
            actor=cadre_a, pharmacy_id=pharmacy.pk, name="a.txt", content=b"x"
        )
