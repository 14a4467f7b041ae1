#!/usr/bin/env bash
# The proxy tests run haruchat behind the shipped deploy/nginx.conf and
# deploy/Caddyfile, with Debian's own nginx and caddy. Install them if absent.
# The packages' services are not started: the tests run their own instances
# (as the current user, on free loopback ports, with their own pid and logs).
set -euo pipefail
NGINX="${NGINX_PATH:-/usr/sbin/nginx}"
CADDY="${CADDY_PATH:-/usr/bin/caddy}"
if [[ -x "$NGINX" && -x "$CADDY" ]]; then
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "The proxy tests need Debian's nginx and caddy: sudo apt-get install -y nginx caddy" >&2
  exit 1
fi
# Keep the packages from starting their services (nginx's would take port 80).
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "Installing Debian's nginx and caddy for the proxy tests..."
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends nginx caddy >/dev/null 2>&1 || {
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends nginx caddy >/dev/null
}
