"""Tip-offs (举报), their verification, rewards (奖励) and village penalties (漏报处罚).

A tip reaches the team of its village with a deadline; the verifier records what was found
and the outcome. A verified tip earns the reward of the rule in force (rules are data, the
village pays from its prevention funds) and, for a returnee the village had missed, one
penalty on the village. The tipster's contact is personal data: masked for everyone but
the verifying roles, and every unmasked read is audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TipKind(models.TextChoices):
    RETURNEE = "returnee", _("Unregistered returnee")
    GATHERING = "gathering", _("Gathering or banquet")
    BUSINESS = "business", _("Business open against the rules")
    CHECKPOINT = "checkpoint", _("Checkpoint not staffed")
    OTHER = "other", _("Other")


class TipChannel(models.TextChoices):
    PUBLIC = "public", _("Public form (QR code)")
    HOTLINE = "hotline", _("Hotline")


class TipStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    UNFOUNDED = "unfounded", _("Unfounded")
    DUPLICATE = "duplicate", _("Duplicate")


class TipOff(models.Model):
    """A tip-off (举报) from the public or the hotline about one village."""

    receipt_code = models.CharField(_("receipt code"), max_length=12, unique=True)
    channel = models.CharField(_("channel"), max_length=12, choices=TipChannel.choices)
    kind = models.CharField(_("what"), max_length=16, choices=TipKind.choices)
    region_code = models.CharField(_("village"), max_length=15, db_index=True)
    place = models.CharField(_("where exactly"), max_length=120, blank=True)
    happened_at = models.DateTimeField(_("when"), null=True, blank=True)
    text = models.TextField(_("what happened"), max_length=2000)
    contact_name = models.CharField(_("tipster's name"), max_length=32, blank=True)
    contact_phone = models.CharField(_("tipster's phone"), max_length=20, blank=True)
    # Rate limiting only: keyed hashes, never the address itself.
    client_key = models.CharField(max_length=32, blank=True, db_index=True)
    device_key = models.CharField(max_length=32, blank=True, db_index=True)
    created_at = models.DateTimeField(_("received"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateTimeField(_("verify by"))
    status = models.CharField(
        _("status"), max_length=12, choices=TipStatus.choices, default=TipStatus.PENDING
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finding = models.TextField(_("what the verifier found"), blank=True, max_length=2000)
    village_missed = models.BooleanField(_("the village had missed this person"), default=False)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("tip-off (举报)")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return self.receipt_code


class PhotoStage(models.TextChoices):
    TIP = "tip", _("Sent with the tip")
    VERIFICATION = "verification", _("Taken by the verifier")


class TipPhoto(models.Model):
    """A photo, re-encoded as JPEG without metadata before it is stored."""

    tip = models.ForeignKey(TipOff, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=16, choices=PhotoStage.choices)
    image = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"photo {self.pk}"


class RewardRule(models.Model):
    """The reward for a verified tip (奖励标准), as data: the latest rule in force applies."""

    amount = models.PositiveIntegerField(_("yuan per verified case"))
    payer = models.CharField(_("who pays"), max_length=120, default="村（社区）从防控经费中支付")
    valid_from = models.DateTimeField(_("valid from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("reward rule")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.amount}"


class PenaltyRule(models.Model):
    """The penalty on a village for each missed returnee (漏统处罚), with a date cut-off."""

    cutoff = models.DateField(_("cut-off date"))
    amount_before = models.PositiveIntegerField(_("yuan per person arrived before"))
    amount_after = models.PositiveIntegerField(_("yuan per person arrived after"))
    valid_from = models.DateTimeField(_("valid from"))

    class Meta:
        verbose_name = _("penalty rule")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.cutoff}"


class Reward(models.Model):
    """One reward owed for one verified tip, paid by the village (奖励台账)."""

    tip = models.OneToOneField(TipOff, on_delete=models.PROTECT, related_name="reward")
    region_code = models.CharField(max_length=15, db_index=True)
    amount = models.PositiveIntegerField(_("amount (yuan)"))
    rule = models.ForeignKey(RewardRule, on_delete=models.PROTECT)
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment_record = models.CharField(_("payer's record"), max_length=120, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("reward")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.amount}"


class VillagePenalty(models.Model):
    """The penalty on a village that missed a returnee a verified tip found (one per tip)."""

    tip = models.OneToOneField(TipOff, on_delete=models.PROTECT, related_name="penalty")
    region_code = models.CharField(max_length=15, db_index=True)
    amount = models.PositiveIntegerField(_("amount (yuan)"))
    rule = models.ForeignKey(PenaltyRule, on_delete=models.PROTECT)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("village penalty")

    def __str__(self) -> str:
        return f"{self.amount}"
