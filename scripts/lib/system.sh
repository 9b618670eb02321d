# Shared by scripts/serve and scripts/test: Debian packages the service and its tests use
# (a CJK font that PDFs embed; Chromium for the browser tests). Installed with apt-get when
# they are missing and this user may install; otherwise named, so a developer knows why a
# PDF falls back to a non-embedded font or a browser test is skipped.
set -euo pipefail

ensure_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: not a Debian system; install the equivalent of: ${missing[*]}" >&2
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      echo "note: cannot install ${missing[*]} (needs root): apt-get install ${missing[*]}" >&2
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
    || echo "note: apt-get could not install ${missing[*]}" >&2
}
