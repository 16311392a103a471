"""fangkong createuser USERNAME [--password P] --role ROLE --region CODE [--region CODE ...]

Without ``--password`` (or with ``--password -``) the password is asked for twice at a
terminal, or read as the first line of standard input when that is not a terminal
(``printf '%s\n' "$PW" | fangkong createuser ...``), so it need not appear in the shell's
history or in the process list. ``--password P`` keeps working (DESIGN.md's interface).
"""

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.errors import ValidationFailed
from fangkong.core.roles import Role
from fangkong.core.users import create_user


class Command(BaseCommand):
    stealth_options = ("stdin",)  # tests hand in a file for standard input
    help = (
        "Create a user with one role and one or more jurisdiction region codes. "
        "新建用户：指定角色和管辖区划代码（可多个）。Without --password the password is "
        "asked for (or read from standard input). Example: fangkong createuser wangli "
        "--role village_cadre --region 230231106201"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--password",
            default=None,
            help="the password; omit it (or give -) to type it at a prompt or pipe it in",
        )
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--region",
            action="append",
            default=[],
            dest="regions",
            metavar="CODE",
            help="region code (repeat for several); an admin without regions administers all",
        )
        parser.add_argument("--name", default="", help="display name (姓名)")

    def handle(self, *args, **options):
        password = options["password"]
        if password is None or password == "-":
            password = self._read_password(options.get("stdin") or sys.stdin)
        try:
            user = create_user(
                username=options["username"],
                password=password,
                role=options["role"],
                region_codes=options["regions"],
                display_name=options["name"],
            )
        except ValidationFailed as exc:
            raise CommandError("; ".join(f"{e.field}: {e.message}" for e in exc.errors)) from None
        codes = ", ".join(user.region_codes) or "全部"
        self.stdout.write(f"已创建用户 {user.username}（{user.get_role_display()}，管辖：{codes}）")

    def _read_password(self, stdin) -> str:
        if not stdin.isatty():
            return stdin.readline().rstrip("\r\n")
        first = getpass.getpass("密码 / password: ")
        if getpass.getpass("再次输入 / again: ") != first:
            raise CommandError("两次输入的密码不一致 / the passwords differ")
        return first
