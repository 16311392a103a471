"""Pages of contact tracing: thin glue between forms, selectors and services.

The same rules as the API: a role without the action gets 403, a record outside the
jurisdiction 404 (:func:`fangkong.core.permissions.requires` declares each page's actions,
turns the services' exceptions into those pages and audits them).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import isolation
from fangkong.core.errors import ValidationFailed, VersionConflict
from fangkong.core.permissions import require, requires
from fangkong.core.roles import Action, can

from . import exports, linelist, selectors, services, tasks
from .forms import (
    AcceptForm,
    CaseForm,
    ContactForm,
    EventForm,
    ImportForm,
    ResultForm,
    TimelineForm,
    apply_errors,
)
from .models import CaseStatus, NoticeStatus

CHANNEL = "web"


def _can_order_isolation(user: object) -> bool:
    return isolation.available() and can(user, "quarantine.manage")


def _filters(request: HttpRequest) -> selectors.CaseFilters:
    import datetime as dt

    def day(name: str):
        try:
            return dt.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    region = request.GET.get("region", "")
    return selectors.CaseFilters(
        status=request.GET.get("status", "")
        if request.GET.get("status", "") in CaseStatus.values
        else "",
        region_code=region if region.isdigit() and len(region) <= 15 else "",
        date_from=day("from"),
        date_to=day("to"),
    )


@requires(Action.TRACING_VIEW)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Action.TRACING_VIEW)
    return render(
        request,
        "tracing/home.html",
        {
            "cases": selectors.list_cases(user, _filters(request), limit=100),
            "my_cases": selectors.my_open_cases(user),
            "unreached": selectors.unreached(user),
            "tasks": selectors.open_tasks(user),
            "inbox": [
                n
                for n in selectors.notices(user, box="in")
                if n["status"] in (NoticeStatus.SENT, NoticeStatus.RECEIVED)
            ],
            "workload": selectors.workload(user),
            "teams": selectors.teams(user),
            "can_investigate": can(user, Action.TRACING_INVESTIGATE),
            "can_reach": can(user, Action.TRACING_REACH),
            "can_manage": can(user, Action.TRACING_MANAGE),
            "can_order_isolation": _can_order_isolation(user),
            "statuses": CaseStatus.choices,
        },
    )


@requires(Action.TRACING_INVESTIGATE)
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.TRACING_INVESTIGATE)
    form = CaseForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.record_case(
                user=request.user,
                data=services.CaseInput(
                    **{
                        **form.cleaned_data,
                        "name": form.cleaned_data["name"] or "",
                        "region_code": form.cleaned_data["region_code"] or "",
                    }
                ),
                channel=CHANNEL,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The case was recorded"))
            return redirect("tracing:case_detail", case.pk)
    return render(request, "tracing/case_form.html", {"form": form})


@requires(Action.TRACING_VIEW)
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = selectors.get_case(user, case_id)
    contacts = selectors.contacts_of_case(user, case)
    return render(
        request,
        "tracing/case_detail.html",
        {
            "case": case,
            "contacts": contacts,
            "pending_isolation": sum(
                1 for c in contacts if c["person_id"] and not c["isolation"].get("ordered")
            ),
            "can_order_isolation": _can_order_isolation(user),
            "timeline": case.timeline.all(),
            "timeline_form": TimelineForm(),
            "contact_form": ContactForm(actor=user),
            "can_investigate": can(user, Action.TRACING_INVESTIGATE),
            "can_reach": can(user, Action.TRACING_REACH),
            "statuses": CaseStatus.choices,
        },
    )


@requires(Action.TRACING_INVESTIGATE)
@require_POST
def case_status(request: HttpRequest, case_id: int) -> HttpResponse:
    require(request.user, Action.TRACING_INVESTIGATE)
    status = request.POST.get("status", "")
    try:
        version = int(request.POST.get("version", "0"))
        services.change_case_status(
            user=request.user, case_id=case_id, version=version, status=status, channel=CHANNEL
        )
    except (ValueError, ValidationFailed) as exc:
        messages.error(request, str(exc))
    except VersionConflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Status changed; contacts were reclassified"))
    return redirect("tracing:case_detail", case_id)


@requires(Action.TRACING_INVESTIGATE)
@require_POST
def case_timeline(request: HttpRequest, case_id: int) -> HttpResponse:
    require(request.user, Action.TRACING_INVESTIGATE)
    selectors.get_case(request.user, case_id)  # 404 before any word about the input
    form = TimelineForm(request.POST)
    if form.is_valid():
        try:
            services.add_timeline_entry(user=request.user, case_id=case_id, **form.cleaned_data)
        except ValidationFailed as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("Check the timeline entry"))
    return redirect("tracing:case_detail", case_id)


@requires(Action.TRACING_INVESTIGATE)
@require_POST
def case_contact(request: HttpRequest, case_id: int) -> HttpResponse:
    require(request.user, Action.TRACING_INVESTIGATE)
    selectors.get_case(request.user, case_id)  # 404 before any word about the input
    form = ContactForm(request.POST, actor=request.user)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return redirect("tracing:case_detail", case_id)
    data = form.cleaned_data
    elsewhere = None
    if data["elsewhere_name"]:
        elsewhere = services.ElsewhereContact(
            name=data["elsewhere_name"],
            phone=data["elsewhere_phone"],
            region_code=selectors.region_named(data["elsewhere_destination"]),
            destination=data["elsewhere_destination"],
        )
    try:
        outcome = services.record_contact(
            user=request.user,
            case_id=case_id,
            exposure_type=data["exposure_type"],
            contact_person_id=data["contact_person_id"],
            elsewhere=elsewhere,
            last_exposure_date=data["last_exposure_date"],
            channel=CHANNEL,
        )
    except ValidationFailed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("A notice was sent to the region where the contact lives")
            if outcome.notice
            else _("The contact was recorded; contacts were reclassified"),
        )
    return redirect("tracing:case_detail", case_id)


@requires(Action.TRACING_INVESTIGATE)
@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.TRACING_INVESTIGATE)
    form = EventForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        pairs = form.attendee_pairs()
        if pairs is not None:
            data = {
                k: v for k, v in form.cleaned_data.items() if k not in ("attendees", "probable")
            }
            try:
                services.record_event(
                    user=request.user,
                    data=services.EventInput(**data, attendees=pairs),
                    channel=CHANNEL,
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The event was recorded"))
                return redirect("tracing:home")
    return render(request, "tracing/event_form.html", {"form": form})


@requires(Action.TRACING_REACH)
@require_POST
def task_reached(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        services.mark_reached(
            user=request.user, task_id=task_id, note=request.POST.get("note", "")[:200]
        )
    except ValidationFailed as exc:
        messages.error(request, str(exc))
    return redirect(
        request.POST.get("next")
        if request.POST.get("next", "").startswith("/tracing/")
        else "tracing:home"
    )


@requires(Action.TRACING_VIEW, Action.QUARANTINE_MANAGE)
@require_POST
def isolation_handover(request: HttpRequest) -> HttpResponse:
    """Order the isolation the policy requires (start at the last exposure, required tests)
    for every contact without one: of one case (``case``), or of the whole area."""
    case_id = request.POST.get("case", "")
    if case_id.isdigit():
        case = selectors.get_case(request.user, int(case_id))
        made = services.order_required_isolation(
            user=request.user, channel=CHANNEL, case_id=case.pk
        )
    else:
        made = services.order_required_isolation(user=request.user, channel=CHANNEL)
    messages.success(request, _("Isolation ordered for %(n)s contacts") % {"n": made})
    if case_id.isdigit():
        return redirect("tracing:case_detail", int(case_id))
    return redirect("tracing:home")


@requires(Action.TRACING_VIEW)
@require_GET
def chains(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.TRACING_VIEW)
    filters = _filters(request)
    # The page's own filter names, translated once into the API's for the graph request.
    api_query = urlencode(
        {
            key: value
            for key, value in (
                ("region_code", filters.region_code),
                ("date_from", filters.date_from.isoformat() if filters.date_from else ""),
                ("date_to", filters.date_to.isoformat() if filters.date_to else ""),
            )
            if value
        }
    )
    return render(
        request,
        "tracing/chains.html",
        {
            "query": request.GET.urlencode(),
            "api_query": api_query,
            "filters": filters,
            "attack_rates": selectors.event_attack_rates(request.user),
            "can_export": can(request.user, Action.TRACING_EXPORT),
            "statuses": CaseStatus.choices,
        },
    )


@requires(Action.TRACING_EXPORT)
@require_GET
def chains_xlsx(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.TRACING_EXPORT)
    content = exports.chain_workbook(request.user, _filters(request), channel=CHANNEL)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="chains.xlsx"'
    return response


@requires(Action.TRACING_VIEW)
@require_GET
def notices(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.TRACING_VIEW)
    return render(
        request,
        "tracing/notices.html",
        {
            "inbox": selectors.notices(request.user, box="in"),
            "outbox": selectors.notices(request.user, box="out"),
        },
    )


@requires(Action.TRACING_VIEW)
@require_http_methods(["GET", "POST"])
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    user = request.user
    notice = selectors.get_notice(user, notice_id)
    accept_form = AcceptForm(actor=user)
    result_form = ResultForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "receive":
                services.mark_notice_received(user=user, notice_id=notice_id)
            elif action == "accept":
                accept_form = AcceptForm(request.POST, actor=user)
                if accept_form.is_valid():
                    services.accept_notice(
                        user=user, notice_id=notice_id, channel=CHANNEL, **accept_form.cleaned_data
                    )
            elif action == "result":
                result_form = ResultForm(request.POST)
                if result_form.is_valid():
                    services.record_notice_result(
                        user=user, notice_id=notice_id, **result_form.cleaned_data
                    )
        except ValidationFailed as exc:
            messages.error(request, str(exc))
        else:
            return redirect("tracing:notice_detail", notice_id)
    shown = selectors.present_notice(user, notice)
    return render(
        request,
        "tracing/notice_detail.html",
        {
            "notice": shown,
            "accept_form": accept_form,
            "result_form": result_form,
            "can_handle": can(user, Action.TRACING_NOTICES),
        },
    )


@requires(Action.TRACING_MANAGE)
@require_http_methods(["GET", "POST"])
def line_list_import(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.TRACING_MANAGE)
    form = ImportForm(request.POST or None, request.FILES or None, actor=request.user)
    summary = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")) or upload.size > 20 * 2**20:
            form.add_error("file", _("Upload an .xlsx or .csv file of at most 20 MB"))
        elif upload.size > tasks.SYNC_LIMIT_BYTES:
            try:
                record = tasks.enqueue_line_list_import(
                    user=request.user, upload=upload, region_code=form.cleaned_data["region_code"]
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.info(request, _("The file is large: it is imported in the background."))
                return redirect("web:task_detail", record.pk)
        else:
            try:
                summary = linelist.import_line_list(
                    user=request.user,
                    content=upload.read(),
                    filename=upload.name,
                    region_code=form.cleaned_data["region_code"],
                    channel=CHANNEL,
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
    return render(request, "tracing/import.html", {"form": form, "summary": summary})
