"""Supplies (物资), funds (经费), donations (捐赠) and prices (价格监测).

Stock is an append-only ledger: every receipt, issue, transfer, loss and stock-take is a
:class:`Movement` that is never edited or deleted. :class:`StockLevel` is the running balance
of one item in one store, changed only in the same transaction as the movement that explains
it, under a row lock, so two issues racing for the last box cannot both succeed and the
balance always equals the sum of the movements (``services.rebuild_balances`` proves it).
:class:`DailyUse` keeps the quantity issued per store, item and day, so days of cover are read
from a few thousand rows instead of the whole ledger.

Every record carries ``region_code`` (the store's, the receiving unit's, the fund's) so that
jurisdiction scoping is one prefix filter. UI strings are written in Chinese.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

QTY = {"max_digits": 14, "decimal_places": 3}
MONEY = {"max_digits": 14, "decimal_places": 2}


class Category(models.Model):
    """One of the 18 categories of urgent supplies (紧急物资类别)."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("类别", max_length=64)
    order = models.PositiveIntegerField("顺序", default=100)

    class Meta:
        verbose_name = "物资类别"
        verbose_name_plural = "物资类别"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """A catalogue item (物资品目): its unit, pack size and planned use.

    ``per_staff_daily`` is the planned use per person on duty per day at a receiving unit
    (masks: one per four-hour shift); ``per_capita_daily`` the daily consumption per resident
    of a staple food (kg), for the reserve in days of the county's population.
    """

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items")
    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    unit = models.CharField("单位", max_length=16)
    pack_size = models.PositiveIntegerField("每包装数量", default=1)
    per_staff_daily = models.DecimalField("每人每班日计划用量", default=0, **QTY)
    # Tonnes per resident per day are small numbers (0.00025 t of rice): six places.
    per_capita_daily = models.DecimalField(
        "人均日消费（主粮）", default=0, max_digits=14, decimal_places=6
    )
    alert_days = models.PositiveIntegerField("预警天数", default=3)
    is_staple = models.BooleanField("主粮储备", default=False)
    order = models.PositiveIntegerField("顺序", default=100)

    class Meta:
        verbose_name = "物资品目"
        verbose_name_plural = "物资品目"
        ordering = ["category__order", "order", "code"]

    def __str__(self) -> str:
        return self.name


class WarehouseLevel(models.TextChoices):
    COUNTY = "county", "县级库"
    TOWNSHIP = "township", "乡镇库"
    SITE = "site", "站点库"


class Warehouse(models.Model):
    """A store of supplies (物资仓库) with a named keeper (专人管理)."""

    name = models.CharField("仓库名称", max_length=100)
    level = models.CharField("级别", max_length=16, choices=WarehouseLevel.choices)
    region_code = models.CharField("所在区划", max_length=15, db_index=True)
    keeper_name = models.CharField("保管员", max_length=50)
    keeper_phone = models.CharField("保管员电话", max_length=20, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    keeper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="保管员账号",
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "物资仓库"
        verbose_name_plural = "物资仓库"
        ordering = ["region_code", "name"]

    def __str__(self) -> str:
        return self.name


class RecipientKind(models.TextChoices):
    CHECKPOINT = "checkpoint", "卡点"
    VILLAGE = "village", "村（社区）"
    SITE = "site", "隔离点"
    HOSPITAL = "hospital", "医院"
    ENTERPRISE = "enterprise", "企业"
    TEAM = "team", "工作队"


class Recipient(models.Model):
    """A receiving unit (领用单位): checkpoint, village, site, hospital, enterprise.

    ``staff_on_duty``, ``people_isolated`` and ``population`` weigh its fair share when stock
    is short; ``warehouse`` is the store that usually supplies it (its planned use counts
    there).
    """

    name = models.CharField("单位名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=RecipientKind.choices)
    region_code = models.CharField("所在区划", max_length=15, db_index=True)
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recipients",
        verbose_name="供应仓库",
    )
    staff_on_duty = models.PositiveIntegerField("在岗人数", default=0)
    people_isolated = models.PositiveIntegerField("隔离人数", default=0)
    population = models.PositiveIntegerField("服务人口", default=0)
    contact = models.CharField("联系人", max_length=50, blank=True)

    class Meta:
        verbose_name = "领用单位"
        verbose_name_plural = "领用单位"
        ordering = ["region_code", "kind", "name"]

    def __str__(self) -> str:
        return self.name


class StockLevel(models.Model):
    """The balance of one item in one store: the sum of its movements, kept in step."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="levels")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="levels")
    quantity = models.DecimalField("库存", default=Decimal(0), **QTY)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "库存"
        verbose_name_plural = "库存"
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "item"], name="supplies_level_once"),
            # The last line of defence of "stock is never negative".
            models.CheckConstraint(condition=Q(quantity__gte=0), name="supplies_level_not_neg"),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_id}:{self.item_id}={self.quantity}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "入库"
    ISSUE = "issue", "发放"
    TRANSFER_OUT = "transfer_out", "调出"
    TRANSFER_IN = "transfer_in", "调入"
    LOSS = "loss", "报损"
    STOCKTAKE = "stocktake", "盘点调整"


OUTGOING = (MovementKind.ISSUE, MovementKind.TRANSFER_OUT, MovementKind.LOSS)


class Movement(models.Model):
    """One line of the stock ledger (出入库台账). Never edited, never deleted.

    ``quantity`` is signed: receipts and transfers in add, issues, transfers out and losses
    subtract, a stock-take adds the difference between the count and the book balance.
    ``balance_after`` is the store's balance of the item right after this movement.
    """

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField("类型", max_length=16, choices=MovementKind.choices)
    quantity = models.DecimalField("数量", **QTY)
    balance_after = models.DecimalField("结存", **QTY)
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    recipient = models.ForeignKey(
        Recipient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
        verbose_name="领用单位",
    )
    counterpart = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="对方仓库",
    )
    reason = models.CharField("事由", max_length=200, blank=True)
    document = models.CharField("单据号", max_length=64, blank=True)
    batch_no = models.CharField("批号", max_length=64, blank=True)
    expires_on = models.DateField("有效期至", null=True, blank=True)
    received_by = models.CharField("领取人", max_length=50, blank=True)
    source = models.CharField("来源", max_length=64, blank=True)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="经办人",
    )
    region_code = models.CharField(max_length=15, db_index=True)

    class Meta:
        verbose_name = "出入库记录"
        verbose_name_plural = "出入库记录"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["warehouse", "item", "at"], name="supplies_mv_wh_item_at"),
            models.Index(fields=["recipient", "at"], name="supplies_mv_recipient_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=~Q(source=""), name="supplies_mv_source_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity}"


class DailyUse(models.Model):
    """Quantity issued (发放 + 报损) from one store of one item on one local day."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    quantity = models.DecimalField(default=Decimal(0), **QTY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "item", "day"], name="supplies_use_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.quantity}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    ISSUED = "issued", "已发放"
    REJECTED = "rejected", "已驳回"


class SupplyRequest(models.Model):
    """A receiving unit's request for an item (物资申领), approved and issued from a store."""

    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="requests")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField("申领数量", **QTY)
    approved_quantity = models.DecimalField("批准数量", null=True, blank=True, **QTY)
    reason = models.CharField("用途", max_length=200, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    movement = models.ForeignKey(
        Movement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    region_code = models.CharField(max_length=15, db_index=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "物资申领"
        verbose_name_plural = "物资申领"
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"申领{self.pk}"


class OrderStatus(models.TextChoices):
    ORDERED = "ordered", "已下单"
    IN_TRANSIT = "in_transit", "在途"
    DELAYED = "delayed", "延误"
    INTERCEPTED = "intercepted", "被拦截"
    RECEIVED = "received", "已入库"
    CANCELLED = "cancelled", "已取消"


class Channel(models.TextChoices):
    TENDER = "tender", "政府采购"
    GREEN = "green", "绿色通道"
    PUBLIC_LEAD = "public_lead", "群众提供渠道"
    ALLOCATION = "allocation", "上级调拨"


class PurchaseOrder(models.Model):
    """A purchase (采购) by supplier and channel; its shipment in transit until received."""

    supplier = models.CharField("供应商", max_length=100)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField("数量", **QTY)
    unit_price = models.DecimalField("单价（元）", default=0, **MONEY)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="orders", verbose_name="收货仓库"
    )
    expected_on = models.DateField("预计到货")
    status = models.CharField(
        "状态", max_length=16, choices=OrderStatus.choices, default=OrderStatus.ORDERED
    )
    status_note = models.CharField("状态说明", max_length=200, blank=True)
    received_at = models.DateTimeField("实际到货", null=True, blank=True)
    ordered_at = models.DateTimeField(default=timezone.now)
    region_code = models.CharField(max_length=15, db_index=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "采购订单"
        verbose_name_plural = "采购订单"
        ordering = ["expected_on", "id"]

    def __str__(self) -> str:
        return f"{self.supplier} {self.quantity}"


class DonorKind(models.TextChoices):
    FIRM = "firm", "企业"
    INDIVIDUAL = "individual", "个人"
    CADRE = "cadre", "干部"
    ORGANISATION = "organisation", "社会组织"


class Donation(models.Model):
    """A donation (捐赠) of cash or goods; goods are received into a store as a movement."""

    donor = models.CharField("捐赠方", max_length=100)
    donor_kind = models.CharField("捐赠方类型", max_length=16, choices=DonorKind.choices)
    publish_name = models.BooleanField("公示姓名", default=True)
    amount = models.DecimalField("金额（元）", default=0, **MONEY)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, null=True, blank=True)
    quantity = models.DecimalField("数量", default=0, **QTY)
    value = models.DecimalField("折合金额（元）", default=0, **MONEY)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, null=True, blank=True)
    movement = models.ForeignKey(
        Movement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fund = models.ForeignKey(
        "Fund", on_delete=models.SET_NULL, null=True, blank=True, related_name="donations"
    )
    received_at = models.DateTimeField("接收时间", default=timezone.now)
    certificate_no = models.CharField("证书编号", max_length=32, unique=True)
    region_code = models.CharField(max_length=15, db_index=True)

    class Meta:
        verbose_name = "捐赠"
        verbose_name_plural = "捐赠"
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.certificate_no

    @property
    def is_cash(self) -> bool:
        return self.item_id is None


class Fund(models.Model):
    """An allocation of funds (经费拨付) to a unit: hospital, township, village's fund."""

    name = models.CharField("经费名称", max_length=100)
    holder = models.CharField("拨付对象", max_length=100)
    region_code = models.CharField("区划", max_length=15, db_index=True)
    initial_amount = models.DecimalField("首次拨付（元）", **MONEY)
    # initial_amount + top-ups + penalties received; spent = spending + rewards paid.
    amount = models.DecimalField("拨付总额（元）", **MONEY)
    spent = models.DecimalField("已支出（元）", default=0, **MONEY)
    document = models.CharField("文号", max_length=64, blank=True)
    allocated_on = models.DateField("拨付日期")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "经费"
        verbose_name_plural = "经费"
        ordering = ["region_code", "-allocated_on"]
        constraints = [
            models.CheckConstraint(condition=Q(spent__lte=models.F("amount")), name="fund_not_over")
        ]

    def __str__(self) -> str:
        return f"{self.holder}·{self.name}"

    @property
    def balance(self) -> Decimal:
        return self.amount - self.spent


class FundEntry(models.Model):
    """A posting against a fund: spending with its document, a reward paid, a penalty in."""

    class Kind(models.TextChoices):
        SPEND = "spend", "支出"
        REWARD = "reward", "奖励支出"
        PENALTY = "penalty", "罚没收入"
        TOP_UP = "top_up", "追加拨付"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    amount = models.DecimalField("金额（元）", **MONEY)
    purpose = models.CharField("用途", max_length=200)
    document = models.CharField("凭证号", max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=64, blank=True)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = "经费收支"
        verbose_name_plural = "经费收支"
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=~Q(source=""), name="supplies_fund_source_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class PriceWatch(models.Model):
    """A listed good at a listed shop or market whose price is watched (价格监测点)."""

    goods = models.CharField("商品", max_length=64)
    unit = models.CharField("计价单位", max_length=16)
    shop = models.CharField("商店/市场", max_length=100)
    region_code = models.CharField("区划", max_length=15, db_index=True)
    baseline = models.DecimalField("基准价（元）", **MONEY)
    threshold_pct = models.DecimalField("涨幅预警线（%）", default=Decimal(10), **MONEY)

    class Meta:
        verbose_name = "价格监测点"
        verbose_name_plural = "价格监测点"
        ordering = ["region_code", "goods", "shop"]

    def __str__(self) -> str:
        return f"{self.shop} {self.goods}"


class PriceReport(models.Model):
    """The price of a watched good on a day; ``flagged`` when above the threshold (哄抬物价)."""

    watch = models.ForeignKey(PriceWatch, on_delete=models.CASCADE, related_name="reports")
    day = models.DateField("日期")
    price = models.DecimalField("价格（元）", **MONEY)
    flagged = models.BooleanField("超涨幅", default=False)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    region_code = models.CharField(max_length=15, db_index=True)

    class Meta:
        verbose_name = "价格记录"
        verbose_name_plural = "价格记录"
        ordering = ["-day", "watch_id"]
        constraints = [
            models.UniqueConstraint(fields=["watch", "day"], name="supplies_price_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.price}"
