"""The passage log as an offline screen of the field app (issue 20 / issue 14): the service
worker keeps the log page of any post and the checkpoint scripts; the page carries its own
offline work set (health-code rules, today's risk areas) and nothing of a person in it."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.apps import apps
from django.utils import timezone

from fangkong.checkpoints import services

pytestmark = pytest.mark.django_db

RULES = re.compile(
    r'<script type="application/json" id="cp-offline-rules">(.*?)</script>', re.DOTALL
)


def _risk_area(place: str, code: str = "", **dates: dt.date) -> None:
    today = timezone.localdate()
    apps.get_model("screening", "RiskArea").objects.create(
        region_code=code,
        place=place,
        level="high",
        valid_from=dates.get("start", today),
        valid_to=dates.get("end"),
    )


def test_the_log_page_carries_the_rules_and_no_personal_data(client_for, staff, post_a, resident):
    today = timezone.localdate()
    _risk_area("武汉市武昌区", "420106")
    _risk_area(
        "已解除的小区", end=today - dt.timedelta(days=1), start=today - dt.timedelta(days=20)
    )
    services.record_passages(
        actor=staff,
        post_id=post_a.pk,
        items=[services.PassageInput(person_id=resident.pk, origin="武汉市武昌区")],
    )
    response = client_for(staff).get(f"/checkpoints/posts/{post_a.pk}/log/")
    page = response.content.decode()
    assert len(response.content) < 100_000
    rules = json.loads(RULES.search(page).group(1))
    assert set(rules) == {"day", "code_rules", "fever", "risk_areas", "more_risk_areas"}
    assert rules["risk_areas"] == [["420106", "武汉市武昌区"]]
    assert rules["code_rules"]["red"] == "refuse" and rules["fever"] == "37.3"
    assert rules["day"] == today.isoformat() and rules["more_risk_areas"] is False
    block = RULES.search(page).group(1)
    assert resident.name not in block and resident.id_number not in block
    # The queue's place on the page, tied to the user, and the sync bar.
    assert 'id="cp-queue"' in page and 'data-user="kadian"' in page
    assert 'id="field-sync"' in page and "立即同步" in page


def test_a_place_cannot_close_the_script_element(client_for, staff, post_a):
    _risk_area("</script><script>alert(1)</script>某村")
    page = client_for(staff).get(f"/checkpoints/posts/{post_a.pk}/log/").content.decode()
    assert "<script>alert(1)" not in page
    rules = json.loads(RULES.search(page).group(1))
    assert rules["risk_areas"][0][1].startswith("</script>")


def test_the_worker_keeps_every_posts_log_and_the_checkpoint_scripts(client):
    text = client.get("/sw.js").content.decode()
    config = json.loads(text.split("\n", 1)[0].removeprefix("self.FIELD = ").rstrip(";"))
    assert "/checkpoints/posts/*/log/" in config["pages"]
    assert config["pages"][:2] == ["/quarantine/round/", "/screening/visits/"]
    assert {"/static/checkpoints/queue.js", "/static/checkpoints/checkpoints.css"} <= set(
        config["shell"]
    )
    assert "function matches(pattern, path)" in text
