"""Records of the command layer: pre-aggregated figures, daily reports, self-inspection
findings, the problems list and the Word documents made from them.

Every record carries ``region_code`` so jurisdiction scoping needs no join. Figures are
stored per day and per region at the township, village and group levels
(:class:`FigureValue`), so boards read a few hundred rows, never the modules' tables.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.inspection import Aspect


class FigureValue(models.Model):
    """One figure for one region on one day: the state at ``at`` (the end of a past day, or
    the last refresh today)."""

    key = models.CharField(max_length=60)
    day = models.DateField()
    region_code = models.CharField(max_length=15)
    value = models.BigIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "day", "region_code"], name="figure_value_once")
        ]
        # The board reads one region's 14 days, and one day of a region's children.
        indexes = [models.Index(fields=["region_code", "day"], name="figure_value_region_day")]

    def __str__(self) -> str:
        return f"{self.key} {self.day} {self.region_code}={self.value}"


class Refresh(models.Model):
    """When the figures under a prefix were last computed (the board's "截至 HH:MM")."""

    prefix = models.CharField(max_length=15, unique=True)
    at = models.DateTimeField()
    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix} {self.at}"


class ReportSetting(models.Model):
    """The county's reporting deadline (e.g. 16:00)."""

    county_code = models.CharField(max_length=6, unique=True)
    deadline = models.TimeField(_("日报报送时限"), default=dt.time(16, 0))
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.county_code} {self.deadline}"


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已报送")
    ZERO = "zero", _("零报告")


class DailyReport(models.Model):
    """The daily report (日报) of a village, township or the county for one day.

    ``figures`` are the numbers read from the data when the report was filed; a reporter may
    correct one only with a reason (``corrections``: {key: {"value", "reason"}}). A
    township's and the county's figures are the roll-up of the reports below, never typed.
    """

    day = models.DateField(_("日期"))
    region_code = models.CharField(_("区划代码"), max_length=15)
    status = models.CharField(_("状态"), max_length=10, choices=ReportStatus.choices)
    figures = models.JSONField(default=dict)
    corrections = models.JSONField(default=dict, blank=True)
    situation = models.TextField(_("新情况"), max_length=2000, blank=True)
    problems = models.TextField(_("问题"), max_length=2000, blank=True)
    requests = models.TextField(_("请求事项"), max_length=2000, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    late = models.BooleanField(_("超时报送"), default=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("日报")
        verbose_name_plural = _("日报")
        constraints = [
            models.UniqueConstraint(fields=["day", "region_code"], name="daily_report_once")
        ]
        indexes = [models.Index(fields=["day", "region_code"], name="daily_report_day_region")]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code} {self.status}"

    def value(self, key: str) -> int:
        """The reported value of a figure: the correction when there is one."""
        if key in self.corrections:
            return int(self.corrections[key]["value"])
        return int(self.figures.get(key, 0))


class InspectionRun(models.Model):
    """One run of the self-inspection rules under a prefix."""

    prefix = models.CharField(max_length=15)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    findings = models.PositiveIntegerField(default=0)
    seconds = models.JSONField(default=dict)  # per rule
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.prefix} {self.started_at}"


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    RECTIFIED = "rectified", _("已整改待确认")
    CLOSED = "closed", _("已销号")


class Level(models.IntegerChoices):
    VILLAGE = 0, _("村级")
    TOWNSHIP = 1, _("乡镇级")
    COUNTY = 2, _("县级")


class Finding(models.Model):
    """A self-inspection finding, kept while its rule still finds it (``resolved_at`` set
    when a run no longer does)."""

    rule = models.CharField(max_length=60)
    ref = models.CharField(max_length=100)
    region_code = models.CharField(max_length=15)
    aspect = models.CharField(max_length=12, choices=Aspect.choices)
    what = models.CharField(max_length=300)
    since = models.DateTimeField()
    url = models.CharField(max_length=300, blank=True)
    responsible = models.CharField(max_length=120, blank=True)
    person_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "ref"], name="finding_once")]
        indexes = [models.Index(fields=["region_code", "resolved_at"], name="finding_region_open")]

    def __str__(self) -> str:
        return self.what


class Problem(models.Model):
    """A problem on the list (问题清单): owner, deadline, evidence, rectification, closure."""

    source = models.CharField(max_length=120, unique=True)
    region_code = models.CharField(_("区划代码"), max_length=15)
    aspect = models.CharField(_("方面"), max_length=12, choices=Aspect.choices)
    title = models.CharField(_("问题"), max_length=300)
    detail = models.TextField(_("详情"), max_length=4000, blank=True)
    url = models.CharField(max_length=300, blank=True)
    deadline = models.DateTimeField(_("整改时限"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("责任人"),
    )
    owner_name = models.CharField(_("责任人"), max_length=120, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=10, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    level = models.PositiveSmallIntegerField(
        _("督办层级"), choices=Level.choices, default=Level.VILLAGE
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    rectification = models.TextField(_("整改情况"), max_length=4000, blank=True)
    next_steps = models.TextField(_("下步打算"), max_length=2000, blank=True)
    rectified_at = models.DateTimeField(null=True, blank=True)
    rectified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("问题")
        verbose_name_plural = _("问题")
        ordering = ["status", "deadline"]
        indexes = [models.Index(fields=["region_code", "status"], name="problem_region_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def overdue(self) -> bool:
        return self.status == ProblemStatus.OPEN and self.deadline < timezone.now()


class Evidence(models.Model):
    """A photo or file attached to a problem (when raised or as proof of rectification)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="reports/evidence/%Y/%m/")
    name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class DocumentKind(models.TextChoices):
    DAILY = "daily", _("日报")
    STAGE = "stage", _("阶段性总结")
    INSPECTION = "inspection", _("排查起底自查报告")
    BULLETIN = "bulletin", _("督查通报")


class Document(models.Model):
    """A generated Word document, stored with the snapshot it was made from and its author."""

    kind = models.CharField(_("类别"), max_length=10, choices=DocumentKind.choices)
    region_code = models.CharField(max_length=15)
    title = models.CharField(_("标题"), max_length=200)
    snapshot_at = models.DateTimeField(_("截至"))
    snapshot = models.JSONField(default=dict)
    content = models.BinaryField()
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-made_at"]
        indexes = [models.Index(fields=["region_code", "-made_at"], name="document_region")]

    def __str__(self) -> str:
        return self.title


OPEN_PROBLEM = Q(status__in=[ProblemStatus.OPEN, ProblemStatus.RECTIFIED])


class Meeting(models.Model):
    """A daily analysis and dispatch meeting (每日研判调度会)."""

    region_code = models.CharField(_("区划代码"), max_length=15)
    held_on = models.DateField(_("日期"))
    chair = models.CharField(_("主持人"), max_length=64)
    attendees = models.CharField(_("参会人员"), max_length=500, blank=True)
    summary = models.TextField(_("研判情况"), max_length=4000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on} {self.chair}"


class Decision(models.Model):
    """A decision of a meeting: a task to a township (or an office) with a deadline and a
    completion report."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.CharField(_("调度事项"), max_length=500)
    region_code = models.CharField(_("承办地区"), max_length=15)
    office = models.CharField(_("承办单位"), max_length=100, blank=True)
    deadline = models.DateTimeField(_("完成时限"))
    report = models.TextField(_("完成情况"), max_length=2000, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["done_at", "deadline"]
        indexes = [models.Index(fields=["region_code", "done_at"], name="decision_region_open")]

    def __str__(self) -> str:
        return self.text

    @property
    def overdue(self) -> bool:
        return self.done_at is None and self.deadline < timezone.now()


class Template(models.Model):
    """A county's own .docx template for one kind of document (documented placeholders)."""

    county_code = models.CharField(max_length=6)
    kind = models.CharField(_("类别"), max_length=10, choices=DocumentKind.choices)
    name = models.CharField(max_length=200)
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["county_code", "kind"], name="template_once")
        ]

    def __str__(self) -> str:
        return self.name
