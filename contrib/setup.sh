#!/bin/sh
# setup.sh - make a clone of cuttle ready to run: install the Debian
# packages that are missing, bootstrap, configure and build.
#
#	contrib/setup.sh [--tests] [--fuzz] [configure options]
#
# --tests also installs what the test suite drives cuttle with: curl,
# openssl (TLS through CONNECT), headless Chromium, squidclient (the cache
# manager pages), python3 (clients that need socket options),
# squid-openssl (Squid itself for the interoperability tests, and its
# helpers: basic_ncsa_auth, storeid_file_rewrite, ext_file_userip_acl),
# apache2-utils (htpasswd for them) and squidguard (a URL filter).
# --fuzz also installs clang (libFuzzer, for `make fuzz`) and valgrind (for
# `make check-valgrind`), and configures again if they were not found.
#
# Run as root on Debian 12 (bookworm).  Idempotent: packages already
# installed are not touched and apt-get is not run at all when nothing is
# missing; configure runs only when the tree has not been configured yet
# (after that, make itself re-runs autoconf, automake and config.status
# when their inputs change), so a second run costs one quiet `make`.
set -eu

cd "$(dirname "$0")/.."

# Build tools and the libraries DESIGN.md lists.
PACKAGES="gcc libc6-dev make autoconf automake pkg-config
	libev-dev node-llhttp libssl-dev libc-ares-dev check
	libxxhash-dev liburing-dev"
if [ "${1:-}" = --tests ]; then
	PACKAGES="$PACKAGES curl openssl chromium python3 squidclient
	    squid-openssl apache2-utils squidguard libnss3-tools"
	shift
fi
fuzz=no
if [ "${1:-}" = --fuzz ]; then
	PACKAGES="$PACKAGES clang valgrind"
	fuzz=yes
	shift
fi

missing=
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup.sh: missing Debian packages:$missing" >&2
		echo "setup.sh: run as root, or: apt-get install$missing" >&2
		exit 1
	fi
	echo "setup.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x configure ]; then
	echo "setup.sh: bootstrapping"
	./bootstrap.sh >/dev/null
fi
if [ "$fuzz" = yes ] && [ -f config.status ] &&
    grep -q '^FUZZ_CC = *$' Makefile 2>/dev/null; then
	echo "setup.sh: configuring again (for clang and valgrind)"
	./config.status --recheck >/dev/null && ./config.status >/dev/null
fi
if [ ! -f config.status ]; then
	echo "setup.sh: configuring"
	./configure -q "$@"
fi
# Progress lines go to /dev/null; warnings and errors still reach stderr.
[ -x src/cuttle ] || echo "setup.sh: building"
make -s -j"$(nproc)" >/dev/null
