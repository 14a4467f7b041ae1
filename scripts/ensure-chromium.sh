#!/usr/bin/env bash
# The end-to-end tests drive Debian's Chromium (Playwright's own browser
# download can't work here). Install it, with a font that has Korean, if absent.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ -x "$CHROMIUM" ]] && fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "The browser tests need Debian's chromium and fonts-noto-cjk: sudo apt-get install -y chromium fonts-noto-cjk" >&2
  exit 1
fi
echo "Installing Debian's chromium and fonts-noto-cjk for the browser tests..."
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || {
  apt-get update -q >/dev/null
  apt-get install -y -q chromium fonts-noto-cjk >/dev/null
}
