# Shared by scripts/serve and scripts/test: make .venv and install the project into it,
# again only when pyproject.toml changed since the last install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON:-python3}"

ensure_venv() {
  local extras="$1" stamp want
  if ! "$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Python 3.11 or newer is needed (found: $("$PYTHON_BIN" --version 2>&1))" >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtualenv in $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
  fi
  stamp="$VENV/.installed"
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)-$extras"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing dependencies ($extras)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    if [ "$extras" = "runtime" ]; then
      "$VENV/bin/python" -m pip install --quiet -e "$ROOT"
    else
      "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]"
    fi
    echo "$want" > "$stamp"
  fi
}
