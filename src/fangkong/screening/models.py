"""Screening (排查): stays, risk areas, control policies as versioned data, and decisions.

Rules are data. A risk area (风险地区) is a region code prefix (province down to street or
community) or a free-text place, a level and a validity; a control policy (管控政策) is an
immutable version of rules "risk level + look-back window → measure". Each evaluation of a
person stores a :class:`ScreeningDecision` naming the policy version and the reason in
words, so a cadre can answer "why is this person isolated?" long after the rules changed.
Decisions are kept as history: the latest evaluation run of a region holds its current ones.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import Person, Source


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")


class RuleLevel(models.TextChoices):
    """The levels a policy rule may name: the risk levels, plus travel elsewhere (其他)."""

    HIGH = "high", _("High risk")
    MEDIUM = "medium", _("Medium risk")
    LOW = "low", _("Low risk")
    OTHER = "other", _("Other travel")


class Measure(models.TextChoices):
    CENTRALISED = "centralised", _("Centralised isolation")
    HOME = "home", _("Home isolation")
    MONITORING = "monitoring", _("Health monitoring")
    TEST_ONLY = "test_only", _("Nucleic-acid test only")
    NONE = "none", _("No measure")


class RiskArea(models.Model):
    """A risk area (风险地区) announced by a notice, valid from a date until lifted."""

    region_code = models.CharField(
        _("Region code"),
        max_length=12,
        blank=True,
        db_index=True,
        help_text=_("Statistical code of the province, city, county, street or community"),
    )
    place = models.CharField(_("Place"), max_length=100)
    level = models.CharField(_("Risk level"), max_length=8, choices=RiskLevel.choices)
    valid_from = models.DateField(_("Valid from"))
    valid_to = models.DateField(_("Valid until"), null=True, blank=True)
    notice = models.CharField(_("Source notice"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Risk area")
        verbose_name_plural = _("Risk areas")
        ordering = ["-valid_from", "place"]

    def __str__(self) -> str:
        return self.place


class Stay(models.Model):
    """A travel or stay record (行程/旅居史): where a person was, from when to when."""

    # No index of its own: (person, left) below serves every look-up by person, and one
    # index fewer is one insert fewer per stay of a million-row ledger.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="stays", db_index=False
    )
    # The person's residence code, copied so jurisdiction filters need no join.
    region_code = models.CharField(max_length=15, db_index=True, editable=False)
    place_code = models.CharField(_("Place code"), max_length=12, blank=True, db_index=True)
    place = models.CharField(_("Place"), max_length=100)
    arrived = models.DateField(_("From"))
    left = models.DateField(_("To"))
    transport = models.CharField(_("Transport"), max_length=60, blank=True)
    source = models.CharField(_("Source"), max_length=12, choices=Source.choices)
    source_file = models.CharField(max_length=200, blank=True)
    source_row = models.PositiveIntegerField(null=True, blank=True)
    # Unindexed: accounts are deactivated, not deleted, and nothing lists stays by author.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Stay")
        verbose_name_plural = _("Stays")
        indexes = [models.Index(fields=["person", "left"], name="stay_person_left")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(left__gte=models.F("arrived")), name="stay_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place} {self.arrived}–{self.left}"


class ControlPolicy(models.Model):
    """One version of a region's control policy (管控政策). Never edited: a change is a new
    version, so every decision can name the exact rules it followed."""

    region_code = models.CharField(_("Region code"), max_length=15, db_index=True)
    version = models.PositiveIntegerField(_("Version"))
    title = models.CharField(_("Title"), max_length=100)
    notice = models.CharField(_("Source notice"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Control policy")
        verbose_name_plural = _("Control policies")
        ordering = ["region_code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["region_code", "version"], name="policy_version")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class PolicyRule(models.Model):
    """Level + look-back window → measure: kind, days, then home days, tests on days."""

    policy = models.ForeignKey(ControlPolicy, on_delete=models.CASCADE, related_name="rules")
    level = models.CharField(_("Risk level"), max_length=8, choices=RuleLevel.choices)
    look_back_days = models.PositiveSmallIntegerField(_("Look-back days"))
    measure = models.CharField(_("Measure"), max_length=12, choices=Measure.choices)
    days = models.PositiveSmallIntegerField(_("Days"), default=0)
    home_days = models.PositiveSmallIntegerField(_("Then home isolation days"), default=0)
    test_days = models.JSONField(_("Tests on days"), default=list)

    class Meta:
        verbose_name = _("Policy rule")
        verbose_name_plural = _("Policy rules")
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="policy_rule_level")
        ]

    def __str__(self) -> str:
        return f"{self.level} → {self.measure}"


class EvaluationRun(models.Model):
    """One evaluation of a region against its policy (研判批次).

    The decisions of a region's latest finished run are its current decisions: a new run
    makes the previous ones history without updating a million rows.
    """

    region_code = models.CharField(max_length=15, db_index=True)
    policy = models.ForeignKey(ControlPolicy, on_delete=models.PROTECT, related_name="runs")
    as_of = models.DateField(_("Evaluated for"))
    why = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("Evaluation run")
        verbose_name_plural = _("Evaluation runs")
        indexes = [models.Index(fields=["region_code", "-finished_at"], name="run_latest")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.as_of}"


class ScreeningDecision(models.Model):
    """What a policy version decided for a person, and why (管控决定).

    Written in bulk by :mod:`.evaluation` (a million rows per county run), so only the
    person key is enforced by the database; the other keys point to rows the same
    transaction has just read (and Django still applies ``on_delete`` itself). Stays and
    risk areas are never deleted through the product, so their keys carry no index here.
    """

    run = models.ForeignKey(
        EvaluationRun,
        on_delete=models.CASCADE,
        related_name="decisions",
        db_constraint=False,
        db_index=False,
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="decisions")
    region_code = models.CharField(max_length=15, editable=False)
    policy = models.ForeignKey(
        ControlPolicy,
        on_delete=models.PROTECT,
        related_name="decisions",
        db_constraint=False,
        db_index=False,
    )
    level = models.CharField(_("Risk level"), max_length=8, choices=RuleLevel.choices, blank=True)
    measure = models.CharField(_("Measure"), max_length=12, choices=Measure.choices)
    days = models.PositiveSmallIntegerField(default=0)
    home_days = models.PositiveSmallIntegerField(default=0)
    test_days = models.JSONField(default=list)
    start_date = models.DateField(_("Counted from"), null=True, blank=True)
    end_date = models.DateField(_("Ends"), null=True, blank=True)
    reason = models.CharField(_("Reason"), max_length=300)
    stay = models.ForeignKey(
        Stay, on_delete=models.SET_NULL, null=True, blank=True, db_constraint=False, db_index=False
    )
    risk_area = models.ForeignKey(
        RiskArea,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        db_index=False,
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Screening decision")
        verbose_name_plural = _("Screening decisions")
        indexes = [
            models.Index(fields=["run", "region_code"], name="decision_run_region"),
        ]

    def __str__(self) -> str:
        return self.reason


class ElsewhereType(models.TextChoices):
    SETTLED = "settled", _("Settled elsewhere")
    HOLIDAY = "holiday", _("Returning for the holiday")
    STUDENT = "student", _("Student")
    MIGRANT = "migrant", _("Migrant worker")


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    MID = "mid", _("Medium")
    HIGH = "high", _("High")


class PersonElsewhere(models.Model):
    """A resident living elsewhere (在外人员) and how urgently they mean to come back."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="elsewhere")
    region_code = models.CharField(max_length=15, db_index=True, editable=False)
    kind = models.CharField(_("Type"), max_length=10, choices=ElsewhereType.choices)
    current_city = models.CharField(_("Current city"), max_length=60)
    current_code = models.CharField(_("Current region code"), max_length=12, blank=True)
    return_date = models.DateField(_("Intended return date"), null=True, blank=True)
    urgency = models.CharField(_("Urgency of return"), max_length=4, choices=Urgency.choices)
    last_contact = models.DateField(_("Last contact"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Person living elsewhere")
        verbose_name_plural = _("Persons living elsewhere")

    def __str__(self) -> str:
        return self.current_city


class LedgerKind(models.TextChoices):
    ARRIVALS = "arrivals", _("Arrivals and returnees")
    ELSEWHERE = "elsewhere", _("People living elsewhere")
    RESIDENTS = "residents", _("Residents")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("Import nothing if any row fails")
    VALID_ROWS = "valid", _("Import the valid rows, return the rest")


class LedgerImport(models.Model):
    """One upload of a ledger file (台账导入) and its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DONE = "done", _("Imported")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("Ledger"), max_length=10, choices=LedgerKind.choices)
    mode = models.CharField(_("Mode"), max_length=5, choices=ImportMode.choices)
    source = models.CharField(_("Source"), max_length=12, choices=Source.choices)
    file_name = models.CharField(_("File"), max_length=200)
    file_hash = models.CharField(max_length=64, db_index=True)
    path = models.CharField(max_length=400)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_existing = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    # Row numbers this import stored, as inclusive [first, last] ranges: re-importing the
    # same file (same hash) skips them.
    rows_done = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # The rejected rows as uploaded ({"headers": [...], "rows": [[row number, cells], ...]}),
    # kept when the uploaded file itself is deleted, so they can still be returned to fix.
    rejected = models.JSONField(default=dict, blank=True)
    # What the import changed: counts and the first persons added / updated (ledgers.Changes).
    changes = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=500, blank=True)
    task = models.ForeignKey("core.TaskRecord", on_delete=models.SET_NULL, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Ledger import")
        verbose_name_plural = _("Ledger imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name


class LinkMethod(models.TextChoices):
    NONE = "", _("Not linked")
    ID = "id", _("Same ID number")
    AUTO = "auto", _("Linked automatically")
    CONFIRMED = "confirmed", _("Confirmed by a person")
    REGISTERED = "registered", _("Registered from the lists")


class UnregisteredGroup(models.Model):
    """One person the lists name who is not in the registry (未登记人员).

    The unlinked entries of a village are grouped across channels when reconciliation runs
    (:func:`.reconciliation.group_unregistered`): entries with the same valid ID number, or
    that the linker would link automatically, are one group, so a returnee reported by the
    police and by a tip-off is listed once. The group is stored, not recomputed per page
    view; registering it creates the person and links all its entries (``person`` is then
    set and the group kept as the provenance of the registration).
    """

    region_code = models.CharField(_("Village"), max_length=15, db_index=True)
    # The lowest entry id of the group: a regrouping that finds the same group keeps its id.
    anchor = models.PositiveBigIntegerField(db_index=True)
    name = models.CharField(_("Full name"), max_length=64)
    sources = models.JSONField(_("Reported by"), default=list)
    records_count = models.PositiveIntegerField(_("Entries"), default=0)
    first_reported = models.DateField(_("First reported on"))
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    registered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Unregistered person")
        verbose_name_plural = _("Unregistered persons")
        ordering = ["region_code", "name", "id"]

    def __str__(self) -> str:
        return f"{self.region_code} {self.name}"


class SourceRecord(models.Model):
    """One entry of a screening list from one channel (排查名单记录), linked to a person.

    Police ID checks, village reports, self-reports, checkpoint logs and tip-offs name the
    same people differently; each entry is kept as it came, with its source, and linked to
    the registry person it describes (:mod:`.linkage`).
    """

    source = models.CharField(_("Source"), max_length=12, choices=Source.choices)
    name = models.CharField(_("Full name"), max_length=64)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    sex = models.CharField(_("Sex"), max_length=1, blank=True)
    birth_date = models.DateField(_("Date of birth"), null=True, blank=True)
    phone = models.CharField(_("Phone"), max_length=20, blank=True)
    address = models.CharField(_("Address"), max_length=200, blank=True)
    region_code = models.CharField(_("Responsible village"), max_length=15, db_index=True)
    reported_on = models.DateField(_("Reported on"))
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="source_records"
    )
    link_method = models.CharField(
        max_length=10, choices=LinkMethod.choices, blank=True, default=""
    )
    link_score = models.FloatField(null=True, blank=True)
    group = models.ForeignKey(
        UnregisteredGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )
    # Stable key of an entry another module offered (core.signals.screening_entry_offered,
    # e.g. "places.sale:12"): a repeat of the same offer changes nothing.
    ref = models.CharField(max_length=60, blank=True, default="", db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Screening list record")
        verbose_name_plural = _("Screening list records")
        indexes = [models.Index(fields=["region_code", "source"], name="record_region_source")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.name}"


class CandidatePair(models.Model):
    """A possible match for a person to confirm or reject (待核实的比对结果).

    The decision is kept: a rejected pair is never proposed again, a confirmed one links.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("To check")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    record = models.ForeignKey(SourceRecord, on_delete=models.CASCADE, related_name="candidates")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="candidates")
    region_code = models.CharField(max_length=15, db_index=True)
    score = models.FloatField()
    why = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Candidate pair")
        verbose_name_plural = _("Candidate pairs")
        constraints = [models.UniqueConstraint(fields=["record", "person"], name="candidate_once")]

    def __str__(self) -> str:
        return f"{self.record_id} ~ {self.person_id}"


class VisitTask(models.Model):
    """A door visit to check a flagged person (走访核查), for the grid worker of the household.

    One visit per flagging exposure (the stay that flagged the person): a new policy version
    that flags the same stay again does not send the worker a second time. Overdue visits
    escalate to the village, then to the township.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("To visit")
        DONE = "done", _("Visited")

    class Escalation(models.IntegerChoices):
        NONE = 0, _("Not escalated")
        VILLAGE = 1, _("Escalated to the village")
        TOWNSHIP = 2, _("Escalated to the township")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="visit_tasks")
    region_code = models.CharField(max_length=15, db_index=True)
    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="visit_tasks")
    reason = models.CharField(_("Reason"), max_length=300)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit_tasks",
        verbose_name=_("Grid worker"),
    )
    due_at = models.DateTimeField(_("Due"))
    status = models.CharField(max_length=5, choices=Status.choices, default=Status.OPEN)
    escalation = models.PositiveSmallIntegerField(choices=Escalation.choices, default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reassigned_at = models.DateTimeField(null=True, blank=True)
    reassigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    present = models.BooleanField(_("At home"), null=True)
    healthy = models.BooleanField(_("No fever or cough"), null=True)
    temperature = models.DecimalField(
        _("Temperature"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    phone_checked = models.CharField(_("Phone confirmed"), max_length=20, blank=True)
    note = models.CharField(_("Note"), max_length=300, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The idempotency key of the phone that recorded the visit offline (field app): the same
    # key sent again is the same visit, another key on a done visit is a conflict.
    client_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Visit task")
        verbose_name_plural = _("Visit tasks")
        constraints = [
            models.UniqueConstraint(fields=["person", "stay"], name="visit_once_per_exposure")
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="visit_open_due")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.due_at:%Y-%m-%d %H:%M}"


class PenaltyRule(models.Model):
    """The county's penalty per omission (漏报处罚标准): one amount for each omission found
    before the cut-off date, a higher one after; a village has ``deadline_days`` to report
    a returnee after another channel found them."""

    region_code = models.CharField(_("County code"), max_length=6, unique=True)
    amount_before = models.PositiveIntegerField(_("Amount before the cut-off (yuan)"))
    amount_after = models.PositiveIntegerField(_("Amount from the cut-off (yuan)"))
    cutoff = models.DateField(_("Cut-off date"))
    deadline_days = models.PositiveSmallIntegerField(_("Days a village has to report"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Penalty rule")
        verbose_name_plural = _("Penalty rules")

    def __str__(self) -> str:
        return self.region_code


class Omission(models.Model):
    """A returnee another channel found and the responsible village did not report in time
    (漏报), with the evidence and the penalty that applies."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="omissions")
    region_code = models.CharField(_("Responsible village"), max_length=15, db_index=True)
    found_by = models.CharField(_("Found by"), max_length=12, choices=Source.choices)
    found_on = models.DateField(_("Found on"))
    reported_on = models.DateField(_("Reported by the village on"), null=True, blank=True)
    amount = models.PositiveIntegerField(_("Penalty (yuan)"))
    evidence = models.CharField(_("Evidence"), max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Omission")
        verbose_name_plural = _("Omissions")
        constraints = [
            models.UniqueConstraint(fields=["person", "region_code"], name="omission_once")
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.person_id}"
