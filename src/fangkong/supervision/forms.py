"""Forms of supervision pages (names and pickers; never codes to type)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core import ui

from .models import Decision, Offence, PlaceKind


class PlanForm(ui.ActorForm):
    region_code = ui.RegionPickerField(
        label=_("Village or township"), levels=("township", "village")
    )
    place_kind = forms.ChoiceField(label=_("Kind of place"), choices=PlaceKind.choices)
    place_name = forms.CharField(label=_("Place"), max_length=80)
    planned_for = forms.DateField(label=_("Day"), widget=ui.DateInput)
    unannounced = forms.BooleanField(
        label=_("Unannounced (四不两直)"), required=False, initial=True
    )


class ItemForm(forms.Form):
    result = forms.ChoiceField(choices=[("pass", "pass"), ("fail", "fail")])
    note = forms.CharField(max_length=500, required=False)
    photo = forms.FileField(required=False)


class ReportForm(forms.Form):
    report = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class VerifyRectificationForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("Verification"),
        choices=[("1", _("Rectified: close it")), ("0", _("Not rectified: send it back"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CaseForm(ui.ActorForm):
    region_code = ui.RegionPickerField(
        label=_("Village or township"), levels=("township", "village")
    )
    person_name = forms.CharField(label=_("Person"), max_length=32)
    post = forms.CharField(label=_("Post"), max_length=64, required=False)
    offence = forms.ModelChoiceField(
        label=_("Offence"), queryset=Offence.objects.filter(active=True)
    )
    evidence = forms.CharField(
        label=_("Evidence"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[c for c in Decision.choices if c[0] != Decision.PENDING])
    note = forms.CharField(max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CommendForm(ui.ActorForm):
    region_code = ui.RegionPickerField(
        label=_("Village or township"), levels=("township", "village")
    )
    name = forms.CharField(label=_("Unit or person"), max_length=64)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=ui.DateInput)
    end = forms.DateField(label=_("To"), widget=ui.DateInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The start is after the end."))
        return data


class VideoCheckForm(ui.ActorForm):
    region_code = ui.RegionPickerField(label=_("Village"), levels=("village",))
    person_name = forms.CharField(label=_("Person"), max_length=32, initial="")
    post = forms.CharField(label=_("Post"), max_length=64, required=False, initial="村支部书记")
    called_at = ui.DateTimeLocalField(label=_("Called at"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
