"""Security headers, no inline scripts in any template, Swagger UI served locally, and the
HTTPS/host settings parsed strictly."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
from django.test import Client

import fangkong

ROOT = pathlib.Path(fangkong.__file__).parent


def test_pages_carry_a_content_security_policy_and_the_usual_headers(db):
    response = Client().get("/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in ROOT.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
        for handler in re.findall(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.relative_to(ROOT)}: {handler.strip()}")
        if "javascript:" in text:
            offenders.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert offenders == []


def test_the_api_docs_load_swagger_ui_from_our_own_static_files(db):
    page = Client().get("/api/v1/docs").content.decode()
    scripts = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert scripts and all(s.startswith("/static/") for s in scripts), scripts
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in scripts
    vendor = ROOT / "static" / "vendor" / "swagger-ui"
    assert (vendor / "LICENSE").exists() and (vendor / "swagger-ui-bundle.js").exists()
    assert Client().get("/static/fangkong/swagger-init.js").status_code == 200


def _settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    code = (
        "import fangkong.settings as s; "
        "print(s.ALLOWED_HOSTS, s.SECURE_PROXY_SSL_HEADER, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.FANGKONG_ADMIN_ENABLED)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "FANGKONG_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_hosts_are_loopback_by_default_and_any_only_in_the_demo(tmp_path):
    default = _settings(tmp_path)
    assert default.returncode == 0, default.stderr
    assert default.stdout.startswith("['localhost', '127.0.0.1', '[::1]']")
    assert default.stdout.strip().endswith("False")  # no admin outside the demo
    demo = _settings(tmp_path, FANGKONG_DEMO="1")
    assert demo.stdout.startswith("['*']") and demo.stdout.strip().endswith("True")


def test_https_settings_come_from_the_environment(tmp_path):
    done = _settings(
        tmp_path,
        FANGKONG_ALLOWED_HOSTS="fk.example.gov.cn",
        FANGKONG_PROXY_SSL_HEADER="X-Forwarded-Proto",
        FANGKONG_HSTS_SECONDS="31536000",
        FANGKONG_SECURE_COOKIES="yes",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "['fk.example.gov.cn'] ('HTTP_X_FORWARDED_PROTO', 'https') 31536000 True False"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("FANGKONG_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"), ("FANGKONG_HSTS_SECONDS", "1y")],
)
def test_a_malformed_https_setting_stops_the_start(tmp_path, name, value):
    done = _settings(tmp_path, **{name: value})
    assert done.returncode != 0 and name in done.stderr
