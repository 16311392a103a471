"""Pages of the command layer: the situation board (home of the county HQ, township and
village), daily and zero reports, self-inspection findings, the problems list and the Word
reports. Thin glue: services decide and write."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import figures, inspection, jurisdiction, ui
from fangkong.core.errors import ValidationFailed, VersionConflict
from fangkong.core.models import Region
from fangkong.core.permissions import requires
from fangkong.core.roles import Action, can

from . import charts, documents, services
from .models import Document, DocumentKind, ProblemStatus, Template

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _fail(request: HttpRequest, exc: ValidationFailed | VersionConflict) -> None:
    if isinstance(exc, VersionConflict):
        messages.error(request, "该记录已被他人修改，请刷新后重试")
        return
    for error in exc.errors or []:
        messages.error(request, error.message)
    if not exc.errors:
        messages.error(request, exc.detail)


def _perms(user: Any) -> dict[str, bool]:
    return {
        "can_daily": can(user, Action.REPORTS_DAILY),
        "can_inspect": can(user, Action.REPORTS_INSPECT),
        "can_problems": can(user, Action.REPORTS_PROBLEMS),
        "can_documents": can(user, Action.REPORTS_DOCUMENTS),
        "can_settings": can(user, Action.REPORTS_SETTINGS),
    }


# -- board ---------------------------------------------------------------------------------


@requires(Action.REPORTS_BOARD)
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The situation board of the user's area or of a region below (by name or code)."""
    b = services.board(request.user, request.GET.get("region", "").strip())
    keys = [c.key for c in b.cards]
    chosen = request.GET.get("figure", "")
    if chosen not in keys:
        chosen = "quarantine.home" if "quarantine.home" in keys else (keys[0] if keys else "")
    chosen_label = next((c.label for c in b.cards if c.key == chosen), "")
    bar_rows = [(name, vals.get(chosen, 0)) for _, name, vals in b.children]
    cards = [(c, charts.trend(c.trend, label=f"{c.label}近14天")) for c in b.cards]
    return render(
        request,
        "reports/board.html",
        {
            "b": b,
            "cards": cards,
            "chosen": chosen,
            "chosen_label": chosen_label,
            "bars": charts.bars(bar_rows, label=f"{chosen_label}分布"),
            "child_keys": b.cards[:8],
            "child_rows": [
                (code, name, [vals.get(c.key, 0) for c in b.cards[:8]])
                for code, name, vals in b.children
            ],
            **_perms(request.user),
        },
    )


@requires(Action.REPORTS_INSPECT)
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    services.refresh()
    messages.success(request, "数字已刷新")
    return redirect(request.POST.get("next") or "reports:board")


# -- daily reports -------------------------------------------------------------------------


def _day(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


@requires(Action.REPORTS_BOARD)
@require_GET
def daily(request: HttpRequest) -> HttpResponse:
    """Who has and has not reported today (the township sees its villages, the county its
    townships), and the link to one's own report."""
    code = services.resolve_region(request.user, request.GET.get("region", "").strip())
    day = _day(request)
    units = services.status_of_units(request.user, code, day)
    own = services.get_report(request.user, code, day)
    return render(
        request,
        "reports/daily.html",
        {
            "code": code,
            "name": Region.objects.filter(code=code).values_list("name", flat=True).first(),
            "day": day,
            "units": units,
            "done": sum(1 for u in units if u.report),
            "missing": sum(1 for u in units if not u.report),
            "own": own,
            "deadline": services.deadline_for(code, day),
            **_perms(request.user),
        },
    )


class ReportForm(forms.Form):
    situation = forms.CharField(
        label="新情况", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    problems = forms.CharField(
        label="存在问题", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    requests = forms.CharField(
        label="请求事项", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


@requires(Action.REPORTS_BOARD)
@require_http_methods(["GET", "POST"])
def daily_form(request: HttpRequest, code: str) -> HttpResponse:
    """One area's daily report: the figures from the data, each correctable with a reason;
    or a zero report; and the narrative."""
    return _daily_page(request, code, _day(request), own=False)


@requires(Action.REPORTS_BOARD)
@require_http_methods(["GET", "POST"])
def own_daily_form(request: HttpRequest) -> HttpResponse:
    """Today's report of the user's own unit at one fixed address: the page the field app
    keeps for offline use (``fangkong.web.field``), where a village reporter files the zero
    report with no signal (``reports/field.js``)."""
    return _daily_page(request, services.own_unit(request.user), timezone.localdate(), own=True)


def _daily_page(request: HttpRequest, code: str, day: dt.date, *, own: bool) -> HttpResponse:
    user = request.user
    data = services.draft_figures(user, code, day)
    report = services.get_report(user, code, day)
    form = ReportForm(
        request.POST or None,
        initial=report
        and {
            "situation": report.situation,
            "problems": report.problems,
            "requests": report.requests,
        },
    )
    if request.method == "POST" and form.is_valid():
        corrections: dict[str, tuple[int, str]] = {}
        for f in services.report_figures():
            raw = request.POST.get(f"value_{f.key}", "").strip()
            if raw == "":
                continue
            try:
                value = int(raw.replace(",", ""))
            except ValueError:
                messages.error(request, f"“{f.label}”须填整数")
                break
            corrections[f.key] = (value, request.POST.get(f"reason_{f.key}", ""))
        else:
            try:
                version = int(request.POST.get("version") or 0) or None
                services.submit_report(
                    user,
                    region_code=code,
                    day=day,
                    zero=request.POST.get("zero") == "1",
                    corrections=corrections,
                    situation=form.cleaned_data["situation"],
                    problems_text=form.cleaned_data["problems"],
                    requests=form.cleaned_data["requests"],
                    version=version,
                )
            except (ValidationFailed, VersionConflict) as exc:
                _fail(request, exc)
            else:
                messages.success(request, "日报已报送")
                return redirect(request.path if own else f"{request.path}?day={day}")
    rows = []
    for f in services.report_figures():
        value = report.value(f.key) if report else data.get(f.key, 0)
        correction = report.corrections.get(f.key) if report else None
        rows.append(
            {"figure": f, "data": data.get(f.key, 0), "value": value, "correction": correction}
        )
    flows_zero = all(
        data.get(f.key, 0) == 0 for f in services.report_figures() if f.kind == figures.FLOW
    )
    return render(
        request,
        "reports/daily_form.html",
        {
            "code": code,
            "name": Region.objects.filter(code=code).values_list("name", flat=True).first(),
            "day": day,
            "rows": rows,
            "report": report,
            "form": form,
            "rollup": len(code) < 12,
            "flows_zero": flows_zero,
            "can_file": can(user, Action.REPORTS_DAILY) and code in jurisdiction.user_codes(user),
            "is_today": day == timezone.localdate(),
            **_perms(user),
        },
    )


# -- self-inspection -----------------------------------------------------------------------


@requires(Action.REPORTS_BOARD)
@require_GET
def inspection_page(request: HttpRequest) -> HttpResponse:
    rows = services.findings(request.user, region=request.GET.get("region", ""))
    rule = request.GET.get("rule", "")
    if rule:
        rows = rows.filter(rule=rule)
    page = ui.page_of(request, rows, per_page=50)
    labels = {r.key: str(r.label) for r in inspection.rules()}
    names = _names(f.region_code for f in page.items)
    counts = services.aspect_counts(services.findings(request.user))
    return render(
        request,
        "reports/inspection.html",
        {
            "page": page,
            "labels": labels,
            "aspects": dict(inspection.Aspect.choices),
            "counts": counts,
            "rules": inspection.rules(),
            "rule": rule,
            "rows": [
                (f, names.get(f.region_code, ""), labels.get(f.rule, f.rule)) for f in page.items
            ],
            **_perms(request.user),
        },
    )


def _names(codes: Any) -> dict[str, str]:
    from fangkong.core.regions import region_labels

    return region_labels(set(codes))


@requires(Action.REPORTS_INSPECT)
@require_POST
def inspection_run(request: HttpRequest) -> HttpResponse:
    prefix = services.home_region(request.user)
    run = services.run_inspection(prefix, by=request.user)
    messages.success(request, f"排查完成：发现问题{run.findings}个")
    return redirect("reports:inspection")


# -- problems ------------------------------------------------------------------------------


class ProblemForm(ui.ActorForm):
    region_code = ui.RegionPickerField(
        label="地区", levels=("township", "village", "grid"), allow_above=True
    )
    aspect = forms.ChoiceField(label="方面", choices=inspection.Aspect.choices)
    title = forms.CharField(label="问题", max_length=300)
    detail = forms.CharField(
        label="详情", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = ui.DateTimeLocalField(label="整改时限", required=False)
    evidence = forms.FileField(label="照片或文件", required=False)


@requires(Action.REPORTS_BOARD)
@require_http_methods(["GET", "POST"])
def problem_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = (
        ProblemForm(request.POST or None, request.FILES or None, actor=user)
        if can(user, Action.REPORTS_PROBLEMS)
        else None
    )
    if request.method == "POST":
        if form is None:
            from fangkong.core.errors import PermissionDenied

            raise PermissionDenied("problems")
        if form.is_valid():
            try:
                problem = services.create_problem(
                    user,
                    region_code=form.cleaned_data["region_code"],
                    aspect=form.cleaned_data["aspect"],
                    title=form.cleaned_data["title"],
                    detail=form.cleaned_data["detail"],
                    deadline=form.cleaned_data["deadline"],
                    files=request.FILES.getlist("evidence"),
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                messages.success(request, "问题已列入清单")
                return redirect("reports:problem", problem.pk)
    rows = services.problems_visible(user)
    status = request.GET.get("status", "open")
    if status == "open":
        rows = rows.exclude(status=ProblemStatus.CLOSED)
    elif status in ProblemStatus.values:
        rows = rows.filter(status=status)
    aspect = request.GET.get("aspect", "")
    if aspect:
        rows = rows.filter(aspect=aspect)
    page = ui.page_of(request, rows.order_by("aspect", "deadline"), per_page=50)
    names = _names(p.region_code for p in page.items)
    return render(
        request,
        "reports/problems.html",
        {
            "page": page,
            "form": form,
            "status": status,
            "aspect": aspect,
            "counts": services.aspect_counts(
                services.problems_visible(user).exclude(status=ProblemStatus.CLOSED)
            ),
            "rows": [(p, names.get(p.region_code, "")) for p in page.items],
            "aspects": dict(inspection.Aspect.choices),
            **_perms(user),
        },
    )


@requires(Action.REPORTS_BOARD)
@require_http_methods(["GET", "POST"])
def problem_detail(request: HttpRequest, problem_id: int) -> HttpResponse:
    user = request.user
    problem = services.get_problem(user, problem_id)
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", "0") or 0)
            if request.POST.get("action") == "rectify":
                services.rectify(
                    user,
                    problem_id,
                    text=request.POST.get("text", ""),
                    next_steps=request.POST.get("next_steps", ""),
                    version=version,
                    files=request.FILES.getlist("evidence"),
                )
                messages.success(request, "整改情况已报告，待上级确认")
            elif request.POST.get("action") in ("accept", "reject"):
                services.confirm(
                    user,
                    problem_id,
                    accept=request.POST["action"] == "accept",
                    note=request.POST.get("note", ""),
                    version=version,
                )
                messages.success(request, "已处理")
        except (ValidationFailed, VersionConflict) as exc:
            _fail(request, exc)
        return redirect("reports:problem", problem_id)
    return render(
        request,
        "reports/problem.html",
        {
            "p": problem,
            "region": _names([problem.region_code]).get(problem.region_code, ""),
            "evidence": problem.evidence.all(),
            "can_rectify": can(user, Action.REPORTS_PROBLEMS)
            and problem.status == ProblemStatus.OPEN,
            "can_confirm": services.can_confirm(user, problem)
            and problem.status == ProblemStatus.RECTIFIED,
            "aspects": dict(inspection.Aspect.choices),
        },
    )


@requires(Action.REPORTS_BOARD)
@require_GET
def evidence_file(request: HttpRequest, problem_id: int, evidence_id: int) -> HttpResponse:
    from django.http import FileResponse, Http404

    problem = services.get_problem(request.user, problem_id)
    item = problem.evidence.filter(pk=evidence_id).first()
    if item is None:
        raise Http404
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name)


# -- documents -----------------------------------------------------------------------------


@requires(Action.REPORTS_BOARD)
@require_http_methods(["GET", "POST"])
def document_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST" and request.POST.get("action") in (
        "template",
        "deadline",
        "untemplate",
    ):
        return _settings_post(request)
    if request.method == "POST":
        documents_ok = can(user, Action.REPORTS_DOCUMENTS)
        if not documents_ok:
            from fangkong.core.errors import PermissionDenied

            raise PermissionDenied("documents")
        try:
            doc = documents.generate(
                user, request.POST.get("kind", ""), request.POST.get("region", "")
            )
        except ValidationFailed as exc:
            _fail(request, exc)
            return redirect("reports:documents")
        return redirect("reports:document", doc.pk)
    rows = jurisdiction.scope(Document.objects.defer("content"), user).select_related("made_by")[
        :100
    ]
    county = services.home_region(user)[:6]
    return render(
        request,
        "reports/documents.html",
        {
            "rows": rows,
            "kinds": DocumentKind.choices,
            "templates": Template.objects.filter(county_code=county).defer("content"),
            "placeholders": [
                (DocumentKind(k).label, ["{{" + n + "}}" for n in v])
                for k, v in documents.PLACEHOLDERS.items()
            ],
            "deadline": services.deadline_for(county, timezone.localdate()),
            **_perms(user),
        },
    )


def _settings_post(request: HttpRequest) -> HttpResponse:
    """The county's deadline and its own Word templates (errors reported, never a 500)."""
    from fangkong.core.errors import PermissionDenied

    user = request.user
    if not can(user, Action.REPORTS_SETTINGS):
        raise PermissionDenied("settings")
    action = request.POST["action"]
    try:
        if action == "deadline":
            try:
                at = dt.time.fromisoformat(request.POST.get("deadline", ""))
            except ValueError:
                raise ValidationFailed([ui_error("deadline", "报送时限格式应为 HH:MM")]) from None
            services.set_deadline(user, services.home_region(user)[:6], at)
            messages.success(request, f"日报报送时限已设为 {at:%H:%M}")
        elif action == "untemplate":
            documents.remove_template(user, request.POST.get("kind", ""))
            messages.success(request, "已恢复使用内置模板")
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed([ui_error("file", "请选择.docx模板文件")])
            if upload.size > documents.MAX_TEMPLATE:
                raise ValidationFailed([ui_error("file", "模板文件不能超过5 MB")])
            documents.upload_template(
                user, request.POST.get("kind", ""), upload.name, upload.read()
            )
            messages.success(request, "模板已上传")
    except ValidationFailed as exc:
        _fail(request, exc)
    return redirect("reports:documents")


def ui_error(field: str, message: str) -> Any:
    from fangkong.core.errors import FieldError

    return FieldError(field, message)


@requires(Action.REPORTS_BOARD)
@require_GET
def document_download(request: HttpRequest, document_id: int) -> HttpResponse:
    doc = documents.get_document(request.user, document_id)
    response = HttpResponse(bytes(doc.content), content_type=DOCX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(doc.title)}.docx"
    return response


# -- dispatch log --------------------------------------------------------------------------


class MeetingForm(ui.ActorForm):
    held_on = forms.DateField(label="日期", widget=ui.DateInput())
    chair = forms.CharField(label="主持人", max_length=64)
    attendees = forms.CharField(label="参会人员", required=False, max_length=500)
    summary = forms.CharField(
        label="研判情况", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    text_1 = forms.CharField(label="调度事项一", required=False, max_length=500)
    region_1 = ui.RegionPickerField(
        label="承办地区", required=False, levels=("township", "village"), allow_above=True
    )
    deadline_1 = ui.DateTimeLocalField(label="完成时限", required=False)
    text_2 = forms.CharField(label="调度事项二", required=False, max_length=500)
    region_2 = ui.RegionPickerField(
        label="承办地区", required=False, levels=("township", "village"), allow_above=True
    )
    deadline_2 = ui.DateTimeLocalField(label="完成时限", required=False)


@requires(Action.REPORTS_BOARD)
@require_http_methods(["GET", "POST"])
def dispatch(request: HttpRequest) -> HttpResponse:
    """The dispatch log: decisions to carry out (with their completion reports) and, for
    those who hold meetings, the form to record one."""
    user = request.user
    form = None
    if can(user, Action.REPORTS_DISPATCH):
        form = MeetingForm(
            request.POST or None, actor=user, initial={"held_on": timezone.localdate()}
        )
    if request.method == "POST" and request.POST.get("action") == "done":
        try:
            services.complete_decision(
                user,
                int(request.POST.get("decision", "0") or 0),
                report=request.POST.get("report", ""),
                version=int(request.POST.get("version", "0") or 0),
            )
            messages.success(request, "完成情况已报告")
        except (ValidationFailed, VersionConflict) as exc:
            _fail(request, exc)
        return redirect("reports:dispatch")
    if request.method == "POST":
        if form is None:
            from fangkong.core.errors import PermissionDenied

            raise PermissionDenied("dispatch")
        if form.is_valid():
            data = form.cleaned_data
            decisions = [
                services.DecisionInput(
                    text=data[f"text_{n}"],
                    region_code=data[f"region_{n}"],
                    deadline=data[f"deadline_{n}"] or timezone.now() + dt.timedelta(days=1),
                )
                for n in (1, 2)
                if data.get(f"text_{n}") and data.get(f"region_{n}")
            ]
            try:
                services.record_meeting(
                    user,
                    region_code=services.home_region(user),
                    held_on=data["held_on"],
                    chair=data["chair"],
                    attendees=data["attendees"],
                    summary=data["summary"],
                    decisions=decisions,
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                messages.success(request, "调度会已记录，任务已交办")
                return redirect("reports:dispatch")
    rows = list(services.decisions_visible(user)[:200])
    names = _names(d.region_code for d in rows)
    return render(
        request,
        "reports/dispatch.html",
        {
            "rows": [(d, names.get(d.region_code, "")) for d in rows],
            "form": form,
            "can_report": can(user, Action.REPORTS_DAILY),
            **_perms(user),
        },
    )
