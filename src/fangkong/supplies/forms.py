"""Forms of the supplies pages: they parse input and offer names to choose (stores, units,
items by name, regions by the picker); the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from fangkong.core import ui

from . import selectors
from .models import (
    Channel,
    DonorKind,
    FundEntry,
    Item,
    MovementKind,
    OrderStatus,
    RecipientKind,
    WarehouseLevel,
)

QTY = {"max_digits": 14, "decimal_places": 3, "min_value": 0}
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


def item_choices() -> list[tuple[Any, str]]:
    return [
        (i.pk, f"{i.name}（{i.unit}）")
        for i in Item.objects.select_related("category").order_by("category__order", "order")
    ]


def store_choices(actor: Any) -> list[tuple[Any, str]]:
    return [(w.pk, w.name) for w in selectors.warehouses(actor)]


def unit_choices(actor: Any) -> list[tuple[Any, str]]:
    return [
        (r.pk, f"{r.name}（{r.get_kind_display()}）")
        for r in selectors.recipients(actor).order_by("kind", "name")
    ]


class IssueForm(ui.ActorForm):
    """Issue to a unit (发放): the form a township keeper fills on a phone."""

    item_id = forms.TypedChoiceField(label="物资", coerce=int)
    recipient_id = forms.TypedChoiceField(label="领用单位", coerce=int)
    quantity = forms.DecimalField(label="数量", **QTY)
    received_by = forms.CharField(label="领取人", max_length=50, required=False)
    reason = forms.CharField(label="用途", max_length=200, required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["item_id"].choices = item_choices()
        self.fields["recipient_id"].choices = unit_choices(actor)
        self.fields["quantity"].widget.attrs.update({"inputmode": "decimal"})


class MovementForm(ui.ActorForm):
    """Receipt, loss or stock-take in one store."""

    kind = forms.ChoiceField(
        label="类型",
        choices=[
            (MovementKind.RECEIPT, "入库"),
            (MovementKind.LOSS, "报损"),
            (MovementKind.STOCKTAKE, "盘点（填实盘数）"),
        ],
    )
    item_id = forms.TypedChoiceField(label="物资", coerce=int)
    quantity = forms.DecimalField(label="数量", **QTY)
    reason = forms.CharField(label="事由/来源", max_length=200, required=False)
    document = forms.CharField(label="单据号", max_length=64, required=False)
    batch_no = forms.CharField(label="批号", max_length=64, required=False)
    expires_on = forms.DateField(label="有效期至", required=False, widget=ui.DateInput())

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["item_id"].choices = item_choices()


class TransferForm(ui.ActorForm):
    item_id = forms.TypedChoiceField(label="物资", coerce=int)
    to_id = forms.TypedChoiceField(label="调入仓库", coerce=int)
    quantity = forms.DecimalField(label="数量", **QTY)
    reason = forms.CharField(label="事由", max_length=200, required=False)

    def __init__(self, *args: Any, actor: Any, exclude: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["item_id"].choices = item_choices()
        self.fields["to_id"].choices = [c for c in store_choices(actor) if c[0] != exclude]


class WarehouseForm(ui.ActorForm):
    name = forms.CharField(label="仓库名称", max_length=100)
    level = forms.ChoiceField(label="级别", choices=WarehouseLevel.choices)
    region_code = ui.RegionPickerField(
        label="所在区划", levels=("county", "township", "village"), allow_above=False
    )
    keeper_name = forms.CharField(label="保管员", max_length=50)
    keeper_phone = forms.CharField(label="保管员电话", max_length=20, required=False)
    address = forms.CharField(label="地址", max_length=200, required=False)


class RecipientForm(ui.ActorForm):
    name = forms.CharField(label="单位名称", max_length=100)
    kind = forms.ChoiceField(label="类型", choices=RecipientKind.choices)
    region_code = ui.RegionPickerField(
        label="所在区划", levels=("township", "village", "grid"), allow_above=False
    )
    warehouse_id = forms.TypedChoiceField(
        label="供应仓库", coerce=int, required=False, empty_value=None
    )
    staff_on_duty = forms.IntegerField(label="在岗人数", min_value=0, max_value=100000, initial=0)
    people_isolated = forms.IntegerField(label="隔离人数", min_value=0, max_value=100000, initial=0)
    population = forms.IntegerField(label="服务人口", min_value=0, max_value=10000000, initial=0)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["warehouse_id"].choices = [("", "—"), *store_choices(actor)]


class RequestForm(ui.ActorForm):
    recipient_id = forms.TypedChoiceField(label="领用单位", coerce=int)
    item_id = forms.TypedChoiceField(label="物资", coerce=int)
    quantity = forms.DecimalField(label="申领数量", **QTY)
    reason = forms.CharField(label="用途", max_length=200, required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["item_id"].choices = item_choices()
        self.fields["recipient_id"].choices = unit_choices(actor)


class OrderForm(ui.ActorForm):
    supplier = forms.CharField(label="供应商", max_length=100)
    channel = forms.ChoiceField(label="渠道", choices=Channel.choices)
    item_id = forms.TypedChoiceField(label="物资", coerce=int)
    quantity = forms.DecimalField(label="数量", **QTY)
    unit_price = forms.DecimalField(label="单价（元）", required=False, **MONEY)
    warehouse_id = forms.TypedChoiceField(label="收货仓库", coerce=int)
    expected_on = forms.DateField(label="预计到货", widget=ui.DateInput())

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["item_id"].choices = item_choices()
        self.fields["warehouse_id"].choices = store_choices(actor)


class OrderStatusForm(forms.Form):
    status = forms.ChoiceField(
        label="状态",
        choices=[
            (s, label)
            for s, label in OrderStatus.choices
            if s not in (OrderStatus.ORDERED, OrderStatus.RECEIVED)
        ],
    )
    note = forms.CharField(label="说明", max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DonationForm(ui.ActorForm):
    donor = forms.CharField(label="捐赠方", max_length=100)
    donor_kind = forms.ChoiceField(label="捐赠方类型", choices=DonorKind.choices)
    publish_name = forms.BooleanField(label="同意公示姓名", required=False, initial=True)
    amount = forms.DecimalField(label="捐款金额（元）", required=False, **MONEY)
    fund_id = forms.TypedChoiceField(
        label="捐款计入经费", coerce=int, required=False, empty_value=None
    )
    region_code = ui.RegionPickerField(
        label="接收单位所在区划", levels=("county", "township", "village"), required=False
    )
    item_id = forms.TypedChoiceField(label="捐赠物资", coerce=int, required=False, empty_value=None)
    quantity = forms.DecimalField(label="物资数量", required=False, **QTY)
    value = forms.DecimalField(label="物资折合金额（元）", required=False, **MONEY)
    warehouse_id = forms.TypedChoiceField(
        label="入库仓库", coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["item_id"].choices = [("", "—（捐款）"), *item_choices()]
        self.fields["warehouse_id"].choices = [("", "—"), *store_choices(actor)]
        self.fields["fund_id"].choices = [
            ("", "—"),
            *[(f.pk, f"{f.holder}·{f.name}") for f in selectors.funds(actor)],
        ]


class FundForm(ui.ActorForm):
    name = forms.CharField(label="经费名称", max_length=100, initial="疫情防控经费")
    holder = forms.CharField(label="拨付对象", max_length=100)
    region_code = ui.RegionPickerField(
        label="区划", levels=("county", "township", "village"), allow_above=False
    )
    amount = forms.DecimalField(label="金额（元）", **MONEY)
    allocated_on = forms.DateField(label="拨付日期", widget=ui.DateInput())
    document = forms.CharField(label="文号", max_length=64, required=False)


class FundEntryForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=FundEntry.Kind.choices)
    amount = forms.DecimalField(label="金额（元）", **MONEY)
    purpose = forms.CharField(label="用途", max_length=200)
    document = forms.CharField(label="凭证号", max_length=64, required=False)


class WatchForm(ui.ActorForm):
    goods = forms.CharField(label="商品", max_length=64)
    unit = forms.CharField(label="计价单位", max_length=16, initial="斤")
    shop = forms.CharField(label="商店/市场", max_length=100)
    region_code = ui.RegionPickerField(label="区划", levels=("township", "village", "grid"))
    baseline = forms.DecimalField(label="基准价（元）", **MONEY)
    threshold_pct = forms.DecimalField(label="涨幅预警线（%）", initial=10, **MONEY)


class PriceForm(forms.Form):
    watch_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    day = forms.DateField(label="日期", widget=ui.DateInput())
    price = forms.DecimalField(label="今日价格（元）", **MONEY)


class ImportForm(forms.Form):
    file = forms.FileField(label="盘点表（.xlsx）")
