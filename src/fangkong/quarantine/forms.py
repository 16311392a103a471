"""Forms of the isolation pages: they only parse input; the services hold the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AlertOutcome, CostBearer, IsolationKind, SupplyCategory, Symptom

KIND_CHOICES = IsolationKind.choices
EMPTY = [("", "—")]


class OrderForm(forms.Form):
    person_id = forms.IntegerField(label=_("Person record number"), min_value=1)
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES)
    starts_at = forms.DateTimeField(
        label=_("Start"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=60, initial=14)
    policy_version = forms.CharField(label=_("Policy version"), max_length=100, required=False)
    manual_reason = forms.CharField(
        label=_("Reason (when no policy applies)"), max_length=300, required=False
    )
    address = forms.CharField(label=_("Place of isolation"), max_length=200, required=False)
    required_test_days = forms.CharField(
        label=_("Days of required tests"), max_length=40, required=False,
        help_text=_("Day numbers separated by commas, e.g. 1,4,14"),
    )
    household_member_ids = forms.CharField(
        label=_("Household members sharing it (record numbers)"), max_length=200,
        required=False,
    )
    agreement_signed_on = forms.DateField(
        label=_("Home-isolation agreement signed on"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    cost_bearer = forms.ChoiceField(
        label=_("Cost bearer"), choices=EMPTY + CostBearer.choices, required=False
    )
    next_kind = forms.ChoiceField(
        label=_("Next stage"), choices=EMPTY + KIND_CHOICES, required=False
    )
    next_days = forms.IntegerField(
        label=_("Days of next stage"), min_value=1, max_value=60, required=False
    )

    def _numbers(self, name: str) -> tuple[int, ...]:
        raw = self.cleaned_data.get(name) or ""
        parts = [p.strip() for p in raw.replace("，", ",").split(",") if p.strip()]
        if not all(p.isdigit() and len(p) < 10 for p in parts):
            raise forms.ValidationError(_("Give whole numbers separated by commas"))
        return tuple(int(p) for p in parts)

    def clean_required_test_days(self) -> tuple[int, ...]:
        return self._numbers("required_test_days")

    def clean_household_member_ids(self) -> tuple[int, ...]:
        return self._numbers("household_member_ids")


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
        choices=[("home", _("Home isolation")), ("centralised", _("Centralised isolation")),
                 ("hospital", _("Designated hospital"))],
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
        label=_("Override reason (only to release before the rules are met)"), max_length=300,
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


class AgreementForm(VersionForm):
    signed_on = forms.DateField(
        label=_("Signed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    scan = forms.FileField(label=_("Scan of the signed agreement"), required=False)


class ReadingForm(forms.Form):
    """A reading typed on the round (when not simply "normal")."""

    temperature = forms.DecimalField(
        label=_("Temperature (°C)"), max_digits=3, decimal_places=1, required=False,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"), choices=Symptom.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    absent = forms.BooleanField(label=_("Not at home"), required=False)


class SelfReportForm(forms.Form):
    temperature = forms.DecimalField(
        label=_("Your temperature (°C)"), max_digits=3, decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Do you have any of these?"), choices=Symptom.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class SupplyForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=SupplyCategory.choices)
    items = forms.CharField(label=_("What is needed"), max_length=300)


class DeliveryForm(forms.Form):
    note = forms.CharField(label=_("Delivery note"), max_length=200, required=False)


class WasteForm(forms.Form):
    bags = forms.IntegerField(label=_("Bags"), min_value=1, max_value=1000)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=AlertOutcome.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class SiteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    region_code = forms.RegexField(
        label=_("County or township code"), regex=r"^\d{6}(\d{3})?$", max_length=9
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Duty phone"), max_length=20, required=False)


class RoomsForm(forms.Form):
    numbers = forms.CharField(
        label=_("Room numbers"), max_length=2000,
        help_text=_("Separated by commas; a range like 101-120 is expanded"),
    )
    capacity = forms.IntegerField(label=_("Beds per room"), min_value=1, max_value=20, initial=1)

    def clean_numbers(self) -> list[str]:
        out: list[str] = []
        for part in self.cleaned_data["numbers"].replace("，", ",").split(","):
            part = part.strip()
            if "-" in part:
                first, _sep, last = part.partition("-")
                numeric = first.isdigit() and last.isdigit()
                if not numeric or not 0 <= int(last) - int(first) < 200:
                    raise forms.ValidationError(_("A range is like 101-120"))
                out += [str(n) for n in range(int(first), int(last) + 1)]
            elif part:
                out.append(part[:20])
        if not out or len(out) > 200:
            raise forms.ValidationError(_("Give 1 to 200 room numbers"))
        return out
