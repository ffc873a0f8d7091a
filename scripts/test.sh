#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need (Chromium from
# Debian, Python packages, bun), then runs unit, service and API tests on SQLite and
# PostgreSQL; the first-run stage (the README's `make run` in a fresh clone of HEAD,
# then a new user's walk in Chromium); the end-to-end tests in Chromium on SQLite and on
# PostgreSQL; and the production-mode end-to-end tests (Redis, two backend workers,
# PostgreSQL).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium from Debian's packages…"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
"$ROOT/scripts/setup.sh" dev

# PostgreSQL runs on this machine; start it if it stopped.
if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi

results="$ROOT/test-artifacts"
rm -rf "$results"; mkdir -p "$results"
status=0
run() {  # run NAME pytest-args...
  local name=$1; shift
  echo "=== $name"
  "$VENV/bin/python" -m pytest -p no:cacheprovider --junitxml="$results/$name.xml" "$@" || status=1
}

# Two workers (pytest-xdist): each test has its own databases, files and ports.
run unit-services-api -n 2 tests/unit tests/services tests/api tests/providers
# `make run` exactly as the README says, in a fresh clone with only its own installs.
run first-run tests/first_run
run e2e-sqlite tests/e2e

pg_db="simple_erp_e2e_$$"
if createdb -h 127.0.0.1 -U postgres "$pg_db" 2>/dev/null; then
  E2E_DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:5432/$pg_db" run e2e-postgresql tests/e2e
  dropdb -h 127.0.0.1 -U postgres --force "$pg_db" || true
else
  echo "PostgreSQL unreachable: cannot run the end-to-end tests on it"; status=1
fi

# Production mode: built frontend, Redis, two backend workers, PostgreSQL.
redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null
run e2e-prod-redis tests/e2e_prod

"$VENV/bin/python" "$ROOT/scripts/junit_summary.py" "$results"/*.xml
exit $status
