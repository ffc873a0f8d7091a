#!/usr/bin/env bash
# Runs the app at http://localhost:3000 (SQLite file in data/ unless DATABASE_URL is set).
# Unless MOLLIE_API_ENDPOINT / SENDGRID_HOST point elsewhere, the local Mollie and
# SendGrid sandboxes are started too (127.0.0.1:8765 and :8766) and used by companies
# that have no real API key: the app then says "Mode test — sandbox Mollie".
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ -z "${MOLLIE_API_ENDPOINT:-}" ]; then
  "$VENV/bin/python" -m simple_erp.sandbox.mollie --port "${MOLLIE_SANDBOX_PORT:-8765}" &
  pids+=($!)
  export MOLLIE_API_ENDPOINT="http://127.0.0.1:${MOLLIE_SANDBOX_PORT:-8765}" MOLLIE_SANDBOX=1
  echo "Sandbox Mollie : $MOLLIE_API_ENDPOINT (page de paiement de test)"
fi
if [ -z "${SENDGRID_HOST:-}" ]; then
  "$VENV/bin/python" -m simple_erp.sandbox.sendgrid --port "${SENDGRID_SANDBOX_PORT:-8766}" &
  pids+=($!)
  export SENDGRID_HOST="http://127.0.0.1:${SENDGRID_SANDBOX_PORT:-8766}" SENDGRID_SANDBOX=1
  echo "Sandbox SendGrid : $SENDGRID_HOST (« Boîte de réception de test »)"
fi

# The app applies its migrations itself when it starts.
"$VENV/bin/reflex" run --backend-host 127.0.0.1 "$@" &
pids+=($!)
wait "${pids[-1]}"
