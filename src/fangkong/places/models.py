"""Places and units (场所与单位): the registry of venues, markets, enterprises, schools, cold
storages and pharmacies, and their daily duties — closures, checklist inspections,
gatherings, resumption, school checks, cold-chain batches, fever-drug sales, disinfection.

Every record carries the region code of the place (village or group), so the one
jurisdiction filter of :mod:`fangkong.core.jurisdiction` scopes all of it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import Person


class PlaceKind(models.TextChoices):
    ENTERTAINMENT = "entertainment", _("歌舞娱乐场所")
    INTERNET_CAFE = "internet_cafe", _("网吧")
    SCENIC = "scenic", _("景区")
    RELIGIOUS = "religious", _("宗教场所")
    MARKET = "market", _("农贸市场")
    SUPERMARKET = "supermarket", _("商场超市")
    RESTAURANT = "restaurant", _("餐馆")
    PHARMACY = "pharmacy", _("药店")
    ENTERPRISE = "enterprise", _("企业")
    SCHOOL = "school", _("学校")
    KINDERGARTEN = "kindergarten", _("幼儿园")
    CARE_HOME = "care_home", _("养老院")
    SHELTER = "shelter", _("救助站")
    COLD_STORAGE = "cold_storage", _("冷库")
    HOTEL = "hotel", _("宾馆")


class PlaceStatus(models.TextChoices):
    OPEN = "open", _("营业中")
    CLOSED = "closed", _("责令关停")
    REOPENED = "reopened", _("已复业")


class Place(models.Model):
    """A place or unit (场所/单位) with its responsible person and the cadre who answers for
    it (包保干部). The status changes only through :func:`.services.change_status`, which
    keeps the history in :class:`StatusChange`."""

    kind = models.CharField(_("类别"), max_length=16, choices=PlaceKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    region_code = models.CharField(_("所在村（组）"), max_length=15, db_index=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    manager_name = models.CharField(_("负责人"), max_length=64, blank=True)
    manager_phone = models.CharField(_("负责人电话"), max_length=20, blank=True)
    cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="places_answered",
        verbose_name=_("包保干部"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=PlaceStatus.choices, default=PlaceStatus.OPEN
    )
    status_since = models.DateTimeField(_("状态起始"), default=timezone.now)
    order_no = models.CharField(_("关停/复业文号"), max_length=60, blank=True)
    staff_count = models.PositiveIntegerField(_("职工人数"), default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("场所")
        verbose_name_plural = _("场所")
        ordering = ["region_code", "kind", "name", "id"]
        indexes = [
            models.Index(fields=["kind", "status", "region_code"], name="place_kind_status"),
        ]

    def __str__(self) -> str:
        return self.name


class StatusChange(models.Model):
    """One closure, reopening or return to business of a place (关停/复业记录)."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(_("状态"), max_length=10, choices=PlaceStatus.choices)
    order_no = models.CharField(_("文号"), max_length=60, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    effective_at = models.DateTimeField(_("生效时间"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["effective_at", "id"]

    def __str__(self) -> str:
        return f"{self.place_id} {self.status} {self.effective_at:%Y-%m-%d}"


class ChecklistItem(models.Model):
    """One item of the checklist of a kind of place (检查表条目); configurable data."""

    kind = models.CharField(_("场所类别"), max_length=16, choices=PlaceKind.choices)
    label = models.CharField(_("检查内容"), max_length=120)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("检查表条目")
        verbose_name_plural = _("检查表条目")
        ordering = ["kind", "position", "id"]

    def __str__(self) -> str:
        return self.label


class Inspection(models.Model):
    """An inspection of a place against its checklist (检查记录); covert checks (暗访, as a
    customer) are recorded as such."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="inspections")
    region_code = models.CharField(max_length=15, db_index=True)
    inspected_at = models.DateTimeField(_("检查时间"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="place_inspections",
    )
    covert = models.BooleanField(_("暗访（以顾客身份）"), default=False)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    failed = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("检查记录")
        verbose_name_plural = _("检查记录")
        ordering = ["-inspected_at", "-id"]
        indexes = [models.Index(fields=["place", "inspected_at"], name="inspection_place_at")]

    def __str__(self) -> str:
        return f"{self.place_id} {self.inspected_at:%Y-%m-%d %H:%M}"


class InspectionResult(models.Model):
    """One checklist item's outcome; a failure is a problem to rectify by ``deadline``."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT)
    passed = models.BooleanField(_("合格"))
    photo = models.FileField(_("照片"), upload_to="places/inspections/%Y/%m/", blank=True)
    deadline = models.DateTimeField(_("整改期限"), null=True, blank=True)
    rectified_at = models.DateTimeField(_("整改完成"), null=True, blank=True)
    problem_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("检查结果")
        verbose_name_plural = _("检查结果")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="result_once_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.item_id} {self.passed}"

    @property
    def source(self) -> str:
        return f"places.result:{self.pk}"


class GatheringKind(models.TextChoices):
    BANQUET = "banquet", _("宴席聚餐")
    WEDDING = "wedding", _("婚礼")
    FUNERAL = "funeral", _("丧事")
    OTHER = "other", _("其他聚集")


class ReportedBy(models.TextChoices):
    ORGANISER = "organiser", _("主办人报备")
    JOINT_DEFENCE = "joint_defence", _("十户联防长报告")
    PATROL = "patrol", _("巡查发现")
    TIP_OFF = "tip_off", _("群众举报")


class Outcome(models.TextChoices):
    PENDING = "pending", _("待劝导")
    STOPPED = "stopped", _("已劝停")
    POSTPONED = "postponed", _("已延期")
    SIMPLIFIED = "simplified", _("从简办理")
    HELD = "held", _("有条件举办")


class Gathering(models.Model):
    """A banquet, wedding or funeral (聚集性活动) and what the persuading cadre achieved."""

    kind = models.CharField(_("类型"), max_length=10, choices=GatheringKind.choices)
    region_code = models.CharField(_("所在村（组）"), max_length=15, db_index=True)
    place_text = models.CharField(_("地点"), max_length=120)
    organiser_name = models.CharField(_("主办人"), max_length=64)
    organiser_phone = models.CharField(_("主办人电话"), max_length=20, blank=True)
    date = models.DateField(_("日期"))
    tables = models.PositiveIntegerField(_("预计桌数"), default=0)
    guests = models.PositiveIntegerField(_("预计人数"), default=0)
    reported_by = models.CharField(_("来源"), max_length=14, choices=ReportedBy.choices)
    outcome = models.CharField(
        _("结果"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    persuaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("劝导干部"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("批准人"),
    )
    case_attended = models.BooleanField(_("有病例参加"), default=False)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("聚集性活动")
        verbose_name_plural = _("聚集性活动")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.organiser_name} {self.date}"


class ResumptionStatus(models.TextChoices):
    APPLIED = "applied", _("已申请")
    APPROVED = "approved", _("已批准复工")
    REFUSED = "refused", _("不予复工")


class Resumption(models.Model):
    """An enterprise's application to resume work (复工复产申请) with its checklist
    inspection, staff, employees from risk areas and the reviewed emergency plan."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="resumptions")
    region_code = models.CharField(max_length=15, db_index=True)
    staff_count = models.PositiveIntegerField(_("职工人数"))
    risk_area_staff = models.PositiveIntegerField(_("来自风险地区职工"), default=0)
    canteen_rules = models.BooleanField(_("食堂错峰就餐、间隔1米"), default=False)
    dormitory_rules = models.BooleanField(_("宿舍管理措施"), default=False)
    emergency_plan = models.FileField(_("应急预案"), upload_to="places/plans/%Y/%m/", blank=True)
    plan_reviewed = models.BooleanField(_("预案已审核"), default=False)
    inspection = models.ForeignKey(
        Inspection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ResumptionStatus.choices, default="applied"
    )
    applied_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("复工申请")
        verbose_name_plural = _("复工申请")
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"{self.place_id} {self.status}"


class SchoolClass(models.Model):
    """A class of a school (班级) with its teacher's check link (晨午检链接; SHA-256 only)."""

    school = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="classes")
    region_code = models.CharField(max_length=15, db_index=True)
    name = models.CharField(_("班级"), max_length=40)
    teacher_name = models.CharField(_("班主任"), max_length=64, blank=True)
    link_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("班级")
        verbose_name_plural = _("班级")
        ordering = ["school", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="class_once")]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """A student or staff member of a school, linked to the registry (一人一档)."""

    class Role(models.TextChoices):
        STUDENT = "student", _("学生")
        STAFF = "staff", _("教职工")

    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("身份"), max_length=8, choices=Role.choices, default="student")
    region_code = models.CharField(max_length=15, db_index=True)
    risk_area_note = models.CharField(_("风险地区旅居史"), max_length=200, blank=True)
    reported_at = models.DateTimeField(_("上报时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("师生档案")
        verbose_name_plural = _("师生档案")
        constraints = [
            models.UniqueConstraint(fields=["school_class", "person"], name="member_once")
        ]

    def __str__(self) -> str:
        return f"{self.school_class_id} {self.person_id}"


class Slot(models.TextChoices):
    MORNING = "morning", _("晨检")
    NOON = "noon", _("午检")


class DailyCheck(models.Model):
    """A morning or noon check of one member (晨午检): temperature, symptoms, or the
    sick-absence with its cause (因病缺勤登记)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="checks")
    region_code = models.CharField(max_length=15, db_index=True)
    day = models.DateField()
    slot = models.CharField(max_length=8, choices=Slot.choices)
    present = models.BooleanField(_("到校"), default=True)
    temperature = models.DecimalField(
        _("体温"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    symptoms = models.CharField(_("症状"), max_length=100, blank=True)
    absence_cause = models.CharField(_("缺勤原因"), max_length=100, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("晨午检")
        verbose_name_plural = _("晨午检")
        constraints = [
            models.UniqueConstraint(fields=["member", "day", "slot"], name="check_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day} {self.slot}"

    @property
    def fever(self) -> bool:
        return self.temperature is not None and float(self.temperature) >= 37.3


class BatchStatus(models.TextChoices):
    REPORTED = "reported", _("已进仓报备")
    REGISTERED = "registered", _("已登记")
    RELEASED = "released", _("已出仓")


class ColdBatch(models.Model):
    """An inbound batch at a cold storage (冷链批次): entry report → registration → exit
    certificate. It cannot leave without "两证明一报告一信息"."""

    storage = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="batches")
    region_code = models.CharField(max_length=15, db_index=True)
    goods = models.CharField(_("品名"), max_length=100)
    origin = models.CharField(_("产地"), max_length=100, blank=True)
    weight_kg = models.DecimalField(_("重量（千克）"), max_digits=10, decimal_places=1, default=0)
    vehicle_plate = models.CharField(_("车牌号"), max_length=12, blank=True)
    quarantine_certificate = models.CharField(_("检疫证明"), max_length=60, blank=True)
    test_report = models.CharField(_("核酸检测报告"), max_length=60, blank=True)
    disinfection_certificate = models.CharField(_("消毒证明"), max_length=60, blank=True)
    trace_code = models.CharField(_("追溯信息码"), max_length=60, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=BatchStatus.choices, default="reported"
    )
    reported_at = models.DateTimeField(_("进仓报备时间"), default=timezone.now)
    registered_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    exit_certificate_no = models.CharField(_("出仓证明编号"), max_length=40, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("冷链批次")
        verbose_name_plural = _("冷链批次")
        ordering = ["-reported_at", "-id"]

    def __str__(self) -> str:
        return self.goods


class DrugClass(models.TextChoices):
    ANTIPYRETIC = "antipyretic", _("退烧药")
    COUGH = "cough", _("止咳药")
    ANTIVIRAL = "antiviral", _("抗病毒药")
    ANTIBIOTIC = "antibiotic", _("抗生素")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("待走访")
    DONE = "done", _("已走访")


class DrugSale(models.Model):
    """A real-name sale of one of the four drug classes (四类药品实名登记). The counter's
    receipt number makes a re-sent sale the same sale; the buyer gets one follow-up."""

    pharmacy = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="sales")
    region_code = models.CharField(max_length=15, db_index=True)
    receipt_no = models.CharField(_("小票号"), max_length=40)
    sold_at = models.DateTimeField(_("销售时间"))
    drug_class = models.CharField(_("药品类别"), max_length=12, choices=DrugClass.choices)
    drug_name = models.CharField(_("药品名称"), max_length=60)
    buyer_name = models.CharField(_("购药人"), max_length=64)
    buyer_id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    buyer_phone = models.CharField(_("电话"), max_length=20, blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    follow_up = models.CharField(
        _("跟进"), max_length=5, choices=FollowUpStatus.choices, default="open"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("药品销售登记")
        verbose_name_plural = _("药品销售登记")
        ordering = ["-sold_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["pharmacy", "receipt_no"], name="sale_once")]

    def __str__(self) -> str:
        return f"{self.pharmacy_id} {self.receipt_no}"


class Disinfection(models.Model):
    """One disinfection round (消杀记录) at a place, with time and person."""

    place = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="disinfections")
    region_code = models.CharField(max_length=15, db_index=True)
    done_at = models.DateTimeField(_("消杀时间"))
    done_by = models.CharField(_("消杀人员"), max_length=64)
    area = models.CharField(_("部位"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("消杀记录")
        verbose_name_plural = _("消杀记录")
        ordering = ["-done_at", "-id"]
        indexes = [models.Index(fields=["place", "done_at"], name="disinfection_place_at")]

    def __str__(self) -> str:
        return f"{self.place_id} {self.done_at:%Y-%m-%d %H:%M}"
