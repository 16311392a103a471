"""In Debian chromium: an inspector's checklist with a photo of the failed item, and a
teacher's morning check on a 375 px phone through the class link."""

from __future__ import annotations

import pytest

from fangkong.core.roles import Role
from fangkong.places import services
from fangkong.places.models import DailyCheck, InspectionResult
from tests.conftest import BROWSER_TEST, COUNTY, GRID_A1, VILLAGE_A

pytestmark = BROWSER_TEST

# A 1×1 PNG, as a phone camera would send a (much larger) image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.mark.django_db(transaction=True)
def test_inspector_checklist_with_photo_and_teacher_check_on_a_phone(
    live_server, browser, make_user, make_person, settings, tmp_path
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = str(tmp_path)
    cadre = make_user(Role.VILLAGE_CADRE, VILLAGE_A, username="cun", display_name="张书记")
    make_user(Role.INSPECTOR, COUNTY, username="ducha")
    market = services.register_place(
        actor=cadre,
        data=services.PlaceInput(kind="supermarket", name="富强生活超市", region_code=GRID_A1),
    )
    items = services.checklist("supermarket")

    page = browser.new_page(viewport={"width": 1024, "height": 900})
    page.goto(f"{live_server.url}/places/{market.pk}/inspect/")
    page.get_by_label("用户名").fill("ducha")
    page.get_by_label("密码").fill("pw-Fangkong-2026")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="检查：富强生活超市")).to_be_visible()
    for n, item in enumerate(items):
        choice = "fail" if n == 2 else "pass"
        page.locator(f"input[name=item_{item.pk}][value={choice}]").check()
    photo = tmp_path / "ledger.png"
    photo.write_bytes(PNG)
    page.locator(f"input[name=photo_{items[2].pk}]").set_input_files(str(photo))
    page.get_by_role("button", name="保存检查结果").click()
    expect(page.get_by_text("检查已记录：1项不合格")).to_be_visible()
    failed = InspectionResult.objects.get(passed=False)
    assert failed.item == items[2] and failed.photo.name.endswith(".png")

    school = services.register_place(
        actor=cadre,
        data=services.PlaceInput(kind="school", name="中心小学", region_code=GRID_A1),
    )
    school_class = services.add_class(actor=cadre, school_id=school.pk, name="三年级一班")
    pupils = [make_person(GRID_A1, name) for name in ("王小明", "李小红")]
    members = [
        services.add_member(actor=cadre, class_id=school_class.pk, person_id=p.pk) for p in pupils
    ]
    token = services.new_class_link(actor=cadre, class_id=school_class.pk)

    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    teacher = phone.new_page()
    teacher.goto(f"{live_server.url}/places/check/{token}/?slot=morning")
    expect(teacher.get_by_role("heading", name="中心小学 三年级一班")).to_be_visible()
    teacher.get_by_label("王小明体温").fill("36.5")
    teacher.locator(f"input[name=absent_{members[1].pk}]").check()
    teacher.locator(f"input[name=cause_{members[1].pk}]").fill("发热就医")
    teacher.get_by_role("button", name="提交晨检").click()
    expect(teacher.get_by_text("已提交2人的晨检")).to_be_visible()
    width = teacher.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways on a phone ({width}px)"
    checks = {c.member_id: c for c in DailyCheck.objects.all()}
    assert str(checks[members[0].pk].temperature) == "36.5"
    assert not checks[members[1].pk].present
    phone.close()
