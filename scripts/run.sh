#!/usr/bin/env bash
# Runs the app at http://localhost:3000 (SQLite file in data/ unless DATABASE_URL is set).
# Unless MOLLIE_API_ENDPOINT / SENDGRID_HOST point elsewhere, the local Mollie and
# SendGrid sandboxes are started too (127.0.0.1:8765 and :8766) and used by companies
# that have no real API key: the app then says "Mode test — sandbox Mollie".
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"

"$ROOT/scripts/repair_reflex_lock.sh"  # a run stopped mid-write may have left it empty

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

wait_for() {  # wait_for NAME URL PID: the sandbox answers, or the run stops with why
  local name=$1 url=$2 pid=$3
  for _ in $(seq 1 100); do
    if "$VENV/bin/python" - "$url" 2>/dev/null <<'PY'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass  # it answers
PY
    then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "Erreur : le sandbox $name ne démarre pas (voir le message ci-dessus)." >&2; exit 1
    fi
    sleep 0.2
  done
  echo "Erreur : le sandbox $name ne répond pas sur $url." >&2; exit 1
}

if [ -z "${MOLLIE_API_ENDPOINT:-}" ]; then
  port="${MOLLIE_SANDBOX_PORT:-8765}"
  "$VENV/bin/python" -m simple_erp.sandbox.mollie --port "$port" &
  pids+=($!)
  wait_for Mollie "http://127.0.0.1:$port/sandbox/state" "${pids[-1]}"
  export MOLLIE_API_ENDPOINT="http://127.0.0.1:$port" MOLLIE_SANDBOX=1
  echo "Sandbox Mollie : $MOLLIE_API_ENDPOINT (page de paiement de test)"
fi
if [ -z "${SENDGRID_HOST:-}" ]; then
  port="${SENDGRID_SANDBOX_PORT:-8766}"
  "$VENV/bin/python" -m simple_erp.sandbox.sendgrid --port "$port" &
  pids+=($!)
  wait_for SendGrid "http://127.0.0.1:$port/" "${pids[-1]}"
  export SENDGRID_HOST="http://127.0.0.1:$port" SENDGRID_SANDBOX=1
  echo "Sandbox SendGrid : $SENDGRID_HOST (« Boîte de réception de test »)"
fi

# The app applies its migrations itself when it starts.
"$VENV/bin/reflex" run --backend-host 127.0.0.1 "$@" &
pids+=($!)
wait "${pids[-1]}"
