"""Forms of the isolation pages: they only parse input; the services hold the rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core import ui

from .models import AlertOutcome, CostBearer, IsolationKind, SupplyCategory, Symptom

KIND_CHOICES = IsolationKind.choices
EMPTY = [("", "—")]


class OrderForm(ui.ActorForm):
    """The order form: a person picked by name, the start as a local date-time; prefilled
    from the step before (a decision, a contact, a visit) through the query string."""

    person_id = ui.PersonPickerField(label=_("人员"))
    kind = forms.ChoiceField(label=_("隔离方式"), choices=KIND_CHOICES)
    starts_at = ui.DateTimeLocalField(label=_("开始时间"))
    days = forms.IntegerField(label=_("天数"), min_value=1, max_value=60, initial=14)
    policy_version = forms.CharField(label=_("依据的政策版本"), max_length=100, required=False)
    manual_reason = forms.CharField(
        label=_("隔离原因（无适用政策时填写）"), max_length=300, required=False
    )
    address = forms.CharField(
        label=_("隔离地点"),
        max_length=200,
        required=False,
        help_text=_("居家隔离留空即为本户住址；集中隔离在下达后分配房间"),
    )
    required_test_days = forms.CharField(
        label=_("需核酸检测的隔离天（第几天）"),
        max_length=40,
        required=False,
        help_text=_("用逗号分隔，如 1,4,7"),
    )
    with_household = forms.BooleanField(
        label=_("同户家庭成员一并隔离"),
        required=False,
        help_text=_("为同户每位成员各下达一份隔离，一起测温"),
    )
    agreement_signed_on = forms.DateField(
        label=_("居家隔离承诺书签署日期"), required=False, widget=ui.DateInput
    )
    cost_bearer = forms.ChoiceField(
        label=_("费用承担"), choices=EMPTY + CostBearer.choices, required=False
    )
    next_kind = forms.ChoiceField(
        label=_("期满后转为"), choices=EMPTY + KIND_CHOICES, required=False
    )
    next_days = forms.IntegerField(
        label=_("后续阶段天数"), min_value=1, max_value=60, required=False
    )

    def clean_required_test_days(self) -> tuple[int, ...]:
        return parse_days(self.cleaned_data.get("required_test_days") or "")


def parse_days(raw: str) -> tuple[int, ...]:
    """ "1,4，7" → (1, 4, 7); anything else than small whole numbers is refused."""
    parts = [p.strip() for p in raw.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() and len(p) < 3 for p in parts):
        raise forms.ValidationError(_("请填写用逗号分隔的天数，如 1,4,7"))
    return tuple(int(p) for p in parts)


def order_initial(params: Any, now: datetime) -> dict[str, Any]:
    """The form's first values from the step before: ``person``, ``kind``, ``days``,
    ``start`` (ISO date or date-time), ``tests`` ("1,4,7"), ``policy``, ``reason``,
    ``next_kind``, ``next_days``, ``household``. The form's own field names are read too
    (``starts_at``, ``required_test_days``, ``policy_version``, ``manual_reason``: the
    screening decision's link, docs/screening.md). What does not parse is left out, so a
    bad link still opens a usable form."""

    def first(*keys: str) -> str:
        for key in keys:
            value = params.get(key, "")
            if value:
                return str(value)
        return ""

    initial: dict[str, Any] = {"starts_at": now.replace(second=0, microsecond=0), "days": 14}
    person = params.get("person", "")
    if person.isascii() and person.isdigit() and len(person) < 12:
        initial["person_id"] = int(person)
    if params.get("kind") in IsolationKind.values:
        initial["kind"] = params["kind"]
    for key, name in (("days", "days"), ("next_days", "next_days")):
        value = params.get(key, "")
        if value.isascii() and value.isdigit() and 1 <= int(value) <= 60:
            initial[name] = int(value)
    if params.get("next_kind") in IsolationKind.values:
        initial["next_kind"] = params["next_kind"]
    start = first("start", "starts_at")
    if start:
        try:
            parsed = datetime.fromisoformat(start)
        except ValueError:
            parsed = None
        if parsed is not None:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            initial["starts_at"] = timezone.localtime(parsed).replace(second=0, microsecond=0)
    try:
        tests = parse_days(first("tests", "required_test_days"))
    except forms.ValidationError:
        tests = ()
    if tests:
        initial["required_test_days"] = ",".join(str(d) for d in tests)
    if policy := first("policy", "policy_version"):
        initial["policy_version"] = policy[:100]
    if reason := first("reason", "manual_reason"):
        initial["manual_reason"] = reason[:300]
    if params.get("household") == "1":
        initial["with_household"] = True
    return initial


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ExtendForm(VersionForm):
    ends_at = forms.DateTimeField(
        label=_("New planned end"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class TransferForm(VersionForm):
    to = forms.ChoiceField(
        label=_("Transfer to"),
        choices=[
            ("home", _("Home isolation")),
            ("centralised", _("Centralised isolation")),
            ("hospital", _("Designated hospital")),
        ],
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    hospital = forms.CharField(label=_("Hospital"), max_length=100, required=False)
    cost_bearer = forms.ChoiceField(
        label=_("Cost bearer"), choices=EMPTY + CostBearer.choices, required=False
    )


class EndForm(VersionForm):
    reason = forms.CharField(label=_("Reason for ending early"), max_length=300)


class ReleaseForm(VersionForm):
    override_reason = forms.CharField(
        label=_("Override reason (only to release before the rules are met)"),
        max_length=300,
        required=False,
    )


class TestResultForm(forms.Form):
    day = forms.IntegerField(min_value=0, max_value=60, widget=forms.HiddenInput)
    result = forms.ChoiceField(
        label=_("Result"), choices=[("negative", _("Negative")), ("positive", _("Positive"))]
    )
    sampled_on = forms.DateField(
        label=_("Sampled on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class RoomForm(VersionForm):
    room_id = forms.TypedChoiceField(label=_("Room"), coerce=int)


class BulkRoomsForm(forms.Form):
    """One room per order (``room_<order id>``), prefilled with the suggestion; an order left
    on "—" is not assigned."""

    def __init__(self, *args: Any, plans: list[Any], rooms: list[tuple[int, str]], **kw: Any):
        super().__init__(*args, **kw)
        self.plans = plans
        for plan in plans:
            self.fields[f"room_{plan.order.pk}"] = forms.TypedChoiceField(
                label=plan.order.person.name,
                choices=[("", "—"), *rooms],
                coerce=int,
                required=False,
                initial=plan.suggested.room_id if plan.suggested else "",
            )

    def pairs(self) -> list[tuple[int, int]]:
        return [
            (plan.order.pk, self.cleaned_data[f"room_{plan.order.pk}"])
            for plan in self.plans
            if self.cleaned_data.get(f"room_{plan.order.pk}")
        ]


class AgreementForm(VersionForm):
    signed_on = forms.DateField(
        label=_("Signed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    scan = forms.FileField(label=_("Scan of the signed agreement"), required=False)


class ReadingForm(forms.Form):
    """A reading typed on the round (when not simply "normal")."""

    temperature = forms.DecimalField(
        label=_("Temperature (°C)"),
        max_digits=3,
        decimal_places=1,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    absent = forms.BooleanField(label=_("Not at home"), required=False)


class SelfReportForm(forms.Form):
    temperature = forms.DecimalField(
        label=_("Your temperature (°C)"),
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Do you have any of these?"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class SupplyForm(forms.Form):
    category = forms.ChoiceField(label=_("物资类别"), choices=SupplyCategory.choices)
    items = forms.CharField(label=_("What is needed"), max_length=300)


class DeliveryForm(forms.Form):
    note = forms.CharField(label=_("Delivery note"), max_length=200, required=False)


class WasteForm(forms.Form):
    bags = forms.IntegerField(label=_("Bags"), min_value=1, max_value=1000)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=AlertOutcome.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class SiteForm(ui.ActorForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    region_code = ui.RegionPickerField(label=_("所属县或乡镇"), levels=("county", "township"))
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Duty phone"), max_length=20, required=False)


class RoomsForm(forms.Form):
    numbers = forms.CharField(
        label=_("Room numbers"),
        max_length=2000,
        help_text=_("Separated by commas; a range like 101-120 is expanded"),
    )
    capacity = forms.IntegerField(label=_("Beds per room"), min_value=1, max_value=20, initial=1)

    def clean_numbers(self) -> list[str]:
        out: list[str] = []
        for part in self.cleaned_data["numbers"].replace("，", ",").split(","):
            part = part.strip()
            if "-" in part:
                first, _sep, last = part.partition("-")
                numeric = first.isascii() and last.isascii() and first.isdigit() and last.isdigit()
                if not numeric or not 0 <= int(last) - int(first) < 200:
                    raise forms.ValidationError(_("A range is like 101-120"))
                out += [str(n) for n in range(int(first), int(last) + 1)]
            elif part:
                out.append(part[:20])
        if not out or len(out) > 200:
            raise forms.ValidationError(_("Give 1 to 200 room numbers"))
        return out
