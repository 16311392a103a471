"""Pages of supervision: the inspector's home (inspections due, rectifications overdue), the
mobile checklist, rectification, discipline and commendations, the bulletin as Word.

Thin glue: forms parse, services decide and scope by jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import jurisdiction, regions, ui
from fangkong.core.errors import ValidationFailed, VersionConflict
from fangkong.core.permissions import requires
from fangkong.core.roles import Action, can

from . import documents, forms, services
from .models import (
    ChecklistItem,
    Commendation,
    Decision,
    InspectionStatus,
    RectificationStatus,
    VideoCheck,
)


def _say(request: HttpRequest, exc: ValidationFailed | VersionConflict) -> None:
    if isinstance(exc, VersionConflict) or not exc.errors:
        messages.error(request, str(exc.detail))
        return
    for error in exc.errors:
        messages.error(request, error.message)


def _label(rows: list[Any]) -> None:
    labels = regions.region_labels([r.region_code for r in rows])
    for row in rows:
        row.label = labels.get(row.region_code, "")


def _perms(user: Any) -> dict[str, bool]:
    return {
        "can_inspect": can(user, Action.SUPERVISION_INSPECT),
        "can_rectify": can(user, Action.SUPERVISION_RECTIFY),
        "can_discipline": can(user, Action.SUPERVISION_DISCIPLINE),
    }


@requires(Action.SUPERVISION_VIEW)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The inspector's day: inspections due, rectifications overdue or awaiting verification."""
    actor = request.user
    now = timezone.now()
    today = timezone.localdate()
    due = list(
        services.inspections_in_scope(actor)
        .filter(status=InspectionStatus.PLANNED, planned_for__lte=today)
        .order_by("planned_for")[:50]
    )
    upcoming = list(
        services.inspections_in_scope(actor)
        .filter(status=InspectionStatus.PLANNED, planned_for__gt=today)
        .order_by("planned_for")[:20]
    )
    rects = services.rectifications_in_scope(actor)
    overdue = list(rects.filter(status=RectificationStatus.OPEN, deadline__lt=now)[:50])
    to_verify = list(rects.filter(status=RectificationStatus.REPORTED)[:50])
    open_ = list(rects.filter(status=RectificationStatus.OPEN, deadline__gte=now)[:50])
    _label(due + upcoming + overdue + to_verify + open_)
    return render(
        request,
        "supervision/home.html",
        {
            "due": due,
            "upcoming": upcoming,
            "overdue": overdue,
            "to_verify": to_verify,
            "open": open_,
            **_perms(actor),
        },
    )


@requires(Action.SUPERVISION_VIEW)
@require_http_methods(["GET", "POST"])
def inspections(request: HttpRequest) -> HttpResponse:
    actor = request.user
    form = None
    if can(actor, Action.SUPERVISION_INSPECT):
        form = forms.PlanForm(
            request.POST or None, actor=actor, initial={"planned_for": timezone.localdate()}
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                inspection = services.plan_inspection(actor=actor, **data)
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                return redirect("supervision:inspection", inspection.pk)
    elif request.method == "POST":
        raise Http404
    page = ui.page_of(
        request, services.inspections_in_scope(actor).order_by("-planned_for", "-pk"), per_page=30
    )
    _label(list(page.items))
    return render(
        request, "supervision/inspections.html", {"page": page, "form": form, **_perms(actor)}
    )


@requires(Action.SUPERVISION_VIEW)
@require_http_methods(["GET", "POST"])
def inspection(request: HttpRequest, inspection_id: int) -> HttpResponse:
    actor = request.user
    found = services.get_inspection(actor, inspection_id)
    if request.method == "POST":
        try:
            services.finish_inspection(
                actor=actor,
                inspection_id=found.pk,
                note=request.POST.get("note", ""),
                version=int(request.POST.get("version") or 0),
            )
            messages.success(request, "督查已完成")
        except (ValidationFailed, VersionConflict) as exc:
            _say(request, exc)
        return redirect("supervision:inspection", found.pk)
    items = list(found.items.select_related("rectification").defer("photo"))
    has_photo = set(found.items.filter(photo__isnull=False).values_list("pk", flat=True))
    for item in items:
        item.has_photo = item.pk in has_photo
        item.rect = getattr(item, "rectification", None)
    return render(
        request,
        "supervision/inspection.html",
        {
            "inspection": found,
            "items": items,
            "label": regions.region_label(found.region_code),
            **_perms(actor),
        },
    )


@requires(Action.SUPERVISION_INSPECT)
@require_POST
def item_record(request: HttpRequest, item_id: int) -> HttpResponse:
    form = forms.ItemForm(request.POST, request.FILES)
    item = ChecklistItem.objects.filter(pk=item_id).only("inspection_id").first()
    if item is None or not form.is_valid():
        raise Http404
    photo = form.cleaned_data["photo"]
    try:
        services.record_item(
            actor=request.user,
            item_id=item_id,
            result=form.cleaned_data["result"],
            note=form.cleaned_data["note"],
            photo=photo.read(8 * 1024 * 1024 + 1) if photo else None,
        )
    except ValidationFailed as exc:
        _say(request, exc)
    return redirect(
        reverse("supervision:inspection", args=[item.inspection_id]) + f"#item-{item_id}"
    )


@requires(Action.SUPERVISION_VIEW)
@require_GET
def item_photo(request: HttpRequest, item_id: int) -> HttpResponse:
    item = ChecklistItem.objects.filter(
        pk=item_id, inspection__in=services.inspections_in_scope(request.user)
    ).first()
    if item is None or not item.photo:
        raise Http404
    return HttpResponse(bytes(item.photo), content_type="image/jpeg")


@requires(Action.SUPERVISION_VIEW)
@require_GET
def rectifications(request: HttpRequest) -> HttpResponse:
    actor = request.user
    qs = services.rectifications_in_scope(actor)
    wanted = request.GET.get("status", "")
    if wanted in RectificationStatus.values:
        qs = qs.filter(status=wanted)
    page = ui.page_of(request, qs.order_by("status", "deadline"), per_page=50)
    _label(list(page.items))
    return render(
        request,
        "supervision/rectifications.html",
        {
            "page": page,
            "now": timezone.now(),
            "statuses": RectificationStatus.choices,
            "wanted": wanted,
        },
    )


@requires(Action.SUPERVISION_VIEW)
@require_http_methods(["GET", "POST"])
def rectification(request: HttpRequest, rectification_id: int) -> HttpResponse:
    actor = request.user
    found = services.get_rectification(actor, rectification_id)
    if request.method == "POST":
        try:
            if "report" in request.POST:
                form = forms.ReportForm(request.POST)
                if not form.is_valid():
                    raise ValidationFailed()
                services.report_rectification(
                    actor=actor, rectification_id=found.pk, **form.cleaned_data
                )
                messages.success(request, "整改情况已报送，等待督导组核验")
            else:
                vform = forms.VerifyRectificationForm(request.POST)
                if not vform.is_valid():
                    raise ValidationFailed()
                services.verify_rectification(
                    actor=actor, rectification_id=found.pk, **vform.cleaned_data
                )
                messages.success(request, "核验结果已记录")
        except (ValidationFailed, VersionConflict) as exc:
            _say(request, exc)
        return redirect("supervision:rectification", found.pk)
    item = found.item
    return render(
        request,
        "supervision/rectification.html",
        {
            "r": found,
            "item": item,
            "label": regions.region_label(found.region_code),
            "overdue": found.status == RectificationStatus.OPEN and found.deadline < timezone.now(),
            "report_form": forms.ReportForm(
                initial={"version": found.version, "report": found.report}
            ),
            "verify_form": forms.VerifyRectificationForm(
                initial={"version": found.version, "accepted": "1"}
            ),
            **_perms(actor),
        },
    )


@requires(Action.SUPERVISION_VIEW)
@require_http_methods(["GET", "POST"])
def discipline(request: HttpRequest) -> HttpResponse:
    actor = request.user
    may = can(actor, Action.SUPERVISION_DISCIPLINE)
    case_form = forms.CaseForm(request.POST if "evidence" in request.POST else None, actor=actor)
    commend_form = forms.CommendForm(
        request.POST if "reason" in request.POST else None, actor=actor
    )
    if request.method == "POST":
        if not may:
            raise Http404
        try:
            if "evidence" in request.POST and case_form.is_valid():
                data = case_form.cleaned_data
                services.open_case(
                    actor=actor,
                    region_code=data["region_code"],
                    person_name=data["person_name"],
                    post=data["post"],
                    offence_id=data["offence"].pk,
                    evidence=data["evidence"],
                )
                messages.success(request, "已立案")
                return redirect("supervision:discipline")
            if "reason" in request.POST and commend_form.is_valid():
                services.commend(actor=actor, **commend_form.cleaned_data)
                messages.success(request, "已登记表彰")
                return redirect("supervision:discipline")
            if "decision" in request.POST and request.POST.get("case", "").isdigit():
                decide = forms.DecideForm(request.POST)
                if decide.is_valid():
                    services.decide_case(
                        actor=actor, case_id=int(request.POST["case"]), **decide.cleaned_data
                    )
                    messages.success(request, "处理决定已记录")
                return redirect("supervision:discipline")
        except (ValidationFailed, VersionConflict) as exc:
            _say(request, exc)
    cases = list(services.cases_in_scope(actor)[:100])
    commendations = list(jurisdiction.scope(Commendation.objects.all(), actor)[:50])
    _label(cases + commendations)
    return render(
        request,
        "supervision/discipline.html",
        {
            "cases": cases,
            "commendations": commendations,
            "case_form": case_form if may else None,
            "commend_form": commend_form if may else None,
            "decisions": [c for c in Decision.choices if c[0] != Decision.PENDING],
            **_perms(actor),
        },
    )


@requires(Action.SUPERVISION_VIEW)
@require_GET
def bulletin(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = forms.PeriodForm(
        request.GET or None, initial={"start": today - dt.timedelta(days=7), "end": today}
    )
    if request.GET and form.is_valid():
        data = documents.bulletin(
            request.user, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        response = HttpResponse(
            data,
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
        name = (
            f"bulletin-{form.cleaned_data['start']:%Y%m%d}-{form.cleaned_data['end']:%Y%m%d}.docx"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "supervision/bulletin.html", {"form": form})


@requires(Action.SUPERVISION_VIEW)
@require_http_methods(["GET", "POST"])
def video_checks(request: HttpRequest) -> HttpResponse:
    """Video spot-checks of village secretaries: the standard questions, right or wrong."""
    actor = request.user
    may = can(actor, Action.SUPERVISION_INSPECT)
    form = forms.VideoCheckForm(
        request.POST or None, actor=actor, initial={"called_at": timezone.now()}
    )
    questions = [
        (request.POST.get(f"q{n}", q) if request.method == "POST" else q, f"q{n}", f"r{n}")
        for n, q in enumerate(services.STANDARD_QUESTIONS)
    ]
    if request.method == "POST":
        if not may:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_video_check(
                    actor=actor,
                    answers=[(q, request.POST.get(r) == "1") for q, _name, r in questions],
                    **data,
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                messages.success(request, "抽查结果已记录")
                return redirect("supervision:video")
    checks = list(jurisdiction.scope(VideoCheck.objects.all(), actor)[:100])
    _label(checks)
    return render(
        request,
        "supervision/video.html",
        {"checks": checks, "form": form if may else None, "questions": questions},
    )
