"""Pages of tip-offs: the public form and receipt check (no account), the village's list,
hotline entry, verification, the reward ledger, the QR poster per village.

Thin glue: forms parse, services decide (and scope by jurisdiction). The tipster's phone is
shown through core.personal: unmasked only to the verifying roles, and each such read audited.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core import jurisdiction, regions, ui
from fangkong.core.errors import ValidationFailed, VersionConflict
from fangkong.core.models import Region
from fangkong.core.permissions import public, requires
from fangkong.core.roles import Action, can

from . import forms, services
from .models import PhotoStage, TipPhoto, TipStatus
from .selectors import tipster_phone

DEVICE_COOKIE = "fk_tip_device"


def _files(request: HttpRequest) -> list[bytes]:
    return [f.read(8 * 1024 * 1024 + 1) for f in request.FILES.getlist("photos")[:4]]


# --- public -----------------------------------------------------------------------------


@public("the public tip-off form, reached by the QR code on a village's poster")
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    # A flood from one address never gets here: middleware.RefuseFloodedSenders.
    device = request.COOKIES.get(DEVICE_COOKIE, "")
    if not (device.isalnum() and 16 <= len(device) <= 64):
        device = secrets.token_hex(16)
    village = request.GET.get("v", "")
    initial = {"stamp": services.form_token()}
    if regions.is_code(village) and len(village) == regions.VILLAGE_LENGTH:
        initial["region_code"] = village
    form = forms.PublicTipForm(request.POST or None, request.FILES or None, initial=initial)
    limited = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tip = services.submit_public_tip(
                data=services.TipInput(
                    kind=data["kind"],
                    region_code=data["region_code"],
                    text=data["text"],
                    place=data["place"],
                    happened_at=data["happened_at"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                ),
                photos=_files(request),
                address=request.META.get("REMOTE_ADDR"),
                device_token=device,
                form_stamp=data["stamp"],
                trap=data["website"],
            )
        except ValidationFailed as exc:
            limited = any(error.field == "rate" for error in exc.errors)
            ui.apply_errors(form, exc)
        else:
            response = redirect("tipoffs:receipt", tip.receipt_code)
            response.set_cookie(
                DEVICE_COOKIE, device, max_age=365 * 86400, httponly=True, samesite="Lax"
            )
            return response
    if request.method == "POST":
        # A fresh stamp for the next try: the old one may be the reason for the refusal.
        form.data = form.data.copy()
        form.data["stamp"] = services.form_token()
    response = render(request, "tipoffs/report.html", {"form": form})
    if request.method == "POST":
        response.status_code = 429 if limited else 400
    response.set_cookie(DEVICE_COOKIE, device, max_age=365 * 86400, httponly=True, samesite="Lax")
    return response


@public("the tipster's receipt after sending a tip-off: the code alone, nothing else")
@require_GET
def receipt(request: HttpRequest, code: str) -> HttpResponse:
    tip = services.status_by_receipt(code)
    if tip is None:
        raise Http404
    return render(request, "tipoffs/receipt.html", {"tip": tip})


@public("a tipster checks the status of a tip-off with the receipt code")
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "")[:20]
    tip = services.status_by_receipt(code) if code else None
    return render(request, "tipoffs/status.html", {"code": code, "tip": tip, "asked": bool(code)})


# --- staff ------------------------------------------------------------------------------


@requires(Action.TIPOFF_VIEW)
@require_GET
def tip_list(request: HttpRequest) -> HttpResponse:
    actor = request.user
    qs = services.tips_in_scope(actor).order_by("status", "deadline")
    wanted = request.GET.get("status", "pending")
    if wanted in TipStatus.values:
        qs = qs.filter(status=wanted)
    page = ui.page_of(request, qs, per_page=30)
    labels = regions.region_labels([t.region_code for t in page.items])
    for tip in page.items:
        tip.label = labels.get(tip.region_code, "")
    now = timezone.now()
    return render(
        request,
        "tipoffs/list.html",
        {
            "page": page,
            "labels": labels,
            "now": now,
            "wanted": wanted,
            "statuses": TipStatus.choices,
            "can_intake": can(actor, Action.TIPOFF_INTAKE),
            "overdue": services.tips_in_scope(actor)
            .filter(status=TipStatus.PENDING, deadline__lt=now)
            .count(),
        },
    )


@requires(Action.TIPOFF_INTAKE)
@require_http_methods(["GET", "POST"])
def tip_new(request: HttpRequest) -> HttpResponse:
    form = forms.HotlineTipForm(request.POST or None, request.FILES or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tip = services.record_hotline_tip(
                actor=request.user,
                data=services.TipInput(
                    kind=data["kind"],
                    region_code=data["region_code"],
                    text=data["text"],
                    place=data["place"],
                    happened_at=data["happened_at"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                ),
                photos=_files(request),
            )
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(request, f"已登记举报，回执码 {tip.receipt_code}")
            return redirect("tipoffs:tip", tip.pk)
    return render(request, "tipoffs/new.html", {"form": form})


@requires(Action.TIPOFF_VIEW)
@require_http_methods(["GET", "POST"])
def tip_detail(request: HttpRequest, tip_id: int) -> HttpResponse:
    actor = request.user
    tip = services.get_tip(actor, tip_id)
    form = None
    if can(actor, Action.TIPOFF_VERIFY) and tip.status == TipStatus.PENDING:
        form = forms.VerifyForm(
            request.POST or None,
            request.FILES or None,
            actor=actor,
            initial={"version": tip.version, "outcome": TipStatus.VERIFIED},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.verify_tip(
                    actor=actor,
                    tip_id=tip.pk,
                    outcome=data["outcome"],
                    finding=data["finding"],
                    version=data["version"],
                    duplicate_of=data["duplicate_of"],
                    person_id=data["person"],
                    village_missed=data["village_missed"],
                    photos=_files(request),
                )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc, {"person": "person"})
            except VersionConflict as exc:
                form.add_error(None, exc.detail)
            else:
                messages.success(request, "核实结果已记录")
                return redirect("tipoffs:tip", tip.pk)
    elif request.method == "POST":
        raise Http404
    phone = tipster_phone(actor, tip, channel="web", request=request)
    photos = list(tip.photos.values("pk", "stage", "width", "height"))
    reward = getattr(tip, "reward", None) if tip.status == TipStatus.VERIFIED else None
    penalty = getattr(tip, "penalty", None) if tip.village_missed else None
    return render(
        request,
        "tipoffs/detail.html",
        {
            "tip": tip,
            "phone": phone,
            "form": form,
            "tip_photos": [p for p in photos if p["stage"] == PhotoStage.TIP],
            "check_photos": [p for p in photos if p["stage"] == PhotoStage.VERIFICATION],
            "reward": reward,
            "penalty": penalty,
            "overdue": tip.status == TipStatus.PENDING and tip.deadline < timezone.now(),
        },
    )


@requires(Action.TIPOFF_VIEW)
@require_GET
def tip_photo(request: HttpRequest, tip_id: int, photo_id: int) -> HttpResponse:
    tip = services.get_tip(request.user, tip_id)
    photo = TipPhoto.objects.filter(tip=tip, pk=photo_id).first()
    if photo is None:
        raise Http404
    response = HttpResponse(bytes(photo.image), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@requires(Action.TIPOFF_VIEW)
@require_http_methods(["GET", "POST"])
def rewards(request: HttpRequest) -> HttpResponse:
    actor = request.user
    can_pay = can(actor, Action.TIPOFF_REWARD)
    if request.method == "POST":
        if not can_pay:
            raise Http404
        if "amount" in request.POST:
            rule_form = forms.RewardRuleForm(request.POST)
            if rule_form.is_valid():
                services.set_reward_rule(actor=actor, **rule_form.cleaned_data)
                messages.success(request, "奖励标准已更新")
            else:
                messages.error(request, "奖励标准无效")
            return redirect("tipoffs:rewards")
        pay = forms.PayForm(request.POST)
        reward_id = request.POST.get("reward", "")
        if pay.is_valid() and reward_id.isdigit():
            try:
                services.pay_reward(actor=actor, reward_id=int(reward_id), **pay.cleaned_data)
                messages.success(request, "已登记支付")
            except (ValidationFailed, VersionConflict) as exc:
                messages.error(request, str(exc))
        else:
            messages.error(request, "请填写支付凭证")
        return redirect("tipoffs:rewards")
    ledger = services.ledger(actor)
    items = list(services.rewards_in_scope(actor).order_by("paid_at", "-created_at")[:200])
    labels = regions.region_labels(
        [r["region_code"] for r in ledger] + [i.region_code for i in items]
    )
    for row in ledger:
        row["label"] = labels.get(row["region_code"], "")
    for item in items:
        item.label = labels.get(item.region_code, "")  # type: ignore[attr-defined]
    rule = services.current_reward_rule(timezone.now())
    return render(
        request,
        "tipoffs/rewards.html",
        {
            "ledger": ledger,
            "items": items,
            "labels": labels,
            "rule": rule,
            "can_pay": can_pay,
            "total": sum(r["amount"] for r in ledger),
        },
    )


@requires(Action.TIPOFF_VIEW)
@require_GET
def poster(request: HttpRequest, village: str) -> HttpResponse:
    """An A4 poster for a village: the QR code of the public form with the county's name."""
    import segno

    region = Region.objects.filter(code=village, level="village").first()
    if region is None or not jurisdiction.covers(request.user, village):
        raise Http404
    url = request.build_absolute_uri(reverse("tipoffs:report") + f"?v={village}")
    qr = segno.make(url, error="m")
    county = Region.objects.filter(code=village[:6]).values_list("name", flat=True).first() or ""
    township = (
        Region.objects.filter(code=village[: regions.TOWNSHIP_LENGTH])
        .values_list("name", flat=True)
        .first()
        or ""
    )
    if request.GET.get("format") == "png":
        import io

        out = io.BytesIO()
        qr.save(out, kind="png", scale=12, border=2)
        response = HttpResponse(out.getvalue(), content_type="image/png")
        response["Content-Disposition"] = f'attachment; filename="tipoff-qr-{village}.png"'
        return response
    svg = qr.svg_inline(scale=8, border=2)
    return render(
        request,
        "tipoffs/poster.html",
        {"region": region, "county": county, "township": township, "svg": svg, "url": url},
    )
