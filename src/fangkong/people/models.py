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
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class PersonCategory(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    RETURNEE = "returnee", _("Returnee")
    FLOATING = "floating", _("Floating population")
    ELSEWHERE = "elsewhere", _("Living elsewhere")


class Source(models.TextChoices):
    """Where a record came from (信息来源). Screening lists disagree; the source is kept."""

    POLICE = "police", _("Police")
    VILLAGE = "village", _("Village report")
    SELF_REPORT = "self_report", _("Self-report")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    TIP_OFF = "tip_off", _("Tip-off")
    IMPORT = "import", _("File import")
    MANUAL = "manual", _("Manual entry")


class JointDefenceUnit(models.Model):
    """A joint-defence unit (十户联防) of about ten neighbouring households with one leader."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("Grid"))
    region_code = models.CharField(max_length=15, db_index=True, editable=False)
    name = models.CharField(_("Name"), max_length=64)
    leader = models.ForeignKey(
        "Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_units",
        verbose_name=_("Unit leader"),
    )

    class Meta:
        verbose_name = _("Joint-defence unit")
        verbose_name_plural = _("Joint-defence units")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # keep the denormalised scope key in step
        self.region_code = self.region_id
        super().save(*args, **kwargs)


class Household(models.Model):
    """A household (户) registered at an address inside a grid."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("Grid"))
    region_code = models.CharField(_("Region code"), max_length=15, db_index=True, editable=False)
    address = models.CharField(_("Address"), max_length=200)
    head = models.ForeignKey(
        "Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_households",
        verbose_name=_("Head of household"),
    )
    unit = models.ForeignKey(
        JointDefenceUnit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="households",
        verbose_name=_("Joint-defence unit"),
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Household")
        verbose_name_plural = _("Households")

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs):  # keep the denormalised scope key in step
        self.region_code = self.region_id
        super().save(*args, **kwargs)


class Person(models.Model):
    """A person in the registry (人员), identified by resident ID number where there is one."""

    id_number = models.CharField(_("ID number"), max_length=18, null=True, blank=True)
    name = models.CharField(_("Full name"), max_length=64)
    name_pinyin = models.CharField(_("Name in pinyin"), max_length=128, editable=False)
    name_initials = models.CharField(_("Pinyin initials"), max_length=32, editable=False)
    sex = models.CharField(_("Sex"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("Date of birth"), null=True, blank=True)
    phone = models.CharField(_("Phone"), max_length=20, blank=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("Household"),
    )
    region_code = models.CharField(_("Residence region code"), max_length=15)
    category = models.CharField(
        _("Category"), max_length=12, choices=PersonCategory.choices, default="resident"
    )
    source = models.CharField(_("Source"), max_length=12, choices=Source.choices)
    source_file = models.CharField(_("Source file"), max_length=200, blank=True)
    source_row = models.PositiveIntegerField(_("Source row"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("Person")
        verbose_name_plural = _("Persons")
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
        verbose_name = _("Person change")
        verbose_name_plural = _("Person changes")
        ordering = ["person", "-version"]
        indexes = [models.Index(fields=["person", "version"], name="person_change_version")]

    def __str__(self) -> str:
        return f"{self.person_id} v{self.version}"
