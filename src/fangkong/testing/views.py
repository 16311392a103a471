"""Pages of nucleic-acid testing: rounds and live coverage, untested and recall lists, the
sampler's phone page, lab result import, sampling points with the planner, recall tasks,
suspected cases, and the public page where a person makes their own registration code.

Thin glue: forms parse, selectors read (scoped by jurisdiction), services decide and write.
The sampler's page is built for one-handed use on a phone: the tube stays filled, the
scanner types the ID and presses Enter, htmx swaps only the scan panel.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import audit, jurisdiction, ui
from fangkong.core.errors import PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.masking import present, visible_fields
from fangkong.core.models import Region, RegionLevel
from fangkong.core.permissions import requires
from fangkong.core.regions import region_labels
from fangkong.core.roles import Action, can
from fangkong.web.forms import apply_errors
from fangkong.web.views import service_errors

from . import forms, labfiles, qrcodes, selectors, services
from . import tasks as background
from .models import CampaignStatus

CHANNEL = "web"
PER_PAGE = 50


def _permissions(user: Any) -> dict[str, bool]:
    return {
        "can_plan": can(user, Action.TESTING_PLAN),
        "can_sample": can(user, Action.TESTING_SAMPLE),
        "can_result": can(user, Action.TESTING_RESULT),
        "can_lists": can(user, Action.TESTING_LISTS),
        "can_positives": can(user, Action.TESTING_POSITIVES),
    }


def _region_choices(user: Any, levels: tuple[str, ...]) -> list[tuple[str, str]]:
    regions = jurisdiction.scope(Region.objects.filter(level__in=levels), user, field="code")
    return [
        (r.code, f"{'　' * (len(r.code) // 3 - 2)}{r.name}")
        for r in regions.order_by("code")[:3000]
    ]


def _region_param(request: HttpRequest) -> str:
    region = request.GET.get("region", "")
    return region if region.isdigit() and len(region) <= 15 else ""


def _people(request: HttpRequest, persons: list) -> list[dict[str, Any]]:
    """Persons as the user may see them; unmasked values shown are audited."""
    visible = visible_fields(request.user)
    rows = [
        {
            "person": p,
            "id_number": present("id_number", p.id_number, visible),
            "phone": present("phone", p.phone, visible),
        }
        for p in persons
    ]
    if visible and rows:
        audit.record_sensitive_reads(
            user=request.user,
            object_type="person",
            object_ids=[p.pk for p in persons],
            fields=visible,
            channel=CHANNEL,
            request=request,
        )
    return rows


def _breadcrumbs(campaign, region_code: str) -> list[tuple[str, str]]:
    codes = [
        region_code[:n]
        for n in (2, 4, 6, 9, 12, 15)
        if len(campaign.region_code) <= n <= len(region_code)
    ]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [(c, names.get(c, c)) for c in codes]


# -- rounds ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    page = ui.page_of(request, selectors.campaigns(user), per_page=PER_PAGE)
    rounds = page.items
    form = None
    if can(user, Action.TESTING_PLAN):
        regions = _region_choices(
            user, (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE, RegionLevel.GRID)
        )
        form = forms.CampaignForm(request.POST or None, regions=regions)
        if request.method == "POST" and form.is_valid():
            try:
                campaign = services.create_campaign(user=user, **form.cleaned_data)
                messages.success(request, _("The round was created."))
                return redirect("testing:campaign", campaign.pk)
            except ValidationFailed as exc:
                apply_errors(form, exc)
    elif request.method == "POST":
        services.require(user, Action.TESTING_PLAN)
    return render(
        request,
        "testing/home.html",
        {
            "rounds": rounds,
            "page": page,
            "form": form,
            **_permissions(user),
        },
    )


@login_required
@require_GET
@service_errors
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.get_campaign(request.user, campaign_id)
    cov = selectors.coverage(request.user, campaign, _region_param(request))
    unmatched = selectors.unmatched_results(request.user, campaign).count()
    context = {
        "campaign": campaign,
        "coverage": cov,
        "unmatched": unmatched,
        "statuses": CampaignStatus.choices,
        "breadcrumbs": _breadcrumbs(campaign, cov.region_code),
        "target_regions": list(region_labels(campaign.region_codes).values()),
        **_permissions(request.user),
    }
    template = "testing/_coverage.html" if request.htmx else "testing/campaign.html"
    return render(request, template, context)


@login_required
@require_POST
@service_errors
def campaign_status(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Start, pause or close a round (a closed round takes no more samples)."""
    try:
        services.set_campaign_status(
            user=request.user, campaign_id=campaign_id, status=request.POST.get("status", "")
        )
        messages.success(request, _("The round's status was changed."))
    except ValidationFailed as exc:
        for error in exc.errors:
            messages.error(request, error.message)
    return redirect("testing:campaign", campaign_id)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def untested(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = request.user
    campaign = selectors.get_campaign(user, campaign_id)
    region = _region_param(request) or request.POST.get("region", "")
    if request.method == "POST":
        form = forms.ExemptionForm(request.POST)
        if form.is_valid():
            try:
                services.exempt_person(user=user, campaign_id=campaign.pk, **form.cleaned_data)
                messages.success(request, _("The exemption was recorded."))
            except ValidationFailed as exc:
                for error in exc.errors:
                    messages.error(request, error.message)
        else:
            messages.error(request, _("Choose a reason"))
        url = request.path + (f"?region={region}" if region.isdigit() else "")
        return redirect(url)
    people = selectors.untested(user, campaign, region)
    # The count comes from the round's tallies (kept by triggers), not from counting the
    # anti-join over the whole area again for every page.
    total = selectors.coverage(user, campaign, region).total.untested
    page = ui.page_of(request, _Counted(people, total), per_page=100)
    exempted = list(selectors.exemptions(user, campaign)[:500])
    labels = region_labels(
        {p.region_code for p in page.items} | {e.person.region_code for e in exempted}
    )
    return render(
        request,
        "testing/untested.html",
        {
            "campaign": campaign,
            "region": region,
            "page": page,
            "region_name": region_labels([region]).get(region, "") if region else "",
            "rows": [
                {**row, "grid": labels.get(row["person"].region_code, "")}
                for row in _people(request, page.items)
            ],
            "exempt_rows": [
                {**row, "exemption": e, "grid": labels.get(e.person.region_code, "")}
                for e, row in zip(
                    exempted, _people(request, [e.person for e in exempted]), strict=True
                )
            ],
            "form": forms.ExemptionForm(),
            **_permissions(user),
        },
    )


class _Counted:
    """A queryset whose length is already known, for the paginator."""

    ordered = True

    def __init__(self, queryset: Any, count: int) -> None:
        self.queryset = queryset
        self._count = max(count, 0)

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key: Any) -> Any:
        return self.queryset[key]


# -- the sampler's phone page ----------------------------------------------------------------


@requires(Action.TESTING_SAMPLE)
@require_GET
def scan(request: HttpRequest) -> HttpResponse:
    """The sampler's home: the scan screen of the round under way in their area (the
    nearest one to open when none is), or the list of rounds when there is none.

    Rendered here rather than redirected to the round's own address: this one fixed address
    is the screen the field app keeps for offline use (``fangkong.web.field``)."""
    user = request.user
    campaign = selectors.current_campaign(user)
    if campaign is None:
        messages.info(request, "您的辖区暂无进行中的检测轮次。")
        return redirect("testing:home")
    return _sample_page(request, campaign)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def sample(request: HttpRequest, campaign_id: int) -> HttpResponse:
    services.require(request.user, Action.TESTING_SAMPLE)
    campaign = selectors.get_campaign(request.user, campaign_id)
    return _sample_page(request, campaign)


def _sample_page(request: HttpRequest, campaign) -> HttpResponse:
    user = request.user
    last = request.session.get("testing_scan", {})
    recorded = None
    if request.method == "POST":
        form = forms.ScanForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                recorded = services.record_scan(user=user, campaign_id=campaign.pk, **data)
            except ValidationFailed as exc:
                apply_errors(form, exc)
            request.session["testing_scan"] = {
                "tube": data["tube"].upper(),
                "capacity": data["capacity"],
            }
        if recorded is not None:
            tube = recorded.tube
            # The next scan goes into the same tube until it is full.
            initial = {
                "capacity": tube.capacity,
                "tube": "" if tube.sample_count >= tube.capacity else tube.barcode,
            }
            form = forms.ScanForm(initial=initial)
    else:
        form = forms.ScanForm(
            initial={
                "tube": last.get("tube", ""),
                "capacity": last.get("capacity", campaign.pool_size),
            }
        )
    barcode = (form.data.get("tube") or form.initial.get("tube") or "").strip().upper()
    tube = (
        recorded.tube
        if recorded
        else (selectors.tube_for_scan(user, campaign, barcode) if barcode else None)
    )
    context = {"campaign": campaign, "form": form, "recorded": recorded, "tube": tube}
    template = "testing/_scan.html" if request.htmx else "testing/sample.html"
    return render(request, template, context)


# -- results and recalls ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def results(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = request.user
    services.require(user, Action.TESTING_RESULT)
    campaign = selectors.get_campaign(user, campaign_id)
    report = None
    form = forms.ResultFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > 50 * 1024 * 1024:
                raise labfiles.LabFileError(_("The file is larger than 50 MB"))
            if upload.size > background.BACKGROUND_BYTES:
                return _import_in_background(request, campaign, upload)
            parsed = labfiles.parse(upload.name, upload.read())
            report = services.record_results(
                user=user,
                campaign_id=campaign.pk,
                results=parsed.results,
                source=upload.name[:200],
                errors=parsed.errors,
            )
        except labfiles.LabFileError as exc:
            form.add_error("file", str(exc))
    unmatched = list(selectors.unmatched_results(user, campaign)[:500])
    return render(
        request,
        "testing/results.html",
        {
            "campaign": campaign,
            "form": form,
            "report": report,
            "unmatched": unmatched,
        },
    )


def _import_in_background(request: HttpRequest, campaign, upload) -> HttpResponse:
    """Save a large lab file and import it in the worker; the task page shows progress."""
    import uuid

    from django.conf import settings

    from fangkong.core import tasks as task_kit
    from fangkong.core import uploads

    folder = settings.MEDIA_ROOT / "testing-results"
    suffix = ".xlsx" if upload.name.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    # Readable by the server alone (0600), counted against the user's quota; the task
    # deletes it after the import.
    try:
        kept = uploads.store_private(
            upload.chunks(),
            folder,
            limit=50 * 1024 * 1024,
            user=request.user,
            kind="testing.results",
            file_name=upload.name,
        )
    except uploads.UnsafeUpload as exc:
        raise labfiles.LabFileError(exc.message) from None
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    kept.path.replace(path)
    uploads.record_upload(request.user, "testing.results", upload.name, kept)
    record = task_kit.enqueue(
        background.import_results_file,
        title=_("Import results: %(name)s") % {"name": upload.name[:150]},
        user=request.user,
        kwargs={"campaign_id": campaign.pk, "path": str(path)},
    )
    messages.info(request, _("The file is large: it is imported in the background."))
    return redirect("web:task_detail", record.pk)


@login_required
@require_GET
@service_errors
def recalls(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.get_campaign(request.user, campaign_id)
    page = ui.page_of(
        request,
        selectors.recall_entries(request.user, campaign, _region_param(request)),
        per_page=100,
    )
    entries = page.items
    rows = _people(request, [e.person for e in entries])
    names = region_labels({e.region_code for e in entries})
    grids: dict[str, dict[str, Any]] = {}
    for entry, row in zip(entries, rows, strict=True):
        grid = grids.setdefault(
            entry.region_code,
            {
                "code": entry.region_code,
                "name": names.get(entry.region_code, entry.region_code),
                "rows": [],
            },
        )
        grid["rows"].append({**row, "entry": entry})
    return render(
        request,
        "testing/recalls.html",
        {
            "campaign": campaign,
            "grids": list(grids.values()),
            "count": page.count,
            "page": page,
        },
    )


@login_required
@require_GET
@service_errors
def tasks(request: HttpRequest) -> HttpResponse:
    page = ui.page_of(request, selectors.recall_tasks(request.user), per_page=PER_PAGE)
    names = region_labels({t.region_code for t in page.items})
    return render(
        request,
        "testing/tasks.html",
        {
            "tasks": [(t, names.get(t.region_code, "")) for t in page.items],
            "page": page,
        },
    )


@login_required
@require_POST
@service_errors
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    services.complete_recall_task(user=request.user, task_id=task_id)
    messages.success(request, _("The recall task is done."))
    return redirect("testing:tasks")


@login_required
@require_GET
@service_errors
def suspected(request: HttpRequest) -> HttpResponse:
    page = ui.page_of(request, selectors.suspected_cases(request.user), per_page=PER_PAGE)
    cases = page.items
    rows = _people(request, [c.person for c in cases])
    names = region_labels({c.region_code for c in cases})
    return render(
        request,
        "testing/suspected.html",
        {
            "rows": [
                {**row, "case": case, "grid": names.get(case.region_code, "")}
                for case, row in zip(cases, rows, strict=True)
            ],
            "page": page,
        },
    )


# -- sampling points -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def points(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = None
    if can(user, Action.TESTING_PLAN):
        regions = _region_choices(
            user, (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE, RegionLevel.GRID)
        )
        form = forms.PointForm(request.POST or None, regions=regions)
        if request.method == "POST" and form.is_valid():
            try:
                services.create_point(user=user, **form.cleaned_data)
                messages.success(request, _("The sampling point was created."))
                return redirect("testing:points")
            except ValidationFailed as exc:
                apply_errors(form, exc)
    elif request.method == "POST":
        services.require(user, Action.TESTING_PLAN)
    rounds = list(selectors.campaigns(user)[:50])
    return render(
        request,
        "testing/points.html",
        {
            "points": list(selectors.points(user)[:500]),
            "form": form,
            "rounds": rounds,
            **_permissions(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def point_detail(request: HttpRequest, point_id: int) -> HttpResponse:
    """A sampling point: its hours and lanes, its staff, and for the planners of its region the
    form that adds and removes staff."""
    user = request.user
    point = selectors.get_point(user, point_id)
    staff = selectors.point_staff(user, point)
    may_staff = can(user, Action.TESTING_PLAN) and jurisdiction.covers(user, point.region_code)
    if request.method == "POST" and not may_staff:
        services.require(user, Action.TESTING_PLAN)
        raise PermissionDenied(Action.TESTING_PLAN)
    form = None
    if may_staff:
        choices = {u.pk: u for u in [*selectors.staff_candidates(user, point), *staff]}
        form = forms.PointStaffForm(
            request.POST or None,
            staff=[
                (pk, f"{u}（{u.username}）")
                for pk, u in sorted(choices.items(), key=lambda item: item[1].username)
            ],
            initial={"staff_ids": [u.pk for u in staff], "version": point.version},
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.set_point_staff(
                    user=user,
                    point_id=point.pk,
                    staff_ids=form.cleaned_data["staff_ids"],
                    expected_version=form.cleaned_data["version"],
                    channel=CHANNEL,
                    request=request,
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            except VersionConflict as exc:
                # Show the list as it is now; the planner redoes their change on top of it.
                messages.error(request, exc.detail)
                return redirect("testing:point", point.pk)
            else:
                messages.success(request, _("The sampling staff were changed."))
                return redirect("testing:point", point.pk)
    return render(
        request,
        "testing/point.html",
        {
            "point": point,
            "staff": staff,
            "form": form,
            "rounds": list(selectors.campaigns(user)[:1]),
            **_permissions(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def point_plan(request: HttpRequest, point_id: int) -> HttpResponse:
    user = request.user
    point = selectors.get_point(user, point_id)
    rounds = list(selectors.campaigns(user)[:50])
    if request.method == "POST":
        form = forms.LanesForm(request.POST)
        if form.is_valid():
            try:
                services.update_point(
                    user=user, point_id=point.pk, lanes=form.cleaned_data["lanes"]
                )
                messages.success(request, _("The lanes were changed."))
            except ValidationFailed as exc:
                for error in exc.errors:
                    messages.error(request, error.message)
        return redirect(request.get_full_path())
    campaign_id = request.GET.get("campaign", "")
    campaign = (
        selectors.get_campaign(user, int(campaign_id))
        if campaign_id.isdigit() and len(campaign_id) < 18
        else (rounds[0] if rounds else None)
    )
    profile = request.GET.get("profile", "uniform")
    result = selectors.plan_point(user, point, campaign, profile) if campaign else None
    return render(
        request,
        "testing/plan.html",
        {
            "point": point,
            "campaign": campaign,
            "rounds": rounds,
            "result": result,
            "profile": profile,
            "lanes_form": forms.LanesForm(initial={"lanes": point.lanes}),
            **_permissions(user),
        },
    )


# -- public: a person's own registration code ------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = forms.RegistrationForm(request.POST or None)
    code = qr = None
    if request.method == "POST" and form.is_valid():
        try:
            code = services.issue_registration_code(**form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            qr = qrcodes.registration_qr_svg(
                code.code, title=_("QR code of registration code %(code)s") % {"code": code.code}
            )
    # The SVG is segno's own output from a code of our alphabet, with the title escaped.
    return render(request, "testing/register.html", {"form": form, "code": code, "qr": qr})
