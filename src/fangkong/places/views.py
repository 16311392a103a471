"""Pages of places: thin glue between forms, scoped reads and :mod:`.services`.

The same rules as the API (403 without the action, 404 outside the jurisdiction) through
:func:`fangkong.core.permissions.requires`. Personal fields (responsible person's and
buyers' phones, buyers' ID numbers) are shown through :mod:`fangkong.core.personal`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import jurisdiction, regions, ui
from fangkong.core.errors import NotFound, ValidationFailed, VersionConflict
from fangkong.core.permissions import public, requires
from fangkong.core.personal import present_people
from fangkong.core.roles import Action, can

from . import forms, services
from .models import (
    BatchStatus,
    ColdBatch,
    Disinfection,
    DrugSale,
    Gathering,
    Inspection,
    Outcome,
    Place,
    PlaceKind,
    PlaceStatus,
    Resumption,
    ResumptionStatus,
    SchoolClass,
    Slot,
)


def _labels(codes: list[str]) -> dict[str, str]:
    return regions.region_labels(codes)


def _manager_phones(request: HttpRequest, places: list[Place]) -> None:
    shown = present_people(
        request.user,
        places,
        channel="web",
        request=request,
        object_type="places.place",
        fields=("phone",),
        source={"phone": "manager_phone"},
    )
    labels = _labels([p.region_code for p in places])
    kinds = services.labels_of(PlaceKind.choices)
    statuses = services.labels_of(PlaceStatus.choices)
    for place, s in zip(places, shown, strict=True):
        place.phone_shown = s["phone"]  # type: ignore[attr-defined]
        place.region_name = labels.get(place.region_code, "")  # type: ignore[attr-defined]
        place.kind_label = kinds.get(place.kind, "")  # type: ignore[attr-defined]
        place.status_label = statuses.get(place.status, "")  # type: ignore[attr-defined]


@requires(Action.PLACES_VIEW)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The cadre's day: places to inspect (overdue first), pending gatherings, the figures."""
    user = request.user
    now = timezone.now()
    cutoff = now - dt.timedelta(days=services.INSPECTION_DAYS)
    mine = services.places_of(user).exclude(status=PlaceStatus.CLOSED)
    if mine.filter(cadre=user).exists():
        mine = mine.filter(cadre=user)
    to_inspect = list(
        mine.annotate(recent=Count("inspections", filter=Q(inspections__inspected_at__gte=cutoff)))
        .filter(recent=0)
        .select_related("cadre")
        .order_by("region_code", "name")[:30]
    )
    _manager_phones(request, to_inspect)
    data = services.campaign(user)
    counts = services.gathering_counts(user, timezone.localdate())
    pending = list(
        jurisdiction.scope(Gathering.objects.filter(outcome=Outcome.PENDING), user).order_by(
            "date"
        )[:20]
    )
    rate = services.resumption_rate(user)
    total = sum(r["total"] for r in rate)
    resumed = sum(r["resumed"] for r in rate)
    return render(
        request,
        "places/home.html",
        {
            "to_inspect": to_inspect,
            "campaign": data,
            "counts": counts,
            "pending": pending,
            "resumption_percent": round(100 * resumed / total) if total else 0,
            "open_sales": jurisdiction.scope(
                DrugSale.objects.filter(follow_up="open"), user
            ).count(),
            "can_inspect": can(user, Action.PLACES_INSPECT),
            "can_manage": can(user, Action.PLACES_MANAGE),
            "can_gather": can(user, Action.PLACES_GATHERINGS),
        },
    )


@requires(Action.PLACES_VIEW)
@require_GET
def place_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    queryset = services.places_of(user).select_related("cadre")
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    region = request.GET.get("region", "")
    if kind in PlaceKind.values:
        queryset = queryset.filter(kind=kind)
    if status in PlaceStatus.values:
        queryset = queryset.filter(status=status)
    if region.isdigit() and len(region) <= 15:
        queryset = queryset.filter(jurisdiction.prefix_q("region_code", [region]))
    q = request.GET.get("q", "").strip()[:50]
    if q:
        queryset = queryset.filter(name__contains=q)
    page = ui.page_of(request, queryset)
    _manager_phones(request, page.items)
    return render(
        request,
        "places/place_list.html",
        {
            "page": page,
            "kinds": PlaceKind.choices,
            "statuses": PlaceStatus.choices,
            "can_manage": can(user, Action.PLACES_MANAGE),
        },
    )


@requires(Action.PLACES_MANAGE)
@require_http_methods(["GET", "POST"])
def place_new(request: HttpRequest) -> HttpResponse:
    form = forms.PlaceForm(
        request.POST or None, actor=request.user, initial={"kind": request.GET.get("kind", "")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            place = services.register_place(
                actor=request.user, data=services.PlaceInput(**form.cleaned_data)
            )
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(request, f"已登记：{place.name}")
            return redirect("places:place_detail", place.pk)
    return render(request, "places/form.html", {"form": form, "title": "登记场所"})


@requires(Action.PLACES_VIEW)
@require_GET
def place_detail(request: HttpRequest, place_id: int) -> HttpResponse:
    user = request.user
    place = services.get_place(user, place_id)
    _manager_phones(request, [place])
    inspections = list(
        Inspection.objects.filter(place=place)
        .select_related("inspector")
        .prefetch_related("results__item")[:10]
    )
    today = timezone.localdate()
    context: dict[str, Any] = {
        "place": place,
        "history": place.status_changes.select_related("by"),
        "inspections": inspections,
        "disinfections": Disinfection.objects.filter(place=place)[:10],
        "rounds_today": services.rounds_on(place, today),
        "rounds_required": services.rounds_required(place.kind),
        "status_form": forms.StatusForm(
            initial={
                "version": place.version,
                "status": "reopened" if place.status == PlaceStatus.CLOSED else "closed",
            }
        ),
        # The next round is usually by the same person: prefill from the last one.
        "disinfection_form": forms.DisinfectionForm(
            initial={
                "done_by": Disinfection.objects.filter(place=place)
                .values_list("done_by", flat=True)
                .first()
                or ""
            }
        ),
        "can_manage": can(user, Action.PLACES_MANAGE),
        "can_inspect": can(user, Action.PLACES_INSPECT),
    }
    if place.kind == PlaceKind.ENTERPRISE:
        context["resumptions"] = place.resumptions.all()
    if place.kind in (PlaceKind.SCHOOL, PlaceKind.KINDERGARTEN):
        context["classes"] = place.classes.annotate(n=Count("members"))
    if place.kind == PlaceKind.COLD_STORAGE:
        context["batches"] = place.batches.all()[:20]
    if place.kind == PlaceKind.PHARMACY:
        week = today - dt.timedelta(days=today.weekday())
        context["weekly"] = services.weekly_report(user, place, week)
        context["week"] = week
    return render(request, "places/place_detail.html", context)


@requires(Action.PLACES_MANAGE)
@require_POST
def place_status(request: HttpRequest, place_id: int) -> HttpResponse:
    form = forms.StatusForm(request.POST)
    if form.is_valid():
        try:
            place = services.change_status(
                actor=request.user, place_id=place_id, **form.cleaned_data
            )
        except ValidationFailed as exc:
            messages.error(request, "；".join(e.message for e in exc.errors) or exc.detail)
        except VersionConflict as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, f"{place.name}：{place.get_status_display()}")
    else:
        messages.error(request, "请填写完整")
    return redirect("places:place_detail", place_id)


@requires(Action.PLACES_INSPECT)
@require_http_methods(["GET", "POST"])
def inspect(request: HttpRequest, place_id: int) -> HttpResponse:
    """The inspector's checklist: each item pass or fail, a photo for a failure."""
    place = services.get_place(request.user, place_id)
    items = services.checklist(place.kind)
    errors: dict[str, str] = {}
    if request.method == "POST":
        outcomes = []
        for item in items:
            value = request.POST.get(f"item_{item.pk}", "")
            if value in ("pass", "fail"):
                outcomes.append(
                    services.ItemOutcome(
                        item.pk, value == "pass", request.FILES.get(f"photo_{item.pk}")
                    )
                )
        try:
            record = services.record_inspection(
                actor=request.user,
                place_id=place.pk,
                outcomes=outcomes,
                covert=request.POST.get("covert") == "on",
                note=request.POST.get("note", "")[:300],
            )
        except ValidationFailed as exc:
            errors = {e.field: e.message for e in exc.errors}
        else:
            if record.failed:
                messages.warning(
                    request, f"检查已记录：{record.failed}项不合格，已列入整改清单，限期整改"
                )
            else:
                messages.success(request, "检查已记录：全部合格")
            return redirect("places:place_detail", place.pk)
    rows = [
        {
            "item": item,
            "error": errors.get(f"item_{item.pk}", ""),
            "value": request.POST.get(f"item_{item.pk}", ""),
        }
        for item in items
    ]
    return render(request, "places/inspect.html", {"place": place, "rows": rows, "errors": errors})


@requires(Action.PLACES_INSPECT)
@require_POST
def rectify(request: HttpRequest, result_id: int) -> HttpResponse:
    result = services.rectify(actor=request.user, result_id=result_id)
    messages.success(request, "已标记整改完成")
    return redirect("places:place_detail", result.inspection.place_id)


@requires(Action.PLACES_INSPECT)
@require_POST
def disinfect(request: HttpRequest, place_id: int) -> HttpResponse:
    form = forms.DisinfectionForm(request.POST)
    if form.is_valid():
        try:
            services.log_disinfection(actor=request.user, place_id=place_id, **form.cleaned_data)
        except ValidationFailed as exc:
            messages.error(request, "；".join(e.message for e in exc.errors))
        else:
            messages.success(request, "消杀记录已保存")
    else:
        messages.error(request, "请填写消杀人员和时间")
    return redirect("places:place_detail", place_id)


@requires(Action.PLACES_VIEW)
@require_GET
def campaign(request: HttpRequest) -> HttpResponse:
    """The closure campaign: closed and open per kind, and the still-open list."""
    data = services.campaign(request.user)
    page = ui.page_of(request, data["still_open"])
    _manager_phones(request, page.items)
    return render(request, "places/campaign.html", {"campaign": data, "page": page})


# --- gatherings --------------------------------------------------------------------------------


@requires(Action.PLACES_VIEW)
@require_http_methods(["GET", "POST"])
def gatherings(request: HttpRequest) -> HttpResponse:
    user = request.user
    last = jurisdiction.scope(Gathering.objects.all(), user).order_by("-recorded_at").first()
    form = forms.GatheringForm(
        request.POST or None,
        actor=user,
        initial={"region_code": last.region_code} if last else None,
    )
    if request.method == "POST":
        if not can(user, Action.PLACES_GATHERINGS):
            from fangkong.core.errors import PermissionDenied

            raise PermissionDenied(Action.PLACES_GATHERINGS)
        if form.is_valid():
            try:
                services.record_gathering(
                    actor=user, data=services.GatheringInput(**form.cleaned_data)
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                messages.success(request, "已登记，请尽快上门劝导")
                return redirect("places:gatherings")
    rows = jurisdiction.scope(Gathering.objects.select_related("persuaded_by"), user)
    page = ui.page_of(request, rows)
    shown = present_people(
        user,
        page.items,
        channel="web",
        request=request,
        object_type="places.gathering",
        fields=("phone",),
        source={"phone": "organiser_phone"},
    )
    labels = _labels([g.region_code for g in page.items])
    for g, s in zip(page.items, shown, strict=True):
        g.phone_shown = s["phone"]
        g.region_name = labels.get(g.region_code, "")
        g.hold_refused = services.may_hold(g.kind, g.tables)
    return render(
        request,
        "places/gatherings.html",
        {
            "form": form,
            "page": page,
            "counts": services.gathering_counts(user, timezone.localdate()),
            "outcomes": [c for c in Outcome.choices if c[0] != Outcome.PENDING],
            "can_gather": can(user, Action.PLACES_GATHERINGS),
            "can_approve": can(user, Action.PLACES_APPROVE),
            "max_tables": services.MAX_TABLES_HELD,
        },
    )


@requires(Action.PLACES_GATHERINGS)
@require_POST
def gathering_outcome(request: HttpRequest, gathering_id: int) -> HttpResponse:
    try:
        services.decide_gathering(
            actor=request.user,
            gathering_id=gathering_id,
            outcome=request.POST.get("outcome", ""),
            version=int(request.POST.get("version") or 0),
            note=request.POST.get("note", "")[:300],
        )
    except ValidationFailed as exc:
        messages.error(request, "；".join(e.message for e in exc.errors))
    except VersionConflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "劝导结果已记录")
    return redirect("places:gatherings")


# --- enterprises -------------------------------------------------------------------------------


@requires(Action.PLACES_VIEW)
@require_GET
def enterprises(request: HttpRequest) -> HttpResponse:
    user = request.user
    applications = list(
        jurisdiction.scope(Resumption.objects.select_related("place", "decided_by"), user)[:100]
    )
    return render(
        request,
        "places/enterprises.html",
        {
            "rate": services.resumption_rate(user),
            "applications": applications,
            "enterprises": services.places_of(user)
            .filter(kind=PlaceKind.ENTERPRISE)
            .exclude(resumptions__status__in=[ResumptionStatus.APPLIED, ResumptionStatus.APPROVED])
            .order_by("name")[:100],
            "can_manage": can(user, Action.PLACES_MANAGE),
            "can_approve": can(user, Action.PLACES_APPROVE),
        },
    )


@requires(Action.PLACES_MANAGE)
@require_http_methods(["GET", "POST"])
def resumption_new(request: HttpRequest, place_id: int) -> HttpResponse:
    place = services.get_place(request.user, place_id, kind=[PlaceKind.ENTERPRISE])
    form = forms.ResumptionForm(
        request.POST or None,
        request.FILES or None,
        initial={"staff_count": place.staff_count or None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.apply_resumption(actor=request.user, place_id=place.pk, **form.cleaned_data)
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(request, "复工申请已提交，请按复工检查表检查")
            return redirect("places:enterprises")
    return render(
        request,
        "places/form.html",
        {"form": form, "title": f"{place.name}：复工复产申请", "multipart": True},
    )


@requires(Action.PLACES_APPROVE)
@require_POST
def resumption_decide(request: HttpRequest, resumption_id: int) -> HttpResponse:
    try:
        services.decide_resumption(
            actor=request.user,
            resumption_id=resumption_id,
            approve=request.POST.get("decision") == "approve",
            plan_reviewed=request.POST.get("plan_reviewed") == "on",
            note=request.POST.get("note", "")[:300],
        )
    except ValidationFailed as exc:
        messages.error(request, "；".join(e.message for e in exc.errors))
    else:
        messages.success(request, "审批结果已记录")
    return redirect("places:enterprises")


# --- schools -------------------------------------------------------------------------------


@requires(Action.PLACES_VIEW)
@require_GET
def schools(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    slot = services.current_slot()
    classes = list(
        jurisdiction.scope(SchoolClass.objects.select_related("school"), user)
        .annotate(
            n=Count("members", distinct=True),
            done=Count(
                "members__checks",
                filter=Q(members__checks__day=today, members__checks__slot=slot),
                distinct=True,
            ),
            fever=Count(
                "members__checks",
                filter=Q(
                    members__checks__day=today, members__checks__temperature__gte=services.FEVER
                ),
                distinct=True,
            ),
        )
        .order_by("school__name", "name")[:200]
    )
    return render(
        request,
        "places/schools.html",
        {"classes": classes, "slot_label": Slot(slot).label, "today": today},
    )


@requires(Action.PLACES_VIEW)
@require_http_methods(["GET", "POST"])
def class_detail(request: HttpRequest, class_id: int) -> HttpResponse:
    user = request.user
    school_class = services.get_class(user, class_id)
    member_form = forms.MemberForm(request.POST or None, actor=user)
    link = ""
    if request.method == "POST":
        if not can(user, Action.PLACES_SCHOOLS):
            from fangkong.core.errors import PermissionDenied

            raise PermissionDenied(Action.PLACES_SCHOOLS)
        if request.POST.get("action") == "risk":
            try:
                services.report_risk_area_member(
                    actor=user,
                    member_id=int(request.POST.get("member") or 0),
                    note=request.POST.get("note", "")[:200],
                )
            except ValidationFailed as exc:
                messages.error(request, "；".join(e.message for e in exc.errors))
            else:
                messages.success(request, "已上报，列入排查名单")
            return redirect("places:class_detail", class_id)
        if request.POST.get("action") == "link":
            link = request.build_absolute_uri(
                reverse(
                    "places:class_check",
                    args=[services.new_class_link(actor=user, class_id=class_id)],
                )
            )
        elif member_form.is_valid():
            try:
                services.add_member(
                    actor=user,
                    class_id=class_id,
                    person_id=member_form.cleaned_data["person"],
                    role=member_form.cleaned_data["role"],
                )
            except ValidationFailed as exc:
                ui.apply_errors(member_form, exc)
            else:
                messages.success(request, "已加入班级")
                return redirect("places:class_detail", class_id)
    slot = request.GET.get("slot") or services.current_slot()
    slot = slot if slot in Slot.values else Slot.MORNING
    return render(
        request,
        "places/class_detail.html",
        {
            "school_class": school_class,
            "sheet": services.class_sheet(school_class, timezone.localdate(), slot),
            "slot_label": Slot(slot).label,
            "member_form": member_form,
            "link": link,
            "can_schools": can(user, Action.PLACES_SCHOOLS),
        },
    )


@requires(Action.PLACES_SCHOOLS)
@require_http_methods(["GET", "POST"])
def class_new(request: HttpRequest, place_id: int) -> HttpResponse:
    school = services.get_place(
        request.user, place_id, kind=[PlaceKind.SCHOOL, PlaceKind.KINDERGARTEN]
    )
    form = forms.ClassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.add_class(
                actor=request.user, school_id=school.pk, **form.cleaned_data
            )
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            return redirect("places:class_detail", created.pk)
    return render(request, "places/form.html", {"form": form, "title": f"{school.name}：新增班级"})


@public("a class teacher's personal check link (no account; the token opens one class)")
@require_http_methods(["GET", "POST"])
def class_check(request: HttpRequest, token: str) -> HttpResponse:
    """The teacher's phone page: one row per student, temperature or absence with cause."""
    try:
        school_class = services.class_by_token(token)
    except NotFound:
        return render(request, "places/link_invalid.html", status=404)
    slot = request.POST.get("slot") or request.GET.get("slot") or services.current_slot()
    slot = slot if slot in Slot.values else Slot.MORNING
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if request.method == "POST":
        rows = []
        for member_id in school_class.members.values_list("pk", flat=True):
            present = request.POST.get(f"absent_{member_id}") != "on"
            raw = request.POST.get(f"t_{member_id}", "").strip()
            if present and not raw:
                continue  # not yet checked: the teacher may send the class in parts
            try:
                temperature = services.Decimal(raw) if raw else None
            except Exception:
                errors[str(member_id)] = "体温请填数字，如36.5"
                continue
            rows.append(
                services.CheckInput(
                    member_id=member_id,
                    present=present,
                    temperature=temperature,
                    symptoms=request.POST.get(f"s_{member_id}", "")[:100],
                    absence_cause=request.POST.get(f"cause_{member_id}", "")[:100],
                )
            )
        if not errors:
            try:
                n = services.record_checks(
                    school_class=school_class, rows=rows, day=today, slot=slot
                )
            except ValidationFailed as exc:
                index_to_member = [r.member_id for r in rows]
                for e in exc.errors:
                    if e.field.startswith("checks["):
                        i = int(e.field[7 : e.field.index("]")])
                        errors[str(index_to_member[i])] = e.message
            else:
                messages.success(request, f"已提交{n}人的{Slot(slot).label}")
                return redirect(reverse("places:class_check", args=[token]) + f"?slot={slot}")
    sheet = services.class_sheet(school_class, today, slot)
    for row in sheet:
        row["error"] = errors.get(str(row["id"]), "")
    return render(
        request,
        "places/class_check.html",
        {
            "school_class": school_class,
            "sheet": sheet,
            "slot": slot,
            "slot_label": Slot(slot).label,
            "slots": Slot.choices,
            "today": today,
            "done": sum(1 for r in sheet if r["check"]),
        },
    )


# --- cold chain -----------------------------------------------------------------------------


@requires(Action.PLACES_VIEW)
@require_GET
def cold_chain(request: HttpRequest) -> HttpResponse:
    user = request.user
    batches = list(
        jurisdiction.scope(ColdBatch.objects.select_related("storage"), user).exclude(
            status=BatchStatus.RELEASED, released_at__lt=timezone.now() - dt.timedelta(days=14)
        )[:100]
    )
    for batch in batches:
        batch.missing = services.missing_documents(batch)
    return render(
        request,
        "places/cold_chain.html",
        {
            "batches": batches,
            "storages": services.places_of(user).filter(kind=PlaceKind.COLD_STORAGE),
            "can_cold": can(user, Action.PLACES_COLD_CHAIN),
        },
    )


@requires(Action.PLACES_COLD_CHAIN)
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest, place_id: int) -> HttpResponse:
    storage = services.get_place(request.user, place_id, kind=[PlaceKind.COLD_STORAGE])
    form = forms.BatchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_batch(
                actor=request.user,
                storage_id=storage.pk,
                data=services.BatchInput(**form.cleaned_data),
            )
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(request, "进仓报备已提交")
            return redirect("places:cold_chain")
    return render(request, "places/form.html", {"form": form, "title": f"{storage.name}：进仓报备"})


@requires(Action.PLACES_COLD_CHAIN)
@require_POST
def batch_step(request: HttpRequest, batch_id: int) -> HttpResponse:
    version = int(request.POST.get("version") or 0)
    try:
        if request.POST.get("step") == "release":
            batch = services.release_batch(actor=request.user, batch_id=batch_id, version=version)
            messages.success(request, f"已出具出仓证明 {batch.exit_certificate_no}")
        else:
            documents = {name: request.POST.get(name, "") for name, _ in services.DOCUMENTS}
            services.register_batch(
                actor=request.user, batch_id=batch_id, version=version, documents=documents
            )
            messages.success(request, "信息登记完成")
    except ValidationFailed as exc:
        messages.error(request, "；".join(e.message for e in exc.errors))
    except VersionConflict as exc:
        messages.error(request, exc.detail)
    return redirect("places:cold_chain")


# --- pharmacies -------------------------------------------------------------------------------


@requires(Action.PLACES_VIEW)
@require_http_methods(["GET", "POST"])
def pharmacy(request: HttpRequest) -> HttpResponse:
    user = request.user
    pharmacies = [
        (p.pk, p.name) for p in services.places_of(user).filter(kind=PlaceKind.PHARMACY)[:200]
    ]
    form = forms.SaleForm(request.POST or None, pharmacies=pharmacies)
    if request.method == "POST":
        if not can(user, Action.PLACES_PHARMACY):
            from fangkong.core.errors import PermissionDenied

            raise PermissionDenied(Action.PLACES_PHARMACY)
        if form.is_valid():
            data = dict(form.cleaned_data)
            pharmacy_id = data.pop("pharmacy")
            try:
                _sale, created = services.record_sale(
                    actor=user, pharmacy_id=pharmacy_id, data=services.SaleInput(**data)
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                messages.success(request, "已登记" if created else "该小票已登记过，未重复登记")
                return redirect("places:pharmacy")
    rows = jurisdiction.scope(DrugSale.objects.select_related("pharmacy"), user)
    if request.GET.get("follow_up") == "open":
        rows = rows.filter(follow_up="open")
    page = ui.page_of(request, rows)
    shown = present_people(
        user,
        page.items,
        channel="web",
        request=request,
        object_type="places.sale",
        fields=("id_number", "phone"),
        source={"id_number": "buyer_id_number", "phone": "buyer_phone"},
    )
    for sale, s in zip(page.items, shown, strict=True):
        sale.shown = s
    return render(
        request,
        "places/pharmacy.html",
        {
            "form": form,
            "page": page,
            "pharmacies": pharmacies,
            "can_sell": can(user, Action.PLACES_PHARMACY),
        },
    )


@requires(Action.PLACES_PHARMACY)
@require_POST
def sales_import(request: HttpRequest) -> HttpResponse:
    """A pharmacy's sales file (.xlsx/.csv): all rows or none, errors by row and column."""
    from . import sales_import as importer

    upload = request.FILES.get("file")
    try:
        pharmacy_id = int(request.POST.get("pharmacy") or 0)
    except ValueError:
        pharmacy_id = 0
    if upload is None or not pharmacy_id:
        messages.error(request, "请选择药店和文件")
        return redirect("places:pharmacy")
    if upload.size > 5 * 1024 * 1024:
        messages.error(request, "文件超过 5 MB")
        return redirect("places:pharmacy")
    try:
        created, repeated = importer.import_sales(
            actor=request.user, pharmacy_id=pharmacy_id, name=upload.name, content=upload.read()
        )
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
        for error in exc.errors[:20]:
            messages.error(request, f"{error.field}：{error.message}")
    else:
        messages.success(request, f"导入{created}条，已登记过的{repeated}条未重复导入")
    return redirect("places:pharmacy")


@requires(Action.PLACES_INSPECT, Action.PLACES_PHARMACY, any_of=True)
@require_POST
def sale_follow_up(request: HttpRequest, sale_id: int) -> HttpResponse:
    services.follow_up_sale(actor=request.user, sale_id=sale_id)
    messages.success(request, "已标记走访")
    return redirect("places:pharmacy")
