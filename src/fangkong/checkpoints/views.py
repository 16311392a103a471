"""Pages of the checkpoints module.

The checkpoint staff's home is their post's passage log: one screen, one hand. The person is
picked by scan or typed name, the verdict of the rules shows as the fields change (htmx),
and one tap records. The pages of the township (posts, rosters, pass cards) and of the
inspector (night inspections) hang off the module's home.

The log page is one of the field app's offline screens (issue 20): it carries its own offline
work set, the health-code rules and today's risk areas (rules only, never a person's data),
from which queue.js shows a provisional verdict while the phone has no connection.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import figures, jurisdiction, ui
from fangkong.core.errors import ValidationFailed, VersionConflict
from fangkong.core.permissions import requires
from fangkong.core.personal import Disclosure
from fangkong.core.regions import region_labels
from fangkong.core.roles import Action, can

from . import forms, roster, rules, services
from .models import Inspection, Passage, Post

SESSION_POST = "checkpoints.post"
# Risk areas the log page carries for offline use; far more than are ever in force at once,
# and few enough that the page stays small (about 80 bytes each).
OFFLINE_RISK_AREAS = 500


def _perms(user: Any) -> dict[str, bool]:
    return {
        "can_log": can(user, Action.CHECKPOINT_LOG),
        "can_manage": can(user, Action.CHECKPOINT_MANAGE),
        "can_inspect": can(user, Action.CHECKPOINT_INSPECT),
    }


def _figures(user: Any) -> list[dict[str, Any]]:
    codes = sorted(jurisdiction.user_codes(user)) or [""]
    prefix = codes[0] if len(codes) == 1 else ""
    query = figures.FigureQuery(prefix=prefix, group_length=max(len(prefix), 6), at=timezone.now())
    out = []
    for key in (
        "checkpoints.passages_today",
        "checkpoints.refused_today",
        "checkpoints.night_inspections",
    ):
        fig = figures.get(key)
        out.append(
            {
                "label": fig.label,
                "value": figures.total(figures.compute(key, query)),
                "unit": fig.unit,
            }
        )
    return out


@requires(Action.CHECKPOINT_VIEW)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The module's home: figures, the posts with their gaps and today's counts."""
    user = request.user
    rows = list(services.posts(user).order_by("region_code", "name")[:300])
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    today = services.counts_by_post(services.passages(user).filter(at__gte=start))
    labels = region_labels([p.region_code for p in rows])
    for p in rows:
        p.today = today.get(p.pk, 0)  # type: ignore[attr-defined]
        p.place = labels.get(p.region_code, "")  # type: ignore[attr-defined]
    return render(
        request,
        "checkpoints/home.html",
        {"posts": rows, "figures": _figures(user), **_perms(user)},
    )


@requires(Action.CHECKPOINT_VIEW)
@require_GET
def my_post(request: HttpRequest) -> HttpResponse:
    """Checkpoint staff's home: the passage log of their post (the one of their current or
    next shift, else the last one used, else the first of their area)."""
    user = request.user
    mine = list(services.my_assignments(user).order_by("starts_at")[:1])
    post_id = mine[0].post_id if mine else request.session.get(SESSION_POST)
    allowed = services.posts(user).filter(active=True)
    chosen = allowed.filter(pk=post_id).first() if post_id else None
    chosen = chosen or allowed.order_by("region_code", "name").first()
    if chosen is None:
        return render(request, "checkpoints/no_post.html", {**_perms(user)})
    if can(user, Action.CHECKPOINT_LOG):
        return redirect("checkpoints:log", post_id=chosen.pk)
    return redirect("checkpoints:post_detail", post_id=chosen.pk)


def _passage_rows(request: HttpRequest, rows: list[Passage]) -> list[dict[str, Any]]:
    with Disclosure(request.user, channel="web", request=request) as d:
        return [
            {
                "p": p,
                "id_number": d.id_number(p.id_number, ref=("person", p.person_id))
                if p.person_id
                else d.id_number(p.id_number),
            }
            for p in rows
        ]


@requires(Action.CHECKPOINT_VIEW)
@require_GET
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    user = request.user
    the_post = services.post(user, post_id)
    day = timezone.localdate()
    recent = list(services.passages(user).filter(post=the_post)[:30])
    return render(
        request,
        "checkpoints/post.html",
        {
            "post": the_post,
            "counts": services.throughput(user, the_post, day),
            "rows": _passage_rows(request, recent),
            "on_duty": services.staff_on(the_post, timezone.now()),
            "inspections": services.inspections(user).filter(post=the_post)[:5],
            "region": region_labels([the_post.region_code]).get(the_post.region_code, ""),
            **_perms(user),
        },
    )


@requires(Action.CHECKPOINT_MANAGE)
@require_http_methods(["GET", "POST"])
def post_edit(request: HttpRequest, post_id: int | None = None) -> HttpResponse:
    user = request.user
    the_post = services.post(user, post_id) if post_id else None
    initial: dict[str, Any] = {}
    if the_post:
        initial = {f: getattr(the_post, f) for f in services.POST_FIELDS}
        initial["version"] = the_post.version
    form = forms.PostForm(request.POST or None, actor=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            saved = services.save_post(
                actor=user, data=data, post_id=post_id, version=form.cleaned_data.get("version")
            )
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        except VersionConflict:
            form.add_error(None, "该卡点已被他人修改，请刷新后重新填写。")
        else:
            messages.success(request, "卡点已保存。")
            return redirect("checkpoints:post_detail", post_id=saved.pk)
    return render(request, "checkpoints/post_form.html", {"form": form, "post": the_post})


def _input(form: forms.PassageForm, actor: Any) -> services.PassageInput:
    data = form.cleaned_data
    occupants = []
    for i, line in enumerate((data.get("occupants") or "").splitlines()):
        text = line.strip()
        if not text:
            continue
        number = len(text) == 18 and text[:17].isdigit()
        occupants.append(
            services.PassageInput(
                # An ID number is linked to the registry by the service (page and API alike).
                name="" if number else text,
                id_number=text.upper() if number else "",
                temperature=data.get("temperature"),
                code_colour=data.get("code_colour") or "green",
                itinerary_ok=bool(data.get("itinerary_ok")),
                mask=bool(data.get("mask")),
                client_key=f"{data.get('client_key')}-{i}" if data.get("client_key") else "",
            )
        )
    return services.PassageInput(
        kind=data.get("kind") or "person",
        direction=data.get("direction") or "in",
        person_id=data.get("person"),
        name=data.get("name") or "",
        id_number=(data.get("id_number") or "").upper(),
        plate=data.get("plate") or "",
        origin=data.get("origin") or "",
        temperature=data.get("temperature"),
        code_colour=data.get("code_colour") or "green",
        itinerary_ok=bool(data.get("itinerary_ok")),
        mask=bool(data.get("mask")),
        disinfected=bool(data.get("disinfected")),
        outcome=data.get("outcome") or "",
        client_key=data.get("client_key") or "",
        occupants=occupants,
    )


def _log_context(request: HttpRequest, the_post: Post, form: Any, **extra: Any) -> dict[str, Any]:
    user = request.user
    recent = list(services.passages(user).filter(post=the_post, vehicle__isnull=True)[:8])
    return {
        "post": the_post,
        "form": form,
        "rows": _passage_rows(request, recent),
        "counts": services.throughput(user, the_post, timezone.localdate()),
        "shifts": list(services.my_assignments(user).order_by("starts_at")[:3]),
        "others": services.posts(user).filter(active=True).exclude(pk=the_post.pk)[:30],
        "now": timezone.now(),
        **extra,
    }


def offline_rules() -> SafeString:
    """The log page's offline work set as JSON for a ``<script type="application/json">``:
    the health-code rules and the risk areas in force today (national data), nothing of a
    person. Non-ASCII stays as is (half the size of ``\\u`` escapes); ``<``, ``>`` and
    ``&`` are escaped so the text cannot close the script element."""
    day = timezone.localdate()
    areas = list(dict.fromkeys(services.risk_areas_on(day)))
    data = {
        "day": day.isoformat(),
        "code_rules": {**rules.DEFAULT_CODE_RULES, **services.code_rules()},
        "fever": str(rules.FEVER),
        "risk_areas": [[code, place] for code, place in areas[:OFFLINE_RISK_AREAS]],
        "more_risk_areas": len(areas) > OFFLINE_RISK_AREAS,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return mark_safe(text)  # safe: the characters that could end the script are escaped


def _fresh_form(user: Any, last: services.PassageInput | None = None) -> forms.PassageForm:
    """An empty form for the next person, keeping what is usually the same (direction,
    vehicle or not, where from)."""
    initial: dict[str, Any] = {"client_key": uuid.uuid4().hex}
    if last is not None:
        initial.update(
            direction=last.direction, origin=last.origin if last.kind == "vehicle" else ""
        )
    return forms.PassageForm(None, actor=user, initial=initial)


@requires(Action.CHECKPOINT_LOG)
@require_http_methods(["GET", "POST"])
def log(request: HttpRequest, post_id: int) -> HttpResponse:
    """The passage log of one post (the staff's home page)."""
    user = request.user
    the_post = services.post(user, post_id)
    request.session[SESSION_POST] = the_post.pk
    if request.method != "POST":
        context = _log_context(request, the_post, _fresh_form(user))
        return render(request, "checkpoints/log.html", {**context, "rules": offline_rules()})
    form = forms.PassageForm(request.POST, actor=user)
    recorded = None
    if form.is_valid():
        item = _input(form, user)
        try:
            recorded = services.record_passages(
                actor=user, post_id=the_post.pk, items=[item], channel="web"
            )[0]
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            form = _fresh_form(user, item)
    if request.htmx:  # type: ignore[attr-defined]
        context = _log_context(request, the_post, form, recorded=recorded)
        return render(request, "checkpoints/_log_panel.html", context)
    context = _log_context(request, the_post, form, recorded=recorded, rules=offline_rules())
    return render(request, "checkpoints/log.html", context)


@requires(Action.CHECKPOINT_LOG)
@require_POST
def check(request: HttpRequest, post_id: int) -> HttpResponse:
    """The verdict for what is typed so far (htmx, before recording)."""
    user = request.user
    the_post = services.post(user, post_id)
    form = forms.PassageForm(request.POST, actor=user)
    seen = None
    if form.is_valid():
        try:
            seen = services.preview(user, the_post, _input(form, user))
        except ValidationFailed:
            seen = None
    return render(request, "checkpoints/_verdict.html", {"seen": seen, "form": form})


@requires(Action.CHECKPOINT_VIEW)
@require_http_methods(["GET", "POST"])
def cards(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.CardForm(request.POST or None, actor=user)
    if request.method == "POST":
        if not can(user, Action.CHECKPOINT_MANAGE):
            services.require(user, Action.CHECKPOINT_MANAGE)
        if form.is_valid():
            try:
                card = services.issue_card(
                    actor=user,
                    person_id=form.cleaned_data["person"],
                    outings_per_week=form.cleaned_data["outings_per_week"],
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                messages.success(request, f"出入证 {card.number} 已发放。")
                return redirect("checkpoints:cards")
    now = timezone.now()
    page = ui.page_of(request, services.cards(user).order_by("region_code", "number"))
    items = list(page.items)
    with Disclosure(user, channel="web", request=request) as d:
        rows = [
            {
                "card": c,
                "id_number": d.id_number(c.person.id_number, ref=("person", c.person_id)),
                "left": services.card_outings_left(c, now),
            }
            for c in items
        ]
    return render(
        request,
        "checkpoints/cards.html",
        {"form": form, "rows": rows, "page": page, **_perms(user)},
    )


@requires(Action.CHECKPOINT_VIEW)
@require_http_methods(["GET", "POST"])
def rosters(request: HttpRequest) -> HttpResponse:
    user = request.user
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    form = forms.RosterForm(
        request.POST or None, actor=user, initial={"starts_on": monday, "days": 7}
    )
    why: list[str] = []
    if request.method == "POST":
        services.require(user, Action.CHECKPOINT_MANAGE)
        if form.is_valid():
            try:
                made, why = services.solve_roster(
                    actor=user,
                    township=form.cleaned_data["township"],
                    starts_on=form.cleaned_data["starts_on"],
                    days=form.cleaned_data["days"],
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                if made is not None:
                    messages.success(request, "排班已生成（草稿），请核对后发布。")
                    return redirect("checkpoints:roster", roster_id=made.pk)
    rows = list(services.rosters(user)[:50])
    labels = region_labels([r.township_code for r in rows])
    for r in rows:
        r.place = labels.get(r.township_code, "")  # type: ignore[attr-defined]
    return render(
        request,
        "checkpoints/rosters.html",
        {
            "form": form,
            "rows": rows,
            "why": why,
            "pool": services.staff_pool(user).count(),
            **_perms(user),
        },
    )


@requires(Action.CHECKPOINT_VIEW)
@require_http_methods(["GET", "POST"])
def roster_detail(request: HttpRequest, roster_id: int) -> HttpResponse:
    """The printable roster: a row per post, a column per day and shift; hand edits below."""
    user = request.user
    obj = services.roster_of(user, roster_id)
    if request.method == "POST":
        services.require(user, Action.CHECKPOINT_MANAGE)
        try:
            if request.POST.get("publish"):
                services.publish_roster(actor=user, roster_id=obj.pk)
                messages.success(request, "排班已发布，值守人员手机上可见。")
            else:
                _, broken = services.edit_roster(
                    actor=user,
                    roster_id=obj.pk,
                    version=int(request.POST.get("version") or 0),
                    day=dt.date.fromisoformat(request.POST.get("day", "")),
                    shift=int(request.POST.get("shift") or 0),
                    post_id=int(request.POST.get("post") or 0),
                    remove_staff_id=int(request.POST.get("remove") or 0) or None,
                    add_staff_id=int(request.POST.get("add") or 0) or None,
                )
                if broken:
                    messages.warning(request, "已修改，但违反排班规则：" + "；".join(broken[:5]))
                else:
                    messages.success(request, "已修改，排班规则复核通过。")
        except ValidationFailed as exc:
            messages.error(request, "；".join(e.message for e in exc.errors[:5]) or exc.detail)
        except VersionConflict:
            messages.error(request, "排班表已被他人修改，已显示最新版本，请重新操作。")
        except ValueError:
            messages.error(request, "请选择日期、班次和卡点。")
        return redirect("checkpoints:roster", roster_id=obj.pk)
    assignments = list(obj.assignments.select_related("staff", "post"))
    days = [obj.starts_on + dt.timedelta(days=i) for i in range(obj.days)]
    posts = sorted({a.post for a in assignments}, key=lambda p: (p.region_code, p.name))
    grid: dict[tuple[int, dt.date, int], list[Any]] = {}
    for a in assignments:
        grid.setdefault((a.post_id, a.day, a.shift), []).append(a)
    table = [
        {
            "post": p,
            "cells": [
                {"day": d, "shift": k, "staff": grid.get((p.pk, d, k), [])}
                for d in days
                for k in range(roster.SHIFTS)
            ],
        }
        for p in posts
    ]
    return render(
        request,
        "checkpoints/roster.html",
        {
            "roster": obj,
            "days": days,
            "shift_labels": roster.SHIFT_LABELS,
            "table": table,
            "broken": services.roster_violations(obj),
            "pool": services.staff_pool(user).filter(township_code=obj.township_code),
            "posts": posts,
            "place": region_labels([obj.township_code]).get(obj.township_code, ""),
            **_perms(user),
        },
    )


@requires(Action.CHECKPOINT_LOG)
@require_POST
def check_in(request: HttpRequest, assignment_id: int) -> HttpResponse:
    try:
        row = services.check_in(actor=request.user, assignment_id=assignment_id)
    except ValidationFailed as exc:
        messages.error(request, exc.errors[0].message if exc.errors else exc.detail)
        return redirect("checkpoints:post")
    messages.success(request, "已签到。")
    return redirect("checkpoints:log", post_id=row.post_id)


@requires(Action.CHECKPOINT_VIEW)
@require_GET
def inspections(request: HttpRequest) -> HttpResponse:
    user = request.user
    page = ui.page_of(request, services.inspections(user))
    return render(request, "checkpoints/inspections.html", {"page": page, **_perms(user)})


@requires(Action.CHECKPOINT_INSPECT)
@require_http_methods(["GET", "POST"])
def inspection_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    choices = [(p.pk, p.name) for p in services.posts(user).filter(active=True)[:300]]
    wanted = request.GET.get("post", "")
    form = forms.InspectionForm(
        request.POST or None,
        request.FILES or None,
        actor=user,
        initial={"at": timezone.localtime().replace(second=0, microsecond=0), "post": wanted},
    )
    form.fields["post"].choices = choices
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            obj = services.record_inspection(
                actor=user,
                post_id=data["post"],
                at=data["at"],
                items={k: data[k] for k in Inspection.ITEMS},
                note=data.get("note") or "",
                photo=data.get("photo"),
            )
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(
                request, "督查记录已保存" + ("，发现的问题已列入问题清单。" if obj.failed else "。")
            )
            return redirect("checkpoints:inspection", inspection_id=obj.pk)
    return render(request, "checkpoints/inspection_form.html", {"form": form})


@requires(Action.CHECKPOINT_VIEW)
@require_GET
def inspection_detail(request: HttpRequest, inspection_id: int) -> HttpResponse:
    obj = services.inspection_of(request.user, inspection_id)
    return render(request, "checkpoints/inspection.html", {"i": obj})


@requires(Action.CHECKPOINT_MANAGE)
@require_http_methods(["GET", "POST"])
def push(request: HttpRequest) -> HttpResponse:
    """Push new rules (risk areas, measures) to every post's staff; confirm within 2 hours."""
    user = request.user
    form = forms.PushForm(request.POST or None, actor=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.push_rules(actor=user, **form.cleaned_data)
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(request, "已推送到各卡点值守人员，须在 2 小时内确认。")
            return redirect("checkpoints:home")
    return render(request, "checkpoints/push.html", {"form": form})
