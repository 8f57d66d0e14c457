#!/bin/sh
# layering_test.sh - layering.sh must catch what it is there to catch: a
# lower layer including a higher one, and <ev.h> or OpenSSL outside comm.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/layering_test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0

mk() {	# mk FILE LINE...: a source file with the given lines
	f=$tmp/src/$1
	shift
	mkdir -p "$(dirname "$f")"
	printf '%s\n' "$@" > "$f"
}

mk base/log.c '#include "base/log.h"'
mk comm/comm_io.c '#include <ev.h>' '#include "buf/buf.h"'
mk http/http_msg.c '#include "comm/comm.h"' '#include <stdio.h>'
mk main.c '#include "client/client.h"'
if ! out=$(sh "$here/layering.sh" "$tmp/src"); then
	echo "clean tree refused:"; echo "$out"; fail=1
fi

mk buf/buf.c '#include "base/check.h"' '#include "comm/comm.h"'
mk http/http_hdr.c '#include <openssl/evp.h>'
mk store/store.c '#include   <ev.h>'
if out=$(sh "$here/layering.sh" "$tmp/src"); then
	echo "violations accepted:"; echo "$out"; fail=1
fi
for want in "src/buf/buf.c:2: includes comm/comm.h (layer 2) from layer 1" \
    "src/http/http_hdr.c:1: <openssl/evp.h> outside src/comm/" \
    "src/store/store.c:1: <ev.h> outside src/comm/"; do
	case "$out" in
	*"$want"*) ;;
	*) echo "missing: $want"; echo "$out"; fail=1 ;;
	esac
done

mk weird/x.c '#include "base/log.h"'
if out=$(sh "$here/layering.sh" "$tmp/src"); then
	echo "a folder without a layer was accepted"; fail=1
fi

[ "$fail" -eq 0 ] && echo "layering_test: 3 checks passed"
exit "$fail"
