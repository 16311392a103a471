"""Checkpoints (卡点): posts, passages, pass cards, duty staff and rosters, night inspections.

A post belongs to a village (or township, for county gates) by its region code; everything
recorded at a post carries that code so that one prefix scopes it. Passages are written at
phone speed: one row per person or vehicle, keyed by the phone's own ``client_key`` so a
batch sent twice over a bad connection is stored once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import Person


class PostKind(models.TextChoices):
    COUNTY_GATE = "county_gate", _("County traffic gate")
    TOWNSHIP_POST = "township_post", _("Township post")
    VILLAGE_POST = "village_post", _("Village post")
    COLD_CHAIN = "cold_chain", _("Cold-chain gate")
    COMPOUND_GATE = "compound_gate", _("Compound gate")


# The "five haves" (五有) every post must show: barrier, staff, register, thermometer,
# disinfection. Field name → label.
FIVE_HAVES = (
    ("has_barrier", _("Barrier")),
    ("has_staff", _("Staff on duty")),
    ("has_register", _("Entry register")),
    ("has_thermometer", _("Thermometer")),
    ("has_disinfection", _("Disinfection")),
)


class Post(models.Model):
    """A checkpoint (卡点) with its equipment, duty guide and disinfection rounds."""

    name = models.CharField(_("Name"), max_length=100)
    kind = models.CharField(_("Type"), max_length=16, choices=PostKind.choices)
    region_code = models.CharField(_("Region"), max_length=15, db_index=True)
    location = models.CharField(_("Location"), max_length=200, blank=True)
    enclosed = models.BooleanField(_("Fully enclosed"), default=False)
    container_hut = models.BooleanField(_("Container hut"), default=False)
    has_barrier = models.BooleanField(_("Barrier"), default=True)
    has_staff = models.BooleanField(_("Staff on duty"), default=True)
    has_register = models.BooleanField(_("Entry register"), default=True)
    has_thermometer = models.BooleanField(_("Thermometer"), default=True)
    has_disinfection = models.BooleanField(_("Disinfection"), default=True)
    disinfections_per_day = models.PositiveSmallIntegerField(
        _("Disinfection rounds a day"), default=4
    )
    guide_situation = models.TextField(_("Situation"), blank=True)
    guide_duties = models.TextField(_("Duties"), blank=True)
    guide_cases = models.TextField(_("Handling of common cases"), blank=True)
    guide_contingencies = models.TextField(_("Contingencies"), blank=True)
    emergency_vehicle = models.CharField(_("Emergency vehicle (plate)"), max_length=16, blank=True)
    active = models.BooleanField(_("Active"), default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Checkpoint")
        verbose_name_plural = _("Checkpoints")
        ordering = ["region_code", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def gaps(self) -> list[str]:
        """Labels of the "five haves" the post lacks (and a hut disinfected too rarely)."""
        missing = [str(label) for name, label in FIVE_HAVES if not getattr(self, name)]
        if self.container_hut and self.disinfections_per_day < 4:
            missing.append(str(_("Disinfection fewer than 4 times a day")))
        return missing


class CodeColour(models.TextChoices):
    GREEN = "green", _("Green code")
    YELLOW = "yellow", _("Yellow code")
    RED = "red", _("Red code")
    NONE = "none", _("No code")


class Verdict(models.TextChoices):
    PASS = "pass", _("May pass")
    RESTRICT = "restrict", _("Restricted: check and register")
    REFUSE = "refuse", _("Refused")


class CodeRule(models.Model):
    """What a health-code colour means at a post (rules are data: 红码禁止、黄码受限、绿码通行)."""

    colour = models.CharField(
        _("Code colour"), max_length=8, choices=CodeColour.choices, unique=True
    )
    verdict = models.CharField(_("Verdict"), max_length=8, choices=Verdict.choices)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("Health-code rule")
        verbose_name_plural = _("Health-code rules")

    def __str__(self) -> str:
        return f"{self.colour} → {self.verdict}"


class Outcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    TURNED_BACK = "turned_back", _("Turned back")
    ISOLATION = "isolation", _("Sent to isolation")
    REFERRED = "referred", _("Referred")


class Direction(models.TextChoices):
    IN = "in", _("Entering")
    OUT = "out", _("Leaving")


class PassageKind(models.TextChoices):
    PERSON = "person", _("Person")
    VEHICLE = "vehicle", _("Vehicle")


class PassCard(models.Model):
    """A household's pass card (出入证): one designated person, N outings a week."""

    number = models.CharField(_("Card number"), max_length=20, unique=True)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="pass_cards", verbose_name=_("Holder")
    )
    region_code = models.CharField(_("Region"), max_length=15, db_index=True)
    outings_per_week = models.PositiveSmallIntegerField(_("Outings a week"), default=3)
    valid_from = models.DateField(_("Valid from"))
    valid_to = models.DateField(_("Valid until"), null=True, blank=True)
    revoked = models.BooleanField(_("Revoked"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Pass card")
        verbose_name_plural = _("Pass cards")
        ordering = ["region_code", "number"]

    def __str__(self) -> str:
        return self.number


class Passage(models.Model):
    """One person or vehicle at a post, with the checks taken and the outcome."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="passages")
    region_code = models.CharField(max_length=15, db_index=True)  # the post's, copied
    at = models.DateTimeField(_("Time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("Kind"), max_length=8, choices=PassageKind.choices)
    direction = models.CharField(_("Direction"), max_length=4, choices=Direction.choices)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="passages"
    )
    name = models.CharField(_("Name"), max_length=64, blank=True)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    phone = models.CharField(_("Phone"), max_length=20, blank=True)
    vehicle = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="occupant_rows"
    )
    plate = models.CharField(_("Plate"), max_length=16, blank=True)
    occupants = models.PositiveSmallIntegerField(_("Occupants"), default=0)
    origin = models.CharField(_("Coming from"), max_length=100, blank=True)
    temperature = models.DecimalField(
        _("Temperature"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    code_colour = models.CharField(
        _("Health code"), max_length=8, choices=CodeColour.choices, default=CodeColour.GREEN
    )
    itinerary_ok = models.BooleanField(_("Itinerary checked"), default=True)
    mask = models.BooleanField(_("Mask worn"), default=True)
    disinfected = models.BooleanField(_("Disinfected"), default=False)
    verdict = models.CharField(_("Verdict"), max_length=8, choices=Verdict.choices)
    reasons = models.CharField(_("Reasons"), max_length=300, blank=True)
    risk_area = models.CharField(_("Risk area matched"), max_length=100, blank=True)
    outcome = models.CharField(_("Outcome"), max_length=12, choices=Outcome.choices)
    pass_card = models.ForeignKey(
        PassCard, on_delete=models.SET_NULL, null=True, blank=True, related_name="passages"
    )
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Passage")
        verbose_name_plural = _("Passages")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["post", "at"], name="cp_passage_post_at")]

    def __str__(self) -> str:
        return self.plate or self.name


class Education(models.IntegerChoices):
    PRIMARY = 1, _("Primary school or less")
    MIDDLE = 2, _("Middle school")
    HIGH = 3, _("High school or vocational")
    COLLEGE = 4, _("College or above")


class StaffRole(models.TextChoices):
    CADRE = "cadre", _("Cadre")
    VOLUNTEER = "volunteer", _("Volunteer")
    POLICE = "police", _("Police auxiliary")
    MEDIC = "medic", _("Medical staff")


class DutyStaff(models.Model):
    """A member of a township's duty pool."""

    name = models.CharField(_("Name"), max_length=64)
    township_code = models.CharField(_("Township"), max_length=9, db_index=True)
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("Home post")
    )
    sex = models.CharField(_("Sex"), max_length=1, choices=[("M", _("Male")), ("F", _("Female"))])
    birth_year = models.PositiveSmallIntegerField(_("Year of birth"))
    education = models.PositiveSmallIntegerField(_("Education"), choices=Education.choices)
    role = models.CharField(_("Role"), max_length=10, choices=StaffRole.choices)
    leading_cadre = models.BooleanField(_("Leading cadre"), default=False)
    phone = models.CharField(_("Phone"), max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duty_staff",
    )
    available = models.BooleanField(_("Available"), default=True)
    leave_from = models.DateField(_("On leave from"), null=True, blank=True)
    leave_to = models.DateField(_("On leave until"), null=True, blank=True)

    class Meta:
        verbose_name = _("Duty staff")
        verbose_name_plural = _("Duty staff")
        ordering = ["township_code", "name"]

    def __str__(self) -> str:
        return self.name


class Roster(models.Model):
    """A township's duty roster over some days, three shifts a day."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    township_code = models.CharField(_("Township"), max_length=9, db_index=True)
    starts_on = models.DateField(_("First day"))
    days = models.PositiveSmallIntegerField(_("Days"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    solve_seconds = models.FloatField(default=0)
    objective = models.FloatField(null=True, blank=True)
    bound = models.FloatField(null=True, blank=True)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Duty roster")
        verbose_name_plural = _("Duty rosters")
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return f"{self.township_code} {self.starts_on}"


class Assignment(models.Model):
    """One staff member on one shift at one post; ``checked_in_at`` when they arrived."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="assignments")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="assignments")
    staff = models.ForeignKey(DutyStaff, on_delete=models.CASCADE, related_name="assignments")
    region_code = models.CharField(max_length=15, db_index=True)  # the post's
    day = models.DateField()
    shift = models.PositiveSmallIntegerField()  # 0: 00–08, 1: 08–16, 2: 16–24
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "post_id", "staff_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["roster", "staff", "day", "shift"], name="cp_assignment_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff_id}@{self.post_id} {self.day} {self.shift}"


class Finding(models.TextChoices):
    """The items a night inspector checks at each post (in this order)."""

    PRESENT = "staff_present", _("Staff present")
    AWAKE = "awake", _("Staff awake")
    LOGGING = "logging", _("Passages logged")
    TEMPERATURE = "temperature", _("Temperatures taken")
    DISINFECTION = "disinfection", _("Disinfection done")
    RISK_AREAS = "risk_areas", _("Knows today's risk areas")


class Inspection(models.Model):
    """One unannounced visit of an inspector to a post (督查), item by item."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="inspections")
    region_code = models.CharField(max_length=15, db_index=True)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkpoint_inspections",
    )
    at = models.DateTimeField(_("Time of visit"), db_index=True)
    staff_present = models.BooleanField(_("Staff present"), default=True)
    awake = models.BooleanField(_("Staff awake"), default=True)
    logging = models.BooleanField(_("Passages logged"), default=True)
    temperature = models.BooleanField(_("Temperatures taken"), default=True)
    disinfection = models.BooleanField(_("Disinfection done"), default=True)
    risk_areas = models.BooleanField(_("Knows today's risk areas"), default=True)
    note = models.CharField(_("Note"), max_length=500, blank=True)
    photo = models.FileField(_("Photo"), upload_to="checkpoints/inspections/", blank=True)
    problem_ids = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Night inspection")
        verbose_name_plural = _("Night inspections")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.post_id} {self.at}"

    ITEMS = ("staff_present", "awake", "logging", "temperature", "disinfection", "risk_areas")

    @property
    def failed(self) -> list[str]:
        labels = dict(Finding.choices)
        fields = dict(zip(self.ITEMS, Finding.values, strict=True))
        return [str(labels[fields[i]]) for i in self.ITEMS if not getattr(self, i)]
