#!/usr/bin/env bash
# Installs what the app needs: Python venv + pinned packages, bun (from the npm
# registry) for Reflex's frontend. Re-running it only installs what changed.
# Usage: scripts/setup.sh [dev]   ("dev" adds the test packages)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

req=requirements.txt
[ "${1:-}" = dev ] && req=requirements-dev.txt
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)-$(basename "$req")"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  touch "$stamp"
fi

# Reflex 0.10 needs Node >= 22 with npm, or bun: take bun from the npm registry so
# Reflex never runs its own bun download script (which cannot work offline).
if [ ! -x "$ROOT/.tools/node_modules/.bin/bun" ]; then
  mkdir -p "$ROOT/.tools"
  npm install --prefix "$ROOT/.tools" --no-audit --no-fund --silent bun@1.4.5
fi
