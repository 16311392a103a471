"""Forms of the emergency pages: areas and grids picked by name, rules as choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core import ui
from fangkong.core.models import Region

from .models import Mode, Movement, Plan, ZoneKind


class ModeSwitchForm(ui.ActorForm):
    region = ui.RegionPickerField(label=_("Area"), levels=("county", "township"))
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices, initial=Mode.WARTIME)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ZoneAreaForm(ui.ActorForm):
    """Step one of drawing a zone: the township or village to draw in."""

    area = ui.RegionPickerField(label=_("Draw inside"), levels=("township", "village", "grid"))


class ZoneForm(forms.Form):
    """Step two: the grids (or households) that make the zone, and its rules."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ZoneKind.choices, initial=ZoneKind.SEALED)
    regions = forms.MultipleChoiceField(
        label=_("Villages and grids in the zone"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    households = forms.MultipleChoiceField(
        label=_("Single households (buildings) in the zone"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    movement = forms.ChoiceField(
        label=_("Movement"),
        choices=[("", _("The kind's default")), *Movement.choices],
        required=False,
    )
    test_every_days = forms.IntegerField(
        label=_("Test every (days)"), min_value=1, max_value=14, required=False
    )
    delivery = forms.CharField(label=_("Delivery of daily needs"), max_length=200, required=False)
    publicity = forms.CharField(
        label=_("Publicity and psychological support"), required=False, widget=forms.Textarea
    )
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300)
    approved_by = forms.CharField(label=_("Approved by"), max_length=100)

    def __init__(self, *args: Any, area: str, households: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        under = Region.objects.filter(code__startswith=area, level__in=["village", "grid"])
        labels = ui.region_labels(set(under.values_list("code", flat=True)), with_township=False)
        self.fields["regions"].choices = [(code, labels.get(code, code)) for code in sorted(labels)]
        self.fields["households"].choices = [(str(pk), label) for pk, label in households]


class LiftForm(forms.Form):
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300)
    approved_by = forms.CharField(label=_("Approved by"), max_length=100)


class PlanForm(ui.ActorForm):
    region = ui.RegionPickerField(label=_("Area"), levels=("county", "township", "village"))
    unit_name = forms.CharField(label=_("Unit"), max_length=100)
    unit_kind = forms.ChoiceField(label=_("Kind of unit"), choices=Plan.UnitKind.choices)
    title = forms.CharField(label=_("Plan"), max_length=200)
    plan_version = forms.CharField(label=_("Plan version"), max_length=20, initial="1.0")
    reviewed_on = forms.DateField(
        label=_("Last reviewed on"), required=False, widget=ui.DateInput()
    )
    review_every_days = forms.IntegerField(
        label=_("Review every (days)"), min_value=7, max_value=730, initial=180
    )


STEP_ROWS = 5


class DrillForm(forms.Form):
    title = forms.CharField(label=_("Drill"), max_length=200)
    squads = forms.CharField(label=_("Squads taking part"), max_length=300)
    unannounced = forms.BooleanField(label=_("Unannounced"), required=False)
    held_at = ui.DateTimeLocalField(label=_("Held at"), widget=ui.DateTimeLocalInput())
    lessons = forms.CharField(label=_("Lessons learnt"), required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, STEP_ROWS + 1):
            self.fields[f"step{i}_name"] = forms.CharField(
                label=_("Step %(n)s") % {"n": i}, max_length=200, required=False
            )
            self.fields[f"step{i}_target"] = forms.IntegerField(
                label=_("Target (minutes)"), min_value=1, max_value=1440, required=False
            )
            self.fields[f"step{i}_taken"] = forms.IntegerField(
                label=_("Minutes taken"), min_value=0, max_value=1440, required=False
            )

    def step_rows(self) -> list[tuple[Any, Any, Any]]:
        return [
            (self[f"step{i}_name"], self[f"step{i}_target"], self[f"step{i}_taken"])
            for i in range(1, STEP_ROWS + 1)
        ]


class VolunteerForm(forms.Form):
    """The public sign-up form: a phone is enough, no account."""

    name = forms.CharField(label=_("Full name"), max_length=64)
    phone = forms.CharField(label=_("Phone"), max_length=20)
    region_code = forms.ChoiceField(label=_("Village or community"))
    skills = forms.CharField(
        label=_("What you can do (driving, medicine, languages…)"), max_length=200, required=False
    )
    availability = forms.CharField(label=_("When available"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        villages = Region.objects.filter(level="village").order_by("code")[:500]
        labels = ui.region_labels({v.code for v in villages})
        self.fields["region_code"].choices = [("", _("— choose —"))] + [
            (v.code, labels.get(v.code, v.name)) for v in villages
        ]


class AssignForm(forms.Form):
    post = forms.CharField(label=_("Post"), max_length=100)
    version = forms.IntegerField(widget=forms.HiddenInput)
