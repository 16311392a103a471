"""Forms of the tracing pages: they only parse input; the services judge it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core import ui
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


class CaseForm(ui.ActorForm):
    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)
    person_id = ui.PersonPickerField(
        label=_("病例（本辖区人员）"),
        required=False,
        help_text=_("未登记的人员留空，并填写姓名和所在村组"),
    )
    name = forms.CharField(label=_("Full name"), max_length=64, required=False)
    region_code = ui.RegionPickerField(label=_("所在村组"), required=False)
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
    starts_at = ui.DateTimeLocalField(label=_("From"))
    ends_at = ui.DateTimeLocalField(label=_("To"), required=False)
    place = forms.CharField(label=_("Place"), max_length=200)
    activity = forms.CharField(label=_("Activity"), max_length=200, required=False)
    people = forms.CharField(label=_("People met"), max_length=300, required=False)


class ContactForm(ui.ActorForm):
    """A contact picked by name (or pinyin, ID number, phone) inside the investigator's area;
    one living elsewhere by name and where they live."""

    contact_person_id = ui.PersonPickerField(label=_("接触者（本辖区人员）"), required=False)
    exposure_type = forms.ChoiceField(label=_("Exposure type"), choices=ExposureType.choices)
    last_exposure_date = forms.DateField(
        label=_("Last exposure date"), required=False, widget=ui.DateInput
    )
    elsewhere_name = forms.CharField(
        label=_("Or: name of a contact living elsewhere"), max_length=64, required=False
    )
    elsewhere_phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    elsewhere_destination = forms.CharField(
        label=_("所在地（省市县乡村名称）"), max_length=100, required=False
    )


class EventForm(ui.ActorForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    title = forms.CharField(label=_("Title"), max_length=100)
    place = forms.CharField(label=_("Place"), max_length=200)
    region_code = ui.RegionPickerField(label=_("所在村组"))
    starts_at = ui.DateTimeLocalField(label=_("Starts"))
    ends_at = ui.DateTimeLocalField(label=_("Ends"))
    organiser_name = forms.CharField(label=_("Organiser name"), max_length=64, required=False)
    reported = forms.BooleanField(label=_("Reported gathering"), required=False)
    attendees = forms.CharField(
        label=_("参加人员（姓名、身份证号或手机号，每行一人或用逗号分隔）"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    probable = forms.CharField(
        label=_("可能参加的人员（同上）"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def attendee_pairs(self) -> tuple[tuple[int, str], ...] | None:
        """The attendees named in the two boxes, found in the registry inside the user's
        area: a name must match one person (else the ID number or phone tells them apart)."""
        pairs: dict[int, str] = {}
        for key, certainty in (("probable", "probable"), ("attendees", "confirmed")):
            problems = []
            for part in split_names(self.cleaned_data[key]):
                found = find_person(self.actor, part)
                if isinstance(found, int):
                    pairs[found] = certainty
                else:
                    problems.append(found)
            if problems:
                self.add_error(key, "；".join(problems[:10]))
        if self.errors:
            return None
        return tuple(pairs.items())


def split_names(raw: str) -> list[str]:
    parts = raw.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
    return [p.strip() for p in parts if p.strip()][:2000]


def find_person(actor: Any, text: str) -> int | str:
    """The id of the one person inside the actor's area that ``text`` (a name, ID number or
    phone) names, or a sentence saying why not."""
    from fangkong.people import selectors as people

    try:
        page = people.list_persons(actor, people.PersonFilters(q=text), limit=20)
    except ValidationFailed:
        return str(_("“%(text)s”无法查询") % {"text": text})
    exact = [p for p in page.items if p.name == text]
    found = exact or page.items
    if len(found) == 1:
        return int(found[0].pk)
    if not found:
        return str(_("找不到“%(text)s”") % {"text": text})
    return str(_("“%(text)s”有重名，请改填身份证号或手机号") % {"text": text})


class ResultForm(forms.Form):
    result = forms.CharField(label=_("Result"), max_length=300)


class AcceptForm(ui.ActorForm):
    person_id = ui.PersonPickerField(label=_("对应的本辖区人员"))


class ImportForm(ui.ActorForm):
    region_code = ui.RegionPickerField(
        label=_("所属地区"), levels=("county", "township", "village", "grid")
    )
    file = forms.FileField(label=_("Line list (.xlsx or .csv)"))
