"""Pages of isolation: boards, the doctor's round, orders, alerts, sites, supplies, self-report.

Thin glue: forms parse, selectors read (scoped by jurisdiction), services write and decide.
The round is built for a phone: one tap records a normal reading and swaps only that row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import isolation, jurisdiction, replica
from fangkong.core.errors import NotFound, ValidationFailed, VersionConflict
from fangkong.core.models import Region
from fangkong.core.permissions import public, requires
from fangkong.core.roles import Action, can
from fangkong.core.ui import apply_errors

from . import documents, forms, ordering, selectors, services
from .models import CheckMethod, OrderStatus

CHANNEL = "web"


def _permissions(user: Any) -> dict[str, bool]:
    return {
        "can_manage": can(user, Action.QUARANTINE_MANAGE),
        "can_check": can(user, Action.QUARANTINE_CHECK),
        "can_test": can(user, Action.QUARANTINE_TEST),
        "can_sites": can(user, Action.QUARANTINE_SITES),
        "can_support": can(user, Action.QUARANTINE_SUPPORT),
        "can_override": can(user, Action.QUARANTINE_OVERRIDE),
    }


def _fail(request: HttpRequest, exc: ValidationFailed | VersionConflict) -> None:
    if isinstance(exc, VersionConflict):
        messages.error(request, exc.detail)
        return
    for error in exc.errors or []:
        messages.error(request, error.message)
    if not exc.errors:
        messages.error(request, exc.detail)


# Board and alerts -------------------------------------------------------------------------


@requires(Action.QUARANTINE_VIEW, Action.QUARANTINE_SUPPORT, any_of=True)
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.QUARANTINE_VIEW) and can(
        request.user, Action.QUARANTINE_SUPPORT
    ):
        # The module's entry for supply officers is their own list of requests.
        return redirect("quarantine:supplies")
    region = request.GET.get("region", "")
    if not (region.isdigit() and len(region) <= 15):
        region = ""
    with replica.reading():
        data = selectors.board(request.user, region_code=region)
    alerts = selectors.list_alerts(request.user, limit=20)
    names = dict(Region.objects.filter(code__in=data["by_region"]).values_list("code", "name"))
    rows = [(code, names.get(code, code), counts) for code, counts in data["by_region"].items()]
    return render(
        request,
        "quarantine/board.html",
        {
            "board": data,
            "rows": rows,
            "alerts": alerts,
            **_permissions(request.user),
        },
    )


@requires(Action.QUARANTINE_VIEW)
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    open_only = request.GET.get("all") != "1"
    mine = request.GET.get("mine") == "1"
    alerts = selectors.list_alerts(request.user, open_only=open_only, mine=mine, limit=200)
    return render(
        request,
        "quarantine/alerts.html",
        {
            "alerts": alerts,
            "open_only": open_only,
            "mine": mine,
            "form": forms.OutcomeForm(),
            **_permissions(request.user),
        },
    )


@requires(Action.QUARANTINE_CHECK)
@require_POST
def alert_handle(request: HttpRequest, alert_id: int) -> HttpResponse:
    form = forms.OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.handle_alert(user=request.user, alert_id=alert_id, **form.cleaned_data)
            messages.success(request, _("Outcome recorded."))
        except ValidationFailed as exc:
            _fail(request, exc)
    else:
        messages.error(request, _("Choose an outcome"))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return redirect(next_url or "quarantine:alerts")


# The doctor's round -----------------------------------------------------------------------


@requires(Action.QUARANTINE_CHECK)
@require_GET
def round_today(request: HttpRequest) -> HttpResponse:
    entries = selectors.todays_round(request.user)
    done = sum(1 for e in entries if e.done)
    return render(
        request,
        "quarantine/round.html",
        {
            "entries": entries,
            "done": done,
            "reading_form": forms.ReadingForm(),
            "now": timezone.now(),
        },
    )


def _round_row(request: HttpRequest, order_id: int, error: str = "") -> HttpResponse:
    entries = selectors.todays_round(request.user)
    entry = next((e for e in entries if e.order.pk == order_id), None)
    if entry is None:
        return redirect("quarantine:round")
    context = {
        "e": entry,
        "reading_form": forms.ReadingForm(),
        "row_error": error,
        # Swapped in out of band, so the count at the top follows the taps.
        "progress": (sum(1 for e in entries if e.done), len(entries)),
    }
    if request.htmx:
        return render(request, "quarantine/_round_row.html", context)
    if error:
        messages.error(request, error)
    return redirect("quarantine:round")


@requires(Action.QUARANTINE_CHECK)
@require_POST
def round_record(request: HttpRequest, order_id: int) -> HttpResponse:
    """One tap ("normal"), a typed temperature with symptoms, or "not at home"."""
    error = ""
    if request.POST.get("normal") == "1":
        reading = services.Reading(order_id=order_id, normal=True, method=CheckMethod.DOOR)
    else:
        form = forms.ReadingForm(request.POST)
        if not form.is_valid():
            return _round_row(request, order_id, _("Enter a temperature such as 36.5"))
        absent = form.cleaned_data["absent"]
        reading = services.Reading(
            order_id=order_id,
            temperature=None if absent else form.cleaned_data["temperature"],
            symptoms=() if absent else tuple(form.cleaned_data["symptoms"]),
            at_home=not absent,
            method=CheckMethod.DOOR,
        )
    try:
        services.record_check(user=request.user, reading=reading)
    except ValidationFailed as exc:
        error = "; ".join(e.message for e in exc.errors) or exc.detail
    return _round_row(request, order_id, error)


# Orders -----------------------------------------------------------------------------------


@requires(Action.QUARANTINE_VIEW)
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "active")
    status = status if status in OrderStatus.values else ""
    try:
        offset = max(0, min(int(request.GET.get("offset", 0)), 1_000_000))
    except ValueError:
        offset = 0
    orders, count = selectors.list_orders(request.user, status=status, limit=50, offset=offset)
    return render(
        request,
        "quarantine/order_list.html",
        {
            "orders": orders,
            "count": count,
            "status": status,
            "statuses": OrderStatus.choices,
            "offset": offset,
            "next_offset": offset + 50 if offset + 50 < count else None,
            **_permissions(request.user),
        },
    )


@requires(Action.QUARANTINE_MANAGE)
@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest) -> HttpResponse:
    """The order form, prefilled from the step before (``?person=&kind=&days=&start=&tests=
    &policy=&reason=``): the decision, the contact or the visit that calls for isolation."""
    selectors.require(request.user, Action.QUARANTINE_MANAGE)
    initial = forms.order_initial(request.GET, timezone.localtime())
    form = forms.OrderForm(request.POST or None, initial=initial, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_isolation(
                user=request.user,
                data=services.OrderInput(
                    person_id=data["person_id"],
                    kind=data["kind"],
                    starts_at=data["starts_at"],
                    days=data["days"],
                    policy_version=data["policy_version"],
                    manual_reason=data["manual_reason"],
                    address=data["address"],
                    required_test_days=data["required_test_days"],
                    household_member_ids=selectors.household_members(
                        request.user, data["person_id"]
                    )
                    if data["with_household"]
                    else (),
                    agreement_signed_on=data["agreement_signed_on"],
                    cost_bearer=data["cost_bearer"],
                    next_kind=data["next_kind"],
                    next_days=data["next_days"],
                    responsible_ids=(request.user.pk,)
                    if can(request.user, Action.QUARANTINE_CHECK)
                    else (),
                ),
                channel=CHANNEL,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc, {"household_member_ids": "with_household", "ends_at": "days"})
        else:
            messages.success(request, _("Isolation ordered."))
            return redirect("quarantine:order", order.pk)
    return render(request, "quarantine/order_form.html", {"form": form})


@requires(Action.QUARANTINE_VIEW)
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.get_order(request.user, order_id)
    version = {"version": order.version}
    rooms = []
    suggested = None
    if can(request.user, Action.QUARANTINE_SITES) and order.kind == "centralised":
        rooms = [
            (r.pk, f"{ordering.room_label(r)} ({r.free_beds})")
            for r in ordering.free_rooms(request.user)[:500]
        ]
        suggested = ordering.suggest_room(request.user, order)
    room_form = forms.RoomForm(
        initial={**version, "room_id": suggested.room_id if suggested else None}
    )
    room_form.fields["room_id"].choices = rooms
    release_blockers = (
        services.release_blockers(order, timezone.now())
        if order.status == OrderStatus.ACTIVE
        else []
    )
    return render(
        request,
        "quarantine/order_detail.html",
        {
            "order": order,
            "source": isolation.describe_source(request.user, order.source)
            if order.source
            else None,
            "id_number": selectors.id_numbers_for(
                request.user, [order], channel=CHANNEL, request=request
            )[order.pk],
            "tests": list(order.tests.all()),
            "checks": selectors.order_readings(order, limit=30),
            "alerts": list(order.alerts.order_by("-raised_at")[:30]),
            "events": list(order.events.select_related("by")[:50]),
            "companions": list(order.companions.select_related("person")),
            "supplies": list(order.supply_requests.all()[:20]),
            "release_blockers": release_blockers,
            "extend_form": forms.ExtendForm(initial=version),
            "transfer_form": forms.TransferForm(initial=version),
            "end_form": forms.EndForm(initial=version),
            "release_form": forms.ReleaseForm(initial=version),
            "agreement_form": forms.AgreementForm(initial=version),
            "room_form": room_form,
            "rooms": rooms,
            "suggested_room": suggested,
            "test_form": forms.TestResultForm(),
            "supply_form": forms.SupplyForm(),
            "waste_form": forms.WasteForm(),
            "form": forms.OutcomeForm(),
            "link": request.session.pop(f"quarantine-link-{order.pk}", None),
            **_permissions(request.user),
        },
    )


_ACTIONS = {
    "extend": forms.ExtendForm,
    "transfer": forms.TransferForm,
    "end": forms.EndForm,
    "release": forms.ReleaseForm,
    "room": forms.RoomForm,
    "agreement": forms.AgreementForm,
    "test": forms.TestResultForm,
    "supplies": forms.SupplyForm,
    "waste": forms.WasteForm,
    "link": None,
    "revoke": None,
}


@requires(
    Action.QUARANTINE_MANAGE,
    Action.QUARANTINE_CHECK,
    Action.QUARANTINE_TEST,
    Action.QUARANTINE_SITES,
    Action.QUARANTINE_SUPPORT,
    any_of=True,
)
@require_POST
def order_action(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    """Every button of the order page posts here; the service named by ``action`` decides."""
    if action not in _ACTIONS:
        return redirect("quarantine:order", order_id)
    form_class = _ACTIONS[action]
    form = form_class(request.POST, request.FILES) if form_class else None
    if form is not None and action == "room":
        form.fields["room_id"].choices = [(request.POST.get("room_id"), "")]
    if form is not None and not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return redirect("quarantine:order", order_id)
    data = form.cleaned_data if form is not None else {}
    user = request.user
    target = order_id
    try:
        if action == "extend":
            services.extend_order(user=user, order_id=order_id, **data)
            messages.success(request, _("Isolation extended."))
        elif action == "transfer":
            target = services.transfer_order(user=user, order_id=order_id, **data).pk
            messages.success(request, _("Transferred."))
        elif action == "end":
            services.end_order_early(user=user, order_id=order_id, **data)
            messages.success(request, _("Isolation ended early."))
        elif action == "release":
            _order, following = services.release_order(user=user, order_id=order_id, **data)
            messages.success(request, _("Released."))
            if following is not None:
                messages.info(request, _("The next stage has started."))
        elif action == "room":
            services.assign_room(user=user, order_id=order_id, **data)
            messages.success(request, _("Room assigned."))
        elif action == "agreement":
            services.record_agreement(
                user=user,
                order_id=order_id,
                version=data["version"],
                signed_on=data["signed_on"],
                scan=data["scan"],
            )
            messages.success(request, _("Agreement recorded."))
        elif action == "test":
            services.record_test_result(user=user, order_id=order_id, **data)
            messages.success(request, _("Test result recorded."))
        elif action == "supplies":
            services.request_supplies(user=user, order_id=order_id, **data)
            messages.success(request, _("Supply request recorded."))
        elif action == "waste":
            services.record_waste_pickup(user=user, order_id=order_id, **data)
            messages.success(request, _("Waste pickup recorded."))
        elif action == "link":
            token = services.issue_self_report_link(user=user, order_id=order_id)
            # Shown once on the next page, never stored in clear.
            request.session[f"quarantine-link-{order_id}"] = request.build_absolute_uri(
                f"/quarantine/me/{token}/"
            )
        elif action == "revoke":
            services.revoke_self_report_links(user=user, order_id=order_id)
            messages.success(request, _("The personal link no longer works."))
    except (ValidationFailed, VersionConflict) as exc:
        _fail(request, exc)
    return redirect("quarantine:order", target)


@requires(Action.QUARANTINE_SITES)
@require_http_methods(["GET", "POST"])
def room_plan(request: HttpRequest) -> HttpResponse:
    """Rooms for every centralised order without one, suggested and booked in one go (the
    close contacts of a case arrive together)."""
    plans = ordering.suggest_rooms(request.user)
    rooms = [
        (r.pk, f"{ordering.room_label(r)} ({r.free_beds})")
        for r in ordering.free_rooms(request.user)[:500]
    ]
    form = forms.BulkRoomsForm(request.POST or None, plans=plans, rooms=rooms)
    if request.method == "POST" and form.is_valid():
        outcome = ordering.assign_rooms(user=request.user, pairs=form.pairs())
        if outcome.assigned:
            messages.success(request, _("已为 %(n)s 人分配房间") % {"n": len(outcome.assigned)})
        names = {p.order.pk: p.order.person.name for p in plans}
        for order_id, error in outcome.errors:
            messages.error(request, f"{names.get(order_id, '')}：{error}")
        return redirect("quarantine:room_plan")
    rows = [(plan, form[f"room_{plan.order.pk}"]) for plan in plans]
    return render(
        request,
        "quarantine/room_plan.html",
        {"form": form, "rows": rows, "free": len(rooms), **_permissions(request.user)},
    )


@requires(Action.QUARANTINE_VIEW)
@require_GET
def release_notice(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.get_order(request.user, order_id)
    response = HttpResponse(
        documents.release_notice(order, request.user, channel=CHANNEL, request=request),
        content_type=documents.DOCX_TYPE,
    )
    response["Content-Disposition"] = f'attachment; filename="release-notice-{order.pk}.docx"'
    return response


@requires(Action.QUARANTINE_VIEW)
@require_GET
def agreement_scan(request: HttpRequest, order_id: int) -> HttpResponse:
    """The signed agreement, only through the scoped order (media files are never public)."""
    order = selectors.get_order(request.user, order_id)
    if not order.agreement_scan:
        raise Http404(order_id)
    return FileResponse(
        order.agreement_scan.open("rb"),
        as_attachment=False,
        filename=order.agreement_scan.name.rsplit("/", 1)[-1],
    )


# Sites ------------------------------------------------------------------------------------


@requires(Action.QUARANTINE_VIEW, Action.QUARANTINE_SITES, any_of=True)
@require_http_methods(["GET", "POST"])
def site_list(request: HttpRequest) -> HttpResponse:
    form = forms.SiteForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.create_site(user=request.user, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return redirect("quarantine:site", site.pk)
    return render(
        request,
        "quarantine/sites.html",
        {
            "sites": selectors.site_occupancy(request.user),
            "form": form,
            **_permissions(request.user),
        },
    )


@requires(Action.QUARANTINE_VIEW, Action.QUARANTINE_SITES, any_of=True)
@require_http_methods(["GET", "POST"])
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    site = selectors.get_site(request.user, site_id)
    if request.method == "POST" and "bags" in request.POST:
        waste = forms.WasteForm(request.POST)
        if waste.is_valid():
            try:
                services.record_waste_pickup(
                    user=request.user, site_id=site.pk, **waste.cleaned_data
                )
                messages.success(request, _("Waste pickup recorded."))
            except ValidationFailed as exc:
                _fail(request, exc)
        else:
            messages.error(request, _("Between 1 and 1000 bags"))
        return redirect("quarantine:site", site.pk)
    form = forms.RoomsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_rooms(user=request.user, site_id=site.pk, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Rooms added."))
            return redirect("quarantine:site", site.pk)
    roster = (
        selectors.site_roster(request.user, site, timezone.localdate())
        if jurisdiction.covers(request.user, site.region_code)
        else None
    )
    rooms = selectors.site_rooms(site)
    return render(
        request,
        "quarantine/site_detail.html",
        {
            "site": site,
            "rooms": rooms,
            "roster": roster,
            "form": form,
            "waste_form": forms.WasteForm(),
            "pickups": list(site.waste_pickups.all()[:10]),
            "free_rooms": sum(1 for r in rooms if r.occupants == 0),
            "free_beds": sum(r.free_beds for r in rooms),
            **_permissions(request.user),
        },
    )


# Supplies ---------------------------------------------------------------------------------


@requires(Action.QUARANTINE_SUPPORT, Action.QUARANTINE_VIEW, any_of=True)
@require_http_methods(["GET", "POST"])
def supply_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = forms.DeliveryForm(request.POST)
        request_id = request.POST.get("request_id", "")
        if form.is_valid() and request_id.isdigit():
            try:
                services.deliver_supplies(
                    user=request.user, request_id=int(request_id), **form.cleaned_data
                )
                messages.success(request, _("Delivery recorded."))
            except ValidationFailed as exc:
                _fail(request, exc)
        return redirect("quarantine:supplies")
    return render(
        request,
        "quarantine/supplies.html",
        {
            "requests": selectors.list_supply_requests(request.user),
            "form": forms.DeliveryForm(),
        },
    )


# Personal self-report link (no account) ---------------------------------------------------


@public("the isolated person's own link: the token in the URL is the credential")
@require_http_methods(["GET", "POST"])
def self_report(request: HttpRequest, token: str) -> HttpResponse:
    """The isolated person's own page: their order, their last readings, a form. Nothing else."""
    try:
        return _self_report(request, token)
    except NotFound:
        raise Http404(_("This link does not work (any more)")) from None


def _self_report(request: HttpRequest, token: str) -> HttpResponse:
    order = services.order_for_token(token)
    form = forms.SelfReportForm(request.POST if "temperature" in request.POST else None)
    supply_form = forms.SupplyForm(request.POST if "items" in request.POST else None)
    if request.method == "POST":
        try:
            if "items" in request.POST and supply_form.is_valid():
                services.request_supplies_by_link(token=token, **supply_form.cleaned_data)
                messages.success(request, _("Your request has been sent."))
                return redirect("quarantine:self_report", token)
            if "temperature" in request.POST and form.is_valid():
                _check, alerts = services.record_self_report(
                    token=token,
                    reading=services.Reading(
                        order_id=order.pk,
                        temperature=form.cleaned_data["temperature"],
                        symptoms=tuple(form.cleaned_data["symptoms"]),
                    ),
                )
                if alerts:
                    messages.warning(
                        request,
                        _(
                            "Your village doctor has been told and will contact you. "
                            "Stay at home and wear a mask."
                        ),
                    )
                else:
                    messages.success(request, _("Thank you, your reading is recorded."))
                return redirect("quarantine:self_report", token)
        except ValidationFailed as exc:
            apply_errors(form if "temperature" in request.POST else supply_form, exc)
    response = render(
        request,
        "quarantine/self_report.html",
        {
            "order": order,
            "name": order.person.name[:1] + "*" * (len(order.person.name) - 1),
            "checks": selectors.order_readings(order, limit=10),
            "form": form if form.is_bound else forms.SelfReportForm(),
            "supply_form": supply_form if supply_form.is_bound else forms.SupplyForm(),
        },
    )
    response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response["Cache-Control"] = "no-store"
    return response
