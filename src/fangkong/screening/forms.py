"""Forms of the screening pages: the ledger upload, the visit record, risk areas and control
policy versions (input parsing only; the rules live in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import Source

from .models import ImportMode, LedgerKind, Measure, RiskLevel, RuleLevel
from .services import RuleInput

UPLOAD_SOURCES = [(s, label) for s, label in Source.choices if s not in ("import", "manual")]


class LedgerUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Ledger"), choices=LedgerKind.choices)
    source = forms.ChoiceField(label=_("Source"), choices=UPLOAD_SOURCES, initial="village")
    mode = forms.ChoiceField(
        label=_("If some rows are wrong"),
        choices=ImportMode.choices,
        widget=forms.RadioSelect,
        initial=ImportMode.ALL_OR_NOTHING,
    )
    file = forms.FileField(label=_("File (.xlsx or .csv)"))


def note_with_symptoms(note: str, symptoms: str) -> str:
    """Symptoms are kept in the visit's note, in front: "症状：咳嗽；邻居代答"."""
    note, symptoms = note.strip(), symptoms.strip()
    if not symptoms:
        return note
    return f"{_('Symptoms')}：{symptoms}" + (f"；{note}" if note else "")


class VisitForm(forms.Form):
    """What the grid worker found at the door (走访核查): made for a phone screen."""

    YES_NO = [("yes", _("Yes")), ("no", _("No"))]
    HEALTH = [("normal", _("Normal: no fever, no cough")), ("symptoms", _("Has symptoms"))]

    present = forms.ChoiceField(
        label=_("Is the person at home?"), choices=YES_NO, widget=forms.RadioSelect
    )
    health = forms.ChoiceField(
        label=_("Health"), choices=HEALTH, widget=forms.RadioSelect, initial="normal"
    )
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"),
        required=False,
        max_digits=3,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    symptoms = forms.CharField(
        label=_("Symptoms"),
        required=False,
        max_length=100,
        help_text=_("For example: cough, sore throat, fatigue"),
    )
    phone = forms.CharField(
        label=_("Phone confirmed"),
        required=False,
        max_length=20,
        help_text=_("The number the person answers now; correct it if it changed"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=200, widget=forms.Textarea(attrs={"rows": 3})
    )

    isolate = forms.BooleanField(label="按研判决定下达隔离", required=False, initial=True)

    def __init__(self, *args, measure: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if measure:
            self.fields["isolate"].help_text = measure
        else:
            del self.fields["isolate"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("health") == "symptoms" and not (
            data.get("symptoms") or data.get("temperature")
        ):
            self.add_error("symptoms", _("Name the symptoms or enter the temperature"))
        return data

    def visit_arguments(self) -> dict:
        """The arguments of :func:`.visits.complete`; symptoms are kept in the note."""
        data = self.cleaned_data
        symptoms = data["symptoms"] if data["health"] == "symptoms" else ""
        note = note_with_symptoms(data["note"], symptoms)
        return {
            "present": data["present"] == "yes",
            "healthy": data["health"] == "normal",
            "temperature": data["temperature"],
            "phone": data["phone"].strip(),
            "note": note,
        }


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RiskAreaForm(forms.Form):
    """Create or edit a risk area; the version names the state the editor has seen."""

    region_code = forms.CharField(
        label=_("Region code"),
        required=False,
        max_length=12,
        help_text=_("Statistical code of the province, city, county, street or community"),
    )
    place = forms.CharField(label=_("Place"), max_length=100)
    level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE_INPUT)
    valid_to = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Leave empty while the area is not lifted"),
    )
    notice = forms.CharField(label=_("Source notice"), required=False, max_length=200)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["version"]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in ("region_code", "place", "level", "valid_from", "valid_to", "notice")
        }


RULE_FIELDS = ("measure", "look_back_days", "days", "home_days", "test_days")


class PolicyForm(forms.Form):
    """A new version of a county's control policy: title, notice and one rule per level.

    A level whose measure is left empty has no rule. Test days are typed as "1, 4, 7".
    """

    region_code = forms.ChoiceField(label=_("County"))
    title = forms.CharField(label=_("Title"), max_length=100)
    notice = forms.CharField(label=_("Source notice"), required=False, max_length=200)

    def __init__(self, *args: Any, regions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = regions
        for level, _label in RuleLevel.choices:
            self.fields[f"{level}_measure"] = forms.ChoiceField(
                label=_("Measure"),
                required=False,
                choices=[("", _("No rule for this level")), *Measure.choices],
            )
            self.fields[f"{level}_look_back_days"] = forms.IntegerField(
                label=_("Look-back days"), required=False, min_value=0
            )
            self.fields[f"{level}_days"] = forms.IntegerField(
                label=_("Days"), required=False, min_value=0
            )
            self.fields[f"{level}_home_days"] = forms.IntegerField(
                label=_("Then home isolation days"), required=False, min_value=0
            )
            self.fields[f"{level}_test_days"] = forms.CharField(
                label=_("Tests on days"),
                required=False,
                max_length=100,
                help_text=_("Day numbers separated by commas, for example: 1, 4, 7"),
            )

    @staticmethod
    def initial_from(policy: Any) -> dict[str, Any]:
        """The values of the current version, to start the next one from."""
        if policy is None:
            return {}
        initial: dict[str, Any] = {
            "region_code": policy.region_code,
            "title": policy.title,
            "notice": policy.notice,
        }
        for rule in policy.rules.all():
            initial.update(
                {
                    f"{rule.level}_measure": rule.measure,
                    f"{rule.level}_look_back_days": rule.look_back_days,
                    f"{rule.level}_days": rule.days,
                    f"{rule.level}_home_days": rule.home_days,
                    f"{rule.level}_test_days": ", ".join(str(d) for d in rule.test_days),
                }
            )
        return initial

    def rule_groups(self) -> list[tuple[str, list]]:
        """(level label, its bound fields), for the template."""
        return [
            (label, [self[f"{level}_{name}"] for name in RULE_FIELDS])
            for level, label in RuleLevel.choices
        ]

    def clean(self) -> dict:
        data = super().clean()
        for level, _label in RuleLevel.choices:
            name = f"{level}_test_days"
            text = (data.get(name) or "").replace("，", ",").replace("、", ",")
            try:
                data[name] = tuple(int(p) for p in text.split(",") if p.strip())
            except ValueError:
                self.add_error(name, _("Enter whole day numbers separated by commas"))
            if data.get(f"{level}_measure") and data.get(f"{level}_look_back_days") is None:
                self.add_error(f"{level}_look_back_days", _("Enter the look-back days"))
        return data

    def rules(self) -> tuple[list[RuleInput], list[str]]:
        """The rules in the shape of :func:`.services.publish_policy`, and the level of each
        (to put the service's ``rules.<i>.<field>`` errors back on this form's fields)."""
        data = self.cleaned_data
        rules, levels = [], []
        for level, _label in RuleLevel.choices:
            if not data.get(f"{level}_measure"):
                continue
            rules.append(
                RuleInput(
                    level=level,
                    measure=data[f"{level}_measure"],
                    look_back_days=data[f"{level}_look_back_days"],
                    days=data[f"{level}_days"] or 0,
                    home_days=data[f"{level}_home_days"] or 0,
                    test_days=data[f"{level}_test_days"],
                )
            )
            levels.append(level)
        return rules, levels
