"""Pages of screening: risk areas, policies and current decisions; ledger templates, upload
with progress and errors, exports.

Thin glue: forms parse, selectors read (scoped by jurisdiction), services and
:mod:`.ledgers` decide and write.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.errors import PermissionDenied, ValidationFailed
from fangkong.core.roles import Action, can
from fangkong.web.forms import apply_errors
from fangkong.web.views import service_errors

from . import ledgers, omissions, reconciliation, selectors
from .forms import LedgerUploadForm
from .models import LedgerImport, LedgerKind

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
