"""Forms of the screening pages: the ledger upload."""

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
