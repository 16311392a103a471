#!/usr/bin/env bash
# Install Fangkong with its test tools into ./.venv and run the whole test suite:
# linters, then every test on SQLite, then every test again on PostgreSQL when one is
# reachable (FANGKONG_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/fangkong).
# In CI (CI=true) PostgreSQL must be reachable: a missing database fails the run.
# Browser tests need Debian's chromium, the layout test nginx and PostgreSQL's server binaries;
# as root, chromium and nginx are installed here with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PG_URL=${FANGKONG_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/fangkong}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

# Debian packages some tests need: chromium (browser tests), nginx (the layout test, which
# runs its own nginx on its own ports; the packaged service is not used).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-noto-cjk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian ${missing[*]} for the browser and layout tests…"
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "WARNING: ${missing[*]} missing: the browser or layout tests will be skipped." >&2
  fi
fi

echo "== ruff"; .venv/bin/ruff check src tests bench
echo "== ruff format"; .venv/bin/ruff format --check src tests bench
echo "== mypy (typed core)"; .venv/bin/mypy
echo "== migrations are up to date"
FANGKONG_VAR_DIR="$(mktemp -d)" .venv/bin/fangkong manage makemigrations --check --dry-run >/dev/null

export PYTHONHASHSEED=0
# Both runs always run: a failure on SQLite must not hide what PostgreSQL would say.
status=0
echo "== tests on SQLite"
env -u FANGKONG_DATABASE_URL .venv/bin/pytest -n 2 -p no:cacheprovider "$@" || status=1

if .venv/bin/python - "$PG_URL" <<'PY'
import sys, psycopg
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
try:
    psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username, dbname="postgres", connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable: {exc}", file=sys.stderr); sys.exit(1)
PY
then
  echo "== tests on PostgreSQL ($PG_URL)"
  FANGKONG_DATABASE_URL="$PG_URL" .venv/bin/pytest -n 2 -p no:cacheprovider "$@" || status=1
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is required in CI but not reachable." >&2
  exit 1
else
  echo "PostgreSQL not reachable: skipped the PostgreSQL run."
fi
if [ "$status" != 0 ]; then
  echo "FAILED: see the test output above (SQLite and PostgreSQL runs)." >&2
fi
exit "$status"
