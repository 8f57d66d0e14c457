#!/bin/sh
# layering.sh - what DESIGN.md "Layers" says, checked on the #include
# lines of src/:
#
#  - a file includes only its own layer or lower ones, however the
#    include is spelled: "comm/comm.h", "../client/client.h" (resolved
#    from the including file's folder), or a bare "daemon.h" (a file of
#    the including folder if there is one, else of src/; what is neither,
#    config.h and the system's headers, is no src file and not checked);
#  - folders of one layer include each other without a cycle (folder to
#    folder, mgr/mgr_page* counted as a folder of its own);
#  - src/mgr/ spans two layers: its registry, passwords and counters sit
#    in layer 1 and are listed here by name; every other file of it is a
#    page (mgr_page*, layer 6), so a new file named otherwise is refused
#    until it is given a layer here;
#  - only src/comm/ includes <ev.h>; only src/comm/ and src/tls/ include
#    OpenSSL (one exception: src/store/store_key.c, for the SHA-256 of
#    store keys), and only src/comm/ calls OpenSSL's I/O (SSL_read,
#    SSL_write, SSL_do_handshake, SSL_shutdown, SSL_set_fd...).
#
# Prints each offence with file:line; exits 1 if there is one.
#
#	layering.sh [SRCDIR]	(default: $top_srcdir/src)
set -u
src=${1:-"${top_srcdir:-.}/src"}
[ -d "$src" ] || src="$(dirname "$0")/../src"

# The layer-1 files of src/mgr/.
MGR_L1="mgr/mgr.c mgr/mgr.h mgr/mgr_passwd.c mgr/mgr_stats.c"

layer_of() {
	case "$1" in
	base) echo 0 ;;
	buf|conf) echo 1 ;;
	comm) echo 2 ;;
	http|store|disk|dns|tls) echo 3 ;;
	acl|helper) echo 4 ;;
	fwd|auth|icp) echo 5 ;;
	client|log) echo 6 ;;
	.) echo 7 ;;
	*) echo "" ;;
	esac
}

# layer_of_file PATH - as layer_of, for a path under src/; "" when it has
# none.
layer_of_file() {
	case " $MGR_L1 " in
	*" $1 "*) echo 1; return ;;
	esac
	case "$1" in
	mgr/mgr_page*) echo 6 ;;
	mgr/*) echo "" ;;
	*/*) layer_of "${1%%/*}" ;;
	*) layer_of . ;;
	esac
}

# node_of PATH - the node of the cycle check: the folder, with the pages
# of mgr/ apart from its registry.
node_of() {
	case "$1" in
	mgr/mgr_page*) echo mgr_page ;;
	*/*) echo "${1%%/*}" ;;
	*) echo . ;;
	esac
}

# normalize PATH - a/./b, a/x/../b -> a/b; a leading ../ stays (outside
# src/).
normalize() {
	printf '%s\n' "$1" | sed -e 's#^\./##' -e ':d' -e 's#/\./#/#' -e 'td' \
	    -e ':u' -e 's#\(^\|/\)[^./][^/]*/\.\./#\1#' -e 'tu'
}

# resolve DIR INC QUOTED - the path under src/ that an include names, or
# "" when it is no src file (the system's, third-party, config.h).
resolve() {
	case "$2" in
	./*|../*|*/./*|*/../*)
		if [ "$1" = . ]; then normalize "$2"; else normalize "$1/$2"; fi
		;;
	*/*)
		echo "$2" ;;
	*)
		if [ "$3" != yes ]; then
			echo ""
		elif [ "$1" != . ] && [ -f "$src/$1/$2" ]; then
			echo "$1/$2"
		elif [ -f "$src/$2" ]; then
			echo "$2"
		else
			echo ""
		fi ;;
	esac
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/layering.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/edges"
bad=0
checked=0
for f in $(cd "$src" && find . -name '*.[ch]' ! -path './http/llhttp/*' | sort); do
	f=${f#./}
	dir=${f%%/*}
	[ "$dir" = "$f" ] && dir=.
	mine=$(layer_of_file "$f")
	if [ -z "$mine" ]; then
		case "$f" in
		mgr/*)
			echo "src/$f: neither a page (mgr/mgr_page*) nor one of" \
			    "the layer-1 files of mgr/ ($MGR_L1) in layering.sh" ;;
		*)
			echo "src/$f: folder '$dir' has no layer in layering.sh" ;;
		esac
		bad=1
		continue
	fi
	checked=$((checked + 1))
	node=$(node_of "$f")
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$src/$f" |
	while IFS= read -r hit; do
		line=${hit%%:*}
		inc=$(printf '%s\n' "${hit#*:}" | sed 's/.*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/')
		case "${hit#*:}" in
		*include*\"*) quoted=yes ;;
		*) quoted=no ;;
		esac
		case "$inc" in
		openssl/*)
			# store_key.c digests keys, auth_decode.c decodes
			# base64 and compares secrets: pure functions, and the
			# rule is there to keep I/O out of upper layers;
			# tls/ makes SSL objects, whose I/O only comm drives
			# (checked below).
			[ "$dir" = comm ] || [ "$dir" = tls ] ||
			    [ "$f" = store/store_key.c ] ||
			    [ "$f" = auth/auth_decode.c ] ||
			    echo "src/$f:$line: <$inc> outside src/comm/"
			continue ;;
		ev.h)
			[ "$dir" = comm ] ||
			    echo "src/$f:$line: <$inc> outside src/comm/"
			continue ;;
		esac
		path=$(resolve "$dir" "$inc" "$quoted")
		[ -n "$path" ] || continue
		case "$path" in
		../*)
			echo "src/$f:$line: includes $inc, outside src/"
			continue ;;
		esac
		theirs=$(layer_of_file "$path")
		[ -n "$theirs" ] || continue
		if [ "$path" = "$inc" ]; then
			what="$inc (layer $theirs)"
		else
			what="$inc (src/$path, layer $theirs)"
		fi
		[ "$theirs" -le "$mine" ] ||
		    echo "src/$f:$line: includes $what from layer $mine"
		theirnode=$(node_of "$path")
		[ "$theirnode" = "$node" ] ||
		    echo "$node $theirnode src/$f:$line: includes $inc" \
		    >> "$tmp/edges"
	done > "$tmp/out"
	if [ -s "$tmp/out" ]; then
		cat "$tmp/out"
		bad=1
	fi
done

# OpenSSL's I/O (the handshake, reads, writes, shutdown, the fd) is
# driven by src/comm/ alone, under the comm contract.
for f in $(cd "$src" && find . -name '*.[ch]' ! -path './comm/*' \
    ! -path './http/llhttp/*' | sort); do
	f=${f#./}
	grep -n 'SSL_\(do_handshake\|connect\|accept\|read\|read_ex\|peek\|peek_ex\|write\|write_ex\|shutdown\|set_fd\|set_rfd\|set_wfd\|set_bio\)[[:space:]]*(' \
	    "$src/$f" | while IFS=: read -r line rest; do
		echo "src/$f:$line: OpenSSL I/O outside src/comm/"
	done > "$tmp/out"
	if [ -s "$tmp/out" ]; then
		cat "$tmp/out"
		bad=1
	fi
done

# Cycles between folders: tsort names the nodes of each loop it finds.
cut -d' ' -f1,2 "$tmp/edges" | sort -u > "$tmp/pairs"
if ! tsort "$tmp/pairs" > /dev/null 2> "$tmp/loops"; then
	sed -n 's/^tsort: \([^:]*\)$/\1/p' "$tmp/loops" | sort -u > "$tmp/inloop"
	echo "include cycle between folders:" $(cat "$tmp/inloop")
	# The includes that make it: those from one node of a loop to
	# another.
	while read -r from to what; do
		if grep -qx "$from" "$tmp/inloop" &&
		    grep -qx "$to" "$tmp/inloop"; then
			echo "	$what ($from -> $to)"
		fi
	done < "$tmp/edges"
	bad=1
fi

if [ "$bad" -ne 0 ]; then
	echo "layering: FAILED"
	exit 1
fi
echo "layering: $checked files follow the layer order, no include cycle"
exit 0
