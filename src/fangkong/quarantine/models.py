"""Isolation (隔离): orders, check schedules, readings, alerts, sites and rooms, release.

Every record of personal data carries ``region_code`` — the residence code of the isolated
person, copied from the registry when the order is made — so that jurisdiction scoping is one
indexed range filter (:func:`fangkong.core.jurisdiction.scope`) without joins.

Rules live in :mod:`.services`; the constraints here are the last line of defence for the
rules that must hold even under concurrent requests: a missed check alerts once per slot, a
fever reading alerts once, a client's reading is stored once, an order sits in one room.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IsolationKind(models.TextChoices):
    """Kinds in escalating order; a transfer only ever moves up this list."""

    MONITORING = "monitoring", _("Health monitoring")
    HOME = "home", _("Home isolation")
    CENTRALISED = "centralised", _("Centralised isolation")


KIND_RANK = {IsolationKind.MONITORING: 0, IsolationKind.HOME: 1, IsolationKind.CENTRALISED: 2}


class OrderStatus(models.TextChoices):
    ACTIVE = "active", _("In isolation")
    RELEASED = "released", _("Released")
    ENDED_EARLY = "ended_early", _("Ended early")
    TRANSFERRED = "transferred", _("Transferred")


class CostBearer(models.TextChoices):
    """Who pays for centralised isolation (集中隔离费用): self-paid in most seeds."""

    SELF = "self", _("Self-paid")
    GOVERNMENT = "government", _("Government")
    EMPLOYER = "employer", _("Employer")


class CheckSchedule(models.Model):
    """A daily schedule of health checks (e.g. twice a day: morning and afternoon windows)."""

    name = models.CharField(_("Name"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("Check schedule")
        verbose_name_plural = _("Check schedules")

    def __str__(self) -> str:
        return self.name


class CheckWindow(models.Model):
    """One daily window of a schedule, in local time: a reading inside it fills the slot.

    A slot is "missed" when its window has closed without a reading. Windows do not cross
    midnight, so a slot is identified by its local date and window, stored as the instant the
    window opens.
    """

    schedule = models.ForeignKey(CheckSchedule, on_delete=models.CASCADE, related_name="windows")
    opens_at = models.TimeField(_("Opens at"))
    closes_at = models.TimeField(_("Closes at"))

    class Meta:
        verbose_name = _("Check window")
        verbose_name_plural = _("Check windows")
        ordering = ["schedule", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="check_window_order"
            ),
            models.UniqueConstraint(fields=["schedule", "opens_at"], name="check_window_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class IsolationSite(models.Model):
    """A centralised isolation site (集中隔离点) run by the county or a township."""

    name = models.CharField(_("Name"), max_length=100)
    region_code = models.CharField(_("Region code"), max_length=15, db_index=True)
    address = models.CharField(_("Address"), max_length=200, blank=True)
    phone = models.CharField(_("Duty phone"), max_length=20, blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="isolation_sites",
        verbose_name=_("Staff"),
    )
    active = models.BooleanField(_("In use"), default=True)

    class Meta:
        verbose_name = _("Isolation site")
        verbose_name_plural = _("Isolation sites")
        ordering = ["region_code", "name"]

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    """A room of a site. ``party`` and ``occupants`` are the booking, kept on the row itself.

    A room holds one party at a time — one household, or one person without a household — up
    to its capacity. Booking is a conditional UPDATE of this row (see
    :func:`fangkong.quarantine.services.assign_room`), which is atomic on every database, so
    two requests for the last free bed cannot both succeed.
    """

    site = models.ForeignKey(IsolationSite, on_delete=models.CASCADE, related_name="rooms")
    number = models.CharField(_("Room"), max_length=20)
    capacity = models.PositiveSmallIntegerField(_("Beds"), default=1)
    occupants = models.PositiveSmallIntegerField(_("Occupants"), default=0)
    party = models.CharField(max_length=40, null=True, blank=True)

    class Meta:
        verbose_name = _("Room")
        verbose_name_plural = _("Rooms")
        ordering = ["site", "number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="room_unique_number"),
            models.CheckConstraint(
                condition=Q(occupants__lte=models.F("capacity")), name="room_not_overfull"
            ),
            models.CheckConstraint(
                condition=Q(occupants=0, party__isnull=True)
                | Q(occupants__gt=0, party__isnull=False),
                name="room_party_matches_occupants",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.number}"

    @property
    def free_beds(self) -> int:
        return self.capacity - self.occupants


class IsolationOrder(models.Model):
    """An isolation order (隔离决定) for one person: kind, period, rule, tests, who watches.

    Household members isolated together get one order each (so each is checked and alerted
    on), linked to the first by ``lead``. A release, transfer or extension never edits the
    period silently: transfers and next stages are new orders linked by ``previous``.
    """

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="isolation_orders",
        verbose_name=_("Person"),
    )
    region_code = models.CharField(_("Region code"), max_length=15)
    kind = models.CharField(_("Kind"), max_length=12, choices=IsolationKind.choices)
    status = models.CharField(
        _("Status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.ACTIVE
    )
    starts_at = models.DateTimeField(_("Start"))
    ends_at = models.DateTimeField(_("Planned end"))
    policy_version = models.CharField(_("Policy version"), max_length=100, blank=True)
    manual_reason = models.CharField(_("Reason"), max_length=300, blank=True)
    address = models.CharField(_("Place of isolation"), max_length=200, blank=True)
    responsible = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="isolation_orders",
        verbose_name=_("Responsible persons"),
    )
    lead = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="companions",
        verbose_name=_("Shared with"),
    )
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_orders",
        verbose_name=_("Previous stage"),
    )
    schedule = models.ForeignKey(CheckSchedule, on_delete=models.PROTECT)
    agreement_signed_on = models.DateField(_("Agreement signed on"), null=True, blank=True)
    agreement_scan = models.FileField(
        _("Agreement scan"), upload_to="quarantine/agreements/%Y/%m/", blank=True
    )
    cost_bearer = models.CharField(
        _("Cost bearer"), max_length=12, choices=CostBearer.choices, blank=True
    )
    next_kind = models.CharField(
        _("Next stage"), max_length=12, choices=IsolationKind.choices, blank=True
    )
    next_days = models.PositiveSmallIntegerField(_("Days of next stage"), null=True, blank=True)
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("Room"),
    )
    closed_at = models.DateTimeField(_("Closed at"), null=True, blank=True)
    close_reason = models.CharField(_("Reason for closing"), max_length=300, blank=True)
    override_reason = models.CharField(_("Override reason"), max_length=300, blank=True)
    transferred_to = models.CharField(_("Transferred to"), max_length=100, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    # Who asked for it from another module ("tracing.classification:12"), through
    # fangkong.core.isolation: a second request for the same source finds this order.
    source = models.CharField(_("Ordered from"), max_length=80, blank=True, default="")

    class Meta:
        verbose_name = _("Isolation order")
        verbose_name_plural = _("Isolation orders")
        indexes = [
            models.Index(fields=["region_code", "status"], name="order_region_status"),
            models.Index(fields=["status", "schedule"], name="order_status_schedule"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="order_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(policy_version="") | ~Q(manual_reason=""), name="order_has_rule"
            ),
            # One active order per person: a new measure is a transfer or an extension.
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="active"), name="order_one_active"
            ),
            models.UniqueConstraint(
                fields=["source"], condition=~Q(source=""), name="order_unique_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_kind_display()}"

    @property
    def has_agreement(self) -> bool:
        return self.agreement_signed_on is not None or bool(self.agreement_scan)


class TestResult(models.TextChoices):
    PENDING = "pending", _("Pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class RequiredTest(models.Model):
    """A nucleic-acid test the order requires (e.g. on days 1, 4 and 14), and its result.

    This is the hand-over point for the testing module: it records results here through
    :func:`fangkong.quarantine.services.record_test_result`; release reads only this table.
    """

    order = models.ForeignKey(IsolationOrder, on_delete=models.CASCADE, related_name="tests")
    day = models.PositiveSmallIntegerField(_("Day of isolation"))
    result = models.CharField(
        _("Result"), max_length=10, choices=TestResult.choices, default=TestResult.PENDING
    )
    sampled_on = models.DateField(_("Sampled on"), null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("Required test")
        verbose_name_plural = _("Required tests")
        ordering = ["order", "day"]
        constraints = [
            models.UniqueConstraint(fields=["order", "day"], name="required_test_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.get_result_display()}"


class Symptom(models.TextChoices):
    """Symptoms asked about at each check; any of them raises an alert."""

    COUGH = "cough", _("Cough")
    SORE_THROAT = "sore_throat", _("Sore throat")
    SHORT_BREATH = "short_breath", _("Shortness of breath")
    FATIGUE = "fatigue", _("Fatigue")
    MUSCLE_ACHE = "muscle_ache", _("Muscle ache")
    LOSS_OF_SMELL = "loss_of_smell", _("Loss of smell or taste")
    DIARRHOEA = "diarrhoea", _("Diarrhoea")
    CHILLS = "chills", _("Chills")


class CheckMethod(models.TextChoices):
    DOOR = "door", _("At the door")
    PHONE = "phone", _("By phone or video")
    SELF = "self", _("Self-reported")
    SITE = "site", _("At the site")


class HealthCheck(models.Model):
    """One temperature-and-symptom reading (体温监测) for an order.

    ``slot`` is the opening instant of the schedule window the reading fell in (null when
    taken outside every window). A one-tap "normal" stores ``temperature`` as null with
    ``reported_normal``: the doctor measured below the fever line and saw no symptoms.
    """

    order = models.ForeignKey(IsolationOrder, on_delete=models.CASCADE, related_name="checks")
    taken_at = models.DateTimeField(_("Taken at"))
    slot = models.DateTimeField(null=True, blank=True)
    temperature = models.DecimalField(
        _("Temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    reported_normal = models.BooleanField(_("Normal"), default=False)
    symptoms = models.JSONField(_("Symptoms"), default=list, blank=True)
    at_home = models.BooleanField(_("Found at home"), default=True)
    method = models.CharField(_("Method"), max_length=8, choices=CheckMethod.choices)
    note = models.CharField(_("Note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    client_id = models.CharField(max_length=64, null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Health check")
        verbose_name_plural = _("Health checks")
        indexes = [models.Index(fields=["order", "slot"], name="check_order_slot")]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "client_id"],
                condition=Q(client_id__isnull=False),
                name="check_client_id_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M} {self.temperature or ''}"

    @property
    def symptom_labels(self) -> list[str]:
        """The symptoms in the user's language, for pages and documents."""
        return [str(Symptom(s).label) for s in self.symptoms if s in Symptom.values]


class AlertKind(models.TextChoices):
    MISSED = "missed", _("Missed check")
    FEVER = "fever", _("Fever")
    SYMPTOM = "symptom", _("Symptoms")
    ABSENT = "absent", _("Not at home")


class AlertOutcome(models.TextChoices):
    CHECKED_LATE = "checked_late", _("Checked late, normal")
    FALSE_ALARM = "false_alarm", _("Re-measured, normal")
    HOME_OBSERVATION = "home_observation", _("Observed at home")
    FEVER_CLINIC = "fever_clinic", _("Transferred to the fever clinic")
    HOSPITAL = "hospital", _("Transferred to the designated hospital")
    RETURNED = "returned", _("Returned home")
    OTHER = "other", _("Other")


class AlertLevel(models.IntegerChoices):
    RESPONSIBLE = 0, _("Responsible person")
    VILLAGE = 1, _("Village")
    TOWNSHIP = 2, _("Township")


class Alert(models.Model):
    """An alert on an order, raised to the responsible person and escalated if not handled."""

    order = models.ForeignKey(IsolationOrder, on_delete=models.CASCADE, related_name="alerts")
    region_code = models.CharField(max_length=15)
    kind = models.CharField(_("Alert"), max_length=8, choices=AlertKind.choices)
    slot = models.DateTimeField(null=True, blank=True)
    reading = models.ForeignKey(
        HealthCheck, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    raised_at = models.DateTimeField(_("Raised at"))
    level = models.PositiveSmallIntegerField(
        _("Escalated to"), choices=AlertLevel.choices, default=AlertLevel.RESPONSIBLE
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        _("Outcome"), max_length=20, choices=AlertOutcome.choices, blank=True
    )
    outcome_note = models.CharField(_("Note"), max_length=300, blank=True)
    handled_at = models.DateTimeField(_("Handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("Alert")
        verbose_name_plural = _("Alerts")
        indexes = [
            models.Index(fields=["region_code", "handled_at"], name="alert_region_open"),
            models.Index(fields=["handled_at", "level", "raised_at"], name="alert_escalation"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "slot"], condition=Q(kind="missed"), name="alert_missed_once"
            ),
            models.UniqueConstraint(
                fields=["reading", "kind"],
                condition=Q(reading__isnull=False),
                name="alert_reading_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.order}"


class SelfReportLink(models.Model):
    """A personal link for self-reporting (no account). Only the token's SHA-256 is stored."""

    order = models.ForeignKey(IsolationOrder, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Self-report link")
        verbose_name_plural = _("Self-report links")

    def __str__(self) -> str:
        return f"{self.order} ({self.created_at:%Y-%m-%d})"


class SupplyCategory(models.TextChoices):
    FOOD = "food", _("Food")
    MEDICINE = "medicine", _("Medicine")
    DAILY = "daily", _("Daily necessities")
    OTHER = "other", _("Other")


class SupplyRequest(models.Model):
    """Living supplies asked for by an isolated household (代购), and their delivery."""

    order = models.ForeignKey(
        IsolationOrder, on_delete=models.CASCADE, related_name="supply_requests"
    )
    region_code = models.CharField(max_length=15, db_index=True)
    category = models.CharField(_("Category"), max_length=10, choices=SupplyCategory.choices)
    items = models.CharField(_("Items"), max_length=300)
    requested_at = models.DateTimeField(_("Requested at"), default=timezone.now)
    requested_via_link = models.BooleanField(default=False)
    delivered_at = models.DateTimeField(_("Delivered at"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    delivery_note = models.CharField(_("Delivery note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("Supply request")
        verbose_name_plural = _("Supply requests")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return self.items


class WastePickup(models.Model):
    """A medical-waste pickup (医疗废弃物) from an isolated household or a site."""

    order = models.ForeignKey(
        IsolationOrder,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waste_pickups",
    )
    site = models.ForeignKey(
        IsolationSite,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waste_pickups",
    )
    region_code = models.CharField(max_length=15, db_index=True)
    picked_at = models.DateTimeField(_("Picked up at"))
    bags = models.PositiveSmallIntegerField(_("Bags"))
    note = models.CharField(_("Note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("Medical-waste pickup")
        verbose_name_plural = _("Medical-waste pickups")
        ordering = ["-picked_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False, site__isnull=True)
                | Q(order__isnull=True, site__isnull=False),
                name="waste_from_order_or_site",
            )
        ]

    def __str__(self) -> str:
        return f"{self.picked_at:%Y-%m-%d %H:%M} × {self.bags}"


class OrderAction(models.TextChoices):
    CREATED = "created", _("Ordered")
    EXTENDED = "extended", _("Extended")
    TRANSFERRED = "transferred", _("Transferred")
    ENDED_EARLY = "ended_early", _("Ended early")
    RELEASED = "released", _("Released")
    TEST = "test", _("Test result")
    AGREEMENT = "agreement", _("Agreement recorded")
    ROOM = "room", _("Room assigned")
    LINK_ISSUED = "link_issued", _("Personal link issued")
    LINK_REVOKED = "link_revoked", _("Personal link revoked")


class OrderEvent(models.Model):
    """One step of an order's life (created, extended, transferred, released...), for the file."""

    order = models.ForeignKey(IsolationOrder, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=20, choices=OrderAction.choices)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["order", "at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"
