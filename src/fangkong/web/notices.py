"""Pages of notices (通知): the inbox every user has, confirming a notice, and — for the
roles that send and follow them — writing a notice and seeing who has not read it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import errors, notices, ui
from fangkong.core.models import Notice
from fangkong.core.permissions import requires, signed_in
from fangkong.core.roles import Action, Role, can

CHANNEL = "web"


class NoticeForm(ui.ActorForm):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=notices.MAX_TITLE)
    body = forms.CharField(
        label=gettext_lazy("Text"), max_length=notices.MAX_BODY, widget=forms.Textarea
    )
    region = ui.RegionPickerField(
        label=gettext_lazy("To the area"), levels=("county", "township", "village", "grid")
    )
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("To these roles (none ticked: everyone)"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    level = forms.ChoiceField(label=gettext_lazy("Level"), choices=Notice.Level.choices)
    requires_confirmation = forms.BooleanField(
        label=gettext_lazy("Recipients must confirm they have read it"), required=False
    )
    confirm_within_minutes = forms.IntegerField(
        label=gettext_lazy("Confirm within (minutes)"),
        min_value=1,
        max_value=7 * 24 * 60,
        required=False,
        initial=120,
    )


@signed_in
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    receipts = notices.inbox(request.user)
    context = {
        "receipts": receipts,
        "can_send": can(request.user, Action.NOTICE_SEND),
        "area_notices": notices.notices_of_area(request.user, limit=30)
        if can(request.user, Action.NOTICE_TRACK)
        else None,
    }
    return render(request, "web/notices.html", context)


@signed_in
@require_GET
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    try:
        receipt = notices.mark_read(actor=request.user, notice_id=notice_id)
    except errors.NotFound:
        if can(request.user, Action.NOTICE_TRACK):
            return redirect("web:notice_receipts", notice_id=notice_id)
        raise
    return render(request, "web/notice_detail.html", {"receipt": receipt, "notice": receipt.notice})


@signed_in
@require_POST
def notice_confirm(request: HttpRequest, notice_id: int) -> HttpResponse:
    notices.confirm(actor=request.user, notice_id=notice_id)
    messages.success(request, _("You have confirmed the notice."))
    return redirect("web:notice_detail", notice_id=notice_id)


@requires(Action.NOTICE_TRACK)
@require_GET
def notice_receipts(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice, receipts = notices.receipts_of(request.user, notice_id)
    labels = ui.region_labels({r.region_code for r in receipts})
    rows = [
        {
            "user": r.user.display_name or r.user.username,
            "role": Role(r.role).label if r.role in Role.values else r.role,
            "region": labels.get(r.region_code, ""),
            "read_at": r.read_at,
            "confirmed_at": r.confirmed_at,
        }
        for r in receipts
    ]
    context = {
        "notice": notice,
        "rows": rows,
        "read": sum(1 for r in receipts if r.read_at),
        "confirmed": sum(1 for r in receipts if r.confirmed_at),
    }
    return render(request, "web/notice_receipts.html", context)


@requires(Action.NOTICE_SEND)
@require_http_methods(["GET", "POST"])
def notice_create(request: HttpRequest) -> HttpResponse:
    form = NoticeForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = notices.NoticeDraft(
            title=data["title"],
            body=data["body"],
            region_codes=(data["region"],),
            roles=tuple(data["roles"]),
            level=data["level"],
            requires_confirmation=data["requires_confirmation"],
            confirm_within_minutes=data["confirm_within_minutes"],
        )
        try:
            notice = notices.publish(draft=draft, sender=request.user)
        except errors.ValidationFailed as exc:
            ui.apply_errors(form, exc, {"region_codes": "region"})
        else:
            messages.success(
                request,
                _("The notice has been sent to %(count)s users.")
                % {"count": notice.recipients_count},
            )
            return redirect("web:notice_receipts", notice_id=notice.pk)
    return render(request, "web/notice_form.html", {"form": form})
