"""fangkong createuser USERNAME --password P --role ROLE --region CODE [--region CODE ...]"""

from django.core.management.base import BaseCommand, CommandError

from fangkong.core.errors import ValidationFailed
from fangkong.core.roles import Role
from fangkong.core.users import create_user


class Command(BaseCommand):
    help = (
        "Create a user with one role and one or more jurisdiction region codes. "
        "新建用户：指定角色和管辖区划代码（可多个）。Example: fangkong createuser wangli "
        "--password 'S3cure-pass' --role village_cadre --region 230231106201"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--region", action="append", default=[], dest="regions", metavar="CODE",
            help="region code (repeat for several); an admin without regions administers all",
        )
        parser.add_argument("--name", default="", help="display name (姓名)")
        parser.add_argument(
            "--allow-weak-password", action="store_true",
            help="skip the password strength check (test and demo accounts only)",
        )

    def handle(self, *args, **options):
        try:
            user = create_user(
                username=options["username"],
                password=options["password"],
                role=options["role"],
                region_codes=options["regions"],
                display_name=options["name"],
                check_password_strength=not options["allow_weak_password"],
            )
        except ValidationFailed as exc:
            raise CommandError("; ".join(f"{e.field}: {e.message}" for e in exc.errors)) from None
        codes = ", ".join(user.region_codes) or "全部"
        self.stdout.write(f"已创建用户 {user.username}（{user.get_role_display()}，管辖：{codes}）")
