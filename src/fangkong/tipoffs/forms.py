"""Forms of tip-offs: the public form (no account), hotline entry, verification, payment."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from fangkong.core import regions, ui
from fangkong.core.models import Region

from .models import TipKind, TipStatus

_VILLAGES_KEY = "tipoffs:public_villages"


def public_village_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every village of the installation, grouped by township, by name (two queries, then
    kept for ten minutes: the public form is the page a flood hits)."""
    found = cache.get(_VILLAGES_KEY)
    if found is None:
        found = _village_choices()
        cache.set(_VILLAGES_KEY, found, timeout=600)
    return found  # type: ignore[no-any-return]


def _village_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    villages = Region.objects.filter(level="village").order_by("code").values_list("code", "name")
    township_codes = {code[: regions.TOWNSHIP_LENGTH] for code, _name in villages}
    townships = dict(Region.objects.filter(code__in=township_codes).values_list("code", "name"))
    grouped: dict[str, list[tuple[str, str]]] = {}
    for code, name in villages:
        grouped.setdefault(townships.get(code[: regions.TOWNSHIP_LENGTH], ""), []).append(
            (code, name)
        )
    return list(grouped.items())


class MultiPhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultiPhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp", "multiple": True})

    def clean(self, data: Any, initial: Any = None) -> Any:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [f for f in files if f]


class PublicTipForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What are you reporting"), choices=TipKind.choices, widget=forms.RadioSelect
    )
    region_code = forms.ChoiceField(label=_("Village"))
    place = forms.CharField(label=_("Where exactly"), max_length=120, required=False)
    happened_at = ui.DateTimeLocalField(label=_("When"), required=False)
    text = forms.CharField(
        label=_("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    photos = PhotosField(label=_("Photos (at most 3)"), required=False)
    contact_name = forms.CharField(label=_("Your name (optional)"), max_length=32, required=False)
    contact_phone = forms.CharField(
        label=_("Your phone (optional, for the reward)"),
        max_length=20,
        required=False,
        help_text=_("Only the team that verifies the tip-off sees it. You may stay anonymous."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    # A field people never see: robots fill it.
    website = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"})
    )
    stamp = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = [("", "——"), *public_village_choices()]


class HotlineTipForm(ui.ActorForm):
    kind = forms.ChoiceField(label=_("What is reported"), choices=TipKind.choices)
    region_code = ui.RegionPickerField(label=_("Village"), levels=("village",))
    place = forms.CharField(label=_("Where exactly"), max_length=120, required=False)
    happened_at = ui.DateTimeLocalField(label=_("When"), required=False)
    text = forms.CharField(
        label=_("What happened"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    contact_name = forms.CharField(label=_("Caller's name"), max_length=32, required=False)
    contact_phone = forms.CharField(label=_("Caller's phone"), max_length=20, required=False)
    photos = PhotosField(label=_("Photos (at most 3)"), required=False)


class VerifyForm(ui.ActorForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[c for c in TipStatus.choices if c[0] != TipStatus.PENDING],
        widget=forms.RadioSelect,
    )
    finding = forms.CharField(
        label=_("What was found"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    duplicate_of = forms.CharField(
        label=_("Receipt code of the earlier tip-off (duplicates)"), max_length=12, required=False
    )
    person = ui.PersonPickerField(label=_("Person concerned (registered)"), required=False)
    village_missed = forms.BooleanField(
        label=_("The village had not registered this returnee"), required=False
    )
    photos = PhotosField(label=_("Photos (at most 3)"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class PayForm(forms.Form):
    payment_record = forms.CharField(
        label=_("Payer's record (voucher or transfer number)"), max_length=120
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class RewardRuleForm(forms.Form):
    amount = forms.IntegerField(label=_("Yuan per verified case"), min_value=0, max_value=100000)
    payer = forms.CharField(label=_("Who pays"), max_length=120)
