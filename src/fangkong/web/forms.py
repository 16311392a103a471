"""Forms of the web UI: thin input parsers only.

The rules (valid ID number, phone format, jurisdiction, versions) live in
:mod:`fangkong.people.services`; a form turns the posted strings into typed values and
shows the errors the service reports next to the right field (:func:`apply_errors`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core import ui
from fangkong.core.errors import ValidationFailed
from fangkong.people.models import PersonCategory, Sex

# Service field name → form field name, where they differ.
SERVICE_FIELDS = {"household_id": "household", "head_id": "head"}


def apply_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Attach each FieldError of ``exc`` to its form field, or to the form as a whole."""
    for error in exc.errors:
        name = SERVICE_FIELDS.get(error.field, error.field)
        shown = name in form.fields and not form.fields[name].widget.is_hidden
        form.add_error(name if shown else None, error.message)
    if not exc.errors:
        form.add_error(None, exc.detail)


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), max_length=256, widget=forms.PasswordInput)


class PersonSearchForm(forms.Form):
    """The search box and filters of the person list (all optional)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=64)
    region = ui.RegionPickerField(
        label="区域", required=False, levels=("township", "village", "grid")
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("All categories")), *PersonCategory.choices],
    )
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", _("Either sex")), *Sex.choices]
    )
    source = forms.ChoiceField(label=_("Source"), required=False)
    cursor = forms.CharField(required=False, max_length=400, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from fangkong.people.models import Source

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", _("All sources")), *Source.choices]


class HouseholdSearchForm(forms.Form):
    q = forms.CharField(label=_("Address contains"), required=False, max_length=100)
    region = ui.RegionPickerField(
        label="区域", required=False, levels=("township", "village", "grid")
    )
    cursor = forms.CharField(required=False, max_length=400, widget=forms.HiddenInput)


class PersonForm(forms.Form):
    """Create or edit a person. Sensitive fields the role may not see start empty.

    For such a field an empty input means "leave unchanged"; :meth:`service_data` leaves it
    out, so a masked value is never written back over the real one.
    """

    name = forms.CharField(label=_("Full name"), max_length=64, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=[("", _("Not given")), *Sex.choices]
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    region_code = forms.ChoiceField(label=_("Residence (village or grid)"), required=False)
    # A household chosen by its address (never a record number typed by hand).
    household = forms.TypedChoiceField(
        label="所属户（住址）", required=False, coerce=int, empty_value=None
    )
    category = forms.ChoiceField(label=_("Category"), choices=PersonCategory.choices)
    reason = forms.CharField(label=_("Reason for the change"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        residences: list[tuple[str, str]],
        hidden_fields: frozenset[str] = frozenset(),
        editing: bool = False,
        households: list[tuple[int, str]] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_sensitive = hidden_fields
        self.fields["region_code"].choices = [("", _("Same as the household")), *residences]
        self.fields["household"].choices = [("", "不属于已登记的户"), *households]
        if not editing:
            del self.fields["reason"]
            del self.fields["version"]
        for name in hidden_fields:
            self.fields[name].help_text = _("Shown masked for your role; leave empty to keep it")

    def service_data(self) -> dict[str, Any]:
        """The cleaned values in the shape :mod:`fangkong.people.services` takes."""
        data = self.cleaned_data
        out: dict[str, Any] = {
            "name": data["name"],
            "sex": data["sex"],
            "birth_date": data["birth_date"],
            "region_code": data["region_code"],
            "household_id": data["household"],
            "category": data["category"],
        }
        for name in ("id_number", "phone"):
            if name not in self.hidden_sensitive or data[name]:
                out[name] = data[name]
        return out


class HouseholdForm(forms.Form):
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    region_code = forms.ChoiceField(label=_("Grid"), required=False)
    head = forms.ChoiceField(label=_("Head of household"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        residences: list[tuple[str, str]],
        members: list[tuple[int, str]] = (),  # type: ignore[assignment]
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = [("", _("Choose a village or grid")), *residences]
        if editing:
            self.fields["head"].choices = [("", _("Leave unchanged")), *members]
        else:
            del self.fields["head"]
            del self.fields["version"]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {"address": data["address"], "region_code": data["region_code"]}
        if "head" in self.fields and data.get("head"):
            out["head_id"] = int(data["head"])
        return out
