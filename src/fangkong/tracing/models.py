"""Contact tracing (流调): cases, exposure events, contact links, classifications, notices.

The rule this module keeps: who is a close contact (密接) or a secondary contact (次密接) is
never typed in by hand; it follows from the graph of cases, contact links and shared events
(:func:`fangkong.tracing.services.reclassify`). Every record of personal data carries
``region_code`` — the residence region of the person it is about — so jurisdiction scoping
is one prefix filter.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import Region
from fangkong.people.models import Person


class CaseStatus(models.TextChoices):
    SUSPECTED = "suspected", _("Suspected")
    CONFIRMED = "confirmed", _("Confirmed")
    ASYMPTOMATIC = "asymptomatic", _("Asymptomatic infection")
    EXCLUDED = "excluded", _("Excluded")


INFECTIOUS = (CaseStatus.CONFIRMED, CaseStatus.ASYMPTOMATIC)


class FoundVia(models.TextChoices):
    FEVER_CLINIC = "fever_clinic", _("Fever clinic")
    TESTING_ROUND = "testing_round", _("Testing round")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    ISOLATION = "isolation", _("During isolation")
    TRACING = "tracing", _("Contact tracing")
    LINE_LIST = "line_list", _("Line-list import")
    OTHER = "other", _("Other")


class InvestigationTeam(models.Model):
    """An investigation team (流调队) or a reserve-pool team (流调预备队)."""

    name = models.CharField(_("Name"), max_length=64)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("Region"))
    region_code = models.CharField(max_length=15, db_index=True, editable=False)
    is_reserve = models.BooleanField(_("Reserve pool"), default=False)
    on_call = models.BooleanField(_("On call"), default=True)
    skills = models.CharField(_("Skills"), max_length=200, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="tracing_teams",
        blank=True,
        verbose_name=_("Members"),
    )

    class Meta:
        verbose_name = _("Investigation team")
        verbose_name_plural = _("Investigation teams")
        ordering = ["is_reserve", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # keep the denormalised scope key in step
        self.region_code = self.region_id
        super().save(*args, **kwargs)


class Case(models.Model):
    """A case (病例): confirmed, asymptomatic, suspected or excluded, with its investigation.

    ``person`` is the registry entry when the case lives in the system's area; cases that
    arrive from a line list may stay unlinked and are then known by ``external_id`` and name.
    ``infected_by`` is the transmission link the investigation (or the line list) names.
    """

    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("Person"),
    )
    external_id = models.CharField(_("Case number"), max_length=40, blank=True, db_index=True)
    name = models.CharField(_("Full name"), max_length=64, blank=True)
    region_code = models.CharField(_("Region code"), max_length=15)
    status = models.CharField(_("Status"), max_length=12, choices=CaseStatus.choices)
    onset_date = models.DateField(_("Onset date"), null=True, blank=True)
    report_date = models.DateField(_("Report date"), null=True, blank=True)
    confirmation_date = models.DateField(_("Confirmation date"), null=True, blank=True)
    found_via = models.CharField(
        _("Where found"), max_length=16, choices=FoundVia.choices, default=FoundVia.OTHER
    )
    hospital = models.CharField(_("Hospital"), max_length=100, blank=True)
    window_start = models.DateField(
        _("Contacts sought from"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("First day of the window in which contacts count (set by the services)"),
    )
    infected_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="infected",
        verbose_name=_("Infected by"),
    )
    exposure_type = models.CharField(_("Exposure type"), max_length=40, blank=True)
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tracing_cases",
        verbose_name=_("Investigator"),
    )
    team = models.ForeignKey(
        InvestigationTeam,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("Investigation team"),
    )
    investigation_summary = models.TextField(_("Investigation summary"), blank=True)
    source_file = models.CharField(_("Source file"), max_length=200, blank=True)
    source_row = models.PositiveIntegerField(_("Source row"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("Case")
        verbose_name_plural = _("Cases")
        indexes = [
            models.Index(fields=["region_code", "id"], name="tracing_case_region"),
            models.Index(fields=["status", "person"], name="tracing_case_status"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.person_id is not None:
            return self.person.name
        return self.name or self.external_id or f"#{self.pk}"


class TestingReferral(models.Model):
    """A suspected case handed over by the testing module (核酸阳性移交): where it came from.

    Opened by :func:`fangkong.tracing.services.receive_suspected_cases` when a positive single
    tube makes a suspected case. ``source_ref`` is the testing module's key for it and is
    unique, so the same suspected case never opens two records; ``case`` is the case opened
    for it, or the person's open case it was linked to.
    """

    __test__ = False  # not a pytest test class despite the name

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    source_ref = models.CharField(_("Source reference"), max_length=100, unique=True)
    region_code = models.CharField(max_length=15, db_index=True)
    campaign_name = models.CharField(_("Testing round"), max_length=100)
    tube_barcode = models.CharField(_("Tube barcode"), max_length=32)
    sampled_at = models.DateTimeField(_("Sampled at"))
    resulted_at = models.DateTimeField(_("Result time"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Referral from testing")
        verbose_name_plural = _("Referrals from testing")
        ordering = ["resulted_at", "id"]

    def __str__(self) -> str:
        return f"{self.campaign_name} {self.tube_barcode}"


class TimelineEntry(models.Model):
    """One stop of a case's trajectory (活动轨迹): where, when, with whom."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    starts_at = models.DateTimeField(_("From"))
    ends_at = models.DateTimeField(_("To"), null=True, blank=True)
    place = models.CharField(_("Place"), max_length=200)
    activity = models.CharField(_("Activity"), max_length=200, blank=True)
    people = models.CharField(_("People met"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("Timeline entry")
        verbose_name_plural = _("Timeline entries")
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.place}"


class EventKind(models.TextChoices):
    DINNER = "dinner", _("Dinner")
    WEDDING = "wedding", _("Wedding")
    FUNERAL = "funeral", _("Funeral")
    MARKET = "market", _("Market visit")
    VEHICLE = "vehicle", _("Shared vehicle")
    WORKPLACE = "workplace", _("Workplace")
    OTHER = "other", _("Other gathering")


class ExposureEvent(models.Model):
    """An exposure event (聚集性活动): a dinner, wedding, funeral, market, vehicle, workplace.

    A gathering reported in advance (a family wedding registered with the village) is the
    same record with ``reported`` set; if a case later attended, its attendees are contacts.
    """

    kind = models.CharField(_("Kind"), max_length=12, choices=EventKind.choices)
    title = models.CharField(_("Title"), max_length=100)
    place = models.CharField(_("Place"), max_length=200)
    region_code = models.CharField(_("Region code"), max_length=15, db_index=True)
    starts_at = models.DateTimeField(_("Starts"))
    ends_at = models.DateTimeField(_("Ends"))
    starts_on = models.DateField(editable=False, db_index=True)
    organiser = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Organiser"),
    )
    organiser_name = models.CharField(_("Organiser name"), max_length=64, blank=True)
    reported = models.BooleanField(_("Reported gathering"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Exposure event")
        verbose_name_plural = _("Exposure events")

    def __str__(self) -> str:
        return self.title


class Certainty(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    PROBABLE = "probable", _("Probable")


class Attendance(models.Model):
    """A person present at an exposure event."""

    event = models.ForeignKey(ExposureEvent, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    certainty = models.CharField(
        _("Certainty"), max_length=10, choices=Certainty.choices, default=Certainty.CONFIRMED
    )

    class Meta:
        verbose_name = _("Attendance")
        verbose_name_plural = _("Attendance")
        constraints = [
            models.UniqueConstraint(fields=["event", "person"], name="tracing_attendance_once")
        ]
        indexes = [models.Index(fields=["person", "event"], name="tracing_attendance_person")]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.person_id}"


class ExposureType(models.TextChoices):
    HOUSEHOLD = "household", _("Same household")
    MEAL = "meal", _("Shared meal")
    WORK = "work", _("Work or study")
    VEHICLE = "vehicle", _("Same vehicle")
    MEDICAL = "medical", _("Medical care")
    SOCIAL = "social", _("Social visit")
    EVENT = "event", _("Same event")
    OTHER = "other", _("Other")


class ContactLink(models.Model):
    """A recorded contact between two persons (接触关系), directly or at an event.

    Contact is symmetric for classification: whoever was recorded first, both were exposed.
    """

    source = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        ExposureEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    exposure_type = models.CharField(
        _("Exposure type"), max_length=12, choices=ExposureType.choices
    )
    last_exposure_date = models.DateField(_("Last exposure date"), null=True, blank=True)
    region_code = models.CharField(max_length=15, editable=False)
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Investigator"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Contact link")
        verbose_name_plural = _("Contact links")
        indexes = [
            models.Index(fields=["source", "contact"], name="tracing_link_source"),
            models.Index(fields=["contact", "source"], name="tracing_link_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} – {self.contact_id}"


class Level(models.TextChoices):
    CLOSE = "close", _("Close contact")
    SECONDARY = "secondary", _("Secondary contact")


class Classification(models.Model):
    """Where a person stands in the contact graph now (密接 / 次密接), with its history.

    Rows are written only by :func:`fangkong.tracing.services.reclassify`. A person who drops
    out of the graph (the case was excluded) keeps the row with ``ended_at`` set.
    """

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15, db_index=True)
    level = models.CharField(_("Classification"), max_length=10, choices=Level.choices)
    via_person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Through"),
    )
    exposure_date = models.DateField(_("Last exposure date"), null=True, blank=True)
    measure = models.CharField(_("Required measure"), max_length=200, blank=True)
    isolation_order_id = models.BigIntegerField(null=True, blank=True)
    classified_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Contact classification")
        verbose_name_plural = _("Contact classifications")

    def __str__(self) -> str:
        return f"{self.person_id} {self.level}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Not yet reached")
    REACHED = "reached", _("Reached")
    CANCELLED = "cancelled", _("Cancelled")


class TracingTask(models.Model):
    """A tracing task (追踪任务): reach a newly classified person and start their measure."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15)
    level = models.CharField(_("Classification"), max_length=10, choices=Level.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Assigned to"),
    )
    status = models.CharField(
        _("Status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    reached_at = models.DateTimeField(null=True, blank=True)
    reached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("Note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("Tracing task")
        verbose_name_plural = _("Tracing tasks")
        indexes = [models.Index(fields=["status", "region_code"], name="tracing_task_open")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.level} {self.status}"


class NoticeStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted")
    RESULT = "result", _("Result returned")


class Notice(models.Model):
    """A cross-jurisdiction notice (协查函): a contact who lives in another region.

    ``from_region_code`` is the sender's side (the case), ``to_region_code`` the receiver's
    (the contact's residence; empty when it lies outside the system, ``destination`` names
    it). Each side sees its own people in full and the other side's masked.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notices")
    from_region_code = models.CharField(max_length=15, db_index=True)
    to_region_code = models.CharField(max_length=15, blank=True, db_index=True)
    destination = models.CharField(_("Destination"), max_length=100, blank=True)
    subject_name = models.CharField(_("Full name"), max_length=64)
    subject_id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    subject_phone = models.CharField(_("Phone"), max_length=20, blank=True)
    subject_person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    exposure_type = models.CharField(
        _("Exposure type"), max_length=12, choices=ExposureType.choices
    )
    last_exposure_date = models.DateField(_("Last exposure date"), null=True, blank=True)
    status = models.CharField(
        _("Status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.SENT
    )
    result = models.CharField(_("Result"), max_length=300, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Cross-region notice")
        verbose_name_plural = _("Cross-region notices")

    def __str__(self) -> str:
        return f"{self.from_region_code} → {self.to_region_code or self.destination}"
