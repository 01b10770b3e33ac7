#!/usr/bin/env bash
# The web app (web/): build it and serve it against any node, or test it.
#
#   ./scripts/web.sh [serve] [--port 8000] [--rpc ws://127.0.0.1:9944] [--bridge http://127.0.0.1:9955]
#                     builds web/dist if it is missing or older than its sources, then
#                     serves it (a tiny Node static server, web/scripts/serve.mjs, which
#                     also forwards /bridge/* to the bridge's read endpoints)
#   ./scripts/web.sh build     npm ci (when needed) and the production build
#   ./scripts/web.sh test      what CI runs: type check, unit tests (Vitest), build,
#                     bundle size and load time (scripts/measure.mjs), and the browser
#                     tests (headless Chromium, Debian's package) against a dev chain with
#                     the bridge and the simulated devices; needs the built binaries
#
# Node.js (18+; 20.19+ for the build) and npm must be installed; `test` installs
# Debian's chromium if /usr/bin/chromium is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WEB=web

deps() {
  if [ ! -d "$WEB/node_modules" ] || [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
    echo "[web] installing the app's packages (npm ci)"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

build() {
  deps
  local stamp="$WEB/dist/index.html"
  if [ ! -f "$stamp" ] || [ -n "$(find "$WEB/src" "$WEB/index.html" "$WEB/vite.config.ts" "$WEB/package-lock.json" -newer "$stamp" -print -quit)" ]; then
    echo "[web] building the app into $WEB/dist"
    (cd "$WEB" && npx tsc --noEmit && npx vite build --logLevel warn)
  fi
}

chromium_present() {
  [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || {
    echo "[web] installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  }
}

cmd="${1:-serve}"
case "$cmd" in
  serve | build | test) shift || true ;;
  --*) cmd=serve ;;
esac

case "$cmd" in
  build) build ;;
  serve)
    build
    exec node "$WEB/scripts/serve.mjs" "$@"
    ;;
  test)
    chromium_present
    deps
    echo "[web] type check and unit tests"
    (cd "$WEB" && npx tsc --noEmit && npm run --silent test:unit)
    build
    echo "[web] bundle size and load time"
    (cd "$WEB" && node scripts/measure.mjs)
    echo "[web] browser tests against a dev chain (screenshots in $WEB/test-results/)"
    (cd "$WEB" && npm run --silent test:browser)
    ;;
  *)
    echo "usage: $0 [serve|build|test] [--port N] [--rpc URL] [--bridge URL]" >&2
    exit 2
    ;;
esac
