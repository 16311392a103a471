"""The `fangkong` console commands: createuser, regions, and the CLI dispatcher."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from fangkong import cli
from fangkong.core.models import User
from tests.conftest import FUQIANG, GRID_A1, VILLAGE_A


def run(*args: str) -> str:
    """Run a command as the `fangkong` CLI does: in the default language (zh-hans)."""
    out = io.StringIO()
    with translation.override(settings.LANGUAGE_CODE):
        call_command(*args, stdout=out)
    return out.getvalue()


def test_createuser_with_several_regions(county):
    output = run(
        "createuser",
        "wangli",
        "--password",
        "Tr1cky-Passw0rd!",
        "--role",
        "village_cadre",
        "--region",
        VILLAGE_A,
        "--region",
        GRID_A1,
        "--name",
        "王丽",
    )
    user = User.objects.get(username="wangli")
    assert user.role == "village_cadre"
    assert set(user.region_codes) == {VILLAGE_A, GRID_A1}
    assert user.check_password("Tr1cky-Passw0rd!")
    assert not user.password.startswith("Tr1cky")  # hashed, never stored in clear
    assert "wangli" in output and "村（社区）干部" in output


def test_createuser_rejects_unknown_region_and_weak_password(county):
    with pytest.raises(CommandError) as excinfo:
        run("createuser", "x1", "--password", "123", "--role", "township", "--region", "999999")
    message = str(excinfo.value)
    assert "999999" in message
    assert "password" in message
    assert not User.objects.filter(username="x1").exists()


def test_createuser_needs_a_region_except_admin(county):
    with pytest.raises(CommandError, match="region"):
        run("createuser", "x2", "--password", "Tr1cky-Passw0rd!", "--role", "grid_worker")
    run("createuser", "root2", "--password", "Tr1cky-Passw0rd!", "--role", "admin")
    assert User.objects.get(username="root2").is_superuser


def test_createuser_rejects_duplicate_username(county):
    run("createuser", "dup", "--password", "Tr1cky-Passw0rd!", "--role", "admin")
    with pytest.raises(CommandError, match="dup"):
        run("createuser", "dup", "--password", "Tr1cky-Passw0rd!", "--role", "admin")


def test_regions_lists_code_level_name(county):
    lines = run("regions", "--level", "township", "--under", "230231").splitlines()
    assert len(lines) == 16  # 拜泉县 has 16 townships in the national codes
    assert f"{FUQIANG}\ttownship\t富强镇" in lines
    grids = run("regions", "--under", VILLAGE_A, "--level", "grid").splitlines()
    assert grids == [f"{VILLAGE_A}001\tgrid\t富强村第1组", f"{VILLAGE_A}002\tgrid\t富强村第2组"]


def test_regions_unknown_code(county):
    with pytest.raises(CommandError, match="123456"):
        run("regions", "--under", "123456")


def test_cli_usage_and_unknown_command(capsys):
    assert cli.main([]) == 0
    assert "createuser" in capsys.readouterr().out
    assert cli.main(["no-such-command"]) == 2


def test_createuser_reads_the_password_from_standard_input(county):
    stdin = io.StringIO("Tr1cky-Passw0rd!\n")
    with translation.override(settings.LANGUAGE_CODE):
        call_command("createuser", "piped", "--role", "admin", stdin=stdin, stdout=io.StringIO())
    assert User.objects.get(username="piped").check_password("Tr1cky-Passw0rd!")
    stdin = io.StringIO("Tr1cky-Passw0rd!\n")
    with translation.override(settings.LANGUAGE_CODE):
        call_command(
            "createuser",
            "dash",
            "--password",
            "-",
            "--role",
            "admin",
            stdin=stdin,
            stdout=io.StringIO(),
        )
    assert User.objects.get(username="dash").check_password("Tr1cky-Passw0rd!")


def test_createuser_has_no_way_around_the_password_rules(county):
    with pytest.raises(CommandError, match="password"):
        run("createuser", "weak", "--password", "fangkong-demo", "--role", "admin")
    with pytest.raises(CommandError):
        run("createuser", "weak", "--password", "x", "--role", "admin", "--allow-weak-password")


@pytest.mark.django_db
def test_the_demo_never_resets_a_real_deployments_accounts(county):
    from fangkong.core.users import create_user

    real = create_user(
        username="xian", password="Tr1cky-Passw0rd!", role="county_hq", region_codes=["230231"]
    )
    create_user(username="realcadre", password="Tr1cky-Passw0rd!", role="admin", region_codes=[])
    with pytest.raises(CommandError, match="demo"):
        call_command("demo", "--no-serve", "--residents", "10", stdout=io.StringIO())
    real.refresh_from_db()
    assert real.check_password("Tr1cky-Passw0rd!")
