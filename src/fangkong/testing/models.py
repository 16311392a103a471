"""Nucleic-acid testing (核酸检测): rounds, sampling points, tubes, samples, results, recalls.

The rules the schema itself keeps, so that they hold whatever path writes (the phone page,
the bulk API of sampling devices, two devices at the same second):

- a person is sampled once per round: ``(campaign, person, attempt)`` is unique and only a
  recall opens a further attempt (a single-tube retest);
- a tube holds at most its capacity: ``sample_count <= capacity`` is a CHECK on the tube row,
  and every sample increments that counter in the same transaction, so concurrent scans into
  one tube serialise on its row and the scan that would overflow it fails;
- a device sample id is recorded once: a batch sent again is recognised, not doubled.

Every row that holds personal data carries the person's ``region_code`` (denormalised at
write time) so that jurisdiction scoping and coverage are range scans on one column.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import Person


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RUNNING = "running", _("Running")
    CLOSED = "closed", _("Closed")


class Campaign(models.Model):
    """A testing round (核酸检测轮次): who should be tested, where, and within which window.

    ``region_codes`` lists the regions whose residents are targeted (a whole county, a few
    villages of a zone); ``categories`` narrows them to groups such as returnees (empty: all
    residents). ``region_code`` is the longest code covering all of them: the round is
    visible to users whose jurisdiction overlaps it.
    """

    name = models.CharField(_("Name"), max_length=100)
    region_code = models.CharField(_("Organising region"), max_length=15, db_index=True)
    region_codes = models.JSONField(_("Target regions"), default=list)
    categories = models.JSONField(_("Target categories"), default=list, blank=True)
    starts_at = models.DateTimeField(_("Starts at"))
    ends_at = models.DateTimeField(_("Ends at"))
    pool_size = models.PositiveSmallIntegerField(_("Samples per pooled tube"), default=10)
    status = models.CharField(
        _("Status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.RUNNING
    )
    note = models.CharField(_("Note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Testing round")
        verbose_name_plural = _("Testing rounds")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="testing_campaign_window"
            ),
            models.CheckConstraint(
                condition=Q(pool_size__in=[1, 10, 20]), name="testing_campaign_pool_size"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExemptionReason(models.TextChoices):
    BEDRIDDEN = "bedridden", _("Bedridden")
    INFANT = "infant", _("Infant")
    AWAY = "away", _("Away from home")
    HOSPITAL = "hospital", _("In hospital")
    OTHER = "other", _("Other")


class Exemption(models.Model):
    """A person excused from a round (免检), with the reason a grid worker recorded."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="exemptions")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15, editable=False)
    reason = models.CharField(_("Reason"), max_length=10, choices=ExemptionReason.choices)
    note = models.CharField(_("Note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Exemption")
        verbose_name_plural = _("Exemptions")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "person"], name="testing_exemption_once")
        ]
        indexes = [models.Index(fields=["campaign", "region_code"], name="testing_exempt_region")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.reason}"


class TestSchedule(models.Model):
    """Tests a person is due on given days for a reason outside any round (检测计划).

    The isolation module's orders (tests on days 1, 4, 7) and policies feed this through
    :func:`fangkong.testing.services.schedule_tests`; ``origin`` says why in words a cadre
    reads, ``origin_ref`` lets the feeding module find and replace its own schedule.
    """

    __test__ = False  # not a pytest test class despite the name

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15, editable=False)
    origin = models.CharField(_("Origin"), max_length=200)
    origin_ref = models.CharField(_("Origin reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Test schedule")
        verbose_name_plural = _("Test schedules")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "origin_ref"],
                condition=~Q(origin_ref=""),
                name="testing_schedule_origin_once",
            )
        ]

    def __str__(self) -> str:
        return self.origin


class DueTest(models.Model):
    """One day on which a scheduled person should give a sample (应检日)."""

    schedule = models.ForeignKey(TestSchedule, on_delete=models.CASCADE, related_name="due")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15, editable=False)
    due_on = models.DateField(_("Due on"))

    class Meta:
        verbose_name = _("Due test")
        verbose_name_plural = _("Due tests")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_on"], name="testing_due_once")
        ]
        indexes = [models.Index(fields=["due_on", "region_code"], name="testing_due_day")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.due_on}"


class SamplingPoint(models.Model):
    """A sampling point (采样点): where it is, whom it serves, when it is open, how many lanes.

    ``throughput_per_lane_hour`` is the figure measured in a timed trial (samples one lane
    takes in an hour); once samples carry the point, the planner measures it from them.
    """

    name = models.CharField(_("Name"), max_length=100)
    location = models.CharField(_("Location"), max_length=200)
    region = models.ForeignKey(
        "core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("Region served")
    )
    region_code = models.CharField(max_length=15, db_index=True, editable=False)
    opens_at = models.TimeField(_("Opens at"))
    closes_at = models.TimeField(_("Closes at"))
    lanes = models.PositiveSmallIntegerField(_("Lanes"), default=1)
    throughput_per_lane_hour = models.PositiveIntegerField(
        _("Samples per lane per hour"), default=60
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("Sampling staff")
    )
    active = models.BooleanField(_("Active"), default=True)
    # Raised by every change of the point; a change of the staff list names the version it
    # read, so two planners editing the list at once cannot silently undo each other.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("Sampling point")
        verbose_name_plural = _("Sampling points")
        ordering = ["region_code", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="testing_point_hours"
            ),
            models.CheckConstraint(condition=Q(lanes__gte=1), name="testing_point_lanes"),
        ]

    def __str__(self) -> str:
        return self.name


class TestResult(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    INVALID = "invalid", _("Invalid")


class Tube(models.Model):
    """A sampling tube (采样管): one sample (单采) or a pool of 10 or 20 (10混1/20混1).

    A tube row may be created by its first sample, before the device's "open tube" message
    arrives; ``opened_at`` stays empty until then.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tubes")
    barcode = models.CharField(_("Tube barcode"), max_length=32)
    capacity = models.PositiveSmallIntegerField(_("Capacity"))
    sample_count = models.PositiveSmallIntegerField(_("Samples"), default=0)
    point = models.ForeignKey(
        SamplingPoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("Opened at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    result = models.CharField(
        _("Result"), max_length=10, choices=TestResult.choices, null=True, blank=True
    )
    resulted_at = models.DateTimeField(_("Result time"), null=True, blank=True)
    result_source = models.CharField(_("Result source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("Tube")
        verbose_name_plural = _("Tubes")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "barcode"], name="testing_tube_barcode"),
            models.CheckConstraint(
                condition=Q(capacity__in=[1, 10, 20]), name="testing_tube_capacity"
            ),
            models.CheckConstraint(
                condition=Q(sample_count__lte=F("capacity")), name="testing_tube_not_overfull"
            ),
        ]

    def __str__(self) -> str:
        return self.barcode

    @property
    def pooled(self) -> bool:
        return self.capacity > 1


class Sample(models.Model):
    """One swab of one person into one tube (采样记录).

    ``attempt`` is 0 for the round's sample and 1, 2, … for single-tube retests after a
    recall; ``device_sample_id`` is the sampling device's own id for the scan, the key that
    makes a resent batch harmless.
    """

    # Every index costs the bulk path: the campaign is served by the unique constraint's and
    # the region index's leading column, the point and recorder are never searched by.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="samples", db_index=False
    )
    tube = models.ForeignKey(Tube, on_delete=models.CASCADE, related_name="samples")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15, editable=False)
    attempt = models.PositiveSmallIntegerField(default=0)
    device_sample_id = models.CharField(max_length=64, unique=True)
    point = models.ForeignKey(
        SamplingPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    sampled_at = models.DateTimeField(_("Sampled at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("Sample")
        verbose_name_plural = _("Samples")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "person", "attempt"], name="testing_sample_once_per_round"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "region_code"], name="testing_sample_region"),
        ]

    def __str__(self) -> str:
        return self.device_sample_id


class CoverageCount(models.Model):
    """Running tallies of a round per region code (a grid or village): persons sampled and
    persons whose tube has a result.

    Written in the same transaction as the samples and results they count (set-based, one
    upsert per batch), so coverage of a county reads a few thousand tallies instead of
    aggregating millions of samples while ingestion runs. Only round samples (attempt 0)
    count; retests do not make a person "tested" twice. A person who moves takes their
    tallies along and a deleted sample leaves them (database triggers, see
    :class:`RegistryCount`), so the tallies are always by where the persons live now.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15)
    tested = models.PositiveIntegerField(default=0)
    resulted = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("Coverage tally")
        verbose_name_plural = _("Coverage tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "region_code"], name="testing_coverage_count_region"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.tested}/{self.resulted}"


class RegistryCount(models.Model):
    """Persons of the registry per region code and category (登记人口数): the "should test"
    side of coverage, kept exact by the database itself.

    Coverage of a county compares these with :class:`CoverageCount` instead of counting a
    million persons on every read. Triggers on ``people_person`` (installed by migration
    ``0004_registry_count_triggers``) adjust the counts in the transaction of every insert,
    move, change of category and delete, whatever path writes: the registry services, the
    bulk import's ``COPY``, the ledger import, the admin. The same triggers keep the round
    tallies and the denormalised ``region_code`` of samples and exemptions with a person who
    moves, so coverage is always by where people live now.
    """

    region_code = models.CharField(max_length=15)
    category = models.CharField(max_length=12)
    # Not a PositiveIntegerField: a count gone wrong must never refuse a registry write.
    persons = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("Registry count")
        verbose_name_plural = _("Registry counts")
        constraints = [
            models.UniqueConstraint(
                fields=["region_code", "category"], name="testing_registry_count_region"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.category} {self.persons}"


class UnmatchedResult(models.Model):
    """A lab result for a tube barcode the round does not know (yet): kept and reported.

    It is applied automatically when samples for that tube arrive later.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    barcode = models.CharField(_("Tube barcode"), max_length=32)
    result = models.CharField(_("Result"), max_length=10, choices=TestResult.choices)
    source = models.CharField(_("Source"), max_length=200, blank=True)
    row = models.PositiveIntegerField(_("Row"), null=True, blank=True)
    reported_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Result for an unknown tube")
        verbose_name_plural = _("Results for unknown tubes")
        indexes = [models.Index(fields=["campaign", "barcode"], name="testing_unmatched_code")]

    def __str__(self) -> str:
        return f"{self.barcode} {self.result}"


class Recall(models.Model):
    """A recall (召回) of everyone in a positive or invalid tube for a single-tube retest."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recalls")
    tube = models.OneToOneField(Tube, on_delete=models.CASCADE, related_name="recall")
    reason = models.CharField(_("Reason"), max_length=10, choices=TestResult.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Recall")
        verbose_name_plural = _("Recalls")

    def __str__(self) -> str:
        return f"{self.tube_id} {self.reason}"


class RecallEntry(models.Model):
    """One recalled person; ``retest`` is set when their single-tube retest is sampled."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="entries")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15, editable=False)
    retest = models.ForeignKey(
        Sample, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Recalled person")
        verbose_name_plural = _("Recalled persons")
        constraints = [
            models.UniqueConstraint(fields=["recall", "person"], name="testing_recall_person")
        ]
        indexes = [models.Index(fields=["campaign", "region_code"], name="testing_recall_region")]

    def __str__(self) -> str:
        return f"{self.recall_id} {self.person_id}"


class RecallTask(models.Model):
    """A grid worker's task (召回任务): bring the recalled persons of one grid to a retest."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(_("Grid"), max_length=15)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    persons = models.PositiveIntegerField(_("Persons to recall"), default=0)
    status = models.CharField(max_length=5, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Recall task")
        verbose_name_plural = _("Recall tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "region_code", "assignee"], name="testing_recall_task_once"
            )
        ]
        indexes = [models.Index(fields=["assignee", "status"], name="testing_task_assignee")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.status}"


class SuspectedCase(models.Model):
    """A suspected case (疑似病例) from a positive single tube: the handoff to tracing.

    When a case is found the testing module announces it
    (:data:`fangkong.core.signals.suspected_case_found`); the tracing module opens (or links)
    its case and answers with that record's key and address, kept in ``handed_over_ref`` and
    ``handed_over_url``. Until then :func:`fangkong.testing.selectors.suspected_cases` is
    where an investigator finds them.
    """

    class Status(models.TextChoices):
        NEW = "new", _("New")
        HANDED_OVER = "handed_over", _("Handed over to tracing")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(max_length=15, editable=False)
    tube = models.OneToOneField(Tube, on_delete=models.CASCADE, related_name="suspected_case")
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    created_at = models.DateTimeField(default=timezone.now)
    handed_over_at = models.DateTimeField(_("Handed over at"), null=True, blank=True)
    handed_over_ref = models.CharField(_("Tracing record"), max_length=100, blank=True)
    handed_over_url = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("Suspected case")
        verbose_name_plural = _("Suspected cases")
        indexes = [models.Index(fields=["region_code"], name="testing_suspect_region")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.tube_id}"


class RegistrationCode(models.Model):
    """A code a person generated on their own phone (自助登记码) to be scanned instead of
    their ID card: it speeds the queue and keeps the card in the pocket."""

    code = models.CharField(max_length=16, unique=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Registration code")
        verbose_name_plural = _("Registration codes")

    def __str__(self) -> str:
        return self.code
