"""Pages of supplies: the stock board (home of the supply officer), a store with its issue
form (built for a keeper's phone), receiving units and their issue ledgers (print, Excel),
the stock-count import, requests with a fair-share suggestion, purchases in transit,
donations with their certificates and the published list, funds, and prices.

Thin glue: forms parse, selectors read (scoped by jurisdiction), services decide and write.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import replica, ui
from fangkong.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from fangkong.core.models import Region
from fangkong.core.permissions import public, requires
from fangkong.core.regions import region_names
from fangkong.core.roles import Action, can

from . import cover as coverlib
from . import forms, selectors, services, spreadsheets
from .models import Donation, Item, MovementKind, RequestStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    return response


def _perms(user: Any) -> dict[str, bool]:
    return {
        "can_move": can(user, Action.SUPPLIES_MOVE),
        "can_manage": can(user, Action.SUPPLIES_MANAGE),
        "can_request": can(user, Action.SUPPLIES_REQUEST),
        "can_funds": can(user, Action.SUPPLIES_FUNDS),
        "can_prices": can(user, Action.SUPPLIES_PRICES),
        "can_view": can(user, Action.SUPPLIES_VIEW),
    }


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {**_perms(request.user), **context})


def _fail(request: HttpRequest, exc: ValidationFailed | VersionConflict) -> None:
    if isinstance(exc, VersionConflict):
        messages.error(request, exc.detail)
        return
    for error in exc.errors or []:
        messages.error(request, error.message)
    if not exc.errors:
        messages.error(request, exc.detail)


# Home: stock by store ---------------------------------------------------------------------


@requires(Action.SUPPLIES_VIEW)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Stock by store with days of cover, short items first, and the alerts."""
    user = request.user
    with replica.reading():
        boards = selectors.stock_board(user)
        short = [(b.warehouse, r) for b in boards for r in b.short]
        codes = sorted({b.warehouse.region_code for b in boards})
        county = codes[0][:6] if codes else ""
        staple = selectors.staple_reserve(user, county) if county else []
        transit = selectors.orders(user).filter(status__in=selectors.OPEN_ORDERS).count()
        pending = selectors.requests(user).filter(status=RequestStatus.PENDING).count()
    return _page(
        request,
        "supplies/home.html",
        {
            "boards": boards,
            "short": short,
            "staple": staple,
            "transit": transit,
            "pending": pending,
            "alert_days": coverlib.ALERT_DAYS,
            "window_days": coverlib.WINDOW_DAYS,
        },
    )


@requires(Action.SUPPLIES_VIEW)
@require_GET
def stock_export(request: HttpRequest) -> HttpResponse:
    with replica.reading():
        content = spreadsheets.stock_xlsx(selectors.stock_board(request.user))
    return _xlsx(content, f"库存与可供天数_{timezone.localdate():%Y%m%d}.xlsx")


# A store ----------------------------------------------------------------------------------


def _last_issue_initial(user: Any, warehouse_id: int) -> dict[str, Any]:
    """The next issue prefilled from the last one this keeper made in this store."""
    last = (
        selectors.movements(user)
        .filter(warehouse_id=warehouse_id, kind=MovementKind.ISSUE, by_user=user)
        .order_by("-at", "-id")
        .first()
    )
    if last is None:
        return {}
    quantity = Decimal(services.fmt(-last.quantity))  # 70, not 70.000
    return {"item_id": last.item_id, "recipient_id": last.recipient_id, "quantity": quantity}


@requires(Action.SUPPLIES_VIEW)
@require_http_methods(["GET", "POST"])
def warehouse(request: HttpRequest, warehouse_id: int) -> HttpResponse:
    """One store: its stock and cover, the issue form, receipts/losses/counts, transfers and
    the latest movements. Every post re-renders with the balance the service left."""
    user = request.user
    store = services.warehouse_for(user, warehouse_id)
    action = request.POST.get("form", "") if request.method == "POST" else ""
    issue = forms.IssueForm(
        request.POST if action == "issue" else None,
        actor=user,
        initial=_last_issue_initial(user, store.pk),
    )
    other = forms.MovementForm(request.POST if action == "move" else None, actor=user)
    transfer = forms.TransferForm(
        request.POST if action == "transfer" else None, actor=user, exclude=store.pk
    )
    if action:
        if not can(user, Action.SUPPLIES_MOVE):
            raise PermissionDenied(Action.SUPPLIES_MOVE)
        form = {"issue": issue, "move": other, "transfer": transfer}.get(action)
        if form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                if action == "issue":
                    m = services.record_movement(
                        actor=user,
                        data=services.MovementInput(
                            warehouse_id=store.pk,
                            item_id=data["item_id"],
                            kind=MovementKind.ISSUE,
                            quantity=data["quantity"],
                            recipient_id=data["recipient_id"],
                            received_by=data["received_by"],
                            reason=data["reason"],
                        ),
                    )
                    messages.success(
                        request,
                        f"已发放{m.item.name}{services.fmt(-m.quantity)}{m.item.unit}给"
                        f"{m.recipient.name if m.recipient else ''}，"
                        f"结存{services.fmt(m.balance_after)}{m.item.unit}",
                    )
                elif action == "move":
                    m = services.record_movement(
                        actor=user,
                        data=services.MovementInput(
                            warehouse_id=store.pk,
                            item_id=data["item_id"],
                            kind=data["kind"],
                            quantity=data["quantity"],
                            reason=data["reason"],
                            document=data["document"],
                            batch_no=data["batch_no"],
                            expires_on=data["expires_on"],
                        ),
                    )
                    messages.success(
                        request,
                        f"已记录{m.get_kind_display()}：{m.item.name}，结存"
                        f"{services.fmt(m.balance_after)}{m.item.unit}",
                    )
                else:
                    out, _in = services.transfer(
                        actor=user,
                        from_id=store.pk,
                        to_id=data["to_id"],
                        item_id=data["item_id"],
                        quantity=data["quantity"],
                        reason=data["reason"],
                    )
                    messages.success(
                        request,
                        f"已调拨{out.item.name}{services.fmt(-out.quantity)}{out.item.unit}到"
                        f"{_in.warehouse.name}",
                    )
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                return redirect("supplies:warehouse", store.pk)
    boards = selectors.stock_board(user, warehouse_id=store.pk)
    recent = selectors.movements(user).filter(warehouse=store)[:30]
    return _page(
        request,
        "supplies/warehouse.html",
        {
            "store": store,
            "board": boards[0] if boards else None,
            "recent": recent,
            "issue_form": issue,
            "move_form": other,
            "transfer_form": transfer,
            "action": action,
        },
    )


# Stores and units -------------------------------------------------------------------------


@requires(Action.SUPPLIES_VIEW)
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Stores with their keepers and the receiving units; new ones for the managers."""
    user = request.user
    action = request.POST.get("form", "") if request.method == "POST" else ""
    store_form = forms.WarehouseForm(request.POST if action == "store" else None, actor=user)
    unit_form = forms.RecipientForm(request.POST if action == "unit" else None, actor=user)
    if action:
        if not can(user, Action.SUPPLIES_MANAGE):
            raise PermissionDenied(Action.SUPPLIES_MANAGE)
        form = store_form if action == "store" else unit_form
        if form.is_valid():
            try:
                if action == "store":
                    services.create_warehouse(actor=user, **form.cleaned_data)
                    messages.success(request, "仓库已添加")
                else:
                    services.create_recipient(actor=user, **form.cleaned_data)
                    messages.success(request, "领用单位已添加")
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                return redirect("supplies:setup")
    stores = list(selectors.warehouses(user))
    units = list(selectors.recipients(user))
    names = region_names([s.region_code for s in stores] + [u.region_code for u in units])
    for row in [*stores, *units]:
        row.region_name = names.get(row.region_code, "")  # type: ignore[union-attr]
    return _page(
        request,
        "supplies/setup.html",
        {
            "stores": stores,
            "units": units,
            "names": names,
            "store_form": store_form,
            "unit_form": unit_form,
        },
    )


@requires(Action.SUPPLIES_VIEW)
@require_GET
def ledger(request: HttpRequest, recipient_id: int) -> HttpResponse:
    """The issue ledger of one unit (领用台账): printable, or Excel with ?format=xlsx."""
    recipient, found = selectors.issue_ledger(request.user, recipient_id)
    rows: list[Any] = list(found)
    if request.GET.get("format") == "xlsx":
        content = spreadsheets.ledger_xlsx(recipient, rows)
        return _xlsx(content, f"{recipient.name}_领用台账_{timezone.localdate():%Y%m%d}.xlsx")
    totals: dict[int, tuple[Item, Decimal]] = {}
    for m in rows:
        m.issued = -m.quantity  # type: ignore[attr-defined]
        item, total = totals.get(m.item_id, (m.item, Decimal(0)))
        totals[m.item_id] = (item, total - m.quantity)
    return _page(
        request,
        "supplies/ledger.html",
        {"recipient": recipient, "rows": rows, "totals": totals.values()},
    )


# Stock-count import ------------------------------------------------------------------------


@requires(Action.SUPPLIES_MOVE)
@require_http_methods(["GET", "POST"])
def stock_import(request: HttpRequest) -> HttpResponse:
    """Upload a stock-count sheet; errors by row and column, nothing stored on any error."""
    if request.GET.get("template"):
        return _xlsx(spreadsheets.count_template(request.user), "盘点表模板.xlsx")
    posted = request.method == "POST"
    form = forms.ImportForm(request.POST if posted else None, request.FILES if posted else None)
    errors: list[spreadsheets.RowError] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            form.add_error("file", "文件不能超过5MB")
        else:
            try:
                applied = spreadsheets.import_counts(
                    actor=request.user, content=upload.read(), file_name=upload.name[:100]
                )
            except spreadsheets.ImportRejected as exc:
                errors = exc.rows
                messages.error(request, exc.detail)
            else:
                messages.success(request, f"已导入{applied}行盘点数据")
                return redirect("supplies:home")
    return _page(request, "supplies/import.html", {"form": form, "errors": errors})


# Requests ---------------------------------------------------------------------------------


@requires(Action.SUPPLIES_REQUEST, Action.SUPPLIES_MANAGE, any_of=True)
@require_http_methods(["GET", "POST"])
def requests_page(request: HttpRequest) -> HttpResponse:
    """Requests of the units; for the approvers, a fair-share suggestion per item when the
    stock of the supplying store does not cover all pending requests."""
    user = request.user
    form = (
        forms.RequestForm(request.POST or None, actor=user)
        if can(user, Action.SUPPLIES_REQUEST)
        else None
    )
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            services.create_request(actor=user, **form.cleaned_data)
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(request, "申领已提交，等待审批")
            return redirect("supplies:requests")
    pending = list(
        selectors.requests(user).filter(status=RequestStatus.PENDING).order_by("requested_at")
    )
    suggestions = _suggest(pending)
    done = selectors.requests(user).exclude(status=RequestStatus.PENDING)[:30]
    return _page(
        request,
        "supplies/requests.html",
        {
            "form": form,
            "pending": [(r, suggestions.get(r.pk)) for r in pending],
            "done": done,
            "stores": list(selectors.warehouses(user)),
        },
    )


def _suggest(pending: list[Any]) -> dict[int, tuple[Decimal, Decimal]]:
    """{request id: (suggested, available)} per supplying store and item."""
    groups: dict[tuple[int, int], list[Any]] = {}
    for r in pending:
        if r.recipient.warehouse_id:
            groups.setdefault((r.recipient.warehouse_id, r.item_id), []).append(r)
    result: dict[int, tuple[Decimal, Decimal]] = {}
    from .models import StockLevel

    for (wid, iid), group in groups.items():
        level = StockLevel.objects.filter(warehouse_id=wid, item_id=iid).first()
        available = level.quantity if level else Decimal(0)
        shares = coverlib.fair_share(
            available, [(r.quantity, services.weight_of(r.recipient)) for r in group]
        )
        for r, share in zip(group, shares, strict=True):
            result[r.pk] = (share, available)
    return result


@requires(Action.SUPPLIES_MANAGE)
@require_POST
def request_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    user = request.user
    try:
        version = int(request.POST.get("version", "0"))
        if request.POST.get("decision") == "reject":
            services.reject_request(actor=user, request_id=request_id, version=version)
            messages.success(request, "已驳回")
        else:
            r = services.approve_request(
                actor=user,
                request_id=request_id,
                version=version,
                warehouse_id=int(request.POST.get("warehouse_id", "0") or 0),
                quantity=request.POST.get("quantity", ""),
                received_by=request.POST.get("received_by", "")[:50],
            )
            messages.success(request, f"已批准并发放{services.fmt(r.approved_quantity or 0)}")
    except (ValidationFailed, VersionConflict) as exc:
        _fail(request, exc)
    except ValueError:
        messages.error(request, "请填写数字")
    return redirect("supplies:requests")


# Purchases --------------------------------------------------------------------------------


@requires(Action.SUPPLIES_VIEW)
@require_http_methods(["GET", "POST"])
def orders(request: HttpRequest) -> HttpResponse:
    """Purchases by supplier and channel, shipments in transit (delayed, intercepted)."""
    user = request.user
    form = forms.OrderForm(
        request.POST or None, actor=user, initial={"expected_on": timezone.localdate()}
    )
    if request.method == "POST":
        if not can(user, Action.SUPPLIES_MANAGE):
            raise PermissionDenied(Action.SUPPLIES_MANAGE)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["unit_price"] = data.get("unit_price") or 0
            try:
                services.create_order(actor=user, **data)
            except ValidationFailed as exc:
                ui.apply_errors(form, exc)
            else:
                messages.success(request, "采购订单已登记")
                return redirect("supplies:orders")
    rows = selectors.orders(user).order_by("-ordered_at")[:100]
    return _page(
        request,
        "supplies/orders.html",
        {"form": form, "orders": rows, "status_form": forms.OrderStatusForm()},
    )


@requires(Action.SUPPLIES_MANAGE)
@require_POST
def order_status(request: HttpRequest, order_id: int) -> HttpResponse:
    user = request.user
    try:
        version = int(request.POST.get("version", "0"))
        if request.POST.get("status") == "received":
            services.receive_order(actor=user, order_id=order_id, version=version)
            messages.success(request, "已到货入库")
        else:
            services.set_order_status(
                actor=user,
                order_id=order_id,
                version=version,
                status=request.POST.get("status", ""),
                note=request.POST.get("note", "")[:200],
            )
            messages.success(request, "状态已更新")
    except (ValidationFailed, VersionConflict) as exc:
        _fail(request, exc)
    except ValueError:
        messages.error(request, "数据不对")
    return redirect("supplies:orders")


# Donations --------------------------------------------------------------------------------


@requires(Action.SUPPLIES_FUNDS)
@require_http_methods(["GET", "POST"])
def donations(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.DonationForm(request.POST or None, actor=user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        for key in ("amount", "quantity", "value"):
            data[key] = data.get(key) or 0
        try:
            donation = services.record_donation(actor=user, **data)
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(request, f"已登记捐赠，证书编号{donation.certificate_no}")
            return redirect("supplies:certificate", donation.pk)
    rows = list(selectors.donations(user)[:200])
    return _page(
        request,
        "supplies/donations.html",
        {"form": form, "rows": rows, "totals": selectors.donation_totals(user)},
    )


@requires(Action.SUPPLIES_FUNDS)
@require_GET
def certificate(request: HttpRequest, donation_id: int) -> HttpResponse:
    """A printable thank-you certificate (捐赠证书)."""
    donation = selectors.donations(request.user).filter(pk=donation_id).first()
    if donation is None:
        raise NotFound("donation")
    return render(request, "supplies/certificate.html", {"d": donation})


@public("the donation list is published by the county; names only where donors agreed")
@require_GET
def donation_list_public(request: HttpRequest, county: str) -> HttpResponse:
    if not (county.isdigit() and len(county) == 6):
        raise NotFound("county")
    rows = Donation.objects.filter(region_code__startswith=county).select_related("item")[:500]
    published = [(services.donor_label(d), d) for d in rows]
    name = Region.objects.filter(code=county).values_list("name", flat=True).first() or ""
    return render(
        request, "supplies/donations_public.html", {"rows": published, "county_name": name}
    )


# Funds ------------------------------------------------------------------------------------


@requires(Action.SUPPLIES_FUNDS)
@require_http_methods(["GET", "POST"])
def funds(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.FundForm(
        request.POST if request.POST.get("form") == "fund" else None,
        actor=user,
        initial={"allocated_on": timezone.localdate()},
    )
    if request.method == "POST" and request.POST.get("form") == "fund" and form.is_valid():
        try:
            services.allocate_fund(actor=user, **form.cleaned_data)
        except ValidationFailed as exc:
            ui.apply_errors(form, exc)
        else:
            messages.success(request, "经费已登记")
            return redirect("supplies:funds")
    rows = list(selectors.funds(user).prefetch_related("entries"))
    names = region_names([f.region_code for f in rows])
    return _page(
        request,
        "supplies/funds.html",
        {
            "form": form,
            "rows": rows,
            "names": names,
            "entry_form": forms.FundEntryForm(),
            "totals": selectors.fund_totals(user),
        },
    )


@requires(Action.SUPPLIES_FUNDS)
@require_POST
def fund_entry(request: HttpRequest, fund_id: int) -> HttpResponse:
    form = forms.FundEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写类型、金额和用途")
        return redirect("supplies:funds")
    try:
        services.post_to_fund(actor=request.user, fund_id=fund_id, **form.cleaned_data)
    except ValidationFailed as exc:
        _fail(request, exc)
    else:
        messages.success(request, "已记账")
    return redirect("supplies:funds")


# Prices -----------------------------------------------------------------------------------


@requires(Action.SUPPLIES_PRICES)
@require_http_methods(["GET", "POST"])
def prices(request: HttpRequest) -> HttpResponse:
    user = request.user
    action = request.POST.get("form", "") if request.method == "POST" else ""
    watch_form = forms.WatchForm(request.POST if action == "watch" else None, actor=user)
    if action == "watch" and watch_form.is_valid():
        try:
            services.create_watch(actor=user, **watch_form.cleaned_data)
        except ValidationFailed as exc:
            ui.apply_errors(watch_form, exc)
        else:
            messages.success(request, "监测点已添加")
            return redirect("supplies:prices")
    if action == "price":
        price_form = forms.PriceForm(request.POST)
        if price_form.is_valid():
            try:
                report = services.report_price(actor=user, **price_form.cleaned_data)
            except ValidationFailed as exc:
                _fail(request, exc)
            else:
                if report.flagged:
                    messages.warning(request, "价格超过涨幅预警线，已列入哄抬物价核查")
                else:
                    messages.success(request, "价格已记录")
                return redirect("supplies:prices")
        else:
            messages.error(request, "请填写日期和价格")
    today = timezone.localdate()
    watches = list(selectors.watches(user))
    latest: dict[int, Any] = {}
    for report in selectors.price_reports(user).filter(day__gte=today - dt.timedelta(days=7)):
        latest.setdefault(report.watch_id, report)
    return _page(
        request,
        "supplies/prices.html",
        {
            "watch_form": watch_form,
            "rows": [(w, latest.get(w.pk)) for w in watches],
            "today": today,
            "flagged": selectors.price_reports(user).filter(flagged=True)[:20],
        },
    )
