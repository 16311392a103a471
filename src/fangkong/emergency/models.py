"""Records of the emergency layer: the mode of each area, zones and their members, the
measures people get from a zone, plans and drills, teams and capacity, volunteers and the
command structure.

Every record carries ``region_code`` (the area it belongs to) so one jurisdiction filter
scopes it, as in every other module. Zones are versioned: a change is a new version with its
legal basis and approval, and the old version stays readable.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.models import Notice


class Mode(models.TextChoices):
    PEACETIME = "peacetime", _("Peacetime")
    WARTIME = "wartime", _("Wartime")


class ModeSwitch(models.Model):
    """One switch of an area between peacetime and wartime; the latest switch of the nearest
    area that has one is the area's mode."""

    region_code = models.CharField(_("Area"), max_length=15, db_index=True)
    mode = models.CharField(_("Mode"), max_length=10, choices=Mode.choices)
    reason = models.CharField(_("Reason"), max_length=500)
    at = models.DateTimeField(_("Switched at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    by_name = models.CharField(max_length=100, blank=True)
    notice = models.ForeignKey(Notice, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("Mode switch")

    def __str__(self) -> str:
        return f"{self.region_code} {self.mode} {self.at:%Y-%m-%d %H:%M}"


class DutyPost(models.Model):
    """A line of the wartime roster: who reports where, or which room, vehicle or supply is
    held for wartime. Active only while its area is at war."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("Staff reports for duty")
        ROOM = "room", _("Room held")
        VEHICLE = "vehicle", _("Vehicle held")
        SUPPLY = "supply", _("Supplies held")

    region_code = models.CharField(_("Area"), max_length=15, db_index=True)
    kind = models.CharField(_("Kind"), max_length=10, choices=Kind.choices, default=Kind.STAFF)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="wartime_posts",
        verbose_name=_("Staff member"),
    )
    post = models.CharField(_("Reports to / held for"), max_length=100)
    label = models.CharField(_("Room, vehicle or supplies"), max_length=100, blank=True)
    recalled_from_leave = models.BooleanField(_("Recalled from leave"), default=False)
    active_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["region_code", "kind", "post", "id"]
        verbose_name = _("Wartime roster line")

    def __str__(self) -> str:
        return f"{self.post}: {self.user or self.label}"


class ZoneKind(models.TextChoices):
    # Ordered by strictness: a person in two zones gets the stricter one's measures.
    SEALED = "sealed", _("Sealed zone (封控区)")
    CONTROLLED = "controlled", _("Controlled zone (管控区)")
    PREVENTION = "prevention", _("Prevention zone (防范区)")


STRICTNESS = {ZoneKind.SEALED: 3, ZoneKind.CONTROLLED: 2, ZoneKind.PREVENTION: 1}


class Movement(models.TextChoices):
    NONE = "none", _("Nobody leaves home (足不出户)")
    ONE_PER_HOUSEHOLD = "one", _("One person per household, staggered (人不出区、错峰取物)")
    FREE = "free", _("Free movement, no gatherings (强化社会面管控)")


class Zone(models.Model):
    """A sealed, controlled or prevention zone: a set of regions and households with the
    rules its people live under."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("In force")
        LIFTED = "lifted", _("Lifted")

    name = models.CharField(_("Name"), max_length=100)
    kind = models.CharField(_("Kind"), max_length=12, choices=ZoneKind.choices)
    region_code = models.CharField(_("Area"), max_length=15, db_index=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    movement = models.CharField(_("Movement"), max_length=6, choices=Movement.choices)
    test_every_days = models.PositiveSmallIntegerField(_("Test every (days)"), default=1)
    delivery = models.CharField(_("Delivery of daily needs"), max_length=200, blank=True)
    publicity = models.TextField(_("Publicity and psychological support"), blank=True)
    legal_basis = models.CharField(_("Legal basis"), max_length=300)
    approved_by = models.CharField(_("Approved by"), max_length=100)
    version = models.PositiveIntegerField(default=1)
    declared_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    task = models.ForeignKey(
        "core.TaskRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-declared_at", "-id"]
        verbose_name = _("Zone")

    def __str__(self) -> str:
        return self.name


class ZoneArea(models.Model):
    """One member of a zone's current version: a region (everyone living under its code) or
    one household."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="areas")
    region_code = models.CharField(max_length=15, db_index=True)
    household = models.ForeignKey(
        "people.Household", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "region_code", "household"], name="zone_area_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.zone_id}: {self.region_code}"


class ZoneChange(models.Model):
    """A version of a zone: what it covered and why, with the approval."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="changes")
    version = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    by_name = models.CharField(max_length=100, blank=True)
    what = models.CharField(max_length=20)  # declared / changed / lifted
    region_codes = models.JSONField(default=list)
    household_ids = models.JSONField(default=list)
    rules = models.JSONField(default=dict)
    legal_basis = models.CharField(max_length=300)
    approved_by = models.CharField(max_length=100)

    class Meta:
        ordering = ["zone", "version"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "version"], name="zone_change_version")
        ]

    def __str__(self) -> str:
        return f"{self.zone_id} v{self.version} {self.what}"


class ZoneMeasure(models.Model):
    """The zone measures one person lives under now: the strictest zone that covers them."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, related_name="zone_measure"
    )
    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="measures")
    kind = models.CharField(max_length=12, choices=ZoneKind.choices)
    movement = models.CharField(max_length=6, choices=Movement.choices)
    test_every_days = models.PositiveSmallIntegerField()
    region_code = models.CharField(max_length=15, db_index=True)
    since = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.person_id}: {self.kind}"


class Plan(models.Model):
    """An emergency plan of a unit, with its version and review dates."""

    class UnitKind(models.TextChoices):
        OFFICE = "office", _("Government office")
        SCHOOL = "school", _("School")
        ENTERPRISE = "enterprise", _("Enterprise")
        HOSPITAL = "hospital", _("Hospital or clinic")
        TOWNSHIP = "township", _("Township or street")
        VILLAGE = "village", _("Village or community")

    region_code = models.CharField(_("Area"), max_length=15, db_index=True)
    unit_name = models.CharField(_("Unit"), max_length=100)
    unit_kind = models.CharField(_("Kind of unit"), max_length=12, choices=UnitKind.choices)
    title = models.CharField(_("Plan"), max_length=200)
    plan_version = models.CharField(_("Plan version"), max_length=20, default="1.0")
    text = models.TextField(_("Text"), blank=True)
    reviewed_on = models.DateField(_("Last reviewed on"), null=True, blank=True)
    review_every_days = models.PositiveSmallIntegerField(_("Review every (days)"), default=180)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["region_code", "unit_name"]
        verbose_name = _("Emergency plan")

    def __str__(self) -> str:
        return f"{self.unit_name}: {self.title}"


class Drill(models.Model):
    """A drill of a plan: the script, the squads, whether it was unannounced, and lessons."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="drills")
    region_code = models.CharField(max_length=15, db_index=True)
    title = models.CharField(_("Drill"), max_length=200)
    squads = models.CharField(_("Squads taking part"), max_length=300)
    unannounced = models.BooleanField(_("Unannounced"), default=False)
    held_at = models.DateTimeField(_("Held at"), default=timezone.now)
    lessons = models.TextField(_("Lessons learnt"), blank=True)

    class Meta:
        ordering = ["-held_at", "-id"]
        verbose_name = _("Drill")

    def __str__(self) -> str:
        return self.title


class DrillStep(models.Model):
    """One step of a drill's script with the minutes it should take and the minutes it took."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(_("Step"), max_length=200)
    target_minutes = models.PositiveIntegerField(_("Target (minutes)"))
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["drill", "order"]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    @property
    def minutes_taken(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() // 60)


class Capacity(models.Model):
    """A reserve team or a piece of emergency capacity with its quota and what is in post,
    and the "四到位" readiness of clinics and triage points."""

    class Kind(models.TextChoices):
        INVESTIGATION = "investigation", _("Investigation reserve team")
        NAT_FORCE = "nat_force", _("Mobile nucleic-acid testing force")
        MILITIA = "militia", _("Militia")
        VOLUNTEER_TEAM = "volunteer_team", _("Volunteer team")
        AMBULANCE = "ambulance", _("Ambulance")
        NEGATIVE_PRESSURE = "np_ambulance", _("Negative-pressure ambulance")
        DISPATCH_SEAT = "dispatch_seat", _("Dispatch seat")
        ISOLATION_BED = "isolation_bed", _("Isolation bed")
        FEVER_CLINIC = "fever_clinic", _("Fever clinic")
        TRIAGE_POINT = "triage_point", _("Pre-check and triage point")

    region_code = models.CharField(_("Area"), max_length=15, db_index=True)
    kind = models.CharField(_("Kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("Name"), max_length=100)
    quota = models.PositiveIntegerField(_("Quota"), default=0)
    in_post = models.PositiveIntegerField(_("In post / available"), default=0)
    leader = models.CharField(_("Leader"), max_length=64, blank=True)
    staff_ready = models.BooleanField(_("Staff in place"), default=True)
    equipment_ready = models.BooleanField(_("Equipment in place"), default=True)
    drugs_ready = models.BooleanField(_("Drugs in place"), default=True)
    duty_ready = models.BooleanField(_("Duty in place"), default=True)

    class Meta:
        ordering = ["region_code", "kind", "name"]
        verbose_name = _("Team or capacity")

    def __str__(self) -> str:
        return self.name

    @property
    def four_in_place(self) -> bool:
        return self.staff_ready and self.equipment_ready and self.drugs_ready and self.duty_ready


class Volunteer(models.Model):
    """A volunteer who signed up online, or a cadre sent down (下沉) to a village."""

    class Kind(models.TextChoices):
        VOLUNTEER = "volunteer", _("Volunteer")
        SENT_DOWN = "sent_down", _("Sent-down cadre")

    class Status(models.TextChoices):
        NEW = "new", _("Signed up")
        ASSIGNED = "assigned", _("Assigned")
        RELEASED = "released", _("Released")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.VOLUNTEER)
    name = models.CharField(_("Full name"), max_length=64)
    phone = models.CharField(_("Phone"), max_length=20)
    region_code = models.CharField(_("Village or community"), max_length=15, db_index=True)
    skills = models.CharField(_("Skills"), max_length=200, blank=True)
    availability = models.CharField(_("When available"), max_length=100, blank=True)
    team = models.CharField(_("Team or unit"), max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    post = models.CharField(_("Post"), max_length=100, blank=True)
    daily_summary = models.TextField(_("Daily summary"), blank=True)
    signed_up_at = models.DateTimeField(default=timezone.now)
    client_digest = models.CharField(max_length=64, blank=True, db_index=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-signed_up_at", "-id"]
        verbose_name = _("Volunteer")

    def __str__(self) -> str:
        return self.name


class CommandGroup(models.Model):
    """The leading group, office or a working group of an area's headquarters, with its
    three lists (tasks, responsibilities, problems)."""

    class Kind(models.TextChoices):
        LEADING = "leading", _("Leading group")
        OFFICE = "office", _("Office")
        WORKING = "working", _("Working group")

    region_code = models.CharField(_("Area"), max_length=15, db_index=True)
    kind = models.CharField(_("Kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("Name"), max_length=100)
    leader = models.CharField(_("Leader"), max_length=64)
    member_units = models.CharField(_("Member units"), max_length=300, blank=True)
    duties = models.TextField(_("Duties"), blank=True)
    task_list = models.TextField(_("Task list"), blank=True)
    responsibility_list = models.TextField(_("Responsibility list"), blank=True)
    problem_list = models.TextField(_("Problem list"), blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["region_code", "order", "id"]
        verbose_name = _("Command group")

    def __str__(self) -> str:
        return self.name


class DutyShift(models.Model):
    """24-hour leadership duty of a headquarters: who leads, primary or backup."""

    region_code = models.CharField(_("Area"), max_length=15, db_index=True)
    day = models.DateField(_("Day"))
    leader = models.CharField(_("Leader on duty"), max_length=64)
    backup = models.CharField(_("Backup"), max_length=64, blank=True)
    phone = models.CharField(_("Duty phone"), max_length=20, blank=True)

    class Meta:
        ordering = ["region_code", "day"]
        constraints = [
            models.UniqueConstraint(fields=["region_code", "day"], name="duty_shift_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.leader}"
