#!/bin/sh
# layering_test.sh - layering.sh must catch what it is there to catch:
# a lower layer including a higher one (however the include is spelled:
# by its path, through "../", or bare), <ev.h> or OpenSSL outside comm
# (OpenSSL in tls/, but not its I/O calls), a cycle of includes between
# folders of one layer, a folder without a layer, and a file of mgr/
# that is neither a page nor a known layer-1 file.  Each case starts from a clean tree that passes and adds one
# offence, which alone must fail with its message.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/layering_test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
checks=0

mk() {	# mk FILE LINE...: a source file with the given lines
	f=$tmp/src/$1
	shift
	mkdir -p "$(dirname "$f")"
	printf '%s\n' "$@" > "$f"
}

# The clean tree: includes by path, a bare include of a file of the
# same folder, bare includes of what is no src file (config.h, system
# headers), folders of one layer including each other one way, and
# mgr/ with its layer-1 files and a page.
clean() {
	rm -rf "$tmp/src"
	mk base/log.c '#include "config.h"' '#include "base/log.h"'
	mk base/log.h '#include "log_sections.h"' '#include <stdio.h>'
	mk base/log_sections.h '/* sections */'
	mk comm/comm_io.c '#include <ev.h>' '#include "buf/buf.h"'
	mk http/http_msg.c '#include "comm/comm.h"' '#include <stdio.h>'
	mk store/store.c '#include "http/http_msg.h"' '#include "store.h"'
	mk store/store.h '#include <stdint.h>'
	mk client/client_mgr.c '#include "mgr/mgr_page.h"' \
	    '#include "log/access_log.h"'
	mk mgr/mgr.c '#include "mgr/mgr.h"' '#include "conf/conf.h"'
	mk mgr/mgr.h '#include <stddef.h>'
	mk mgr/mgr_passwd.c '#include "mgr.h"'
	mk mgr/mgr_stats.c '#include "mgr/mgr.h"'
	mk mgr/mgr_page.h '#include "mgr/mgr.h"' '#include "fwd/fwd.h"'
	mk mgr/mgr_page_stats.c '#include "mgr_page.h"'
	mk daemon.h '#include <unistd.h>'
	mk main.c '#include "client/client.h"' '#include "daemon.h"'
}

# must_fail WHAT MESSAGE...: the tree (clean, and one offence) is
# refused, with each message.
must_fail() {
	what=$1
	shift
	checks=$((checks + 1))
	if out=$(sh "$here/layering.sh" "$tmp/src"); then
		echo "not refused: $what"
		echo "$out"
		fail=1
		return
	fi
	for want in "$@"; do
		case "$out" in
		*"$want"*) ;;
		*) echo "$what: missing: $want"; echo "$out"; fail=1 ;;
		esac
	done
}

clean
checks=$((checks + 1))
if ! out=$(sh "$here/layering.sh" "$tmp/src"); then
	echo "clean tree refused:"; echo "$out"; fail=1
fi

clean
mk buf/buf.c '#include "base/check.h"' '#include "comm/comm.h"'
must_fail "a lower layer including a higher one" \
    "src/buf/buf.c:2: includes comm/comm.h (layer 2) from layer 1"

clean
mk http/http_hdr.c '#include <openssl/evp.h>'
must_fail "OpenSSL outside comm" \
    "src/http/http_hdr.c:1: <openssl/evp.h> outside src/comm/"

clean
mk tls/tls_ctx.c '#include <openssl/ssl.h>' '#include "comm/comm.h"' \
    'static int f(SSL *s) { return SSL_get_error(s, 0); }'
checks=$((checks + 1))
if ! out=$(sh "$here/layering.sh" "$tmp/src"); then
	echo "tls/ making SSL objects refused:"; echo "$out"; fail=1
fi

clean
mk tls/tls_ctx.c '#include <openssl/ssl.h>' \
    'static int f(SSL *s) { return SSL_read (s, 0, 0); }'
must_fail "OpenSSL I/O outside comm" \
    "src/tls/tls_ctx.c:2: OpenSSL I/O outside src/comm/"

clean
mk store/store_obj.c '#include   <ev.h>'
must_fail "<ev.h> outside comm" \
    "src/store/store_obj.c:1: <ev.h> outside src/comm/"

clean
mk mgr/mgr.c '#include "mgr/mgr.h"' '#include "../client/client.h"'
must_fail "a higher layer's header through ../" \
    "src/mgr/mgr.c:2: includes ../client/client.h (src/client/client.h, layer 6) from layer 1"

clean
mk comm/comm_conn.c '#include "buf/buf.h"' '#include "daemon.h"'
must_fail "a bare include of a file of src/ from a lower layer" \
    "src/comm/comm_conn.c:2: includes daemon.h (layer 7) from layer 2"

clean
mk mgr/mgr_stats.c '#include "mgr_page.h"'
must_fail "a bare include of a page from mgr's layer-1 half" \
    "src/mgr/mgr_stats.c:1: includes mgr_page.h (src/mgr/mgr_page.h, layer 6) from layer 1"

clean
mk mgr/mgr_page.h '#include "mgr/mgr.h"' '#include "client/client.h"'
must_fail "a cycle between folders of one layer" \
    "include cycle between folders: client mgr_page" \
    "src/client/client_mgr.c:1: includes mgr/mgr_page.h (client -> mgr_page)" \
    "src/mgr/mgr_page.h:2: includes client/client.h (mgr_page -> client)"

clean
mk http/http_url.c '#include "store/store.h"'
must_fail "a cycle in a lower layer" \
    "include cycle between folders: http store"

clean
mk mgr/mgr_helpers.c '#include "mgr/mgr.h"'
must_fail "a file of mgr/ that is neither a page nor a layer-1 file" \
    "src/mgr/mgr_helpers.c: neither a page (mgr/mgr_page*) nor one of the layer-1 files of mgr/"

clean
mk weird/x.c '#include "base/log.h"'
must_fail "a folder without a layer" \
    "src/weird/x.c: folder 'weird' has no layer in layering.sh"

[ "$fail" -eq 0 ] && echo "layering_test: $checks checks passed"
exit "$fail"
