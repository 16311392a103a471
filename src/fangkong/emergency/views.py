"""Pages of the emergency layer: the headquarters' board, wartime switch and reporting
board, zones drawn by picking grids, the risk map, plans and drills, capacity and staffing
gaps, volunteers (with the public sign-up form) and the command structure.

Thin glue: forms parse, services decide and write, every page is scoped by jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import jurisdiction, personal, ui
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.models import TaskRecord
from fangkong.core.permissions import public, requires
from fangkong.core.roles import Action, can
from fangkong.people.models import Household

from . import forms, risk, services
from .models import (
    Capacity,
    CommandGroup,
    Drill,
    DutyShift,
    Mode,
    ModeSwitch,
    Plan,
    Volunteer,
    ZoneChange,
    ZoneKind,
    ZoneMeasure,
)

CHANNEL = "web"


def _flash(request: HttpRequest, exc: ValidationFailed | VersionConflict) -> None:
    if isinstance(exc, VersionConflict):
        messages.error(request, exc.detail)
        return
    for error in exc.errors or []:
        messages.error(request, error.message)
    if not exc.errors:
        messages.error(request, exc.detail)


def _home_area(actor: Any) -> str:
    codes = [c for c in jurisdiction.user_codes(actor) if c]
    return min(codes, key=len) if codes else ""


# --- board ------------------------------------------------------------------------------------


@requires(Action.EMERGENCY_VIEW)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    actor = request.user
    townships = services.township_codes(actor)
    labels = ui.region_labels(townships, with_township=False)
    modes = []
    for code in townships[:200]:
        mode, switch = services.mode_of(code)
        modes.append({"code": code, "name": labels.get(code, code), "mode": mode, "switch": switch})
    zones = list(services.zones_for(actor)[:50])
    counts = dict(
        ZoneMeasure.objects.filter(zone__in=zones)
        .order_by()
        .values_list("zone_id")
        .annotate(n=Count("pk"))
    )
    area = _home_area(actor)
    wartime = [m for m in modes if m["mode"] == Mode.WARTIME]
    boards = []
    for item in wartime[:5]:
        if item["switch"] is not None:
            boards.append(services.reporting_board(actor=actor, switch_id=item["switch"].pk))
    context = {
        "modes": modes,
        "wartime": wartime,
        "boards": boards,
        "zones": [(z, counts.get(z.pk, 0)) for z in zones],
        "gaps": services.capacity_gaps(actor, area)[:8] if area else [],
        "can_command": can(actor, Action.EMERGENCY_COMMAND),
        "tiles": risk.tiles(area if len(area) >= 6 else "", 9) if area and len(area) <= 6 else [],
    }
    return render(request, "emergency/home.html", context)


# --- mode -------------------------------------------------------------------------------------


@requires(Action.EMERGENCY_VIEW)
@require_http_methods(["GET", "POST"])
def mode(request: HttpRequest) -> HttpResponse:
    actor = request.user
    may_switch = can(actor, Action.EMERGENCY_COMMAND)
    initial = {"region": request.GET.get("region", "")}
    if request.GET.get("mode") in Mode.values:
        initial["mode"] = request.GET["mode"]
    form = forms.ModeSwitchForm(request.POST or None, actor=actor, initial=initial)
    if request.method == "POST":
        if not may_switch:
            raise PermissionDenied(Action.EMERGENCY_COMMAND)
        if form.is_valid():
            try:
                result = services.switch_mode(
                    actor=actor,
                    region_code=form.cleaned_data["region"],
                    mode=form.cleaned_data["mode"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc, {"region_code": "region"})
            else:
                if result.created:
                    messages.success(
                        request,
                        _("Switched. %(n)s users were notified and must confirm.")
                        % {"n": result.notified},
                    )
                else:
                    messages.info(
                        request, _("The area was already in that mode; nobody was notified again.")
                    )
                return redirect("emergency:mode_board", switch_id=result.switch.pk)
    switches = jurisdiction.scope(ModeSwitch.objects.all(), actor)[:30]
    labels = ui.region_labels({s.region_code for s in switches}, with_township=False)
    context = {
        "form": form,
        "may_switch": may_switch,
        "switches": [(s, labels.get(s.region_code, "")) for s in switches],
    }
    return render(request, "emergency/mode.html", context)


@requires(Action.EMERGENCY_VIEW)
@require_GET
def mode_board(request: HttpRequest, switch_id: int) -> HttpResponse:
    board = services.reporting_board(actor=request.user, switch_id=switch_id)
    area = ui.region_labels([board.switch.region_code]).get(board.switch.region_code, "")
    missing_labels = ui.region_labels({r.region_code for r in board.missing})
    context = {
        "board": board,
        "area": area,
        "percent": round(100 * board.reported / board.total) if board.total else 0,
        "missing": [
            {
                "name": r.user.display_name or r.user.username,
                "role": r.user.get_role_display(),
                "region": missing_labels.get(r.region_code, ""),
            }
            for r in board.missing
        ],
    }
    return render(request, "emergency/mode_board.html", context)


# --- zones ------------------------------------------------------------------------------------


@requires(Action.EMERGENCY_VIEW)
@require_GET
def zones(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    page = ui.page_of(
        request, services.zones_for(request.user, active_only=not show_all), per_page=30
    )
    labels = ui.region_labels({z.region_code for z in page.items})
    return render(
        request,
        "emergency/zones.html",
        {
            "page": page,
            "labels": labels,
            "show_all": show_all,
            "can_command": can(request.user, Action.EMERGENCY_COMMAND),
        },
    )


def _households(area: str) -> list[tuple[int, str]]:
    """Households offered one by one: only inside a single grid (a building, a courtyard)."""
    if len(area) != 15:
        return []
    return list(
        Household.objects.filter(region_code=area)
        .order_by("address")
        .values_list("pk", "address")[:300]
    )


@requires(Action.EMERGENCY_COMMAND)
@require_http_methods(["GET", "POST"])
def zone_new(request: HttpRequest) -> HttpResponse:
    actor = request.user
    area_form = forms.ZoneAreaForm(request.GET or None, actor=actor)
    if not (request.GET.get("area") and area_form.is_valid()):
        return render(request, "emergency/zone_area.html", {"form": area_form})
    area = area_form.cleaned_data["area"]
    initial = {"name": "", "kind": request.GET.get("kind", ZoneKind.SEALED)}
    if len(area) == 15:
        initial["regions"] = [area]  # drawing inside one grid: the grid, or its households
    form = forms.ZoneForm(
        request.POST or None, area=area, households=_households(area), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = services.ZoneDraft(
            name=data["name"],
            kind=data["kind"],
            region_codes=list(data["regions"]),
            household_ids=[int(h) for h in data["households"]],
            movement=data["movement"],
            test_every_days=data["test_every_days"],
            delivery=data["delivery"] or None,
            publicity=data["publicity"],
            legal_basis=data["legal_basis"],
            approved_by=data["approved_by"],
        )
        try:
            zone = services.declare_zone(actor=actor, draft=draft)
        except ValidationFailed as exc:
            ui.apply_errors(form, exc, {"region_codes": "regions", "household_ids": "households"})
        else:
            messages.success(
                request, _("Zone declared; its people's measures are being put in place.")
            )
            return redirect("emergency:zone", zone_id=zone.pk)
    label = ui.region_labels([area]).get(area, "")
    return render(
        request, "emergency/zone_form.html", {"form": form, "area": area, "area_label": label}
    )


@requires(Action.EMERGENCY_VIEW)
@require_GET
def zone(request: HttpRequest, zone_id: int) -> HttpResponse:
    actor = request.user
    item = services.zone_for(actor, zone_id)
    codes = list(item.areas.filter(household__isnull=True).values_list("region_code", flat=True))
    households = list(
        item.areas.filter(household__isnull=False).values_list("household__address", flat=True)
    )
    labels = ui.region_labels(codes)
    measures = jurisdiction.scope(ZoneMeasure.objects.filter(zone=item), actor)
    people = ui.page_of(
        request,
        measures.select_related("person").order_by("region_code", "person__name"),
        per_page=50,
    )
    shown = personal.present_people(
        actor, [m.person for m in people.items], channel=CHANNEL, request=request, fields=("phone",)
    )
    rows = [
        {"person": m.person, "phone": p["phone"], "region": m.region_code}
        for m, p in zip(people.items, shown, strict=True)
    ]
    region_names = ui.region_labels({r["region"] for r in rows})
    for row in rows:
        row["region"] = region_names.get(row["region"], "")
    task = TaskRecord.objects.filter(pk=item.task_id).first() if item.task_id else None
    context = {
        "zone": item,
        "area": ui.region_labels([item.region_code]).get(item.region_code, ""),
        "members": [labels.get(c, c) for c in codes],
        "households": households,
        "people": people,
        "rows": rows,
        "task": task,
        "changes": ZoneChange.objects.filter(zone=item).order_by("-version"),
        "lift_form": forms.LiftForm(),
        "can_command": can(actor, Action.EMERGENCY_COMMAND)
        and jurisdiction.covers(actor, item.region_code),
    }
    return render(request, "emergency/zone_detail.html", context)


@requires(Action.EMERGENCY_COMMAND)
@require_POST
def zone_lift(request: HttpRequest, zone_id: int) -> HttpResponse:
    form = forms.LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Record the legal basis and who approved lifting the zone."))
        return redirect("emergency:zone", zone_id=zone_id)
    try:
        version = int(request.POST.get("version", "0"))
        services.lift_zone(
            actor=request.user,
            zone_id=zone_id,
            version=version,
            legal_basis=form.cleaned_data["legal_basis"],
            approved_by=form.cleaned_data["approved_by"],
        )
    except (ValidationFailed, VersionConflict) as exc:
        _flash(request, exc)
    except ValueError:
        messages.error(request, _("Refresh the page and try again."))
    else:
        messages.success(request, _("Zone lifted."))
    return redirect("emergency:zone", zone_id=zone_id)


# --- risk map ---------------------------------------------------------------------------------


@requires(Action.EMERGENCY_VIEW)
@require_GET
def risk_map(request: HttpRequest) -> HttpResponse:
    area = _home_area(request.user)
    level = request.GET.get("level", "township" if len(area) <= 6 else "village")
    length = 12 if level == "village" or len(area) >= 9 else 9
    tiles = risk.tiles(area, length)
    counts = {lvl: sum(1 for t in tiles if t.level == lvl) for lvl in risk.LEVELS}
    context = {
        "tiles": tiles,
        "level": "village" if length == 12 else "township",
        "legend": [(lvl, risk.LEVEL_LABELS[lvl], counts[lvl]) for lvl in reversed(risk.LEVELS)],
        "at": timezone.localtime(),
        "area": ui.region_labels([area]).get(area, "") if area else "",
    }
    return render(request, "emergency/risk_map.html", context)


# --- plans and drills -------------------------------------------------------------------------


@requires(Action.EMERGENCY_VIEW)
@require_http_methods(["GET", "POST"])
def plans(request: HttpRequest) -> HttpResponse:
    actor = request.user
    may_edit = can(actor, Action.EMERGENCY_PLAN)
    form = forms.PlanForm(request.POST or None, actor=actor)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(Action.EMERGENCY_PLAN)
        if form.is_valid():
            data = form.cleaned_data
            Plan.objects.create(
                region_code=data["region"],
                unit_name=data["unit_name"],
                unit_kind=data["unit_kind"],
                title=data["title"],
                plan_version=data["plan_version"],
                reviewed_on=data["reviewed_on"],
                review_every_days=data["review_every_days"],
            )
            messages.success(request, _("Plan recorded."))
            return redirect("emergency:plans")
    today = timezone.localdate()
    rows = []
    for plan in jurisdiction.scope(Plan.objects.all(), actor).prefetch_related("drills")[:300]:
        due = (
            plan.reviewed_on is None
            or plan.reviewed_on + dt.timedelta(days=plan.review_every_days) < today
        )
        rows.append({"plan": plan, "due": due, "drills": list(plan.drills.all()[:3])})
    return render(
        request, "emergency/plans.html", {"rows": rows, "form": form, "may_edit": may_edit}
    )


@requires(Action.EMERGENCY_PLAN)
@require_http_methods(["GET", "POST"])
def drill_new(request: HttpRequest, plan_id: int) -> HttpResponse:
    actor = request.user
    plan = jurisdiction.scope(Plan.objects.all(), actor).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(plan_id)
    form = forms.DrillForm(
        request.POST or None,
        initial={"held_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        steps = []
        clock = data["held_at"]
        for i in range(1, forms.STEP_ROWS + 1):
            name = data.get(f"step{i}_name")
            if not name:
                continue
            target = data.get(f"step{i}_target") or 10
            taken = data.get(f"step{i}_taken")
            finished = clock + dt.timedelta(minutes=taken) if taken is not None else None
            steps.append(services.StepDraft(name, target, clock, finished))
            if finished is not None:
                clock = finished
        try:
            drill = services.record_drill(
                actor=actor,
                plan_id=plan.pk,
                title=data["title"],
                squads=data["squads"],
                unannounced=data["unannounced"],
                held_at=data["held_at"],
                steps=steps,
                lessons=data["lessons"],
            )
        except ValidationFailed as exc:
            ui.apply_errors(form, exc, {})
        else:
            return redirect("emergency:drill", drill_id=drill.pk)
    return render(request, "emergency/drill_form.html", {"form": form, "plan": plan})


@requires(Action.EMERGENCY_VIEW)
@require_GET
def drill(request: HttpRequest, drill_id: int) -> HttpResponse:
    item = (
        jurisdiction.scope(Drill.objects.select_related("plan"), request.user)
        .filter(pk=drill_id)
        .first()
    )
    if item is None:
        raise NotFound(drill_id)
    return render(
        request, "emergency/drill.html", {"drill": item, "timings": services.drill_timings(item)}
    )


# --- capacity, staffing, volunteers -----------------------------------------------------------


@requires(Action.EMERGENCY_VIEW)
@require_GET
def capacity(request: HttpRequest) -> HttpResponse:
    actor = request.user
    area = _home_area(actor)
    items = list(jurisdiction.scope(Capacity.objects.all(), actor)[:500])
    labels = ui.region_labels({c.region_code for c in items})
    context = {
        "items": [(c, labels.get(c.region_code, "")) for c in items],
        "gaps": services.capacity_gaps(actor, area) if area else [],
        "staffing": services.staffing_gaps(actor, max_rows=100),
    }
    return render(request, "emergency/capacity.html", context)


@requires(Action.EMERGENCY_VIEW)
@require_GET
def volunteers(request: HttpRequest) -> HttpResponse:
    actor = request.user
    queryset = jurisdiction.scope(Volunteer.objects.all(), actor)
    status = request.GET.get("status", "")
    if status in Volunteer.Status.values:
        queryset = queryset.filter(status=status)
    page = ui.page_of(request, queryset, per_page=50)
    shown = personal.present_people(
        actor,
        page.items,
        channel=CHANNEL,
        request=request,
        object_type="emergency.volunteer",
        fields=("phone",),
    )
    labels = ui.region_labels({v.region_code for v in page.items})
    rows = [
        {"v": v, "phone": p["phone"], "region": labels.get(v.region_code, "")}
        for v, p in zip(page.items, shown, strict=True)
    ]
    return render(
        request,
        "emergency/volunteers.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "may_assign": can(actor, Action.EMERGENCY_STAFF),
        },
    )


@requires(Action.EMERGENCY_STAFF)
@require_POST
def volunteer_assign(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    form = forms.AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Name the post"))
        return redirect("emergency:volunteers")
    try:
        services.assign_volunteer(
            actor=request.user,
            volunteer_id=volunteer_id,
            version=form.cleaned_data["version"],
            post=form.cleaned_data["post"],
        )
    except (ValidationFailed, VersionConflict) as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Volunteer assigned."))
    return redirect("emergency:volunteers")


@public("volunteers sign up online without an account, like the public tip-off form")
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    form = forms.VolunteerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.sign_up_volunteer(
                name=data["name"],
                phone=data["phone"],
                region_code=data["region_code"],
                skills=data["skills"],
                availability=data["availability"],
                client=services.client_key(request),
            )
        except services.RateLimited:
            messages.error(
                request, _("Too many sign-ups from this device; please try again in an hour.")
            )
            return render(request, "emergency/join.html", {"form": form}, status=429)
        except ValidationFailed as exc:
            ui.apply_errors(form, exc, {})
        else:
            return render(request, "emergency/join_done.html", {"name": data["name"]})
    return render(request, "emergency/join.html", {"form": form})


@requires(Action.EMERGENCY_VIEW)
@require_GET
def command(request: HttpRequest) -> HttpResponse:
    actor = request.user
    groups = list(jurisdiction.scope(CommandGroup.objects.all(), actor)[:200])
    today = timezone.localdate()
    shifts = list(
        jurisdiction.scope(
            DutyShift.objects.filter(day__gte=today - dt.timedelta(days=1)), actor
        ).order_by("day", "region_code")[:30]
    )
    labels = ui.region_labels(
        {g.region_code for g in groups} | {s.region_code for s in shifts}, with_township=False
    )
    by_area: dict[str, list[CommandGroup]] = {}
    for group in groups:
        by_area.setdefault(group.region_code, []).append(group)
    return render(
        request,
        "emergency/command.html",
        {
            "areas": [(labels.get(code, ""), items) for code, items in by_area.items()],
            "shifts": [(s, labels.get(s.region_code, "")) for s in shifts],
            "today": today,
        },
    )
