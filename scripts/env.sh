# Shared environment for the run and test commands (sourced, not executed).
# Nothing here downloads a binary from outside the package registries.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VENV="$ROOT/.venv"
export PATH="$ROOT/.tools/node_modules/.bin:$VENV/bin:$PATH"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=0
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"
if [ -z "${NPM_CONFIG_REGISTRY:-}" ] && command -v npm >/dev/null; then
  NPM_CONFIG_REGISTRY="$(npm config get registry)"
  export NPM_CONFIG_REGISTRY
fi
