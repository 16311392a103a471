"""The UI kit: pickers that offer names (never codes or ids to type), scoped to the user;
a date-time input the browser can prefill; numbers as a headquarters writes them."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.utils import timezone

from fangkong.core import ui
from fangkong.core.roles import Role
from fangkong.core.templatetags.fangkong_ui import signed, thousands
from tests.conftest import COUNTY, FUQIANG, GRID_A1, GRID_C1, VILLAGE_A, VILLAGE_C

pytestmark = pytest.mark.django_db


class PlaceForm(ui.ActorForm):
    region = ui.RegionPickerField(label="村组")
    person = ui.PersonPickerField(label="人员", required=False)
    starts_at = ui.DateTimeLocalField(label="开始")


def test_a_small_area_gets_a_drop_down_of_names(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    html = str(PlaceForm(actor=cadre)["region"])
    assert "<select" in html and "富强村第1组" in html and "东升社区" not in html
    assert f'value="{GRID_A1}"' in html  # the code is what the form submits


def test_search_by_name_pinyin_and_initials_inside_the_area(make_user):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    labels = [r["label"] for r in ui.search_regions(township, "yongsheng", ["village"])]
    assert labels == ["永胜村（富强镇）"]
    assert [r["code"] for r in ui.search_regions(township, "fq", ["village"])] == [VILLAGE_A]
    assert ui.search_regions(township, "东升", ["village"]) == []  # another township
    county = make_user(Role.COUNTY_HQ, COUNTY)
    assert [r["code"] for r in ui.search_regions(county, "东升", ["village"])] == [VILLAGE_C]


def test_the_region_field_refuses_codes_outside_the_area(make_user):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    now = "2026-12-02T08:30"
    assert PlaceForm({"region": GRID_A1, "starts_at": now}, actor=cadre).is_valid()
    for bad in (GRID_C1, "12345", VILLAGE_A):  # outside, not a code, not a group level? ok
        form = PlaceForm({"region": bad, "starts_at": now}, actor=cadre)
        if bad == VILLAGE_A:
            assert form.is_valid()  # villages and groups are both pickable by default
        else:
            assert not form.is_valid() and "region" in form.errors


def test_the_person_picker_is_scoped_and_labelled(make_user, make_person, client_for):
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A)
    inside = make_person(GRID_A1, "张伟")
    outside = make_person(GRID_C1, "张伟")
    now = "2026-12-02T08:30"
    ok = PlaceForm({"region": GRID_A1, "person": inside.pk, "starts_at": now}, actor=cadre)
    assert ok.is_valid() and ok.cleaned_data["person"] == inside.pk
    bad = PlaceForm({"region": GRID_A1, "person": outside.pk, "starts_at": now}, actor=cadre)
    assert not bad.is_valid() and "person" in bad.errors
    assert "张伟 · 1985 · 富强村第1组" in str(
        PlaceForm(initial={"person": inside.pk}, actor=cadre)["person"]
    )
    body = client_for(cadre).get("/pick/persons/", {"person__search": "zhangw"}).content.decode()
    assert (
        f'data-pick-value="{inside.pk}"' in body and f'data-pick-value="{outside.pk}"' not in body
    )
    body = client_for(cadre).get("/pick/persons/", {"q": inside.id_number}).content.decode()
    assert f'data-pick-value="{inside.pk}"' in body and inside.id_number not in body


def test_region_search_endpoint_answers_names(make_user, client_for):
    township = make_user(Role.TOWNSHIP, FUQIANG)
    body = client_for(township).get("/pick/regions/", {"q": "富强", "levels": "village"}).content
    assert "富强村（富强镇）".encode() in body
    supply = make_user(Role.SUPPLY_OFFICER, FUQIANG)
    assert client_for(supply).get("/pick/persons/", {"q": "zhang"}).status_code == 403


def test_datetime_local_is_prefilled_in_the_browser_format():
    class F(forms.Form):
        at = ui.DateTimeLocalField()

    at = timezone.make_aware(dt.datetime(2026, 12, 2, 21, 43))
    html = str(F(initial={"at": at})["at"])
    assert 'type="datetime-local"' in html and 'value="2026-12-02T21:43"' in html
    form = F({"at": "2026-12-02T21:43"})
    assert form.is_valid() and timezone.localtime(form.cleaned_data["at"]).hour == 21


def test_numbers_as_a_headquarters_writes_them():
    assert thousands(50000) == "50,000" and thousands(0) == "0" and thousands(None) == ""
    assert signed(12) == "+12" and signed(-3) == "−3" and signed(0) == "±0"


def test_a_region_label_is_read_once_per_request(county, django_assert_num_queries):
    from fangkong.core.regions import RememberRegionLabels
    from fangkong.core.templatetags.fangkong_ui import region_name

    seen: list[str] = []

    def page(request):
        seen.extend(region_name(GRID_A1) for _ in range(20))
        return seen[-1]

    with django_assert_num_queries(1):
        RememberRegionLabels(page)(None)
    assert len(set(seen)) == 1 and "富强" in seen[0]
    with django_assert_num_queries(1):  # the next request reads it again: renames show at once
        RememberRegionLabels(page)(None)
