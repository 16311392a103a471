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

    def save(self, *args, **kwargs) -> None:
        # ``_password`` holds a new raw password between set_password() and save(); Django
        # clears it first when it only re-hashes a password on login (Argon2 upgrade).
        password_changed = self.pk is not None and self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            ApiToken.objects.filter(user=self, revoked=False).update(
                revoked=True, revoked_at=timezone.now()
            )

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
        MASKED_SEARCH = "masked_search", _("Searched by a number the role may not see")

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
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once.

    A token lives ``API_TOKEN_TTL_HOURS`` and is renewed by exchanging it for a new one
    (``POST /auth/token/renew``) until ``API_TOKEN_MAX_AGE_DAYS`` after the password login
    that started the chain (``first_issued_at``). A user holds at most
    ``API_TOKENS_PER_USER`` live tokens (the oldest are revoked); a password change revokes
    them all; the owner and an administrator can revoke any one (core.tokens).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    first_issued_at = models.DateTimeField(_("Logged in at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("Last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("Revoked at"), null=True, blank=True)
    client = models.CharField(_("Client"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [
            models.Index(fields=["user", "revoked", "expires_at"], name="apitoken_user_live")
        ]

    def __str__(self) -> str:
        return f"token of {self.user_id} until {self.expires_at:%Y-%m-%d}"

    @property
    def live(self) -> bool:
        return not self.revoked and self.expires_at > timezone.now()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, *, client: str = "", first_issued_at=None) -> str:
        """A new token for ``user`` (the oldest live ones beyond the cap are revoked)."""
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        cls.objects.create(
            user=user,
            key_hash=cls.hash(token),
            created_at=now,
            expires_at=now + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
            first_issued_at=first_issued_at or now,
            client=client[:100],
        )
        live = cls.objects.filter(user=user, revoked=False, expires_at__gt=now)
        surplus = list(
            live.order_by("-created_at", "-id").values_list("id", flat=True)[
                settings.API_TOKENS_PER_USER :
            ]
        )
        if surplus:
            cls.objects.filter(id__in=surplus).update(revoked=True, revoked_at=now)
        return token


class Device(models.Model):
    """A phone (or browser) a user works from in the field app (issue 20).

    The field app gives each browser a random key (cookie ``fk_device``); the first signed-in
    request from it registers the device for that user, and the session is bound to it. A
    lost or replaced phone is revoked by its user or the user's supervisor: its sessions end
    at once and no request from it is served again, even with the cookie removed (the
    session remembers its device) or a token sent with its ``X-Fangkong-Device`` header.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=64)
    label = models.CharField(_("Device"), max_length=100, blank=True)
    first_seen = models.DateTimeField(_("First used"), default=timezone.now)
    last_seen = models.DateTimeField(_("Last used"), default=timezone.now)
    session_key = models.CharField(max_length=40, blank=True)
    revoked = models.BooleanField(_("Revoked"), default=False)
    revoked_at = models.DateTimeField(_("Revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("Device")
        verbose_name_plural = _("Devices")
        constraints = [models.UniqueConstraint(fields=["key", "user"], name="device_key_per_user")]

    def __str__(self) -> str:
        return f"{self.label or self.key[:8]} of {self.user_id}"


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
    # Written by the task kit (fangkong.core.tasks): what to run again on a retry, how often
    # it ran, and which worker process runs it (the reaper fails it when that worker is gone).
    task_path = models.CharField(max_length=200, blank=True)
    arguments = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker_id = models.CharField(max_length=64, blank=True)

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


class WorkerBeat(models.Model):
    """The last sign of life of one worker process (written every few seconds by
    ``fangkong worker``): the tasks page shows when the worker was last seen, and the reaper
    fails the tasks of a worker that stopped beating."""

    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=100, blank=True)
    pid = models.PositiveIntegerField(default=0)
    runs_tasks = models.BooleanField(default=True)
    runs_periodic = models.BooleanField(default=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("Worker heartbeat")
        verbose_name_plural = _("Worker heartbeats")

    def __str__(self) -> str:
        return self.worker_id


class Upload(models.Model):
    """One file a user uploaded for the worker (a ledger, a large lab file): its digest and
    size outlive the file itself, which is deleted after the import. The per-user quota
    counts these rows (fangkong.core.uploads)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=40)
    file_name = models.CharField(max_length=200)
    size = models.BigIntegerField()
    digest = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Uploaded file")
        verbose_name_plural = _("Uploaded files")
        indexes = [models.Index(fields=["user", "at"], name="upload_user_at")]

    def __str__(self) -> str:
        return self.file_name


class Notice(models.Model):
    """A message pushed down to users by role and region, with read receipts (通知).

    New rules reach every checkpoint and cadre this way ("staff who did not know the latest
    risk areas"); a notice that requires confirmation counts, per recipient, as unconfirmed
    until they press "已知晓", and a self-inspection rule lists those late to confirm.
    """

    class Level(models.TextChoices):
        INFO = "info", _("For information")
        IMPORTANT = "important", _("Important")
        URGENT = "urgent", _("Urgent")

    title = models.CharField(_("Title"), max_length=200)
    body = models.TextField(_("Text"), max_length=5000)
    level = models.CharField(_("Level"), max_length=10, choices=Level.choices, default=Level.INFO)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notices_sent",
        verbose_name=_("Sender"),
    )
    sender_name = models.CharField(_("From"), max_length=100, blank=True)
    sent_at = models.DateTimeField(_("Sent at"), default=timezone.now, db_index=True)
    region_codes = models.JSONField(_("Regions addressed"), default=list)
    roles = models.JSONField(_("Roles addressed"), default=list, blank=True)
    requires_confirmation = models.BooleanField(_("Must be confirmed"), default=False)
    confirm_within_minutes = models.PositiveIntegerField(
        _("Confirm within (minutes)"), null=True, blank=True
    )
    # A stable key from the module that sent it ("screening.risk_areas:2026-12-02T08"): a
    # second publish with the same key returns the first notice instead of a duplicate.
    source = models.CharField(_("Source"), max_length=100, blank=True)
    link = models.CharField(_("Link"), max_length=300, blank=True)
    recipients_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("Notice")
        verbose_name_plural = _("Notices")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=~models.Q(source=""), name="notice_unique_source"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def confirm_by(self):  # type: ignore[no-untyped-def]
        if not self.requires_confirmation or not self.confirm_within_minutes:
            return None
        return self.sent_at + timedelta(minutes=self.confirm_within_minutes)


class NoticeReceipt(models.Model):
    """One recipient's copy of a notice: delivered, read, confirmed."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_receipts"
    )
    # The recipient's (first) region and role when it was sent: where a late confirmation
    # is a finding, and who it concerns, even if the user moves later.
    region_code = models.CharField(max_length=15, blank=True, db_index=True)
    role = models.CharField(max_length=20, blank=True)
    read_at = models.DateTimeField(_("Read at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("Confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Notice receipt")
        verbose_name_plural = _("Notice receipts")
        constraints = [
            models.UniqueConstraint(fields=["notice", "user"], name="notice_receipt_once")
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="receipt_user_read"),
            models.Index(fields=["notice", "confirmed_at"], name="receipt_notice_confirmed"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.user_id}"
