"""Self-inspection rules and figures of the core itself (notices)."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import figures, inspection, notices
from .models import NoticeReceipt
from .roles import Action, Role

NOTICE_UNCONFIRMED = "core.notice_unconfirmed"


def unconfirmed_notices(query: inspection.RuleQuery) -> Iterator[inspection.Finding]:
    """A recipient who has not confirmed a notice by its deadline (e.g. a post's staff who
    do not know the new risk areas two hours after they were pushed)."""
    for receipt in notices.late_receipts(prefix=query.prefix, now=query.now):
        role = Role(receipt.role).label if receipt.role in Role.values else receipt.role
        who = receipt.user.display_name or receipt.user.username
        yield inspection.Finding(
            rule=NOTICE_UNCONFIRMED,
            ref=f"core.notice_receipt:{receipt.pk}",
            region_code=receipt.region_code,
            what=_("%(role)s %(who)s has not confirmed the notice “%(title)s”")
            % {"role": role, "who": who, "title": receipt.notice.title},
            since=receipt.notice.confirm_by or receipt.notice.sent_at,
            url=reverse("web:notice_receipts", args=[receipt.notice_id]),
            responsible=who,
        )


def unconfirmed_count(query: figures.FigureQuery) -> dict[str, int]:
    """Receipts still to be confirmed at the query's moment."""
    queryset = NoticeReceipt.objects.filter(
        notice__requires_confirmation=True, notice__sent_at__lte=query.at
    ).exclude(confirmed_at__lte=query.at)
    return figures.count_by_region(queryset, query)


def register() -> None:
    inspection.register(
        inspection.Rule(
            key=NOTICE_UNCONFIRMED,
            label=gettext_lazy("Notice not confirmed in time"),
            module="core",
            aspect=inspection.Aspect.DISCIPLINE,
            run=unconfirmed_notices,
            description=gettext_lazy(
                "Recipients who have not confirmed a notice by the time it gave them"
            ),
            deadline_hours=2,
            order=900,
        )
    )
    figures.register(
        figures.Figure(
            key="core.notices_unconfirmed",
            label=gettext_lazy("Notices not yet confirmed"),
            module="core",
            compute=unconfirmed_count,
            unit=gettext_lazy("copies"),
            order=900,
            list_url=lambda code: reverse("web:notices"),
            permission=Action.NOTICE_TRACK,
        )
    )
