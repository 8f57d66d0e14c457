#!/bin/sh
# run.sh - run the HTTP caching tests of cache-tests.fyi through the built
# cuttle as a forward proxy.  See README.md.
#
#	CACHE_TESTS_DIR=/path/to/cache-tests test-suite/cache-tests/run.sh [id]
#
# CUTTLE names the binary (default: src/cuttle of this tree); id runs one
# suite (cc-parse, vary...) or one test alone, printing its exchanges.
# Exits 0 when every required test outside CDN-Cache-Control passes and
# cuttle never died, 1 otherwise, 2 when the suite cannot be run.  The
# working directory (confs, logs, results.json) is kept when the run fails,
# or with CT_KEEP=1.
set -u
here=$(cd "$(dirname "$0")" && pwd)

fail() {
	echo "cache-tests: $*" >&2
	exit 2
}

[ -n "${CACHE_TESTS_DIR:-}" ] || fail "set CACHE_TESTS_DIR to a checkout" \
    "of https://github.com/http-tests/cache-tests"
dir=$(cd "$CACHE_TESTS_DIR" 2>/dev/null && pwd) ||
    fail "no directory $CACHE_TESTS_DIR"
CACHE_TESTS_DIR=$dir
[ -f "$CACHE_TESTS_DIR/test-engine/client/runner.mjs" ] &&
    [ -f "$CACHE_TESTS_DIR/tests/index.mjs" ] ||
    fail "$CACHE_TESTS_DIR is not a cache-tests checkout"
[ -d "$CACHE_TESTS_DIR/node_modules/undici" ] ||
    fail "run 'npm install' in $CACHE_TESTS_DIR first (undici is needed)"

CUTTLE=${CUTTLE:-$here/../../src/cuttle}
[ -x "$CUTTLE" ] || fail "no cuttle binary at $CUTTLE (build first, or set" \
    "CUTTLE)"

command -v node >/dev/null 2>&1 || fail "node is not installed"
# undici 7, which the suite's client needs, wants Node 20.18 or later.
node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)' ||
    fail "node $(node --version) is too old: 20.18 or later is needed"

work=$(mktemp -d "${TMPDIR:-/tmp}/cuttle-cache-tests.XXXXXX") ||
    fail "cannot make a working directory"
CT_WORKDIR=$work CACHE_TESTS_DIR=$CACHE_TESTS_DIR CUTTLE=$CUTTLE \
    node "$here/driver.mjs" "$@"
rc=$?
if [ "$rc" -eq 0 ] && [ "${CT_KEEP:-0}" = 0 ]; then
	rm -rf "$work"
else
	echo "cache-tests: confs, logs and results.json kept in $work"
fi
exit "$rc"
