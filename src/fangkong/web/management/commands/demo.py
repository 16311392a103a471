"""fangkong demo: a synthetic 拜泉县 in embedded SQLite, demo users, worker and web server.

Idempotent: a second run reuses the loaded county and the users (their passwords are reset
to the printed one), so ``fangkong demo`` is also how the demo is started again.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from fangkong.core import supervise
from fangkong.core.jurisdiction import prefix_q
from fangkong.core.models import Region, RegionLevel, User
from fangkong.core.passwords import DEMO_PASSWORD
from fangkong.core.roles import Role
from fangkong.core.users import create_user

DEMO_COUNTY = "230231"  # 拜泉县
DEMO_TOWNSHIP = "230231106"  # 富强镇


def _first_below(code: str, level: str) -> str:
    region = Region.objects.filter(prefix_q("code", [code]), level=level).order_by("code").first()
    if region is None:
        raise RuntimeError(f"no {level} under {code}: the demo county was not loaded")
    return region.code


def demo_accounts() -> list[tuple[str, str, str, str]]:
    """(username, role, region code, display name) of the demo users."""
    village = _first_below(DEMO_TOWNSHIP, RegionLevel.VILLAGE)
    grid = _first_below(village, RegionLevel.GRID)
    return [
        ("admin", Role.ADMIN, "", "系统管理员"),
        ("xian", Role.COUNTY_HQ, DEMO_COUNTY, "县指挥部 王主任"),
        ("fuqiang", Role.TOWNSHIP, DEMO_TOWNSHIP, "富强镇防控办 李干事"),
        ("cun", Role.VILLAGE_CADRE, village, "村干部 张书记"),
        ("wangge", Role.GRID_WORKER, grid, "网格员 刘敏"),
        ("cunyi", Role.VILLAGE_DOCTOR, village, "村医 赵大夫"),
        ("kadian", Role.CHECKPOINT_STAFF, DEMO_TOWNSHIP, "卡点值守 孙强"),
        ("liudiao", Role.INVESTIGATOR, DEMO_COUNTY, "流调队员 周洁"),
        ("caiyang", Role.TESTING_STAFF, DEMO_TOWNSHIP, "采样员 陈静"),
        ("wuzi", Role.SUPPLY_OFFICER, DEMO_COUNTY, "物资保障组 郑伟"),
        ("ducha", Role.INSPECTOR, DEMO_COUNTY, "督导组 吴刚"),
    ]


class Command(BaseCommand):
    help = (
        "Prepare and serve the demo: a synthetic county (拜泉县) in SQLite with demo users. "
        "准备并启动演示系统。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, default=50_000)
        parser.add_argument("--seed", type=int, default=2022)
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-serve", action="store_true", help="prepare, print logins, exit")

    def handle(self, *args, **options):
        from fangkong.people.bulk_import import load_county_dir
        from fangkong.people.models import Person
        from fangkong.synth import generate_county

        write = self.stdout.write
        call_command("migrate", interactive=False, verbosity=0)
        if not Person.objects.exists():
            out_dir = Path(settings.VAR_DIR) / f"demo-county-{options['residents']}"
            write(f"生成合成县（{options['residents']:,} 人）… {out_dir}")
            generate_county(residents=options["residents"], seed=options["seed"], out_dir=out_dir)
            started = time.monotonic()

            def progress(done: int, total: int) -> None:
                sys.stdout.write(f"\r导入 {done:,} / {total:,} 人")
                sys.stdout.flush()

            summary = load_county_dir(out_dir, progress=progress)
            write(f"\n导入完成：{summary}（{time.monotonic() - started:.1f} 秒）")
        else:
            write(f"已有 {Person.objects.count():,} 人，沿用现有数据。")

        accounts = demo_accounts()
        others = User.objects.exclude(username__in=[a[0] for a in accounts])
        if others.exists():
            # The demo's weak shared password is for the demo's own database only: never
            # reset an account of a real deployment to it.
            raise CommandError(
                "此数据库已有非演示用户，演示只能在自己的数据库中运行 / this database holds "
                f"accounts that are not the demo's ({others.count()}): run the demo on a "
                "database of its own (unset FANGKONG_DATABASE_URL or point it elsewhere)"
            )
        for username, role, code, name in accounts:
            user = User.objects.filter(username=username).first()
            if user is None:
                create_user(
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    region_codes=[code] if code else [],
                    display_name=name,
                    check_password_strength=False,
                )
            else:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
        self._seed_modules(write)
        call_command("collectstatic", interactive=False, verbosity=0)

        url = f"http://{options['host']}:{options['port']}/"
        write("")
        write("=" * 64)
        write(f"Fangkong 演示系统 / demo: {url}")
        write(f"密码 / password (all users): {DEMO_PASSWORD}")
        for username, role, code, name in accounts:
            region = Region.objects.filter(code=code).first()
            where = region.name if region else "全部"
            write(f"  {username:<9} {Role(role).label}（{where}） {name}")
        write("=" * 64)
        if options["no_serve"]:
            return
        self._serve(options["host"], options["port"])

    def _seed_modules(self, write) -> None:
        """Let every module add its part of the story (``fangkong.core.demo`` seeders), all
        relative to this moment so the story holds whatever hour the demo starts."""
        from django.utils import timezone

        from fangkong.core import demo

        accounts = demo_accounts()
        grid = next(code for username, _, code, _ in accounts if username == "wangge")
        context = demo.DemoContext(
            now=timezone.now(),
            users={
                u.username: u for u in User.objects.filter(username__in=[a[0] for a in accounts])
            },
            county=DEMO_COUNTY,
            township=DEMO_TOWNSHIP,
            village=grid[:12],
            grid=grid,
        )
        for seeder in demo.seeders():
            line = seeder.run(context)
            if line:
                write(line)

    def _serve(self, host: str, port: int) -> None:
        """Run the task worker and the web server until stopped (Ctrl-C, SIGTERM): stopping
        the demo stops both, and a killed demo takes them with it (PR_SET_PDEATHSIG)."""
        fangkong = [sys.executable, "-m", "fangkong.cli"]
        code = supervise.run_together(
            [
                ("fangkong worker", [*fangkong, "worker", "--verbosity", "0"]),
                (
                    "fangkong serve",
                    [
                        *fangkong,
                        "serve",
                        "--no-migrate",
                        "--host",
                        host,
                        "--port",
                        str(port),
                        "--workers",
                        "1",
                        "--threads",
                        "4",
                    ],
                ),
            ]
        )
        if code:
            raise SystemExit(code)
