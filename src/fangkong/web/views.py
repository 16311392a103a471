"""Views of the web UI: thin glue between HTTP, forms, selectors and services.

Reads go through the jurisdiction-scoped selectors, writes through the services; a record
outside the user's jurisdiction is a 404 (its existence stays secret), an action the role
may not take is a 403. Sensitive fields reach templates only through the ``present_*``
functions, so what the role may not see is masked on every page.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import (
    audit,
    devices,
    errors,
    jurisdiction,
    login,
    modules,
    person_actions,
    timeline,
    tokens,
    ui,
)
from fangkong.core import (
    tasks as task_kit,
)
from fangkong.core.masking import visible_fields
from fangkong.core.models import AuditEvent
from fangkong.core.permissions import signed_in
from fangkong.core.roles import Action, can
from fangkong.people import selectors as people
from fangkong.people import services
from fangkong.people.models import Person

from . import display
from . import selectors as web
from .forms import (
    HouseholdForm,
    HouseholdSearchForm,
    LoginForm,
    PersonForm,
    PersonSearchForm,
    apply_errors,
)

PAGE_SIZE = 50
CHANNEL = "web"


def service_errors(view):
    """Turn the services' NotFound / PermissionDenied into Django's 404 / 403 pages.

    Both are written to the audit trail: a run of 404s on person pages is what probing
    another village's records looks like.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except errors.NotFound:
            _audit_denial(request, "not found or outside the jurisdiction")
            raise Http404(_("The record does not exist or is outside your jurisdiction")) from None
        except errors.PermissionDenied as exc:
            _audit_denial(request, f"role may not {exc}")
            raise PermissionDenied(_("Your role does not allow this action")) from None

    return wrapper


def _audit_denial(request: HttpRequest, reason: str) -> None:
    audit.record(
        user=request.user,
        kind=AuditEvent.Kind.DENIED,
        channel=CHANNEL,
        request=request,
        detail=f"{request.method} {request.path[:200]}: {reason}",
    )


def require(user: Any, action: Action) -> None:
    if not can(user, action):
        raise errors.PermissionDenied(action)


def _partial_or_page(request: HttpRequest, page: str, partial: str, context: dict) -> HttpResponse:
    """The whole page, or only the part htmx asked for (one URL, two answers: Vary on it)."""
    response = render(request, partial if request.htmx else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- Login -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or "web:home")
    form = LoginForm(request.POST or None)
    retry_after = 0
    if request.method == "POST" and form.is_valid():
        result = login.attempt_login(
            request=request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            channel=CHANNEL,
        )
        if result.user is not None:
            auth_login(request, result.user)
            return redirect(next_url or "web:home")
        retry_after = result.retry_after
        form.add_error(None, result.error)
    status = 429 if retry_after else 200
    response = render(request, "web/login.html", {"form": form, "next": next_url}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@signed_in
@require_http_methods(["GET", "POST"])
def account_tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API access tokens (apps, scripts), each revocable, or all at once."""
    if request.method == "POST":
        if request.POST.get("all"):
            count = tokens.revoke_all(user=request.user, channel=CHANNEL, request=request)
            messages.success(request, _("%(count)d access tokens revoked.") % {"count": count})
        else:
            try:
                token_id = int(request.POST.get("token", ""))
            except ValueError:
                raise errors.NotFound("token") from None
            own = tokens.tokens_of(user=request.user).filter(user=request.user, pk=token_id)
            if not own.exists():
                raise errors.NotFound(token_id)
            tokens.revoke(user=request.user, token_id=token_id, channel=CHANNEL, request=request)
            messages.success(request, _("The access token was revoked."))
        return redirect("web:account_tokens")
    rows = list(tokens.tokens_of(user=request.user).filter(user=request.user))
    return render(request, "web/account_tokens.html", {"tokens": rows})


@signed_in
@require_http_methods(["GET", "POST"])
def account_devices(request: HttpRequest) -> HttpResponse:
    """Field-app phones: one's own, and for a cadre those of the users of the area; a lost
    or replaced phone is revoked here (its sessions end at once)."""
    if request.method == "POST":
        try:
            device_id = int(request.POST.get("device", ""))
        except ValueError:
            raise errors.NotFound("device") from None
        device = devices.revoke(
            actor=request.user, device_id=device_id, channel=CHANNEL, request=request
        )
        who = device.user.display_name or device.user.username
        messages.success(request, f"已停用 {who} 的设备，该设备需重新登录。")
        return redirect("web:account_devices")
    rows = list(devices.visible_to(request.user)[:500])
    current = devices.key_of(request)
    return render(
        request,
        "web/account_devices.html",
        {
            "own": [d for d in rows if d.user_id == request.user.pk],
            "others": [d for d in rows if d.user_id != request.user.pk],
            "current_key": current,
            "manages": can(request.user, Action.DEVICE_REVOKE),
        },
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("You have logged out."))
    return redirect("web:login")


# --- Home and modules ----------------------------------------------------------------------


@signed_in
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role opens on its work for today (the doctor's round, the grid worker's visits,
    the county's board); roles without a registered home see the overview."""
    target = modules.home_url_for(request.user)
    if target and target != request.path:
        return redirect(target)
    return overview(request)


@signed_in
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"summary": web.jurisdiction_summary(request.user)})


@signed_in
@require_GET
def module_unavailable(request: HttpRequest, slug: str) -> HttpResponse:
    module = modules.get(slug)
    if module is None:
        raise Http404(slug)
    if not module.planned:
        return redirect(module.url())
    return render(request, "web/unavailable.html", {"module": module})


# --- Regions -------------------------------------------------------------------------------


@login_required
@require_GET
@service_errors
def regions(request: HttpRequest) -> HttpResponse:
    return render(request, "web/regions.html", {"nodes": web.root_regions(request.user)})


@login_required
@require_GET
@service_errors
def region_children(request: HttpRequest, code: str) -> HttpResponse:
    region, nodes = web.child_regions(request.user, code)
    context = {"region": region, "nodes": nodes, "path": web.region_path(request.user, code)}
    return _partial_or_page(request, "web/region_detail.html", "web/_region_nodes.html", context)


# --- Persons -------------------------------------------------------------------------------


@login_required
@require_GET
@service_errors
def person_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.PERSON_VIEW)
    form = PersonSearchForm(request.GET)
    ui.bind_actor(form, request.user)
    page = None
    rows: list[dict] = []
    searching = False
    region_name = ""
    if form.is_valid():
        data = form.cleaned_data
        filters = people.PersonFilters(
            q=data["q"],
            region_code=data["region"],
            category=data["category"],
            sex=data["sex"],
            source=data["source"],
        )
        searching = any((data["q"], data["region"], data["category"], data["sex"], data["source"]))
        if data["region"]:
            region_name = web.region_names([data["region"]]).get(data["region"], "")
        try:
            page = people.list_persons(
                request.user,
                filters,
                cursor=data["cursor"],
                limit=PAGE_SIZE,
                with_count=searching,
                channel=CHANNEL,
                request=request,
            )
        except errors.ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            rows = display.person_rows(request.user, page.items, request=request)
    context = {
        "form": form,
        "rows": rows,
        "page": page,
        "searching": searching,
        "next_url": _next_page_url(request, page),
        "region_name": region_name,
        "can_create": can(request.user, Action.PERSON_CREATE),
    }
    return _partial_or_page(request, "web/person_list.html", "web/_person_results.html", context)


def _next_page_url(request: HttpRequest, page: people.Page | None) -> str:
    if page is None or not page.next_cursor:
        return ""
    query = request.GET.copy()
    query["cursor"] = page.next_cursor
    return f"{request.path}?{query.urlencode()}"


@login_required
@require_GET
@service_errors
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = people.get_person(request.user, person_id)
    shown = display.person_rows(request.user, [person], request=request)[0]
    history = None
    if can(request.user, Action.HISTORY_VIEW):
        changes = people.person_history(request.user, person)
        history = display.history_rows(
            people.present_history(request.user, person, changes, channel=CHANNEL, request=request)
        )
    context = {
        "person": shown,
        "household": person.household,
        "path": web.region_path(request.user, person.region_code),
        "history": history,
        "can_edit": can(request.user, Action.PERSON_EDIT),
        "actions": person_actions.for_person(request.user, person.pk),
        "timeline": timeline.entries_for(request.user, person.pk),
    }
    return render(request, "web/person_detail.html", context)


HOUSEHOLDS_OFFERED = 500


def _household_choices(user: Any, near: int | None) -> list[tuple[int, str]]:
    """Households to choose by address: those of the village of the household ``near`` (the
    person's or the one the page came from), else the user's own when few enough."""
    from fangkong.core.regions import region_labels
    from fangkong.people.models import Household

    households = jurisdiction.scope(Household.objects.all(), user)
    if near is not None:
        village = households.filter(pk=near).values_list("region_code", flat=True).first()
        if village:
            households = households.filter(jurisdiction.prefix_q("region_code", [village[:12]]))
    elif households.count() > HOUSEHOLDS_OFFERED:
        return []
    rows = list(
        households.order_by("region_code", "address").values_list("pk", "address", "region_code")[
            :HOUSEHOLDS_OFFERED
        ]
    )
    labels = region_labels({code for _pk, _a, code in rows}, with_township=False)
    return [(pk, f"{address}（{labels.get(code, '')}）") for pk, address, code in rows]


def _person_form(request: HttpRequest, *, editing: bool, **kwargs: Any) -> PersonForm:
    hidden = frozenset({"id_number", "phone"} - visible_fields(request.user))
    near = (kwargs.get("initial") or {}).get("household")
    posted = request.POST.get("household", "") if request.method == "POST" else ""
    if posted.isdigit():
        near = int(posted)
    return PersonForm(
        request.POST if request.method == "POST" else None,
        residences=web.residence_choices(request.user),
        hidden_fields=hidden,
        editing=editing,
        households=_household_choices(
            request.user,
            int(near) if str(near or "").isascii() and str(near or "").isdigit() else None,
        ),
        **kwargs,
    )


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def person_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.PERSON_CREATE)
    initial = {"household": request.GET.get("household") or None, "category": "resident"}
    form = _person_form(request, editing=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.create_person(
                user=request.user, data=form.service_data(), channel=CHANNEL, request=request
            )
        except errors.ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The person has been registered."))
            return redirect("web:person_detail", person_id=person.pk)
    return render(request, "web/person_form.html", {"form": form, "editing": False})


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    require(request.user, Action.PERSON_EDIT)
    person = people.get_person(request.user, person_id)
    current = display.person_rows(request.user, [person], request=request)[0]
    form = _person_form(request, editing=True, initial=_person_initial(request.user, person))
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.update_person(
                user=request.user,
                person_id=person.pk,
                expected_version=form.cleaned_data["version"] or 0,
                data=form.service_data(),
                reason=form.cleaned_data["reason"],
                channel=CHANNEL,
                request=request,
            )
        except errors.ValidationFailed as exc:
            apply_errors(form, exc)
        except errors.VersionConflict as exc:
            conflict = exc.detail
            person = people.get_person(request.user, person_id)
            current = display.person_rows(request.user, [person], request=request)[0]
            # The form keeps what the user typed; it now names the version they have seen.
            form.data = form.data.copy()
            form.data["version"] = str(person.version)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("web:person_detail", person_id=person.pk)
    context = {"form": form, "editing": True, "person": current, "conflict": conflict}
    return render(request, "web/person_form.html", context)


def _person_initial(user: Any, person: Person) -> dict[str, Any]:
    visible = visible_fields(user)
    return {
        "name": person.name,
        "id_number": person.id_number if "id_number" in visible else "",
        "phone": person.phone if "phone" in visible else "",
        "sex": person.sex,
        "birth_date": person.birth_date,
        "region_code": person.region_code,
        "household": person.household_id,
        "category": person.category,
        "version": person.version,
    }


# --- Households ----------------------------------------------------------------------------


@login_required
@require_GET
@service_errors
def household_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.HOUSEHOLD_VIEW)
    form = HouseholdSearchForm(request.GET)
    ui.bind_actor(form, request.user)
    page = None
    rows: list[dict] = []
    if form.is_valid():
        data = form.cleaned_data
        try:
            page = people.list_households(
                request.user,
                region_code=data["region"],
                q=data["q"],
                cursor=data["cursor"],
                limit=PAGE_SIZE,
            )
        except errors.ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            rows = display.household_rows(request.user, page.items)
    context = {
        "form": form,
        "rows": rows,
        "page": page,
        "next_url": _next_page_url(request, page),
        "can_create": can(request.user, Action.HOUSEHOLD_EDIT),
    }
    return _partial_or_page(
        request, "web/household_list.html", "web/_household_results.html", context
    )


@login_required
@require_GET
@service_errors
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    household = people.get_household(request.user, household_id)
    members: list[dict] = []
    if can(request.user, Action.PERSON_VIEW):
        page = people.list_persons(
            request.user, people.PersonFilters(household_id=household.pk), limit=people.MAX_PAGE
        )
        members = display.person_rows(request.user, page.items, request=request)
    context = {
        "household": household,
        "region_name": display.residence_labels([household.region_code])[household.region_code],
        "path": web.region_path(request.user, household.region_code),
        "unit": household.unit,
        "members": members,
        "can_edit": can(request.user, Action.HOUSEHOLD_EDIT),
        "can_add_person": can(request.user, Action.PERSON_CREATE),
    }
    return render(request, "web/household_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def household_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.HOUSEHOLD_EDIT)
    form = HouseholdForm(
        request.POST if request.method == "POST" else None,
        residences=web.residence_choices(request.user),
        initial={"region_code": request.GET.get("region", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            household = services.create_household(
                user=request.user, data=form.service_data(), channel=CHANNEL, request=request
            )
        except errors.ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The household has been registered."))
            return redirect("web:household_detail", household_id=household.pk)
    return render(request, "web/household_form.html", {"form": form, "editing": False})


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def household_edit(request: HttpRequest, household_id: int) -> HttpResponse:
    require(request.user, Action.HOUSEHOLD_EDIT)
    household = people.get_household(request.user, household_id)
    members = list(
        people.persons_visible_to(request.user)
        .filter(household_id=household.pk)
        .order_by("name", "id")
        .values_list("id", "name")[: people.MAX_PAGE]
    )
    form = HouseholdForm(
        request.POST if request.method == "POST" else None,
        residences=web.residence_choices(request.user),
        members=members,
        editing=True,
        initial={
            "address": household.address,
            "region_code": household.region_code,
            "head": household.head_id or "",
            "version": household.version,
        },
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.update_household(
                user=request.user,
                household_id=household.pk,
                expected_version=form.cleaned_data["version"] or 0,
                data=form.service_data(),
                channel=CHANNEL,
                request=request,
            )
        except errors.ValidationFailed as exc:
            apply_errors(form, exc)
        except errors.VersionConflict as exc:
            conflict = exc.detail
            household = people.get_household(request.user, household_id)
            form.data = form.data.copy()
            form.data["version"] = str(household.version)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("web:household_detail", household_id=household.pk)
    context = {"form": form, "editing": True, "household": household, "conflict": conflict}
    return render(request, "web/household_form.html", context)


# --- Background tasks ----------------------------------------------------------------------


@signed_in
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    tasks = list(web.tasks_visible_to(request.user).select_related("created_by")[:100])
    context = {"tasks": tasks, "worker": task_kit.worker_status()}
    return render(request, "web/task_list.html", context)


@signed_in
@require_GET
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    task = web.get_task(request.user, task_id)
    context = {
        "task": task,
        "result": display.task_result_rows(task.result),
        "can_retry": task_kit.can_retry(request.user, task),
        "worker": task_kit.worker_status(),
    }
    return render(request, "web/task_detail.html", context)


@signed_in
@require_POST
def task_retry(request: HttpRequest, task_id: int) -> HttpResponse:
    """Run a failed task again (same file, same settings), as the user who first asked."""
    task = web.get_task(request.user, task_id)
    try:
        task_kit.retry(task, user=request.user)
    except errors.VersionConflict as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, _("The task has been queued again."))
    return redirect("web:task_detail", task_id=task.pk)


@signed_in
@require_GET
def task_progress(request: HttpRequest, task_id: int) -> HttpResponse:
    """The progress bar alone, polled by htmx while the task runs."""
    task = web.get_task(request.user, task_id)
    return render(request, "components/progress.html", {"task": task})
