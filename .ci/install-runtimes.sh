#!/usr/bin/env bash
# Installs the runtimes that tests/runtimes_test.ts runs the conformance
# script in: Bun and workerd from npm into .ci/cache/ (gitignored), and
# Debian's Chromium when /usr/bin/chromium is missing, then (when Deno is
# there) playwright-core into Deno's cache for the Chromium driver. Safe to run
# again: whatever is already there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION=1.4.5
WORKERD_VERSION=1.20261123.1
CACHE=.ci/cache

have_npm_package() {
  [ -x "$CACHE/node_modules/.bin/$1" ] &&
    grep -q "\"version\": \"$2\"" "$CACHE/node_modules/$1/package.json" 2>/dev/null
}

if have_npm_package bun "$BUN_VERSION" &&
  have_npm_package workerd "$WORKERD_VERSION"; then
  echo "bun $BUN_VERSION and workerd $WORKERD_VERSION already in $CACHE"
else
  echo "installing bun@$BUN_VERSION and workerd@$WORKERD_VERSION into $CACHE"
  mkdir -p "$CACHE"
  # npm 11 asks for install scripts to be allowed; both packages fetch their
  # platform binary in one.
  echo '{ "private": true, "allowScripts": { "bun": true, "workerd": true } }' \
    >"$CACHE/package.json"
  npm install --prefix "$CACHE" --no-audit --no-fund --save-exact \
    "bun@$BUN_VERSION" "workerd@$WORKERD_VERSION"
fi

"$CACHE/node_modules/.bin/bun" --version
"$CACHE/node_modules/.bin/workerd" --version

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null

if command -v deno >/dev/null 2>&1; then
  echo "caching playwright-core for tests/conformance/chromium.ts"
  deno cache --quiet tests/conformance/chromium.ts
fi
