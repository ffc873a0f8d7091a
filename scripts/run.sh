#!/usr/bin/env bash
# Runs the app at http://localhost:3000 (SQLite file in data/ unless DATABASE_URL is set).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
# The app applies its migrations itself when it starts.
exec "$VENV/bin/reflex" run --backend-host 127.0.0.1 "$@"
