#!/usr/bin/env bash
# Installs what the status page's browser test (server/statuspage_test.go)
# needs, on Debian 12 as root: Debian's chromium, run headless at
# /usr/bin/chromium. Idempotent: when it is already there it installs nothing.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

status="$(dpkg-query -W -f='${Status}' chromium 2>/dev/null || true)"
if [[ "$status" != "install ok installed" ]]; then
  # Update the package lists only when apt does not know the package yet.
  apt-cache show chromium >/dev/null 2>&1 || apt-get update -q
  echo "install.sh: apt-get install chromium"
  apt-get install -y -q --no-install-recommends chromium
fi

test -x /usr/bin/chromium
echo "install.sh: browser test dependencies present"
