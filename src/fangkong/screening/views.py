"""Pages of screening: risk areas, policies and current decisions; ledger templates, upload
with progress and errors, exports; the reconciliation review (candidate pairs confirmed or
rejected by a person) and the grid worker's visit form.

Thin glue: forms parse, selectors read (scoped by jurisdiction), services and
:mod:`.ledgers` decide and write.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core.errors import PermissionDenied, ValidationFailed
from fangkong.core.masking import visible_fields
from fangkong.core.roles import Action, can
from fangkong.web.forms import apply_errors
from fangkong.web.views import service_errors

from . import ledgers, omissions, reconciliation, selectors, visits
from .forms import LedgerUploadForm, VisitForm
from .models import LedgerImport, LedgerKind, VisitTask

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHANNEL = "web"


def _xlsx(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    return response


@login_required
@require_GET
@service_errors
def home(request: HttpRequest) -> HttpResponse:
    """Risk areas in force, the policies that apply, the current decisions, the police and
    village lists compared per village, and the omission ledger."""
    user = request.user
    today = timezone.localdate()
    items = list(selectors.decisions(user).exclude(measure="none")[:50])
    return render(request, "screening/home.html", {
        "areas": selectors.risk_areas(user, active_on=today)[:200],
        "policies": selectors.policies(user).order_by("region_code", "-version")[:5],
        "decisions": selectors.present_decisions(user, items, channel=CHANNEL,
                                                 request=request),
        "gaps": reconciliation.gaps(user),
        "to_check": reconciliation.candidates(user).count(),
        "omissions": omissions.ledger(user),
        "can_import": can(user, Action.LEDGER_IMPORT),
        "can_export": can(user, Action.LEDGER_EXPORT),
        "kinds": LedgerKind.choices,
    })  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a ledger: it is stored and imported in the background."""
    if not can(request.user, Action.LEDGER_IMPORT):
        raise PermissionDenied(Action.LEDGER_IMPORT)
    form = LedgerUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ledger = ledgers.upload(user=request.user, kind=data["kind"], mode=data["mode"],
                                    source=data["source"], file_name=data["file"].name[:200],
                                    chunks=data["file"].chunks())  # fmt: skip
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return redirect("screening:import", ledger.pk)
    return render(request, "screening/upload.html", {"form": form,
                                                      "kinds": LedgerKind.choices})


@login_required
@require_GET
@service_errors
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    ledger = ledgers.get_import(request.user, import_id)
    return render(request, "screening/import.html", {
        "ledger": ledger, "task": ledger.task, "errors": ledger.errors[:500],
        "finished": ledger.status != LedgerImport.Status.QUEUED,
    })  # fmt: skip


@login_required
@require_GET
@service_errors
def import_errors(request: HttpRequest, import_id: int) -> HttpResponse:
    ledger = ledgers.get_import(request.user, import_id)
    return _xlsx(ledgers.error_report(ledger), f"错误报告-{ledger.file_name}.xlsx")


@login_required
@require_GET
@service_errors
def template(request: HttpRequest, kind: str) -> HttpResponse:
    if not can(request.user, Action.LEDGER_IMPORT):
        raise PermissionDenied(Action.LEDGER_IMPORT)
    if kind not in LedgerKind.values:
        return HttpResponse(status=404)
    return _xlsx(ledgers.template(kind), f"{ledgers.TITLES[kind]}模板.xlsx")


@login_required
@require_GET
@service_errors
def export(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in LedgerKind.values:
        return HttpResponse(status=404)
    content = ledgers.export(user=request.user, kind=kind, channel=CHANNEL,
                             region_code=(request.GET.get("region_code") or "")[:15] or None)
    return _xlsx(content, f"{ledgers.TITLES[kind]}.xlsx")


PAIRS_SHOWN = 100


@login_required
@require_GET
@service_errors
def reconciliation_page(request: HttpRequest) -> HttpResponse:
    """Entries linked automatically, the candidate pairs waiting for a person, and the
    police / village gaps per village."""
    user = request.user
    pending = reconciliation.candidates(user)
    pairs = list(pending[:PAIRS_SHOWN])
    return render(request, "screening/reconciliation.html", {
        "counts": reconciliation.link_counts(user),
        "pending": pending.count(),
        "pairs": reconciliation.present_pairs(user, pairs, channel=CHANNEL, request=request),
        "gaps": reconciliation.gaps(user),
        "can_decide": can(user, Action.SCREENING_EDIT),
    })  # fmt: skip


@login_required
@require_POST
@service_errors
def decide_pair(request: HttpRequest, pair_id: str, decision: str) -> HttpResponse:
    """Confirm or reject one pair. htmx swaps the pair's row for its outcome; without
    htmx the browser returns to the list."""
    error = ""
    try:
        pair = reconciliation.decide(user=request.user, pair_id=int(pair_id),
                                     accept=decision == "confirm", channel=CHANNEL)
    except ValidationFailed as exc:
        pair, error = None, "；".join(e.message for e in exc.errors) or exc.detail
    if request.htmx:
        return render(request, "screening/_pair_decided.html",
                      {"pair": pair, "error": error, "pair_id": pair_id})
    if error:
        messages.error(request, error)
    elif pair.status == pair.Status.CONFIRMED:
        messages.success(request, _("Confirmed: the entry is linked to the person."))
    else:
        messages.success(request, _("Rejected: this pair will not be proposed again."))
    return redirect("screening:reconciliation")


@login_required
@require_GET
@service_errors
def visit_list(request: HttpRequest) -> HttpResponse:
    """The visits the user should make or follow, open ones first, overdue ones marked."""
    user = request.user
    items = list(visits.tasks_for(user).filter(status=VisitTask.Status.OPEN)[:200])
    now = timezone.now()
    people = {t.person_id: selectors.present_person(user, t.person, channel=CHANNEL,
                                                    audited=False) for t in items}
    selectors.audit_person_reads(user, list(people), channel=CHANNEL, request=request)
    return render(request, "screening/visits.html", {
        "tasks": [{"task": t, "person": people[t.person_id], "overdue": t.due_at < now}
                  for t in items],
        "can_visit": can(user, Action.SCREENING_EDIT),
    })  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def visit_form(request: HttpRequest, task_id: int) -> HttpResponse:
    """Record one visit: at home, health, the phone confirmed, a note."""
    user = request.user
    if not can(user, Action.SCREENING_EDIT):
        raise PermissionDenied(Action.SCREENING_EDIT)
    task = visits.task(user, task_id)
    person = selectors.present_person(user, task.person, channel=CHANNEL, request=request)
    initial = {"phone": person["phone"]} if "phone" in visible_fields(user) else {}
    form = VisitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            visits.complete(user=user, task_id=task.pk, channel=CHANNEL,
                            **form.visit_arguments())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The visit to %(name)s is recorded.")
                             % {"name": task.person.name})
            return redirect("screening:visits")
    return render(request, "screening/visit_form.html", {
        "task": task, "person": person, "form": form,
        "overdue": task.status == VisitTask.Status.OPEN and task.due_at < timezone.now(),
    })  # fmt: skip
