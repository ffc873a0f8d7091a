#!/usr/bin/env bash
# reflex.lock/ pins the frontend packages. A run stopped while Reflex rewrote
# reflex.lock/package.json can leave it empty or cut, and Reflex then refuses to start
# (« Delete the reflex.lock directory… »). Put the committed copy back (or, outside a git
# checkout, remove the broken file so that Reflex writes a new one). Called by run.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="reflex.lock/package.json"
cd "$ROOT"
[ -f "$lock" ] || exit 0
if python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$lock" 2>/dev/null; then
  exit 0
fi
if git cat-file -e "HEAD:$lock" 2>/dev/null; then
  git show "HEAD:$lock" > "$lock"
  echo "$lock était illisible (arrêt pendant son écriture) : version enregistrée remise en place."
else
  rm -f "$lock"
  echo "$lock était illisible : supprimé, Reflex le recrée."
fi
