"""Forms of the checkpoint pages (Chinese labels; pickers know the acting user)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from fangkong.core import ui

from .models import CodeColour, Direction, Inspection, Outcome, PassageKind, PostKind

RADIO = forms.RadioSelect(attrs={"class": "cp-radio"})


class PassageForm(ui.ActorForm):
    kind = forms.ChoiceField(
        label="类型", choices=PassageKind.choices, initial="person", widget=RADIO
    )
    direction = forms.ChoiceField(
        label="方向", choices=Direction.choices, initial="in", widget=RADIO
    )
    person = ui.PersonPickerField(label="人员（扫身份证、输入姓名或拼音）", required=False)
    name = forms.CharField(label="姓名（名册中查不到时填写）", max_length=64, required=False)
    id_number = forms.CharField(label="身份证号（名册外人员）", max_length=18, required=False)
    plate = forms.CharField(label="车牌号", max_length=16, required=False)
    occupants = forms.CharField(
        label="车上人员（每行一人：姓名或身份证号）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    origin = forms.CharField(label="从何处来（省、市、县）", max_length=100, required=False)
    temperature = forms.DecimalField(
        label="体温（℃）",
        max_digits=3,
        decimal_places=1,
        required=False,
        min_value=Decimal("30"),
        max_value=Decimal("45"),
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    code_colour = forms.ChoiceField(
        label="健康码", choices=CodeColour.choices, initial="green", widget=RADIO
    )
    itinerary_ok = forms.BooleanField(label="行程卡已核验", required=False, initial=True)
    mask = forms.BooleanField(label="佩戴口罩", required=False, initial=True)
    disinfected = forms.BooleanField(label="已消毒", required=False, initial=True)
    outcome = forms.ChoiceField(
        label="处置（不选则按规则）",
        choices=[("", "按规则"), *Outcome.choices],
        required=False,
    )
    client_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class PostForm(ui.ActorForm):
    name = forms.CharField(label="卡点名称", max_length=100)
    kind = forms.ChoiceField(label="类型", choices=PostKind.choices)
    region_code = ui.RegionPickerField(label="所在村（社区）或乡镇", levels=("township", "village"))
    location = forms.CharField(label="位置", max_length=200, required=False)
    enclosed = forms.BooleanField(label="全封闭", required=False)
    container_hut = forms.BooleanField(label="集装箱值守点", required=False)
    has_barrier = forms.BooleanField(label="有阻拦设施", required=False, initial=True)
    has_staff = forms.BooleanField(label="有人员值守", required=False, initial=True)
    has_register = forms.BooleanField(label="有进出登记", required=False, initial=True)
    has_thermometer = forms.BooleanField(label="有体温测量", required=False, initial=True)
    has_disinfection = forms.BooleanField(label="有消毒杀菌", required=False, initial=True)
    disinfections_per_day = forms.IntegerField(
        label="每日消毒次数", min_value=0, max_value=24, initial=4
    )
    guide_situation = forms.CharField(
        label="基本情况", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    guide_duties = forms.CharField(
        label="任务职责", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    guide_cases = forms.CharField(
        label="常见情况处置", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    guide_contingencies = forms.CharField(
        label="应急预案", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    emergency_vehicle = forms.CharField(label="应急通行车（车牌）", max_length=16, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CardForm(ui.ActorForm):
    person = ui.PersonPickerField(label="持证人（每户一人）")
    outings_per_week = forms.IntegerField(
        label="每周外出次数", min_value=1, max_value=21, initial=3
    )


class RosterForm(ui.ActorForm):
    township = ui.RegionPickerField(label="乡镇", levels=("township",))
    starts_on = forms.DateField(label="第一天", widget=ui.DateInput())
    days = forms.IntegerField(label="天数", min_value=1, max_value=31, initial=7)


class InspectionForm(ui.ActorForm):
    post = forms.TypedChoiceField(label="卡点", coerce=int)
    at = ui.DateTimeLocalField(label="到达时间")
    staff_present = forms.BooleanField(label="人员在岗", required=False, initial=True)
    awake = forms.BooleanField(label="人员清醒（未睡岗）", required=False, initial=True)
    logging = forms.BooleanField(label="进出登记完整", required=False, initial=True)
    temperature = forms.BooleanField(label="体温逐一测量", required=False, initial=True)
    disinfection = forms.BooleanField(label="按时消毒", required=False, initial=True)
    risk_areas = forms.BooleanField(label="掌握当日风险地区", required=False, initial=True)
    note = forms.CharField(
        label="情况说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    photo = forms.FileField(label="照片", required=False)

    ITEMS = Inspection.ITEMS


class PushForm(ui.ActorForm):
    region_code = ui.RegionPickerField(label="推送范围", levels=("county", "township", "village"))
    title = forms.CharField(label="标题", max_length=200, initial="最新中高风险地区及管控措施")
    body = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 5}), max_length=5000)
