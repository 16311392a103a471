"""Supervision (督导): teams, inspections with a checklist per kind of place, findings that
become rectifications (整改) verified by the team, bulletins, and discipline (纪律).

A failed checklist item is a finding with an owner and a deadline; the owner reports the
rectification, the team verifies it and closes it (or the problems list closes it, when the
reports module is there). The 13 offences of the cadre discipline code are a catalogue
(data, editable); a case names one person and one offence, with evidence and a decision.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.inspection import Aspect


class Team(models.Model):
    """A supervision group (督导组), led by a cadre, covering an area."""

    name = models.CharField(_("name"), max_length=64)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("leader"),
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    region_code = models.CharField(_("area"), max_length=15, db_index=True)

    class Meta:
        verbose_name = _("supervision team (督导组)")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlaceKind(models.TextChoices):
    VILLAGE = "village", _("Village (community)")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    ISOLATION_SITE = "isolation_site", _("Isolation site")
    MARKET = "market", _("Market")


class InspectionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")


class Inspection(models.Model):
    """One visit of a place (明查 announced, or 暗访 unannounced: 四不两直)."""

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT)
    region_code = models.CharField(_("where"), max_length=15, db_index=True)
    place_kind = models.CharField(_("kind of place"), max_length=16, choices=PlaceKind.choices)
    place_name = models.CharField(_("place"), max_length=80)
    unannounced = models.BooleanField(_("unannounced (四不两直)"), default=True)
    planned_for = models.DateField(_("planned for"))
    status = models.CharField(
        max_length=10, choices=InspectionStatus.choices, default=InspectionStatus.PLANNED
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("inspection (督查)")
        ordering = ["planned_for", "pk"]

    def __str__(self) -> str:
        return f"{self.place_name} {self.planned_for}"


class ItemResult(models.TextChoices):
    UNCHECKED = "unchecked", _("Not checked")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


class ChecklistItem(models.Model):
    """One line of an inspection's checklist, under one of the nine aspects."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    aspect = models.CharField(max_length=16, choices=Aspect.choices)
    text = models.CharField(max_length=200)
    result = models.CharField(
        max_length=10, choices=ItemResult.choices, default=ItemResult.UNCHECKED
    )
    note = models.CharField(max_length=500, blank=True)
    photo = models.BinaryField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["inspection", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "position"], name="supervision_item_position"
            )
        ]

    def __str__(self) -> str:
        return self.text


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("To rectify")
    REPORTED = "reported", _("Rectified, awaiting verification")
    CLOSED = "closed", _("Verified and closed")


class Rectification(models.Model):
    """The rectification (整改) a failed item calls for: owner, deadline, report, verification."""

    item = models.OneToOneField(
        ChecklistItem, on_delete=models.PROTECT, related_name="rectification"
    )
    region_code = models.CharField(max_length=15, db_index=True)
    aspect = models.CharField(max_length=16, choices=Aspect.choices)
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateTimeField(_("rectify by"))
    status = models.CharField(
        max_length=10, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    report = models.TextField(_("what was done"), blank=True, max_length=2000)
    reported_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    problem_id = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("rectification (整改)")
        ordering = ["deadline"]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return self.title

    @property
    def source(self) -> str:
        return f"supervision.item:{self.item_id}"


class Offence(models.Model):
    """One offence of the cadre discipline code (饮酒上岗、擅自脱岗…), editable data."""

    position = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(max_length=80)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("offence")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class Decision(models.TextChoices):
    PENDING = "pending", _("Under review")
    CRITICISM = "criticism", _("Criticism")
    INTERVIEW = "interview", _("Accountability interview (约谈)")
    WARNING = "warning", _("Warning")
    DISMISSAL = "dismissal", _("Dismissal from the post")
    NONE = "none", _("No offence found")


class DisciplineCase(models.Model):
    """A disciplinary case (纪律处理): one person, one offence, evidence, a decision."""

    region_code = models.CharField(max_length=15, db_index=True)
    person_name = models.CharField(_("person"), max_length=32)
    post = models.CharField(_("post"), max_length=64, blank=True)
    offence = models.ForeignKey(Offence, on_delete=models.PROTECT)
    evidence = models.TextField(_("evidence"), max_length=2000)
    inspection = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.SET_NULL)
    decision = models.CharField(max_length=12, choices=Decision.choices, default=Decision.PENDING)
    decision_note = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("disciplinary case")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.person_name} {self.offence_id}"


class Commendation(models.Model):
    """A commendation (表彰) of a unit or a person, with the reason."""

    region_code = models.CharField(max_length=15, db_index=True)
    name = models.CharField(_("unit or person"), max_length=64)
    reason = models.CharField(_("reason"), max_length=500)
    given_at = models.DateTimeField()
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("commendation (表彰)")
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return self.name


class VideoCheck(models.Model):
    """A video spot-check of a village secretary (视频抽查, the seeds: 20:00–22:00): the
    questions asked, each answered right or wrong, and when."""

    region_code = models.CharField(max_length=15, db_index=True)
    person_name = models.CharField(_("person"), max_length=32)
    post = models.CharField(_("post"), max_length=64, blank=True)
    called_at = models.DateTimeField(_("called at"))
    answers = models.JSONField(default=list)  # [{"question": str, "right": bool}, ...]
    note = models.CharField(max_length=500, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("video spot-check")
        ordering = ["-called_at"]

    def __str__(self) -> str:
        return f"{self.person_name} {self.called_at:%Y-%m-%d %H:%M}"

    @property
    def right(self) -> int:
        return sum(1 for a in self.answers if a.get("right"))
