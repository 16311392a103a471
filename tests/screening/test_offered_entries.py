"""Entries other modules offer screening (core.signals.screening_entry_offered: a pharmacy's
fever-drug buyer, a student back from a risk area) become list entries for the village to
verify, once per ``ref``."""

from __future__ import annotations

from django.utils import timezone

from fangkong.core import signals
from fangkong.people.models import Source
from fangkong.screening.models import SourceRecord
from tests.conftest import GRID_A1, VILLAGE_A


def _offer(person=None, ref="places.sale:12", channel="pharmacy"):
    signals.screening_entry_offered.send(
        sender=None,
        ref=ref,
        channel=channel,
        person_id=person.pk if person else None,
        name=person.name if person else "周八",
        id_number=person.id_number if person else "",
        phone="13800001111",
        region_code=person.region_code if person else VILLAGE_A,
        reason="在仁和药店购买布洛芬（退热药）",
        at=timezone.now(),
    )


def test_an_offered_buyer_is_a_list_entry_for_the_village_once(make_person):
    person = make_person(GRID_A1, "吴九")
    _offer(person)
    _offer(person)  # a repeat of the same offer changes nothing
    record = SourceRecord.objects.get()
    assert record.ref == "places.sale:12" and record.person_id == person.pk
    assert record.region_code == GRID_A1 and record.source == Source.TIP_OFF
    assert "药店购药" in record.address and "布洛芬" in record.address
    # A student from the school channel, not in the registry: an unlinked entry to verify.
    _offer(None, ref="places.member:3", channel="school")
    student = SourceRecord.objects.get(ref="places.member:3")
    assert student.person_id is None and student.source == Source.SELF_REPORT
    assert student.region_code == VILLAGE_A
