#!/bin/sh
# layering.sh - a file includes only its own layer or lower ones
# (DESIGN.md "Layers"), and only src/comm/ includes <ev.h> or OpenSSL
# (one exception: src/store/store_key.c, for the SHA-256 of store keys).
# src/mgr/ spans two layers: its registry sits in layer 1, and its pages
# (mgr/mgr_page*, which read every module) in layer 6.
#
# Prints each offending #include with file:line; exits 1 if there is one.
#
#	layering.sh [SRCDIR]	(default: $top_srcdir/src)
set -u
src=${1:-"${top_srcdir:-.}/src"}
[ -d "$src" ] || src="$(dirname "$0")/../src"

layer_of() {
	case "$1" in
	base) echo 0 ;;
	buf|conf|mgr) echo 1 ;;
	comm) echo 2 ;;
	http|store|dns) echo 3 ;;
	acl) echo 4 ;;
	fwd) echo 5 ;;
	client|log) echo 6 ;;
	main.c|.) echo 7 ;;
	*) echo "" ;;
	esac
}

# layer_of_file PATH - as layer_of, for a path under src/.
layer_of_file() {
	case "$1" in
	mgr/mgr_page*) echo 6 ;;
	*/*) layer_of "${1%%/*}" ;;
	*) layer_of . ;;
	esac
}

bad=0
checked=0
for f in $(cd "$src" && find . -name '*.[ch]' ! -path './http/llhttp/*' | sort); do
	f=${f#./}
	dir=${f%%/*}
	[ "$dir" = "$f" ] && dir=.
	mine=$(layer_of_file "$f")
	if [ -z "$mine" ]; then
		echo "src/$f: folder '$dir' has no layer in layering.sh"
		bad=1
		continue
	fi
	checked=$((checked + 1))
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$src/$f" |
	while IFS= read -r hit; do
		line=${hit%%:*}
		inc=$(printf '%s\n' "${hit#*:}" | sed 's/.*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/')
		case "$inc" in
		openssl/*)
			# store_key.c digests keys: a pure function, and the
			# rule is there to keep I/O out of upper layers.
			[ "$dir" = comm ] || [ "$f" = store/store_key.c ] ||
			    echo "src/$f:$line: <$inc> outside src/comm/"
			continue ;;
		ev.h)
			[ "$dir" = comm ] ||
			    echo "src/$f:$line: <$inc> outside src/comm/"
			continue ;;
		*/*) ;;
		*) continue ;;
		esac
		idir=${inc%%/*}
		theirs=$(layer_of_file "$inc")
		[ -n "$theirs" ] || continue
		if [ "$theirs" -gt "$mine" ]; then
			echo "src/$f:$line: includes $inc (layer $theirs) from layer $mine"
		fi
	done > "${TMPDIR:-/tmp}/layering.$$"
	if [ -s "${TMPDIR:-/tmp}/layering.$$" ]; then
		cat "${TMPDIR:-/tmp}/layering.$$"
		bad=1
	fi
	rm -f "${TMPDIR:-/tmp}/layering.$$"
done
if [ "$bad" -ne 0 ]; then
	echo "layering: FAILED"
	exit 1
fi
echo "layering: $checked files follow the layer order"
exit 0
