# Shared by scripts/serve and scripts/test: Debian packages the service and its tests use
# (a CJK font that PDFs embed; Chromium for the browser tests). Installed with apt-get when
# they are missing and this user may install; otherwise named, so a developer knows why a
# PDF falls back to a non-embedded font or a browser test is skipped. Under STRICT_SKIPS=1
# (CI) a package that cannot be installed stops the run at once, saying what to do.
set -euo pipefail

_cannot_install() {
  local why="$1"; shift
  if [ "${STRICT_SKIPS:-}" = "1" ]; then
    cat >&2 <<MSG
error: the suite needs the Debian packages: $*
  $why
  Install them once (as root: apt-get install -y --no-install-recommends $*)
  and run again, or run scripts/test without STRICT_SKIPS=1 to let those tests skip.
MSG
    exit 1
  fi
  echo "note: $why; the tests that need $* will skip (apt-get install $*)" >&2
}

ensure_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    _cannot_install "this is not a Debian system (no apt-get); install the equivalents" \
      "${missing[@]}"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      _cannot_install "installing them needs root, and this user ($(id -un)) has no sudo" \
        "${missing[@]}"
      return 0
    fi
  fi
  echo "installing Debian packages: ${missing[*]}"
  # The package lists may be stale on a fresh machine: refresh once if the install fails.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null \
    || { "${sudo[@]}" apt-get update -qq >/dev/null \
         && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
              --no-install-recommends "${missing[@]}" >/dev/null; } \
    || _cannot_install "apt-get could not install them (see its output above)" "${missing[@]}"
}
