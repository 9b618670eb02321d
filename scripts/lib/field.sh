# Shared by scripts/serve and scripts/test: build the inspectors' field app (field/) with npm
# from its lock file into field/dist, which Flask serves under /field/. npm ci runs again
# only when package-lock.json changed, the build only when a source changed.
set -euo pipefail

FIELD="$ROOT/field"

_field_sources_hash() {
  (cd "$ROOT" && find field/src field/public field/build.mjs field/package-lock.json client_schema \
     -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

ensure_field_app() {
  if ! command -v npm >/dev/null 2>&1; then
    ensure_debian_packages nodejs npm
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm (Node.js 18 or newer) is needed to build the field app" >&2
    exit 1
  fi
  local lock_stamp="$FIELD/node_modules/.lock-sha256" want
  want="$(sha256sum "$FIELD/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$lock_stamp" ] || [ "$(cat "$lock_stamp")" != "$want" ]; then
    echo "field app: npm ci"
    (cd "$FIELD" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$lock_stamp"
  fi
  local build_stamp="$FIELD/dist/.sources-sha256"
  want="$(_field_sources_hash)"
  if [ ! -f "$build_stamp" ] || [ "$(cat "$build_stamp")" != "$want" ]; then
    (cd "$FIELD" && npm run --silent build)
    echo "$want" > "$build_stamp"
  fi
}
