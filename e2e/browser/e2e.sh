#!/usr/bin/env bash
# make e2e: installs what the browser test needs, then runs it.
#   - Chromium from Debian's package (apt-get, as root or through sudo),
#     unless $CHROMIUM or /usr/bin/chromium is already there;
#   - the npm packages of package-lock.json (npm ci), unless installed;
# then node run.mjs. Fails with a clear message when any of it cannot be
# installed.
set -euo pipefail
cd "$(dirname "$0")"

die() { echo "e2e: $*" >&2; exit 1; }

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "e2e: installing Chromium (Debian package chromium)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "Chromium is missing at $chromium and installing it needs root: run 'apt-get install -y chromium' as root, or set CHROMIUM to a Chromium binary"
    sudo="sudo -n"
  fi
  command -v apt-get >/dev/null || die "Chromium is missing at $chromium and there is no apt-get to install it: set CHROMIUM to a Chromium binary"
  if ! { $sudo apt-get install -y -q chromium >/tmp/e2e-apt.log 2>&1 ||
         { $sudo apt-get update -q >>/tmp/e2e-apt.log 2>&1 && $sudo apt-get install -y -q chromium >>/tmp/e2e-apt.log 2>&1; }; }; then
    tail -n 20 /tmp/e2e-apt.log >&2
    die "could not install Chromium with apt-get (log above, whole log in /tmp/e2e-apt.log)"
  fi
  [ -x "$chromium" ] || die "apt-get installed chromium but $chromium is not there"
fi
"$chromium" --version >/dev/null 2>&1 || die "$chromium does not run ('$chromium --version' failed)"

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (Node.js 20 or later)"
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.e2e-lock 2>/dev/null)" != "$lock" ]; then
  echo "e2e: npm ci"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed: the packages of package-lock.json could not be installed"
  echo "$lock" > node_modules/.e2e-lock
fi

CHROMIUM="$chromium" exec node run.mjs
