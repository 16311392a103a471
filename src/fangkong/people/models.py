"""The person registry: households, joint-defence units, persons and their change history.

Each household and person carries ``region_code`` (the grid or village they live in), the
key every jurisdiction check filters on. Persons carry a ``version`` for optimistic
concurrency: a write names the version it read and fails if another write came first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import Region


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class PersonCategory(models.TextChoices):
    RESIDENT = "resident", _("常住居民")
    RETURNEE = "returnee", _("返乡人员")
    FLOATING = "floating", _("流动人口")
    ELSEWHERE = "elsewhere", _("在外人员")


class Source(models.TextChoices):
    """Where a record came from (信息来源). Screening lists disagree; the source is kept."""

    POLICE = "police", _("公安推送")
    VILLAGE = "village", _("村（社区）上报")
    SELF_REPORT = "self_report", _("本人申报")
    CHECKPOINT = "checkpoint", _("卡点登记")
    TIP_OFF = "tip_off", _("群众举报")
    IMPORT = "import", _("文件导入")
    MANUAL = "manual", _("手工登记")


class JointDefenceUnit(models.Model):
    """A joint-defence unit (十户联防) of about ten neighbouring households with one leader."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("所属网格"))
    region_code = models.CharField(max_length=15, db_index=True, editable=False)
    name = models.CharField(_("名称"), max_length=64)
    leader = models.ForeignKey(
        "Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_units",
        verbose_name=_("联户长"),
    )

    class Meta:
        verbose_name = _("十户联防单元")
        verbose_name_plural = _("十户联防单元")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # keep the denormalised scope key in step
        self.region_code = self.region_id
        super().save(*args, **kwargs)


class Household(models.Model):
    """A household (户) registered at an address inside a grid."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("所属网格"))
    region_code = models.CharField(_("区划代码"), max_length=15, db_index=True, editable=False)
    address = models.CharField(_("住址"), max_length=200)
    head = models.ForeignKey(
        "Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_households",
        verbose_name=_("户主"),
    )
    unit = models.ForeignKey(
        JointDefenceUnit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="households",
        verbose_name=_("十户联防单元"),
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs):  # keep the denormalised scope key in step
        self.region_code = self.region_id
        super().save(*args, **kwargs)


class Person(models.Model):
    """A person in the registry (人员), identified by resident ID number where there is one."""

    id_number = models.CharField(_("身份证号码"), max_length=18, null=True, blank=True)
    name = models.CharField(_("姓名"), max_length=64)
    name_pinyin = models.CharField(_("姓名拼音"), max_length=128, editable=False)
    name_initials = models.CharField(_("拼音首字母"), max_length=32, editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = models.CharField(_("电话"), max_length=20, blank=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("所在户"),
    )
    region_code = models.CharField(_("居住地区划代码"), max_length=15)
    category = models.CharField(
        _("人员类别"), max_length=12, choices=PersonCategory.choices, default="resident"
    )
    source = models.CharField(_("信息来源"), max_length=12, choices=Source.choices)
    source_file = models.CharField(_("来源文件"), max_length=200, blank=True)
    source_row = models.PositiveIntegerField(_("来源行号"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=models.Q(id_number__isnull=False),
                name="person_unique_id_number",
            )
        ]
        indexes = [
            # Search paths: each pairs the search key with the jurisdiction key or the id so
            # that a page of results is an index range scan, not a sort of all matches.
            models.Index(fields=["region_code", "id"], name="person_region"),
            models.Index(fields=["name", "id"], name="person_name"),
            models.Index(fields=["name_pinyin", "id"], name="person_pinyin"),
            models.Index(fields=["name_initials", "id"], name="person_initials"),
            models.Index(fields=["phone"], name="person_phone"),
        ]

    def __str__(self) -> str:
        return self.name


class PersonChange(models.Model):
    """One change to a person (修改记录): who, when, through which channel, old and new values."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="changes")
    version = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    by_username = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, blank=True)
    # {"field": [old, new], ...}; the whole record's initial values on creation.
    changes = models.JSONField(default=dict)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("人员修改记录")
        verbose_name_plural = _("人员修改记录")
        ordering = ["person", "-version"]
        indexes = [models.Index(fields=["person", "version"], name="person_change_version")]
