"""Pages of screening: risk areas, policies and current decisions; ledger templates, upload
with progress and errors, exports; the reconciliation review (candidate pairs confirmed or
rejected by a person, the unregistered persons grouped across channels and registered),
the grid worker's visit form and the escalated visits the village or township follows.

Thin glue: forms parse, selectors read (scoped by jurisdiction), services and
:mod:`.ledgers` decide and write.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import isolation, jurisdiction, ui
from fangkong.core.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VersionConflict,
)
from fangkong.core.masking import visible_fields
from fangkong.core.models import Region
from fangkong.core.permissions import requires
from fangkong.core.regions import region_labels
from fangkong.core.roles import Action, can
from fangkong.web.forms import apply_errors
from fangkong.web.views import service_errors

from . import handoff, ledgers, omissions, reconciliation, selectors, services, visits
from .forms import LedgerUploadForm, PolicyForm, RiskAreaForm, VisitForm
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
    gaps, omitted = reconciliation.gaps(user), omissions.ledger(user)
    _name_villages([*gaps, *omitted])
    return render(
        request,
        "screening/home.html",
        {
            "areas": selectors.risk_areas(user, active_on=today)[:200],
            "policies": selectors.policies(user).order_by("region_code", "-version")[:5],
            "decisions": _with_order_links(
                user,
                items,
                selectors.present_decisions(user, items, channel=CHANNEL, request=request),
            ),
            "gaps": gaps,
            "to_check": reconciliation.candidates(user).count(),
            "escalated": visits.escalated(user).count(),
            "omissions": omitted,
            "can_rules": can(user, Action.SCREENING_RULES),
            "can_import": can(user, Action.LEDGER_IMPORT),
            "can_export": can(user, Action.LEDGER_EXPORT),
            "kinds": LedgerKind.choices,
        },
    )


def _name_villages(rows: list[dict]) -> None:
    """Give each per-village row the village's name (one query for all of them)."""
    codes = {row["region_code"] for row in rows}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    for row in rows:
        row["name"] = names.get(row["region_code"], "")


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def risk_area_create(request: HttpRequest) -> HttpResponse:
    """Add a risk area announced by a notice; the county's decisions are re-evaluated."""
    user = request.user
    services.require(user, Action.SCREENING_RULES)
    form = RiskAreaForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.create_risk_areas(
                user=user, areas=[services.RiskAreaInput(**form.service_data())], channel=CHANNEL
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("The risk area is added; decisions are being re-evaluated.")
            )
            return redirect("screening:home")
    return render(request, "screening/risk_area_form.html", {"form": form, "area": None})


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def risk_area_edit(request: HttpRequest, area_id: int) -> HttpResponse:
    """Change a risk area (typically: lift it). A stale version is shown as a conflict."""
    user = request.user
    services.require(user, Action.SCREENING_RULES)
    area = selectors.risk_area(user, area_id)
    initial = {
        name: getattr(area, name)
        for name in ("region_code", "place", "level", "valid_from", "valid_to", "notice", "version")
    }
    form = RiskAreaForm(request.POST or None, initial=initial, editing=True)
    conflict = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.update_risk_area(
                user=user,
                area_id=area.pk,
                version=form.cleaned_data["version"] or 0,
                changes=form.service_data(),
                channel=CHANNEL,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except VersionConflict as exc:
            conflict = exc.detail
            area = selectors.risk_area(user, area_id)
            # The form keeps what the user typed; it now names the version they have seen.
            form.data = form.data.copy()
            form.data["version"] = str(area.version)
        else:
            messages.success(
                request, _("The risk area is saved; decisions are being re-evaluated.")
            )
            return redirect("screening:home")
    return render(
        request, "screening/risk_area_form.html", {"form": form, "area": area, "conflict": conflict}
    )


def _policy_regions(user) -> list[tuple[str, str]]:
    """The counties the user may publish a policy for, with their names."""
    codes = [c for c in jurisdiction.user_codes(user) if len(c) == 6]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [(c, f"{names.get(c, '')} {c}".strip()) for c in codes]


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def policy_publish(request: HttpRequest) -> HttpResponse:
    """Publish the next version of the county's control policy, starting from the current
    one; the re-evaluation of the county is queued and its progress shown."""
    user = request.user
    services.require(user, Action.SCREENING_RULES)
    regions = _policy_regions(user)
    code = request.POST.get("region_code") or (regions[0][0] if regions else "")
    current = selectors.current_policy(user, code) if code else None
    form = PolicyForm(
        request.POST or None, regions=regions, initial=PolicyForm.initial_from(current)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        rules, levels = form.rules()
        try:
            policy, record = services.publish_policy(
                user=user,
                region_code=data["region_code"],
                title=data["title"],
                notice=data["notice"],
                rules=rules,
                channel=CHANNEL,
            )
        except ValidationFailed as exc:
            apply_errors(form, _rule_errors(exc, levels))
        else:
            messages.success(
                request,
                _(
                    "Version %(v)s of the control policy is published; "
                    "decisions are being re-evaluated."
                )
                % {"v": policy.version},
            )
            if record is not None:
                return redirect("web:task_detail", task_id=record.pk)
            return redirect("screening:home")
    return render(request, "screening/policy_form.html", {"form": form, "current": current})


def _rule_errors(exc: ValidationFailed, levels: list[str]) -> ValidationFailed:
    """The service names rule errors ``rules.<i>.<field>``; the form names them
    ``<level>_<field>``."""
    errors = []
    for error in exc.errors:
        parts = error.field.split(".")
        if (
            len(parts) == 3
            and parts[0] == "rules"
            and parts[1].isdigit()
            and int(parts[1]) < len(levels)
        ):
            errors.append(FieldError(f"{levels[int(parts[1])]}_{parts[2]}", error.message))
        else:
            errors.append(error)
    return ValidationFailed(errors, exc.detail)


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
            ledger = ledgers.upload(
                user=request.user,
                kind=data["kind"],
                mode=data["mode"],
                source=data["source"],
                file_name=data["file"].name[:200],
                chunks=data["file"].chunks(),
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return redirect("screening:import", ledger.pk)
    return render(request, "screening/upload.html", {"form": form, "kinds": LedgerKind.choices})


@login_required
@require_GET
@service_errors
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    """An import's outcome: what it changed (persons registered, persons whose record gained
    a stay, rows that changed nothing) with links to the persons, the decisions those
    persons now have with the next step ("下达隔离"), and the rejected rows to fix."""
    user = request.user
    ledger = ledgers.get_import(user, import_id)
    changes = ledger.changes or {}
    shown = PERSONS_SHOWN
    added_ids = changes.get("added_ids", [])[:shown]
    updated_ids = changes.get("updated_ids", [])[:shown]
    persons = _named_persons(user, [*added_ids, *updated_ids])
    decided: list[dict] = []
    if (added_ids or updated_ids) and can(user, Action.SCREENING_VIEW):
        items = list(
            selectors.decisions(user)
            .filter(person_id__in=[*added_ids, *updated_ids])
            .exclude(measure="none")[:shown]
        )
        decided = _with_order_links(
            user, items, selectors.present_decisions(user, items, channel=CHANNEL, request=request)
        )
    return render(
        request,
        "screening/import.html",
        {
            "ledger": ledger,
            "task": ledger.task,
            "errors": ledger.errors[:500],
            "finished": ledger.status != LedgerImport.Status.QUEUED,
            "changes": changes,
            "added": [persons[pk] for pk in added_ids if pk in persons],
            "updated": [persons[pk] for pk in updated_ids if pk in persons],
            "decided": decided,
        },
    )


PERSONS_SHOWN = 100


def _named_persons(user, ids: list[int]) -> dict[int, dict]:
    """Persons by id with their name and village by name (two queries), inside the
    jurisdiction."""
    from fangkong.core.regions import region_labels
    from fangkong.people.models import Person

    rows = list(
        jurisdiction.scope(Person.objects.filter(pk__in=ids), user).values(
            "pk", "name", "region_code"
        )
    )
    labels = region_labels(r["region_code"] for r in rows)
    return {
        r["pk"]: {
            **r,
            "region": labels.get(r["region_code"], ""),
            "url": reverse("web:person_detail", args=[r["pk"]]),
        }
        for r in rows
    }


def _with_order_links(user, items: list, rows: list[dict]) -> list[dict]:
    """Each presented decision with the prefilled isolation order form, for those who may
    order isolation."""
    may_order = can(user, Action.QUARANTINE_MANAGE)
    for decision, row in zip(items, rows, strict=True):
        row["order_url"] = handoff.isolation_form_url(decision) if may_order else ""
        row["measure_text"] = handoff.measure_text(decision)
        row["person_url"] = reverse("web:person_detail", args=[decision.person_id])
    return rows


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
    return _xlsx(ledgers.template(kind, request.user), f"{ledgers.TITLES[kind]}模板.xlsx")


@login_required
@require_GET
@service_errors
def export(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in LedgerKind.values:
        return HttpResponse(status=404)
    content = ledgers.export(
        user=request.user,
        kind=kind,
        channel=CHANNEL,
        region_code=(request.GET.get("region_code") or "")[:15] or None,
    )
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
    groups = reconciliation.unregistered(user, limit=GROUPS_SHOWN)
    villages = reconciliation.present_groups(user, groups, channel=CHANNEL, request=request)
    _name_villages(villages)
    return render(
        request,
        "screening/reconciliation.html",
        {
            "counts": reconciliation.link_counts(user),
            "pending": pending.count(),
            "pairs": reconciliation.present_pairs(user, pairs, channel=CHANNEL, request=request),
            "gaps": reconciliation.gaps(user),
            "can_decide": can(user, Action.SCREENING_EDIT),
            "unregistered": villages,
            "unregistered_shown": len(groups),
            "can_register": can(user, Action.SCREENING_EDIT) and can(user, Action.PERSON_CREATE),
        },
    )


GROUPS_SHOWN = 300


@login_required
@require_POST
@service_errors
def register_group(request: HttpRequest, group_id: int) -> HttpResponse:
    """Register the person an unregistered group names; all its entries are linked. When
    the village may already have the person, they are offered instead (link, or register
    anyway). htmx swaps the group's row for the outcome; without htmx the browser returns
    to the page (or sees the offer on a page of its own)."""
    error, person, similar = "", None, []
    try:
        person = reconciliation.register_group(
            user=request.user,
            group_id=group_id,
            channel=CHANNEL,
            request=request,
            despite_similar=request.POST.get("despite_similar") == "1",
        )
    except reconciliation.SimilarPersons as exc:
        similar = reconciliation.present_similar(
            request.user, exc.persons, channel=CHANNEL, request=request
        )
        codes = {s["region_code"][:12] for s in similar}
        villages = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
        for s in similar:
            s["village"] = villages.get(s["region_code"][:12], "")
    except ValidationFailed as exc:
        error = "；".join(e.message for e in exc.errors) or exc.detail
    if similar:
        template = (
            "screening/_group_similar.html" if request.htmx else "screening/group_similar.html"
        )
        return render(request, template, {"similar": similar, "group_id": group_id})
    if request.htmx:
        return render(
            request,
            "screening/_group_registered.html",
            {"person": person, "error": error, "group_id": group_id},
        )
    if error:
        messages.error(request, error)
    elif person is not None:
        messages.success(
            request, _("%(name)s is registered and the entries are linked.") % {"name": person.name}
        )
    return redirect("screening:reconciliation")


@requires(Action.SCREENING_EDIT)
@require_POST
def link_group(request: HttpRequest, group_id: int, person_id: int) -> HttpResponse:
    """Link an unregistered group's entries to the registered person it was found to be,
    instead of registering them twice."""
    error, person = "", None
    try:
        person = reconciliation.link_group(
            user=request.user,
            group_id=group_id,
            person_id=person_id,
            channel=CHANNEL,
            request=request,
        )
    except ValidationFailed as exc:
        error = "；".join(e.message for e in exc.errors) or exc.detail
    if request.htmx:
        return render(
            request,
            "screening/_group_registered.html",
            {"person": person, "error": error, "group_id": group_id, "linked": True},
        )
    if error:
        messages.error(request, error)
    elif person is not None:
        messages.success(
            request,
            _("The entries are linked to %(name)s, who was already registered.")
            % {"name": person.name},
        )
    return redirect("screening:reconciliation")


@login_required
@require_POST
@service_errors
def decide_pair(request: HttpRequest, pair_id: str, decision: str) -> HttpResponse:
    """Confirm or reject one pair. htmx swaps the pair's row for its outcome; without
    htmx the browser returns to the list."""
    error = ""
    try:
        pair = reconciliation.decide(
            user=request.user, pair_id=int(pair_id), accept=decision == "confirm", channel=CHANNEL
        )
    except ValidationFailed as exc:
        pair, error = None, "；".join(e.message for e in exc.errors) or exc.detail
    if request.htmx:
        return render(
            request,
            "screening/_pair_decided.html",
            {"pair": pair, "error": error, "pair_id": pair_id},
        )
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
    page = ui.page_of(request, visits.tasks_for(user).filter(status=VisitTask.Status.OPEN))
    items = page.items
    labels = region_labels({t.region_code for t in items})
    now = timezone.now()
    people = {
        t.person_id: selectors.present_person(user, t.person, channel=CHANNEL, audited=False)
        for t in items
    }
    selectors.audit_person_reads(user, list(people), channel=CHANNEL, request=request)
    return render(
        request,
        "screening/visits.html",
        {
            "tasks": [
                {
                    "task": t,
                    "person": people[t.person_id],
                    "overdue": t.due_at < now,
                    "grid": labels.get(t.region_code, ""),
                }
                for t in items
            ],
            "page": page,
            "can_visit": can(user, Action.SCREENING_EDIT),
        },
    )


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
    decision = handoff.current_decision(user, task.person_id)
    orderable = (
        decision is not None
        and decision.measure in handoff.ISOLATING
        and isolation.available()
        and can(user, Action.QUARANTINE_MANAGE)
    )
    form = VisitForm(
        request.POST or None,
        initial=initial,
        measure=handoff.measure_text(decision) if orderable and decision else "",
    )
    if request.method == "POST" and form.is_valid():
        try:
            visits.complete(user=user, task_id=task.pk, channel=CHANNEL, **form.visit_arguments())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("The visit to %(name)s is recorded.") % {"name": task.person.name}
            )
            if orderable and form.cleaned_data.get("isolate"):
                try:
                    placed = handoff.order_from_visit(user=user, task=task, channel=CHANNEL)
                except (ValidationFailed, PermissionDenied, NotFound) as exc:
                    messages.error(
                        request,
                        f"未能下达隔离：{getattr(exc, 'detail', '') or exc}",
                    )
                else:
                    if placed is not None:
                        messages.success(request, "已下达隔离。")
                        return redirect(placed.url)
            return redirect("screening:visits")
    return render(
        request,
        "screening/visit_form.html",
        {
            "task": task,
            "person": person,
            "form": form,
            "overdue": task.status == VisitTask.Status.OPEN and task.due_at < timezone.now(),
            "decision": decision,
            "order_url": handoff.isolation_form_url(decision)
            if decision is not None and can(user, Action.QUARANTINE_MANAGE)
            else "",
        },
    )


ESCALATIONS_SHOWN = 200


def overdue_text(delta: dt.timedelta) -> str:
    """How late a visit is, in days and hours (or hours and minutes under a day)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return ngettext("%(d)d day %(h)d h", "%(d)d days %(h)d h", days) % {"d": days, "h": hours}
    return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


def _escalation_rows(request: HttpRequest, items: list[VisitTask]) -> list[dict]:
    """Escalated visits as shown: the person masked by role (unmasked reads audited in one
    insert), how late, and the grid workers each may be handed to."""
    user = request.user
    now = timezone.now()
    people = {
        t.person_id: selectors.present_person(user, t.person, channel=CHANNEL, audited=False)
        for t in items
    }
    selectors.audit_person_reads(user, list(people), channel=CHANNEL, request=request)
    handling = visits.may_handle_escalations(user)
    workers: dict[str, list] = {}
    rows = []
    for t in items:
        if handling and t.region_code not in workers:
            workers[t.region_code] = list(visits.workers_for(t.region_code)[:50])
        rows.append(
            {
                "task": t,
                "person": people[t.person_id],
                "overdue": overdue_text(now - t.due_at),
                "workers": [w for w in workers.get(t.region_code, []) if w.pk != t.assignee_id],
            }
        )
    return rows


@login_required
@require_GET
@service_errors
def escalation_list(request: HttpRequest) -> HttpResponse:
    """Overdue visits escalated to the village or township of the user, filtered by level;
    the village or township hands one to another grid worker or makes it itself."""
    user = request.user
    chosen = request.GET.get("level", "")
    level = visits.LEVEL_NAMES.get(chosen)
    items = list(visits.escalated(user, level=level)[:ESCALATIONS_SHOWN])
    return render(
        request,
        "screening/escalations.html",
        {
            "rows": _escalation_rows(request, items),
            "level": chosen if level else "",
            "levels": [
                ("village", VisitTask.Escalation.VILLAGE.label),
                ("township", VisitTask.Escalation.TOWNSHIP.label),
            ],
            "can_handle": visits.may_handle_escalations(user),
            "shown": ESCALATIONS_SHOWN,
        },
    )


@login_required
@require_POST
@service_errors
def escalation_reassign(request: HttpRequest, task_id: int) -> HttpResponse:
    """Hand an escalated visit to another grid worker of the area. htmx swaps the row."""
    error, done = "", ""
    assignee = request.POST.get("assignee", "")
    try:
        task: VisitTask | None = visits.reassign(
            user=request.user,
            task_id=task_id,
            channel=CHANNEL,
            assignee_id=int(assignee) if assignee.isascii() and assignee.isdigit() else 0,
        )
    except ValidationFailed as exc:
        error = "；".join(e.message for e in exc.errors) or exc.detail
        try:
            task = visits.escalated_task(request.user, task_id)
        except ValidationFailed:
            task = None  # made or recorded meanwhile: nothing left to reassign
    else:
        assert task is not None and task.assignee is not None
        done = _("The visit is handed to %(worker)s.") % {
            "worker": task.assignee.display_name or task.assignee.username
        }
    if request.htmx:
        row = _escalation_rows(request, [task])[0] if task is not None else None
        return render(
            request,
            "screening/_escalation_row.html",
            {"row": row, "task_id": task_id, "can_handle": True, "error": error, "done": done},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("screening:escalations")


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def escalation_handle(request: HttpRequest, task_id: int) -> HttpResponse:
    """The village or township makes an escalated visit itself, with the worker's form."""
    user = request.user
    try:
        task = visits.escalated_task(user, task_id)
    except ValidationFailed as exc:
        messages.error(request, "；".join(e.message for e in exc.errors))
        return redirect("screening:escalations")
    person = selectors.present_person(user, task.person, channel=CHANNEL, request=request)
    initial = {"phone": person["phone"]} if "phone" in visible_fields(user) else {}
    form = VisitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            visits.handle(user=user, task_id=task.pk, channel=CHANNEL, **form.visit_arguments())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("The visit to %(name)s is recorded.") % {"name": task.person.name}
            )
            return redirect("screening:escalations")
    return render(
        request,
        "screening/visit_form.html",
        {
            "task": task,
            "person": person,
            "form": form,
            "overdue": True,
            "back_url": reverse("screening:escalations"),
            "back_label": _("Back to the escalated visits"),
        },
    )
