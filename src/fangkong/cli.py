"""The ``fangkong`` command: a thin wrapper over Django management commands and services.

Each sub-command is a Django management command of one of the apps (core, people, web)
(so ``--help`` works the same way everywhere); this module only sets up Django and forwards,
plus ``fangkong migrate`` and ``fangkong serve``, which map to Django's own machinery.
"""

from __future__ import annotations

import os
import sys

USAGE = """用法 / usage: fangkong COMMAND [options]

Commands:
  demo        synthetic county in SQLite, demo users, serve (--no-serve: only prepare)
  serve       run the web server (--port P, --host H, --workers N, --threads T)
  worker      run the background tasks and periodic jobs (--batch: what is queued, then exit)
  migrate     create or update the database tables
  createuser  create a user: createuser USERNAME --password P --role ROLE --region CODE [...]
  generate    write a synthetic county as files: generate --residents N --seed S --out DIR
  load        load a generated county folder into the database (regions, households, persons)
  regions     list regions: regions [--level LEVEL] [--under CODE]
  manage      any Django management command (fangkong manage shell, ...)

Run `fangkong COMMAND --help` for the options of one command.
"""

COMMANDS = {
    "demo": "demo",
    "serve": "serve",
    "worker": "worker",
    "migrate": "migrate",
    "createuser": "createuser",
    "generate": "generate",
    "load": "load_county",
    "regions": "regions",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    if argv[0] == "demo":
        # The demo's defaults (any Host, the admin mounted), for it and the server it starts.
        os.environ["FANGKONG_DEMO"] = "true"
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    from django.conf import settings
    from django.utils import translation

    # Messages of the commands follow the installation's language (zh-hans by default).
    translation.activate(settings.LANGUAGE_CODE)
    command, rest = argv[0], argv[1:]
    if command == "manage":
        execute_from_command_line(["fangkong", *rest])
        return 0
    if command not in COMMANDS:
        print(f"未知命令 / unknown command: {command}\n\n{USAGE}", file=sys.stderr)
        return 2
    execute_from_command_line(["fangkong", COMMANDS[command], *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
