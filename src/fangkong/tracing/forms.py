"""Forms of the tracing pages: they only parse input; the services judge it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.errors import ValidationFailed

from .models import CaseStatus, EventKind, ExposureType, FoundVia


def apply_errors(form: forms.Form, exc: ValidationFailed) -> None:
    for error in exc.errors:
        name = error.field.split(".")[0]
        form.add_error(name if name in form.fields else None, error.message)


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class CaseForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)
    person_id = forms.IntegerField(
        label=_("Person number in the registry"),
        required=False,
        min_value=1,
        help_text=_("Leave empty for a person not registered, and give name and region"),
    )
    name = forms.CharField(label=_("Full name"), max_length=64, required=False)
    region_code = forms.CharField(label=_("Region code"), max_length=15, required=False)
    onset_date = forms.DateField(label=_("Onset date"), required=False, widget=DateInput)
    confirmation_date = forms.DateField(
        label=_("Confirmation date"), required=False, widget=DateInput
    )
    found_via = forms.ChoiceField(label=_("Where found"), choices=FoundVia.choices)
    hospital = forms.CharField(label=_("Hospital"), max_length=100, required=False)
    investigation_summary = forms.CharField(
        label=_("Investigation summary"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TimelineForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("From"), widget=DateTimeInput)
    ends_at = forms.DateTimeField(label=_("To"), required=False, widget=DateTimeInput)
    place = forms.CharField(label=_("Place"), max_length=200)
    activity = forms.CharField(label=_("Activity"), max_length=200, required=False)
    people = forms.CharField(label=_("People met"), max_length=300, required=False)


class ContactForm(forms.Form):
    contact_person_id = forms.IntegerField(
        label=_("Person number in the registry"), min_value=1, required=False
    )
    exposure_type = forms.ChoiceField(label=_("Exposure type"), choices=ExposureType.choices)
    last_exposure_date = forms.DateField(
        label=_("Last exposure date"), required=False, widget=DateInput
    )
    elsewhere_name = forms.CharField(
        label=_("Or: name of a contact living elsewhere"), max_length=64, required=False
    )
    elsewhere_phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    elsewhere_region = forms.CharField(
        label=_("Their region code (if in the system)"), max_length=15, required=False
    )
    elsewhere_destination = forms.CharField(
        label=_("Or where they live"), max_length=100, required=False
    )


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    title = forms.CharField(label=_("Title"), max_length=100)
    place = forms.CharField(label=_("Place"), max_length=200)
    region_code = forms.CharField(label=_("Region code"), max_length=15)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput)
    organiser_name = forms.CharField(label=_("Organiser name"), max_length=64, required=False)
    reported = forms.BooleanField(label=_("Reported gathering"), required=False)
    attendees = forms.CharField(
        label=_("Attendees (registry numbers, comma-separated)"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    probable = forms.CharField(
        label=_("Probable attendees (registry numbers)"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def attendee_pairs(self) -> tuple[tuple[int, str], ...] | None:
        pairs: dict[int, str] = {}
        for key, certainty in (("probable", "probable"), ("attendees", "confirmed")):
            for part in self.cleaned_data[key].replace("，", ",").split(","):
                part = part.strip()
                if not part:
                    continue
                if not part.isdigit() or len(part) > 18:
                    self.add_error(key, _("Give registry numbers separated by commas"))
                    return None
                pairs[int(part)] = certainty
        return tuple(pairs.items())


class ResultForm(forms.Form):
    result = forms.CharField(label=_("Result"), max_length=300)


class AcceptForm(forms.Form):
    person_id = forms.IntegerField(label=_("Person number in the registry"), min_value=1)


class ImportForm(forms.Form):
    region_code = forms.CharField(label=_("Region code"), max_length=15)
    file = forms.FileField(label=_("Line list (.xlsx or .csv)"))
