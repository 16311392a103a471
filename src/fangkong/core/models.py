"""Core records: regions, users and their jurisdictions, audit, API tokens, task progress.

Region codes are stored in their *significant* form (county 6 digits, township 9, village 12,
grid 15), so that "everything under a region" is "every code that starts with its code".
The 12-digit statistical code is that form padded with zeros (:attr:`Region.statistical_code`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .roles import Role


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County (district)")
    TOWNSHIP = "township", _("Township (street)")
    VILLAGE = "village", _("Village (community)")
    GRID = "grid", _("Group (grid)")


LEVEL_CODE_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
    RegionLevel.GRID: 15,
}
LEVEL_BY_LENGTH = {length: level for level, length in LEVEL_CODE_LENGTH.items()}


class Region(models.Model):
    """An administrative region (行政区划) from province down to group/grid (组/网格)."""

    code = models.CharField(_("Region code"), max_length=15, primary_key=True)
    name = models.CharField(_("Name"), max_length=64)
    level = models.CharField(_("Level"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    generated = models.BooleanField(
        _("Synthetic"),
        default=False,
        help_text=_("Villages and groups generated for the demo, not official divisions"),
    )

    class Meta:
        verbose_name = _("Administrative region")
        verbose_name_plural = _("Administrative regions")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="region_level_code")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def statistical_code(self) -> str:
        """The 12-digit national statistical code (grids keep their 15-digit local code)."""
        return self.code.ljust(12, "0") if len(self.code) <= 12 else self.code


class User(AbstractUser):
    """A person who works in Fangkong, with one role and one or more jurisdictions."""

    role = models.CharField(_("Role"), max_length=20, choices=Role.choices)
    display_name = models.CharField(_("Full name"), max_length=64, blank=True)
    phone = models.CharField(_("Phone"), max_length=20, blank=True)
    regions = models.ManyToManyField(
        Region, related_name="users", blank=True, verbose_name=_("Jurisdiction")
    )

    class Meta:
        verbose_name = _("User")
        verbose_name_plural = _("Users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @cached_property
    def region_codes(self) -> tuple[str, ...]:
        """The codes this user holds, read once per request."""
        return tuple(self.regions.order_by("code").values_list("code", flat=True))


class AreaAssignmentKind(models.TextChoices):
    PIECE = "piece", _("Responsible for an area")
    VILLAGE = "village", _("Responsible for a village")
    GROUP = "group", _("Responsible for a group")


class AreaAssignment(models.Model):
    """A cadre made responsible for an area (包片/包村/包组) for a period."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    region = models.ForeignKey(Region, on_delete=models.PROTECT)
    kind = models.CharField(_("Assignment type"), max_length=10, choices=AreaAssignmentKind.choices)
    starts_on = models.DateField(_("Start date"))
    ends_on = models.DateField(_("End date"), null=True, blank=True)
    note = models.CharField(_("Note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("Area assignment")
        verbose_name_plural = _("Area assignments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="assignment_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.region.name}"


class AuditEvent(models.Model):
    """One read or write of sensitive personal data, kept for inspection (审计日志)."""

    class Kind(models.TextChoices):
        READ_SENSITIVE = "read_sensitive", _("Viewed sensitive data")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        EXPORT = "export", _("Exported")
        IMPORT = "import", _("Imported")
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Login failed")
        DENIED = "denied", _("Access denied")

    at = models.DateTimeField(_("Time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    username = models.CharField(_("Username"), max_length=150, blank=True)
    kind = models.CharField(_("Type"), max_length=20, choices=Kind.choices)
    object_type = models.CharField(_("Object type"), max_length=40, blank=True)
    object_id = models.CharField(_("Object ID"), max_length=40, blank=True)
    fields = models.JSONField(_("Fields"), default=list, blank=True)
    channel = models.CharField(_("Channel"), max_length=10, blank=True)  # web / api / cli / task
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(_("Detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("Audit event")
        verbose_name_plural = _("Audit events")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.kind} {self.object_id}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"token of {self.user_id} until {self.expires_at:%Y-%m-%d}"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> str:
        token = secrets.token_urlsafe(32)
        cls.objects.create(
            user=user,
            key_hash=cls.hash(token),
            expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
        )
        return token


class LoginFailure(models.Model):
    """A failed login, counted by username and client address for throttling."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    username = models.CharField(max_length=150, db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}"


class IdempotencyRecord(models.Model):
    """The stored answer to a create request sent with an ``Idempotency-Key`` header.

    A mobile client that retries after a lost response gets the first answer again instead
    of creating a second record.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class TaskRecord(models.Model):
    """Progress of a long job run by the background worker, shown as a progress bar."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("Task type"), max_length=40)
    title = models.CharField(_("Task"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("Background task")
        verbose_name_plural = _("Background tasks")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))
