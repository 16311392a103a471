"""Forms of the screening pages: the ledger upload and the visit record (input parsing only;
the rules live in the services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import Source

from .models import ImportMode, LedgerKind

UPLOAD_SOURCES = [(s, label) for s, label in Source.choices if s not in ("import", "manual")]


class LedgerUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Ledger"), choices=LedgerKind.choices)
    source = forms.ChoiceField(label=_("Source"), choices=UPLOAD_SOURCES, initial="village")
    mode = forms.ChoiceField(label=_("If some rows are wrong"), choices=ImportMode.choices,
                             widget=forms.RadioSelect, initial=ImportMode.ALL_OR_NOTHING)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))


class VisitForm(forms.Form):
    """What the grid worker found at the door (走访核查): made for a phone screen."""

    YES_NO = [("yes", _("Yes")), ("no", _("No"))]
    HEALTH = [("normal", _("Normal: no fever, no cough")), ("symptoms", _("Has symptoms"))]

    present = forms.ChoiceField(label=_("Is the person at home?"), choices=YES_NO,
                                widget=forms.RadioSelect)
    health = forms.ChoiceField(label=_("Health"), choices=HEALTH, widget=forms.RadioSelect,
                               initial="normal")
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"), required=False, max_digits=3, decimal_places=1,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )  # fmt: skip
    symptoms = forms.CharField(label=_("Symptoms"), required=False, max_length=100,
                               help_text=_("For example: cough, sore throat, fatigue"))
    phone = forms.CharField(
        label=_("Phone confirmed"), required=False, max_length=20,
        help_text=_("The number the person answers now; correct it if it changed"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )  # fmt: skip
    note = forms.CharField(label=_("Note"), required=False, max_length=200,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("health") == "symptoms" and not (data.get("symptoms")
                                                     or data.get("temperature")):
            self.add_error("symptoms", _("Name the symptoms or enter the temperature"))
        return data

    def visit_arguments(self) -> dict:
        """The arguments of :func:`.visits.complete`; symptoms are kept in the note."""
        data = self.cleaned_data
        note = data["note"].strip()
        if data["health"] == "symptoms" and data["symptoms"]:
            note = f"{_('Symptoms')}：{data['symptoms'].strip()}" + (f"；{note}" if note else "")
        return {"present": data["present"] == "yes", "healthy": data["health"] == "normal",
                "temperature": data["temperature"], "phone": data["phone"].strip(),
                "note": note}  # fmt: skip
