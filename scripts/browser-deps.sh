#!/usr/bin/env bash
# Installs the node modules of the browser tests (tests/browser: playwright-core, pinned by
# its package-lock.json) into tests/browser/node_modules with `npm ci`. The browser itself
# is Debian's chromium (scripts/deps.sh); playwright-core downloads none.
#
# Idempotent: silent and without any npm call when node_modules already holds what the
# lock file pins (a stamp with the lock file's hash). Concurrent runs are serialised.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$ROOT/tests/browser
LOCK=$DIR/package-lock.json
STAMP=$DIR/node_modules/.pxed-lock.sha256

want=$(sha256sum "$LOCK" | cut -d' ' -f1)
[ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && exit 0

for tool in node npm; do
	command -v "$tool" >/dev/null || {
		echo "browser-deps: $tool not found: the browser tests need Node.js 20 or later and npm" >&2
		exit 1
	}
done
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || {
	echo "browser-deps: node $(node --version) is too old: playwright-core needs 20 or later" >&2
	exit 1
}

exec 9>"${TMPDIR:-/tmp}/pxed-browser-deps.lock"
flock -w 300 9 || {
	echo "browser-deps: another npm ci is still running" >&2
	exit 1
}
[ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && exit 0
echo "browser-deps: npm ci in tests/browser" >&2
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing itself, but say so.
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$DIR" --no-audit --no-fund \
	--loglevel=error >&2
echo "$want" >"$STAMP"
