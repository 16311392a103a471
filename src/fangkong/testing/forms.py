"""Forms of the testing pages: they parse input only; :mod:`.services` holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import PersonCategory

from .models import ExemptionReason

CAPACITY_CHOICES = [(1, _("Single tube")), (10, _("Pool of 10")), (20, _("Pool of 20"))]


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    region_codes = forms.MultipleChoiceField(
        label=_("Target regions"), widget=forms.SelectMultiple(attrs={"size": 8})
    )
    categories = forms.MultipleChoiceField(
        label=_("Only these groups"),
        choices=PersonCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to test every resident"),
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    pool_size = forms.TypedChoiceField(
        label=_("Samples per tube"), choices=CAPACITY_CHOICES, coerce=int, initial=10
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_codes"].choices = regions


class PointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    location = forms.CharField(label=_("Location"), max_length=200)
    region_code = forms.ChoiceField(label=_("Region served"))
    opens_at = forms.TimeField(
        label=_("Opens at"), widget=forms.TimeInput(attrs={"type": "time"}), initial="07:00"
    )
    closes_at = forms.TimeField(
        label=_("Closes at"), widget=forms.TimeInput(attrs={"type": "time"}), initial="19:00"
    )
    lanes = forms.IntegerField(label=_("Lanes"), min_value=1, max_value=100, initial=2)
    throughput_per_lane_hour = forms.IntegerField(
        label=_("Samples per lane per hour"),
        min_value=1,
        max_value=1000,
        initial=60,
        help_text=_(
            "Measured in a timed trial; replaced by the measured figure once sampling runs"
        ),
    )

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = regions


class LanesForm(forms.Form):
    lanes = forms.IntegerField(label=_("Lanes"), min_value=1, max_value=100)


class PointStaffForm(forms.Form):
    """The staff list of a point: tick to add, untick to remove; the version read is sent
    back so that a change made meanwhile by another planner is not overwritten."""

    staff_ids = forms.TypedMultipleChoiceField(
        label=_("Sampling staff"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Testing staff whose area covers the point's region or lies inside it"),
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, staff: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff_ids"].choices = staff


class ExemptionForm(forms.Form):
    person_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.ChoiceField(label=_("Reason"), choices=ExemptionReason.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ScanForm(forms.Form):
    """The sampler's form: tube stays filled between scans; the person's code submits."""

    tube = forms.CharField(
        label=_("Tube barcode"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text"}
        ),
    )
    capacity = forms.TypedChoiceField(label=_("Tube type"), choices=CAPACITY_CHOICES, coerce=int)
    person = forms.CharField(
        label=_("ID number or registration code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autofocus": True,
                "autocapitalize": "characters",
                # the next scan replaces a rejected code, not appends (fangkong.js selects
                # such a field on focus: the CSP allows no inline handler)
                "data-select-on-focus": "",
            }
        ),
    )
    retest = forms.BooleanField(label=_("Retest after a recall"), required=False)


class ResultFileForm(forms.Form):
    file = forms.FileField(
        label=_("Laboratory result file"),
        help_text=_(".xlsx or .csv with a tube barcode column (条码) and a result column (结果)"),
    )


class RegistrationForm(forms.Form):
    id_number = forms.CharField(label=_("ID number"), max_length=18)
    name = forms.CharField(label=_("Full name"), max_length=64)
