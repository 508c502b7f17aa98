#!/usr/bin/env bash
# Runs before `npm test`: the page's browser test (tests/local/serve/page.test.ts) drives Debian's Chromium.
# Installs it when missing and this machine can (root with apt-get); otherwise that test skips and says why.
set -uo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser test..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || echo "chromium could not be installed: the browser test will skip" >&2
else
  echo "/usr/bin/chromium is missing and apt-get cannot run as root here: the browser test will skip" >&2
fi
exit 0
