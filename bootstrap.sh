#!/bin/sh
# bootstrap.sh - generate configure and the Makefile.in files from a clone.
set -e
cd "$(dirname "$0")"
autoreconf --install --force --warnings=all,no-obsolete
