"""Forms of the places pages: names and pickers, never ids or region codes to type."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from fangkong.core import ui

from .models import DrugClass, GatheringKind, PlaceKind, ReportedBy


class PlaceForm(ui.ActorForm):
    kind = forms.ChoiceField(label="类别", choices=PlaceKind.choices)
    name = forms.CharField(label="名称", max_length=100)
    region_code = ui.RegionPickerField(label="所在村（组）")
    address = forms.CharField(label="地址", max_length=200, required=False)
    manager_name = forms.CharField(label="负责人", max_length=64, required=False)
    manager_phone = forms.CharField(label="负责人电话", max_length=20, required=False)
    staff_count = forms.IntegerField(label="职工人数", min_value=0, max_value=100000, initial=0)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label="变更为", choices=[("closed", "责令关停"), ("reopened", "复业")]
    )
    order_no = forms.CharField(label="通知文号", max_length=60, required=False)
    reason = forms.CharField(label="原因", max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class DisinfectionForm(forms.Form):
    done_by = forms.CharField(label="消杀人员", max_length=64)
    done_at = ui.DateTimeLocalField(label="消杀时间", initial=timezone.now)
    area = forms.CharField(label="部位", max_length=100, required=False)


class GatheringForm(ui.ActorForm):
    kind = forms.ChoiceField(label="类型", choices=GatheringKind.choices)
    region_code = ui.RegionPickerField(label="所在村（组）")
    place_text = forms.CharField(label="地点", max_length=120)
    organiser_name = forms.CharField(label="主办人", max_length=64)
    organiser_phone = forms.CharField(label="主办人电话", max_length=20, required=False)
    date = forms.DateField(label="日期", widget=ui.DateInput, initial=timezone.localdate)
    tables = forms.IntegerField(label="预计桌数", min_value=0, max_value=1000, initial=0)
    guests = forms.IntegerField(label="预计人数", min_value=0, max_value=20000, initial=0)
    reported_by = forms.ChoiceField(label="来源", choices=ReportedBy.choices)
    note = forms.CharField(label="备注", max_length=300, required=False)


class ResumptionForm(forms.Form):
    staff_count = forms.IntegerField(label="职工人数", min_value=1, max_value=100000)
    risk_area_staff = forms.IntegerField(
        label="来自风险地区职工", min_value=0, max_value=100000, initial=0
    )
    canteen_rules = forms.BooleanField(label="食堂错峰就餐、间隔1米", required=False)
    dormitory_rules = forms.BooleanField(label="宿舍管理措施", required=False)
    emergency_plan = forms.FileField(label="应急预案", required=False)
    note = forms.CharField(label="备注", max_length=300, required=False)


class BatchForm(forms.Form):
    goods = forms.CharField(label="品名", max_length=100)
    origin = forms.CharField(label="产地", max_length=100, required=False)
    weight_kg = forms.DecimalField(
        label="重量（千克）", min_value=0, max_value=999999, decimal_places=1, initial=0
    )
    vehicle_plate = forms.CharField(label="车牌号", max_length=12, required=False)
    quarantine_certificate = forms.CharField(label="检疫证明编号", max_length=60, required=False)
    test_report = forms.CharField(label="核酸检测报告编号", max_length=60, required=False)
    disinfection_certificate = forms.CharField(label="消毒证明编号", max_length=60, required=False)
    trace_code = forms.CharField(label="追溯信息码", max_length=60, required=False)


class SaleForm(forms.Form):
    pharmacy = forms.TypedChoiceField(label="药店", coerce=int)
    receipt_no = forms.CharField(label="小票号", max_length=40)
    drug_class = forms.ChoiceField(label="药品类别", choices=DrugClass.choices)
    drug_name = forms.CharField(label="药品名称", max_length=60)
    buyer_name = forms.CharField(label="购药人", max_length=64)
    buyer_id_number = forms.CharField(label="身份证号", max_length=20, required=False)
    buyer_phone = forms.CharField(label="电话", max_length=20, required=False)
    sold_at = ui.DateTimeLocalField(label="销售时间", initial=timezone.now)

    def __init__(self, *args: Any, pharmacies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pharmacy"].choices = pharmacies  # type: ignore[attr-defined]
        if len(pharmacies) == 1:
            self.fields["pharmacy"].initial = pharmacies[0][0]


class ClassForm(forms.Form):
    name = forms.CharField(label="班级", max_length=40)
    teacher_name = forms.CharField(label="班主任", max_length=64, required=False)


class MemberForm(ui.ActorForm):
    person = ui.PersonPickerField(label="学生或教职工")
    role = forms.ChoiceField(label="身份", choices=[("student", "学生"), ("staff", "教职工")])
